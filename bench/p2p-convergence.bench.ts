// P2P mode convergence and control-plane cost beside super mode's, for N = 4, 8, 16 edges.
// Each mesh runs as real processes (node dist/main.js edge|super), every node in its own network
// namespace joined by a bridge (test/helpers/topo.ts buildStar), IType dummy, the timing of
// bench/super-convergence.bench.ts (SendPingInterval 1, PeerAliveTimeout 5, DampingFilterRadius 1,
// RecalculateCoolDown 1, TimeoutCheckInterval 1, JitterTolerance 20 ms, AdditionalCost 50).
// P2P adds SendPeerInterval 5 and DupCheckTimeout 40; every edge starts knowing every other.
//
//   start -> converged  P2P: spawn of the first edge until every edge has logged a next-hop table
//                       with a route to every other edge and all edges' tables are identical
//                       (the logged digest of the whole table). Super: spawn of the supernode
//                       until its published table is complete and every edge has pulled it
//                       (the same "in use" condition as super-convergence.bench.ts).
//   control bytes       bytes each node's veth sent (Ethernet frames: WireGuard over UDP/IP with
//                       every header, so pings, keepalives, handshakes, floods and relayed floods)
//                       per node per second; no data traffic runs. P2P: over 5 s right after
//                       convergence (reports flooded while tables change), and over a steady
//                       window of BENCH_WINDOW s (default 10) once every edge has said its
//                       reports go on the broadcast trees (table unchanged for 2 × PeerAliveTimeout).
//                       Super: over the steady window 2 s after convergence, the edges' average
//                       and the supernode's own (its HTTP answers included).
//   CPU                 utime+stime (/proc/<pid>/stat) over the same window, % of one core.
//
// Needs root and a built dist/. Run: bash scripts/bench.sh bench/p2p-convergence.bench.ts
// Env: BENCH_SIZES (default "4,8,16"), BENCH_WINDOW (s, default 10), BENCH_MODES ("p2p,super").
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generateKeyPair } from '../ts/config/index.js';
import { jsonLines, Proc, startEdge } from '../test/helpers/mesh.js';
import { isRoot, sh } from '../test/helpers/netns.js';
import { buildStar, Topo } from '../test/helpers/topo.js';
import { cpuSeconds, guardTeardown } from './lib/netbench.js';
import { allSynced, buildSuperMesh, fullTable, SuperMesh, Timing } from './lib/super.js';

const TIMING: Timing = { SendPingInterval: 1, HttpPostInterval: 2, PeerAliveTimeout: 5, DampingFilterRadius: 1, RecalculateCoolDown: 1, TimeoutCheckInterval: 1, JitterTolerance: 20, JitterToleranceMultiplier: 1.01 };
const AC = 50;
const PORT = 3001;
const SIZES = (process.env.BENCH_SIZES ?? '4,8,16').split(',').map(Number).filter((n) => n >= 2);
const MODES = (process.env.BENCH_MODES ?? 'p2p,super').split(',');
const WINDOW = Number(process.env.BENCH_WINDOW ?? 10);
const NET_P2P = 215;
const NET_SUPER = 216;
const LIMIT_MS = 900_000;

