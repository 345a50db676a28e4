// Helpers for benchmarks that run real processes in network namespaces: a veth pair between two
// namespaces, processes started inside them (tracked by pid, always stopped), iperf3 / ping runs
// with their output parsed, CPU time of processes from /proc, and a self-time summary of a V8
// .cpuprofile. Namespaces come from test/helpers/netns.ts (unique names, deleted on exit too).
import { ChildProcess, spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { netnsAdd, netnsDel, sh } from '../../test/helpers/netns.js';

export { sh };

export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

// ---- namespaces -------------------------------------------------------------------------------

export interface Pair {
  a: string;
  b: string;
  addrA: string;
  addrB: string;
  teardown(): void;
}

/** Two namespaces joined by one veth pair, addressed 10.<net>.0.1/24 and 10.<net>.0.2/24. */
export function vethPair(net = 201): Pair {
  const a = netnsAdd('egbA');
  const b = netnsAdd('egbB');
  const tag = (process.pid % 10000).toString();
  const va = `egbva${tag}`;
  const vb = `egbvb${tag}`;
  try {
    sh('ip', ['link', 'add', va, 'type', 'veth', 'peer', 'name', vb]);
    sh('ip', ['link', 'set', va, 'netns', a]);
    sh('ip', ['link', 'set', vb, 'netns', b]);
    for (const [ns, dev, ip] of [
      [a, va, `10.${net}.0.1`],
      [b, vb, `10.${net}.0.2`],
    ]) {
      sh('ip', ['-n', ns, 'link', 'set', dev, 'name', 'veth0']);
      sh('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'veth0']);
      sh('ip', ['-n', ns, 'link', 'set', 'veth0', 'up']);
    }
  } catch (e) {
    netnsDel(a);
    netnsDel(b);
    throw e;
  }
  return {
    a,
    b,
    addrA: `10.${net}.0.1`,
    addrB: `10.${net}.0.2`,
    teardown() {
      netnsDel(a);
      netnsDel(b);
    },
  };
}

// ---- processes --------------------------------------------------------------------------------

export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  out: string[];
  exited: Promise<number | null>;
}

const live = new Set<Proc>();

/**
 * Starts `cmd args` inside namespace `ns`. `ip netns exec` execs the command in place, so the
 * child's pid is the command's own (what /proc accounting and signals need).
 */
export function startIn(name: string, ns: string, cmd: string, args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const out: string[] = [];
  let partial = '';
  const onData = (d: Buffer) => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    out.push(...lines);
    if (out.length > 2000) out.splice(0, out.length - 2000);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((res) => child.on('exit', (c, sig) => res(c ?? (sig ? 128 : null))));
  const p: Proc = { name, child, pid: child.pid ?? -1, out, exited };
  live.add(p);
  void exited.then(() => live.delete(p));
  return p;
}

/** SIGTERM, wait up to `ms`, then SIGKILL. Resolves with the exit code (null if killed hard). */
export async function stop(p: Proc, ms = 3000): Promise<number | null> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.exited;
  p.child.kill('SIGTERM');
  const code = await Promise.race([p.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))]);
  if (code === 'timeout') {
    p.child.kill('SIGKILL');
    await p.exited;
    return null;
  }
  return code;
}

