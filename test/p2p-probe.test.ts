// The ping prober of both measuring modes (ts/edge/probe.ts; super mode's SuperClient and P2P's
// client): one-way latency = our receive time − the pinger's timestamp (offset included), through
// the edges' filter; pings that claim another source or a difference no two clocks can have are
// refused with the reason the caller counts; a ping's Time is moved to its sendmmsg time.
import assert from 'node:assert/strict';
import { Prober, type ProberHost } from '../ts/edge/probe.js';
import { decode, PingMsg } from '../ts/proto/control.js';

/**
 * A node whose wall clock reads `wall` ms and whose native sender reads CLOCK_REALTIME
 * `gapMs` (per call, from the list) after the stamp, each time a datagram is sent.
 */
function fakeHost(me: number, gaps: number[]) {
  let wall = 1_000_000;
  let lastSend = NaN;
  const sent: PingMsg[] = [];
  const host: ProberHost = {
    me,
    clock: { now: () => wall / 1000, wallMs: () => wall, fromRealtimeMs: (ms) => ms },
    host: { transport: { lastSendMs: () => lastSend } },
  };
  const send = (payload: Uint8Array) => {
    sent.push(decode.ping(payload));
    lastSend = wall + (gaps.shift() ?? 0);
    wall += 1000;
  };
  return { host, send, sent };
}

const peer = { nodeId: 2, endpoint: undefined };
const noHost: ProberHost = fakeHost(1, []).host;

