// The supernode's routing state: the WASM route graph fed with pongs, the published next-hop
// table with its hash, and the numbers /manage/super/state shows (Edges, Edges_Nh, Dist, ...).
// In StaticMode the configured NextHopTable is published as is and nothing is solved.
import type { GraphRecalculateSetting, NodeIdTable } from '../config/index.js';
import { RouteGraph, WILDCARD } from '../core/graph.js';
import { stateHash } from './state.js';
import { RouteHistory, type SolveView } from '../metrics/routelog.js';

/**
 * Upstream's "no edge" number (seconds) in the state document, and what a configured
 * ManualLatency at or above it means (link down). Measured latencies are never compared with
 * it: they carry clock offsets and may be far larger (docs/routing.md).
 */
export const INFINITY = 99999;

type Table = Record<string, Record<string, number>>;

interface EdgeMirror {
  /** Measured, s; Infinity = down. */
  latency: number;
  acS: number;
  validUntil: number;
  /** Weight (latency + AC, s) when the last solve ran; Infinity = none then (the hysteresis' snapshot). */
  snap: number;
}

/**
 * The "no edge" marker for a state document whose largest finite number is `max`: upstream's
 * 99999 when every value stays below it (the usual case), else the smallest 999…9 above
 * `max`, so no measured value (clock offsets of days or years) can be read as "no edge".
 */
export function infinityMarker(max: number): number {
  let m = INFINITY;
  while (m <= max && m < Number.MAX_SAFE_INTEGER) m = m * 10 + 9;
  return m <= max ? Number.MAX_VALUE : m;
}

/** Tables with Infinity for "none" (internal form) → the state document's form. */
function marked(tables: Table[]): { tables: Table[]; marker: number } {
  let max = -Infinity;
  for (const t of tables) for (const row of Object.values(t)) for (const x of Object.values(row)) if (Number.isFinite(x) && x > max) max = x;
  const marker = infinityMarker(max);
  const out = tables.map((t) =>
    Object.fromEntries(Object.entries(t).map(([k, row]) => [k, Object.fromEntries(Object.entries(row).map(([d, x]) => [d, Number.isFinite(x) ? x : marker]))])),
  );
  return { tables: out, marker };
}

export interface RouteView {
  /** The number that means "no edge" / "unreachable" in the four tables below (see infinityMarker). */
  Infinity: number;
  Edges: Table;
  Edges_Nh: Table;
  NhTable: Table;
  Dist: Table;
  Dist_noAC: Table;
}

export class RouteState {
  private readonly graph?: RouteGraph;
  /** Vertices: configured edges plus anything a pong introduced (always configured edges). */
  private readonly nodes = new Set<number>();
  /** Measured links by `src * 65536 + dst` (numbers: no string key per pong). */
  private readonly edges = new Map<number, EdgeMirror>();
  private readonly manual = new Map<string, number>();
  /** Weights (with AC) as the last solve saw them. */
  private nhWeightsCache?: Map<string, number>;
  private table: NodeIdTable = {};
  private json = '{}';
  hash: string;
  /** Route solves run since start (etherguard_route_recalculations_total). */
  recalculations = 0;
  /**
   * Whether a pong (or a vertex change, or an expiry) since the last solve met the hysteresis'
   * recalculation rule (docs/routing.md, Hysteresis), judged here per pong on that link and its
   * reverse. Only then does check() ask the WASM hysteresis, which walks every link: at N = 1000
   * that walk (about a million links) cost more than a second, and the supernode checks after
   * every batch of reports.
   */
  private candidate = false;
  private lastSolve = -Infinity;
  /** When check() next scans the mirrors for links that expired since the last solve. */
  private expiryScanAt = Infinity;
  private readonly tol: { t: number; m: number; cooldown: number };
  /** Hysteresis evaluations skipped because no pong since the last solve could trigger one. */
  checksSkipped = 0;
  /**
   * Seconds after a solve that saw new links until one more solve: a new link's first values are
   * single, unfiltered samples, and since a drifting clock no longer triggers recalculations
   * (docs/routing.md, Hysteresis) a choice made from them would otherwise stand until a real
   * change. The supernode sets (2 · DampingFilterRadius + 2) · SendPingInterval: the edges'
   * filter window full, plus one interval.
   */
  settleS = 10;
  /** When the settling solve is due (Infinity = none pending). */
  private settleAt = Infinity;
  /** Ask the WASM hysteresis on every check (tests compare the two ways). */
  alwaysAskHysteresis = false;
  /** Every changed next-hop entry with its reason (dashboard, etherguard_next_hop_changes_total). */
  readonly history = new RouteHistory();

