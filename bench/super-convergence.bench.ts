// Super mode convergence: a supernode and N edges (N = 4, then 8), each in its own network
// namespace joined by a bridge (test/helpers/topo.ts buildStar), IType dummy, real processes
// (node dist/main.js super|edge), timing as in test/e2e/super-mesh.test.ts. Measured from the
// supernode's state API (/manage/super/state, polled every 100 ms from the root namespace):
//
//   start -> converged   spawn of the supernode until every ordered pair has a finite latency and
//                        a next hop ("table"), and until every edge is alive and has pulled that
//                        table (Status[..].Synced.NhTable, "in use")
//   cut A<->B            cutLink both ways: until NhTable[A][B] != B and NhTable[B][A] != A
//   restore A<->B        until both are direct again
//   delay A->B 200 ms    addDelay (egdelay, one way): until NhTable[A][B] != B
//   delay removed        until NhTable[A][B] == B again (extra row; the bench waits for it anyway)
//   supernode CPU        utime+stime from /proc/<pid>/stat over a ~10 s steady window after
//                        convergence (no API polling during the window)
//
// Link events run BENCH_ROUNDS times (default 2) on different pairs; the table shows the median
// (for 2 rounds: the mean) and the single values. The "bound" column holds the lower bounds that
// follow from the timing settings, and for start-up the process start time measured in the same
// run (spawn of the supernode until its API first answers). Everything (processes, namespaces,
// iptables rules, egdelay, config files with keys) is removed at the end, also on failure,
// Ctrl-C, or the time limit.
//
// Needs root, iptables with NFQUEUE, tools/egdelay (built on demand), and a built dist/
// (npx tsc -p tsconfig.json). Run: bash scripts/bench.sh bench/super-convergence.bench.ts
// Env: BENCH_ROUNDS (link-event repetitions, default 2), BENCH_SIZES (default "4,8"),
//      BENCH_CPU_WINDOW (seconds, default 10).
import { addDelay, cutLink, CutHandle, DelayHandle, ensureEgdelay } from '../test/helpers/delay.js';
import { isRoot } from '../test/helpers/netns.js';
import { cpuSeconds, guardTeardown } from './lib/netbench.js';
import { allSynced, buildSuperMesh, EDGE_PORT, fullTable, indirectPairs, SuperMesh, SuperState, Timing } from './lib/super.js';

const TIMING: Timing = { SendPingInterval: 1, HttpPostInterval: 2, PeerAliveTimeout: 5, DampingFilterRadius: 1, RecalculateCoolDown: 1, TimeoutCheckInterval: 1, JitterTolerance: 20, JitterToleranceMultiplier: 1.01 };
const AC = 50;
const DELAY_MS = 200;
const NET = 214;
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 2));
const SIZES = (process.env.BENCH_SIZES ?? '4,8').split(',').map(Number).filter((n) => n >= 2);
const CPU_WINDOW = Number(process.env.BENCH_CPU_WINDOW ?? 10);
const LIMIT_MS = 175_000;
const POLL_MS = 100;

