// The route engine calls: build a RouteGraph from a matrix plus per-node AdditionalCost, solve,
// read the tables back, and simulate a broadcast with forwardSet.
import { RouteGraph } from 'etherguard-wasm';
import type { Matrix } from './matrix.js';

/** NodeId 65532: "no route" in next-hop tables, "no sender" for forwardSet. */
export const INVALID = 65532;

export interface Solved {
  /** The graph holding the solution (path/forwardSet queries); free it with `free()`. */
  graph: RouteGraph;
  ids: number[];
  /** n*n next hops, rows/columns in the order of `ids`, INVALID = none. */
  next: Uint16Array;
  /** n*n costs including AdditionalCost (seconds, Infinity = unreachable). */
  dist: Float64Array;
  /** n*n latency-only sums along the chosen routes. */
  distNoAc: Float64Array;
  /** Wall time of the solve call, ms. */
  solveMs: number;
}

/**
 * Solves `m` (seconds) with AdditionalCost `acMs` (per node, ms, missing = 0) charged on every
 * edge entering that node. Edges never expire. Throws the engine's error (negative cycle).
 */
export function solve(m: Matrix, acMs: ReadonlyMap<number, number>): Solved {
  const n = m.ids.length;
  const graph = new RouteGraph();
  try {
    for (const id of m.ids) graph.addNode(id);
    const pairs: number[] = [];
    const values: number[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const w = m.w[i * n + j]!;
        if (i === j || !Number.isFinite(w)) continue;
        pairs.push(m.ids[i]!, m.ids[j]!);
        values.push(w, Math.max(0, acMs.get(m.ids[j]!) ?? 0) / 1000, Infinity);
      }
    }
    graph.setEdges(Uint16Array.from(pairs), Float64Array.from(values));
    const t0 = performance.now();
    graph.solve(0);
    const solveMs = performance.now() - t0;
    return {
      graph,
      ids: Array.from(graph.nodeIds()),
      next: graph.nextHops(),
      dist: graph.dist(),
      distNoAc: graph.distNoAc(),
      solveMs,
    };
  } catch (e) {
    graph.free();
    throw e;
  }
}

export interface Broadcast {
  /** Forwarding edges in the order they are sent (breadth first). */
  edges: Array<[number, number]>;
  /** How many copies each node received (the source counts as 1). */
  received: Map<number, number>;
}

/**
 * Floods a broadcast from `src`: the source sends to `forwardSet(src, src, INVALID)`, every
 * receiver `me` that got it from `from` sends to `forwardSet(me, src, from)`.
 */
export function broadcast(s: Solved, src: number): Broadcast {
  const edges: Array<[number, number]> = [];
  const received = new Map<number, number>([[src, 1]]);
  const queue: Array<[number, number]> = [[src, INVALID]];
  // Each node forwards at most once per copy received; cap the work in case of a bug.
  const cap = s.ids.length * s.ids.length + 1;
  while (queue.length > 0 && edges.length < cap) {
    const [me, from] = queue.shift()!;
    for (const to of s.graph.forwardSet(me, src, from)) {
      edges.push([me, to]);
      received.set(to, (received.get(to) ?? 0) + 1);
      queue.push([to, me]);
    }
  }
  return { edges, received };
}

/** The route `[src, ..., dst]`, empty if unreachable. */
export function path(s: Solved, src: number, dst: number): number[] {
  return Array.from(s.graph.path(src, dst));
}

/** Pairs whose next hop differs between two solutions over the same ids. */
export function nextHopDiff(a: Solved, b: Solved): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const n = a.ids.length;
  if (b.ids.length !== n || a.ids.some((id, i) => b.ids[i] !== id)) {
    throw new Error('nextHopDiff: different node sets');
  }
  for (let i = 0; i < n * n; i++) {
    if (a.next[i] !== b.next[i]) out.push([a.ids[Math.floor(i / n)]!, a.ids[i % n]!]);
  }
  return out;
}

/** True cost (latency + AC of every node entered) of a route, on the true matrix. */
export function routeCost(m: Matrix, acMs: ReadonlyMap<number, number>, route: number[]): number {
  const n = m.ids.length;
  const index = new Map(m.ids.map((id, i) => [id, i]));
  let c = 0;
  for (let k = 1; k < route.length; k++) {
    const i = index.get(route[k - 1]!)!;
    const j = index.get(route[k]!)!;
    c += m.w[i * n + j]! + Math.max(0, acMs.get(route[k]!) ?? 0) / 1000;
  }
  return c;
}
