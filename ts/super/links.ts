// The latency graph's input and its route checks: pongs and LinkReports over UDP and the items
// of signed HTTP reports become links of the route graph (routes.ts, the WASM engine); a
// coalesced check then asks the hysteresis whether to solve again, and a changed next-hop table
// is pushed (docs/supernode.md, "Pong / LinkReport item").
import { isSpecial } from '../core/frame.js';
import { checkLinkItem, checkLinkItemValues, checkReportPong, ProtoError, type LinkReportBin, type LinkReportFrame, type NodeInfoReportIn, type PongMsg, type RefusedItem, type ReportResult } from '../proto/control.js';
import type { Scheduler } from '../scheduler.js';
import type { Logger } from '../shared/log.js';
import type { Clock } from '../wgnode/clock.js';
import type { ClockWatch } from './clockwatch.js';
import type { RouteState } from './routes.js';
import { effectiveAcMs, splitLocalMap, type EdgeRec } from './state.js';
import type { Warmup } from './warmup.js';

/**
 * Route checks after link reports are coalesced: at most one per this fraction of
 * SendPingInterval (and at most every 0.2 s), so the supernode's work per interval is one pass
 * per report over its links plus a bounded number of checks, not a check per link or report.
 */
const CHECK_COALESCE = 0.1;

/** What the link intake reads and calls of the rest of the supernode. */
export interface LinkContext {
  readonly cfg: { readonly SendPingInterval: number };
  readonly clock: Clock;
  readonly sched: Scheduler;
  readonly log: Logger;
  readonly edges: ReadonlyMap<number, EdgeRec>;
  readonly routes: RouteState;
  readonly warmup: Warmup;
  readonly clocks: ClockWatch;
  readonly stats: { pongs: number; linkReports: number; links: number };
  alive(rec: EdgeRec): boolean;
  peerDirty(): void;
  invalidateState(): void;
  pushAll(): void;
  /** Whether PeerInfo/NhTable may be announced; ends the warm-up when it is over (Publisher.publishing). */
  publishing(): boolean;
  stopped(): boolean;
}

export class LinkIntake {
  private checkTimer?: { cancel(): void };

  constructor(private readonly c: LinkContext) {}

  /** Stops the pending coalesced check. */
  cancel(): void {
    this.checkTimer?.cancel();
  }

  /**
   * Applies one schema-valid pong (UDP, or one item of a report) measured by `rec`. Returns
   * null, or why it was refused: `[kind, detail]`, the kind being a fixed text to count drops by.
   */
  private applyPong(rec: EdgeRec, p: Pick<PongMsg, 'Src' | 'Dst' | 'Timediff' | 'TimeToAlive' | 'AdditionalCost'>, now: number): [string, string] | null {
    const id = rec.conf.NodeID;
    if (p.Dst !== id) return ['Pong Dst is not the reporting edge', `Dst ${p.Dst} is not the reporting edge ${id}`];
    if (p.Src === id) return ['Pong Src is the reporting edge itself', `Src ${p.Src} is the reporting edge itself`];
    const src = this.c.edges.get(p.Src);
    if (isSpecial(p.Src) || !src || src.removing) return ['Pong Src is not a peer', `Src ${p.Src} is not a peer of this supernode`];
    this.c.routes.applyPong(p.Src, p.Dst, p.Timediff, effectiveAcMs(rec.conf.AdditionalCost, p.AdditionalCost), p.TimeToAlive, now);
    this.c.warmup.reportedBy(id);
    this.c.clocks.observe(p.Src, p.Dst, p.Timediff, now);
    return null;
  }

  /** A Pong over UDP; then one coalesced route check. */
  pong(rec: EdgeRec, m: PongMsg): void {
    const id = rec.conf.NodeID;
    this.c.stats.pongs++;
    const why = this.applyPong(rec, m, this.c.clock.now());
    if (why) return this.c.log.drop(why[0], { from: id, reason: why[1] });
    this.c.log.cat('control', 'pong', { src: m.Src, dst: m.Dst, latency: m.Timediff });
    this.scheduleCheck();
  }

