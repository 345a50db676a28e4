// One-way delay, loss and link cuts on chosen DIRECTED links between network namespaces, for a
// kernel without netem. A rule in the sender namespace's OUTPUT chain sends the matching packets
// to NFQUEUE queue Q, and tools/egdelay (started in that namespace) holds each one for the delay
// and then accepts it. Only that direction is affected: the reply path leaves from the other
// namespace and never meets the rule. See docs/testing-delay.md.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EGDELAY = join(ROOT, 'tools', 'egdelay', 'build', 'egdelay');

let built = false;
/** Builds tools/egdelay if needed (fast when up to date) and returns the binary's path. */
export function ensureEgdelay(): string {
  if (!built) {
    execFileSync('bash', [join(ROOT, 'tools', 'egdelay', 'build.sh')], { stdio: ['ignore', 'ignore', 'pipe'] });
    built = true;
  }
  if (!existsSync(EGDELAY)) throw new Error(`${EGDELAY} missing: run bash tools/egdelay/build.sh`);
  return EGDELAY;
}

export type Proto = 'udp' | 'tcp' | 'icmp' | 'all';

export type Chain = 'OUTPUT' | 'INPUT' | 'FORWARD' | 'PREROUTING' | 'POSTROUTING';

export interface Match {
  /**
   * Namespace the rule and egdelay live in: the SENDER of the directed link with chain OUTPUT
   * (default), the RECEIVER with chain INPUT, a router in between with FORWARD.
   */
  netns: string;
  /**
   * OUTPUT (default) delays what `netns` sends. Held packets still count against the sending
   * socket's buffer (and TCP small queues), which caps throughput near sndbuf/delay; for bulk
   * traffic delay on the receiver instead: chain 'INPUT' in the receiving namespace with srcIp.
   * PREROUTING/POSTROUTING use the mangle table.
   */
  chain?: Chain;
  outIface?: string;
  inIface?: string;
  dstIp?: string;
  srcIp?: string;
  proto?: Proto;
  /** Destination port; needs proto 'udp' or 'tcp'. */
  dport?: number;
  sport?: number;
}

export interface DelayOpts extends Match {
  delayMs: number;
  /** Uniform jitter in [-jitterMs, +jitterMs]; packet order is preserved anyway. */
  jitterMs?: number;
  /** Percent of matched packets dropped at random (0-100). */
  lossPct?: number;
  seed?: number;
  /** Run egdelay SCHED_FIFO so releases stay on time on a loaded machine (default true). */
  realtime?: boolean;
  /** NFQUEUE number; unique per namespace among the delays that are active at once. */
  queueNum: number;
}

export interface DelayHandle {
  readonly queueNum: number;
  readonly pid: number;
  /**
   * Removes the rule, then stops egdelay (which accepts what it still holds and exits 0).
   * Idempotent. Resolves with egdelay's exit code and its final counters line.
   */
  remove(): Promise<{ code: number | null; stats: string }>;
}

export interface CutHandle {
  /** Deletes the DROP rule(s). Idempotent. */
  restore(): void;
}

const live = new Set<{ cleanup: () => void }>();
let exitHooked = false;
function track(entry: { cleanup: () => void }): void {
  live.add(entry);
  if (!exitHooked) {
    exitHooked = true;
    // Last resort when a test dies without calling remove(): no rule or process outlives us.
    process.on('exit', () => {
      for (const e of live) {
        try {
          e.cleanup();
        } catch {
          /* namespace already gone */
        }
      }
    });
  }
}

