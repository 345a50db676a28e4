// The system clock (CLOCK_REALTIME) stepped by +1 h and back under a running super-mode mesh: a
// supernode and three edges, each in its own network namespace with a real TAP device, real
// processes. All of them share the one system clock, so the step is the same for every node; what
// it may break is any rule that compares wall times taken before and after it (peer liveness,
// report freshness, TAI64N initiation timestamps, timers on the wall clock, one-way latencies).
// Asserted for each step: pings keep flowing (>= 90 %), the supernode's NhTable and every edge's
// liveness are unchanged, no session was torn down (no KeyExpired / NoSession drops), and the
// handshakes go on: every node runs with REKEY_AFTER_TIME = 5 s (EG_TEST_REKEY_AFTER_S), so every
// session rekeys during each phase, stamped with that phase's wall clock, and no initiation is
// refused for its TAI64N timestamp (StaleTimestamp) — after the step back, a node's initiations
// carry times an hour earlier than those its peers accepted during the +1 h phase.
//
// Stepping the real clock disturbs whatever else runs on the machine, so each step lasts
// HOLD_S seconds and the clock is always set back in a finally block from the offset between
// CLOCK_REALTIME and CLOCK_MONOTONIC recorded at the start. Set EG_CLOCK_STEP=1 to run it
// (skipped otherwise, so a full suite run on a shared machine does not step the clock by
// surprise).
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildMeshConfigs, type MeshConfigs } from '../../ts/demo/meshcfg.js';
import { jsonLines, type Proc, startEdge, stopAll } from '../helpers/mesh.js';
import { isRoot } from '../helpers/netns.js';
import { pollState } from '../helpers/poll-state.js';
import { buildStar, pingFrom, type Topo } from '../helpers/topo.js';

const run = promisify(execFile);
const IDS = [1, 2, 3];
const SUPER = 100;
const ROOT_ID = 9;
const NET = 173;
const METRICS_PORT = 9173;
const HOLD_S = 12;
const STEP_S = 3600;
/** REKEY_AFTER_TIME for every node (EG_TEST_REKEY_AFTER_S), seconds: several rekeys per phase. */
const REKEY_S = 5;
/**
 * Every HTTP server's per-client request limit (EG_TEST_HTTP_RATE), lowered so that a window that
 * does not end (a limiter on the wall clock after a step back) shows within a phase: the edges'
 * pulls and reports stay well under 20 per 2 s.
 */
