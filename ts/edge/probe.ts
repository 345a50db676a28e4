// One-way latency probing, the one implementation for both routing modes that measure (super
// mode's SuperClient and P2P's client): sends Pings stamped for the moment they reach sendmmsg
// (SendLead, ts/edge/txstamp.ts) and turns a received Ping into a filtered one-way latency (the
// edges' SpikeFilter, radius DampingFilterRadius). The receive time is a parameter (`rxTimeMs`),
// so the caller passes the datagram's receive time (a kernel timestamp where the socket has one,
// Edge onControl) or "now" (pingTimeMs(edge.clock)).
// Reference: docs/control.md (Ping, Timediff range), docs/routing.md §Wire timestamps, upstream §5.1–5.2.
import { SpikeFilter } from '../core/filter.js';
import { encode, PingMsg, TIMEDIFF_LIMIT_S } from '../proto/control.js';
import { Clock, pingTimeMs } from '../wgnode/clock.js';
import type { Peer } from '../wgnode/peers.js';
import { SendLead } from './txstamp.js';

/**
 * What the prober needs of the node: its NodeID, its clock (ping clock and kernel-stamp
 * conversion) and the transport's last sendmmsg time per family (ms on CLOCK_REALTIME, NaN when
 * the native sender has none). An Edge is one.
 */
export interface ProberHost {
  readonly me: number;
  readonly clock: Clock;
  readonly host: { readonly transport: { lastSendMs(family: 4 | 6): number } };
}

export type Measurement =
  | { ok: true; /** s, raw */ measured: number; /** s, after the filter */ filtered: number }
  | { ok: false; reason: string };

export class Prober {
  private readonly filters = new Map<number, SpikeFilter>();
  private readonly latest = new Map<number, number>();
  /** Samples through each peer's filter since it was created (to tell a filling window). */
  private readonly samples = new Map<number, number>();
  /** Per peer: the stamp → sendmmsg gap to add to the next ping's Time. */
  readonly sendLeads = new Map<number, SendLead>();

  /** `radius`: DampingFilterRadius, read on every sample (upstream re-reads it too). */
  constructor(
    private readonly node: ProberHost,
    private readonly radius: () => number,
  ) {}

  /**
   * Sends one Ping to `p` through `send` (the caller's control path: kind Ping, its TTL and
   * counters). Its Time is the ping clock (pingTimeMs, ms) plus the peer's SendLead: the path
   * encode → seal (one WASM call) → sendmmsg runs synchronously inside `send`, and the native
   * sender's own reading before the syscall (lastSendMs) measures that gap for the next pings.
   * A ping queued behind a handshake leaves later with its old stamp (at most
   * PING_QUEUE_MAX_AGE_S later, ts/wgnode/host.ts): a one-off high sample the spike filter discards. `requestReply`: how many pings the peer should answer with (hole
   * punching).
   */
  ping(p: Pick<Peer, 'nodeId' | 'endpoint'>, requestReply: number, send: (payload: Uint8Array) => void): void {
    const c = this.node.clock;
    const fam = p.endpoint?.family ?? 4;
    const tr = this.node.host.transport;
    const before = tr.lastSendMs(fam);
    const t0 = pingTimeMs(c);
    let lead = this.sendLeads.get(p.nodeId);
    if (!lead) this.sendLeads.set(p.nodeId, (lead = new SendLead()));
    const msg: PingMsg = { v: 1, Src: this.node.me, Time: t0 + lead.ms, RequestReply: requestReply };
    send(encode(msg));
    const sent = tr.lastSendMs(fam);
    if (sent !== before && Number.isFinite(sent) && c.fromRealtimeMs) lead.push(c.fromRealtimeMs(sent) - t0);
  }

  /**
   * A Ping from direct peer `from` received at `rxTimeMs` (our clock, ms): our clock minus the
   * pinger's, i.e. the one-way latency plus the clock offset between us (any size, docs/routing.md),
   * through that peer's latency filter (SpikeFilter; docs/routing.md §Filter). Refused (with the reason to count) when the ping claims another source or
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
    this.samples.set(from, (this.samples.get(from) ?? 0) + 1);
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

  /**
   * Peers whose latency is still settling: fewer samples than the filter's window (2·radius + 1,
   * DampingFilterRadius) have been measured, so its value can still carry start-up queueing
   * that the full window's minima will discard (docs/routing.md §Filter). Radius 0 never settles
   * anything: every sample is the output.
   */
  settling(): Set<number> {
    const window = 2 * Math.max(0, this.radius()) + 1;
    const s = new Set<number>();
    for (const [id, n] of this.samples) if (n < window && this.latest.has(id)) s.add(id);
    return s;
  }

  /** Drops a peer's filter and send lead (peer removed). */
  forget(from: number): void {
    this.filters.get(from)?.free();
    this.filters.delete(from);
    this.latest.delete(from);
    this.samples.delete(from);
    this.sendLeads.delete(from);
  }

  free(): void {
    for (const f of this.filters.values()) f.free();
    this.filters.clear();
    this.latest.clear();
    this.samples.clear();
    this.sendLeads.clear();
  }
}
