// Two supernodes, one network, end to end: a real etcd (Debian's etcd-server, in the root
// namespace on the test bridge), two supernode processes sharing its prefix and edges in their
// own namespaces over TAP whose configs list the other supernode in ExtraSuperNodes. Each
// supernode in turn (first the one that is not the edges' main supernode, then the main one) is
// killed with SIGKILL: the survivor still reroutes a cut link, and the killed one, restarted from
// a file without peers, restores them from etcd. Two peer/add calls on the two supernodes at once
// both land, in etcd and on both supernodes, and both new edges join.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { generateKeyPair, generatePSK } from '../../ts/config/index.js';
import { buildMeshConfigs, type MeshConfigs } from '../../ts/demo/meshcfg.js';
import { cutLink } from '../helpers/delay.js';
import { EtcdCluster } from '../helpers/etcd.js';
import { type Proc, startEdge, stopAll } from '../helpers/mesh.js';
import { isRoot } from '../helpers/netns.js';
import { buildStar, pingFrom, type Topo } from '../helpers/topo.js';

const run = promisify(execFile);
const IDS = [1, 2, 3];
const SA = 101;
const SB = 102;
const ROOT_ID = 250;
/** Edges added by peer/add while the test runs. */
const NEW = [4, 5, 6];
const NET = 83;
const tapIp = (id: number) => `192.168.83.${id}`;

interface State {
  Edges: Record<string, Record<string, number>>;
  NhTable: Record<string, Record<string, number>>;
  PeerInfo: Record<string, { Name: string }>;
  Status?: Record<string, { Alive?: boolean; Synced?: { NhTable?: boolean } }>;
  Infinity: number;
}

type Y = Record<string, unknown> & { DynamicRoute: Record<string, unknown> & { SuperNode: Record<string, unknown> } };

