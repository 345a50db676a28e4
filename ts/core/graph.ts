// Typed wrapper over the WASM route engine's stateful graph (crates/eg-wasm/src/route.rs,
// docs/routing.md): the supernode (and later P2P edges) feed it pongs and ask it to solve.
// Tables come back keyed by NodeID; "no route" (65532) and infinity are kept out of the maps.
import { wasm } from './wasm.js';

export const NO_ROUTE = 65532;
export const WILDCARD = 65535;

type RawGraph = InstanceType<ReturnType<typeof wasm>['RouteGraph']>;

export class RouteGraphError extends Error {}

export interface RecalculateSetting {
  /** ms */
  jitterToleranceMs: number;
  multiplier: number;
  /** s */
  cooldownS: number;
}

/** The last solution as flat row-major arrays over `ids` (ascending). */
export interface Solution {
  ids: number[];
  /** n*n next hops, NO_ROUTE where none (the diagonal included). */
  next: Uint16Array;
  /** n*n seconds including AdditionalCost, Infinity = unreachable. */
  dist: Float64Array;
  /** n*n seconds, latency only, along the chosen routes. */
  distNoAc: Float64Array;
}

function wrap<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new RouteGraphError(e instanceof Error ? e.message : String(e));
  }
}

export class RouteGraph {
  private readonly g: RawGraph;
  private sol?: Solution;
  /** Counts solves, so a stale Solution's lazy distances are refused rather than wrong. */
  private generation = 0;

  constructor(s?: RecalculateSetting) {
    this.g = new (wasm().RouteGraph)();
    if (s) this.setRecalculateSetting(s);
  }

  setRecalculateSetting(s: RecalculateSetting): void {
    this.g.setRecalculateSetting(s.jitterToleranceMs, s.multiplier, s.cooldownS);
  }

  addNode(id: number): void {
    wrap(() => this.g.addNode(id));
  }

  removeNode(id: number): void {
    this.g.removeNode(id);
  }

  /**
   * Latency Src→Dst measured by Dst, in seconds. `acMs` is the AC of Dst in ms (negative =
   * use `ownAcMs`); the edge expires `timeToAlive` seconds after `now`.
   */
  applyPong(src: number, dst: number, latencyS: number, acMs: number, ownAcMs: number, timeToAlive: number, now: number): void {
    wrap(() => this.g.applyPong(src, dst, latencyS, acMs, ownAcMs, timeToAlive, now));
  }

  /**
   * The links of one LinkReport measured by `dst`, in one WASM call: link `srcs[k]` → `dst` with
   * latency `latenciesS[k]` (s) valid `ttlsS[k]` s after `now`, AC `acMs` (ms, negative = `ownAcMs`).
   * Returns bit 0 when a link may meet the hysteresis rule since the last solve (a superset of
   * recalcNeeded's rule on those links and their reverses, or an end not in the last solution),
   * bit 1 when a vertex was new. Throws RouteGraphError for columns of different lengths or an
   * unusable id (65532..65535).
   */
  applyPongs(dst: number, srcs: Uint16Array, latenciesS: Float64Array, ttlsS: Float64Array, acMs: number, ownAcMs: number, now: number): number {
    return wrap(() => this.g.applyPongs(dst, srcs, latenciesS, ttlsS, acMs, ownAcMs, now));
  }

  /** Whether a link finite at the last solve has expired by `now` (s). */
  snappedLinkExpired(now: number): boolean {
    return this.g.snappedLinkExpired(now);
  }

  /** Whether the last solve saw a finite link that was not finite at the solve before. */
  newLinksAtLastSolve(): boolean {
    return this.g.newLinksAtLastSolve();
  }

  /**
   * Every stored link, ascending by (src, dst): `[src, dst, latency s]` triples flat (latency at
   * `now` with ManualLatency applied; Infinity when down or expired).
   */
  storedLinks(now: number): Float64Array {
    return this.g.storedLinks(now);
  }

  /** Replaces every ManualLatency override: table[src][dst] = ms, 65535 = wildcard. */
  setManualLatency(table: Record<string, Record<string, number>>): void {
    this.g.clearManualLatency();
    for (const [s, row] of Object.entries(table)) for (const [d, ms] of Object.entries(row ?? {})) this.g.setManualLatency(Number(s), Number(d), ms);
  }

  recalcNeeded(now: number): boolean {
    return this.g.recalcNeeded(now);
  }

  /**
   * Solves (incrementally when few links changed since the last solve; the same tables either
   * way, docs/routing.md); returns whether the next-hop table changed. A negative cycle among
   * the measurements (clock drift or jitter beyond a short round trip) is repaired (lastRepair());
   * RouteGraphError only when that fails. The distance tables are fetched on first access: routing needs only the
   * next hops, and summing the distances is an O(n²) pass the solver does lazily.
   */
  solve(now: number): boolean {
    const changed = wrap(() => this.g.solve(now));
    const g = this.g;
    const gen = ++this.generation;
    const fetch = (f: () => Float64Array): (() => Float64Array) => {
      let v: Float64Array | undefined;
      return () => {
        if (v) return v;
        if (gen !== this.generation) throw new RouteGraphError('distances of a superseded solution');
        return (v = f());
      };
    };
    const dist = fetch(() => g.dist());
    const distNoAc = fetch(() => g.distNoAc());
    this.sol = {
      ids: [...g.nodeIds()],
      next: g.nextHops(),
      get dist() {
        return dist();
      },
      get distNoAc() {
        return distNoAc();
      },
    };
    return changed;
  }

  /**
   * How the last full solve repaired a negative cycle in the measurements (docs/routing.md,
   * "Negative cycles"): `pairs` whose negative round trip was raised to 2 µs, and `extraS`, the
   * cost (s) added to every link when a longer cycle remained. Both 0 when none was needed.
   */
  lastRepair(): { pairs: number; extraS: number } {
    return { pairs: this.g.repairedPairs(), extraS: this.g.repairExtra() };
  }

  /** How the last solve ran: "full", "incremental", "unchanged" or "full: <reason>". */
  lastSolveMode(): string {
    return this.g.lastSolveMode();
  }

  /** Finite link weights (latency + AC, s) the last successful solve used, keyed "src,dst". */
  solvedWeights(): Map<string, number> {
    const p = this.g.solvedEdgePairs();
    const w = this.g.solvedEdgeWeights();
    const m = new Map<string, number>();
    for (let e = 0; e < w.length; e++) m.set(`${p[2 * e]},${p[2 * e + 1]}`, w[e]);
    return m;
  }

  /**
   * Neighbours `me` forwards a broadcast from `src` to when it arrived from `from` (NO_ROUTE when
   * `me` is the source), by the last solution (docs/routing.md "Broadcast"); [] without one.
   */
  forwardSet(me: number, src: number, from: number): number[] {
    return [...this.g.forwardSet(me, src, from)];
  }

  /** The last successful solution, if any. */
  solution(): Solution | undefined {
    return this.sol;
  }

  /** The last solution's next hops as `{"src": {"dst": next}}`, rows/entries without a route left out. */
  nextHopTable(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    const s = this.sol;
    if (!s) return out;
    const n = s.ids.length;
    for (let i = 0; i < n; i++) {
      let row: Record<string, number> | undefined;
      for (let j = 0; j < n; j++) {
        const h = s.next[i * n + j];
        if (i === j || h === NO_ROUTE) continue;
        (row ??= {})[String(s.ids[j])] = h;
      }
      if (row) out[String(s.ids[i])] = row;
    }
    return out;
  }

  free(): void {
    this.g.free();
  }
}
