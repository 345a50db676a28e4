// Several supernodes, one network: two supernodes sharing an etcd prefix and real edges (Edge +
// SuperClient, IType dummy, WireGuard over loopback UDP) configured with one as the main
// supernode and the other in DynamicRoute.SuperNode.ExtraSuperNodes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, generatePSK, loadEdgeConfig, parseSuperConfig } from '../ts/config/index.js';
import { StaticRoutes } from '../ts/core/table.js';
import { Edge } from '../ts/edge/edge.js';
import { SuperClient } from '../ts/edge/superclient.js';
import { Supernode } from '../ts/super/supernode.js';
import { EtcdCluster } from './helpers/etcd.js';
import { quietLogger, until } from './helpers/loopback-super.js';
import { upstreamGeneratedEdge } from './helpers/upstream-config.js';

const PW = { ShowState: 'show_pw', AddPeer: 'add_pw', DelPeer: 'del_pw', UpdatePeer: 'upd_pw', UpdateSuper: 'sup_pw' };

interface Keys {
  id: number;
  priv: string;
  pub: string;
  psk: string;
}
const keys = (id: number): Keys => {
  const k = generateKeyPair();
  return { id, priv: k.privateKey, pub: k.publicKey, psk: generatePSK() };
};

interface SN {
  sn: Supernode;
  pub: string;
}

async function startSuper(dir: string, name: string, endpoints: string[], prefix: string, peers: Keys[]): Promise<SN> {
  const k = generateKeyPair();
  const path = join(dir, `${name}.yaml`);
  const text = `NodeName: ${name}
PrivKeyV4: ${k.privateKey}
PrivKeyV6: ""
DisabledAf: {IPv6: true}
API_Prefix: /eg_api
PeerAliveTimeout: 6
SendPingInterval: 1
HttpPostInterval: 3
RePushConfigInterval: 5
Passwords: ${JSON.stringify(PW)}
GraphRecalculateSetting: {JitterTolerance: 5, JitterToleranceMultiplier: 1.01, TimeoutCheckInterval: 1, RecalculateCoolDown: 0}
Etcd: {Endpoints: ${JSON.stringify(endpoints)}, Prefix: ${prefix}}
Peers:
${peers.map((p) => `  - {NodeID: ${p.id}, Name: EgNet${String(p.id).padStart(3, '0')}, PubKey: ${p.pub}, PSKey: ${p.psk}, AdditionalCost: 0}\n`).join('')}`;
  writeFileSync(path, text);
  const cfg = parseSuperConfig(text, path);
  cfg.ListenPort = 0;
  cfg.ListenPort_EdgeAPI = '127.0.0.1:0';
  cfg.ListenPort_ManageAPI = '127.0.0.1:0';
  cfg.DisabledAf.ListenIPv4 = '127.0.0.1';
  const sn = new Supernode(cfg, { configPath: path, log: quietLogger(name), uapi: false, shutdownNotices: { count: 1, intervalMs: 0 } });
  await sn.start();
  return { sn, pub: k.publicKey };
}

interface EdgeRun {
  edge: Edge;
  client: SuperClient;
  stop(): Promise<void>;
}

/** An edge whose main supernode is `main` and whose ExtraSuperNodes lists `extra`. */
async function startEdge(dir: string, k: Keys, main: SN, extra: SN): Promise<EdgeRun> {
  const path = join(dir, `edge${k.id}.yaml`);
  const api = (s: SN) => `${s.sn.httpAddress()}/eg_api`;
  const text = upstreamGeneratedEdge({ id: k.id, priv: k.priv, psk: k.psk, pub4: main.pub, pub6: '', endpoint4: `127.0.0.1:${main.sn.udpPort}`, api: api(main) })
    .replace('    SuperNodeInfoTimeout: 50\n', `    SuperNodeInfoTimeout: 50\n    ExtraSuperNodes:\n      - {EndpointV4: "127.0.0.1:${extra.sn.udpPort}", PubKeyV4: ${extra.pub}, EndpointEdgeAPIUrl: "${api(extra)}"}\n`)
    .replace('  SendPingInterval: 16\n  PeerAliveTimeout: 70\n', '  SendPingInterval: 1\n  PeerAliveTimeout: 6\n');
  writeFileSync(path, text);
  const cfg = loadEdgeConfig(path, () => undefined);
  let client: SuperClient | undefined;
  const edge = new Edge(cfg, { log: quietLogger(`edge${k.id}`), routes: new StaticRoutes(cfg.NextHopTable), uapi: false, onControl: (h, p, from) => client?.onControl(h, p, from) });
  client = new SuperClient(edge, cfg);
  client.addSuperPeers();
  await edge.start();
  client.start();
  const c = client;
  return {
    edge,
    client: c,
    stop: async () => {
      c.stop();
      await edge.stop().catch(() => undefined);
    },
  };
}