function iptables(netns: string, args: string[]): void {
  execFileSync('ip', ['netns', 'exec', netns, 'iptables', '-w', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** ['-t', T, CHAIN, ...spec] -> ['-t', T, '-D', CHAIN, ...spec] */
function del(rule: string[]): string[] {
  return [rule[0], rule[1], '-D', ...rule.slice(2)];
}

function matchArgs(m: Match): string[] {
  const a: string[] = [];
  const proto = m.proto ?? 'all';
  if (proto !== 'all') a.push('-p', proto);
  if (m.srcIp) a.push('-s', m.srcIp);
  if (m.dstIp) a.push('-d', m.dstIp);
  if (m.outIface) a.push('-o', m.outIface);
  if (m.inIface) a.push('-i', m.inIface);
  if (m.dport !== undefined || m.sport !== undefined) {
    if (proto !== 'udp' && proto !== 'tcp') throw new Error('dport/sport need proto udp or tcp');
    if (m.sport !== undefined) a.push('--sport', String(m.sport));
    if (m.dport !== undefined) a.push('--dport', String(m.dport));
  }
  return a;
}

/**
 * Delays (and optionally drops some of) the packets `netns` sends that match, in that direction
 * only. Resolves once egdelay has bound its queue and the rule is in place.
 */
export async function addDelay(o: DelayOpts): Promise<DelayHandle> {
  const bin = ensureEgdelay();
  const chain = o.chain ?? 'OUTPUT';
  const table = chain === 'PREROUTING' || chain === 'POSTROUTING' ? 'mangle' : 'filter';
  const rule = [
    '-t',
    table,
    chain,
    ...matchArgs(o),
    '-m',
    'comment',
    '--comment',
    `egdelay-q${o.queueNum}`,
    '-j',
    'NFQUEUE',
    '--queue-num',
    String(o.queueNum),
  ];
  const args = ['--queue', String(o.queueNum), '--delay-ms', String(o.delayMs)];
  if (o.jitterMs) args.push('--jitter-ms', String(o.jitterMs));
  if (o.lossPct) args.push('--loss', String(o.lossPct));
  if (o.seed !== undefined) args.push('--seed', String(o.seed));
  if (o.realtime ?? true) args.push('--rt');

  // `ip netns exec` execs egdelay in place, so child.pid is egdelay's own pid.
  const child: ChildProcess = spawn('ip', ['netns', 'exec', o.netns, bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((res) => child.once('close', (code) => res(code)));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onExit = (code: number | null) => fail(new Error(`egdelay exited with ${code}`));
    const done = () => {
      clearTimeout(t);
      child.removeListener('exit', onExit);
      child.removeListener('error', fail);
      child.stdout!.removeListener('data', onData);
    };
    const fail = (e: Error) => {
      done();
      child.kill('SIGKILL');
      reject(new Error(`${e.message}: ${stderr.trim()}`));
    };
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('egdelay: ready')) {
        done();
        resolve();
      }
    };
    const t = setTimeout(() => fail(new Error('egdelay did not become ready within 5 s')), 5000);
    child.once('error', fail);
    child.once('exit', onExit);
    child.stdout!.on('data', onData);
  });
  child.stdout!.resume();

  let ruleIn = false;
  const entry = {
    cleanup: () => {
      if (ruleIn) {
        ruleIn = false;
        try {
          iptables(o.netns, del(rule));
        } catch {
          /* namespace gone */
        }
      }
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
  track(entry);
  try {
    iptables(o.netns, ['-t', table, '-A', ...rule.slice(2)]);
    ruleIn = true;
  } catch (e) {
    entry.cleanup();
    live.delete(entry);
    throw e;
  }

  let removed: Promise<{ code: number | null; stats: string }> | undefined;
  return {
    queueNum: o.queueNum,
    pid: child.pid!,
    remove() {
      removed ??= (async () => {
        // Rule first, so nothing new is queued; then egdelay lets go of what it holds and exits.
        if (ruleIn) {
          ruleIn = false;
          try {
            iptables(o.netns, del(rule));
          } catch {
            /* namespace gone */
          }
        }
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 2000);
        const code = await exited;
        clearTimeout(t);
        live.delete(entry);
        return { code, stats: stderr.trim().split('\n').pop() ?? '' };
      })();
      return removed;
    },
  };
}

/**
 * Drops everything `netns` sends to `dstIp` (a link failure in that direction); with
 * `both: true` also what it receives from `dstIp`. Inserted first in the chain, so it wins over
 * delays.
 */
export function cutLink(o: { netns: string; dstIp: string; both?: boolean }): CutHandle {
  const rules: string[][] = [['OUTPUT', '-d', o.dstIp, '-m', 'comment', '--comment', 'egdelay-cut', '-j', 'DROP']];
  if (o.both) rules.push(['INPUT', '-s', o.dstIp, '-m', 'comment', '--comment', 'egdelay-cut', '-j', 'DROP']);
  const inserted: string[][] = [];
  const entry = {
    cleanup: () => {
      while (inserted.length) {
        const r = inserted.pop()!;
        try {
          iptables(o.netns, ['-D', ...r]);
        } catch {
          /* namespace gone */
        }
      }
    },
  };
  track(entry);
  try {
    for (const r of rules) {
      iptables(o.netns, ['-I', r[0], '1', ...r.slice(1)]);
      inserted.push(r);
    }
  } catch (e) {
    entry.cleanup();
    live.delete(entry);
    throw e;
  }
  return {
    restore(): void {
      entry.cleanup();
      live.delete(entry);
    },
  };
}

/** tools/egdelay/build/egprobe: kernel-timestamped one-way probes (docs/testing-delay.md). */
export const EGPROBE = join(ROOT, 'tools', 'egdelay', 'build', 'egprobe');

/**
 * One-way delays (ms) of `count` UDP probes from namespace `fromNs` to `toIp`:`port` in `toNs`,
 * `intervalMs` apart, from the kernel's software TX timestamp (sender's device) and RX timestamp
 * (receiver's stack), both CLOCK_REALTIME of the one kernel: the ground truth of the path between
 * the two devices, with nothing of user space in it. Lost probes are left out. `fromNs`/`toNs`
 * undefined = the current namespace.
 */
export async function probeOneWay(o: { fromNs?: string; toNs?: string; toIp: string; port: number; count: number; intervalMs: number; size?: number }): Promise<number[]> {
  ensureEgdelay();
  const inNs = (ns: string | undefined, argv: string[]): [string, string[]] => (ns ? ['ip', ['netns', 'exec', ns, ...argv]] : [argv[0], argv.slice(1)]);
  const [rc, ra] = inNs(o.toNs, [EGPROBE, 'recv', '--port', String(o.port), '--count', String(o.count), '--timeout-ms', String(Math.max(2000, o.intervalMs * 4 + 1000))]);
  const rx = spawn(rc, ra, { stdio: ['ignore', 'pipe', 'pipe'] });
  let rxOut = '';
  let rxErr = '';
  rx.stderr!.on('data', (d: Buffer) => (rxErr += d.toString()));
  await new Promise<void>((res, rej) => {
    rx.stdout!.on('data', (d: Buffer) => {
      rxOut += d.toString();
      if (rxOut.includes('egprobe: ready')) res();
    });
    rx.once('exit', (c) => rej(new Error(`egprobe recv exited ${c}: ${rxErr}`)));
  });
  const [sc, sa] = inNs(o.fromNs, [EGPROBE, 'send', '--to', o.toIp, '--port', String(o.port), '--count', String(o.count), '--interval-ms', String(o.intervalMs), '--size', String(o.size ?? 64)]);
  const txOut = execFileSync(sc, sa, { encoding: 'utf8', maxBuffer: 64 << 20 });
  await new Promise<void>((res) => {
    if (rx.exitCode !== null) return res();
    rx.once('exit', () => res());
    setTimeout(() => rx.kill('SIGTERM'), o.intervalMs * 2 + 3000).unref();
  });
  const tx = new Map<string, bigint>();
  for (const l of txOut.split('\n')) {
    const m = /^tx (\d+) (\d+)$/.exec(l);
    if (m && m[2] !== '0') tx.set(m[1], BigInt(m[2]));
  }
  const out: number[] = [];
  for (const l of rxOut.split('\n')) {
    const m = /^rx (\d+) (\d+)$/.exec(l);
    const t = m ? tx.get(m[1]) : undefined;
    if (m && t !== undefined && m[2] !== '0') out.push(Number(BigInt(m[2]) - t) / 1e6);
  }
  return out;
}
