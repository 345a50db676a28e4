// Edge throughput, the deep dive: two Etherguard edges (TAP, static table {1:{2:2},2:{1:1}}) in two
// network namespaces joined by one veth pair, against one wireguard-go set up the same way in the
// same namespaces (Debian's by default, BENCH_WG=current for the pinned build of bench/setup.sh;
// both started by bench/lib/systems.ts, as in bench/compare.bench.ts, which compares all systems
// in one table). Measured in one run, interleaved:
//
//   TCP A->B, TCP B->A   iperf3 -t 5 -O 1 (first second omitted), receiver-side goodput
//   ping                 ping -c 50 -i 0.01 through the tunnel, avg and mdev
//   CPU                  utime+stime of the edge / wireguard-go processes (all threads) during
//                        the A->B and B->A runs, from /proc/<pid>/stat; edges also split by thread
//
// Then a profile pass: both edges restarted with `node --cpu-prof`, one more A->B run, and the
// top self-time functions of each edge's main thread (sender side = edge 1, receiver = edge 2).
// The raw veth (no tunnel) TCP figure is printed for context. Everything (processes, namespaces,
// UAPI sockets, temp files) is removed at the end, also on failure, Ctrl-C, or the 110 s limit.
//
// Needs root, iperf3, wireguard-go, wg, and a built dist/ (bash scripts/build.sh all).
// Run: bash scripts/bench.sh bench/edge-throughput.bench.ts
// Env: BENCH_SECONDS (iperf -t, default 5), BENCH_ROUNDS (default 2), BENCH_PROFILE=0 (skip the
//      profile pass), BENCH_KEEP_PROFILES=1 (keep the .cpuprofile files and print where),
//      BENCH_WG=current (the pinned wireguard-go), BENCH_EG_REF=<commit> (a clean snapshot built by
//      `BENCH_EG_REF=<commit> bash bench/setup.sh`).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot } from '../test/helpers/netns.js';
import { ROOT } from '../ts/paths.js';
import { BENCH_CACHE, etherguardRoot, NodeAt, startEtherguard, startWg, Tunnel, wireguardGo } from './lib/systems.js';
import {
  dropCounters,
  findProfile,
  iperf,
  IperfResult,
  killAllLive,
  Pair,
  ping,
  PingResult,
  Proc,
  runIn,
  startIn,
  summariseProfile,
  ProfileSummary,
  vethPair,
  waitUntil,
  guardTeardown,
} from './lib/netbench.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 2));
const PROFILE = process.env.BENCH_PROFILE !== '0';
const KEEP_PROFILES = process.env.BENCH_KEEP_PROFILES === '1';
const LIMIT_MS = 110_000;
const IPERF_PORT = 5201;
const EG = etherguardRoot();
const WG_BIN = process.env.BENCH_WG === 'current' ? join(BENCH_CACHE, 'wireguard-go/bin/wireguard') : 'wireguard-go';

const t0 = performance.now();
const elapsed = () => ((performance.now() - t0) / 1000).toFixed(1);
const note = (m: string) => process.stderr.write(`[${elapsed()} s] ${m}\n`);

// ---- state for cleanup ------------------------------------------------------------------------

let pair: Pair | undefined;
const tmp = mkdtempSync(join(tmpdir(), 'egbench-'));
const procs: Proc[] = [];
const tunnels = new Set<Tunnel>();
const configDirs: string[] = [];
let cleaned = false;

function cleanupSync(): void {
  if (cleaned) return;
  cleaned = true;
  killAllLive();
  pair?.teardown();
  for (const t of tunnels) for (const d of t.devs) rmSync(`/var/run/wireguard/${d}.sock`, { force: true });
  for (const d of configDirs) rmSync(d, { recursive: true, force: true }); // private keys
  if (!KEEP_PROFILES) rmSync(tmp, { recursive: true, force: true });
}

async function cleanup(): Promise<void> {
  await Promise.all([...tunnels].map((t) => t.stop()));
  cleanupSync();
}

guardTeardown(cleanupSync, LIMIT_MS, note);

// ---- the two tunnels (bench/lib/systems.ts) ---------------------------------------------------

const nodesOf = (p: Pair): NodeAt[] => [
  { ns: p.a, host: p.addrA },
  { ns: p.b, host: p.addrB },
];

