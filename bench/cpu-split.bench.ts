// Where the machine's CPU goes while one TCP flow crosses two Etherguard edges (TAP, static table,
// the compare bench's setup: bench/lib/systems.ts): a system-wide `perf record` over an iperf3
// run, the edges started with `node --perf-basic-prof` so JIT and WASM functions have names.
// Samples are split into: ChaCha20-Poly1305 in the WASM core, the rest of the WASM core, the
// edge's JS / V8, the kernel on the edge's threads (syscalls: TAP read/write, sendmmsg,
// recvmmsg), iperf3 (user + its kernel TCP work), softirq threads, idle, and other processes
// (other jobs on the machine). This says whether moving the AEAD to more threads can pay, and
// where the rest of the time goes.
//
// Env: BENCH_SECONDS (8), BENCH_STREAMS (1), BENCH_REVERSE=1 (B->A), BENCH_EG_ENV (extra env for
// both edges, e.g. "EG_WORKERS=0"). Needs root and perf. Run: bash scripts/bench.sh bench/cpu-split.bench.ts
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { isRoot } from '../test/helpers/netns.js';
import { benchScratch, guardTeardown, iperf, Pair, startIn, vethPair, waitUntil, runIn } from './lib/netbench.js';
import { etherguardRoot, startEtherguard, Tunnel } from './lib/systems.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const STREAMS = Number(process.env.BENCH_STREAMS ?? 1);
const REVERSE = process.env.BENCH_REVERSE === '1';
const PORT = 5331;
let pair: Pair | undefined;
const { note, tmp, dirs, cleanup } = benchScratch('egsplit-', () => pair, 1);
guardTeardown(cleanup, 120_000, note);

/** Category of one perf sample line `comm pid/tid sym dso`. */
function category(comm: string, pid: number, sym: string, dso: string, edges: Set<number>): string {
  if (edges.has(pid)) {
    if (dso.includes('kernel')) return 'edge: kernel (syscalls, TAP/UDP)';
    if (/chacha|poly1305|xor_keystream|aead/i.test(sym)) return 'edge: ChaCha20-Poly1305 (WASM)';
    if (/wasm|eg_core|eg_wasm|core::|alloc::/.test(sym)) return 'edge: other WASM core (plane, offload)';
    if (dso.includes('eg-native') || dso.includes('.node')) return 'edge: native addon (user)';
    if (dso.includes('libc') || dso.includes('ld-linux')) return 'edge: libc';
    return 'edge: node JS / V8 / libuv';
  }
  if (comm.startsWith('iperf3')) return dso.includes('kernel') ? 'iperf3: kernel (TCP, TAP side)' : 'iperf3: user';
  if (comm === 'swapper') return 'idle';
  if (comm.startsWith('ksoftirqd')) return 'ksoftirqd';
  if (comm.startsWith('kworker')) return 'kworker';
  return 'other processes';
}

async function main(): Promise<void> {
  if (!isRoot()) {
    console.log('cpu-split: skipped (needs root for network namespaces)');
    return;
  }
  try {
    execFileSync('perf', ['--version'], { stdio: 'ignore' });
  } catch {
    console.log('cpu-split: skipped (no perf)');
    return;
  }
  pair = vethPair(207);
  const EG = etherguardRoot();
  const extra = Object.fromEntries((process.env.BENCH_EG_ENV ?? '').split(/\s+/).filter(Boolean).map((kv) => kv.split('=', 2) as [string, string]));
  for (const [k, v] of Object.entries(extra)) process.env[k] = v; // inherited by the edges
  const t: Tunnel = await startEtherguard({
    key: 's',
    label: 'etherguard',
    nodes: [
      { ns: pair.a, host: pair.addrA },
      { ns: pair.b, host: pair.addrB },
    ],
    links: [[0, 1]],
    table: { 1: { 2: 2 }, 2: { 1: 1 } },
    net: '192.168.79',
    port: 3031,
    uapiDir: tmp,
    root: EG.root,
    nodeArgs: () => ['--perf-basic-prof'],
    onConfigDir: (d) => dirs.push(d),
  });
  note(`edges up (${Object.keys(extra).length ? JSON.stringify(extra) : 'default env'})`);
  startIn('iperf3-server', pair.b, 'iperf3', ['-s', '-p', String(PORT)]);
  await waitUntil(async () => (await runIn(pair!.b, 'ss', ['-ltnH', `sport = :${PORT}`])).stdout.includes(String(PORT)), 5000, 'iperf3 server');
  await iperf(pair.a, t.ip(1), { seconds: 2, port: PORT }); // warm-up: JIT, session
  const load0 = loadavg()[0];
  const data = join(tmp, 'perf.data');
  const rec = startIn('perf', pair.a, 'perf', ['record', '-a', '-F', '999', '-o', data, '--', 'sleep', String(SECONDS)]);
  const r = await iperf(pair.a, t.ip(1), { seconds: SECONDS, port: PORT, parallel: STREAMS, reverse: REVERSE, watch: t.procs.map((p) => p.pid) });
  await rec.exited;
  const edges = new Set(t.procs.map((p) => p.pid));
  const edgeCpu = [...r.cpu.values()].reduce((a, b) => a + b, 0) / 100;
  await t.stop();
  const out = execFileSync('perf', ['script', '-i', data, '-F', 'comm,pid,ip,sym,dso'], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
  for (const pid of edges) rmSync(`/tmp/perf-${pid}.map`, { force: true });
  const cats = new Map<string, number>();
  const syms = new Map<string, number>();
  let total = 0;
  for (const line of out.split('\n')) {
    const m = /^\s*(.+?)\s+(\d+)\s+[0-9a-f]+\s+(.*?)\s*\((.*)\)\s*$/.exec(line);
    if (!m) continue;
    const [, comm, pidS, sym, dso] = m;
    const c = category(comm.trim(), Number(pidS), sym, dso, edges);
    cats.set(c, (cats.get(c) ?? 0) + 1);
    if (c.startsWith('edge')) syms.set(sym.slice(0, 70), (syms.get(sym.slice(0, 70)) ?? 0) + 1);
    total++;
  }
  const gbit = (r.bps * r.seconds) / 1e9;
  console.log(`cpu split: TCP ${STREAMS} stream(s) ${REVERSE ? 'B->A' : 'A->B'}, ${SECONDS} s, ${(r.bps / 1e6).toFixed(0)} Mbit/s, load average ${load0.toFixed(2)} at start`);
  console.log(`edges' CPU (utime+stime, both): ${edgeCpu.toFixed(2)} cores = ${((edgeCpu * r.wall) / gbit).toFixed(2)} core-s/Gbit; machine busy ${r.systemBusyPct.toFixed(0)} %`);
  console.log(`perf samples (all CPUs, ${total}):`);
  for (const [c, n] of [...cats].sort((a, b) => b[1] - a[1])) console.log(`  ${((n / total) * 100).toFixed(1).padStart(5)} %  ${c}`);
  const edgeTotal = [...cats].filter(([c]) => c.startsWith('edge')).reduce((a, [, n]) => a + n, 0);
  console.log(`top symbols on the edges (% of edge samples, ${edgeTotal}):`);
  for (const [s, n] of [...syms].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${((n / edgeTotal) * 100).toFixed(1).padStart(5)} %  ${s}`);
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(cleanup);