describe('e2e: two supernodes sharing etcd, edges with ExtraSuperNodes (namespaces, TAP)', function () {
  this.timeout(300_000);
  let topo: Topo | undefined;
  let etcd: EtcdCluster | undefined;
  let cfgs: MeshConfigs;
  const procs = new Map<number, Proc>();
  const dir = mkdtempSync(join(tmpdir(), 'egha-'));
  const superB = generateKeyPair();
  let etcdPrefix = '';
  const api = (sn: number, path: string, pw: string, params: Record<string, string | number> = {}) => {
    const q = new URLSearchParams({ Password: pw, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) });
    return `http://${topo!.addr(sn)}:3100${cfgs.apiPrefix}${path}?${q}`;
  };
  async function http(url: string, method = 'GET'): Promise<{ status: number; body: string }> {
    const { stdout } = await run('ip', ['netns', 'exec', topo!.ns.get(1)!, 'curl', '-s', '-m', '5', '-X', method, '-w', '\n%{http_code}', url]);
    const i = stdout.lastIndexOf('\n');
    return { status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) };
  }
  const state = async (sn: number): Promise<State> => JSON.parse((await http(api(sn, '/manage/super/state', cfgs.passwords.ShowState))).body) as State;
  async function until(sn: number, what: string, ms: number, cond: (s: State) => boolean): Promise<number> {
    const t0 = Date.now();
    let last: State | undefined;
    while (Date.now() - t0 < ms) {
      try {
        last = await state(sn);
        if (cond(last)) return (Date.now() - t0) / 1000;
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`supernode ${sn}: timed out after ${ms} ms waiting for ${what}; last NhTable ${JSON.stringify(last?.NhTable)}; logs: ${procs.get(sn)?.out.slice(-10).join(' | ')}`);
  }
  const full = (s: State, ids = IDS) => ids.every((a) => ids.every((b) => a === b || (s.NhTable?.[a]?.[b] !== undefined && (s.Edges?.[a]?.[b] ?? s.Infinity) < s.Infinity)));
  const withExtra = (y: Y): Y => {
    y.DynamicRoute.SuperNode.ExtraSuperNodes = [{ EndpointV4: `${topo!.addr(SB)}:3000`, PubKeyV4: superB.publicKey, EndpointEdgeAPIUrl: `http://${topo!.addr(SB)}:3100${cfgs.apiPrefix}` }];
    return y;
  };
  /**
   * A config for a new edge `id` (keys `k`, `psk`): main supernode A with B as its extra one, or
   * (`main` SB) the other way round.
   */
  const newEdge = (id: number, k: { privateKey: string }, psk: string, main = SA): Y => {
    const base = parse(cfgs.edgeYaml.get(1)!) as Y;
    const cfg: Y = {
      ...base,
      NodeID: id,
      NodeName: `egnew${id}`,
      PrivKey: k.privateKey,
      Interface: { ...(base.Interface as object), Name: `eg${id}` },
      DynamicRoute: { ...base.DynamicRoute, SuperNode: { ...base.DynamicRoute.SuperNode, PSKey: psk } },
    };
    const y = withExtra(cfg);
    if (main === SB) {
      const sn = y.DynamicRoute.SuperNode;
      const extra = (sn.ExtraSuperNodes as Record<string, string>[])[0]!;
      sn.ExtraSuperNodes = [{ EndpointV4: sn.EndpointV4, PubKeyV4: sn.PubKeyV4, EndpointEdgeAPIUrl: sn.EndpointEdgeAPIUrl }];
      Object.assign(sn, extra);
    }
    return y;
  };
  /** Kills supernode `sn` with SIGKILL while 1 pings 3: data frames never pass a supernode, so none is lost. */
  async function killLosingNoPing(sn: number): Promise<void> {
    const stream = run('ip', ['netns', 'exec', topo!.ns.get(1)!, 'ping', '-c', '30', '-i', '0.1', '-W', '2', tapIp(3)]);
    await new Promise((r) => setTimeout(r, 1000));
    procs.get(sn)!.child.kill('SIGKILL');
    await procs.get(sn)!.exited;
    const { stdout } = await stream;
    assert.match(stdout, / 0% packet loss/, stdout);
  }
  /**
   * Cuts the link x↔y and waits for the surviving supernode `sn` to route around it: within
   * PeerAliveTimeout 5 s + 2 × SendPingInterval 1 s + 1 s TimeoutCheckInterval (the check that
   * sees the expiry); then every edge pulls the new table and x pings y over a relay.
   */
  async function cutReroutes(sn: number, x: number, y: number): Promise<void> {
    const cut = cutLink({ netns: topo!.ns.get(x)!, dstIp: topo!.addr(y), both: true });
    try {
      const s = await until(sn, `reroute around the cut ${x}↔${y}`, 20_000, (st) => st.NhTable[x]?.[y] !== y && st.NhTable[y]?.[x] !== x);
      console.log(`      ${x}↔${y} rerouted by the surviving supernode after ${s.toFixed(1)} s`);
      assert.ok(s <= 8, `rerouted after ${s.toFixed(1)} s`);
      await until(sn, 'edges synced to the new table', 15_000, (st) => IDS.every((id) => st.Status?.[id]?.Synced?.NhTable === true));
      assert.ok(await pingFrom(topo!.ns.get(x)!, tapIp(y), 8), `ping ${x}→${y} over the relay`);
    } finally {
      cut.restore();
    }
  }
  /** Restarts supernode `sn` from a copy of its file with no Peers: everything it serves comes from etcd. */
  function restartWithoutPeers(sn: number): void {
    const file = sn === SA ? 'superA' : 'superB';
    const y = parse(readFileSync(join(dir, `${file}.yaml`), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, `${file}-nopeers.yaml`), stringify({ ...y, Peers: [] }));
    procs.set(sn, startEdge(join(dir, `${file}-nopeers.yaml`), { netns: topo!.ns.get(sn)!, args: ['-no-uapi'], mode: 'super' }));
  }

  before(async function () {
    if (!isRoot()) this.skip();
    topo = buildStar([...IDS, ...NEW, SA, SB], NET);
    topo.joinRoot(ROOT_ID);
    etcd = await EtcdCluster.start(1, 60_000, topo.addr(ROOT_ID));
    cfgs = buildMeshConfigs({
      name: `egh${process.pid % 1000}n`,
      superHost: topo.addr(SA),
      superPort: 3000,
      httpPort: 3100,
      edges: IDS.map((id) => ({ id, listenPort: 3001, additionalCost: 50, iface: { IType: 'tap', Name: `eg${id}`, IPv4CIDR: '192.168.83.0/24' } })),
      timing: { SendPingInterval: 1, HttpPostInterval: 2, PeerAliveTimeout: 5, DampingFilterRadius: 1, RecalculateCoolDown: 1, TimeoutCheckInterval: 1, JitterTolerance: 20, JitterToleranceMultiplier: 1.01 },
      log: { LogControl: false },
    });
    etcdPrefix = `/eg-e2e/${randomBytes(6).toString('hex')}/`;
    const etcdKey = { Endpoints: etcd.endpoints, Prefix: etcdPrefix };
    const a = { ...(parse(cfgs.superYaml) as Record<string, unknown>), Etcd: etcdKey };
    const b = {
      ...a,
      NodeName: `egh${process.pid % 1000}SB`,
      PrivKeyV4: superB.privateKey,
      PrivKeyV6: generateKeyPair().privateKey,
      ListenPort_EdgeAPI: `${topo.addr(SB)}:3100`,
      ListenPort_ManageAPI: `${topo.addr(SB)}:3100`,
    };
    writeFileSync(join(dir, 'superA.yaml'), stringify(a));
    writeFileSync(join(dir, 'superB.yaml'), stringify(b));
    procs.set(SA, startEdge(join(dir, 'superA.yaml'), { netns: topo.ns.get(SA)!, args: ['-no-uapi'], mode: 'super' }));
    procs.set(SB, startEdge(join(dir, 'superB.yaml'), { netns: topo.ns.get(SB)!, args: ['-no-uapi'], mode: 'super' }));
    for (const id of IDS) {
      writeFileSync(join(dir, `edge${id}.yaml`), stringify(withExtra(parse(cfgs.edgeYaml.get(id)!) as Y)));
      procs.set(id, startEdge(join(dir, `edge${id}.yaml`), { netns: topo.ns.get(id)!, args: ['-no-uapi'] }));
    }
  });

  after(async () => {
    await stopAll([...procs.values()]);
    await etcd?.stop();
    topo?.teardown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('both supernodes see every edge and solve the full table; every pair pings over TAP', async () => {
    await until(SA, 'full table on A', 60_000, (s) => full(s));
    await until(SB, 'full table on B', 60_000, (s) => full(s));
    const pairs = IDS.flatMap((x) => IDS.filter((y) => y !== x).map((y) => [x, y] as const));
    const res = await Promise.all(pairs.map(async ([x, y]) => [x, y, await pingFrom(topo!.ns.get(x)!, tapIp(y), 5)] as const));
    assert.deepEqual(res.filter((r) => !r[2]).map(([x, y]) => `${x}->${y}`), []);
  });

  it('after kill -9 of the supernode that is not the edges\' main one, a link cut still reroutes within PeerAliveTimeout + 2 ping intervals', async () => {
    await killLosingNoPing(SB);
    await cutReroutes(SA, 1, 3);
  });

  it('the killed supernode, restarted from a file without peers, restores them from etcd alone and solves the full table', async () => {
    restartWithoutPeers(SB);
    await until(SB, 'restarted B has nodes 1-3 and the full table', 60_000, (s) => full(s));
  });

  it('after kill -9 of the main supernode a link cut still reroutes within PeerAliveTimeout + 2 ping intervals', async () => {
    await killLosingNoPing(SA);
    await cutReroutes(SB, 1, 2);
  });

  it('peer/add on the surviving supernode: the new edge joins through it, and all four edges ping each other', async () => {
    const k = generateKeyPair();
    const psk = generatePSK();
    const r = await http(api(SB, '/manage/peer/add', cfgs.passwords.AddPeer, { NodeID: 4, Name: `egnew4`, AdditionalCost: 50, PubKey: k.publicKey, PSKey: psk }), 'POST');
    assert.equal(r.status, 200, r.body);
    // The new edge's main supernode is the dead one (A); B is its extra one.
    writeFileSync(join(dir, 'edge4.yaml'), stringify(newEdge(4, k, psk)));
    procs.set(4, startEdge(join(dir, 'edge4.yaml'), { netns: topo!.ns.get(4)!, args: ['-no-uapi'] }));
    await until(SB, 'node 4 in the table', 60_000, (s) => full(s, [...IDS, 4]));
    // Four edges now, one of them joined through the surviving supernode: every pair pings.
    const four = [...IDS, 4];
    const pairs = four.flatMap((x) => four.filter((y) => y !== x).map((y) => [x, y] as const));
    const res = await Promise.all(pairs.map(async ([x, y]) => [x, y, await pingFrom(topo!.ns.get(x)!, tapIp(y), 8)] as const));
    assert.deepEqual(res.filter((r) => !r[2]).map(([x, y]) => `${x}->${y}`), []);
  });

  it('a restarted supernode whose file lists no peers restores them from etcd alone', async () => {
    restartWithoutPeers(SA);
    await until(SA, 'restarted A has nodes 1-4 and the full table', 60_000, (s) => full(s, [...IDS, 4]));
  });

  it('two concurrent peer/add calls for different nodes on different supernodes both land: in etcd, on both supernodes, and both edges join', async () => {
    const keys = new Map([5, 6].map((id) => [id, { k: generateKeyPair(), psk: generatePSK() }]));
    const add = (sn: number, id: number) =>
      http(api(sn, '/manage/peer/add', cfgs.passwords.AddPeer, { NodeID: id, Name: `egnew${id}`, AdditionalCost: 50, PubKey: keys.get(id)!.k.publicKey, PSKey: keys.get(id)!.psk }), 'POST');
    const [r5, r6] = await Promise.all([add(SA, 5), add(SB, 6)]);
    assert.equal(r5.status, 200, r5.body);
    assert.equal(r6.status, 200, r6.body);
    const c = etcd!.client();
    try {
      const ids = (await c.getAll().prefix(`${etcdPrefix}peers/`).keys()).map((k) => Number(k.slice(`${etcdPrefix}peers/`.length))).sort((a, b) => a - b);
      assert.deepEqual(ids, [1, 2, 3, 4, 5, 6]);
    } finally {
      c.close();
    }
    // Every supernode applies the other's change from its watch within a second.
    for (const sn of [SA, SB]) await until(sn, 'nodes 5 and 6 listed', 3_000, (s) => s.PeerInfo['5']?.Name === 'egnew5' && s.PeerInfo['6']?.Name === 'egnew6');
    // Edge 5 has A as its main supernode, edge 6 has B.
    for (const [id, main] of [[5, SA], [6, SB]] as const) {
      writeFileSync(join(dir, `edge${id}.yaml`), stringify(newEdge(id, keys.get(id)!.k, keys.get(id)!.psk, main)));
      procs.set(id, startEdge(join(dir, `edge${id}.yaml`), { netns: topo!.ns.get(id)!, args: ['-no-uapi'] }));
    }
    const all = [...IDS, ...NEW];
    await until(SA, 'nodes 1-6 in the table on A', 60_000, (s) => full(s, all));
    await until(SB, 'nodes 1-6 in the table on B', 60_000, (s) => full(s, all));
    assert.ok(await pingFrom(topo!.ns.get(5)!, tapIp(6), 8), 'ping 5→6');
    assert.ok(await pingFrom(topo!.ns.get(6)!, tapIp(1), 8), 'ping 6→1');
  });

  it('etcd down: routing and pings go on, writes answer 503 until etcd is back', async () => {
    await etcd!.stopMember(0);
    const r = await http(api(SB, '/manage/peer/update', cfgs.passwords.UpdatePeer, { NodeID: 1, AdditionalCost: 40 }), 'POST');
    assert.equal(r.status, 503, r.body);
    assert.match(r.body, /unavailable.*nothing changed/);
    assert.ok(await pingFrom(topo!.ns.get(2)!, tapIp(4), 8), 'ping 2→4 with etcd down');
    const cut = cutLink({ netns: topo!.ns.get(2)!, dstIp: topo!.addr(3), both: true });
    try {
      await until(SB, 'reroute 2↔3 with etcd down', 20_000, (x) => x.NhTable['2']?.['3'] !== 3 && x.NhTable['3']?.['2'] !== 2);
    } finally {
      cut.restore();
    }
    etcd!.startMember(0);
    await etcd!.waitReady(60_000);
    const ok = await http(api(SB, '/manage/peer/update', cfgs.passwords.UpdatePeer, { NodeID: 1, AdditionalCost: 40 }), 'POST');
    assert.equal(ok.status, 200, ok.body);
  });
});