async function startEdges(p: Pair, nodeArgs?: (id: number) => string[]): Promise<Tunnel> {
  const t = await startEtherguard({
    key: 'e',
    label: 'etherguard',
    nodes: nodesOf(p),
    links: [[0, 1]],
    table: { 1: { 2: 2 }, 2: { 1: 1 } },
    net: '192.168.76',
    port: 3001,
    uapiDir: tmp,
    root: EG.root,
    nodeArgs,
    onConfigDir: (d) => configDirs.push(d),
  });
  tunnels.add(t);
  for (const e of t.procs) void e.exited.then((c) => c !== 0 && c !== null && note(`${e.name} exited ${c}: ${e.out.slice(-5).join(' | ')}`));
  return t;
}

async function stopEdges(t: Tunnel): Promise<void> {
  await t.stop();
  t.procs.forEach((e) => e.child.exitCode !== 0 && note(`${e.name} stopped with ${e.child.exitCode ?? e.child.signalCode}`));
  tunnels.delete(t);
}

async function startWireguardGo(p: Pair): Promise<Tunnel> {
  const t = await startWg({ key: 'w', label: 'wireguard-go', impl: wireguardGo(WG_BIN), nodes: nodesOf(p), peers: [[[1, [1]]], [[0, [0]]]], net: '10.9.0', port: 51820, tmp });
  tunnels.add(t);
  return t;
}

// ---- aggregation ------------------------------------------------------------------------------

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function meanMap<K>(ms: Map<K, number>[]): Map<K, number> {
  const out = new Map<K, number>();
  for (const k of ms[0].keys()) out.set(k, mean(ms.map((m) => m.get(k) ?? 0)));
  return out;
}

function meanIperf(rs: IperfResult[]): IperfResult {
  const counters: Record<string, number> = {};
  for (const k of Object.keys(rs[0].counters)) counters[k] = Math.round(mean(rs.map((r) => r.counters[k] ?? 0)));
  const threads = new Map<number, Map<string, number>>();
  for (const pid of rs[0].threads.keys()) threads.set(pid, meanMap(rs.map((r) => r.threads.get(pid) ?? new Map<string, number>())));
  return {
    bps: mean(rs.map((r) => r.bps)),
    retransmits: mean(rs.map((r) => r.retransmits)),
    seconds: mean(rs.map((r) => r.seconds)),
    wall: mean(rs.map((r) => r.wall)),
    cpu: meanMap(rs.map((r) => r.cpu)),
    threads,
    systemBusyPct: mean(rs.map((r) => r.systemBusyPct)),
    counters,
    rxPps: NaN,
  };
}

function meanPing(rs: PingResult[]): PingResult {
  return { avgMs: mean(rs.map((r) => r.avgMs)), mdevMs: mean(rs.map((r) => r.mdevMs)), minMs: Math.min(...rs.map((r) => r.minMs)), maxMs: Math.max(...rs.map((r) => r.maxMs)), loss: mean(rs.map((r) => r.loss)) };
}

// ---- table ------------------------------------------------------------------------------------

const mbit = (bps: number) => bps / 1e6;
const fmt = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');

interface Row {
  metric: string;
  eg: number;
  wg: number;
  digits?: number;
  better: 'higher' | 'lower' | '';
}

function printTable(rows: Row[]): void {
  const head = ['metric', 'etherguard', 'wireguard-go', 'ratio eg/wg', 'better'];
  const body = rows.map((r) => [r.metric, fmt(r.eg, r.digits ?? 1), fmt(r.wg, r.digits ?? 1), r.wg ? `${fmt(r.eg / r.wg, 2)}x` : 'n/a', r.better]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(w[i]) : x.padStart(w[i]))).join('  ');
  console.log(line(head));
  console.log('-'.repeat(w.reduce((a, b) => a + b + 2, -2)));
  for (const b of body) console.log(line(b));
}

function cpuSum(r: IperfResult, pids: number[]): number {
  return pids.reduce((a, p) => a + (r.cpu.get(p) ?? NaN), 0);
}

/** Core-seconds of CPU (both tunnel endpoints) per Gbit moved. */
function cpuPerGbit(r: IperfResult, pids: number[]): number {
  return cpuSum(r, pids) / 100 / (r.bps / 1e9);
}