const HTTP_RATE = '20/2000';
const env = { EG_TEST: '1', EG_TEST_REKEY_AFTER_S: String(REKEY_S), EG_TEST_HTTP_RATE: HTTP_RATE };
const tapIp = (id: number) => `192.168.${NET}.${id}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface State {
  Edges: Record<string, Record<string, number>>;
  NhTable: Record<string, Record<string, number>>;
  Status?: Record<string, { Alive?: boolean; Synced?: { PeerInfo?: boolean; NhTable?: boolean; SuperParams?: boolean } }>;
  Clocks?: { Nodes: Record<string, { OffsetMs: number; Flag: string }> };
  Infinity: number;
}

// ---- the system clock ------------------------------------------------------------------------

const py = (code: string) => execFileSync('python3', ['-c', `import time\n${code}`], { encoding: 'utf8' }).trim();
/** CLOCK_REALTIME − CLOCK_MONOTONIC, seconds (read in one process, microseconds apart). */
const realMinusMono = () => Number(py('print(repr(time.clock_gettime(time.CLOCK_REALTIME) - time.clock_gettime(time.CLOCK_MONOTONIC)))'));
/** Steps CLOCK_REALTIME by `s` seconds (clock_settime: a step, not a slew). */
const stepClock = (s: number) => py(`time.clock_settime(time.CLOCK_REALTIME, time.clock_gettime(time.CLOCK_REALTIME) + (${s}))`);
/** Sets CLOCK_REALTIME to CLOCK_MONOTONIC + `offset` (the offset read before any step). */
const restoreClock = (offset: number) => py(`time.clock_settime(time.CLOCK_REALTIME, time.clock_gettime(time.CLOCK_MONOTONIC) + (${offset}))`);

/** `ping -c n -i interval` in a namespace; returns packets sent and received. */
async function pingCount(ns: string, ip: string, n: number, interval: number): Promise<{ sent: number; received: number }> {
  const r = await run('ip', ['netns', 'exec', ns, 'ping', '-q', '-c', String(n), '-i', String(interval), '-W', '1', ip]).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
  return { sent: Number(m?.[1] ?? n), received: Number(m?.[2] ?? 0) };
}

describe('e2e: the system clock stepped by +1 h and back under a running super-mode mesh', function () {
  this.timeout(240_000);
  let topo: Topo | undefined;
  let cfgs: MeshConfigs;
  const procs = new Map<number, Proc>();
  const dir = mkdtempSync(join(tmpdir(), 'egclock-'));
  const ns = (id: number) => topo!.ns.get(id)!;
  let offset0: number | undefined;
  const api = (path: string) => `http://${topo!.addr(SUPER)}:3100${cfgs.apiPrefix}${path}?Password=${cfgs.passwords.ShowState}`;
  async function state(): Promise<State> {
    const { stdout } = await run('curl', ['-s', '-m', '3', api('/manage/super/state')]);
    return JSON.parse(stdout) as State;
  }
  const full = (s: State) => IDS.every((a) => IDS.every((b) => a === b || (s.NhTable?.[a]?.[b] !== undefined && (s.Edges?.[a]?.[b] ?? s.Infinity) < s.Infinity)));
  const synced = (s: State) => IDS.every((id) => s.Status?.[id]?.Alive && s.Status[id].Synced?.NhTable && s.Status[id].Synced?.PeerInfo);
  /** Each edge's last handshake per peer (Unix ms, the edge's wall clock when it completed). */
  async function handshakes(): Promise<Map<string, number>> {
    const m = new Map<string, number>();
    for (const id of IDS) {
      const text = await (await fetch(`http://${topo!.addr(id)}:${METRICS_PORT}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
      for (const l of text.split('\n')) {
        const x = /^etherguard_peer_last_handshake_timestamp_seconds\{peer="(\d+)"\} (\S+)$/.exec(l);
        if (x) m.set(`${id}->${x[1]}`, Math.round(Number(x[2]) * 1000));
      }
    }
    return m;
  }

  /** One manage API request from edge `id`'s namespace: status and Retry-After (s). */
  async function manage(id: number, password: string): Promise<{ status: number; retryAfter: number }> {
    const url = `http://${topo!.addr(SUPER)}:3100${cfgs.apiPrefix}/manage/super/state?Password=${encodeURIComponent(password)}`;
    const { stdout } = await run('ip', ['netns', 'exec', ns(id), 'curl', '-s', '-m', '3', '-o', '/dev/null', '-D', '-', url]);
    return { status: Number(/^HTTP\/[\d.]+ (\d+)/.exec(stdout)?.[1] ?? 0), retryAfter: Number(/^retry-after: *(\d+)/im.exec(stdout)?.[1] ?? NaN) };
  }

  /** `n` requests for an unknown path of the supernode's HTTP server from edge `id`'s namespace: how many got 429. */
  async function burst(id: number, n: number): Promise<number> {
    const url = `http://${topo!.addr(SUPER)}:3100/clock-step-probe`;
    const { stdout } = await run('ip', ['netns', 'exec', ns(id), 'curl', '-s', '-m', '3', '-w', '%{http_code}\\n', ...Array.from({ length: n }, () => ['-o', '/dev/null', url]).flat()]);
    return stdout.split('\n').filter((c) => c === '429').length;
  }

  /** Drops by reason, summed over the edges. */
  async function drops(): Promise<Map<string, number>> {
    const m = new Map<string, number>();
    for (const id of IDS) {
      const text = await (await fetch(`http://${topo!.addr(id)}:${METRICS_PORT}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
      for (const l of text.split('\n')) {
        const x = /^etherguard_drops_total\{reason="((?:[^"\\]|\\.)*)"\} (\S+)$/.exec(l);
        if (x) m.set(x[1]!, (m.get(x[1]!) ?? 0) + Number(x[2]));
      }
    }
    return m;
  }

  before(async function () {
    if (!isRoot() || process.env.EG_CLOCK_STEP !== '1') this.skip();
    offset0 = realMinusMono();
    topo = buildStar([...IDS, SUPER], NET);
    topo.joinRoot(ROOT_ID);
    cfgs = buildMeshConfigs({
      name: `egc${process.pid % 1000}n`,
      superHost: topo.addr(SUPER),
      superPort: 3000,
      httpPort: 3100,
      edges: IDS.map((id) => ({ id, listenPort: 3001, additionalCost: 50, iface: { IType: 'tap', Name: `egc${id}`, IPv4CIDR: `192.168.${NET}.0/24` } })),
      timing: { SendPingInterval: 1, HttpPostInterval: 2, PeerAliveTimeout: 5, DampingFilterRadius: 1, RecalculateCoolDown: 1, TimeoutCheckInterval: 1, JitterTolerance: 20, JitterToleranceMultiplier: 1.01 },
      log: { LogControl: false, LogLevel: 'error' },
    });
    writeFileSync(join(dir, 'super.yaml'), cfgs.superYaml);
    procs.set(SUPER, startEdge(join(dir, 'super.yaml'), { netns: ns(SUPER), args: ['-no-uapi'], mode: 'super', env }));
    for (const id of IDS) {
      writeFileSync(join(dir, `edge${id}.yaml`), cfgs.edgeYaml.get(id)!);
      procs.set(id, startEdge(join(dir, `edge${id}.yaml`), { netns: ns(id), args: ['-no-uapi', '-metrics', `${topo.addr(id)}:${METRICS_PORT}`], env }));
    }
    await pollState(state, 'all edges registered and a full table', 40_000, (s) => full(s) && synced(s), {
      intervalMs: 200,
      detail: (l) => `${JSON.stringify(l?.Status)} ${JSON.stringify(l?.NhTable)}\n${[...procs].map(([id, p]) => `--- ${id}:\n${p.out.slice(-5).join('\n')}`).join('\n')}`,
    });
    for (const [a, b] of [[1, 2], [2, 3], [3, 1]]) assert.ok(await pingFrom(ns(a), tapIp(b), 10), `${a} -> ${b} pings`);
  });

  after(async () => {
    if (offset0 !== undefined) restoreClock(offset0);
    await stopAll([...procs.values()]);
    topo?.teardown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pings flow, the NhTable and liveness are unchanged and no session is re-established across each step', async () => {
    // Settle: the table must hold still for a few seconds before it can be compared.
    let s0 = await state();
    for (let i = 0; i < 30; i++) {
      await sleep(1000);
      const s = await state();
      if (JSON.stringify(s.NhTable) === JSON.stringify(s0.NhTable) && i >= 3) break;
      s0 = s;
    }
    let blockedAhead: { status: number; retryAfter: number } | undefined;
    let blockedBack: { status: number; retryAfter: number } | undefined;
    let limitedBack = 0;
    const t0 = Date.now();
    const hs0 = await handshakes();
    const drops0 = await drops();
    assert.ok(hs0.size >= 6, `every edge has handshakes with its 2 peers and the supernode: ${JSON.stringify([...hs0])}`);
    const phases: { name: string; ping: { sent: number; received: number }[]; table: State['NhTable']; status: State['Status']; clocks: State['Clocks']; hs: Map<string, number> }[] = [];
    const phase = async (name: string, step: () => void, during?: () => Promise<void>) => {
      const n = Math.round(HOLD_S / 0.2);
      const pings = [pingCount(ns(1), tapIp(3), n, 0.2), pingCount(ns(3), tapIp(2), n, 0.2)];
      await sleep(1000);
      step();
      await during?.();
      const ping = await Promise.all(pings);
      const s = await state();
      phases.push({ name, ping, table: s.NhTable, status: s.Status, clocks: s.Clocks, hs: await handshakes() });
    };
    try {
      // In the +1 h phase a client (edge 1's address) is blocked for wrong manage passwords: the
      // block lasts blockMs = 60 s of real time, and the step back must not stretch it to 1 h.
      await phase(`+${STEP_S} s`, () => stepClock(STEP_S), async () => {
        for (let i = 0; i < 10; i++) await manage(1, 'wrong');
        blockedAhead = await manage(1, 'wrong');
      });
      // After the step back, 2 × 12 requests 2.5 s apart from edge 2's address stay within
      // HTTP_RATE (20 per 2 s) only if the limiter's window still ends after 2 s.
      await phase(`-${STEP_S} s`, () => restoreClock(offset0!), async () => {
        blockedBack = await manage(1, cfgs.passwords.ShowState);
        limitedBack = await burst(2, 12);
        await sleep(2500);
        limitedBack += await burst(2, 12);
      });
    } finally {
      restoreClock(offset0!);
    }
    const problems: string[] = [];
    for (const p of phases) {
      for (const [i, r] of p.ping.entries()) if (r.received < r.sent * 0.9) problems.push(`${p.name}: pings ${i === 0 ? '1 -> 3' : '3 -> 2'} ${r.received}/${r.sent}`);
      if (JSON.stringify(p.table) !== JSON.stringify(s0.NhTable)) problems.push(`${p.name}: NhTable changed: ${JSON.stringify(s0.NhTable)} -> ${JSON.stringify(p.table)}`);
      for (const id of IDS) if (!p.status?.[id]?.Alive) problems.push(`${p.name}: edge ${id} not alive at the supernode: ${JSON.stringify(p.status?.[id])}`);
      // The supernode's clock watch compares the nodes' clocks with each other: a step of the
      // one clock they all share moves no node against another, so nothing is flagged.
      for (const [id, c] of Object.entries(p.clocks?.Nodes ?? {})) if (c.Flag) problems.push(`${p.name}: clock watch flags node ${id} '${c.Flag}' (offset ${c.OffsetMs} ms)`);
    }
    // Handshakes go on across each step (REKEY_AFTER_TIME is REKEY_S here, so every session rekeys
    // about twice per phase): each peer's last handshake advanced, stamped with the wall clock of
    // its phase (so the processes did see the step), and no initiation was refused for its
    // TAI64N timestamp (after the step back, a node's initiations would carry times an hour
    // before those its peers accepted during the +1 h phase).
    let prev = hs0;
    for (const p of phases) {
      const ahead = p.name.startsWith('+');
      for (const [k, before] of prev) {
        const t1 = p.hs.get(k);
        if (t1 === undefined || t1 === before) problems.push(`${p.name}: ${k} did not handshake again (last ${before})`);
        else if (ahead !== t1 - t0 > (STEP_S * 1000) / 2) problems.push(`${p.name}: ${k} handshake stamped ${new Date(t1).toISOString()}, not on this phase's clock`);
      }
      prev = p.hs;
    }
    const grown = [...(await drops())].map(([r, n]) => [r, n - (drops0.get(r) ?? 0)] as const).filter(([, n]) => n > 0);
    for (const [r, n] of grown) if (/StaleTimestamp|KeyExpired|NoSession/.test(r)) problems.push(`drops: ${n} × ${r}`);
    if (blockedAhead?.status !== 429) problems.push(`10 wrong manage passwords did not block the client: ${JSON.stringify(blockedAhead)}`);
    if (blockedBack?.status !== 429 || blockedBack.retryAfter > 60) problems.push(`after the step back the blocked client must wait at most the 60 s block: ${JSON.stringify(blockedBack)}`);
    if (limitedBack > 0) problems.push(`after the step back ${limitedBack} of 24 requests in two bursts 2.5 s apart were refused (429) by the ${HTTP_RATE} ms request limit`);
    // Nothing is logged as an error once the mesh is up (wall times of the +1 h phase are later too).
    for (const id of [...IDS, SUPER]) for (const l of jsonLines(procs.get(id)!)) if (l.level === 'error' && Date.parse(String(l.t)) >= t0) problems.push(`node ${id} logged: ${String(l.t)} ${String(l.msg)}`);
    for (const id of [...IDS, SUPER]) if (procs.get(id)!.child.exitCode !== null) problems.push(`node ${id} exited`);
    const errors = [...IDS, SUPER].flatMap((id) => jsonLines(procs.get(id)!).filter((l) => l.level === 'error').map((l) => `${id}: ${String(l.t)} ${String(l.msg)}`));
    console.log(`      pings per phase: ${phases.map((p) => `${p.name} ${p.ping.map((r) => `${r.received}/${r.sent}`).join(' ')}`).join('; ')}; drops during the steps: ${JSON.stringify(grown)}; error lines: ${errors.length}`);
    console.log(`      t0 ${new Date(t0).toISOString()}`);
    if (errors.length) console.log(errors.map((e) => `        ${e}`).join('\n'));
    assert.deepEqual(problems, [], `${problems.join('\n')}\nerror lines:\n${errors.slice(-20).join('\n')}`);
  });
});