const aliveOn = (s: SN, id: number) => {
  const r = s.sn.edges.get(id);
  return r !== undefined && !r.removing && s.sn.alive(r);
};
const hop = (e: EdgeRun, dst: number) => e.edge.routes.nextHop(e.edge.me, dst);

describe('several supernodes, one network (ExtraSuperNodes, etcd)', function () {
  this.timeout(240_000);
  let etcd: EtcdCluster | undefined;
  let dir = '';
  let a: SN | undefined;
  let b: SN | undefined;
  const edges: EdgeRun[] = [];
  const ks = [1, 2, 3].map(keys);

  before(async () => {
    etcd = await EtcdCluster.start(1);
    dir = mkdtempSync(join(tmpdir(), 'eg-multi-super-'));
    const prefix = `/eg-test/${randomBytes(6).toString('hex')}/`;
    a = await startSuper(dir, 'SuperA', etcd.endpoints, prefix, ks);
    b = await startSuper(dir, 'SuperB', etcd.endpoints, prefix, ks);
    for (const k of ks) edges.push(await startEdge(dir, k, a, b));
  });
  after(async () => {
    for (const e of edges) await e.stop();
    await a?.sn.stop();
    await b?.sn.stop();
    await etcd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every edge registers with both supernodes, and both publish the same next-hop table', async () => {
    await until(() => [a!, b!].every((s) => ks.every((k) => aliveOn(s, k.id))), 30_000, 'every edge alive on both supernodes');
    await until(() => edges.every((e) => ks.every((k) => k.id === e.edge.me || hop(e, k.id) !== undefined)), 30_000, 'every edge has a route to every other');
    await until(() => a!.sn.routes.hash === b!.sn.routes.hash && a!.sn.peerState().hash === b!.sn.peerState().hash, 30_000, 'the same table and peer-list hashes on both');
  });

  it('with the main supernode gone, peer/add on the other reaches the edges and a dead node is routed around', async () => {
    await a!.sn.stop();
    const k4 = keys(4);
    const u = new URL(`${b!.sn.manageAddress()}/eg_api/manage/peer/add`);
    for (const [q, v] of Object.entries({ Password: PW.AddPeer, NodeID: 4, Name: 'EgNet004', AdditionalCost: 0, PubKey: k4.pub, PSKey: k4.psk })) u.searchParams.set(q, String(v));
    const r = await fetch(u, { method: 'POST' });
    assert.equal(r.status, 200, await r.text());
    // The new edge's main supernode (A) is down: it joins through its extra one (B).
    ks.push(k4);
    edges.push(await startEdge(dir, k4, a!, b!));
    await until(() => aliveOn(b!, 4), 30_000, 'edge 4 alive on supernode B');
    await until(() => edges.every((e) => [1, 2, 3, 4].every((id) => id === e.edge.me || hop(e, id) !== undefined)), 40_000, 'every edge (4 included) routes to every other');
    // Edge 3 dies: B expires its links after PeerAliveTimeout and the others drop their routes to it.
    const three = edges.splice(2, 1)[0]!;
    await three.stop();
    await until(() => edges.every((e) => hop(e, 3) === undefined), 40_000, 'no edge routes to the dead edge 3');
    assert.ok(edges.every((e) => [1, 2, 4].every((id) => id === e.edge.me || hop(e, id) !== undefined)), 'the live edges still route to each other');
  });
});
