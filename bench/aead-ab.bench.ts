// A/B of AEAD worker threads (ts/wgnode/aead-pool.ts): pairs of Etherguard edges over TAP in two
// namespaces (the compare bench's setup, bench/lib/systems.ts) with EG_AEAD_WORKERS=0 (all
// sealing and opening on the main thread), 1 and 2, run side by side and measured interleaved
// (order rotated every round): TCP 1 stream A->B and B->A, 8 streams A->B (iperf3, receiver-side
// goodput), the CPU of both edges over each run (utime+stime of all threads, /proc) per Gbit
// moved, and idle ping (100 x 10 ms). Medians of the rounds; ratios against EG_AEAD_WORKERS=0.
// The 1-minute load average is printed per round: the machine is shared.
//
// Env: BENCH_ROUNDS (5), BENCH_SECONDS (5), BENCH_EG_REF (a clean snapshot, bench/setup.sh),
// BENCH_AEAD_VARIANTS (worker counts, default "0,1,2"). Needs root.
// Run: bash scripts/bench.sh bench/aead-ab.bench.ts
import { loadavg } from 'node:os';
import { isRoot } from '../test/helpers/netns.js';
import { benchScratch, guardTeardown, iperf, median, Pair, ping, runIn, startIn, vethPair, waitUntil, printTable } from './lib/netbench.js';
import { etherguardRoot, NodeAt, startEtherguard, Tunnel } from './lib/systems.js';

const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const SECONDS = Math.max(2, Number(process.env.BENCH_SECONDS ?? 5));
const COUNTS = (process.env.BENCH_AEAD_VARIANTS ?? '0,1,2').split(',').map(Number);
const PORT = 5321;

let pair: Pair | undefined;
const { note, tmp, dirs, cleanup } = benchScratch('egaeadab-', () => pair);

interface Variant {
  key: string;
  workers: number;
  t?: Tunnel;
}

type Test = 'tcp1f' | 'tcp1r' | 'tcp8f';
const TESTS: { k: Test; label: string; reverse: boolean; parallel: number }[] = [
  { k: 'tcp1f', label: 'TCP 1 stream A->B', reverse: false, parallel: 1 },
  { k: 'tcp1r', label: 'TCP 1 stream B->A', reverse: true, parallel: 1 },
  { k: 'tcp8f', label: 'TCP 8 streams A->B', reverse: false, parallel: 8 },
];

