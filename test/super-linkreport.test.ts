// The supernode's side of the LinkReport (docs/control.md): one message per edge per interval
// with all its incoming links; each link an item of its own; the state document lists only
// links and pairs that exist, so configured peers that never connected cost almost nothing.
import assert from 'node:assert/strict';
import { generateKeyPair, parseSuperConfig, type SuperPeerInfo } from '../ts/config/index.js';
import { HEADER_LEN, Kind, NODE_SUPER, writeHeader } from '../ts/core/frame.js';
import { Logger } from '../ts/shared/log.js';
import { encode, encodeLinkReports, decode, checkLinkItem } from '../ts/proto/control.js';
import type { Scheduler } from '../ts/scheduler.js';
import { RouteState } from '../ts/super/routes.js';
import { Supernode } from '../ts/super/supernode.js';
import type { Peer } from '../ts/wgnode/peers.js';

const graphCfg = { StaticMode: false, ManualLatency: {}, JitterTolerance: 30, JitterToleranceMultiplier: 1.01, TimeoutCheckInterval: 5, RecalculateCoolDown: 0 };

describe('LinkReport', () => {
  it('is split into self-contained datagrams of at most 1200 bytes that decode to every link', () => {
    const links = Array.from({ length: 300 }, (_, i) => [i + 2, -7200.0012345678 + i * 1e-6, 4.875] as [number, number, number]);
    const msgs = encodeLinkReports(1, 10, links);
    assert.ok(msgs.length >= 8, `${msgs.length} messages`);
    const got: Array<[number, number, number]> = [];
    for (const m of msgs) {
      assert.ok(m.length <= 1200, `${m.length} bytes`);
      const d = decode.pongOrReport(m);
      assert.ok('report' in d);
      assert.equal(d.report.Dst, 1);
      assert.ok('Links' in d.report, 'encodeLinkReports writes the JSON form');
      for (const x of d.report.Links) got.push(checkLinkItem(x) as [number, number, number]);
    }
    assert.deepEqual(got, links);
    assert.equal(encodeLinkReports(1, 10, []).length, 1, 'an edge without links still reports');
  });

  it('items are checked one by one: a bad one is refused with its rule, the rest applied; a wrong Dst drops the message', () => {
    const k = generateKeyPair();
    const k6 = generateKeyPair();
    const cfg = parseSuperConfig(`NodeName: LrSN\nPrivKeyV4: ${k.privateKey}\nPrivKeyV6: ${k6.privateKey}\nPeers: []\n`, 'lr.yaml', () => {});
    const drops: string[] = [];
    const log = new Logger('lr', { LogLevel: 'silent', LogTransit: false, LogNormal: false, LogControl: false, LogInternal: false });
    log.drop = (r: string) => void drops.push(r);
    let now = 100;
    const clock = { now: () => now, wallMs: () => 1.7e12 + now * 1000 };
    const pending: Array<() => void> = [];
    const sched: Scheduler = { every: () => ({ cancel: () => undefined }), after: (_s, f) => (pending.push(f), { cancel: () => undefined }) };
    const sn = new Supernode(cfg, { log, clock, uapi: false, scheduler: sched });
    const conf = (id: number): SuperPeerInfo => ({ NodeID: id, Name: `n${id}`, PubKey: generateKeyPair().publicKey, PSKey: '', AdditionalCost: 0, SkipLocalIP: true, EndPoint: '', ExternalIP: '' });
    return (async () => {
      for (const id of [1, 2, 3]) await sn.addEdge(conf(id));
      const from = (id: number) => ({ nodeId: id, endpoint: { address: '10.0.0.1', port: 1, family: 4 } }) as unknown as Peer;
      const send = (src: number, payload: Uint8Array) => {
        const p = new Uint8Array(HEADER_LEN + payload.length);
        writeHeader(p, { kind: Kind.Pong, ttl: 0, dst: NODE_SUPER, src, len: payload.length });
        p.set(payload, HEADER_LEN);
        sn.receive(4, p, from(src));
      };
      send(1, encode({ v: 1, Dst: 1, AdditionalCost: 0, Links: [[2, 0.002, 5], [3, 'x', 5], [9, 0.001, 5], [3, 0.004, 5]] }));
      assert.equal(sn.controlStats.linkReports, 1);
      assert.equal(sn.controlStats.links, 2, 'the two good links applied');
      assert.ok(drops.some((d) => /report item refused: Links item Timediff/.test(d)), drops.join('; '));
      assert.ok(drops.some((d) => /report item refused: Pong Src is not a peer/.test(d)), drops.join('; '));
      send(2, encode({ v: 1, Dst: 3, AdditionalCost: 0, Links: [[1, 0.002, 5]] }));
      assert.ok(drops.some((d) => /LinkReport Dst is not the sending edge/.test(d)));
      assert.equal(sn.controlStats.links, 2);
      send(2, encodeLinkReports(2, 0, [[1, 0.003, 5], [3, 0.001, 5]])[0]);
      send(3, encodeLinkReports(3, 0, [[1, 0.005, 5], [2, 0.001, 5]])[0]);
      assert.equal(pending.length, 1, 'one coalesced route check for the three reports');
      now += 0.1;
      pending.shift()!();
      assert.equal(sn.routes.nhTable['1']?.['3'], 2, '1→3 via 2 (2 ms + 1 ms < 5 ms)');
      await sn.stop();
    })();
  });

  it('the state document of 300 peers that never connected holds no cell per pair', () => {
    const r = new RouteState(graphCfg, {}, 'salt', (m) => assert.fail(m));
    try {
      for (let id = 1; id <= 300; id++) r.addNode(id);
      r.applyPong(1, 2, 0.001, 0, 70, 0);
      r.check(0);
      const v = r.view(0);
      const bytes = JSON.stringify(v).length;
      // One diagonal cell per node in Dist and Dist_noAC, plus the one link: tens of KB at most
      // (it was 4.7 MB with every ordered pair in four tables).
      assert.ok(bytes < 40_000, `${bytes} bytes`);
      assert.deepEqual(Object.keys(v.Edges), ['1']);
      assert.equal(v.Dist['1']['2'], 0.001);
      assert.equal(v.Dist['2']['1'], undefined, 'unreachable pairs are left out');
    } finally {
      r.free();
    }
  });
});
