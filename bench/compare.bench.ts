// Etherguard against the tunnels a user would pick instead, in one run, interleaved, printed as one
// table of medians with ratios against the current wireguard-go, and the data-plane goals of the
// project (issue "Data plane II") as pass/fail lines.
//
// Systems (built/installed by bench/setup.sh at pinned versions; how and why: ../shared/anchors.md):
//   etherguard      our edge, TAP, static NextHopTable {1:{2:2},2:{1:1}}, MTU 1404, built dist/
//   wg-go current   golang.zx2c4.com/wireguard at a pinned pseudo-version (TUN GSO/GRO, UDP GSO)
//   wg-go Debian    Debian's wireguard-go 0.0.20220316 (no offloads)
//   boringtun       boringtun-cli 0.7.1 from the Rust crate registry, TUN MTU 1420
//   tinc 1.0        Debian's tinc 1.0.36, Mode = switch (L2 over TAP), aes-256-cbc + sha256
//   veth            the underlay itself, no tunnel (context only)
// All run at once between two namespaces A and B over one veth pair (10.201.0.1/2), each with its
// own subnet and port; each measurement goes through the systems one after another (order rotated
// every round), so load from the rest of the machine hits them alike.
//
// Per round, for each system:
//   TCP 1 stream A->B and B->A (-R), TCP 8 streams (-P 8) both ways   iperf3 -t S -O 1, receiver goodput
//   ping under load: ping -i 0.01 A->B during the TCP 1-stream A->B run (another flow on the same tunnel)
//   UDP 64 B and 1372 B payloads (92- and 1400-byte IP packets)    iperf3 -u -b 0 -l N -t S, packets *received*/s
//   ping idle: 100 x ping -i 0.01
//   CPU: utime+stime of the tunnel's processes (/proc/PID/stat, both ends) per Gbit moved
//   RSS: peak (VmHWM) of the largest tunnel process at the end
// and a 3-node line A - R - B (veths A-R, R-B; A and B cannot reach each other on the underlay):
// Etherguard with {1:{2:2,3:2},2:{1:1,3:3},3:{1:2,2:2}} (node 2 relays) and the current wireguard-go
// with R as a routed hop (ip_forward), TCP 1 stream A->B, with R's CPU per Gbit.
//
// Needs root. Run: bash scripts/bench.sh bench/compare.bench.ts   (or: npx just bench-compare)
// Env: BENCH_ROUNDS (default 3), BENCH_SECONDS (default 5), BENCH_SKIP_SETUP=1 (use what is built),
//      BENCH_KINDS (a comma list of tcp1f,tcp1r,tcp8f,tcp8r,udp64,udp1400,pingIdle,relay: only those),
//      EG_BENCH_CACHE (where setup.sh keeps its builds, default bench/.cache).
// Everything (processes, namespaces, UAPI sockets, key files) is removed at the end, also on failure,
// Ctrl-C, or the time limit (proportional to the rounds).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot, netnsAdd, netnsDel } from '../test/helpers/netns.js';
import { ROOT } from '../ts/paths.js';
import { guardTeardown, iperf, IperfResult, killAllLive, median, Pair, percentile, pingSamples, runIn, sh, startIn, vethPair, waitUntil } from './lib/netbench.js';
import { BENCH_CACHE, boringtun, etherguardRoot, NodeAt, offloads, peakRssMiB, startEtherguard, startTinc, startWg, Tunnel, wireguardGo } from './lib/systems.js';

const SECONDS = Math.max(2, Number(process.env.BENCH_SECONDS ?? 5));
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const CACHE = BENCH_CACHE;
const WG_CURRENT_BIN = join(CACHE, 'wireguard-go/bin/wireguard');
const BORINGTUN_BIN = join(CACHE, 'boringtun/bin/boringtun-cli');
/** Which Etherguard runs: the working tree, or with BENCH_EG_REF a clean snapshot of that commit. */
const { root: EG_ROOT, sha: EG_SHA, ref: EG_REF } = etherguardRoot();
const IPERF_PORT = 5201;
const PMTU_MS = 5000;

