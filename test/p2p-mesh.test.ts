// P2P routing state without the network (ts/p2p/mesh.ts): signed reports and self-descriptions,
// the trust rules (a message speaks only for its origin; configured and first-seen keys win),
// sequence numbers and (origin, seq) dedup, link expiry, and determinism — every node that gets
// the same reports computes the same table and the same broadcast trees.
import assert from 'node:assert/strict';
import { generateKeyPair } from '../ts/config/keys.js';
import { Kind } from '../ts/core/frame.js';
import { keyFromBase64 } from '../ts/core/wg.js';
import { P2PMesh } from '../ts/p2p/mesh.js';
import { open } from '../ts/p2p/proto.js';
import { coreSigner, type SignApi } from '../ts/p2p/sign.js';

interface Node {
  id: number;
  priv: Uint8Array;
  pub: Uint8Array;
}
const node = (id: number): Node => {
  const k = generateKeyPair();
  return { id, priv: keyFromBase64(k.privateKey), pub: keyFromBase64(k.publicKey) };
};
const GRAPH = { jitterToleranceMs: 0, multiplier: 1, cooldownS: 0 };
function mesh(n: Node, o: { signer?: SignApi; pat?: number; dup?: number } = {}): P2PMesh {
  return new P2PMesh({ me: n.id, privateKey: n.priv, publicKey: n.pub, signer: o.signer ?? coreSigner, graph: GRAPH, peerAliveTimeout: o.pat ?? 10, dupCheckTimeout: o.dup ?? 40 });
}
const WALL = 1.7e12;
/** The message with `from` replaced by `to` in its body (the 64-byte signature kept). */
const alter = (payload: Uint8Array, from: string, to: string) =>
  Buffer.concat([payload.subarray(0, 64), Buffer.from(Buffer.from(payload.subarray(64)).toString('utf8').replace(from, to))]);

