// A/B of whole Etherguard trees through real edges: for each tree, two edges over TAP in two
// namespaces (the compare bench's setup, bench/lib/systems.ts), all pairs up at once and
// measured interleaved (order rotated every round): TCP 1 stream A->B and B->A (iperf3,
// receiver-side goodput) and the CPU of both edges over each run (utime+stime of all threads,
// /proc) per Gbit moved. Medians of the rounds; ratios against the first tree. Each tree needs
// dist/, wasm-pkg/node (with its stamp) and native-pkg/, e.g. a `git archive <commit>` snapshot
// with node_modules linked, its own `scripts/build.sh wasm ts` and the native addon copied.
//
// Env: BENCH_AB_TREES (comma-separated tree roots, required), BENCH_ROUNDS (5), BENCH_SECONDS (4).
// Needs root. Run: BENCH_AB_TREES=/tmp/before,/tmp/after bash scripts/bench.sh bench/tree-ab.bench.ts
import { loadavg } from 'node:os';
import { isRoot } from '../test/helpers/netns.js';
import { benchScratch, guardTeardown, iperf, median, Pair, runIn, startIn, vethPair, waitUntil, printTable } from './lib/netbench.js';
import { NodeAt, startEtherguard, Tunnel } from './lib/systems.js';

const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const SECONDS = Math.max(2, Number(process.env.BENCH_SECONDS ?? 4));
const TREES = (process.env.BENCH_AB_TREES ?? '').split(',').filter(Boolean);
const PORT = 5322;

let pair: Pair | undefined;
const { note, tmp, dirs, cleanup } = benchScratch('egtreeab-', () => pair);

const TESTS = [
  { k: 'tcp1f', label: 'TCP 1 stream A->B', reverse: false },
  { k: 'tcp1r', label: 'TCP 1 stream B->A', reverse: true },
];

async function main(): Promise<void> {
  if (!isRoot()) {
    console.log('tree-ab: skipped (needs root)');
    return;
  }
  if (TREES.length === 0) throw new Error('BENCH_AB_TREES: give the tree roots to compare, comma-separated');
  guardTeardown(cleanup, (240 + ROUNDS * TREES.length * (2 * (SECONDS + 4) + 4)) * 1000, note);
  pair = vethPair(208);
  const nodes: NodeAt[] = [
    { ns: pair.a, host: pair.addrA },
    { ns: pair.b, host: pair.addrB },
  ];
  const variants: { key: string; root: string; t?: Tunnel }[] = TREES.map((root, i) => ({ key: 'abcdef'[i], root }));
  for (const [i, v] of variants.entries()) {
    v.t = await startEtherguard({
      key: `t${v.key}`,
      label: v.root,
      nodes,
      links: [[0, 1]],
      table: { 1: { 2: 2 }, 2: { 1: 1 } },
      net: `192.168.${120 + i}`,
      port: 3150 + i,
      uapiDir: tmp,
      root: v.root,
      onConfigDir: (d) => dirs.push(d),
    });
    note(`started ${v.root}`);
  }
  startIn('iperf3-server', pair.b, 'iperf3', ['-s', '-p', String(PORT)]);
  await waitUntil(async () => (await runIn(pair!.b, 'ss', ['-ltnH', `sport = :${PORT}`])).stdout.includes(String(PORT)), 5000, 'iperf3 server');
  for (const v of variants) await iperf(pair.a, v.t!.ip(1), { seconds: 2, port: PORT }); // warm-up: JIT

  const res = new Map<string, number[]>();
  const put = (k: string, x: number) => res.set(k, [...(res.get(k) ?? []), x]);
  const loads = [loadavg()[0]];
  for (let round = 1; round <= ROUNDS; round++) {
    for (let j = 0; j < variants.length; j++) {
      const v = variants[(j + round - 1) % variants.length];
      const pids = v.t!.procs.map((p) => p.pid);
      for (const t of TESTS) {
        try {
          const r = await iperf(pair.a, v.t!.ip(1), { seconds: SECONDS, omit: 1, port: PORT, reverse: t.reverse, watch: pids });
          const cores = [...r.cpu.values()].reduce((a, b) => a + b, 0) / 100;
          put(`${v.key} ${t.k}`, r.bps / 1e6);
          put(`${v.key} ${t.k} cpu`, cores / (r.bps / 1e9));
        } catch (e) {
          note(`${v.root} ${t.k}: ${(e as Error).message.split('\n')[0]}`);
        }
      }
    }
    loads.push(loadavg()[0]);
    note(`round ${round} done (load ${loadavg()[0].toFixed(1)})`);
  }

  const fmt = (x: number, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '–');
  const med = (k: string) => median(res.get(k) ?? []);
  const base = variants[0];
  console.log(`Tree A/B: 2 edges over TAP (MTU 1404) per tree, iperf3 -t ${SECONDS} -O 1, ${ROUNDS} round(s), trees interleaved`);
  console.log(`load average (1 min) per round: ${loads.map((x) => x.toFixed(1)).join(' ')}; ratios against ${base.root}\n`);
  const head = ['metric (median)', ...variants.map((v) => v.root)];
  const rows: string[][] = [];
  const row = (label: string, k: string, d: number) =>
    rows.push([label, ...variants.map((v) => (v === base ? fmt(med(`${v.key} ${k}`), d) : `${fmt(med(`${v.key} ${k}`), d)} (${fmt(med(`${v.key} ${k}`) / med(`${base.key} ${k}`), 2)}x)`))]);
  for (const t of TESTS) row(`${t.label} (Mbit/s)`, t.k, 0);
  for (const t of TESTS) row(`CPU core-s/Gbit, ${t.label}`, `${t.k} cpu`, 2);
  printTable(head, rows);
  console.log('\nper round:');
  for (const v of variants) {
    const per = (k: string, d = 0) => (res.get(`${v.key} ${k}`) ?? []).map((x) => fmt(x, d)).join(' / ');
    console.log(`  ${v.root}: TCP1 A->B ${per('tcp1f')}; TCP1 B->A ${per('tcp1r')}; core-s/Gbit A->B ${per('tcp1f cpu', 2)}; B->A ${per('tcp1r cpu', 2)}`);
  }
}

main()
  .catch((e) => {
    console.error(`tree-ab failed: ${(e as Error).stack ?? e}`);
    process.exitCode = 1;
  })
  .finally(() => {
    cleanup();
    note('torn down');
  });
