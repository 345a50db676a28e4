// Full-solve A/B through the real WASM RouteGraph, interleaved in one process so that machine
// load hits every variant alike:
//   node --import tsx bench/route-prof.ts [N] [rounds] [baseline wasm-pkg/node dir]
// Variants: the kernel's speed-ups switched off and on (routeKernelOptions: row seeding, f32
// pruning mask; results identical), and optionally another build of the module (e.g. one made
// from an older commit with wasm-pack into a directory of its own) as "baseline". Prints per
// variant the median and minimum wall and CPU time (ms) of RouteGraph.solve, incremental off.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { wasm } from '../ts/core/wasm.js';
import { randomGraph } from './route-graph.js';

type Mod = ReturnType<typeof wasm>;
const n = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 3);
const baseDir = process.argv[4];
const c = randomGraph(n, 1000 + n);

function graphOf(m: Mod) {
  const g = new m.RouteGraph();
  for (let i = 0; i < n; i++) g.addNode(i);
  const e = c.edges.src.length;
  const pairs = new Uint16Array(2 * e);
  const values = new Float64Array(3 * e);
  for (let k = 0; k < e; k++) {
    pairs[2 * k] = c.edges.src[k];
    pairs[2 * k + 1] = c.edges.dst[k];
    values[3 * k] = c.edges.latency[k];
    values[3 * k + 1] = c.edges.additionalCost as number;
    values[3 * k + 2] = Number.MAX_VALUE;
  }
  g.setEdges(pairs, values);
  (g as { setIncremental?: (on: boolean) => void }).setIncremental?.(false);
  return g;
}

interface Variant {
  name: string;
  g: ReturnType<typeof graphOf>;
  before: () => void;
  wall: number[];
  cpu: number[];
}
const cur = wasm();
const g = graphOf(cur);
const opts = (seed: boolean, m32: boolean) => () => cur.routeKernelOptions(seed, m32);
const variants: Variant[] = [
  { name: 'no seed, f64 mask', g, before: opts(false, false), wall: [], cpu: [] },
  { name: 'seed, f64 mask', g, before: opts(true, false), wall: [], cpu: [] },
  { name: 'no seed, f32 mask', g, before: opts(false, true), wall: [], cpu: [] },
  { name: 'seed + f32 mask (default)', g, before: opts(true, true), wall: [], cpu: [] },
];
if (baseDir) {
  const base = createRequire(import.meta.url)(join(baseDir, 'etherguard_wasm.js')) as Mod;
  variants.unshift({ name: `baseline (${baseDir})`, g: graphOf(base), before: () => {}, wall: [], cpu: [] });
}
let ref: Uint16Array | undefined;
for (const v of variants) v.g.solve(0);
for (let r = 0; r < rounds; r++) {
  for (const v of variants) {
    v.before();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    v.g.solve(0);
    v.wall.push(performance.now() - t0);
    const cu = process.cpuUsage(c0);
    v.cpu.push((cu.user + cu.system) / 1000);
    const next = v.g.nextHops();
    if (!ref) ref = next;
    else if (!next.every((x, i) => x === ref![i])) throw new Error(`variant ${v.name} disagrees`);
  }
}
cur.routeKernelOptions(true, true);
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`N=${n}, ${rounds} interleaved rounds: RouteGraph.solve (full), ms`);
for (const v of variants) {
  console.log(`  ${v.name.padEnd(34)} wall median ${med(v.wall).toFixed(0).padStart(5)} min ${Math.min(...v.wall).toFixed(0).padStart(5)} | cpu median ${med(v.cpu).toFixed(0).padStart(5)} min ${Math.min(...v.cpu).toFixed(0).padStart(5)}`);
}
