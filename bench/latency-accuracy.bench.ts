// One-way latency accuracy of super mode (issue 11, parts 1–2; docs/routing.md §Wire timestamps):
// a supernode and 4 edges (TAP interfaces), each in its own network namespace on a bridge
// (bench/lib/super.ts), with egdelay delay lines on the bridge itself (the hub's FORWARD chain,
// bridged IPv4 through iptables), i.e. between the sender's and the receiver's kernel timestamps.
//
//   truth     per directed link, the median one-way time of kernel-timestamped probes (egprobe:
//             software TX stamp at the sender's device, RX stamp at the receiver's stack) sent
//             over the same delay line during the same phase
//   measured  the supernode's Edges[src][dst] (the edges' filtered one-way values; every
//             namespace shares the kernel's clock, so there is no clock offset to remove),
//             median of one reading per second over the phase
//   old way   what the previous measurement (JS send time to JS handling time) would have read:
//             the same raw samples plus the receiver's processing delay (procMs in the edges'
//             'ping measured' log), through the same filter
//
// Phases: idle (after the latencies settled), then loaded: an iperf3 TCP flow over the VPN from
// node 1 to node 2 (both busy encrypting/decrypting; link 1↔2 has no delay line), while every
// other link is measured. Goals: |measured − truth| ≤ 0.3 ms idle, ≤ 1 ms loaded.
//
// Needs root, iptables with NFQUEUE, iperf3, tools/egdelay (built on demand) and a built dist/.
// Run: bash scripts/bench.sh bench/latency-accuracy.bench.ts
// Env: BENCH_PHASE_S (seconds per phase, default 20), BENCH_RECORD=path: also write the loaded
// phase's raw and old-way sample sequences per link as JSON (test fixtures of the spike filter).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { SpikeFilter } from '../ts/core/filter.js';
import { addDelay, DelayHandle, ensureEgdelay, probeOneWay } from '../test/helpers/delay.js';
import { jsonLines } from '../test/helpers/mesh.js';
import { isRoot, sh } from '../test/helpers/netns.js';
import { guardTeardown } from './lib/netbench.js';
import { buildSuperMesh, fullTable, type SuperMesh, type Timing } from './lib/super.js';

const NET = 94;
const PHASE_S = Number(process.env.BENCH_PHASE_S ?? 20);
const RADIUS = 4;
const TIMING: Timing = { SendPingInterval: 1, HttpPostInterval: 3, PeerAliveTimeout: 10, DampingFilterRadius: RADIUS, RecalculateCoolDown: 1, TimeoutCheckInterval: 1, JitterTolerance: 20, JitterToleranceMultiplier: 1.01 };
/** Injected one-way delays (ms) on the bridge; 1↔2 carries the iperf3 flow and has none. */
const DELAYS: Array<[number, number, number]> = [
  [1, 3, 1.0], [3, 1, 0.4], [1, 4, 2.0], [4, 1, 0.7], [2, 3, 1.5], [3, 2, 0.3], [2, 4, 0.6], [4, 2, 2.5], [3, 4, 0.2], [4, 3, 1.2],
];
const LINKS: Array<[number, number]> = [];
for (const a of [1, 2, 3, 4]) for (const b of [1, 2, 3, 4]) if (a !== b) LINKS.push([a, b]);
const tapIp = (id: number) => `192.168.${NET}.${id}`;
const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[xs.length >> 1] : NaN);
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '  -  ');
const note = (m: string) => console.error(`[latency-accuracy] ${m}`);

