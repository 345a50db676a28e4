// One-way latency probing shared by the routing modes that measure (P2P; super mode keeps its own
// copy in superclient.ts for now): builds Ping messages and turns a received Ping into a
// filtered one-way latency (the edges' SpikeFilter, radius DampingFilterRadius). The receive
// time is a parameter (`rxTimeMs`), so the caller passes the datagram's receive time (a kernel
// timestamp where the socket has one, Edge onControl) or "now" (pingTimeMs(edge.clock)).
// Reference: docs/control.md (Ping, Timediff range), upstream §5.1–5.2.
import { SpikeFilter } from '../core/filter.js';
import { PingMsg, TIMEDIFF_LIMIT_S } from '../proto/control.js';

export type Measurement =
  | { ok: true; /** s, raw */ measured: number; /** s, after the filter */ filtered: number }
  | { ok: false; reason: string };

export class Prober {
  private readonly filters = new Map<number, SpikeFilter>();
  private readonly latest = new Map<number, number>();

  /** `radius`: DampingFilterRadius, read on every sample (upstream re-reads it too). */
  constructor(
    private readonly me: number,
    private readonly radius: () => number,
  ) {}

  /** The Ping this node sends; `txTimeMs` = its wall (or NTP) clock in ms. */
  ping(txTimeMs: number, requestReply = 0): PingMsg {
    return { v: 1, Src: this.me, Time: txTimeMs, RequestReply: requestReply };
  }

  /**
   * A Ping from direct peer `from` received at `rxTimeMs` (our clock, ms): our clock minus the
   * pinger's, i.e. the one-way latency plus the clock offset between us (any size, docs/routing.md),
   * through that peer's latency filter (SpikeFilter, the one super mode's edges use;
   * docs/routing.md). Refused (with the reason to count) when the ping claims another source or
   * the difference is larger than any two clocks can have. `atS`: the receive time on a
   * monotonic clock (s), so the filter can take out the drift between the two clocks.
   */
  measure(from: number, m: PingMsg, rxTimeMs: number, atS: number): Measurement {
    if (m.Src !== from) return { ok: false, reason: `ping claims source ${m.Src} but came from ${from}` };
    const measured = (rxTimeMs - m.Time) / 1000;
    if (!(Math.abs(measured) <= TIMEDIFF_LIMIT_S)) return { ok: false, reason: 'ping time further from our clock than any two clocks can be' };
    let f = this.filters.get(from);
    if (!f) this.filters.set(from, (f = new SpikeFilter()));
    const filtered = f.pushAt(measured, this.radius(), atS);
    this.latest.set(from, filtered);
    return { ok: true, measured, filtered };
  }

  /** Latest filtered one-way latency from `from` to this node, s (undefined if none yet). */
  latency(from: number): number | undefined {
    const v = this.latest.get(from);
    return v !== undefined && Number.isFinite(v) ? v : undefined;
  }

  /** Every finite latest latency, by peer. */
  latencies(): Map<number, number> {
    const m = new Map<number, number>();
    for (const [id, v] of this.latest) if (Number.isFinite(v)) m.set(id, v);
    return m;
  }

  /** Drops a peer's filter (peer removed). */
  forget(from: number): void {
    this.filters.get(from)?.free();
    this.filters.delete(from);
    this.latest.delete(from);
  }

  free(): void {
    for (const f of this.filters.values()) f.free();
    this.filters.clear();
    this.latest.clear();
  }
}