describe('p2p mesh state', function () {
  this.timeout(20_000);
  const [a, b, c] = [node(1), node(2), node(3)];

  describe('signed latency reports', () => {
    it('a report signed by its origin is accepted and its links enter the graph', () => {
      const ma = mesh(a);
      const mb = mesh(b);
      mb.addConfigured(1, a.pub);
      const r = ma.report([{ Src: 2, Timediff: 0.01, TimeToAlive: 10 }], 5, WALL);
      const got = mb.acceptReport(1, r.payload, 100);
      assert.equal(got.ok, true, JSON.stringify(got));
      const t = mb.solve(100)!;
      assert.equal(t['2']['1'], 1, 'route 2 → 1 from the reported link');
      assert.equal(t['1'], undefined, 'nothing reported into 2, so no route from 1');
      ma.free();
      mb.free();
    });

    it('a report whose header source differs from its origin is dropped', () => {
      const ma = mesh(a);
      const mc = mesh(c);
      mc.addConfigured(1, a.pub);
      mc.addConfigured(2, b.pub);
      const r = ma.report([{ Src: 3, Timediff: 0.01, TimeToAlive: 10 }], 0, WALL);
      const got = mc.acceptReport(2, r.payload, 100);
      assert.equal(got.ok, false);
      assert.match((got as { reason: string }).reason, /origin differs from the header source/);
      ma.free();
      mc.free();
    });

    it("a member cannot report links into another node: a report claiming another origin fails that origin's key", () => {
      // Node 2 signs a report that says it comes from node 1 (links 3 → 1) and sends it with header src 1.
      const forger = new P2PMesh({ me: 1, privateKey: b.priv, publicKey: b.pub, signer: coreSigner, graph: GRAPH, peerAliveTimeout: 10, dupCheckTimeout: 40 });
      const mc = mesh(c);
      mc.addConfigured(1, a.pub);
      mc.addConfigured(2, b.pub);
      const r = forger.report([{ Src: 3, Timediff: 0.001, TimeToAlive: 10 }], 0, WALL);
      const got = mc.acceptReport(1, r.payload, 100);
      assert.equal(got.ok, false);
      assert.match((got as { reason: string }).reason, /bad signature/);
      assert.equal(mc.solve(100)?.['3']?.['1'], undefined, 'the forged link is not in the graph');
      forger.free();
      mc.free();
    });

    it('a report altered in transit (one latency changed) fails its signature', () => {
      const ma = mesh(a);
      const mb = mesh(b);
      mb.addConfigured(1, a.pub);
      const r = ma.report([{ Src: 2, Timediff: 0.25, TimeToAlive: 10 }], 0, WALL);
      const got = mb.acceptReport(1, alter(r.payload, '0.25', '0.01'), 100);
      assert.deepEqual([got.ok, (got as { reason: string }).reason], [false, 'p2p report: bad signature']);
      ma.free();
      mb.free();
    });

    it('a signature made for a self-description is not valid as a report (kind in the signed bytes)', () => {
      const ma = mesh(a);
      const d = ma.describe(Kind.BroadcastPeer, ['10.0.0.1:3001'], WALL);
      const env = open(Kind.Pong, d.payload);
      assert.equal(coreSigner.verify(a.pub, env.signed, env.sig), false);
      const env2 = open(Kind.BroadcastPeer, d.payload);
      assert.equal(coreSigner.verify(a.pub, env2.signed, env2.sig), true);
      ma.free();
    });

    it('a report from an origin whose key is not known yet is dropped (and can be accepted once the key is)', () => {
      const ma = mesh(a);
      const mb = mesh(b);
      const r = ma.report([{ Src: 2, Timediff: 0.01, TimeToAlive: 10 }], 0, WALL);
      const got = mb.acceptReport(1, r.payload, 100);
      assert.match((got as { reason: string }).reason, /origin unknown/);
      assert.equal(mb.acceptPeer(Kind.BroadcastPeer, 1, ma.describe(Kind.BroadcastPeer, [], WALL).payload, 100).ok, true);
      assert.equal(mb.acceptReport(1, r.payload, 101).ok, true);
      ma.free();
      mb.free();
    });
  });

  describe('sequence numbers, dedup and expiry', () => {
    it('the same report twice is a duplicate; an older one is stale; after PeerAliveTimeout of silence an older seq is accepted (restart)', () => {
      const ma = mesh(a);
      const mb = mesh(b, { pat: 10 });
      mb.addConfigured(1, a.pub);
      const r1 = ma.report([{ Src: 2, Timediff: 0.01, TimeToAlive: 10 }], 0, WALL);
      const r2 = ma.report([{ Src: 2, Timediff: 0.02, TimeToAlive: 10 }], 0, WALL);
      assert.ok(r2.body.Seq > r1.body.Seq);
      assert.equal(mb.acceptReport(1, r2.payload, 100).ok, true);
      assert.equal((mb.acceptReport(1, r2.payload, 100.5) as { reason: string }).reason, 'p2p: duplicate (origin, seq)');
      assert.equal((mb.acceptReport(1, r1.payload, 101) as { reason: string }).reason, 'p2p: stale sequence number');
      // A restarted origin whose clock went back: accepted once it was silent for PeerAliveTimeout.
      const restarted = mesh({ ...a, id: 1 });
      const r3 = restarted.report([{ Src: 2, Timediff: 0.03, TimeToAlive: 10 }], 0, WALL - 60_000);
      assert.equal(mb.acceptReport(1, r3.payload, 105).ok, false);
      assert.equal(mb.acceptReport(1, r3.payload, 111).ok, true);
      ma.free();
      mb.free();
      restarted.free();
    });

    it('dedup entries expire after DupCheckTimeout; the sequence rule still refuses the replay', () => {
      const ma = mesh(a);
      const mb = mesh(b, { dup: 2, pat: 100 });
      mb.addConfigured(1, a.pub);
      const r = ma.report([], 0, WALL);
      assert.equal(mb.acceptReport(1, r.payload, 100).ok, true);
      assert.equal((mb.acceptReport(1, r.payload, 101) as { reason: string }).reason, 'p2p: duplicate (origin, seq)');
      assert.equal((mb.acceptReport(1, r.payload, 103) as { reason: string }).reason, 'p2p: stale sequence number');
      ma.free();
      mb.free();
    });

    it('a reported link expires after its TimeToAlive (capped at our PeerAliveTimeout) and the route goes', () => {
      const ma = mesh(a);
      const mb = mesh(b, { pat: 5 });
      mb.addConfigured(1, a.pub);
      // TimeToAlive 60 is capped at our PeerAliveTimeout, 5 s.
      assert.equal(mb.acceptReport(1, ma.report([{ Src: 2, Timediff: 0.01, TimeToAlive: 60 }], 0, WALL).payload, 100).ok, true);
      assert.equal(mb.solve(100)?.['2']?.['1'], 1);
      assert.equal(mb.solve(104.9), undefined, 'still valid');
      const t = mb.solve(105.1);
      assert.deepEqual(t, {}, 'expired: no route left');
      ma.free();
      mb.free();
    });
  });

  describe('peer self-descriptions (discovery) and key binding', () => {
    it('an unknown node is learnt from its own signed description, with its endpoints', () => {
      const ma = mesh(a);
      const mb = mesh(b);
      const got = mb.acceptPeer(Kind.QueryPeer, 1, ma.describe(Kind.QueryPeer, ['10.9.0.1:3001'], WALL).payload, 100);
      assert.equal(got.ok, true);
      const n = (got as { news: { origin: number; endpoints: string[]; isNew: boolean; key: Uint8Array } }).news;
      assert.deepEqual([n.origin, n.endpoints, n.isNew], [1, ['10.9.0.1:3001'], true]);
      assert.deepEqual(mb.keyOf(1)?.source, 'discovered');
      ma.free();
      mb.free();
    });

    it('a configured key wins: a description of a configured NodeID with another key is dropped', () => {
      const impostor = new P2PMesh({ me: 1, privateKey: c.priv, publicKey: c.pub, signer: coreSigner, graph: GRAPH, peerAliveTimeout: 10, dupCheckTimeout: 40 });
      const mb = mesh(b);
      mb.addConfigured(1, a.pub);
      const got = mb.acceptPeer(Kind.BroadcastPeer, 1, impostor.describe(Kind.BroadcastPeer, ['6.6.6.6:1'], WALL).payload, 100);
      assert.equal((got as { reason: string }).reason, 'p2p peer: key differs from the known key of its NodeID');
      assert.deepEqual(mb.keyOf(1)?.key, a.pub);
      impostor.free();
      mb.free();
    });

    it('the first-seen key of a discovered node wins; a key already bound to another NodeID is refused', () => {
      const mb = mesh(b);
      const first = mesh(a);
      const second = new P2PMesh({ me: 1, privateKey: c.priv, publicKey: c.pub, signer: coreSigner, graph: GRAPH, peerAliveTimeout: 10, dupCheckTimeout: 40 });
      assert.equal(mb.acceptPeer(Kind.BroadcastPeer, 1, first.describe(Kind.BroadcastPeer, [], WALL).payload, 100).ok, true);
      assert.match((mb.acceptPeer(Kind.BroadcastPeer, 1, second.describe(Kind.BroadcastPeer, [], WALL + 1).payload, 100) as { reason: string }).reason, /key differs/);
      // Node 1's key reused under NodeID 7.
      const squatter = new P2PMesh({ me: 7, privateKey: a.priv, publicKey: a.pub, signer: coreSigner, graph: GRAPH, peerAliveTimeout: 10, dupCheckTimeout: 40 });
      assert.match((mb.acceptPeer(Kind.BroadcastPeer, 7, squatter.describe(Kind.BroadcastPeer, [], WALL).payload, 100) as { reason: string }).reason, /another node's/);
      assert.deepEqual(mb.keyOf(1)?.key, a.pub);
      [mb, first, second, squatter].forEach((m) => m.free());
    });

    it('a description relayed under another header source, or with a broken signature, is dropped', () => {
      const ma = mesh(a);
      const mc = mesh(c);
      const d = ma.describe(Kind.BroadcastPeer, ['10.0.0.1:1'], WALL);
      assert.match((mc.acceptPeer(Kind.BroadcastPeer, 2, d.payload, 100) as { reason: string }).reason, /origin differs/);
      const bad = alter(d.payload, '10.0.0.1:1', '10.0.0.6:1');
      assert.equal((mc.acceptPeer(Kind.BroadcastPeer, 1, bad, 100) as { reason: string }).reason, 'p2p peer: bad signature');
      assert.equal(mc.keyOf(1), undefined);
      ma.free();
      mc.free();
    });
  });

  describe('determinism', () => {
    // Six nodes; latencies with clock offsets and many exact ties (equal-cost paths).
    const ids = [1, 2, 3, 4, 5, 6];
    const nodes = ids.map(node);
    const off = [0, 7, -3, 0.5, 100, -2];
    const lat = (s: number, d: number) => [0.01, 0.02, 0.01, 0.03, 0.02][(s * 7 + d * 3) % 5] + off[d - 1] - off[s - 1];
    const links = (d: number) => ids.filter((s) => s !== d && !(s === 1 && d === 6) && !(s === 6 && d === 1)).map((s) => ({ Src: s, Timediff: lat(s, d), TimeToAlive: 30 }));

    it('every node computes the same table from the same reports, whatever their order', () => {
      const meshes = nodes.map((n) => mesh(n));
      for (const m of meshes) for (const n of nodes) if (n.id !== m.me) m.addConfigured(n.id, n.pub);
      const reports = meshes.map((m) => m.report(links(m.me), 10, WALL));
      meshes.forEach((m, i) => {
        // Each applies its own links directly and the others' in a different order.
        m.applyOwn(reports[i].body, 100);
        const order = reports.map((_, j) => (j + i * 5) % reports.length).filter((j) => j !== i);
        for (const j of order) assert.equal(m.acceptReport(meshes[j].me, reports[j].payload, 100).ok, true);
        assert.ok(m.solve(100));
      });
      const tables = meshes.map((m) => JSON.stringify(m.nhTable));
      assert.equal(new Set(tables).size, 1, tables.join('\n'));
      assert.notEqual(meshes[0].nhTable['1']['6'], 6, 'no direct 1↔6 link: relayed');

      // Broadcast from every source, each node forwarding by its own solution: every node gets exactly one copy.
      for (const src of ids) {
        const got = new Map<number, number>(ids.map((x) => [x, 0]));
        const queue: [number, number][] = [];
        const mIdx = (id: number) => meshes[ids.indexOf(id)];
        for (const nh of mIdx(src).graph.forwardSet(src, src, 65532)) queue.push([nh, src]);
        while (queue.length) {
          const [at, from] = queue.shift()!;
          got.set(at, got.get(at)! + 1);
          for (const nh of mIdx(at).graph.forwardSet(at, src, from)) queue.push([nh, at]);
        }
        for (const id of ids) assert.equal(got.get(id), id === src ? 0 : 1, `broadcast from ${src}: node ${id} got ${got.get(id)} copies`);
      }
      meshes.forEach((m) => m.free());
    });
  });
});
