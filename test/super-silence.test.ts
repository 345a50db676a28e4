// An edge whose supernode does not answer says so at the default log level (once), and says
// again when it answers (ts/edge/superclient.ts); before, it printed "up" and then nothing at all.
import assert from 'node:assert/strict';
import { exampleEdgeConfig, parseEdgeConfig } from '../ts/config/index.js';
import type { Edge } from '../ts/edge/edge.js';
import { SuperClient } from '../ts/edge/superclient.js';
import { Logger } from '../ts/shared/log.js';
import type { Peer } from '../ts/wgnode/peers.js';
import { NodeClock, Sim, VirtualScheduler } from '../sim/engine.js';
import { systemClock } from '../ts/wgnode/clock.js';
import { startLoopbackSuper, until, type LoopbackSuper } from './helpers/loopback-super.js';
import { keyToBase64 } from '../ts/core/wg.js';
import { randomBytes } from 'node:crypto';

const generatePSKBytes = () => new Uint8Array(randomBytes(32));

/**
 * A loopback supernode and its edge (the edge's YAML through `edit`), the edge's log lines, and
 * `skip(s)`: moves the edge's monotonic clock ahead, so a long silence needs no waiting.
 */
async function loopbackEdge(edit: (yaml: string) => string): Promise<{ m: LoopbackSuper; lines: string[]; skip(s: number): void }> {
  const lines: string[] = [];
  const log = new Logger('edge', { LogLevel: 'error', LogTransit: false, LogNormal: false, LogControl: false, LogInternal: false }, false, { write: (l) => lines.push(l) });
  const sys = systemClock();
  let skew = 0;
  const clock = { ...sys, now: () => sys.now() + skew, wallMs: () => sys.wallMs() };
  const m = await startLoopbackSuper({ superExtra: 'HttpPostInterval: 1\nSendPingInterval: 1', editEdge: edit, clock, edgeLog: log });
  return { m, lines, skip: (s) => (skew += s) };
}

describe('an edge whose supernode is silent', function () {
  this.timeout(30_000);
  let m: LoopbackSuper | undefined;
  after(async () => m?.stop());

  it('logs "no answer from the supernode" once after its silence threshold (SendPingInterval 16 + 10 + 5 s), not again while it stays silent', async () => {
    // Nothing listens on port 9: the supernode never answers.
    const e = await loopbackEdge((t) => t.replace(/EndpointV4: 127\.0\.0\.1:\d+/, 'EndpointV4: 127.0.0.1:9'));
    m = e.m;
    const lines = e.lines;
    e.skip(40);
    const silent = () => lines.filter((l) => /no answer from the supernode at 127\.0\.0\.1:9 for \d+ s \(no handshake completed yet\)/.test(l));
    await until(() => silent().length > 0, 8_000, 'the silence is reported');
    await new Promise((r) => setTimeout(r, 5_500)); // one more check: not repeated
    assert.equal(silent().length, 1, lines.join(''));
    assert.ok(!lines.some((l) => /answers again/.test(l)));
  });
});

