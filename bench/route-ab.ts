// Full-solve A/B of WASM builds given as directories (wasm-pack --target nodejs output), so an
// old build (e.g. made from an earlier commit with `git archive` + wasm-pack) and a new one run
// interleaved in one process and machine load hits both alike; no dependency on wasm-pkg/:
//   node --import tsx bench/route-ab.ts N rounds dirA [dirB ...]
// Prints per build the median and minimum CPU time (ms; process.cpuUsage, not wall time) of
// RouteGraph.solve with incremental updates off on bench/route-graph.ts's graph, and checks that
// every build gives the same next-hop table.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomGraph } from './route-graph.js';

const [nArg, roundsArg, ...dirs] = process.argv.slice(2);
const n = Number(nArg ?? 2000);
const rounds = Number(roundsArg ?? 5);
if (dirs.length === 0) throw new Error('usage: route-ab.ts N rounds dirA [dirB ...]');
const c = randomGraph(n, 1000 + n);
const req = createRequire(import.meta.url);

interface Mod {
  wgMemory?: () => WebAssembly.Memory;
  RouteGraph: new () => {
    addNode(id: number): void;
    setEdges(p: Uint16Array, v: Float64Array): void;
    setIncremental?(on: boolean): void;
    solve(now: number): boolean;
    nextHops(): Uint16Array;
    free(): void;
  };
}
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
  g.setIncremental?.(false);
  return g;
}
const variants = dirs.map((d) => {
  const m = req(resolve(d, 'etherguard_wasm.js')) as Mod;
  return { name: d, m, g: graphOf(m), wall: [] as number[], cpu: [] as number[], mem: [] as number[] };
});
const memMB = (m: Mod) => (m.wgMemory ? m.wgMemory().buffer.byteLength / 2 ** 20 : NaN);
let ref: Uint16Array | undefined;
for (const v of variants) v.g.solve(0); // warm-up: memory grown, code compiled
for (let r = 0; r < rounds; r++) {
  for (const v of variants) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    v.g.solve(0);
    v.wall.push(performance.now() - t0);
    const cu = process.cpuUsage(c0);
    v.cpu.push((cu.user + cu.system) / 1000);
    v.mem.push(memMB(v.m));
    const next = v.g.nextHops();
    if (!ref) ref = next;
    else if (next.length !== ref.length || !next.every((x, i) => x === ref![i])) throw new Error(`${v.name}: next hops differ from ${variants[0].name}`);
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`N=${n}, ${rounds} interleaved rounds, RouteGraph.solve (full), ms; next hops identical across builds`);
for (const v of variants) {
  console.log(`  ${v.name.padEnd(30)} cpu median ${med(v.cpu).toFixed(0).padStart(5)} min ${Math.min(...v.cpu).toFixed(0).padStart(5)} | wall median ${med(v.wall).toFixed(0).padStart(5)} min ${Math.min(...v.wall).toFixed(0).padStart(5)} | memory ${memMB(v.m).toFixed(0)} MB`);
  if (process.env.EG_AB_ALL) console.log(`    cpu per round: ${v.cpu.map((x) => x.toFixed(0)).join(' ')}; memory MB after each: ${v.mem.map((x) => x.toFixed(0)).join(' ')}`);
}
