// The route benchmarks' graph: seeded random asymmetric graphs, 90 % dense, true latencies
// 1–300 ms, per-node clock offsets of ±50 ms (so many measured one-way latencies are negative),
// AdditionalCost 10 ms. Shared by route.bench.ts and route-prof.ts.
import type { EdgeArrays } from '../ts/core/route.js';
import { rng as mulberry32 } from '../sim/engine.js';

export const DENSITY = 0.9;
export const AC = 0.01;

/** The simulator's seeded PRNG (mulberry32), so every bench builds the same graphs. */
export { mulberry32 };

export interface Case {
  n: number;
  edges: EdgeArrays;
  /** Dense row-major weights (latency + AC), Infinity = no edge. */
  weight: Float64Array;
}

export function randomGraph(n: number, seed: number): Case {
  const rnd = mulberry32(seed);
  const off = Array.from({ length: n }, () => (rnd() - 0.5) * 0.1);
  const src: number[] = [];
  const dst: number[] = [];
  const lat: number[] = [];
  const weight = new Float64Array(n * n).fill(Infinity);
  for (let u = 0; u < n; u++) {
    for (let v = 0; v < n; v++) {
      if (u === v || rnd() >= DENSITY) continue;
      const l = 0.001 + rnd() * 0.299 + off[v] - off[u];
      src.push(u);
      dst.push(v);
      lat.push(l);
      weight[u * n + v] = l + AC;
    }
  }
  return {
    n,
    edges: { src: Uint16Array.from(src), dst: Uint16Array.from(dst), latency: Float64Array.from(lat), additionalCost: AC },
    weight,
  };
}