async function main(): Promise<void> {
  if (!isRoot()) {
    console.log('aead-ab: skipped (needs root)');
    return;
  }
  guardTeardown(cleanup, (240 + ROUNDS * COUNTS.length * (3 * (SECONDS + 4) + 6)) * 1000, note);
  const { root, ref } = etherguardRoot();
  pair = vethPair(206);
  const nodes: NodeAt[] = [
    { ns: pair.a, host: pair.addrA },
    { ns: pair.b, host: pair.addrB },
  ];
  const variants: Variant[] = COUNTS.map((w, i) => ({ key: 'abcdef'[i], workers: w }));
  for (const [i, v] of variants.entries()) {
    process.env.EG_AEAD_WORKERS = String(v.workers); // startIn copies process.env at spawn time
    v.t = await startEtherguard({
      key: `w${v.key}`,
      label: `workers=${v.workers}`,
      nodes,
      links: [[0, 1]],
      table: { 1: { 2: 2 }, 2: { 1: 1 } },
      net: `192.168.${110 + i}`,
      port: 3140 + i,
      uapiDir: tmp,
      root,
      onConfigDir: (d) => dirs.push(d),
    });
    note(`started workers=${v.workers}`);
  }
  delete process.env.EG_AEAD_WORKERS;
  startIn('iperf3-server', pair.b, 'iperf3', ['-s', '-p', String(PORT)]);
  await waitUntil(async () => (await runIn(pair!.b, 'ss', ['-ltnH', `sport = :${PORT}`])).stdout.includes(String(PORT)), 5000, 'iperf3 server');
  for (const v of variants) await iperf(pair.a, v.t!.ip(1), { seconds: 2, port: PORT }); // warm-up: JIT, workers started

  const res = new Map<string, number[]>();
  const put = (k: string, x: number) => res.set(k, [...(res.get(k) ?? []), x]);
  const loads = [loadavg()[0]];
  for (let round = 1; round <= ROUNDS; round++) {
    const parts: string[] = [];
    for (let j = 0; j < variants.length; j++) {
      const v = variants[(j + round - 1) % variants.length];
      const pids = v.t!.procs.map((p) => p.pid);
      for (const t of TESTS) {
        try {
          const r = await iperf(pair.a, v.t!.ip(1), { seconds: SECONDS, omit: 1, port: PORT, reverse: t.reverse, parallel: t.parallel, watch: pids });
          const cores = [...r.cpu.values()].reduce((a, b) => a + b, 0) / 100;
          put(`${v.key} ${t.k}`, r.bps / 1e6);
          // Average cores over the run divided by the rate: core-seconds per Gbit moved.
          put(`${v.key} ${t.k} cpu`, cores / (r.bps / 1e9));
          put(`${v.key} ${t.k} cores`, cores);
          if (t.k === 'tcp1f') parts.push(`${v.workers}w ${(r.bps / 1e6).toFixed(0)}`);
        } catch (e) {
          note(`workers=${v.workers} ${t.k}: ${(e as Error).message.split('\n')[0]}`);
        }
      }
      try {
        put(`${v.key} ping`, (await ping(pair.a, v.t!.ip(1), 100, 0.01)).avgMs);
      } catch (e) {
        note(`workers=${v.workers} ping: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    loads.push(loadavg()[0]);
    note(`round ${round}: TCP 1 A->B Mbit/s ${parts.join(', ')} (load ${loadavg()[0].toFixed(1)})`);
  }

  const fmt = (x: number, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '–');
  const med = (k: string) => median(res.get(k) ?? []);
  const base = variants[0];
  console.log(`AEAD worker threads A/B: 2 edges over TAP (MTU 1404) per variant, iperf3 -t ${SECONDS} -O 1, ${ROUNDS} round(s), variants interleaved; ${ref ? `snapshot ${ref}` : 'working tree'}`);
  console.log(`load average (1 min) per round: ${loads.map((x) => x.toFixed(1)).join(' ')}; ratios against EG_AEAD_WORKERS=${base.workers}`);
  console.log('');
  const head = ['metric (median)', ...variants.map((v) => `EG_AEAD_WORKERS=${v.workers}`)];
  const rows: string[][] = [];
  const row = (label: string, k: string, d: number) =>
    rows.push([label, ...variants.map((v) => (v === base ? fmt(med(`${v.key} ${k}`), d) : `${fmt(med(`${v.key} ${k}`), d)} (${fmt(med(`${v.key} ${k}`) / med(`${base.key} ${k}`), 2)}x)`))]);
  for (const t of TESTS) row(`${t.label} (Mbit/s)`, t.k, 0);
  for (const t of TESTS) row(`CPU core-s/Gbit, ${t.label}`, `${t.k} cpu`, 2);
  for (const t of TESTS) row(`edges' CPU (cores), ${t.label}`, `${t.k} cores`, 2);
  row('ping idle avg (ms)', 'ping', 3);
  printTable(head, rows);
  console.log('\nper round:');
  for (const v of variants) {
    const per = (k: string, d = 0) => (res.get(`${v.key} ${k}`) ?? []).map((x) => fmt(x, d)).join(' / ');
    console.log(`  workers=${v.workers}: TCP1 A->B ${per('tcp1f')}; TCP1 B->A ${per('tcp1r')}; TCP8 ${per('tcp8f')}; core-s/Gbit TCP1 A->B ${per('tcp1f cpu', 2)}; ping ${per('ping', 3)}`);
  }
}

main()
  .catch((e) => {
    console.error(`aead-ab failed: ${(e as Error).stack ?? e}`);
    process.exitCode = 1;
  })
  .finally(() => {
    cleanup();
    note('torn down');
  });
