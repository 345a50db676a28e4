// Two supernodes, one network, end to end: a real etcd (Debian's etcd-server, in the root
// namespace on the test bridge), two supernode processes sharing its prefix and edges in their
// own namespaces over TAP whose configs list the second supernode in ExtraSuperNodes. One
// supernode is killed with SIGKILL; the survivor still reroutes a cut link and adds a peer.
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

  before(async function () {
    if (!isRoot()) this.skip();
    topo = buildStar([...IDS, 4, SA, SB], NET);
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
    const etcdKey = { Endpoints: etcd.endpoints, Prefix: `/eg-e2e/${randomBytes(6).toString('hex')}/` };
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

  it('after kill -9 of the main supernode a link cut still reroutes within PeerAliveTimeout + 2 ping intervals', async () => {
    // Frames never pass a supernode: a ping stream across the kill loses nothing.
    const stream = run('ip', ['netns', 'exec', topo!.ns.get(1)!, 'ping', '-c', '30', '-i', '0.1', '-W', '2', tapIp(3)]);
    await new Promise((r) => setTimeout(r, 1000));
    procs.get(SA)!.child.kill('SIGKILL');
    await procs.get(SA)!.exited;
    const { stdout } = await stream;
    assert.match(stdout, / 0% packet loss/, stdout);
    const cut = cutLink({ netns: topo!.ns.get(1)!, dstIp: topo!.addr(2), both: true });
    try {
      // PeerAliveTimeout 5 s + 2 × SendPingInterval 1 s, plus the time edges need to pull.
      const s = await until(SB, 'reroute around the cut on B', 20_000, (x) => x.NhTable['1']?.['2'] !== 2 && x.NhTable['2']?.['1'] !== 1);
      console.log(`      rerouted by the surviving supernode after ${s.toFixed(1)} s`);
      // PeerAliveTimeout 5 s + 2 ping intervals, + 1 s TimeoutCheckInterval (the check that sees the expiry).
      assert.ok(s <= 8, `rerouted after ${s.toFixed(1)} s`);
      await until(SB, 'edges synced to the new table', 15_000, (x) => IDS.every((id) => x.Status?.[id]?.Synced?.NhTable === true));
      assert.ok(await pingFrom(topo!.ns.get(1)!, tapIp(2), 8), 'ping 1→2 over the relay');
    } finally {
      cut.restore();
    }
  });

  it('peer/add on the surviving supernode: the new edge joins through it and pings the others', async () => {
    const k = generateKeyPair();
    const psk = generatePSK();
    const r = await http(api(SB, '/manage/peer/add', cfgs.passwords.AddPeer, { NodeID: 4, Name: `egnew4`, AdditionalCost: 50, PubKey: k.publicKey, PSKey: psk }), 'POST');
    assert.equal(r.status, 200, r.body);
    // The new edge's main supernode is the dead one (A); B is its extra one.
    const base = parse(cfgs.edgeYaml.get(1)!) as Y;
    const cfg: Y = {
      ...base,
      NodeID: 4,
      NodeName: 'egnew4',
      PrivKey: k.privateKey,
      Interface: { ...(base.Interface as object), Name: 'eg4' },
      DynamicRoute: { ...base.DynamicRoute, SuperNode: { ...base.DynamicRoute.SuperNode, PSKey: psk } },
    };
    writeFileSync(join(dir, 'edge4.yaml'), stringify(withExtra(cfg)));
    procs.set(4, startEdge(join(dir, 'edge4.yaml'), { netns: topo!.ns.get(4)!, args: ['-no-uapi'] }));
    await until(SB, 'node 4 in the table', 60_000, (s) => full(s, [...IDS, 4]));
    assert.ok(await pingFrom(topo!.ns.get(4)!, tapIp(1), 8), 'ping 4→1');
    assert.ok(await pingFrom(topo!.ns.get(3)!, tapIp(4), 8), 'ping 3→4');
  });

  it('a restarted supernode whose file lists no peers restores them from etcd alone', async () => {
    const a = parse(cfgs.superYaml) as Record<string, unknown>;
    const b = parse(readFileSync(join(dir, 'superA.yaml'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'superA2.yaml'), stringify({ ...a, Etcd: b.Etcd, Peers: [] }));
    procs.set(SA, startEdge(join(dir, 'superA2.yaml'), { netns: topo!.ns.get(SA)!, args: ['-no-uapi'], mode: 'super' }));
    await until(SA, 'restarted A has nodes 1-4 and the full table', 60_000, (s) => full(s, [...IDS, 4]));
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