describe('latency prober', () => {
  it('stamps a ping with the ping clock plus the smallest recent stamp → sendmmsg gap of that peer', () => {
    const f = fakeHost(1, [0.4, 0.25, 0.6]);
    const p = new Prober(f.host, () => 0);
    p.ping(peer, 2, f.send);
    assert.deepEqual(f.sent[0], { v: 1, Src: 1, Time: 1_000_000, RequestReply: 2 }, 'no gap measured yet: the plain stamp');
    p.ping(peer, 0, f.send);
    assert.equal(f.sent[1]!.Time, 1_001_000 + 0.4, 'the first gap is added');
    p.ping(peer, 0, f.send);
    p.ping(peer, 0, f.send);
    assert.equal(f.sent[3]!.Time, 1_003_000 + 0.25, 'the smallest of the gaps, not the last');
    p.ping({ nodeId: 3, endpoint: undefined }, 0, f.send);
    assert.equal(f.sent[4]!.Time, 1_004_000, 'gaps are per peer');
    p.forget(2);
    p.ping(peer, 0, f.send);
    assert.equal(f.sent[5]!.Time, 1_005_000, 'a forgotten peer starts without a lead');
    p.free();
  });

  it('keeps the plain stamp when the transport has no send time (no native sender)', () => {
    let wall = 5000;
    const sent: PingMsg[] = [];
    const p = new Prober({ me: 1, clock: { now: () => 0, wallMs: () => wall, fromRealtimeMs: (ms) => ms }, host: { transport: { lastSendMs: () => NaN } } }, () => 0);
    for (let i = 0; i < 3; i++) p.ping(peer, 0, (b) => { sent.push(decode.ping(b)); wall += 10; });
    assert.deepEqual(sent.map((m) => m.Time), [5000, 5010, 5020]);
    p.free();
  });

  it('measures receive time minus send time (ms → s), with a clock offset of any size kept', () => {
    const p = new Prober(noHost, () => 0);
    const yearMs = 365 * 86400_000;
    const r = p.measure(2, { v: 1, Src: 2, Time: 1_000_000, RequestReply: 0 }, 1_000_000 + yearMs + 12.5, 1);
    assert.deepEqual(r, { ok: true, measured: (yearMs + 12.5) / 1000, filtered: (yearMs + 12.5) / 1000 });
    assert.equal(p.latency(2), (yearMs + 12.5) / 1000);
    p.free();
  });

  it('refuses a ping whose Src is not the peer that delivered it, and an impossible time difference', () => {
    const p = new Prober(noHost, () => 1);
    assert.deepEqual(p.measure(2, { v: 1, Src: 3, Time: 0, RequestReply: 0 }, 5, 1), { ok: false, reason: 'ping claims source 3 but came from 2' });
    assert.deepEqual(p.measure(2, { v: 1, Src: 2, Time: -1e17, RequestReply: 0 }, 1e17, 1), { ok: false, reason: 'ping time further from our clock than any two clocks can be' });
    assert.equal(p.latency(2), undefined, 'nothing stored from refused pings');
    p.free();
  });

  it('filters per peer with the configured radius, read on every sample', () => {
    let radius = 1;
    const p = new Prober(noHost, () => radius);
    const feed = (from: number, ms: number, t: number) => p.measure(from, { v: 1, Src: from, Time: t, RequestReply: 0 }, t + ms, t / 1000);
    for (const [i, ms] of [10, 10, 300, 10].entries()) feed(2, ms, i * 1000);
    assert.ok(p.latency(2)! < 0.1, `a single 300 ms spike is filtered out: ${p.latency(2)}`);
    feed(3, 50, 0);
    assert.deepEqual([...p.latencies().keys()].sort(), [2, 3]);
    radius = 0;
    assert.equal((feed(2, 300, 9000) as { filtered: number }).filtered, 0.3, 'radius 0 passes samples through');
    p.forget(2);
    assert.equal(p.latency(2), undefined);
    p.free();
  });

  it('calls a peer settling until its filter has seen a full window (2·radius + 1 samples)', () => {
    let radius = 2;
    const p = new Prober(noHost, () => radius);
    const feed = (from: number, i: number) => p.measure(from, { v: 1, Src: from, Time: i * 1000, RequestReply: 0 }, i * 1000 + 5, i);
    assert.deepEqual([...p.settling()], [], 'nothing measured, nothing settling');
    for (let i = 0; i < 4; i++) feed(2, i);
    feed(3, 0);
    assert.deepEqual([...p.settling()].sort(), [2, 3]);
    feed(2, 4);
    assert.deepEqual([...p.settling()], [3], 'peer 2 has 5 samples: settled');
    radius = 0;
    assert.deepEqual([...p.settling()], [], 'radius 0: every sample is the output');
    radius = 2;
    p.forget(3);
    assert.deepEqual([...p.settling()], []);
    p.free();
  });
});

describe("P2P client's pings", () => {
  it('carry the send lead, as super mode\'s do (they used to carry the plain stamp, so P2P latencies included the send path)', async () => {
    const { P2PClient } = await import('../ts/p2p/client.js');
    const { coreSigner } = await import('../ts/p2p/sign.js');
    const { exampleEdgeConfig, parseEdgeConfig } = await import('../ts/config/index.js');
    const cfg = parseEdgeConfig(exampleEdgeConfig(), 'example.yaml', () => {});
    cfg.DynamicRoute.P2P.UseP2P = true;
    const f = fakeHost(cfg.NodeID, [0.3, 0.3]);
    const target = { nodeId: 2, endpoint: { family: 4 as const } };
    const edge = {
      ...f.host,
      peers: { all: () => [target] },
      sendControl: (_p: unknown, _kind: number, _dst: number, _ttl: number, payload: Uint8Array) => f.send(payload),
      log: { error() {}, info() {}, cat() {} },
    };
    const client = new P2PClient(edge as never, cfg, { signer: coreSigner });
    const ping = (client as unknown as { ping(p: unknown, rr: number): void }).ping.bind(client);
    ping(target, 0);
    ping(target, 0);
    assert.equal(f.sent.length, 2);
    assert.equal(f.sent[1]!.Time, 1_001_000 + 0.3, 'the second ping is stamped for its sendmmsg time');
    client.stop();
  });
});
