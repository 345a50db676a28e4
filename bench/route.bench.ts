// Route solver benchmark: the WASM solver (RouteGraph.solve through the real module) beside the
// same blocked Floyd–Warshall in plain TypeScript and a naive TypeScript triple loop, on seeded
// random asymmetric graphs (90 % dense, true latencies 1–300 ms, per-node clock offsets of
// ±50 ms so many measured one-way latencies are negative, AdditionalCost 10 ms).
//
//   node --import tsx bench/route.bench.ts        (or: bash scripts/bench.sh bench/route.bench.ts)
//
// Targets (issue): N = 1000 full solve with next hops under 200 ms in WASM, and at least 5x the
// naive triple loop. Times are medians; "WASM" is RouteGraph.solve(now): graph snapshot, the
// solve (next hops + both distance tables) and the hysteresis snapshot, i.e. what the supernode
// pays per recalculation. Bounded run time: the naive loop is skipped at a size whose estimate
// (from the previous size, x8 per doubling) exceeds 20 s.
import { performance } from 'node:perf_hooks';
import { coreSimd128 } from '../ts/core/wasm.js';
import { NO_ROUTE, loadEdges, newRouteGraph, solveRoutes, type EdgeArrays } from '../ts/core/route.js';
import { apspBlocked, apspNaive } from './route-ts.js';

const SIZES = [100, 500, 1000, 2000];
const TARGET_N = 1000;
const TARGET_MS = 200;
const TARGET_SPEEDUP = 5;
const NAIVE_LIMIT_MS = 20_000;
const DENSITY = 0.9;
const AC = 0.01;

function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Case {
  n: number;
  edges: EdgeArrays;
  /** Dense row-major weights (latency + AC), Infinity = no edge. */
  weight: Float64Array;
}

function randomGraph(n: number, seed: number): Case {
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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function time(runs: number, f: () => void): number {
  const ts: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    f();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

function wasmGraph(c: Case) {
  const g = newRouteGraph();
  for (let i = 0; i < c.n; i++) g.addNode(i);
  loadEdges(g, c.edges);
  return g;
}

// ---- sanity: the three agree on a small graph -------------------------------------------------

function sanity(): void {
  for (const [n, seed] of [
    [60, 11],
    [130, 12],
  ] as const) {
    const c = randomGraph(n, seed);
    const g = wasmGraph(c);
    const w = solveRoutes(g, 0).next;
    g.free();
    const toIds = (next: Int32Array) => Uint16Array.from(next, (v) => (v < 0 ? NO_ROUTE : v));
    const b = toIds(apspBlocked(c.weight, n).next);
    const nv = toIds(apspNaive(c.weight, n).next);
    const diff = (x: Uint16Array, y: Uint16Array) => x.reduce((acc, v, i) => acc + (v !== y[i] ? 1 : 0), 0);
    const d1 = diff(w, b);
    const d2 = diff(w, nv);
    console.log(`sanity n=${n}: next-hop tables WASM vs TS-FW ${d1 ? `${d1} differ` : 'identical'}, WASM vs naive ${d2 ? `${d2} differ` : 'identical'}`);
    if (d1 || d2) process.exitCode = 1;
  }
}

// ---- the table --------------------------------------------------------------------------------

interface Row {
  n: number;
  wasm: number;
  tsfw: number;
  naive: number | undefined;
  naiveEst: number | undefined;
}

const fmtMs = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const pad = (s: string, w: number) => s.padStart(w);

function main(): void {
  const t0 = performance.now();
  console.log(`route solver: WASM (simd128=${coreSimd128()}) vs TypeScript, random graphs ${DENSITY * 100}% dense, latencies 1–300 ms ± 50 ms clock offsets`);
  sanity();
  const rows: Row[] = [];
  let lastNaive: { n: number; ms: number } | undefined;
  for (const n of SIZES) {
    const c = randomGraph(n, 1000 + n);
    const runs = n <= 500 ? 7 : n <= 1000 ? 5 : 3;
    const g = wasmGraph(c);
    g.solve(0); // warm-up (JIT, memory growth)
    const wasm = time(runs, () => g.solve(0));
    g.free();
    const tsRuns = n <= 500 ? 5 : n <= 1000 ? 3 : 1;
    const tsfw = time(tsRuns, () => apspBlocked(c.weight, n));
    const est = lastNaive ? lastNaive.ms * (n / lastNaive.n) ** 3 : 0;
    let naive: number | undefined;
    let naiveEst: number | undefined;
    if (est > NAIVE_LIMIT_MS) {
      naiveEst = est;
    } else {
      naive = time(tsRuns, () => apspNaive(c.weight, n));
      lastNaive = { n, ms: naive };
    }
    rows.push({ n, wasm, tsfw, naive, naiveEst });
  }

  const head = ['N', 'WASM ms', 'TS-FW ms', 'naive TS ms', 'vs naive', 'vs TS-FW', `< ${TARGET_MS} ms`, `>= ${TARGET_SPEEDUP}x naive`];
  const widths = [6, 9, 10, 22, 9, 9, 9, 13];
  console.log('\n' + head.map((h, i) => pad(h, widths[i])).join(' '));
  let ok = true;
  for (const r of rows) {
    const sp = r.naive !== undefined ? r.naive / r.wasm : undefined;
    const spPass = r.n !== TARGET_N || sp === undefined ? '-' : sp >= TARGET_SPEEDUP ? 'PASS' : 'FAIL';
    const tPass = r.n === TARGET_N ? (r.wasm < TARGET_MS ? 'PASS' : 'FAIL') : '-';
    if (r.n === TARGET_N) ok &&= r.wasm < TARGET_MS && sp !== undefined && sp >= TARGET_SPEEDUP;
    const cells = [
      String(r.n),
      fmtMs(r.wasm),
      fmtMs(r.tsfw),
      r.naive !== undefined ? fmtMs(r.naive) : `skipped (est. ${(r.naiveEst! / 1000).toFixed(0)} s)`,
      sp !== undefined ? `${sp.toFixed(1)}x` : '-',
      `${(r.tsfw / r.wasm).toFixed(1)}x`,
      tPass,
      spPass,
    ];
    console.log(cells.map((s, i) => pad(s, widths[i])).join(' '));
  }
  console.log(`\ntargets at N=${TARGET_N} (WASM < ${TARGET_MS} ms, >= ${TARGET_SPEEDUP}x naive): ${ok ? 'PASS' : 'FAIL'}`);
  console.log(`total bench time ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (!ok) process.exitCode = 1;
}

main();