  /**
   * A LinkReport (kind 8 with `Links`, or the binary form; docs/control.md): every incoming link
   * of the reporting edge. The message is refused whole only when its Dst is not the edge that
   * sent it; each link is an item of its own (a bad one is counted as `report item refused:
   * <rule>`, the others applied). Then one coalesced route check (scheduleCheck).
   */
  linkReport(rec: EdgeRec, m: LinkReportFrame): void {
    const id = rec.conf.NodeID;
    if (m.Dst !== id) return this.c.log.drop('LinkReport Dst is not the sending edge', { from: id, dst: m.Dst });
    this.c.stats.linkReports++;
    const now = this.c.clock.now();
    const applied = 'srcs' in m ? this.linkColumns(rec, m, now) : this.linkItems(rec, m.Links, m.AdditionalCost, now);
    this.c.stats.links += applied;
    // A report is every incoming link of its edge, so an empty one counts for the warm-up too.
    this.c.warmup.reportedBy(id);
    if (applied > 0 || this.c.warmup.phase === 'warming') this.scheduleCheck();
  }

  /** The items of a JSON LinkReport (older edges), one by one; returns how many were applied. */
  private linkItems(rec: EdgeRec, links: unknown[], ac: number, now: number): number {
    const id = rec.conf.NodeID;
    let applied = 0;
    for (let i = 0; i < links.length; i++) {
      const l = checkLinkItem(links[i]);
      if (typeof l === 'string') {
        this.c.log.drop(`report item refused: ${l}`, { from: id, item: `Links/${i}` });
        continue;
      }
      const why = this.applyPong(rec, { Src: l[0], Dst: id, Timediff: l[1], TimeToAlive: l[2], AdditionalCost: ac }, now);
      if (why) this.c.log.drop(`report item refused: ${why[0]}`, { from: id, item: `Links/${i}`, reason: why[1] });
      else applied++;
    }
    return applied;
  }

  /** Scratch columns of the good items of one binary report (grown as needed, never shrunk). */
  private good = { srcs: new Uint16Array(64), td: new Float64Array(64), ttl: new Float64Array(64) };

  /**
   * The items of a binary LinkReport: each checked as a JSON item is (checkLinkItemValues and
   * applyPong's Src rules, refused ones counted) and handed to the route graph in one WASM call
   * and to ClockWatch in one call: the decoded columns themselves when every item is good (the
   * usual case: no copy, no views made per report), else the good ones copied into scratch
   * columns. Returns how many were applied.
   */
  private linkColumns(rec: EdgeRec, m: LinkReportBin, now: number): number {
    const id = rec.conf.NodeID;
    const c = m.srcs.length;
    const edges = this.c.edges;
    let i = 0;
    for (; i < c; i++) {
      const src = m.srcs[i];
      // The rules of the loop below, without its messages (it judges and counts from item i on).
      if (checkLinkItemValues(m.timediffs[i], m.ttls[i]) !== null || src === id || isSpecial(src)) break;
      const e = edges.get(src);
      if (!e || e.removing) break;
    }
    const ac = effectiveAcMs(rec.conf.AdditionalCost, m.AdditionalCost);
    if (i === c) {
      if (c === 0) return 0;
      this.c.routes.applyPongs(id, m.srcs, m.timediffs, m.ttls, ac, now);
      this.c.clocks.observeLinks(id, m.srcs, m.timediffs, now);
      return c;
    }
    // Item i is refused: the good ones go through the scratch columns, each bad one is counted.
    let g = this.good;
    if (g.srcs.length < c) g = this.good = { srcs: new Uint16Array(c), td: new Float64Array(c), ttl: new Float64Array(c) };
    g.srcs.set(m.srcs.subarray(0, i));
    g.td.set(m.timediffs.subarray(0, i));
    g.ttl.set(m.ttls.subarray(0, i));
    let n = i;
    for (; i < c; i++) {
      const src = m.srcs[i];
      const td = m.timediffs[i];
      const ttl = m.ttls[i];
      const bad = checkLinkItemValues(td, ttl);
      if (bad !== null) {
        this.c.log.drop(`report item refused: ${bad}`, { from: id, item: `Links/${i}` });
        continue;
      }
      if (src === id) {
        this.c.log.drop('report item refused: Pong Src is the reporting edge itself', { from: id, item: `Links/${i}`, reason: `Src ${src} is the reporting edge itself` });
        continue;
      }
      const e = edges.get(src);
      if (isSpecial(src) || !e || e.removing) {
        this.c.log.drop('report item refused: Pong Src is not a peer', { from: id, item: `Links/${i}`, reason: `Src ${src} is not a peer of this supernode` });
        continue;
      }
      g.srcs[n] = src;
      g.td[n] = td;
      g.ttl[n] = ttl;
      n++;
    }
    if (n === 0) return 0;
    const srcs = g.srcs.subarray(0, n);
    const td = g.td.subarray(0, n);
    this.c.routes.applyPongs(id, srcs, td, g.ttl.subarray(0, n), ac, now);
    this.c.clocks.observeLinks(id, srcs, td, now);
    return n;
  }