const t0 = performance.now();
const elapsed = () => ((performance.now() - t0) / 1000).toFixed(0);
const note = (m: string) => process.stderr.write(`[${elapsed()} s] ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- cleanup state ------------------------------------------------------------------------------

let pair: Pair | undefined;
const lineNs: string[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'egcompare-'));
const configDirs: string[] = [];
const tunnels = new Set<Tunnel>();
let cleaned = false;

function cleanupSync(): void {
  if (cleaned) return;
  cleaned = true;
  killAllLive();
  pair?.teardown();
  for (const ns of lineNs) netnsDel(ns);
  for (const t of tunnels) for (const d of t.devs) rmSync(`/var/run/wireguard/${d}.sock`, { force: true });
  for (const d of configDirs) rmSync(d, { recursive: true, force: true }); // private keys
  rmSync(tmp, { recursive: true, force: true });
}

// ---- systems ------------------------------------------------------------------------------------

/** A system under test: how to (re)start it, its running tunnel, and why it is missing if it is. */
interface System {
  key: string;
  label: string;
  start: () => Promise<Tunnel>;
  /** Attempts when starting; our edge gets retries (other helpers may be rebuilding dist/ mid-run). */
  tries: number;
  t?: Tunnel;
  missing?: string;
  broken?: boolean;
  /** After a failed start: not before this time (ms since the epoch). */
  retryAt?: number;
}

const addrs = (p: Pair): NodeAt[] => [
  { ns: p.a, host: p.addrA },
  { ns: p.b, host: p.addrB },
];

function systems(p: Pair): System[] {
  const two = addrs(p);
  const wgPeers: [number, number[]][][] = [[[1, [1]]], [[0, [0]]]];
  const uapiDir = join(tmp, 'uapi');
  return [
    {
      key: 'eg',
      label: 'etherguard',
      tries: 3,
      start: () =>
        startEtherguard({ key: 'e', label: 'etherguard', nodes: two, links: [[0, 1]], table: { 1: { 2: 2 }, 2: { 1: 1 } }, net: '192.168.76', port: 3001, uapiDir, root: EG_ROOT, onConfigDir: (d) => configDirs.push(d) }),
    },
    { key: 'wgcur', label: 'wg-go current', tries: 1, start: () => startWg({ key: 'w', label: 'wireguard-go current', impl: wireguardGo(WG_CURRENT_BIN), nodes: two, peers: wgPeers, net: '10.9.1', port: 51821, tmp }) },
    { key: 'wgdeb', label: 'wg-go Debian', tries: 1, start: () => startWg({ key: 'd', label: 'wireguard-go Debian', impl: wireguardGo('/usr/bin/wireguard-go'), nodes: two, peers: wgPeers, net: '10.9.2', port: 51822, tmp }) },
    { key: 'bt', label: 'boringtun', tries: 1, start: () => startWg({ key: 'b', label: 'boringtun', impl: boringtun(BORINGTUN_BIN), nodes: two, peers: wgPeers, net: '10.9.3', port: 51823, tmp }) },
    { key: 'tinc', label: 'tinc switch', tries: 1, start: () => startTinc({ key: 't', label: 'tinc', nodes: two, net: '10.9.4', port: 6550, tmp, pmtuMs: PMTU_MS }) },
  ];
}

async function bringUp(s: System): Promise<boolean> {
  if (s.t) {
    await s.t.stop();
    tunnels.delete(s.t);
    s.t = undefined;
  }
  for (let attempt = 1; attempt <= s.tries; attempt++) {
    try {
      s.t = await s.start();
      tunnels.add(s.t);
      s.missing = undefined;
      s.broken = false;
      return true;
    } catch (e) {
      s.missing = (e as Error).message.split('\n')[0];
      note(`${s.label}: start failed (attempt ${attempt}/${s.tries}): ${(e as Error).message}`);
      if (s.key === 'eg' && /stale|Cannot find|ERR_MODULE|SyntaxError/.test((e as Error).message)) note('  (a stale or broken build: bash scripts/build.sh all, or BENCH_EG_REF=HEAD for a clean snapshot)');
      if (attempt < s.tries) await sleep(15_000);
    }
  }
  return false;
}

/**
 * True when the system can be measured now. Restarts it if a process died or its last run failed;
 * after a failed start it is tried again at most once a minute (dist/ may be mid-rebuild).
 */
async function ready(s: System): Promise<boolean> {
  const dead = s.t?.procs.some((pr) => pr.child.exitCode !== null || pr.child.signalCode !== null);
  if (s.t && !dead && !s.broken) return true;
  if (s.tries === 0 || Date.now() < (s.retryAt ?? 0)) return false;
  if (s.t) note(`${s.label}: ${dead ? 'a process exited' : 'last run failed'}; restarting`);
  const ok = await bringUp(s);
  if (!ok) s.retryAt = Date.now() + 60_000;
  return ok;
}

// ---- measurements -------------------------------------------------------------------------------

/** Per system: metric -> one value per round (NaN where a run failed). */
const res = new Map<string, Map<string, number[]>>();
const rtts = new Map<string, { idle: number[]; load: number[] }>();
const put = (sys: string, metric: string, v: number) => {
  const m = res.get(sys) ?? new Map<string, number[]>();
  res.set(sys, m);
  m.set(metric, [...(m.get(metric) ?? []), v]);
};
const vals = (sys: string, metric: string) => res.get(sys)?.get(metric) ?? [];
const med = (sys: string, metric: string) => median(vals(sys, metric));

const cpuPerGbit = (r: IperfResult, pids: number[]) => pids.reduce((a, pid) => a + (r.cpu.get(pid) ?? NaN), 0) / 100 / (r.bps / 1e9);

type Kind = 'tcp1f' | 'tcp1r' | 'tcp8f' | 'tcp8r' | 'udp64' | 'udp1400' | 'pingIdle';
/** BENCH_KINDS=pingIdle,udp64,relay runs only those measurements (a focused rerun; the table's other rows stay empty). */
const ONLY = process.env.BENCH_KINDS ? process.env.BENCH_KINDS.split(',') : undefined;
const KINDS: Kind[] = (['tcp1f', 'tcp1r', 'tcp8f', 'tcp8r', 'udp64', 'udp1400', 'pingIdle'] as Kind[]).filter((k) => !ONLY || ONLY.includes(k));
/** What the veth baseline is measured for (it is symmetric; context only). */
const VETH_KINDS = new Set<Kind>(['tcp1f', 'tcp8f', 'udp64', 'udp1400', 'pingIdle']);

/** One measurement of one kind between `a` and `ip`; `pids` are the tunnel's processes (none for veth). */
async function measure(sys: string, kind: Kind, ns: string, ip: string, pids: number[]): Promise<string> {
  const r = rtts.get(sys) ?? { idle: [], load: [] };
  rtts.set(sys, r);
  const tcp = async (metric: string, reverse: boolean, parallel: number) => {
    const x = await iperf(ns, ip, { seconds: SECONDS, omit: 1, reverse, parallel, port: IPERF_PORT, watch: pids });
    put(sys, metric, x.bps / 1e6);
    if (pids.length) put(sys, `${metric} cpu`, cpuPerGbit(x, pids));
    return x;
  };
  switch (kind) {
    case 'tcp1f': {
      // Latency under load: a ping flow beside the TCP flow, from after the omitted first second.
      const loaded = (async () => {
        await sleep(1500);
        return pingSamples(ns, ip, { count: (SECONDS - 1) * 100, interval: 0.01, deadlineS: SECONDS - 1 });
      })();
      loaded.catch(() => {});
      const x = await tcp('tcp1f', false, 1);
      const p = await loaded.catch((e: Error) => (note(`${sys} loaded ping: ${e.message}`), undefined));
      put(sys, 'pingLoadAvg', p ? p.rtts.reduce((a, b) => a + b, 0) / p.rtts.length : NaN);
      put(sys, 'pingLoadLoss', p ? (1 - p.rtts.length / p.sent) * 100 : NaN);
      if (p) r.load.push(...p.rtts);
      return `${(x.bps / 1e6).toFixed(0)} Mbit/s`;
    }
    case 'tcp1r':
      return `${((await tcp('tcp1r', true, 1)).bps / 1e6).toFixed(0)} Mbit/s`;
    case 'tcp8f':
      return `${((await tcp('tcp8f', false, 8)).bps / 1e6).toFixed(0)} Mbit/s`;
    case 'tcp8r':
      return `${((await tcp('tcp8r', true, 8)).bps / 1e6).toFixed(0)} Mbit/s`;
    case 'udp64':
    case 'udp1400': {
      const x = await iperf(ns, ip, { seconds: SECONDS, port: IPERF_PORT, udp: { len: kind === 'udp64' ? 64 : 1372 }, watch: pids });
      put(sys, kind, x.rxPps / 1000);
      return `${(x.rxPps / 1000).toFixed(1)} kpps`;
    }
    case 'pingIdle': {
      const p = await pingSamples(ns, ip, { count: 100, interval: 0.01 });
      put(sys, 'pingIdleAvg', p.rtts.reduce((a, b) => a + b, 0) / p.rtts.length);
      r.idle.push(...p.rtts);
      return `${(p.rtts.reduce((a, b) => a + b, 0) / p.rtts.length).toFixed(3)} ms`;
    }
  }
}

const METRICS_OF: Record<Kind, string[]> = {
  tcp1f: ['tcp1f', 'tcp1f cpu', 'pingLoadAvg', 'pingLoadLoss'],
  tcp1r: ['tcp1r', 'tcp1r cpu'],
  tcp8f: ['tcp8f', 'tcp8f cpu'],
  tcp8r: ['tcp8r', 'tcp8r cpu'],
  udp64: ['udp64'],
  udp1400: ['udp1400'],
  pingIdle: ['pingIdleAvg'],
};

/** Pads a failed run with NaN so every round keeps one slot per metric. */
function padFailed(sys: string, kind: Kind, round: number): void {
  for (const m of METRICS_OF[kind]) while (vals(sys, m).length < round) put(sys, m, NaN);
}

// ---- the 3-node line ----------------------------------------------------------------------------

interface Line {
  a: string;
  r: string;
  b: string;
  /** Underlay addresses: A 10.202.0.1, R 10.202.0.2 (reached by B through its route), B 10.203.0.1. */
  nodes: NodeAt[];
}

/** Namespaces A - R - B joined by two veth pairs; B routes 10.202.0.0/24 to R, A has no route to B. */
function buildLine(): Line {
  const tag = (process.pid % 10000).toString();
  const [a, r, b] = ['egcLA', 'egcLR', 'egcLB'].map((x) => {
    const ns = netnsAdd(x);
    lineNs.push(ns);
    return ns;
  });
  const link = (n1: string, ip1: string, n2: string, ip2: string, i: number) => {
    const v1 = `egcl${i}a${tag}`;
    const v2 = `egcl${i}b${tag}`;
    sh('ip', ['link', 'add', v1, 'type', 'veth', 'peer', 'name', v2]);
    sh('ip', ['link', 'set', v1, 'netns', n1]);
    sh('ip', ['link', 'set', v2, 'netns', n2]);
    for (const [ns, dev, ip] of [
      [n1, v1, ip1],
      [n2, v2, ip2],
    ]) {
      sh('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', dev]);
      sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    }
  };
  link(a, '10.202.0.1', r, '10.202.0.2', 1);
  link(r, '10.203.0.2', b, '10.203.0.1', 2);
  sh('ip', ['-n', b, 'route', 'add', '10.202.0.0/24', 'via', '10.203.0.2']);
  return {
    a,
    r,
    b,
    nodes: [
      { ns: a, host: '10.202.0.1' },
      { ns: r, host: '10.202.0.2' },
      { ns: b, host: '10.203.0.1' },
    ],
  };
}

function relaySystems(l: Line): System[] {
  return [
    {
      key: 'eg',
      label: 'etherguard relayed',
      tries: 3,
      start: () =>
        startEtherguard({
          key: 'r',
          label: 'etherguard relayed',
          nodes: l.nodes,
          links: [
            [0, 1],
            [1, 2],
          ],
          table: { 1: { 2: 2, 3: 2 }, 2: { 1: 1, 3: 3 }, 3: { 1: 2, 2: 2 } },
          net: '192.168.77',
          port: 3002,
          uapiDir: join(tmp, 'uapi'),
          root: EG_ROOT,
          onConfigDir: (d) => configDirs.push(d),
        }),
    },
    {
      key: 'wgcur',
      label: 'wg-go current routed',
      tries: 1,
      start: async () => {
        // R forwards between its peers on the one wireguard device (a routed hop, as a user would set up).
        sh('ip', ['netns', 'exec', l.r, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
        sh('ip', ['netns', 'exec', l.r, 'sysctl', '-q', '-w', 'net.ipv4.conf.all.send_redirects=0']);
        return startWg({
          key: 'q',
          label: 'wireguard-go current routed',
          impl: wireguardGo(WG_CURRENT_BIN),
          nodes: l.nodes,
          peers: [[[1, [1, 2]]], [[0, [0]], [2, [2]]], [[1, [0, 1]]]],
          net: '10.9.5',
          port: 51825,
          tmp,
        });
      },
    },
  ];
}

// ---- table --------------------------------------------------------------------------------------

const fmt = (v: number, d: number) => (Number.isFinite(v) ? v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '–');

interface Row {
  label: string;
  metric: string;
  digits: number;
  better: 'higher' | 'lower' | '';
  /** Value per system key; default: median of the metric. */
  get?: (sys: string) => number;
  veth?: boolean;
}

function printTable(cols: { key: string; label: string }[], rows: Row[]): void {
  const head = ['metric (median of rounds)', ...cols.map((c) => c.label), 'better'];
  const body = rows.map((r) => {
    const v = (k: string) => (r.get ? r.get(k) : med(k, r.metric));
    const base = v('wgcur');
    return [
      r.label,
      ...cols.map((c) => {
        if (c.key === 'veth' && !r.veth) return '';
        const x = v(c.key);
        if (!Number.isFinite(x)) return '–';
        return c.key === 'wgcur' || c.key === 'veth' || !Number.isFinite(base) || base === 0 ? fmt(x, r.digits) : `${fmt(x, r.digits)} (${(x / base).toFixed(2)}x)`;
      }),
      r.better,
    ];
  });
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(w[i]) : x.padStart(w[i]))).join(' | ');
  console.log(line(head));
  console.log(w.map((n, i) => (i === 0 ? '-'.repeat(n) : '-'.repeat(n - 1) + ':')).join(' | '));
  for (const b of body) console.log(line(b));
}

// ---- main ---------------------------------------------------------------------------------------

function setup(): void {
  if (process.env.BENCH_SKIP_SETUP === '1') return;
  note('bench/setup.sh (installs/builds the comparison systems at pinned versions; cached)');
  const r = spawnSync('bash', [join(ROOT, 'bench/setup.sh')], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 30 * 60_000 });
  if (r.status !== 0) note(`bench/setup.sh exited ${r.status}: the systems it could not provide are left out of the table`);
}

function version(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0].trim();
  } catch {
    return 'missing';
  }
}

async function main(): Promise<void> {
  if (!isRoot()) {
    console.log('compare: skipped (needs root for network namespaces)');
    return;
  }
  setup();
  // Proportional to the work: per round, 6 iperf runs of S+1 s and a ping for each of 5 systems,
  // 4 veth runs, 2 relay runs, each with slack for start-up and the machine being busy.
  const limitS = 180 + ROUNDS * ((5 * 7 + 4 + 2) * (SECONDS + 5) + 30);
  guardTeardown(cleanupSync, limitS * 1000, note);
  note(`time limit ${limitS} s (${ROUNDS} round(s) x ${SECONDS} s)`);
  for (const tool of ['iperf3', 'wg', 'ping']) {
    if (version('sh', ['-c', `command -v ${tool}`]) === 'missing') throw new Error(`${tool} not installed (bench/setup.sh installs it)`);
  }
  const distMain = join(EG_ROOT, 'dist/main.js');
  if (!existsSync(distMain)) throw new Error(`${distMain} missing: ${EG_SHA ? 'bench/setup.sh could not build the snapshot' : 'bash scripts/build.sh all'}`);
  const distEdge = join(EG_ROOT, 'dist/edge/edge.js');
  if (!EG_SHA && existsSync(distEdge) && statSync(distEdge).mtimeMs < statSync(join(ROOT, 'ts/edge/edge.ts')).mtimeMs) {
    note('warning: dist/edge/edge.js is older than ts/edge/edge.ts (bash scripts/build.sh ts)');
  }
  const loadStart = loadavg();
  const commit = version('git', ['-C', ROOT, 'log', '-1', '--format=%h %cs', EG_SHA ?? 'HEAD']);
  const dirty = EG_SHA ? '' : version('sh', ['-c', `git -C ${ROOT} status --porcelain -- ts crates | head -1`]);
  const egWhat = EG_SHA ? `etherguard ${commit} (clean snapshot, BENCH_EG_REF=${EG_REF})` : `etherguard working tree at ${commit}${dirty && dirty !== 'missing' ? ' + uncommitted changes in ts/ or crates/' : ''}`;

  pair = vethPair(201);
  const p = pair;
  const line = buildLine();
  const sys = systems(p);
  const rel = relaySystems(line);
  for (const s of [...sys, ...rel]) {
    if ((s.key === 'wgcur' && !existsSync(WG_CURRENT_BIN)) || (s.key === 'bt' && !existsSync(BORINGTUN_BIN))) {
      s.missing = 'not built (bench/setup.sh)';
      s.tries = 0;
      continue;
    }
    if (s.key === 'tinc' && version('sh', ['-c', 'command -v tincd']) === 'missing') {
      s.missing = 'tincd not installed';
      s.tries = 0;
      continue;
    }
    note(`starting ${s.label}`);
    if (!(await bringUp(s))) s.retryAt = Date.now() + 60_000;
  }
  const wgDev = sys.find((s) => s.key === 'wgcur')?.t?.devs[0];
  const wgOffloads = wgDev ? await offloads(p.a, wgDev) : 'n/a';
  // Ours: the TAP's offloads (on unless EG_OFFLOADS=0 in the environment of the run).
  const egDev = sys.find((s) => s.key === 'eg')?.t?.devs[0];
  const egOffloads = egDev ? await offloads(p.a, egDev) : 'n/a';
  for (const ns of [p.b, line.b]) startIn('iperf3-server', ns, 'iperf3', ['-s', '-p', String(IPERF_PORT)]);
  for (const ns of [p.b, line.b]) await waitUntil(async () => (await runIn(ns, 'ss', ['-ltnH', `sport = :${IPERF_PORT}`])).stdout.includes(String(IPERF_PORT)), 5000, 'iperf3 server');

  // Warm-up: ARP / L2 tables, JIT tiers, socket buffers, tinc's switch to UDP.
  for (const s of [...sys, ...rel]) {
    if (!s.t) continue;
    const ns = rel.includes(s) ? line.a : p.a;
    await iperf(ns, s.t.ip(s.t.procs.length - 1), { seconds: 1, port: IPERF_PORT }).catch((e: Error) => note(`${s.label} warm-up: ${e.message}`));
  }
  note('warm-up done');

  const veth = { key: 'veth', label: 'veth' };
  for (let round = 1; round <= ROUNDS; round++) {
    const order = sys.map((_, i) => sys[(i + round - 1) % sys.length]);
    for (const kind of KINDS) {
      const parts: string[] = [];
      for (const s of order) {
        if (!(await ready(s))) {
          padFailed(s.key, kind, round);
          continue;
        }
        try {
          parts.push(`${s.key} ${await measure(s.key, kind, p.a, s.t!.ip(1), s.t!.procs.map((x) => x.pid))}`);
        } catch (e) {
          note(`${s.label} ${kind}: ${(e as Error).message.split('\n')[0]}`);
          s.broken = true;
          padFailed(s.key, kind, round);
        }
      }
      if (VETH_KINDS.has(kind)) {
        try {
          parts.push(`veth ${await measure(veth.key, kind, p.a, p.addrB, [])}`);
        } catch (e) {
          note(`veth ${kind}: ${(e as Error).message}`);
          padFailed(veth.key, kind, round);
        }
      }
      note(`round ${round} ${kind}: ${parts.join(', ')}`);
    }
    for (const s of sys) if (s.t) put(s.key, 'rss', Math.max(...s.t.procs.map((x) => peakRssMiB(x.pid))));
    // The relay line: TCP 1 stream A->B through R; R's CPU per Gbit.
    if (ONLY && !ONLY.includes('relay')) continue;
    for (const s of rel) {
      if (!(await ready(s))) {
        put(s.key, 'relay', NaN);
        put(s.key, 'relay cpuR', NaN);
        continue;
      }
      try {
        const rPid = s.t!.procs[1].pid;
        const x = await iperf(line.a, s.t!.ip(2), { seconds: SECONDS, omit: 1, port: IPERF_PORT, watch: s.t!.procs.map((q) => q.pid) });
        put(s.key, 'relay', x.bps / 1e6);
        put(s.key, 'relay cpuR', cpuPerGbit(x, [rPid]));
        put(s.key, 'relay cpuAll', cpuPerGbit(x, s.t!.procs.map((q) => q.pid)));
        note(`round ${round} relay ${s.label}: ${(x.bps / 1e6).toFixed(0)} Mbit/s, R ${cpuPerGbit(x, [rPid]).toFixed(2)} core-s/Gbit`);
      } catch (e) {
        note(`${s.label} relay: ${(e as Error).message.split('\n')[0]}`);
        s.broken = true;
        put(s.key, 'relay', NaN);
        put(s.key, 'relay cpuR', NaN);
        put(s.key, 'relay cpuAll', NaN);
      }
    }
  }
  const loadEnd = loadavg();

  // ---- report ----
  const cols = [...sys.map((s) => ({ key: s.key, label: s.label })), veth];
  const pooled = (k: string, which: 'idle' | 'load', pct: number) => percentile(rtts.get(k)?.[which] ?? [], pct);
  const relayOf = (k: string) => med(k, 'relay');
  const rows: Row[] = [
    { label: 'TCP 1 stream A->B (Mbit/s)', metric: 'tcp1f', digits: 0, better: 'higher', veth: true },
    { label: 'TCP 1 stream B->A (Mbit/s)', metric: 'tcp1r', digits: 0, better: 'higher' },
    { label: 'TCP 8 streams A->B (Mbit/s)', metric: 'tcp8f', digits: 0, better: 'higher', veth: true },
    { label: 'TCP 8 streams B->A (Mbit/s)', metric: 'tcp8r', digits: 0, better: 'higher' },
    { label: 'UDP 64 B received (kpps)', metric: 'udp64', digits: 1, better: 'higher', veth: true },
    { label: 'UDP 1400 B IP received (kpps)', metric: 'udp1400', digits: 1, better: 'higher', veth: true },
    { label: 'ping idle avg (ms)', metric: 'pingIdleAvg', digits: 3, better: 'lower', veth: true },
    { label: 'ping idle p99 (ms, pooled)', metric: '', digits: 3, better: 'lower', veth: true, get: (k) => pooled(k, 'idle', 99) },
    { label: 'ping under TCP load avg (ms)', metric: 'pingLoadAvg', digits: 3, better: 'lower', veth: true },
    { label: 'ping under TCP load p99 (ms, pooled)', metric: '', digits: 3, better: 'lower', veth: true, get: (k) => pooled(k, 'load', 99) },
    { label: 'ping under TCP load lost (%)', metric: 'pingLoadLoss', digits: 1, better: 'lower', veth: true },
    { label: 'CPU core-s/Gbit, TCP 1 A->B', metric: 'tcp1f cpu', digits: 2, better: 'lower' },
    { label: 'CPU core-s/Gbit, TCP 1 B->A', metric: 'tcp1r cpu', digits: 2, better: 'lower' },
    { label: 'CPU core-s/Gbit, TCP 8 A->B', metric: 'tcp8f cpu', digits: 2, better: 'lower' },
    { label: 'peak RSS per process (MiB)', metric: 'rss', digits: 1, better: 'lower' },
    { label: 'relayed A->R->B TCP 1 (Mbit/s)', metric: 'relay', digits: 0, better: 'higher' },
    { label: 'relayed / direct TCP 1 A->B', metric: '', digits: 2, better: 'higher', get: (k) => relayOf(k) / med(k, 'tcp1f') },
    { label: "relay R's CPU core-s/Gbit", metric: 'relay cpuR', digits: 2, better: 'lower' },
  ];
  const cores = cpus().length;
  console.log(`Etherguard against other tunnels: 2 namespaces over one veth, ${ROUNDS} round(s) x ${SECONDS} s, systems interleaved (order rotated per round); medians of the rounds`);
  console.log(`${egWhat}; node ${process.version}; ${cores} CPU(s) ${cpus()[0]?.model ?? ''}; kernel ${version('uname', ['-r'])}; iperf3 ${version('iperf3', ['--version']).split(' ')[1] ?? '?'}`);
  console.log(`load average at start ${loadStart.map((x) => x.toFixed(2)).join(' ')}, at end ${loadEnd.map((x) => x.toFixed(2)).join(' ')} (other work on the machine adds noise to every figure)`);
  console.log(`etherguard TAP: ${egOffloads}; EG_OFFLOADS=${process.env.EG_OFFLOADS ?? '(unset: on)'}, EG_MAIN_POLL=${process.env.EG_MAIN_POLL ?? '(unset: on)'}`);
  console.log(`versions: wg-go current ${version(WG_CURRENT_BIN, ['--version'])} (TUN ${wgOffloads}); wg-go Debian ${version('/usr/bin/wireguard-go', ['--version'])}; ${version(BORINGTUN_BIN, ['--version'])}; ${version('tincd', ['--version'])}`);
  for (const s of [...sys, ...rel]) if (!s.t && s.missing) console.log(`not measured: ${s.label}: ${s.missing}`);
  console.log(`ratios in brackets: against wg-go current. "relayed": Etherguard via its relay edge, wg-go current via a routed wireguard hop; "direct" is the TCP 1 A->B row.`);
  console.log('');
  printTable(cols, rows);
  const per = (k: string, m: string, d = 0) => vals(k, m).map((v) => fmt(v, d)).join(' / ');
  console.log(`\nper round: TCP 1 A->B eg ${per('eg', 'tcp1f')}, wgcur ${per('wgcur', 'tcp1f')}; UDP 64 B kpps eg ${per('eg', 'udp64', 1)}, bt ${per('bt', 'udp64', 1)}, tinc ${per('tinc', 'udp64', 1)}; ping idle ms eg ${per('eg', 'pingIdleAvg', 3)}, wgcur ${per('wgcur', 'pingIdleAvg', 3)}; relayed eg ${per('eg', 'relay')}`);
  console.log(`extra: relay A+R+B CPU core-s/Gbit eg ${fmt(med('eg', 'relay cpuAll'), 2)}, wgcur ${fmt(med('wgcur', 'relay cpuAll'), 2)}`);

  // ---- goals ----
  console.log('\ngoals (issue "Data plane II"), from the medians above:');
  const goal = (name: string, ok: boolean | undefined, detail: string) => console.log(`  ${ok === undefined ? 'N/A ' : ok ? 'PASS' : 'FAIL'}  ${name}: ${detail}`);
  const tcpRatios = ['tcp1f', 'tcp1r', 'tcp8f', 'tcp8r'].map((m) => [m, med('eg', m) / med('wgcur', m)] as const);
  const worst = Math.min(...tcpRatios.map(([, r]) => r));
  goal('TCP >= 1.0x wg-go current', Number.isFinite(worst) ? worst >= 1 : undefined, `${tcpRatios.map(([m, r]) => `${m} ${fmt(r, 2)}x`).join(', ')} (all four must hold)`);
  const rivals = Math.max(...['bt', 'tinc'].map((k) => med(k, 'udp64')).filter(Number.isFinite));
  const eg64 = med('eg', 'udp64');
  goal(
    '64-byte pps >= 1.5x the better of boringtun and tinc',
    Number.isFinite(eg64) && Number.isFinite(rivals) ? eg64 >= 1.5 * rivals : undefined,
    `etherguard ${fmt(eg64, 1)} kpps, boringtun ${fmt(med('bt', 'udp64'), 1)}, tinc ${fmt(med('tinc', 'udp64'), 1)}: ${fmt(eg64 / rivals, 2)}x of the better`,
  );
  const pr = med('eg', 'pingIdleAvg') / med('wgcur', 'pingIdleAvg');
  goal('idle ping <= 1.0x wg-go current', Number.isFinite(pr) ? pr <= 1 : undefined, `${fmt(med('eg', 'pingIdleAvg'), 3)} ms vs ${fmt(med('wgcur', 'pingIdleAvg'), 3)} ms: ${fmt(pr, 2)}x`);
  const rr = relayOf('eg') / med('eg', 'tcp1f');
  goal('relayed >= 0.8x direct (etherguard)', Number.isFinite(rr) ? rr >= 0.8 : undefined, `${fmt(relayOf('eg'), 0)} vs ${fmt(med('eg', 'tcp1f'), 0)} Mbit/s: ${fmt(rr, 2)}x (3 edges + iperf3 share the cores when relayed)`);
}

main()
  .catch((e) => {
    console.error(`compare failed: ${(e as Error).stack ?? e}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await Promise.all([...tunnels].map((t) => t.stop()));
    cleanupSync();
    note('torn down');
  });