const tStart = performance.now();
const note = (m: string) => process.stderr.write(`[${((performance.now() - tStart) / 1000).toFixed(1)} s] ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cleanup: (() => void) | undefined;
guardTeardown(() => cleanup?.(), LIMIT_MS, note);

/** Bytes sent by the namespace's veth0 so far. */
function txBytes(ns: string): number {
  return Number(sh('ip', ['netns', 'exec', ns, 'cat', '/sys/class/net/veth0/statistics/tx_bytes']).trim());
}

interface Figures {
  n: number;
  /** s from the first spawn until converged (NaN: not within the limit) */
  converged: number;
  /** s from the first spawn until the last process logged "up" */
  up: number;
  /** bytes per edge per second, steady */
  edgeBps: number;
  /** supernode bytes per second (super mode) */
  superBps?: number;
  edgeCpuPct: number;
  superCpuPct?: number;
  /** P2P: bytes per edge per second right after convergence (reports flooded) */
  floodBps?: number;
  /** P2P: s from the first spawn until every edge sends its reports on the broadcast trees */
  settled?: number;
}

// ---- P2P --------------------------------------------------------------------------------------

async function runP2P(n: number): Promise<Figures> {
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  note(`P2P N=${n}: building ${n} namespaces`);
  const topo: Topo = buildStar(ids, NET_P2P);
  const dir = mkdtempSync(join(tmpdir(), 'egp2pbench-'));
  const procs = new Map<number, Proc>();
  cleanup = () => {
    for (const p of procs.values()) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    topo.teardown();
    rmSync(dir, { recursive: true, force: true });
    cleanup = undefined;
  };
  try {
    const keys = new Map(ids.map((id) => [id, generateKeyPair()]));
    for (const id of ids) {
      const cfg = {
        Interface: { IType: 'dummy', Name: `egd${id}`, MacAddrPrefix: 'AA:BB:CC:DD', MTU: 1404 },
        NodeID: id,
        NodeName: `egpb${id}`,
        PrivKey: keys.get(id)!.privateKey,
        ListenPort: PORT,
        DisabledAf: { IPv6: true },
        LogLevel: { LogLevel: 'error', LogInternal: true },
        DynamicRoute: {
          SendPingInterval: TIMING.SendPingInterval,
          PeerAliveTimeout: TIMING.PeerAliveTimeout,
          DampingFilterRadius: TIMING.DampingFilterRadius,
          DupCheckTimeout: 40,
          ConnNextTry: 1,
          AdditionalCost: AC,
          SaveNewPeers: false,
          P2P: {
            UseP2P: true,
            SendPeerInterval: 5,
            GraphRecalculateSetting: { JitterTolerance: TIMING.JitterTolerance, JitterToleranceMultiplier: TIMING.JitterToleranceMultiplier, TimeoutCheckInterval: TIMING.TimeoutCheckInterval, RecalculateCoolDown: TIMING.RecalculateCoolDown },
          },
        },
        NextHopTable: {},
        Peers: ids.filter((b) => b !== id).map((b) => ({ NodeID: b, PubKey: keys.get(b)!.publicKey, PSKey: '', EndPoint: `${topo.addr(b)}:${PORT}`, PersistentKeepalive: 0, Static: true })),
      };
      writeFileSync(join(dir, `edge${id}.yaml`), stringify(cfg), { mode: 0o600 });
    }
    const t0 = performance.now();
    for (const id of ids) procs.set(id, startEdge(join(dir, `edge${id}.yaml`), { netns: topo.ns.get(id)!, args: ['-no-uapi'] }));
    const last = (id: number) => {
      const t = jsonLines(procs.get(id)!).filter((l) => l.msg === 'p2p next-hop table updated');
      return t.at(-1) as { row: Record<string, number>; digest: string } | undefined;
    };
    let up = NaN;
    let converged = NaN;
    while (performance.now() - t0 < 60_000) {
      if (Number.isNaN(up) && ids.every((id) => procs.get(id)!.out.some((l) => l.includes(' up: ')))) up = (performance.now() - t0) / 1000;
      const rows = ids.map(last);
      if (rows.every((r, i) => r && Object.keys(r.row).length === n - 1 && r.digest === rows[0]!.digest && ids[i] !== undefined)) {
        converged = (performance.now() - t0) / 1000;
        break;
      }
      const dead = [...procs].filter(([, p]) => p.child.exitCode !== null);
      if (dead.length) throw new Error(`edge ${dead[0][0]} exited: ${dead[0][1].out.slice(-5).join(' | ')}`);
      await sleep(50);
    }
    note(`P2P N=${n}: all up ${up.toFixed(2)} s, converged ${converged.toFixed(2)} s`);
    if (Number.isNaN(converged)) throw new Error(`P2P N=${n}: no convergence within 60 s`);
    const ns = ids.map((id) => topo.ns.get(id)!);
    // `ip netns exec` runs node as its child: the edge is the child of that process.
    const edgePids = ids.map((id) => childPid(procs.get(id)!.child.pid!));
    const measure = async (seconds: number) => {
      const b0 = ns.map(txBytes);
      const c0 = edgePids.map(cpuSeconds);
      const w0 = performance.now();
      await sleep(seconds * 1000);
      const b1 = ns.map(txBytes);
      const c1 = edgePids.map(cpuSeconds);
      const w = (performance.now() - w0) / 1000;
      return { bps: b1.reduce((a, b, i) => a + b - b0[i], 0) / n / w, cpu: (c1.reduce((a, b, i) => a + b - c0[i], 0) / n / w) * 100 };
    };
    // Right after convergence every report is flooded (tables just changed)...
    const flood = await measure(Math.min(5, 2 * TIMING.PeerAliveTimeout - 1));
    note(`P2P N=${n}: flooding: ${(flood.bps / 1000).toFixed(2)} kB/s per edge`);
    // ...until every edge's table has been unchanged for 2 × PeerAliveTimeout (reports on the trees).
    const t1 = performance.now();
    const onTrees = (id: number) => {
      const l = jsonLines(procs.get(id)!).filter((x) => typeof x.msg === 'string' && x.msg.startsWith('p2p reports '));
      return l.at(-1)?.msg === 'p2p reports on the broadcast trees (table settled)';
    };
    while (!ids.every(onTrees) && performance.now() - t1 < 60_000) await sleep(200);
    const settled = (performance.now() - t0) / 1000;
    if (!ids.every(onTrees)) note(`P2P N=${n}: tables did not settle within 60 s; steady figures taken anyway`);
    await sleep(1000);
    const steady = await measure(WINDOW);
    const edgeBps = steady.bps;
    const edgeCpuPct = steady.cpu;
    note(`P2P N=${n}: settled at ${settled.toFixed(1)} s; steady ${(edgeBps / 1000).toFixed(2)} kB/s per edge, CPU ${edgeCpuPct.toFixed(2)}% per edge`);
    return { n, converged, up, edgeBps, edgeCpuPct, floodBps: flood.bps, settled };
  } finally {
    for (const p of procs.values()) if (p.child.exitCode === null) p.child.kill('SIGTERM');
    await Promise.race([Promise.all([...procs.values()].map((p) => p.exited)), sleep(3000)]);
    cleanup?.();
  }
}

/** The single child of `pid` (the node process under `ip netns exec`), or pid itself. */
function childPid(pid: number): number {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return kids.length === 1 ? Number(kids[0]) : pid;
  } catch {
    return pid;
  }
}

// ---- super ------------------------------------------------------------------------------------

async function runSuper(n: number): Promise<Figures> {
  note(`super N=${n}: building ${n + 1} namespaces`);
  const m: SuperMesh = buildSuperMesh({ n, net: NET_SUPER, timing: TIMING, additionalCost: AC, tag: `egq${process.pid % 1000}n` });
  cleanup = () => {
    m.teardownSync();
    cleanup = undefined;
  };
  try {
    m.start();
    const t0 = m.t0;
    let up = NaN;
    let converged = NaN;
    while (performance.now() - t0 < 60_000) {
      const all = [m.supernode!, ...m.edges.values()];
      if (Number.isNaN(up) && all.every((p) => p.out.some((l) => l.includes(' up')))) up = (performance.now() - t0) / 1000;
      const s = await m.state();
      if (s && fullTable(s, m.ids) && allSynced(s, m.ids)) {
        converged = (performance.now() - t0) / 1000;
        break;
      }
      if (m.deaths().length) throw new Error(m.deaths().join('; '));
      await sleep(100);
    }
    note(`super N=${n}: converged ${converged.toFixed(2)} s`);
    await sleep(2000);
    const ns = m.ids.map((id) => m.ns(id));
    const superNs = m.topo.ns.get(100)!;
    const edgePids = m.ids.map((id) => childPid(m.edges.get(id)!.child.pid!));
    const superPid = childPid(m.supernode!.child.pid!);
    const b0 = ns.map(txBytes);
    const s0 = txBytes(superNs);
    const c0 = edgePids.map(cpuSeconds);
    const sc0 = cpuSeconds(superPid);
    const w0 = performance.now();
    await sleep(WINDOW * 1000);
    const b1 = ns.map(txBytes);
    const s1 = txBytes(superNs);
    const c1 = edgePids.map(cpuSeconds);
    const sc1 = cpuSeconds(superPid);
    const w = (performance.now() - w0) / 1000;
    const edgeBps = b1.reduce((a, b, i) => a + b - b0[i], 0) / n / w;
    const edgeCpuPct = (c1.reduce((a, b, i) => a + b - c0[i], 0) / n / w) * 100;
    const f: Figures = { n, converged, up, edgeBps, superBps: (s1 - s0) / w, edgeCpuPct, superCpuPct: ((sc1 - sc0) / w) * 100 };
    note(`super N=${n}: ${(edgeBps / 1000).toFixed(2)} kB/s per edge, supernode ${(f.superBps! / 1000).toFixed(2)} kB/s`);
    return f;
  } finally {
    await m.teardown();
    cleanup = undefined;
  }
}

// ---- main -------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!isRoot()) {
    console.log('p2p-convergence: needs root (network namespaces); skipped');
    return;
  }
  const p2p = new Map<number, Figures>();
  const sup = new Map<number, Figures>();
  for (const n of SIZES) {
    if (MODES.includes('p2p')) p2p.set(n, await runP2P(n));
    if (MODES.includes('super')) sup.set(n, await runSuper(n));
  }
  const f = (x: number | undefined, d = 2) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));
  const rows: [string, (n: number) => string][] = [
    ['P2P: spawn -> all edges up (s)', (n) => f(p2p.get(n)?.up)],
    ['P2P: spawn -> every table complete and identical (s)', (n) => f(p2p.get(n)?.converged)],
    ['super: spawn -> all up (s)', (n) => f(sup.get(n)?.up)],
    ['super: spawn -> full table in use (s)', (n) => f(sup.get(n)?.converged)],
    ['P2P: spawn -> every edge reports on the trees (s)', (n) => f(p2p.get(n)?.settled)],
    ['P2P: control B/s per edge, first 5 s (flooding)', (n) => f(p2p.get(n)?.floodBps, 0)],
    ['P2P: control B/s per edge, steady (trees)', (n) => f(p2p.get(n)?.edgeBps, 0)],
    ['super: control B/s per edge, steady', (n) => f(sup.get(n)?.edgeBps, 0)],
    ['super: supernode bytes per second (B/s)', (n) => f(sup.get(n)?.superBps, 0)],
    ['super: per node incl. the supernode share (B/s)', (n) => (sup.get(n) ? f(sup.get(n)!.edgeBps + sup.get(n)!.superBps! / n, 0) : '-')],
    ['P2P: CPU per edge, steady (% of a core)', (n) => f(p2p.get(n)?.edgeCpuPct)],
    ['super: CPU per edge, steady (% of a core)', (n) => f(sup.get(n)?.edgeCpuPct)],
    ['super: supernode CPU, steady (% of a core)', (n) => f(sup.get(n)?.superCpuPct)],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  console.log(`${'metric'.padEnd(w0)} | ${SIZES.map((n) => `N=${n}`.padStart(8)).join(' | ')}`);
  console.log(`${'-'.repeat(w0)}-|-${SIZES.map(() => '-'.repeat(8)).join('-|-')}`);
  for (const [name, cell] of rows) console.log(`${name.padEnd(w0)} | ${SIZES.map((n) => cell(n).padStart(8)).join(' | ')}`);
  console.log(`(window ${WINDOW} s after convergence + 2 s; bytes are veth tx: Ethernet + IP + UDP + WireGuard)`);
}

main().then(
  () => process.exit(0),
  (e) => {
    note(`failed: ${(e as Error).stack ?? e}`);
    cleanup?.();
    process.exit(1);
  },
);