function threadLine(r: IperfResult, pid: number): string {
  const t = r.threads.get(pid);
  if (!t) return '';
  const wall = r.wall;
  return [...t.entries()]
    .filter(([, v]) => v > 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${fmt((v / wall) * 100, 0)}%`)
    .join(', ');
}

function printProfile(label: string, s: ProfileSummary): void {
  console.log(`\n${label}: main thread ${fmt(s.totalMs / 1000, 1)} s sampled, busy ${fmt(s.busyPct, 0)}% (not idle)`);
  console.log('  self time by category:');
  for (const [k, v] of [...s.categories.entries()].sort((a, b) => b[1] - a[1])) {
    if (k !== 'idle' && v / s.totalMs < 0.003) continue;
    console.log(`    ${k.padEnd(32)} ${fmt((v / s.totalMs) * 100, 1).padStart(5)}%`);
  }
  console.log('  top self-time functions (% of sampled time, % of busy time):');
  for (const r of s.top.filter((x) => x.name !== '(idle)').slice(0, 18)) {
    console.log(`    ${fmt(r.selfPct, 1).padStart(5)}%  ${fmt((r.selfPct / s.busyPct) * 100, 1).padStart(5)}%  ${r.name}  ${r.where}`);
  }
  console.log('  inclusive (self + callees):');
  for (const [k, v] of s.inclusive) if (v > 0) console.log(`    ${fmt((v / s.totalMs) * 100, 1).padStart(5)}%  ${k}`);
}

// ---- main -------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!isRoot()) {
    console.log('edge throughput: skipped (needs root for network namespaces)');
    return;
  }
  for (const tool of ['iperf3', WG_BIN, 'wg']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      console.log(`edge throughput: skipped (${tool} not installed)`);
      return;
    }
  }
  const distMain = join(EG.root, 'dist/main.js');
  if (!existsSync(distMain)) throw new Error(`${distMain} missing: ${EG.sha ? `BENCH_EG_REF=${EG.ref} bash bench/setup.sh` : 'bash scripts/build.sh all'}`);
  const distEdge = join(ROOT, 'dist/edge/edge.js');
  if (!EG.sha && existsSync(distEdge) && statSync(distEdge).mtimeMs < statSync(join(ROOT, 'ts/edge/edge.ts')).mtimeMs) {
    note('warning: dist/edge/edge.js is older than ts/edge/edge.ts (rebuild with npx tsc -p tsconfig.json)');
  }

  pair = vethPair();
  const p = pair;
  note(`namespaces ${p.a}, ${p.b}`);
  let eg = await startEdges(p);
  note('etherguard edges up');
  const wgT = await startWireguardGo(p);
  note('wireguard-go up');
  const srv = startIn('iperf3-server', p.b, 'iperf3', ['-s', '-p', String(IPERF_PORT)]);
  procs.push(srv);
  await waitUntil(async () => (await runIn(p.b, 'ss', ['-ltnH', `sport = :${IPERF_PORT}`])).stdout.includes(String(IPERF_PORT)), 5000, 'iperf3 server');

  const egPids = eg.procs.map((e) => e.pid);
  const wgPids = wgT.procs.map((g) => g.pid);
  const probe = (devs: [string, string]) => async () => {
    const [a, b] = await Promise.all([dropCounters(p.a, [devs[0]]), dropCounters(p.b, [devs[1]])]);
    const r: Record<string, number> = {};
    for (const [k, v] of Object.entries(a)) r[`A ${k}`] = v;
    for (const [k, v] of Object.entries(b)) r[`B ${k}`] = v;
    return r;
  };
  const egProbe = probe(eg.devs as [string, string]);
  const wgProbe = probe(wgT.devs as [string, string]);
  const EG_B = eg.ip(1);
  const WG_B = wgT.ip(1);
  const run = (ip: string, reverse: boolean, watch: number[]) =>
    iperf(p.a, ip, { seconds: SECONDS, omit: 1, reverse, port: IPERF_PORT, watch, probe: ip === WG_B ? wgProbe : egProbe });

  // Warm-up: one short TCP run through each tunnel (ARP, L2FIB, JIT tiers, socket buffers).
  await iperf(p.a, EG_B, { seconds: 1, port: IPERF_PORT });
  await iperf(p.a, WG_B, { seconds: 1, port: IPERF_PORT });
  note('warm-up done');

  const veth = await iperf(p.a, p.addrB, { seconds: 2, port: IPERF_PORT });
  // ROUNDS rounds, each: eg A->B, wg A->B, eg B->A, wg B->A, eg ping, wg ping (interleaved, so
  // other load on the machine hits both alike). The table shows means over the rounds.
  const R = { egFwd: [] as IperfResult[], wgFwd: [] as IperfResult[], egRev: [] as IperfResult[], wgRev: [] as IperfResult[], egPing: [] as PingResult[], wgPing: [] as PingResult[] };
  for (let round = 1; round <= ROUNDS; round++) {
    R.egFwd.push(await run(EG_B, false, egPids));
    R.wgFwd.push(await run(WG_B, false, wgPids));
    R.egRev.push(await run(EG_B, true, egPids));
    R.wgRev.push(await run(WG_B, true, wgPids));
    R.egPing.push(await ping(p.a, EG_B));
    R.wgPing.push(await ping(p.a, WG_B));
    const l = (x: IperfResult[]) => fmt(mbit(x.at(-1)!.bps), 0);
    note(`round ${round}: A->B eg ${l(R.egFwd)} / wg ${l(R.wgFwd)} Mbit/s, B->A eg ${l(R.egRev)} / wg ${l(R.wgRev)} Mbit/s`);
  }
  const egFwd = meanIperf(R.egFwd);
  const wgFwd = meanIperf(R.wgFwd);
  const egRev = meanIperf(R.egRev);
  const wgRev = meanIperf(R.wgRev);
  const egPing = meanPing(R.egPing);
  const wgPing = meanPing(R.wgPing);
  note('ping done');

  // ---- profile pass ----
  const profiles: { label: string; s: ProfileSummary; file: string }[] = [];
  let profFwd: IperfResult | undefined;
  if (PROFILE) {
    await stopEdges(eg);
    const dir = (id: number) => join(tmp, `prof${id}`);
    eg = await startEdges(p, (id) => ['--cpu-prof', `--cpu-prof-dir=${dir(id)}`]);
    note('edges restarted with --cpu-prof');
    await iperf(p.a, EG_B, { seconds: 1, port: IPERF_PORT });
    profFwd = await run(EG_B, false, eg.procs.map((e) => e.pid));
    note(`profiled etherguard A->B ${fmt(mbit(profFwd.bps))} Mbit/s`);
    await stopEdges(eg);
    // The data path as built since the one-call-per-batch plane (docs/architecture.md).
    const inc = ['onTapRecords', 'onUdpBatch', 'run', 'process', 'sendRecords', 'writeRecords', 'stageBytes', 'onBatch', 'write'];
    for (const id of [1, 2]) {
      const f = findProfile(dir(id));
      if (!f) {
        note(`no .cpuprofile from edge ${id}`);
        continue;
      }
      profiles.push({ label: `edge ${id} (${id === 1 ? 'sender: TAP read -> seal -> UDP send' : 'receiver: UDP recv -> open -> TAP write'})`, s: summariseProfile(f, inc), file: f });
    }
  }

  // ---- report ----
  const cores = cpus().length;
  const wgVersion = execFileSync(WG_BIN, ['--version'], { encoding: 'utf8' }).split('\n')[0].trim();
  const egWhat = EG.sha ? `etherguard ${EG.sha.slice(0, 7)} (clean snapshot, BENCH_EG_REF=${EG.ref})` : 'etherguard working tree';
  console.log(`Edge throughput: 2 namespaces over one veth pair, iperf3 TCP -t ${SECONDS} -O 1, ping -c 50 -i 0.01; means of ${ROUNDS} interleaved round(s)`);
  console.log(`node ${process.version}, ${cores} CPU(s) (${cpus()[0]?.model ?? '?'}), kernel ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()}, ${wgVersion}`);
  console.log(`${egWhat}: TAP MTU 1404, static table {1:{2:2},2:{1:1}}, LogLevel error; wireguard-go: TUN MTU 1420, PSK`);
  console.log(`raw veth (no tunnel) TCP A->B: ${fmt(mbit(veth.bps), 0)} Mbit/s\n`);
  const rows: Row[] = [
    { metric: 'TCP A->B (Mbit/s)', eg: mbit(egFwd.bps), wg: mbit(wgFwd.bps), better: 'higher' },
    { metric: 'TCP B->A, -R (Mbit/s)', eg: mbit(egRev.bps), wg: mbit(wgRev.bps), better: 'higher' },
    { metric: 'TCP retransmits A->B', eg: egFwd.retransmits, wg: wgFwd.retransmits, digits: 0, better: 'lower' },
    { metric: 'TCP retransmits B->A', eg: egRev.retransmits, wg: wgRev.retransmits, digits: 0, better: 'lower' },
    { metric: 'ping avg (ms)', eg: egPing.avgMs, wg: wgPing.avgMs, digits: 3, better: 'lower' },
    { metric: 'ping mdev (ms)', eg: egPing.mdevMs, wg: wgPing.mdevMs, digits: 3, better: 'lower' },
    { metric: 'ping loss (%)', eg: egPing.loss, wg: wgPing.loss, digits: 0, better: 'lower' },
    { metric: 'CPU A side, A->B (% core)', eg: egFwd.cpu.get(egPids[0])!, wg: wgFwd.cpu.get(wgPids[0])!, digits: 0, better: '' },
    { metric: 'CPU B side, A->B (% core)', eg: egFwd.cpu.get(egPids[1])!, wg: wgFwd.cpu.get(wgPids[1])!, digits: 0, better: '' },
    { metric: 'CPU both, B->A (% core)', eg: cpuSum(egRev, egPids), wg: cpuSum(wgRev, wgPids), digits: 0, better: '' },
    { metric: 'machine CPU busy, A->B (% all)', eg: egFwd.systemBusyPct, wg: wgFwd.systemBusyPct, digits: 0, better: '' },
    { metric: 'machine CPU busy, B->A (% all)', eg: egRev.systemBusyPct, wg: wgRev.systemBusyPct, digits: 0, better: '' },
    { metric: 'CPU core-s per Gbit, A->B', eg: cpuPerGbit(egFwd, egPids), wg: cpuPerGbit(wgFwd, wgPids), digits: 2, better: 'lower' },
    { metric: 'CPU core-s per Gbit, B->A', eg: cpuPerGbit(egRev, egPids), wg: cpuPerGbit(wgRev, wgPids), digits: 2, better: 'lower' },
  ];
  printTable(rows);
  const per = (xs: IperfResult[]) => xs.map((x) => fmt(mbit(x.bps), 0)).join(' / ');
  console.log(`\nper round (Mbit/s): A->B eg ${per(R.egFwd)}, wg ${per(R.wgFwd)}; B->A eg ${per(R.egRev)}, wg ${per(R.wgRev)}`);
  console.log(`ping avg per round (ms): eg ${R.egPing.map((x) => fmt(x.avgMs, 3)).join(' / ')}, wg ${R.wgPing.map((x) => fmt(x.avgMs, 3)).join(' / ')}`);
  console.log(`\nthreads during A->B (% of one core): edge1 [${threadLine(egFwd, egPids[0])}]; edge2 [${threadLine(egFwd, egPids[1])}]`);
  console.log(`  ('main' = JS event loop incl. its syscalls; 'eg-*' = native I/O threads (TAP read/write, UDP recvmmsg); 'node' = libuv pool + V8 helper threads)`);
  const drops = (r: IperfResult) =>
    Object.entries(r.counters)
      .filter(([, v]) => v !== 0)
      .map(([k, v]) => `${k.replace(/ecw(\d)x\d+/, 'wg$1').replace(/ece(\d)x\d+/, 'tap$1')} ${v}`)
      .join(', ') || 'none';
  console.log(`drops during runs (A = iperf client side, B = server side; tunnel devices and UDP):`);
  console.log(`  etherguard A->B: ${drops(egFwd)}\n  etherguard B->A: ${drops(egRev)}`);
  console.log(`  wireguard-go A->B: ${drops(wgFwd)}\n  wireguard-go B->A: ${drops(wgRev)}`);
  console.log(`wireguard-go during A->B: A ${fmt(wgFwd.cpu.get(wgPids[0])!, 0)}%, B ${fmt(wgFwd.cpu.get(wgPids[1])!, 0)}% (Go runtime threads, not split)`);
  const ratio = egFwd.bps / wgFwd.bps;
  console.log(`\nratio etherguard / wireguard-go, TCP A->B: ${fmt(ratio, 2)}x (target > 1: ${ratio > 1 ? 'met' : 'not met'})`);
  if (profFwd) {
    console.log(`\nProfile pass (node --cpu-prof on both edges), TCP A->B ${fmt(mbit(profFwd.bps))} Mbit/s`);
    for (const pr of profiles) {
      printProfile(pr.label, pr.s);
      if (KEEP_PROFILES) console.log(`  profile: ${pr.file}`);
    }
  }
}

main()
  .catch((e) => {
    console.error(`edge throughput failed: ${(e as Error).stack ?? e}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanup();
    note('torn down');
  });
