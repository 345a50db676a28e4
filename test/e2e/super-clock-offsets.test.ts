// Super mode end to end with clocks that are far off: a supernode and three edges in network
// namespaces (TAP, real WireGuard, real HTTP); edge 2's clock is two hours behind and edge 3's a
// year ahead (EG_TEST_CLOCK_OFFSET_MS). The supernode must measure every link (the offsets show
// in the one-way values), publish the routes the true latencies give, and frames must follow
// them. One directed link (1→3) is slowed by 150 ms so that one route takes a relay.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildMeshConfigs, MeshConfigs } from '../../ts/demo/meshcfg.js';
import { addDelay, DelayHandle } from '../helpers/delay.js';
import { jsonLines, Proc, startEdge, stopAll } from '../helpers/mesh.js';
import { isRoot } from '../helpers/netns.js';
import { buildStar, pingFrom, Topo } from '../helpers/topo.js';

const run = promisify(execFile);
const IDS = [1, 2, 3];
const SUPER = 100;
const NET = 93;
const H2 = 7200;
const YEAR = 31_536_000;
/** Seconds each node's clock is off (m(u→v) = true + off(v) − off(u)). */
const OFF: Record<number, number> = { 1: 0, 2: -H2, 3: YEAR };
const SLOW_1_TO_3_MS = 150;
const tapIp = (id: number) => `192.168.93.${id}`;

interface State {
  Infinity: number;
  Edges: Record<string, Record<string, number>>;
  NhTable: Record<string, Record<string, number>>;
}

// What zero offsets give here: with AdditionalCost 50 ms per node entered, every route is direct
// except 1→3, whose direct link costs 150 + 50 ms against 50 + 50 ms through node 2.
const EXPECTED = { 1: { 2: 2, 3: 2 }, 2: { 1: 1, 3: 3 }, 3: { 1: 1, 2: 2 } };

describe('e2e: super mode with clocks hours and a year off (supernode + 3 edges in namespaces)', function () {
  this.timeout(60_000);
  let topo: Topo | undefined;
  let cfgs: MeshConfigs;
  let delay: DelayHandle | undefined;
  const procs = new Map<number, Proc>();
  const dir = mkdtempSync(join(tmpdir(), 'egclock-'));
  const stateUrl = () => `http://${topo!.addr(SUPER)}:3100${cfgs.apiPrefix}/manage/super/state?Password=${cfgs.passwords.ShowState}`;
  async function state(): Promise<State> {
    const { stdout } = await run('ip', ['netns', 'exec', topo!.ns.get(1)!, 'curl', '-s', '--max-time', '2', stateUrl()]);
    return JSON.parse(stdout) as State;
  }
  const measuredAll = (s: State) => IDS.every((a) => IDS.every((b) => a === b || (s.Edges?.[a]?.[b] ?? s.Infinity) < s.Infinity));

  before(async function () {
    if (!isRoot()) this.skip();
    topo = buildStar([...IDS, SUPER], NET);
    cfgs = buildMeshConfigs({
      name: `egc${process.pid % 1000}n`,
      superHost: topo.addr(SUPER),
      superPort: 3000,
      httpPort: 3100,
      edges: IDS.map((id) => ({ id, listenPort: 3001, additionalCost: 50, iface: { IType: 'tap', Name: `egc${id}`, IPv4CIDR: '192.168.93.0/24' } })),
      timing: { SendPingInterval: 1, HttpPostInterval: 2, PeerAliveTimeout: 5, DampingFilterRadius: 1, RecalculateCoolDown: 1, TimeoutCheckInterval: 1, JitterTolerance: 20, JitterToleranceMultiplier: 1.01 },
      log: { LogTransit: true, LogControl: false },
    });
    delay = await addDelay({ netns: topo.ns.get(1)!, dstIp: topo.addr(3), proto: 'udp', dport: 3001, delayMs: SLOW_1_TO_3_MS, queueNum: 31 });
    writeFileSync(join(dir, 'super.yaml'), cfgs.superYaml);
    procs.set(SUPER, startEdge(join(dir, 'super.yaml'), { netns: topo.ns.get(SUPER)!, args: ['-no-uapi'], mode: 'super' }));
    for (const id of IDS) {
      writeFileSync(join(dir, `edge${id}.yaml`), cfgs.edgeYaml.get(id)!);
      const env: Record<string, string> = OFF[id] ? { EG_TEST: '1', EG_TEST_CLOCK_OFFSET_MS: String(OFF[id] * 1000) } : {};
      procs.set(id, startEdge(join(dir, `edge${id}.yaml`), { netns: topo.ns.get(id)!, args: ['-no-uapi'], env }));
    }
  });

  after(async () => {
    await stopAll([...procs.values()]);
    await delay?.remove();
    topo?.teardown();
  });

  it('the supernode measures every link, offsets included, and publishes the offset-free routes', async () => {
    const t0 = Date.now();
    let s: State | undefined;
    while (Date.now() - t0 < 30_000) {
      try {
        s = await state();
        if (measuredAll(s) && JSON.stringify(s.NhTable) === JSON.stringify(EXPECTED)) break;
      } catch {
        /* supernode not up yet */
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const errors = [...procs.entries()].flatMap(([id, p]) => jsonLines(p).filter((l) => l.level === 'error' || l.level === 'drop').map((l) => `${id}: ${l.msg}`));
    assert.ok(s && measuredAll(s), `every link measured; Edges ${JSON.stringify(s?.Edges)}; logs: ${errors.slice(0, 12).join(' | ')}`);
    console.log(`      converged in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // m(u→v) = true + off(v) − off(u): true values are well under half a second here (the
    // first pings after a handshake on the slow link wait for it, so allow some slack).
    for (const a of IDS) {
      for (const b of IDS) {
        if (a === b) continue;
        const want = OFF[b] - OFF[a] + (a === 1 && b === 3 ? SLOW_1_TO_3_MS / 1000 : 0);
        assert.ok(Math.abs(s.Edges[a][b] - want) < 0.5, `Edges[${a}][${b}] = ${s.Edges[a][b]}, expected about ${want}`);
      }
    }
    assert.ok(s.Infinity > YEAR + H2, `the "no edge" marker ${s.Infinity} stays above every measured value`);
    assert.deepEqual(s.NhTable, EXPECTED);
    // No report item was refused (each refusal is logged by the edge that sent it).
    assert.deepEqual(errors.filter((e) => /refused/.test(e)), []);
  });

  it('frames reach every node along those routes (1→3 through node 2)', async () => {
    const pairs = IDS.flatMap((a) => IDS.filter((b) => b !== a).map((b) => [a, b] as const));
    const before = jsonLines(procs.get(2)!).filter((l) => l.level === 'transit' && l.src === 1 && l.dst === 3).length;
    const res = await Promise.all(pairs.map(async ([a, b]) => [a, b, await pingFrom(topo!.ns.get(a)!, tapIp(b))] as const));
    assert.deepEqual(res.filter((r) => !r[2]).map(([a, b]) => `${a}->${b}`), []);
    const relayed = jsonLines(procs.get(2)!).filter((l) => l.level === 'transit' && l.src === 1 && l.dst === 3).length - before;
    assert.ok(relayed >= 1, 'node 2 relays 1→3');
  });
});