  constructor(
    g: GraphRecalculateSetting,
    staticTable: NodeIdTable,
    private salt: string,
    private readonly onError: (msg: string) => void,
  ) {
    // The WASM hysteresis' own reading of these values (T <= 0 is 0, M < 1 is 1).
    this.tol = { t: Math.max(0, g.JitterTolerance) / 1000, m: Math.max(1, g.JitterToleranceMultiplier), cooldown: g.RecalculateCoolDown };
    if (g.StaticMode) {
      this.table = staticTable;
      this.json = JSON.stringify(staticTable);
    } else {
      this.graph = new RouteGraph({ jitterToleranceMs: g.JitterTolerance, multiplier: g.JitterToleranceMultiplier, cooldownS: g.RecalculateCoolDown });
      this.graph.setManualLatency(g.ManualLatency);
      for (const [s, row] of Object.entries(g.ManualLatency)) for (const [d, ms] of Object.entries(row)) this.manual.set(`${s},${d}`, ms / 1000);
    }
    this.hash = stateHash(this.json, salt);
  }

  /** A salt shared by several supernodes (etcd): the same table then has the same hash on each. */
  setSalt(salt: string): void {
    this.salt = salt;
    this.hash = stateHash(this.json, salt);
  }

  get staticMode(): boolean {
    return this.graph === undefined;
  }

  get nhJson(): string {
    return this.json;
  }

  get nhTable(): NodeIdTable {
    return this.table;
  }

  addNode(id: number): void {
    if (!this.nodes.has(id)) this.candidate = true; // a new vertex recalculates at once
    this.nodes.add(id);
    this.graph?.addNode(id);
  }

  removeNode(id: number): void {
    if (this.nodes.has(id)) this.candidate = true;
    this.nodes.delete(id);
    this.graph?.removeNode(id);
    for (const k of [...this.edges.keys()]) {
      if (Math.floor(k / 65536) === id || k % 65536 === id) this.edges.delete(k);
    }
    if (this.staticMode) {
      const t: NodeIdTable = {};
      for (const [s, row] of Object.entries(this.table)) {
        if (Number(s) === id) continue;
        t[s] = Object.fromEntries(Object.entries(row).filter(([d]) => Number(d) !== id));
      }
      this.setStatic(t);
    }
  }

  /** StaticMode: a new table (peer/add); returns whether it changed. */
  setStatic(t: NodeIdTable): boolean {
    const json = JSON.stringify(t);
    if (json === this.json) return false;
    this.table = t;
    this.json = json;
    this.hash = stateHash(json, this.salt);
    return true;
  }

  /**
   * A latency Src→Dst (s) measured by Dst, with Dst's AdditionalCost already resolved (ms). Any
   * finite value is a measurement, however large or negative (clock offsets); a non-finite one
   * stores the edge as down.
   */
  applyPong(src: number, dst: number, latency: number, acMs: number, ttl: number, now: number): void {
    if (!this.graph) return;
    if (!this.nodes.has(src) || !this.nodes.has(dst)) this.candidate = true;
    this.nodes.add(src);
    this.nodes.add(dst);
    this.graph.applyPong(src, dst, latency, acMs, 0, ttl, now);
    const k = src * 65536 + dst;
    // Updated in place: a million links reported every second must not allocate a million objects.
    let e = this.edges.get(k);
    if (!e) this.edges.set(k, (e = { latency: 0, acS: 0, validUntil: 0, snap: Infinity }));
    e.latency = Number.isFinite(latency) ? latency : Infinity;
    e.acS = acMs > 0 ? acMs / 1000 : 0;
    e.validUntil = now + ttl;
    if (Number.isFinite(e.snap) && e.validUntil < this.expiryScanAt) this.expiryScanAt = e.validUntil;
    if (this.candidate) return;
    // Each direction's entry and weight looked up once for both tests (a million links a second at N = 1000).
    const r = this.edges.get(dst * 65536 + src);
    const w = this.entryWeight(src, dst, e, now);
    const wRev = r ? this.entryWeight(dst, src, r, now) : Infinity;
    if (this.triggers(e, w, r, wRev) || (r !== undefined && this.triggers(r, wRev, e, w))) this.candidate = true;
  }

  /** weight() of a link whose mirror entry `e` is at hand. */
  private entryWeight(src: number, dst: number, e: EdgeMirror, now: number): number {
    return this.latencyOf(src, dst, e, now) + e.acS;
  }

