// Thin typed access to the WASM route engine's RouteGraph for bulk use (benchmarks, tools that
// load a whole latency matrix at once). The stateful supernode wrapper is ./graph.ts; this module
// only adds bulk edge loading through `setEdges` (one call instead of one per edge) and a solve
// that returns the raw next-hop table. WASM is reached only through ./wasm.ts.
import { wasm } from './wasm.js';

export type RawRouteGraph = InstanceType<ReturnType<typeof wasm>['RouteGraph']>;

/** 65532: no next hop (also the diagonal). */
export const NO_ROUTE = 65532;

/** Directed edges as parallel arrays. Latency and AdditionalCost in seconds. */
export interface EdgeArrays {
  src: Uint16Array;
  dst: Uint16Array;
  latency: Float64Array;
  /** AdditionalCost (s) of each edge's destination; a number applies to every edge. */
  additionalCost: Float64Array | number;
}

/** Expiry used by `loadEdges` unless given: never. */
export const NEVER = Number.MAX_VALUE;

/** A new, empty RouteGraph (hysteresis settings: upstream's defaults). */
export function newRouteGraph(): RawRouteGraph {
  return new (wasm().RouteGraph)();
}

/** Stores all `edges` in `g` with one `setEdges` call; `validUntil` is absolute seconds. */
export function loadEdges(g: RawRouteGraph, edges: EdgeArrays, validUntil = NEVER): void {
  const m = edges.src.length;
  if (edges.dst.length !== m || edges.latency.length !== m) throw new RangeError('loadEdges: array lengths differ');
  const ac = edges.additionalCost;
  if (typeof ac !== 'number' && ac.length !== m) throw new RangeError('loadEdges: additionalCost length differs');
  const pairs = new Uint16Array(2 * m);
  const values = new Float64Array(3 * m);
  for (let e = 0; e < m; e++) {
    pairs[2 * e] = edges.src[e];
    pairs[2 * e + 1] = edges.dst[e];
    values[3 * e] = edges.latency[e];
    values[3 * e + 1] = typeof ac === 'number' ? ac : ac[e];
    values[3 * e + 2] = validUntil;
  }
  g.setEdges(pairs, values);
}

export interface RouteTable {
  /** Whether the next-hop table differs from the previous solve's. */
  changed: boolean;
  /** Node ids, ascending; row/column r of `next` is `ids[r]`. */
  ids: Uint16Array;
  /** n*n next hops (NodeIds), NO_ROUTE where none. */
  next: Uint16Array;
}

/** Solves at `now` (seconds; records the hysteresis snapshot) and returns the next-hop table. */
export function solveRoutes(g: RawRouteGraph, now: number): RouteTable {
  const changed = g.solve(now);
  return { changed, ids: g.nodeIds(), next: g.nextHops() };
}