interface Phase {
  truth: Map<string, number>;
  measured: Map<string, number>;
  oldWay: Map<string, number>;
  procMs: Map<number, number>;
  raw: Map<string, { measured: number[]; oldWay: number[] }>;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Ping samples logged by each edge since line `from[id]`: link "src>dst" → [measured s, procMs]. */
function pingSamples(m: SuperMesh, from: Map<number, number>): Map<string, Array<[number, number]>> {
  const out = new Map<string, Array<[number, number]>>();
  for (const [id, p] of m.edges) {
    const lines = jsonLines({ ...p, out: p.out.slice(from.get(id) ?? 0) });
    for (const l of lines) {
      if (l.msg !== 'ping measured') continue;
      const key = `${l.from}>${id}`;
      if (!out.has(key)) out.set(key, []);
      // The edges log the raw sample as measuredS (s); older builds called it measured.
      out.get(key)!.push([Number(l.measuredS ?? l.measured), Number(l.procMs)]);
    }
  }
  return out;
}

async function phase(m: SuperMesh, name: string): Promise<Phase> {
  note(`${name}: measuring for ${PHASE_S} s`);
  const mark = new Map([...m.edges].map(([id, p]) => [id, p.out.length]));
  const reads = new Map<string, number[]>();
  const end = Date.now() + PHASE_S * 1000;
  // Probes over every directed link, one link after the other, during the phase.
  const truth = new Map<string, number>();
  const probing = (async () => {
    let port = 47400;
    for (const [a, b] of LINKS) {
      const d = await probeOneWay({ fromNs: m.ns(a), toNs: m.ns(b), toIp: m.addr(b), port: port++, count: 40, intervalMs: 5 });
      truth.set(`${a}>${b}`, median(d));
    }
  })();
  while (Date.now() < end) {
    const s = await m.state();
    if (s) for (const [a, b] of LINKS) {
      const v = s.Edges[a]?.[b];
      if (v !== undefined && v < s.Infinity) {
        const k = `${a}>${b}`;
        if (!reads.has(k)) reads.set(k, []);
        reads.get(k)!.push(v * 1000);
      }
    }
    await sleep(1000);
  }
  await probing;
  const samples = pingSamples(m, mark);
  const measured = new Map<string, number>();
  const oldWay = new Map<string, number>();
  const raw = new Map<string, { measured: number[]; oldWay: number[] }>();
  const procAll = new Map<number, number[]>();
  for (const [a, b] of LINKS) {
    const k = `${a}>${b}`;
    measured.set(k, median(reads.get(k) ?? []));
    const xs = samples.get(k) ?? [];
    const f = new SpikeFilter();
    const outs: number[] = [];
    for (const [meas, proc] of xs) outs.push(f.push(meas * 1000 + (Number.isFinite(proc) ? proc : 0), RADIUS));
    f.free();
    oldWay.set(k, median(outs.slice(2 * RADIUS)));
    raw.set(k, { measured: xs.map((x) => x[0] * 1000), oldWay: xs.map((x) => x[0] * 1000 + (Number.isFinite(x[1]) ? x[1] : 0)) });
    for (const [, p] of xs) if (Number.isFinite(p)) (procAll.get(b) ?? procAll.set(b, []).get(b)!).push(p);
  }
  const procMs = new Map([...procAll].map(([id, xs]) => [id, median(xs)]));
  return { truth, measured, oldWay, procMs, raw };
}

function report(idle: Phase, loaded: Phase): void {
  console.log('\nOne-way latency per directed link, ms (truth: kernel-timestamped probes over the same delay line)');
  console.log('link   injected | idle: truth measured  error  old-way error | loaded: truth measured  error  old-way error');
  const errs = { idle: [] as number[], loaded: [] as number[], oldIdle: [] as number[], oldLoaded: [] as number[] };
  for (const [a, b] of LINKS) {
    const k = `${a}>${b}`;
    const inj = DELAYS.find((d) => d[0] === a && d[1] === b)?.[2] ?? 0;
    const e = (p: Phase) => p.measured.get(k)! - p.truth.get(k)!;
    const o = (p: Phase) => p.oldWay.get(k)! - p.truth.get(k)!;
    errs.idle.push(e(idle));
    errs.loaded.push(e(loaded));
    errs.oldIdle.push(o(idle));
    errs.oldLoaded.push(o(loaded));
    console.log(
      `${a}→${b}   ${inj.toFixed(1).padStart(6)}   |   ${f3(idle.truth.get(k)!)}   ${f3(idle.measured.get(k)!)}  ${f3(e(idle)).padStart(6)}  ${f3(o(idle)).padStart(8)}   |   ${f3(loaded.truth.get(k)!)}   ${f3(loaded.measured.get(k)!)}  ${f3(e(loaded)).padStart(6)}  ${f3(o(loaded)).padStart(8)}`,
    );
  }
  const worst = (xs: number[]) => Math.max(...xs.filter(Number.isFinite).map(Math.abs));
  console.log(`\nworst |error|: idle ${f3(worst(errs.idle))} ms (goal 0.3, ${worst(errs.idle) <= 0.3 ? 'PASS' : 'FAIL'}), loaded ${f3(worst(errs.loaded))} ms (goal 1, ${worst(errs.loaded) <= 1 ? 'PASS' : 'FAIL'})`);
  console.log(`old way (JS send → JS handling), same samples: worst |error| idle ${f3(worst(errs.oldIdle))} ms, loaded ${f3(worst(errs.oldLoaded))} ms`);
  console.log(`median processing delay (kernel receive → handled) per node, ms: idle ${[...idle.procMs].sort().map(([id, v]) => `${id}: ${f3(v)}`).join(', ')}; loaded ${[...loaded.procMs].sort().map(([id, v]) => `${id}: ${f3(v)}`).join(', ')}`);
}

async function main(): Promise<void> {
  if (!isRoot()) {
    console.log('latency-accuracy: needs root (network namespaces, iptables); skipped');
    return;
  }
  ensureEgdelay();
  const m = buildSuperMesh({
    n: 4,
    net: NET,
    timing: TIMING,
    additionalCost: 50,
    tag: 'lat',
    log: { LogLevel: 'error', LogControl: true },
    iface: (id) => ({ IType: 'tap', Name: `eglat${id}`, IPv4CIDR: `192.168.${NET}.0/24` }),
  });
  const delays: DelayHandle[] = [];
  const procs: ChildProcess[] = [];
  const cleanup = () => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    m.teardownSync();
  };
  guardTeardown(cleanup, 300_000, note);
  try {
    sh('ip', ['netns', 'exec', m.topo.hub, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1']);
    let q = 20;
    for (const [a, b, ms] of DELAYS) delays.push(await addDelay({ netns: m.topo.hub, chain: 'FORWARD', srcIp: m.addr(a), dstIp: m.addr(b), proto: 'udp', delayMs: ms, queueNum: q++ }));
    m.start();
    const t0 = Date.now();
    for (;;) {
      const s = await m.state();
      if (s && fullTable(s, m.ids)) break;
      if (Date.now() - t0 > 60_000) throw new Error(`no full table after 60 s: ${m.deaths().join('; ')}`);
      await sleep(500);
    }
    note(`full table after ${((Date.now() - t0) / 1000).toFixed(1)} s; letting the filters fill (${2 * RADIUS + 3} s)`);
    await sleep((2 * RADIUS + 3) * 1000);
    const idle = await phase(m, 'idle');
    // iperf3 over the VPN: node 1 → node 2's TAP address.
    procs.push(spawn('ip', ['netns', 'exec', m.ns(2), 'iperf3', '-s', '-1', '-B', tapIp(2)], { stdio: 'ignore' }));
    await sleep(500);
    const cli = spawn('ip', ['netns', 'exec', m.ns(1), 'iperf3', '-c', tapIp(2), '-t', String(PHASE_S + 2 * RADIUS + 8), '-f', 'm'], { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(cli);
    let iperfOut = '';
    cli.stdout!.on('data', (d: Buffer) => (iperfOut += d.toString()));
    await sleep((2 * RADIUS + 3) * 1000);
    const loaded = await phase(m, 'loaded (iperf3 TCP 1→2 over the VPN)');
    await new Promise((r) => (cli.exitCode !== null ? r(null) : cli.once('exit', r)));
    const rate = /([\d.]+) Mbits\/sec.*sender/.exec(iperfOut)?.[1];
    report(idle, loaded);
    console.log(`iperf3 1→2 over the VPN during the loaded phase: ${rate ?? '?'} Mbit/s`);
    if (process.env.BENCH_RECORD) {
      const rec: Record<string, unknown> = {};
      for (const [k, v] of loaded.raw) rec[k] = { truthMs: loaded.truth.get(k), ...v };
      writeFileSync(process.env.BENCH_RECORD, JSON.stringify({ source: 'bench/latency-accuracy.bench.ts, loaded phase (iperf3 1→2 over the VPN), ms', radius: RADIUS, links: rec }, null, 1) + '\n');
      note(`recorded samples in ${process.env.BENCH_RECORD}`);
    }
  } finally {
    for (const d of delays) await d.remove().catch(() => {});
    await m.teardown();
  }
}

main().catch((e: unknown) => {
  console.error(`latency-accuracy failed: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