  /** Weight (s, latency + AC) of the link at `now` as the route graph sees it; Infinity if none, down or expired. */
  private weight(src: number, dst: number, now: number): number {
    const e = this.edges.get(src * 65536 + dst);
    return e ? this.latency(src, dst, now) + e.acS : Infinity;
  }

  /**
   * A superset of the hysteresis rule for one link against its snapshot (docs/routing.md,
   * crates/eg-core route/hysteresis.rs): finite ↔ infinite, or the round trip moved by more than
   * T + (M − 1)·base (both of the WASM rule's round-trip tests need that; a drifting clock moves
   * the two directions oppositely and never passes), or without a reverse link |new − old| > T.
   * A hair below the threshold counts, so rounding can only make it ask the WASM hysteresis
   * (which decides) more often, never less.
   */
  private triggers(e: EdgeMirror, cur: number, r: EdgeMirror | undefined, curRev: number): boolean {
    const old = e.snap;
    if (Number.isFinite(old) !== Number.isFinite(cur)) return true;
    if (!Number.isFinite(old)) return false;
    const oldRev = r ? r.snap : Infinity;
    if (!(Number.isFinite(oldRev) && Number.isFinite(curRev))) return Math.abs(cur - old) > this.tol.t - 1e-9 * (1 + this.tol.t);
    const thr = this.tol.t + (this.tol.m - 1) * (Math.max(old + oldRev, cur + curRev) / 2);
    return Math.abs(cur + curRev - (old + oldRev)) > thr - 1e-9 * (1 + Math.abs(thr));
  }

  /** Links that were finite at the last solve and have expired by `now` make a candidate (one pass over the links, only when one can have expired). */
  private scanExpiry(now: number): void {
    if (now < this.expiryScanAt || this.candidate) return;
    let next = Infinity;
    for (const e of this.edges.values()) {
      if (!Number.isFinite(e.snap)) continue;
      if (now > e.validUntil) {
        this.candidate = true;
        return;
      }
      if (e.validUntil < next) next = e.validUntil;
    }
    this.expiryScanAt = next;
  }

  /** After a solve: every link's current weight becomes its snapshot (what the WASM hysteresis records). */
  private snapshot(now: number): void {
    let next = Infinity;
    let newLinks = false;
    for (const [k, e] of this.edges) {
      const was = e.snap;
      e.snap = this.weight(Math.floor(k / 65536), k % 65536, now);
      if (!Number.isFinite(was) && Number.isFinite(e.snap)) newLinks = true;
      if (Number.isFinite(e.snap) && e.validUntil < next) next = e.validUntil;
    }
    this.expiryScanAt = next;
    if (newLinks) this.settleAt = now + this.settleS;
    else if (now >= this.settleAt) this.settleAt = Infinity;
  }

  /** Solves if the hysteresis says so; returns true when the published table (and hash) changed. */
  check(now: number): boolean {
    const g = this.graph;
    if (!g) return false;
    this.scanExpiry(now);
    const settle = now >= this.settleAt;
    if (!settle && !this.candidate && !this.alwaysAskHysteresis) {
      this.checksSkipped++;
      return false;
    }
    if (!settle && !g.recalcNeeded(now)) {
      // Past the cooldown a "no" is final for the links as they are now; within it, ask again later.
      if (now >= this.lastSolve + this.tol.cooldown) this.candidate = false;
      return false;
    }
    let changed: boolean;
    try {
      changed = g.solve(now);
      this.recalculations++;
    } catch (e) {
      this.onError(`route solve failed, keeping the previous table: ${(e as Error).message}`);
      return false;
    }
    this.lastSolve = now;
    this.candidate = false;
    this.snapshot(now);
    // Edges_Nh is read from the solver's own snapshot when first needed (not a walk over every
    // link per recalculation, which cost more than an incremental solve).
    this.nhWeightsCache = undefined;
    if (!changed) return false;
    const before = this.table;
    const after = g.nextHopTable();
    if (!this.setTable(after)) return false;
    this.history.record(before, after, this.solveView(), Date.now());
    return true;
  }

  /** Weights (latency + AC, s) of every finite link as the last solve saw them, "src,dst" keys. */
  private get nhWeights(): Map<string, number> {
    return (this.nhWeightsCache ??= this.graph?.solvedWeights() ?? new Map<string, number>());
  }

