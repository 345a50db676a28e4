// The supernode's routing state: the WASM route graph fed with pongs, the published next-hop
// table with its hash, and the numbers /manage/super/state shows (Edges, Edges_Nh, Dist, ...).
// In StaticMode the configured NextHopTable is published as is and nothing is solved.
import type { GraphRecalculateSetting, NodeIdTable } from '../config/index.js';
import { RouteGraph } from '../core/graph.js';
import { stateHash } from './state.js';
import { RouteHistory, type SolveView } from '../metrics/routelog.js';

/**
 * Upstream's "no edge" number (seconds) in the state document, and what a configured
 * ManualLatency at or above it means (link down). Measured latencies are never compared with
 * it: they carry clock offsets and may be far larger (docs/routing.md).
 */
export const INFINITY = 99999;

type Table = Record<string, Record<string, number>>;

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
  /** One-link columns for applyPong (a UDP Pong, an HTTP report item), reused. */
  private readonly one = { src: new Uint16Array(1), lat: new Float64Array(1), ttl: new Float64Array(1) };
  /** Weights (with AC) as the last solve saw them. */
  private nhWeightsCache?: Map<string, number>;
  private table: NodeIdTable = {};
  private json = '{}';
  hash: string;
  /** Route solves run since start (etherguard_route_recalculations_total). */
  recalculations = 0;
  /**
   * Solves that found a negative cycle among the measured links and repaired it
   * (etherguard_route_negative_cycle_repairs_total; RouteGraph.lastRepair).
   */
  negativeCycleRepairs = 0;
  /** When a repair was last logged (s, the `now` of check()): one warning a minute at most. */
  private repairLoggedAt = -Infinity;
  /**
   * Counts changes of what view() shows beyond latency values: a link or vertex that appeared
   * or may meet the recalculation rule, a solve (new distances, a link expired), a node added or
   * removed, a new static table. The state document rebuilds its view when this moves.
   */
  version = 0;
  /**
   * Whether a pong (or a vertex change, or an expiry) since the last solve met the hysteresis'
   * recalculation rule (docs/routing.md, Hysteresis), judged per link on that link and its
   * reverse by the WASM graph as it stores them (RouteGraph.applyPongs: the links' weights at
   * the last solve live there, not in a JS mirror). Only then does check() ask the WASM
   * hysteresis, which walks every link: at N = 1000 that walk (about a million links) cost more
   * than a second, and the supernode checks after every batch of reports.
   */
  private candidate = false;
  private lastSolve = -Infinity;
  private readonly cooldown: number;
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
    private readonly onWarn: (msg: string) => void = onError,
  ) {
    this.cooldown = g.RecalculateCoolDown;
    if (g.StaticMode) {
      this.table = staticTable;
      this.json = JSON.stringify(staticTable);
    } else {
      this.graph = new RouteGraph({ jitterToleranceMs: g.JitterTolerance, multiplier: g.JitterToleranceMultiplier, cooldownS: g.RecalculateCoolDown });
      this.graph.setManualLatency(g.ManualLatency);
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
    if (!this.nodes.has(id)) {
      this.candidate = true; // a new vertex recalculates at once
      this.version++;
    }
    this.nodes.add(id);
    this.graph?.addNode(id);
  }

  removeNode(id: number): void {
    if (this.nodes.has(id)) {
      this.candidate = true;
      this.version++;
    }
    this.nodes.delete(id);
    this.graph?.removeNode(id);
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
    this.version++;
    return true;
  }

  /**
   * A latency Src→Dst (s) measured by Dst, with Dst's AdditionalCost already resolved (ms). Any
   * finite value is a measurement, however large or negative (clock offsets); a non-finite one
   * stores the edge as down.
   */
  applyPong(src: number, dst: number, latency: number, acMs: number, ttl: number, now: number): void {
    const o = this.one;
    o.src[0] = src;
    o.lat[0] = latency;
    o.ttl[0] = ttl;
    this.applyPongs(dst, o.src, o.lat, o.ttl, acMs, now);
  }

  /**
   * The links `srcs[k]` → `dst` of one report (latencies s, lifetimes s, Dst's AdditionalCost
   * resolved, ms) in one WASM call, which also judges the hysteresis pre-check on each link and
   * its reverse (RouteGraph.applyPongs). Ids must be usable NodeIDs (the intake checked them).
   */
  applyPongs(dst: number, srcs: Uint16Array, latencies: Float64Array, ttls: Float64Array, acMs: number, now: number): void {
    if (!this.graph) return;
    const flags = this.graph.applyPongs(dst, srcs, latencies, ttls, acMs, 0, now);
    if (flags & 2) {
      this.nodes.add(dst);
      for (let k = 0; k < srcs.length; k++) this.nodes.add(srcs[k]);
    }
    if (flags & 1) {
      this.candidate = true;
      this.version++;
    }
  }

  /** Solves if the hysteresis says so; returns true when the published table (and hash) changed. */
  check(now: number): boolean {
    const g = this.graph;
    if (!g) return false;
    // A link finite at the last solve that has expired since is a connectivity change.
    if (!this.candidate && g.snappedLinkExpired(now)) this.candidate = true;
    const settle = now >= this.settleAt;
    if (!settle && !this.candidate && !this.alwaysAskHysteresis) {
      this.checksSkipped++;
      return false;
    }
    if (!settle && !g.recalcNeeded(now)) {
      // Past the cooldown a "no" is final for the links as they are now; within it, ask again later.
      if (now >= this.lastSolve + this.cooldown) this.candidate = false;
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
    this.version++;
    const repair = g.lastRepair();
    if (repair.pairs > 0 || repair.extraS > 0) {
      this.negativeCycleRepairs++;
      if (now - this.repairLoggedAt >= 60) {
        this.repairLoggedAt = now;
        this.onWarn(
          `the measured links formed a negative cycle (clocks drifting between the measurements of a cycle's links, a clock step, or jitter beyond a short round trip); solved with ${repair.pairs} impossible round trip(s) raised to 2 µs` +
            (repair.extraS > 0 ? ` and ${(repair.extraS * 1000).toFixed(2)} ms added to every link` : '') +
            ` (${this.negativeCycleRepairs} repair(s) so far; docs/routing.md, "Negative cycles")`,
        );
      }
    }
    // The graph took its snapshot in solve(); a solve that saw new links gets a settling solve.
    if (g.newLinksAtLastSolve()) this.settleAt = now + this.settleS;
    else if (now >= this.settleAt) this.settleAt = Infinity;
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

  /** Directed links with a current measurement at `now`: [src, dst, latency s] (ManualLatency applied), ascending. */
  measuredLinks(now: number): Array<[number, number, number]> {
    const out: Array<[number, number, number]> = [];
    const l = this.graph?.storedLinks(now) ?? new Float64Array(0);
    for (let k = 0; k < l.length; k += 3) if (Number.isFinite(l[k + 2])) out.push([l[k], l[k + 1], l[k + 2]]);
    return out;
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
    const links = this.graph?.storedLinks(now) ?? new Float64Array(0);
    for (let k = 0; k < links.length; k += 3) {
      const s = links[k];
      const d = links[k + 1];
      if (!this.nodes.has(s) || !this.nodes.has(d) || s === d) continue;
      (Edges[s] ??= {})[d] = links[k + 2];
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