describe('an edge whose SuperNode.PSKey is wrong', function () {
  this.timeout(30_000);
  let m: LoopbackSuper | undefined;
  after(async () => m?.stop());

  it('says no session forms and to check the PSKey, although the supernode\'s handshake messages arrive', async () => {
    const e = await loopbackEdge((t) => t.replace(/PSKey: \S+/, `PSKey: ${keyToBase64(generatePSKBytes())}`));
    m = e.m;
    const lines = e.lines;
    // The supernode answers the edge's initiations; the answers do not decrypt here.
    await until(() => m!.edge.peers.supers.some((s) => s.decryptFailedAt !== undefined), 8_000, 'a handshake response that does not decrypt');
    e.skip(40);
    const said = () => lines.filter((l) => /no answer from the supernode at 127\.0\.0\.1:\d+ for \d+ s \(its handshake messages arrive but no session forms: check DynamicRoute\.SuperNode\.PSKey/.test(l));
    await until(() => said().length > 0, 8_000, `the silence is reported with the PSKey hint: ${lines.join('')}`);
  });
});

// A healthy supernode is quiet between answers: the edge registers every SendPingInterval and the
// supernode sends nothing back but WireGuard's passive keepalive, KEEPALIVE_TIMEOUT (10 s) after
// a packet it did not answer. So its normal gap is up to SendPingInterval + 10 s (25 s with the
// generated configs' 15 s), and the silence report must wait longer than that. Virtual time
// (sim/engine.ts) runs the real SuperClient timers without waiting.
describe('an edge whose supernode is healthy but quiet (virtual time)', () => {
  function run(o: { spi: number; answers: boolean; seconds: number; keyed?: boolean }): { lines: string[]; at: number[]; initiations: number[] } {
    const initiations: number[] = [];
    const sim = new Sim();
    const clock = new NodeClock(sim, 0, 0, Date.UTC(2026, 0, 1), 1000);
    const lines: string[] = [];
    const at: number[] = [];
    const log = new Logger('edge', { LogLevel: 'error', LogTransit: false, LogNormal: false, LogControl: false, LogInternal: false }, false, {
      write: (l) => {
        lines.push(l);
        at.push(sim.now);
      },
    });
    const superPeer = { nodeId: 0xfffd, wgId: 1, publicKey: new Uint8Array(32), endpoint: { address: '10.0.0.1', port: 3000, family: 4 }, configured: '10.0.0.1:3000', isStatic: false, isSuper: true, keepalive: 0, queue: [], rxBytes: 0, txBytes: 0, lastRx: -Infinity, lastHandshakeMs: 0 } as unknown as Peer;
    let keepalivePending = false;
    const edge = {
      me: 1,
      clock,
      log,
      iface: undefined,
      peers: { all: () => [], supers: [superPeer], node: () => undefined },
      host: {
        port: 3001,
        wg: { hasSession: () => o.keyed ?? true, publicKey: new Uint8Array(32) },
        initiateNow: () => (initiations.push(sim.now), true),
        transport: { rxTimestamps: false, lastSendMs: () => NaN },
      },
      sendControl: (p: Peer) => {
        // WireGuard's passive keepalive on the supernode: one, KEEPALIVE_TIMEOUT after the first
        // packet since it last sent anything.
        if (!p.isSuper || !o.answers || keepalivePending) return;
        keepalivePending = true;
        sim.after(10, () => {
          keepalivePending = false;
          superPeer.lastRx = clock.now();
        });
      },
      drop: () => undefined,
    } as unknown as Edge;
    const cfg = parseEdgeConfig(exampleEdgeConfig(), 'e.yaml', () => {});
    cfg.DynamicRoute = { ...cfg.DynamicRoute, SendPingInterval: o.spi, SuperNode: { ...cfg.DynamicRoute.SuperNode, UseSuperNode: true, SkipLocalIP: true } };
    cfg.Peers = [];
    const sched = new VirtualScheduler(sim, clock);
    const client = new SuperClient(edge, cfg, { scheduler: sched });
    // The session is up at start: the handshake answered.
    superPeer.lastRx = clock.now();
    client.start();
    sim.run(o.seconds);
    client.stop();
    sched.stop();
    return { lines, at, initiations };
  }

  it('logs nothing for 60 s with SendPingInterval 15 (keepalives every 25 s)', () => {
    const { lines } = run({ spi: 15, answers: true, seconds: 60 });
    assert.deepEqual(lines.filter((l) => /no answer from the supernode/.test(l)), []);
  });

  it('logs nothing for 60 s with SendPingInterval 1 (keepalives every 10–11 s)', () => {
    const { lines } = run({ spi: 1, answers: true, seconds: 60 });
    assert.deepEqual(lines.filter((l) => /no answer from the supernode/.test(l)), []);
  });

  it('retries a supernode session without keys fast for 30 s (it may have started late), then at REKEY_TIMEOUT (it was one initiation a second forever)', () => {
    const { initiations } = run({ spi: 15, answers: false, seconds: 120, keyed: false });
    const within = (a: number, b: number) => initiations.filter((t) => t >= a && t < b).length;
    assert.ok(within(0, 30) >= 25, `first 30 s: ${within(0, 30)} initiations`);
    assert.ok(within(60, 120) <= 13, `60–120 s: ${within(60, 120)} initiations (one per 5 s)`);
    assert.ok(within(60, 120) >= 11, `60–120 s: ${within(60, 120)} initiations: still trying`);
  });

  it('still reports a supernode that stops answering, once, after SendPingInterval + 10 s + a margin', () => {
    const { lines, at } = run({ spi: 15, answers: false, seconds: 120 });
    const said = lines.map((l, i) => [l, at[i]!] as const).filter(([l]) => /no answer from the supernode at 10\.0\.0\.1:3000 for \d+ s: check/.test(l));
    assert.equal(said.length, 1, lines.join(''));
    assert.ok(said[0]![1] >= 25 && said[0]![1] <= 33, `reported at ${said[0]![1]} s`);
  });
});