  /** The last solve's link weights and distances (s), for the route-change reasons. */
  private solveView(): SolveView {
    const sol = this.graph?.solution();
    const index = new Map(sol ? sol.ids.map((id, i) => [id, i]) : []);
    const n = sol?.ids.length ?? 0;
    return {
      weight: (a, b) => this.nhWeights.get(`${a},${b}`) ?? Infinity,
      dist: (a, b) => {
        const i = index.get(a);
        const j = index.get(b);
        return sol && i !== undefined && j !== undefined ? sol.dist[i * n + j]! : Infinity;
      },
    };
  }

  private setTable(t: NodeIdTable): boolean {
    const json = JSON.stringify(t);
    if (json === this.json) return false;
    this.table = t;
    this.json = json;
    this.hash = stateHash(json, this.salt);
    return true;
  }

  /**
   * Effective latency (s) without AC at `now`: the ManualLatency override if one applies (>= 99999
   * s there means down, upstream's config meaning), else the measured value; Infinity if none,
   * down or expired.
   */
  latency(src: number, dst: number, now: number): number {
    const e = this.edges.get(src * 65536 + dst);
    return e ? this.latencyOf(src, dst, e, now) : Infinity;
  }

  /** latency() of a link whose mirror entry `e` is at hand. */
  private latencyOf(src: number, dst: number, e: EdgeMirror, now: number): number {
    if (now > e.validUntil || !Number.isFinite(e.latency)) return Infinity;
    if (this.manual.size === 0) return e.latency;
    const W = WILDCARD;
    for (const k of [`${src},${dst}`, `${src},${W}`, `${W},${dst}`, `${W},${W}`]) {
      const m = this.manual.get(k);
      if (m !== undefined) return Number.isFinite(m) && m < INFINITY ? m : Infinity;
    }
    return e.latency;
  }

  /** Directed links with a current measurement at `now`: [src, dst, latency s] (the latency() rules). */
  measuredLinks(now: number): Array<[number, number, number]> {
    const out: Array<[number, number, number]> = [];
    for (const k of this.edges.keys()) {
      const s = Math.floor(k / 65536);
      const d = k % 65536;
      const l = this.latency(s, d, now);
      if (Number.isFinite(l)) out.push([s, d, l]);
    }
    return out.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  }

  /**
   * The state document's routing part; "none" is the returned `Infinity` marker. Upstream's
   * shape, but only what exists: `Edges` lists links that were ever measured (a link that is
   * down or expired shows the marker; a pair never measured is absent), `Edges_Nh` the finite
   * weights the last solve used, `Dist`/`Dist_noAC` reachable pairs only (the diagonal's 0
   * included). So peers that never connected cost nothing (300 added peers used to give 4.4 MB
   * of Infinity cells), and a connected mesh costs what its links and routes are.
   */
  view(now: number): RouteView {
    const Edges: Table = {};
    const Edges_Nh: Table = {};
    const keys = [...this.edges.keys()].sort((a, b) => a - b);
    for (const k of keys) {
      const s = Math.floor(k / 65536);
      const d = k % 65536;
      if (!this.nodes.has(s) || !this.nodes.has(d) || s === d) continue;
      (Edges[s] ??= {})[d] = this.latency(s, d, now);
    }
    const nh = [...this.nhWeights].map(([k, w]) => [k.split(',').map(Number), w] as const).sort((a, b) => a[0][0] - b[0][0] || a[0][1] - b[0][1]);
    for (const [[s, d], w] of nh) (Edges_Nh[s] ??= {})[d] = w;
    const Dist: Table = {};
    const Dist_noAC: Table = {};
    const sol = this.graph?.solution();
    if (sol) {
      const n = sol.ids.length;
      const dist = sol.dist;
      const distNoAc = sol.distNoAc;
      for (let i = 0; i < n; i++) {
        const r: Record<string, number> = {};
        const rn: Record<string, number> = {};
        for (let j = 0; j < n; j++) {
          const x = dist[i * n + j];
          if (!Number.isFinite(x)) continue;
          r[sol.ids[j]] = x;
          rn[sol.ids[j]] = distNoAc[i * n + j];
        }
        Dist[sol.ids[i]] = r;
        Dist_noAC[sol.ids[i]] = rn;
      }
    }
    const m = marked([Edges, Edges_Nh, Dist, Dist_noAC]);
    const [E, EN, D, DN] = m.tables;
    return { Infinity: m.marker, Edges: E, Edges_Nh: EN, NhTable: this.table, Dist: D, Dist_noAC: DN };
  }

  free(): void {
    this.graph?.free();
  }
}
