// Durable state in etcd (config key Etcd): supernodes sharing one prefix of a real etcd cluster
// (Debian's etcd-server, started here with temp data dirs and free ports).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, parseSuperConfig } from '../ts/config/index.js';
import { HEADER_LEN, Kind, NODE_SUPER, writeHeader } from '../ts/core/frame.js';
import { Logger } from '../ts/shared/log.js';
import { encode } from '../ts/proto/control.js';
import { Supernode } from '../ts/super/supernode.js';
import type { Peer } from '../ts/wgnode/peers.js';
import { EtcdCluster } from './helpers/etcd.js';

const quiet = (): Logger =>
  new Logger('etcd-test', { LogLevel: process.env.EG_TEST_LOG ? 'debug' : 'silent', LogTransit: false, LogNormal: false, LogControl: true, LogInternal: true });

const PW = { ShowState: 'show_pw', AddPeer: 'add_pw', DelPeer: 'del_pw', UpdatePeer: 'upd_pw', UpdateSuper: 'sup_pw' };

interface Node {
  sn: Supernode;
  dir: string;
  manage: string;
}

/** A supernode whose file lists `peers` (ids) and whose state lives in etcd under `prefix`. */
async function startSuper(name: string, endpoints: string[], prefix: string, peers: number[], pubs: Map<number, string>): Promise<Node> {
  const dir = mkdtempSync(join(tmpdir(), 'eg-etcd-super-'));
  const path = join(dir, 'super.yaml');
  const k = generateKeyPair();
  for (const id of peers) if (!pubs.has(id)) pubs.set(id, generateKeyPair().publicKey);
  writeFileSync(
    path,
    `NodeName: ${name}
PrivKeyV4: ${k.privateKey}
PrivKeyV6: ""
DisabledAf: {IPv6: true}
API_Prefix: /eg_api
PeerAliveTimeout: 70
SendPingInterval: 15
HttpPostInterval: 50
Passwords: ${JSON.stringify(PW)}
GraphRecalculateSetting: {JitterTolerance: 0, JitterToleranceMultiplier: 1, TimeoutCheckInterval: 5, RecalculateCoolDown: 0}
Etcd:
  Endpoints: ${JSON.stringify(endpoints)}
  Prefix: ${prefix}
  Timeout: 2
Peers:
${peers.map((id) => `  - {NodeID: ${id}, Name: Node_${id}, PubKey: ${pubs.get(id)}, AdditionalCost: 10}\n`).join('')}`,
  );
  const cfg = parseSuperConfig(readFileSync(path, 'utf8'), path);
  cfg.ListenPort = 0;
  cfg.ListenPort_EdgeAPI = '127.0.0.1:0';
  cfg.ListenPort_ManageAPI = '127.0.0.1:0';
  cfg.DisabledAf.ListenIPv4 = '127.0.0.1';
  const sn = new Supernode(cfg, { configPath: path, log: quiet(), uapi: false, shutdownNotices: { count: 1, intervalMs: 0 } });
  await sn.start();
  return { sn, dir, manage: `${sn.manageAddress()}/eg_api/manage` };
}

async function stopSuper(n: Node | undefined): Promise<void> {
  if (!n) return;
  await n.sn.stop();
  rmSync(n.dir, { recursive: true, force: true });
}

async function call(n: Node, path: string, q: Record<string, string | number | boolean>): Promise<{ status: number; text: string }> {
  const u = new URL(`${n.manage}/${path}`);
  for (const [k, v] of Object.entries(q)) u.searchParams.set(k, String(v));
  const r = await fetch(u, { method: 'POST' });
  return { status: r.status, text: await r.text() };
}

const addPeer = (n: Node, id: number, pub = generateKeyPair().publicKey) =>
  call(n, 'peer/add', { Password: PW.AddPeer, NodeID: id, Name: `Node_${id}`, AdditionalCost: 10, PubKey: pub });

/** Polls `cond` every 10 ms until it holds; returns the ms it took. */
async function within(ms: number, what: string, cond: () => boolean): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - t0;
}

const has = (n: Node, id: number) => n.sn.edges.has(id) && !n.sn.edges.get(id)!.removing;
const uniquePrefix = () => `/eg-test/${randomBytes(6).toString('hex')}/`;

/** A Pong measured by `dst` (the sim's seam: what the WireGuard host hands the supernode). */
function pong(sn: Supernode, src: number, dst: number, timediff: number): void {
  const payload = encode({ v: 1, Src: src, Dst: dst, Timediff: timediff, TimeToAlive: 70, AdditionalCost: 0 });
  const plain = new Uint8Array(HEADER_LEN + payload.length);
  writeHeader(plain, { kind: Kind.Pong, ttl: 0, dst: NODE_SUPER, src: dst, len: payload.length });
  plain.set(payload, HEADER_LEN);
  sn.receive(4, plain, { nodeId: dst } as Peer);
}