const tStart = performance.now();
const note = (m: string) => process.stderr.write(`[${((performance.now() - tStart) / 1000).toFixed(1)} s] ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- cleanup ----------------------------------------------------------------------------------

let mesh: SuperMesh | undefined;
const cuts = new Set<CutHandle>();
const delays = new Set<DelayHandle>();
function cleanupSync(): void {
  for (const c of cuts) c.restore();
  cuts.clear();
  // delay.ts's own exit hook removes the NFQUEUE rules and kills egdelay; the namespaces go anyway.
  mesh?.teardownSync();
  mesh = undefined;
}
const deadline = guardTeardown(cleanupSync, LIMIT_MS, note);

// ---- polling ----------------------------------------------------------------------------------

interface Wait {
  /** Seconds from `from` until cond held in the state ("table"), and until it held with every edge synced ("in use"); NaN on timeout. */
  table: number;
  use: number;
  /** How often the published NhTable changed while waiting. */
  changes: number;
  last?: SuperState;
}

/** Entries that differ between two next-hop tables, as "at->dst: old=>new". */
function tableDiff(a: SuperState['NhTable'], b: SuperState['NhTable']): string {
  const out: string[] = [];
  for (const src of new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]))
    for (const dst of new Set([...Object.keys(a?.[src] ?? {}), ...Object.keys(b?.[src] ?? {})]))
      if (a?.[src]?.[dst] !== b?.[src]?.[dst]) out.push(`${src}->${dst}: ${a?.[src]?.[dst] ?? '-'}=>${b?.[src]?.[dst] ?? '-'}`);
  return out.length > 8 ? `${out.slice(0, 8).join(', ')} (+${out.length - 8})` : out.join(', ');
}

async function waitFor(m: SuperMesh, from: number, ms: number, cond: (s: SuperState) => boolean, what: string, needSync = true, trace = false): Promise<Wait> {
  const w: Wait = { table: NaN, use: NaN, changes: 0 };
  let prev: string | undefined;
  while (performance.now() - from < ms) {
    const s = await m.state();
    const at = (performance.now() - from) / 1000;
    if (s) {
      const nh = JSON.stringify(s.NhTable);
      if (prev !== undefined && nh !== prev) {
        w.changes++;
        if (trace) note(`  ${what} +${at.toFixed(2)} s: table change ${tableDiff(JSON.parse(prev) as SuperState['NhTable'], s.NhTable)}`);
      }
      prev = nh;
      w.last = s;
      if (cond(s)) {
        if (Number.isNaN(w.table)) w.table = at;
        if (!needSync || allSynced(s, m.ids)) {
          w.use = at;
          return w;
        }
      } else if (!Number.isNaN(w.table)) {
        note(`  ${what}: condition held at ${w.table.toFixed(2)} s and was lost again (flap)`);
        w.table = NaN;
      }
    }
    const dead = m.deaths();
    if (dead.length) throw new Error(`process died while waiting for ${what}: ${dead.join('; ')}`);
    await sleep(POLL_MS);
  }
  note(`  ${what}: timed out after ${ms / 1000} s; NhTable ${JSON.stringify(w.last?.NhTable)}; Synced ${JSON.stringify(Object.fromEntries(Object.entries(w.last?.Status ?? {}).map(([k, v]) => [k, v.Synced?.NhTable])))}`);
  return w;
}

// ---- one mesh size ----------------------------------------------------------------------------

interface Result {
  n: number;
  apiUp: number;
  conv: Wait;
  direct: Wait;
  cpuPct: number;
  cpuMsPerEdgePing: number;
  edgeCpuPct: number;
  window: number;
  steadyIndirect: string[];
  steadyChanged: boolean;
  cut: Wait[];
  restore: Wait[];
  delay: Wait[];
  undelay: Wait[];
  warm?: Wait;
}

async function runSize(n: number): Promise<Result> {
  note(`N=${n}: building ${n + 1} namespaces`);
  const m = buildSuperMesh({ n, net: NET, timing: TIMING, additionalCost: AC, tag: `egs${process.pid % 1000}n` });
  mesh = m;
  m.start();
  const t0 = m.t0;
  // Process start baseline: spawn of the supernode until its API answers at all.
  let apiUp = NaN;
  while (performance.now() - t0 < 20_000) {
    if (await m.state(500)) {
      apiUp = (performance.now() - t0) / 1000;
      break;
    }
    if (m.deaths().length) throw new Error(m.deaths().join('; '));
    await sleep(50);
  }
  const conv = await waitFor(m, t0, 40_000, (s) => fullTable(s, m.ids), 'start-up convergence');
  note(`N=${n}: API up ${apiUp.toFixed(2)} s, full table ${conv.table.toFixed(2)} s, in use ${conv.use.toFixed(2)} s (${conv.changes} table changes)`);
  if (Number.isNaN(conv.use)) throw new Error(`N=${n}: no convergence`);
  // With AC 50 ms per hop and ~0 latencies, the settled table is all direct.
  const direct = await waitFor(m, t0, 30_000, (s) => fullTable(s, m.ids) && indirectPairs(s, m.ids).length === 0, 'all-direct table');
  note(`N=${n}: all direct and in use at ${direct.use.toFixed(2)} s`);

  // Steady-state CPU: no polling inside the window.
  await sleep(2000);
  const before = await m.state();
  const pids = [m.supernode!.child.pid!, ...[...m.edges.values()].map((p) => p.child.pid!)];
  const c0 = pids.map(cpuSeconds);
  const w0 = performance.now();
  await sleep(CPU_WINDOW * 1000);
  const c1 = pids.map(cpuSeconds);
  const window = (performance.now() - w0) / 1000;
  const after = await m.state();
  const superCpu = c1[0] - c0[0];
  const edgeCpu = c1.slice(1).reduce((a, b) => a + b, 0) - c0.slice(1).reduce((a, b) => a + b, 0);
  const cpuPct = (superCpu / window) * 100;
  const cpuMsPerEdgePing = (superCpu * 1000) / (n * (window / TIMING.SendPingInterval));
  const edgeCpuPct = (edgeCpu / n / window) * 100;
  const steadyIndirect = after ? indirectPairs(after, m.ids) : ['no state'];
  const steadyChanged = JSON.stringify(before?.NhTable) !== JSON.stringify(after?.NhTable);
  note(`N=${n}: supernode ${cpuPct.toFixed(2)}% of a core over ${window.toFixed(1)} s (${cpuMsPerEdgePing.toFixed(3)} ms/edge/ping), edges avg ${edgeCpuPct.toFixed(2)}%; table ${steadyChanged ? 'CHANGED' : 'unchanged'} over the window, indirect: ${steadyIndirect.join(' ') || 'none'}`);

  const res: Result = { n, apiUp, conv, direct, cpuPct, cpuMsPerEdgePing, edgeCpuPct, window, steadyIndirect, steadyChanged, cut: [], restore: [], delay: [], undelay: [] };
  const isDirect = (s: SuperState, a: number, b: number) => s.NhTable?.[a]?.[b] === b && s.NhTable?.[b]?.[a] === a;
  for (let r = 0; r < ROUNDS; r++) {
    // Different pair each round: (1,2), (3,4), ... wrapping around.
    const a = ((2 * r) % n) + 1;
    const b = ((2 * r + 1) % n) + 1;
    // (a) cut both ways
    let t = performance.now();
    const cut = cutLink({ netns: m.ns(a), dstIp: m.addr(b), both: true });
    cuts.add(cut);
    const wc = await waitFor(m, t, 20_000, (s) => s.NhTable?.[a]?.[b] !== undefined && s.NhTable[a][b] !== b && s.NhTable?.[b]?.[a] !== undefined && s.NhTable[b][a] !== a, `cut ${a}<->${b}`, true, true);
    res.cut.push(wc);
    note(`N=${n} round ${r + 1}: cut ${a}<->${b}: table ${wc.table.toFixed(2)} s, in use ${wc.use.toFixed(2)} s (${wc.changes} changes; via ${wc.last?.NhTable?.[a]?.[b]}/${wc.last?.NhTable?.[b]?.[a]})`);
    // (b) restore
    t = performance.now();
    cut.restore();
    cuts.delete(cut);
    const wr = await waitFor(m, t, 30_000, (s) => isDirect(s, a, b), `restore ${a}<->${b}`, true, true);
    res.restore.push(wr);
    note(`N=${n} round ${r + 1}: restore ${a}<->${b}: table ${wr.table.toFixed(2)} s, in use ${wr.use.toFixed(2)} s (${wr.changes} changes)`);
    await sleep(1500); // past RecalculateCoolDown, a couple of fresh samples in every filter
    // (c) one-way delay a->b
    t = performance.now();
    const d = await addDelay({ netns: m.ns(a), dstIp: m.addr(b), proto: 'udp', dport: EDGE_PORT, delayMs: DELAY_MS, queueNum: 20 + r });
    delays.add(d);
    const wd = await waitFor(m, t, 20_000, (s) => s.NhTable?.[a]?.[b] !== undefined && s.NhTable[a][b] !== b, `delay ${a}->${b}`, true, true);
    res.delay.push(wd);
    note(`N=${n} round ${r + 1}: delay ${a}->${b} ${DELAY_MS} ms: table ${wd.table.toFixed(2)} s, in use ${wd.use.toFixed(2)} s (${wd.changes} changes; via ${wd.last?.NhTable?.[a]?.[b]}; Edges ${a}->${b} = ${((wd.last?.Edges?.[a]?.[b] ?? NaN) * 1000).toFixed(1)} ms)`);
    // (d) delay removed
    t = performance.now();
    await d.remove();
    delays.delete(d);
    const wu = await waitFor(m, t, 20_000, (s) => isDirect(s, a, b), `undelay ${a}->${b}`, true, true);
    res.undelay.push(wu);
    note(`N=${n} round ${r + 1}: delay removed: table ${wu.table.toFixed(2)} s, in use ${wu.use.toFixed(2)} s (${wu.changes} changes)`);
    await sleep(1500);
  }
  // Start-up again with the supernode already listening: stop the edges, wait until the supernode
  // has expired them all, spawn them again (same keys), time to the full table from their spawn.
  await m.stopEdges();
  const tStop = performance.now();
  const gone = await waitFor(m, tStop, 15_000, (s) => m.ids.every((a) => s.Status?.[a]?.Alive === false && m.ids.every((b) => a === b || (s.Edges?.[a]?.[b] ?? s.Infinity) >= s.Infinity)), 'edges expired', false);
  note(`N=${n}: edges stopped; all dead and expired in the state after ${gone.table.toFixed(2)} s`);
  const tEdges = m.startEdges();
  res.warm = await waitFor(m, tEdges, 30_000, (s) => fullTable(s, m.ids), 'start-up, supernode already up');
  note(`N=${n}: edges respawned with the supernode up: full table ${res.warm.table.toFixed(2)} s, in use ${res.warm.use.toFixed(2)} s`);
  await m.teardown();
  mesh = undefined;
  return res;
}

// ---- report -----------------------------------------------------------------------------------

function median(xs: number[]): number {
  const v = xs.filter((x) => !Number.isNaN(x)).sort((p, q) => p - q);
  if (v.length !== xs.length || v.length === 0) return NaN;
  const h = Math.floor(v.length / 2);
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}
const f = (x: number, d = 2) => (Number.isNaN(x) ? 't/o' : x.toFixed(d));
const cell = (xs: number[]) => (xs.length === 1 ? f(xs[0]) : `${f(median(xs))} [${xs.map((x) => f(x)).join(' ')}]`);

async function main(): Promise<void> {
  if (!isRoot()) {
    console.log('super-convergence: needs root (network namespaces, iptables); skipped');
    return;
  }
  ensureEgdelay();
  const results: Result[] = [];
  for (const n of SIZES) {
    try {
      results.push(await runSize(n));
    } catch (e) {
      note(`N=${n} failed: ${(e as Error).message}`);
      cleanupSync();
      process.exitCode = 1;
    }
  }
  if (results.length === 0) return;

  const T = TIMING;
  const spi = T.SendPingInterval;
  const apiUp = results.map((r) => f(r.apiUp)).join(' / ');
  // Lower bounds from the timing settings (see docs/benchmarks.md, "super mode convergence"):
  //  start-up: peer info triggers an immediate ping (RequestReply), so no ping interval has to pass;
  //            the floor is starting the processes (measured: supernode spawn -> API answers).
  //  cut:      the last pong before the cut is at most one ping interval old and lives
  //            PeerAliveTimeout: >= PAT - SPI (typical PAT - SPI/2 + TimeoutCheckInterval/2).
  //  restore:  the next ping in each direction: >= 0 (typical E[max of two U(0,SPI)] = 2/3 SPI).
  //  delay:    the median filter (radius R, window 2R+1) needs R+1 delayed samples: >= R*SPI + delay
  //            (typical + SPI/2); the hysteresis threshold (20 ms + 1%) is far below 200 ms.
  //  undelay:  R+1 fast samples: >= R*SPI (typical + SPI/2).
  const R = T.DampingFilterRadius;
  const bound = {
    start: `>= ${apiUp} (process start, row 1)`,
    warm: `>= ~${apiUp} (process start, row 1)`,
    cut: `>= ${(T.PeerAliveTimeout - spi).toFixed(1)} (typ ${(T.PeerAliveTimeout - spi / 2 + T.TimeoutCheckInterval / 2).toFixed(1)})`,
    restore: `>= 0 (typ ${((2 / 3) * spi).toFixed(2)})`,
    delay: `>= ${(R * spi + DELAY_MS / 1000).toFixed(1)} (typ ${(R * spi + DELAY_MS / 1000 + spi / 2).toFixed(1)})`,
    undelay: `>= ${(R * spi).toFixed(1)} (typ ${(R * spi + spi / 2).toFixed(1)})`,
  };
  const rows: [string, (r: Result) => string, string][] = [
    ['process start: spawn -> super API up (s)', (r) => f(r.apiUp), 'baseline'],
    ['start -> full table (s)', (r) => f(r.conv.table), bound.start],
    ['start -> full table in use (s)', (r) => f(r.conv.use), bound.start],
    ['start -> all-direct table in use (s)', (r) => f(r.direct.use), bound.start],
    ['edges spawned after super is up -> full table in use (s)', (r) => f(r.warm?.use ?? NaN), bound.warm],
    ['cut A<->B -> reroute in table (s)', (r) => cell(r.cut.map((w) => w.table)), bound.cut],
    ['cut A<->B -> reroute in use (s)', (r) => cell(r.cut.map((w) => w.use)), bound.cut],
    ['restore -> direct in table (s)', (r) => cell(r.restore.map((w) => w.table)), bound.restore],
    ['restore -> direct in use (s)', (r) => cell(r.restore.map((w) => w.use)), bound.restore],
    [`delay A->B ${DELAY_MS} ms -> reroute in table (s)`, (r) => cell(r.delay.map((w) => w.table)), bound.delay],
    [`delay A->B ${DELAY_MS} ms -> reroute in use (s)`, (r) => cell(r.delay.map((w) => w.use)), bound.delay],
    ['delay removed -> direct in use (s)', (r) => cell(r.undelay.map((w) => w.use)), bound.undelay],
    ['supernode CPU, steady (% of a core)', (r) => f(r.cpuPct), '-'],
    ['supernode CPU-ms per edge per ping interval', (r) => f(r.cpuMsPerEdgePing, 3), '-'],
    ['edge CPU, steady (% of a core, avg per edge)', (r) => f(r.edgeCpuPct), '-'],
  ];
  const head = ['metric', ...results.map((r) => `N=${r.n}`), 'bound'];
  const body = rows.map(([name, g, b]) => [name, ...results.map(g), b]);
  const w = head.map((_, i) => Math.max(head[i].length, ...body.map((row) => row[i].length)));
  const line = (cols: string[]) => cols.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ');
  console.log(`super mode convergence (timing: SendPingInterval ${T.SendPingInterval}, HttpPostInterval ${T.HttpPostInterval}, PeerAliveTimeout ${T.PeerAliveTimeout}, DampingFilterRadius ${R}, RecalculateCoolDown ${T.RecalculateCoolDown}, TimeoutCheckInterval ${T.TimeoutCheckInterval}; AdditionalCost ${AC}; ${ROUNDS} round(s) per link event, median [values]; CPU window ${CPU_WINDOW} s)`);
  console.log(line(head));
  console.log(w.map((x) => '-'.repeat(x)).join('-|-'));
  for (const row of body) console.log(line(row));
  for (const r of results) {
    const flaps = [...r.cut, ...r.restore, ...r.delay, ...r.undelay].map((x) => x.changes);
    console.log(
      `N=${r.n}: steady window ${r.window.toFixed(1)} s, table ${r.steadyChanged ? 'CHANGED' : 'unchanged'}, indirect pairs after it: ${r.steadyIndirect.join(' ') || 'none'}; ` +
        `table changes seen while waiting: start-up ${r.conv.changes + r.direct.changes}, per link event max ${Math.max(...flaps)}`,
    );
  }
  console.log(`total ${((performance.now() - tStart) / 1000).toFixed(1)} s`);
}

main()
  .catch((e) => {
    note(`failed: ${(e as Error).stack ?? e}`);
    process.exitCode = 1;
  })
  .finally(() => {
    cleanupSync();
    clearTimeout(deadline);
  });
