// Duplicate suppression for the flood channel (dst 65534). Keyed on a SHA-256 of the whole
// inner message (header fields that identify it + payload), not upstream's CRC32 of the payload
// alone, so two different messages never suppress each other. A sighting refreshes the entry.
import { createHash } from 'node:crypto';

export class DedupSet {
  private readonly seen = new Map<string, number>();

  constructor(private readonly timeoutSec: number) {}

  /** True if this message was seen within the timeout (then it must be dropped). */
  check(kind: number, src: number, payload: Uint8Array, now: number): boolean {
    if (this.timeoutSec <= 0) return false;
    const h = createHash('sha256').update(Uint8Array.of(kind, src >> 8, src & 255)).update(payload).digest('base64');
    const t = this.seen.get(h);
    this.seen.set(h, now);
    if (this.seen.size > 65536) this.sweep(now);
    return t !== undefined && now - t <= this.timeoutSec;
  }

  sweep(now: number): void {
    for (const [k, t] of this.seen) if (now - t > this.timeoutSec) this.seen.delete(k);
  }
}
