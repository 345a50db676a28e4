// MAC → NodeID learning. Entries are learned on delivery only (never from transit traffic), and
// expire after L2FIBTimeout seconds; a lookup of an expired entry misses even before the sweep.
export class L2Fib {
  private readonly map = new Map<string, { node: number; seen: number }>();

  constructor(
    private readonly timeoutSec: number,
    private readonly onChange?: (mac: string, node: number, old: number | undefined) => void,
  ) {}

  private static key(frame: Uint8Array, off: number): string {
    let s = '';
    for (let i = off; i < off + 6; i++) s += (frame[i] < 16 ? '0' : '') + frame[i].toString(16);
    return s;
  }

  /** Learns the frame's source MAC (bytes 6..12) if unicast. */
  learn(frame: Uint8Array, node: number, now: number): void {
    if (frame.length < 14 || frame[6] & 1) return;
    const k = L2Fib.key(frame, 6);
    const e = this.map.get(k);
    if (e && e.node === node) {
      e.seen = now;
      return;
    }
    this.map.set(k, { node, seen: now });
    this.onChange?.(k, node, e?.node);
  }

  /** The NodeID behind the frame's destination MAC, or undefined for broadcast/multicast/unknown. */
  lookup(frame: Uint8Array, now: number): number | undefined {
    if (frame[0] & 1) return undefined;
    const e = this.map.get(L2Fib.key(frame, 0));
    if (!e) return undefined;
    if (this.timeoutSec > 0.01 && now - e.seen > this.timeoutSec) return undefined;
    return e.node;
  }

  sweep(now: number): number {
    if (this.timeoutSec <= 0.01) return 0;
    let n = 0;
    for (const [k, e] of this.map) {
      if (now - e.seen > this.timeoutSec) {
        this.map.delete(k);
        n++;
      }
    }
    return n;
  }

  get size(): number {
    return this.map.size;
  }
}