/** Last-resort cleanup (signal handlers, exit): SIGKILL every process still running. */
export function killAllLive(): void {
  for (const p of live) {
    try {
      p.child.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
}

export function runIn(ns: string, cmd: string, args: string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

export async function waitUntil(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** True once a single ping from `ns` to `ip` is answered (retries inside the deadline). */
export async function waitPing(ns: string, ip: string, ms: number): Promise<void> {
  await waitUntil(async () => (await runIn(ns, 'ping', ['-c', '1', '-W', '1', ip], 3000)).code === 0, ms, `ping ${ip} from ${ns}`);
}

// ---- CPU accounting ---------------------------------------------------------------------------

/** utime+stime of a process (all its threads), in seconds; NaN if it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ", field 3 (state) is f[0]; utime is field 14 -> f[11], stime f[12].
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** CPU seconds per thread name (threads of the same name summed), e.g. node main vs libuv pool. */
export function threadCpu(pid: number): Map<string, number> {
  const m = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return m;
  }
  for (const tid of tids) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      const name = tid === String(pid) ? 'main' : comm;
      m.set(name, (m.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) / CLK_TCK);
    } catch {
      /* thread ended */
    }
  }
  return m;
}

export function diffThreads(a: Map<string, number>, b: Map<string, number>): Map<string, number> {
  const d = new Map<string, number>();
  for (const [k, v] of b) d.set(k, v - (a.get(k) ?? 0));
  return d;
}

/** Busy and total jiffies of the whole machine (all cores), from /proc/stat. */
export function systemJiffies(): { busy: number; total: number } {
  const l = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = l.reduce((a, b) => a + b, 0);
  const idle = l[3] + (l[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/**
 * Drop counters of a namespace: UDP receive-buffer / send-buffer errors (/proc/net/snmp seen from
 * inside the namespace) and the tx/rx drops of the given devices (a TAP/TUN device's tx_dropped
 * counts frames the kernel could not queue to the userspace reader).
 */
export async function dropCounters(ns: string, devs: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const snmp = (await runIn(ns, 'cat', ['/proc/net/snmp'], 5000)).stdout.split('\n').filter((l) => l.startsWith('Udp:'));
  if (snmp.length >= 2) {
    const k = snmp[0].split(/\s+/);
    const v = snmp[1].split(/\s+/);
    for (const f of ['RcvbufErrors', 'SndbufErrors', 'InErrors']) {
      const i = k.indexOf(f);
      if (i > 0) out[`udp ${f}`] = Number(v[i]);
    }
  }
  for (const d of devs) {
    const r = await runIn(ns, 'ip', ['-s', '-j', 'link', 'show', 'dev', d], 5000);
    try {
      const j = JSON.parse(r.stdout) as { stats64?: { rx: { dropped: number }; tx: { dropped: number } } }[];
      const s = j[0]?.stats64;
      if (s) {
        out[`${d} tx_dropped`] = s.tx.dropped;
        out[`${d} rx_dropped`] = s.rx.dropped;
      }
    } catch {
      /* device gone */
    }
  }
  return out;
}

export function diffCounters(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const d: Record<string, number> = {};
  for (const k of Object.keys(b)) d[k] = b[k] - (a[k] ?? 0);
  return d;
}

// ---- iperf3 / ping ----------------------------------------------------------------------------

export interface IperfResult {
  /** Receiver-side goodput, bit/s. */
  bps: number;
  retransmits: number;
  seconds: number;
  /** Wall seconds of the whole iperf3 client run (the CPU sampling window). */
  wall: number;
  /** CPU of each edge (pid -> % of one core) over the run. */
  cpu: Map<number, number>;
  threads: Map<number, Map<string, number>>;
  /** Whole-machine CPU busy over the run, % of all cores. */
  systemBusyPct: number;
  /** Counter deltas from `probe` over the run. */
  counters: Record<string, number>;
  /** UDP runs: datagrams that reached the receiver per second (sent minus lost), else NaN. */
  rxPps: number;
}

/**
 * One iperf3 client run from `ns` to `server`, with the CPU of the `watch` pids sampled over it.
 * TCP by default (`parallel` streams, `-P`); with `udp` an unlimited-rate (`-b 0`) UDP run of
 * `udp.len`-byte payloads, where `rxPps` counts what the receiver got: with -b 0 the sender
 * outruns any tunnel on 2 cores, so packets *received* per second is the comparable figure.
 */
export async function iperf(
  ns: string,
  server: string,
  o: { seconds: number; omit?: number; reverse?: boolean; port?: number; parallel?: number; udp?: { len: number }; watch?: number[]; probe?: () => Promise<Record<string, number>> },
): Promise<IperfResult> {
  const args = ['-c', server, '-t', String(o.seconds), '-J', '-p', String(o.port ?? 5201)];
  if (o.omit) args.push('-O', String(o.omit));
  if (o.reverse) args.push('-R');
  if (o.parallel && o.parallel > 1) args.push('-P', String(o.parallel));
  if (o.udp) args.push('-u', '-b', '0', '-l', String(o.udp.len));
  const watch = o.watch ?? [];
  let before: number[], c0: Record<string, number>, beforeT: Map<string, number>[], sys0: { busy: number; total: number }, t0: number;
  let r: { code: number | null; stdout: string; stderr: string };
  // iperf3's server closes and re-opens its listener between tests, so a run straight after
  // another can be refused or find it busy; that is not the tunnel failing: retry, sampling anew.
  for (let attempt = 0; ; attempt++) {
    before = watch.map(cpuSeconds);
    c0 = o.probe ? await o.probe() : {};
    beforeT = watch.map(threadCpu);
    sys0 = systemJiffies();
    t0 = performance.now();
    r = await runIn(ns, 'iperf3', args, (o.seconds + (o.omit ?? 0) + 15) * 1000);
    if (attempt >= 3 || !/Connection refused|server is busy/.test(r.stdout)) break;
    await new Promise((res) => setTimeout(res, 300));
  }
  const wall = (performance.now() - t0) / 1000;
  const sys1 = systemJiffies();
  const systemBusyPct = ((sys1.busy - sys0.busy) / (sys1.total - sys0.total)) * 100;
  const cpu = new Map<number, number>();
  const threads = new Map<number, Map<string, number>>();
  watch.forEach((pid, i) => {
    cpu.set(pid, ((cpuSeconds(pid) - before[i]) / wall) * 100);
    threads.set(pid, diffThreads(beforeT[i], threadCpu(pid)));
  });
  const counters = o.probe ? diffCounters(c0, await o.probe()) : {};
  let j: IperfJson;
  try {
    j = JSON.parse(r.stdout);
  } catch {
    throw new Error(`iperf3 ${args.join(' ')} in ${ns}: no JSON (exit ${r.code}): ${r.stderr.trim() || r.stdout.slice(0, 300)}`);
  }
  return { ...iperfFigures(j, !!o.udp, args.join(' ')), wall, cpu, threads, systemBusyPct, counters };
}

/** The parts of `iperf3 -J` client output the benchmarks read. */
export interface IperfJson {
  error?: string;
  end?: { sum_received?: { bits_per_second: number; seconds: number; packets?: number; lost_packets?: number }; sum_sent?: { retransmits?: number } };
}

/**
 * Receiver-side figures of one `iperf3 -J` client run. For UDP, iperf3 3.12's sum_received.packets
 * is what the receiver expected (highest sequence number seen) and lost_packets the gaps, so the
 * datagrams that arrived are packets - lost (= bytes / length). Throws on an iperf3 error.
 */
export function iperfFigures(j: IperfJson, udp: boolean, what = 'iperf3'): { bps: number; seconds: number; retransmits: number; rxPps: number } {
  const rcv = j.end?.sum_received;
  if (j.error || !rcv) throw new Error(`${what}: ${j.error ?? 'no result'}`);
  const rxPps = udp && rcv.packets !== undefined ? (rcv.packets - (rcv.lost_packets ?? 0)) / rcv.seconds : NaN;
  return { bps: rcv.bits_per_second, seconds: rcv.seconds, retransmits: j.end?.sum_sent?.retransmits ?? 0, rxPps };
}

export interface PingResult {
  avgMs: number;
  mdevMs: number;
  minMs: number;
  maxMs: number;
  loss: number;
}

export async function ping(ns: string, ip: string, count = 50, interval = 0.01): Promise<PingResult> {
  const r = await runIn(ns, 'ping', ['-c', String(count), '-i', String(interval), '-q', '-W', '1', ip], 30_000);
  const m = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(r.stdout);
  const l = /([\d.]+)% packet loss/.exec(r.stdout);
  if (!m) throw new Error(`ping ${ip} from ${ns}: ${r.stdout.trim()} ${r.stderr.trim()}`);
  return { minMs: Number(m[1]), avgMs: Number(m[2]), maxMs: Number(m[3]), mdevMs: Number(m[4]), loss: l ? Number(l[1]) : NaN };
}

export interface PingSamples {
  /** Round-trip times of the answered echo requests, ms, in order. */
  rtts: number[];
  sent: number;
}

/**
 * `ping -i interval` from `ns` to `ip` for `count` requests or `deadlineS` seconds, whichever comes
 * first, keeping every RTT (for percentiles; `ping`'s own summary has only min/avg/max/mdev).
 */
export async function pingSamples(ns: string, ip: string, o: { count: number; interval: number; deadlineS?: number }): Promise<PingSamples> {
  const args = ['-n', '-c', String(o.count), '-i', String(o.interval), '-W', '1', ip];
  if (o.deadlineS) args.push('-w', String(o.deadlineS));
  const r = await runIn(ns, 'ping', args, ((o.deadlineS ?? o.count * o.interval) + 10) * 1000);
  const rtts = [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
  const sent = Number(/(\d+) packets transmitted/.exec(r.stdout)?.[1] ?? NaN);
  if (!rtts.length) throw new Error(`ping ${ip} from ${ns}: no reply: ${r.stdout.slice(-300).trim()} ${r.stderr.trim()}`);
  return { rtts, sent };
}

/** The p-th percentile (0..100) of `xs`, nearest-rank; NaN for none. */
export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** Median of the finite values of `xs`; NaN for none. */
export function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// ---- CPU profiles -----------------------------------------------------------------------------

interface ProfNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileRow {
  name: string;
  where: string;
  selfMs: number;
  selfPct: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Share of the main thread that was not idle. */
  busyPct: number;
  top: ProfileRow[];
  /** Inclusive (self + callees) time of selected functions, by name. */
  inclusive: Map<string, number>;
  /** Self time by coarse category (wasm, gc, dgram, js, ...). */
  categories: Map<string, number>;
}

function frameLabel(n: ProfNode): { name: string; where: string } {
  const cf = n.callFrame;
  const name = cf.functionName || '(anonymous)';
  let where = cf.url;
  if (where.startsWith('file://')) where = where.slice(7);
  const i = where.indexOf('/dist/');
  if (i >= 0) where = where.slice(i + 1);
  else if (where.startsWith('node:')) {
    /* keep */
  } else if (where.startsWith('wasm://')) where = 'wasm';
  if (where && cf.lineNumber >= 0 && !where.startsWith('wasm')) where += `:${cf.lineNumber + 1}`;
  return { name, where };
}

function category(n: ProfNode): string {
  const { functionName: f, url } = n.callFrame;
  if (f === '(garbage collector)') return 'gc';
  if (f === '(idle)') return 'idle';
  if (f === '(program)') return 'program (native, outside JS)';
  if (url.startsWith('wasm://') || url.includes('wasm')) return 'wasm (seal/open, core)';
  if (url.startsWith('node:dgram') || url.includes('internal/dgram')) return 'node:dgram';
  if (url.startsWith('node:') || url.startsWith('internal')) return 'node internals';
  if (url.includes('/itype/') || url.includes('/native/')) return 'itype (tap)';
  if (url.includes('/core/')) return 'ts/core (wasm glue)';
  if (url.includes('/edge/')) return 'ts/edge';
  if (!url) return `native: ${f}`;
  return 'other js';
}

export function summariseProfile(file: string, inclusiveOf: string[], topN = 25): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  const totalMs = (p.endTime - p.startTime) / 1000;
  const agg = new Map<string, ProfileRow>();
  const categories = new Map<string, number>();
  let idle = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    const { name, where } = frameLabel(n);
    if (name === '(idle)') idle += ms;
    const k = `${name}\u0000${where}`;
    const row = agg.get(k) ?? { name, where, selfMs: 0, selfPct: 0 };
    row.selfMs += ms;
    agg.set(k, row);
    const c = category(n);
    categories.set(c, (categories.get(c) ?? 0) + ms);
  }
  for (const r of agg.values()) r.selfPct = (r.selfMs / totalMs) * 100;
  const top = [...agg.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, topN);
  // Inclusive time: the subtree total under each node whose function name matches, not counting
  // a recursive match inside another match twice.
  const inclusive = new Map<string, number>(inclusiveOf.map((f) => [f, 0]));
  const subtree = (id: number): number => {
    const n = byId.get(id)!;
    let t = self.get(id) ?? 0;
    for (const c of n.children ?? []) t += subtree(c);
    return t;
  };
  const walk = (id: number, inside: Set<string>) => {
    const n = byId.get(id)!;
    const f = n.callFrame.functionName;
    let next = inside;
    if (inclusive.has(f) && !inside.has(f)) {
      inclusive.set(f, inclusive.get(f)! + subtree(id));
      next = new Set(inside).add(f);
    }
    for (const c of n.children ?? []) walk(c, next);
  };
  const root = p.nodes[0].id;
  walk(root, new Set());
  return { totalMs, busyPct: ((totalMs - idle) / totalMs) * 100, top, inclusive, categories };
}

export function findProfile(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const f = readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'));
  return f.length ? `${dir}/${f.sort().at(-1)}` : undefined;
}

/** Prints a text table: `head` and `rows` of cells, the first column left-aligned, the rest right-aligned. */
export function printTable(head: string[], rows: string[][]): void {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(w[i]) : x.padStart(w[i]))).join(' | ');
  console.log(line(head));
  console.log(w.map((n) => '-'.repeat(n)).join('-|-'));
  for (const r of rows) console.log(line(r));
}

/**
 * The scratch state of a bench over a veth pair: `note` (stderr lines stamped with seconds since
 * start, `decimals` places), a temp directory `tmp` (named from `prefix`), `dirs` for the config
 * directories the systems create, and `cleanup`, which stops every process started here, tears
 * down the pair `pair()` returns, and removes the directories. Hand `cleanup` to guardTeardown.
 */
export function benchScratch(prefix: string, pair: () => Pair | undefined, decimals = 0) {
  const t0 = performance.now();
  const note = (m: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(decimals)} s] ${m}\n`);
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  const dirs: string[] = [];
  const cleanup = () => {
    killAllLive();
    pair()?.teardown();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  };
  return { note, tmp, dirs, cleanup };
}

/**
 * Benchmarks must leave nothing behind: runs `cleanup` on SIGINT/SIGTERM/SIGHUP, on exit, and
 * when the time limit passes (then exits 2).
 */
export function guardTeardown(cleanup: () => void, limitMs: number, note: (m: string) => void): NodeJS.Timeout {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      note(`${sig}: tearing down`);
      cleanup();
      process.exit(130);
    });
  }
  process.on('exit', cleanup);
  const deadline = setTimeout(() => {
    note(`time limit (${limitMs / 1000} s) reached: tearing down`);
    cleanup();
    process.exit(2);
  }, limitMs);
  deadline.unref();
  return deadline;
}