  /**
   * An accepted, verified report (edge-api.ts has checked the signature, the count and the
   * frame). Each pong and each local address is an item of its own: the valid ones are applied,
   * each refused one is counted as a drop (reason = the rule) and listed in the answer, so one
   * bad item never discards the others (docs/control.md).
   */
  report(rec: EdgeRec, postCount: number, r: NodeInfoReportIn): ReportResult {
    const c = this.c;
    const now = c.clock.now();
    const id = rec.conf.NodeID;
    const refused: RefusedItem[] = [];
    const refuse = (item: string, kind: string, reason: string) => {
      refused.push({ Item: item, Reason: reason });
      c.log.drop(`report item refused: ${kind}`, { from: id, item, reason });
    };
    rec.postCount = postCount + 1;
    const wasAlive = c.alive(rec);
    rec.lastSeen = now;
    rec.lastSeenWall = c.clock.wallMs();
    const l4 = splitLocalMap(r.LocalV4s, 4);
    const l6 = splitLocalMap(r.LocalV6s, 6);
    for (const x of [...l4.refused, ...l6.refused]) refuse(x.Item, 'bad local address', x.Reason);
    // The peer list shows local addresses and liveness: only a change there is pushed to all.
    const peerChanged = !wasAlive || JSON.stringify(rec.local4) !== JSON.stringify(l4.good) || JSON.stringify(rec.local6) !== JSON.stringify(l6.good);
    rec.local4 = l4.good;
    rec.local6 = l6.good;
    if (peerChanged) c.peerDirty();
    let applied = 0;
    r.Pongs.forEach((item, i) => {
      let p;
      try {
        p = checkReportPong(item);
      } catch (e) {
        if (!(e instanceof ProtoError)) throw e;
        // The kind is the message without the value: "Pong: /Timediff must be <= 17280000000000".
        return refuse(`Pongs/${i}`, e.message, e.message);
      }
      const why = this.applyPong(rec, p, now);
      if (why) return refuse(`Pongs/${i}`, why[0], why[1]);
      applied++;
    });
    c.invalidateState();
    this.checkRoutes();
    if (peerChanged) c.pushAll();
    return { Applied: applied, Refused: refused };
  }

  /** Re-solves when the hysteresis asks for it (also expiry); pushes a changed table. */
  checkRoutes(): void {
    const c = this.c;
    if (c.stopped()) return;
    // While warming up, links arrive edge by edge: solving then would only cost the cooldown
    // (publishing() solves when the warm-up ends, and pushes).
    if (c.warmup.phase === 'warming') return void c.publishing();
    if (c.routes.check(c.clock.now())) {
      c.log.cat('control', 'next-hop table changed', { hash: c.routes.hash });
      c.pushAll();
    }
  }

  /**
   * A route check soon (coalesced, CHECK_COALESCE): after link reports, so N reports per
   * interval cost N passes over their own links and a few checks, not N checks.
   */
  private scheduleCheck(): void {
    if (this.checkTimer || this.c.stopped()) return;
    const delay = Math.min(0.2, CHECK_COALESCE * this.c.cfg.SendPingInterval);
    this.checkTimer = this.c.sched.after(delay, () => {
      this.checkTimer = undefined;
      this.checkRoutes();
    });
  }
}