describe('supernode state in etcd', function () {
  this.timeout(180_000);

  describe('two supernodes on one etcd prefix', () => {
    let etcd: EtcdCluster | undefined;
    let a: Node | undefined;
    let b: Node | undefined;
    const pubs = new Map<number, string>();

    before(async () => {
      etcd = await EtcdCluster.start(1);
      const prefix = uniquePrefix();
      a = await startSuper('SuperA', etcd.endpoints, prefix, [1, 2], pubs);
      // B's file lists other peers: the prefix, seeded by A, wins.
      b = await startSuper('SuperB', etcd.endpoints, prefix, [7], pubs);
    });
    after(async () => {
      await stopSuper(a);
      await stopSuper(b);
      await etcd?.stop();
    });

    it('the second supernode starts from the state the first one seeded, not from its own file', () => {
      assert.deepEqual([...b!.sn.edges.keys()].sort(), [1, 2]);
      assert.deepEqual(b!.sn.cfg.Peers.map((p) => p.NodeID).sort(), [1, 2]);
    });

    it('peer/add on one supernode appears on the other within a second', async () => {
      const r = await addPeer(a!, 3);
      assert.equal(r.status, 200, r.text);
      assert.ok(has(a!, 3));
      const ms = await within(1000, 'NodeID 3 on supernode B', () => has(b!, 3));
      assert.ok(ms <= 1000);
      // And a peer/del there reaches the first one the same way.
      const d = await call(b!, 'peer/del', { Password: PW.DelPeer, NodeID: 3 });
      assert.equal(d.status, 200, d.text);
      await within(1000, 'NodeID 3 gone from supernode A', () => !has(a!, 3));
    });

    it('peer/update and super/update are checked by the loader and reach the other supernode', async () => {
      const bad = await call(a!, 'peer/update', { Password: PW.UpdatePeer, NodeID: 1, AdditionalCost: -5 });
      assert.equal(bad.status, 400, bad.text);
      assert.match(bad.text, /AdditionalCost/);
      const badSuper = await call(a!, 'super/update', { Password: PW.UpdateSuper, HttpPostInterval: 500 });
      assert.equal(badSuper.status, 400, badSuper.text);
      const ok = await call(a!, 'peer/update', { Password: PW.UpdatePeer, NodeID: 1, AdditionalCost: 25 });
      assert.equal(ok.status, 200, ok.text);
      const s = await call(b!, 'super/update', { Password: PW.UpdateSuper, PeerAliveTimeout: 60 });
      assert.equal(s.status, 200, s.text);
      await within(1000, 'AC 25 on B', () => b!.sn.edges.get(1)?.conf.AdditionalCost === 25);
      await within(1000, 'PeerAliveTimeout 60 on A', () => a!.sn.cfg.PeerAliveTimeout === 60);
      assert.equal(b!.sn.cfg.HttpPostInterval, 50, 'the refused super/update changed nothing');
    });

    it('concurrent conflicting writes on two supernodes lose no update', async () => {
      // Two adds of different nodes and two updates of different fields of one peer, all at once,
      // half on each supernode: each is based on a read the other may invalidate, so each commit
      // compares on the last change and is re-checked when it lost.
      const ids = [10, 11, 12, 13, 14, 15];
      const rs = await Promise.all([
        ...ids.map((id, i) => addPeer(i % 2 ? a! : b!, id)),
        call(a!, 'peer/update', { Password: PW.UpdatePeer, NodeID: 2, AdditionalCost: 33 }),
        call(b!, 'peer/update', { Password: PW.UpdatePeer, NodeID: 2, SkipLocalIP: true }),
      ]);
      for (const r of rs) assert.equal(r.status, 200, r.text);
      for (const n of [a!, b!]) {
        await within(1000, 'all adds on both', () => ids.every((id) => has(n, id)));
        await within(1000, 'both updates on both', () => n.sn.edges.get(2)?.conf.AdditionalCost === 33 && n.sn.edges.get(2)?.conf.SkipLocalIP === true);
      }
      // Two adds of the same NodeID at once: exactly one lands.
      const [x, y] = await Promise.all([addPeer(a!, 20), addPeer(b!, 20)]);
      // The loser is refused as the file store refuses it: by the early check (409) or, when both
      // passed it, by the loader on the re-read state (400 duplicate NodeID).
      const [win, lose] = x.status === 200 ? [x, y] : [y, x];
      assert.equal(win.status, 200, win.text);
      assert.ok(lose.status === 409 || lose.status === 400, lose.text);
      assert.match(lose.text, /already exists|duplicate NodeID 20/);
    });

    it('supernodes on one prefix publish the same state hashes and pair PSKs for the same inputs', async () => {
      for (const n of [a!, b!]) {
        pong(n.sn, 1, 2, 0.003);
        pong(n.sn, 2, 1, 0.004);
        n.sn.checkRoutes();
      }
      await within(2000, 'a table with 1→2 on both', () => a!.sn.routes.nhTable['1']?.['2'] === 2 && b!.sn.routes.nhTable['1']?.['2'] === 2);
      assert.equal(a!.sn.routes.hash, b!.sn.routes.hash);
      assert.equal(a!.sn.peerState().hash, b!.sn.peerState().hash);
      assert.equal(a!.sn.paramsState(a!.sn.edges.get(1)!).hash, b!.sn.paramsState(b!.sn.edges.get(1)!).hash);
      assert.equal(a!.sn.psks.get(1, 2), b!.sn.psks.get(2, 1));
      assert.notEqual(a!.sn.psks.get(1, 2), a!.sn.psks.get(1, 10));
    });

    it('soft state (latencies) is never written to etcd', async () => {
      const c = etcd!.client();
      try {
        const before = await c.getAll().prefix('/eg-test/').keys();
        pong(a!.sn, 1, 2, 0.004);
        a!.sn.checkRoutes();
        await new Promise((r) => setTimeout(r, 300));
        const res = await c.getAll().prefix('/eg-test/').exec();
        assert.deepEqual(res.kvs.map((kv) => kv.key.toString()).sort(), before.sort());
      } finally {
        c.close();
      }
    });
  });

  describe('a bad value written around the manage API', () => {
    let etcd: EtcdCluster | undefined;
    let a: Node | undefined;
    const pubs = new Map<number, string>();
    const prefix = uniquePrefix();

    before(async () => {
      etcd = await EtcdCluster.start(1);
      a = await startSuper('SuperX', etcd.endpoints, prefix, [1, 2], pubs);
    });
    after(async () => {
      await stopSuper(a);
      await etcd?.stop();
    });

    it('is never applied: the running state stays, writes answer 409 naming it, and work again once it is gone', async () => {
      const c = etcd!.client();
      try {
        await c.put(`${prefix}peers/5`).value(JSON.stringify({ NodeID: 5, Name: 'Node_5', PubKey: 'not a key', AdditionalCost: 10 }));
        await c.put(`${prefix}rev`).value('{}');
        await new Promise((r) => setTimeout(r, 500));
        assert.deepEqual([...a!.sn.edges.keys()].sort(), [1, 2]);
        const r = await addPeer(a!, 6);
        assert.equal(r.status, 409, r.text);
        assert.match(r.text, /state in etcd does not load.*PubKey/);
        assert.ok(!has(a!, 6));
        await c.delete().key(`${prefix}peers/5`);
        const ok = await addPeer(a!, 6);
        assert.equal(ok.status, 200, ok.text);
      } finally {
        c.close();
      }
    });
  });

  describe('quorum loss', () => {
    let etcd: EtcdCluster | undefined;
    let a: Node | undefined;
    const pubs = new Map<number, string>();

    before(async () => {
      etcd = await EtcdCluster.start(3);
      a = await startSuper('SuperQ', etcd.endpoints, uniquePrefix(), [1, 2, 3], pubs);
    });
    after(async () => {
      await stopSuper(a);
      await etcd?.stop();
    });

    it('two of three members down: writes answer 503 and change nothing, routing keeps running', async () => {
      const before = JSON.stringify(a!.sn.cfg.Peers);
      await etcd!.stopMember(1);
      await etcd!.stopMember(2);
      for (const [path, q] of [
        ['peer/add', { Password: PW.AddPeer, NodeID: 9, Name: 'Node_9', AdditionalCost: 10, PubKey: generateKeyPair().publicKey }],
        ['peer/del', { Password: PW.DelPeer, NodeID: 3 }],
        ['peer/update', { Password: PW.UpdatePeer, NodeID: 1, AdditionalCost: 40 }],
        ['super/update', { Password: PW.UpdateSuper, PeerAliveTimeout: 50 }],
      ] as const) {
        const r = await call(a!, path, q);
        assert.equal(r.status, 503, `${path}: ${r.text}`);
        assert.match(r.text, /etcd .*unavailable.*nothing changed/);
      }
      assert.equal(JSON.stringify(a!.sn.cfg.Peers), before);
      assert.equal(a!.sn.cfg.PeerAliveTimeout, 70);
      assert.ok(has(a!, 3));
      // Routing on the last state: 1→3 is slow, 1→2→3 fast, so the solve picks 2 as next hop.
      pong(a!.sn, 1, 2, 0.001);
      pong(a!.sn, 2, 3, 0.001);
      pong(a!.sn, 1, 3, 0.05);
      pong(a!.sn, 2, 1, 0.001);
      pong(a!.sn, 3, 2, 0.001);
      pong(a!.sn, 3, 1, 0.05);
      await within(5000, 'route 1→3 via 2', () => {
        a!.sn.invalidateState();
        return a!.sn.state().NhTable['1']?.['3'] === 2;
      });
      // Quorum back: the refused writes never landed, and writes work again.
      etcd!.startMember(1);
      etcd!.startMember(2);
      await etcd!.waitReady(60_000);
      const c = etcd!.client();
      try {
        const keys = await c.getAll().prefix('/eg-test/').keys();
        assert.ok(!keys.some((k) => k.endsWith('/peers/9')), keys.join(' '));
        assert.ok(keys.some((k) => k.endsWith('/peers/3')), keys.join(' '));
      } finally {
        c.close();
      }
      const r = await addPeer(a!, 9);
      assert.equal(r.status, 200, r.text);
    });
  });
});
