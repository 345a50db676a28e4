// The supernode end to end in one process: a real Supernode on loopback (ephemeral UDP and HTTP
// ports) and test edges that are real WireGuard hosts (ts/wgnode) holding configured keys. They
// register and send pongs over WireGuard/UDP and use the HTTP APIs over real sockets.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument, parse as parseYaml } from 'yaml';
import { generateKeyPair, generatePSK, parseEdgeConfig, parseSuperConfig, publicKeyOf, type SuperConfig } from '../ts/config/index.js';
import { parseEdge, parseSuper } from '../ts/config/validate.js';
import { StaticRoutes } from '../ts/core/table.js';
import { keyFromBase64 } from '../ts/core/wg.js';
import { Edge } from '../ts/edge/edge.js';
import { HEADER_LEN, Kind, NODE_SUPER, readHeader, writeHeader } from '../ts/core/frame.js';
import { SuperClient } from '../ts/edge/superclient.js';
import { Logger } from '../ts/shared/log.js';
import { PACKAGE_VERSION } from '../ts/paths.js';
import { Action, decode, encode, type ServerUpdateMsg } from '../ts/proto/control.js';
import { bodyHash, signReport } from '../ts/proto/jwt.js';
import { Supernode, type HttpState } from '../ts/super/supernode.js';
import { systemClock } from '../ts/wgnode/clock.js';
import { WgHost } from '../ts/wgnode/host.js';
import type { Peer } from '../ts/wgnode/peers.js';

const quiet = (): Logger =>
  new Logger('super-test', { LogLevel: process.env.EG_TEST_LOG ? 'debug' : 'silent', LogTransit: false, LogNormal: false, LogControl: true, LogInternal: true });

interface EdgeKeys {
  id: number;
  name: string;
  priv: string;
  pub: string;
  psk: string;
}

const mkEdge = (id: number): EdgeKeys => {
  const k = generateKeyPair();
  return { id, name: `Node_${id}`, priv: k.privateKey, pub: k.publicKey, psk: generatePSK() };
};

const PW = { ShowState: 'show_pw', AddPeer: 'add_pw', DelPeer: 'del_pw', UpdatePeer: 'upd_pw', UpdateSuper: 'sup_pw' };

function superYaml(v4: string, v6: string, edges: EdgeKeys[], extra = '', graphExtra = ''): string {
  return `# supernode under test
NodeName: TestSuper # the name
PrivKeyV4: ${v4}
PrivKeyV6: ${v6}
ListenPort: 3000
ListenPort_EdgeAPI: "3000"
ListenPort_ManageAPI: "3000"
DisabledAf:
  IPv6: true
API_Prefix: eg_api
RePushConfigInterval: 30
HttpPostInterval: 50
PeerAliveTimeout: 70
SendPingInterval: 15
DampingFilterRadius: 4
Passwords:
  ShowState: ${PW.ShowState}
  AddPeer: ${PW.AddPeer}
  DelPeer: ${PW.DelPeer}
  UpdatePeer: ${PW.UpdatePeer}
  UpdateSuper: ${PW.UpdateSuper}
GraphRecalculateSetting:
  JitterTolerance: 30
  JitterToleranceMultiplier: 1.01
  TimeoutCheckInterval: 5
  RecalculateCoolDown: 0
${graphExtra}UsePSKForInterEdge: true
${extra}
# the edges
Peers:
${edges
  .map(
    (e) => `  # edge ${e.id}
  - NodeID: ${e.id}
    Name: ${e.name}
    PubKey: ${e.pub}
    PSKey: ${e.psk}
    AdditionalCost: 10
`,
  )
  .join('')}`;
}

interface Fixture {
  dir: string;
  path: string;
  cfg: SuperConfig;
  sn: Supernode;
  edges: EdgeKeys[];
  v4pub: string;
  base: string;
}

/** Where the test supernode listens (the config file itself says 3000; free ports are picked). */
interface ListenAt {
  edgeApi?: string;
  manageApi?: string;
  /** DisabledAf.ListenIPv4: "" = every address. */
  udpV4?: string;
}

async function startSuper(n = 2, extra = '', graphExtra = '', at: ListenAt = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'eg-super-'));
  const path = join(dir, 'super.yaml');
  const v4 = generateKeyPair();
  const v6 = generateKeyPair();
  const edges = Array.from({ length: n }, (_, i) => mkEdge(i + 1));
  writeFileSync(path, superYaml(v4.privateKey, v6.privateKey, edges, extra, graphExtra));
  const cfg = parseSuperConfig(readFileSync(path, 'utf8'), path);
  cfg.ListenPort = 0;
  cfg.ListenPort_EdgeAPI = at.edgeApi ?? '127.0.0.1:0';
  cfg.ListenPort_ManageAPI = at.manageApi ?? '127.0.0.1:0';
  cfg.DisabledAf.ListenIPv4 = at.udpV4 ?? '127.0.0.1';
  const sn = new Supernode(cfg, { configPath: path, log: quiet(), uapi: false });
  await sn.start();
  return { dir, path, cfg, sn, edges, v4pub: v4.publicKey, base: sn.httpAddress() + '/eg_api' };
}

async function stopSuper(f: Fixture | undefined): Promise<void> {
  if (!f) return;
  await f.sn.stop();
  rmSync(f.dir, { recursive: true, force: true });
}

/** An edge as the supernode sees it: a real WireGuard host with the edge's configured key. */
class TestEdge {
  readonly host: WgHost;
  readonly got: ServerUpdateMsg[] = [];
  readonly secret = randomBytes(32);
  postCount = 0;
  superPeer!: Peer;
  private waiters: (() => void)[] = [];

  constructor(
    readonly k: EdgeKeys,
    private readonly superPub: string,
    private readonly superPort: number,
  ) {
    const noop = () => {};
    this.host = new WgHost({
      privateKey: k.priv,
      port: 0,
      v4: true,
      v6: false,
      listenV4: '127.0.0.1',
      clock: systemClock(),
      log: { internal: noop, error: noop, debug: noop, drop: noop },
      onPlaintext: (plain) => {
        const h = readHeader(plain);
        if (!h || h.kind !== Kind.ServerUpdate) return;
        this.got.push(decode.serverUpdate(plain.slice(HEADER_LEN, HEADER_LEN + h.len)));
        for (const w of this.waiters.splice(0)) w();
      },
    });
  }

  async open(): Promise<this> {
    await this.host.open();
    this.superPeer = this.host.addPeer(NODE_SUPER, keyFromBase64(this.superPub), this.k.psk ? keyFromBase64(this.k.psk) : undefined, { isSuper: true });
    this.superPeer.endpoint = { address: '127.0.0.1', port: this.superPort, family: 4 };
    return this;
  }

  get port(): number {
    return this.host.port;
  }

  send(kind: Kind, body: object, src = this.k.id, dst = NODE_SUPER): void {
    const payload = encode(body);
    const plain = new Uint8Array(HEADER_LEN + payload.length);
    writeHeader(plain, { kind, ttl: 0, dst, src, len: payload.length });
    plain.set(payload, HEADER_LEN);
    this.host.sendTo(this.superPeer, plain);
  }

  register(o: { Version?: string; hashes?: { peer: string; nh: string; params: string } } = {}): void {
    const h = o.hashes ?? { peer: '', nh: '', params: '' };
    this.send(Kind.Register, {
      v: 1,
      NodeID: this.k.id,
      Version: o.Version ?? PACKAGE_VERSION,
      PeerStateHash: h.peer,
      NhStateHash: h.nh,
      SuperParamStateHash: h.params,
      JWTSecret: this.secret.toString('base64'),
      HttpPostCount: this.postCount,
    });
  }

  pong(src: number, timediff: number, ac = 0, dst = this.k.id): void {
    this.send(Kind.Pong, { v: 1, Src: src, Dst: dst, Timediff: timediff, TimeToAlive: 70, AdditionalCost: ac });
  }

  /** Waits for a ServerUpdate matching `pred` (already received ones count). */
  async waitFor(pred: (m: ServerUpdateMsg) => boolean, ms = 5000): Promise<ServerUpdateMsg> {
    const end = Date.now() + ms;
    for (;;) {
      const m = this.got.find(pred);
      if (m) return m;
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no matching ServerUpdate within ${ms} ms; got ${JSON.stringify(this.got)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  ident(): string {
    return `NodeID=${this.k.id}&PubKey=${encodeURIComponent(this.k.pub)}`;
  }

  close(): void {
    this.host.close();
  }
}

async function until<T>(f: () => T | undefined | false | Promise<T | undefined | false>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function getState(f: Fixture): Promise<HttpState> {
  f.sn.invalidateState();
  const r = await fetch(`${f.sn.manageAddress()}/eg_api/manage/super/state?Password=${PW.ShowState}`);
  assert.equal(r.status, 200, await r.clone().text());
  return (await r.json()) as HttpState;
}

/** The state without the fields that move with the clock alone. */
async function stableState(f: Fixture): Promise<unknown> {
  const s = await getState(f);
  for (const st of Object.values(s.Status)) (st as { LastSeenAgo?: number }).LastSeenAgo = 0;
  return s;
}

async function connectEdges(f: Fixture): Promise<TestEdge[]> {
  const out: TestEdge[] = [];
  for (const k of f.edges) {
    const e = await new TestEdge(k, f.v4pub, f.sn.udpPort).open();
    e.register();
    out.push(e);
  }
  for (const e of out) await e.waitFor((m) => m.Action === Action.UpdateSuperParams);
  return out;
}

describe('supernode over WireGuard and HTTP', function () {
  this.timeout(30000);
  let f: Fixture;
  let edges: TestEdge[] = [];

  before(async () => {
    f = await startSuper(2);
    edges = await connectEdges(f);
  });
  after(async () => {
    for (const e of edges) e.close();
    await stopSuper(f);
  });

  it('registration over UDP shows the peers in the state, with their external endpoints', async () => {
    const s = await getState(f);
    assert.deepEqual(Object.keys(s.PeerInfo), ['1', '2']);
    assert.equal(s.PeerInfo['1'].Name, 'Node_1');
    assert.ok(!Number.isNaN(Date.parse(s.PeerInfo['1'].LastSeen)));
    assert.equal(s.Infinity, 99999);
    assert.equal(s.Status['1'].Alive, true);
    assert.equal(s.Status['1'].ExternalV4, `127.0.0.1:${edges[0].port}`);
    // Every edge was told about all three states.
    for (const e of edges) {
      await e.waitFor((m) => m.Action === Action.UpdatePeer && m.NodeID === e.k.id);
      await e.waitFor((m) => m.Action === Action.UpdateNhTable);
    }
  });

  it('peerinfo: the other edge with its endpoint and a shared pair PSK; stale State is 404', async () => {
    const up = await edges[0].waitFor((m) => m.Action === Action.UpdatePeer);
    // The latest notice carries the current hash (edge 2 registered after edge 1's first notice).
    const cur = [...edges[0].got].reverse().find((m) => m.Action === Action.UpdatePeer) ?? up;
    let r = await fetch(`${f.base}/edge/peerinfo?${edges[0].ident()}&State=${cur.Params}`);
    assert.equal(r.status, 200, await r.clone().text());
    const b1 = decode.peerInfo(await r.text());
    assert.deepEqual(Object.keys(b1), [f.edges[1].pub]);
    assert.equal(b1[f.edges[1].pub].NodeID, 2);
    assert.deepEqual(b1[f.edges[1].pub].Connurl.ExternalV4, { [`127.0.0.1:${edges[1].port}`]: 4 });
    r = await fetch(`${f.base}/edge/peerinfo?${edges[1].ident()}&State=${cur.Params}`);
    const b2 = decode.peerInfo(await r.text());
    assert.equal(b2[f.edges[0].pub].PSKey, b1[f.edges[1].pub].PSKey);
    assert.equal(Buffer.from(b1[f.edges[1].pub].PSKey, 'base64').length, 32);
    r = await fetch(`${f.base}/edge/peerinfo?${edges[0].ident()}&State=0123456789abcdef0123456789abcdef`);
    assert.equal(r.status, 404);
    assert.match(await r.text(), /State not correct/);
  });

  it('UDP pongs build Edges / Edges_Nh / NhTable / Dist (reference case C)', async () => {
    const before = edges[0].got.length;
    edges[1].pong(1, 0.002179297); // 1→2 measured by 2
    edges[0].pong(2, -0.00030252); // 2→1 measured by 1 (negative: clock offset)
    const st = await until(async () => {
      const x = await getState(f);
      return x.NhTable['2']?.['1'] === 1 && x.NhTable['1']?.['2'] === 2 ? x : undefined;
    });
    assert.equal(st.Edges['1']['2'], 0.002179297);
    assert.equal(st.Edges['2']['1'], -0.00030252);
    assert.ok(Math.abs(st.Edges_Nh['1']['2'] - 0.012179297) < 1e-12);
    assert.ok(Math.abs(st.Edges_Nh['2']['1'] - 0.00969748) < 1e-12);
    assert.ok(Math.abs(st.Dist['1']['2'] - 0.012179297) < 1e-12);
    assert.ok(Math.abs(st.Dist_noAC['2']['1'] + 0.00030252) < 1e-12);
    // The changed table is announced over WireGuard.
    await until(() => edges[0].got.slice(before).some((m) => m.Action === Action.UpdateNhTable));
  });

  it('a pong whose Dst is not the sending edge is dropped (identity binding)', async () => {
    const s0 = await stableState(f);
    edges[0].pong(1, 0.5, 0, 2); // edge 1 claims a measurement made by edge 2
    edges[0].send(Kind.Pong, { v: 1, Src: 2, Dst: 1, Timediff: 0.5, TimeToAlive: 70, AdditionalCost: 0 }, 2); // header src spoofed
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await stableState(f), s0);
  });

  it('GET nhtable with the current State → 200 and the ack is recorded; a stale State → 404', async () => {
    const note = [...edges[0].got].reverse().find((m) => m.Action === Action.UpdateNhTable)!;
    const r = await fetch(`${f.base}/edge/nhtable?${edges[0].ident()}&State=${note.Params}`);
    assert.equal(r.status, 200, await r.clone().text());
    assert.deepEqual(decode.nhTable(await r.text()), { 1: { 2: 2 }, 2: { 1: 1 } });
    const s = await getState(f);
    assert.equal(s.Status['1'].Synced.NhTable, true);
    const stale = await fetch(`${f.base}/edge/nhtable?${edges[0].ident()}&State=ffffffffffffffffffffffffffffffff`);
    assert.equal(stale.status, 404);
  });

  it('superparams carry the edge\'s AdditionalCost', async () => {
    const note = [...edges[1].got].reverse().find((m) => m.Action === Action.UpdateSuperParams)!;
    const r = await fetch(`${f.base}/edge/superparams?${edges[1].ident()}&State=${note.Params}`);
    assert.equal(r.status, 200);
    assert.deepEqual(decode.superParams(await r.text()), { SendPingInterval: 15, HttpPostInterval: 50, PeerAliveTimeout: 70, DampingFilterRadius: 4, AdditionalCost: 10 });
  });

  it('edge API: missing / invalid parameters → 400 naming the parameter; wrong PubKey → 404', async () => {
    let r = await fetch(`${f.base}/edge/nhtable?NodeID=1&State=x`);
    assert.equal(r.status, 400);
    assert.match(await r.text(), /PubKey/);
    r = await fetch(`${f.base}/edge/nhtable?NodeID=abc&PubKey=x&State=x`);
    assert.equal(r.status, 400);
    assert.match(await r.text(), /NodeID/);
    r = await fetch(`${f.base}/edge/nhtable?NodeID=65533&PubKey=x&State=x`);
    assert.equal(r.status, 400);
    assert.match(await r.text(), /NodeID/);
    r = await fetch(`${f.base}/edge/nhtable?NodeID=1&PubKey=${encodeURIComponent(f.edges[1].pub)}&State=x`);
    assert.equal(r.status, 404);
    r = await fetch(`${f.base}/edge/nhtable?NodeID=77&PubKey=${encodeURIComponent(f.edges[1].pub)}&State=x`);
    assert.equal(r.status, 404);
  });

  it('signed report: accepted once; bad JWT, tampered body (BodyHash) and replayed PostCount change nothing', async () => {
    const e = edges[0];
    const post = (body: Uint8Array, jwt: string, viaHeader = false) =>
      fetch(`${f.base}/edge/post/nodeinfo?${e.ident()}${viaHeader ? '' : `&JWTSig=${encodeURIComponent(jwt)}`}`, {
        method: 'POST',
        body: new Uint8Array(body),
        headers: { 'content-type': 'application/json', ...(viaHeader ? { authorization: `Bearer ${jwt}` } : {}) },
      });
    const report = { v: 1, Pongs: [{ Src: 2, Dst: 1, Timediff: 0.001, TimeToAlive: 60, AdditionalCost: 0 }], LocalV4s: { '10.0.0.1:3001': 100 }, LocalV6s: {} };
    const body = Buffer.from(JSON.stringify(report));
    const good = signReport(e.secret, { PostCount: 0, BodyHash: bodyHash(body) });

    let s0 = await stableState(f);
    // Bad JWT (signed with another secret).
    let r = await post(body, signReport(randomBytes(32), { PostCount: 0, BodyHash: bodyHash(body) }));
    assert.equal(r.status, 400);
    assert.match(await r.text(), /signature/);
    // Body changed after signing.
    const tampered = Buffer.from(JSON.stringify({ ...report, LocalV4s: { '10.6.6.6:3001': 100 } }));
    r = await post(tampered, good);
    assert.equal(r.status, 400);
    assert.match(await r.text(), /BodyHash/);
    // No token at all.
    r = await fetch(`${f.base}/edge/post/nodeinfo?${e.ident()}`, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /JWTSig/);
    assert.deepEqual(await stableState(f), s0);

    // The real one, via the Authorization header.
    r = await post(body, good, true);
    assert.equal(r.status, 200, await r.clone().text());
    assert.deepEqual(await r.json(), { Applied: 1, Refused: [] });
    const s1 = (await getState(f)) as HttpState;
    assert.deepEqual(s1.Status['1'].LocalV4s, { '10.0.0.1:3001': 100 });
    assert.equal(s1.Edges['2']['1'], 0.001);

    // Replayed.
    s0 = await stableState(f);
    r = await post(body, good);
    assert.equal(r.status, 409);
    assert.deepEqual(await stableState(f), s0);

    // Next count is fine.
    const b2 = Buffer.from(JSON.stringify({ ...report, Pongs: [{ ...report.Pongs[0], Timediff: -0.00030252 }] }));
    r = await post(b2, signReport(e.secret, { PostCount: 1, BodyHash: bodyHash(b2) }));
    assert.equal(r.status, 200);

    // A body that fails the schema, correctly signed → 400, nothing applied.
    s0 = await stableState(f);
    const bad = Buffer.from(JSON.stringify({ v: 1, Pongs: 'nope', LocalV4s: {}, LocalV6s: {} }));
    r = await post(bad, signReport(e.secret, { PostCount: 2, BodyHash: bodyHash(bad) }));
    assert.equal(r.status, 400);
    assert.deepEqual(await stableState(f), s0);
  });

  it('a report with bad items applies the good ones and names each refused item with its reason', async () => {
    const e = edges[0];
    const report = {
      v: 1,
      Pongs: [
        { Src: 2, Dst: 1, Timediff: 2e13, TimeToAlive: 60, AdditionalCost: 0 }, // beyond any two clocks
        { Src: 2, Dst: 1, Timediff: -7200.001, TimeToAlive: 60, AdditionalCost: 0 }, // node 2 is 2 h ahead: fine
        { Src: 99, Dst: 1, Timediff: 0.001, TimeToAlive: 60, AdditionalCost: 0 },
        { Src: 1, Dst: 2, Timediff: 0.001, TimeToAlive: 60, AdditionalCost: 0 },
        'garbage',
        { Src: 2, Dst: 1, Timediff: 0.001, TimeToAlive: 60, AdditionalCost: 0, Extra: 1 },
      ],
      LocalV4s: { '10.0.0.7:3001': 100, nonsense: 100 },
      LocalV6s: {},
    };
    const body = Buffer.from(JSON.stringify(report));
    const r = await fetch(`${f.base}/edge/post/nodeinfo?${e.ident()}`, {
      method: 'POST',
      body: new Uint8Array(body),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${signReport(e.secret, { PostCount: 100, BodyHash: bodyHash(body) })}` },
    });
    assert.equal(r.status, 200, await r.clone().text());
    const res = (await r.json()) as { Applied: number; Refused: { Item: string; Reason: string }[] };
    assert.equal(res.Applied, 1);
    const why = Object.fromEntries(res.Refused.map((x) => [x.Item, x.Reason]));
    assert.deepEqual(Object.keys(why).sort(), ['LocalV4s/nonsense', 'Pongs/0', 'Pongs/2', 'Pongs/3', 'Pongs/4', 'Pongs/5']);
    assert.match(why['Pongs/0'], /Timediff must be <= 17280000000000/);
    assert.match(why['Pongs/2'], /Src 99 is not a peer/);
    assert.match(why['Pongs/3'], /Dst 2 is not the reporting edge 1/);
    assert.match(why['Pongs/4'], /must be object/);
    assert.match(why['Pongs/5'], /additional properties/);
    assert.match(why['LocalV4s/nonsense'], /not an IPv4 address with a port/);
    const s = await getState(f);
    assert.equal(s.Edges['2']['1'], -7200.001);
    assert.deepEqual(s.Status['1'].LocalV4s, { '10.0.0.7:3001': 100 });
    // Each refused item is a counted drop with its rule as the reason.
    const drops = (f.sn.log as Logger).dropCounts();
    assert.equal(drops['report item refused: Pong Src is not a peer'], 1);
    assert.equal(drops['report item refused: bad local address'], 1);
  });

  it('oversized body → 413', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 0x20);
    const r = await fetch(`${f.base}/edge/post/nodeinfo?${edges[0].ident()}&JWTSig=x`, { method: 'POST', body: new Uint8Array(big), headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 413);
  });

  it('manage API: wrong password → 401, Authorization: Bearer accepted, empty password → 403', async () => {
    let r = await fetch(`${f.base}/manage/super/state?Password=nope`);
    assert.equal(r.status, 401);
    r = await fetch(`${f.base}/manage/super/state`, { headers: { authorization: `Bearer ${PW.ShowState}` } });
    assert.equal(r.status, 200);
    const saved = f.cfg.Passwords.ShowState;
    f.cfg.Passwords.ShowState = '';
    r = await fetch(`${f.base}/manage/super/state?Password=`);
    assert.equal(r.status, 403);
    f.cfg.Passwords.ShowState = saved;
  });

  it('Register with another version → ThrowError 38', async () => {
    edges[1].register({ Version: '99.0.0-x' });
    const m = await edges[1].waitFor((x) => x.Action === Action.ThrowError);
    assert.equal(m.Code, 38);
    assert.match(m.Params, /version mismatch/);
  });

  it('peer/update and super/update validate every parameter and push new SuperParams', async () => {
    const upd = (path: string, pw: string, q: Record<string, string>) =>
      fetch(`${f.base}/manage/${path}?Password=${pw}`, { method: 'POST', body: new URLSearchParams(q) });
    let r = await upd('peer/update', PW.UpdatePeer, { NodeID: '2', AdditionalCost: '-5' });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /AdditionalCost/);
    r = await upd('peer/update', PW.UpdatePeer, { NodeID: '9', AdditionalCost: '5' });
    assert.equal(r.status, 404);
    r = await upd('peer/update', PW.UpdatePeer, { AdditionalCost: '5' });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /NodeID/);
    const before = edges[1].got.length;
    r = await upd('peer/update', PW.UpdatePeer, { NodeID: '2', AdditionalCost: '5', SkipLocalIP: 'true' });
    assert.equal(r.status, 200, await r.clone().text());
    assert.equal(f.cfg.Peers[1].AdditionalCost, 5);
    const file = parseYaml(readFileSync(f.path, 'utf8')) as { Peers: { AdditionalCost: number; SkipLocalIP: boolean }[] };
    assert.equal(file.Peers[1].AdditionalCost, 5);
    assert.equal(file.Peers[1].SkipLocalIP, true);
    // The edge is told to pull new parameters (it is alive, so the 1-s loop or the change pushes).
    edges[1].register();
    const note = await edges[1].waitFor((m) => m.Action === Action.UpdateSuperParams && edges[1].got.indexOf(m) >= before);
    const sp = await fetch(`${f.base}/edge/superparams?${edges[1].ident()}&State=${note.Params}`);
    assert.equal(decode.superParams(await sp.text()).AdditionalCost, 5);

    // super/update: each rule on its own, nothing changed when any fails.
    r = await upd('super/update', PW.UpdateSuper, { PeerAliveTimeout: '0' });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /PeerAliveTimeout/);
    r = await upd('super/update', PW.UpdateSuper, { SendPingInterval: '0' });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /SendPingInterval/);
    r = await upd('super/update', PW.UpdateSuper, { HttpPostInterval: '71', SendPingInterval: '10' });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /HttpPostInterval/);
    assert.equal(f.cfg.SendPingInterval, 15);
    r = await upd('super/update', PW.UpdateSuper, { DampingFilterRadius: '1.5' });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /DampingFilterRadius/);
    r = await upd('super/update', PW.UpdateSuper, { HttpPostInterval: '30', SendPingInterval: '10', DampingFilterRadius: '2' });
    assert.equal(r.status, 200, await r.clone().text());
    assert.equal(f.cfg.HttpPostInterval, 30);
    const text = readFileSync(f.path, 'utf8');
    assert.match(text, /^HttpPostInterval: 30$/m);
    assert.match(text, /^SendPingInterval: 10$/m);
    assert.match(text, /# supernode under test/);
  });

  it('peer/add → 200 edge YAML, duplicate → 409, config rewritten with comments kept', async () => {
    const k = mkEdge(3);
    const add = (q: Record<string, string>) => fetch(`${f.base}/manage/peer/add`, { method: 'POST', headers: { authorization: `Bearer ${PW.AddPeer}` }, body: new URLSearchParams(q) });
    let r = await add({ NodeID: '3', Name: k.name, PubKey: k.pub, AdditionalCost: '7' });
    assert.equal(r.status, 200, await r.clone().text());
    const yaml = await r.text();
    const doc = parseYaml(yaml) as Record<string, any>;
    assert.equal(doc.NodeID, 3);
    assert.equal(doc.NodeName, k.name);
    assert.equal(doc.PrivKey, 'Your_Private_Key');
    assert.equal(doc.DynamicRoute.SuperNode.UseSuperNode, true);
    assert.equal(doc.DynamicRoute.SuperNode.PubKeyV4, f.v4pub);
    assert.equal(doc.DynamicRoute.SuperNode.EndpointV4, `127.0.0.1:${f.sn.udpPort}`);
    assert.equal(doc.DynamicRoute.SuperNode.EndpointEdgeAPIUrl, f.base);
    assert.equal(doc.DynamicRoute.AdditionalCost, 7);
    assert.deepEqual(doc.Peers, []);
    // With a real key the handed-out config is a valid edge config.
    parseEdgeConfig(yaml.replace('Your_Private_Key', k.priv), 'returned');

    for (const q of [
      { NodeID: '3', Name: 'other', PubKey: generateKeyPair().publicKey, AdditionalCost: '1' },
      { NodeID: '4', Name: k.name, PubKey: generateKeyPair().publicKey, AdditionalCost: '1' },
      { NodeID: '4', Name: 'other', PubKey: k.pub, AdditionalCost: '1' },
    ]) {
      r = await add(q);
      assert.equal(r.status, 409, JSON.stringify(q));
    }
    r = await add({ NodeID: '4', Name: 'x', PubKey: 'not-a-key', AdditionalCost: '1' });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /PubKey/);
    r = await add({ Name: 'x', PubKey: generateKeyPair().publicKey, AdditionalCost: '1' });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /NodeID/);

    const text = readFileSync(f.path, 'utf8');
    assert.match(text, /# supernode under test/);
    assert.match(text, /NodeName: TestSuper # the name/);
    assert.match(text, /# edge 2/);
    const reparsed = parseSuperConfig(text, f.path);
    assert.deepEqual(reparsed.Peers.map((p) => p.NodeID), [1, 2, 3]);
    assert.equal(reparsed.Peers[2].PubKey, k.pub);

    // The new edge can register right away (its WG peer exists live).
    const e3 = await new TestEdge({ ...k, psk: '' }, f.v4pub, f.sn.udpPort).open();
    try {
      e3.register();
      await until(async () => (await getState(f)).Status['3']?.Alive);
    } finally {
      e3.close();
    }
  });

  it('peer/del → the edge gets Shutdown code 2 over WireGuard and is gone from state and config', async () => {
    const r = await fetch(`${f.base}/manage/peer/del?Password=${PW.DelPeer}&NodeID=2`);
    assert.equal(r.status, 200, await r.clone().text());
    assert.equal(await r.text(), 'NodeID: 2 deleted.');
    const m = await edges[1].waitFor((x) => x.Action === Action.Shutdown);
    assert.equal(m.Code, 2);
    assert.equal(m.Params, "You've been removed from supernode.");
    assert.ok(edges[1].got.filter((x) => x.Action === Action.Shutdown).length >= 5);
    const s = await getState(f);
    assert.equal(s.PeerInfo['2'], undefined);
    assert.equal(s.Edges['2'], undefined);
    const text = readFileSync(f.path, 'utf8');
    assert.doesNotMatch(text, new RegExp(f.edges[1].pub.replace(/[+/]/g, '\\$&')));
    assert.match(text, /# edge 1/);
    const again = await fetch(`${f.base}/manage/peer/del?Password=${PW.DelPeer}&NodeID=2`);
    assert.equal(again.status, 404);
    // By PrivKey alone (the edge proves ownership).
    const byKey = await fetch(`${f.base}/manage/peer/del?PrivKey=${encodeURIComponent(f.edges[0].priv)}`);
    assert.equal(byKey.status, 200, await byKey.clone().text());
    assert.equal(publicKeyOf(f.edges[0].priv), f.edges[0].pub);
    await edges[0].waitFor((x) => x.Action === Action.Shutdown);
  });
});

describe('supernode manage API rate limit', function () {
  this.timeout(20000);
  let f: Fixture;
  before(async () => {
    f = await startSuper(1);
  });
  after(() => stopSuper(f));

  it('10 failed attempts from one address → 429, even with the right password', async () => {
    for (let i = 0; i < 10; i++) {
      const r = await fetch(`${f.base}/manage/super/state?Password=wrong${i}`);
      assert.equal(r.status, 401);
    }
    let r = await fetch(`${f.base}/manage/super/state?Password=${PW.ShowState}`);
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get('retry-after')) > 0);
    r = await fetch(`${f.base}/manage/super/state`, { headers: { authorization: `Bearer ${PW.ShowState}` } });
    assert.equal(r.status, 429);
  });
});

describe('supernode in StaticMode', function () {
  this.timeout(20000);
  let f: Fixture;
  before(async () => {
    f = await startSuper(2, 'NextHopTable:\n  1: {2: 2}\n  2: {1: 1}\n', '  StaticMode: true\n');
  });
  after(() => stopSuper(f));

  it('distributes the configured table; peer/add must bring a full new table', async () => {
    const [e1, e2] = await connectEdges(f);
    try {
      const note = await e1.waitFor((m) => m.Action === Action.UpdateNhTable);
      const r = await fetch(`${f.base}/edge/nhtable?${e1.ident()}&State=${note.Params}`);
      assert.deepEqual(decode.nhTable(await r.text()), { 1: { 2: 2 }, 2: { 1: 1 } });
      // Pongs do not change a static table.
      e2.pong(1, 0.5);
      await new Promise((res) => setTimeout(res, 100));
      assert.deepEqual((await getState(f)).NhTable, { 1: { 2: 2 }, 2: { 1: 1 } });
      const k = mkEdge(3);
      const q = { NodeID: '3', Name: k.name, PubKey: k.pub, AdditionalCost: '0', Password: PW.AddPeer };
      let a = await fetch(`${f.base}/manage/peer/add`, { method: 'POST', body: new URLSearchParams(q) });
      assert.equal(a.status, 400);
      assert.match(await a.text(), /NextHopTable/);
      a = await fetch(`${f.base}/manage/peer/add`, { method: 'POST', body: new URLSearchParams({ ...q, NextHopTable: JSON.stringify({ 1: { 2: 2 }, 2: { 1: 1 } }) }) });
      assert.equal(a.status, 400);
      assert.match(await a.text(), /missing/);
      const full = { 1: { 2: 2, 3: 3 }, 2: { 1: 1, 3: 3 }, 3: { 1: 1, 2: 2 } };
      a = await fetch(`${f.base}/manage/peer/add`, { method: 'POST', body: new URLSearchParams({ ...q, NextHopTable: JSON.stringify(full) }) });
      assert.equal(a.status, 200, await a.clone().text());
      const s = await getState(f);
      assert.deepEqual(s.NhTable, full);
      assert.deepEqual(parseSuperConfig(readFileSync(f.path, 'utf8'), f.path).NextHopTable, full);
      // Everyone alive is told about the new table.
      await e1.waitFor((m) => m.Action === Action.UpdateNhTable && m.Params !== note.Params);
    } finally {
      e1.close();
      e2.close();
    }
  });

  it('peer/add refuses a table with a routing loop; peer/del of a relay needs the table without it', async () => {
    const post = (path: string, pw: string, q: Record<string, string>) => manage(f.base, path, pw, q);
    const k = mkEdge(4);
    const q = { NodeID: '4', Name: k.name, PubKey: k.pub, AdditionalCost: '0' };
    // Frames from 1 to 4 would go 1→2→3→1→… until their TTL runs out.
    const loop = { 1: { 2: 2, 3: 3, 4: 2 }, 2: { 1: 1, 3: 3, 4: 3 }, 3: { 1: 1, 2: 2, 4: 1 }, 4: { 1: 3, 2: 3, 3: 3 } };
    let before = frozen(f);
    let r = await post('peer/add', PW.AddPeer, { ...q, NextHopTable: JSON.stringify(loop) });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /NextHopTable: frames 1→4 loop 1→2→3→1/);
    assert.deepEqual(frozen(f), before);
    // 3 relays between 4 and the others.
    const relayed = { 1: { 2: 2, 3: 3, 4: 3 }, 2: { 1: 1, 3: 3, 4: 3 }, 3: { 1: 1, 2: 2, 4: 4 }, 4: { 1: 3, 2: 3, 3: 3 } };
    r = await post('peer/add', PW.AddPeer, { ...q, NextHopTable: JSON.stringify(relayed) });
    assert.equal(r.status, 200, await r.clone().text());
    // Deleting 3 alone would leave next hops pointing at it.
    before = frozen(f);
    r = await post('peer/del', PW.DelPeer, { NodeID: '3' });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /next hop 3 is not a configured peer.*pass NextHopTable/);
    assert.deepEqual(frozen(f), before);
    const without3 = { 1: { 2: 2, 4: 2 }, 2: { 1: 1, 4: 4 }, 4: { 1: 2, 2: 2 } };
    r = await post('peer/del', PW.DelPeer, { NodeID: '3', NextHopTable: JSON.stringify(without3) });
    assert.equal(r.status, 200, await r.clone().text());
    assert.deepEqual(parseSuper(readFileSync(f.path, 'utf8'), f.path).config.NextHopTable, without3);
    assert.deepEqual((await getState(f)).NhTable, without3);
  });
});

// ---- what the writing manage APIs accept and write ---------------------------------------------

const manage = (base: string, path: string, pw: string, q: Record<string, string>) =>
  fetch(`${base}/manage/${path}`, { method: 'POST', headers: { authorization: `Bearer ${pw}` }, body: new URLSearchParams(q) });

/** Everything a refused change must leave alone: the file byte for byte, and the running supernode. */
function frozen(f: Fixture): unknown {
  return {
    file: readFileSync(f.path, 'utf8'),
    peers: structuredClone(f.cfg.Peers),
    params: [f.cfg.PeerAliveTimeout, f.cfg.SendPingInterval, f.cfg.HttpPostInterval, f.cfg.DampingFilterRadius],
    edges: [...f.sn.edges.entries()].map(([id, r]) => [id, { ...r.conf }, r.removing]),
    nh: f.sn.routes.nhJson,
  };
}

describe('manage API: a change is checked by the config loader before anything changes', function () {
  this.timeout(30000);
  let f: Fixture;
  before(async () => {
    f = await startSuper(2);
  });
  after(() => stopSuper(f));

  const fresh = () => {
    const k = mkEdge(3);
    return { NodeID: '3', Name: k.name, PubKey: k.pub, AdditionalCost: '7' };
  };
  const cases: [string, string, string, () => Record<string, string>, RegExp][] = [
    ['peer/add', PW.AddPeer, 'AdditionalCost: 1e400', () => ({ ...fresh(), AdditionalCost: '1e400' }), /^AdditionalCost must be a finite number, got Infinity/],
    ['peer/add', PW.AddPeer, 'AdditionalCost: -5', () => ({ ...fresh(), AdditionalCost: '-5' }), /^AdditionalCost: must be at least -1, got -5/],
    ['peer/add', PW.AddPeer, 'AdditionalCost: -0.5', () => ({ ...fresh(), AdditionalCost: '-0.5' }), /^AdditionalCost: must be -1 \(use the edge's own value\) or at least 0, got -0.5/],
    ['peer/add', PW.AddPeer, 'PubKey: not-a-key', () => ({ ...fresh(), PubKey: 'not-a-key' }), /^PubKey: /],
    ['peer/add', PW.AddPeer, 'PSKey: c2hvcnQ=', () => ({ ...fresh(), PSKey: 'c2hvcnQ=' }), /^PSKey: /],
    ['peer/add', PW.AddPeer, "PubKey: the supernode's own key", () => ({ ...fresh(), PubKey: f.v4pub }), /^PubKey: is the supernode's own public key/],
    ['peer/add', PW.AddPeer, 'NodeID: 65532', () => ({ ...fresh(), NodeID: '65532' }), /NodeID must be <= 65531/],
    ['peer/add', PW.AddPeer, 'Name of 33 characters', () => ({ ...fresh(), Name: 'x'.repeat(33) }), /Name must NOT have more than 32 characters/],
    ['peer/add', PW.AddPeer, 'EndPoint (no such parameter)', () => ({ ...fresh(), EndPoint: '[::1]:99999' }), /unknown parameter "EndPoint"/],
    ['peer/update', PW.UpdatePeer, 'NodeID: 1, AdditionalCost: 1e400', () => ({ NodeID: '1', AdditionalCost: '1e400' }), /^AdditionalCost must be a finite number, got Infinity/],
    ['peer/update', PW.UpdatePeer, 'NodeID: 1, AdditionalCost: NaN', () => ({ NodeID: '1', AdditionalCost: 'NaN' }), /AdditionalCost must be number/],
    ['peer/update', PW.UpdatePeer, 'NodeID: 1, AdditionalCost: -2', () => ({ NodeID: '1', AdditionalCost: '-2' }), /^AdditionalCost: must be at least -1/],
    ['peer/update', PW.UpdatePeer, 'NodeID: 1, SkipLocalIP: maybe', () => ({ NodeID: '1', SkipLocalIP: 'maybe' }), /SkipLocalIP must be boolean/],
    ['peer/update', PW.UpdatePeer, 'NodeID: 1, Foo: 1', () => ({ NodeID: '1', Foo: '1' }), /unknown parameter "Foo"/],
    ['super/update', PW.UpdateSuper, 'PeerAliveTimeout: 1e400', () => ({ PeerAliveTimeout: '1e400' }), /^PeerAliveTimeout must be a finite number, got Infinity/],
    ['super/update', PW.UpdateSuper, 'PeerAliveTimeout: 0', () => ({ PeerAliveTimeout: '0' }), /^PeerAliveTimeout: must be greater than 0/],
    ['super/update', PW.UpdateSuper, 'DampingFilterRadius: 1e20', () => ({ DampingFilterRadius: '1e20' }), /^DampingFilterRadius: must be at most 1000/],
    ['super/update', PW.UpdateSuper, 'DampingFilterRadius: 1.5', () => ({ DampingFilterRadius: '1.5' }), /^DampingFilterRadius: must be an integer/],
    ['super/update', PW.UpdateSuper, 'HttpPostInterval: -1', () => ({ HttpPostInterval: '-1' }), /^HttpPostInterval: must be at least 0/],
    // Cross-field, against the values after the update: 10 s alive timeout < HttpPostInterval 50.
    ['super/update', PW.UpdateSuper, 'PeerAliveTimeout: 10, SendPingInterval: 5', () => ({ PeerAliveTimeout: '10', SendPingInterval: '5' }), /^HttpPostInterval: must be at most PeerAliveTimeout \(10\), got 50/],
    ['peer/del', PW.DelPeer, 'NodeID: 1e400', () => ({ NodeID: '1e400' }), /^NodeID must be a finite number, got Infinity/],
    ['peer/del', PW.DelPeer, 'PrivKey: AAAA', () => ({ PrivKey: 'AAAA' }), /PrivKey/],
  ];
  for (const [path, pw, what, q, want] of cases) {
    it(`${path} ${what} → 400 naming the parameter and the rule; file and running state unchanged`, async () => {
      const before = frozen(f);
      const r = await manage(f.base, path, pw, q());
      const body = (await r.json()) as { message: string };
      assert.equal(r.status, 400, body.message);
      assert.match(body.message, want);
      assert.deepEqual(frozen(f), before);
    });
  }

  it("a key sent raw in a URL query, its '+' read as a space → 400 that says to URL-encode it (%2B)", async () => {
    // A '+' inside the key: one in front becomes a leading space, which the query parser drops,
    // so that key fails on its length instead (it still gets the hint: checked after the loop).
    const withPlus = (make: () => string): string => {
      for (;;) {
        const k = make();
        if (k.indexOf('+') > 0) return k;
      }
    };
    const hint = /a '\+' in a URL query must be sent as %2B: URL-encode the key, e\.g\. curl --data-urlencode/;
    const k = mkEdge(3);
    const raw = (path: string, pw: string, q: string) => fetch(`${f.base}/manage/${path}?${q}`, { method: 'POST', headers: { authorization: `Bearer ${pw}` } });
    const psk = withPlus(generatePSK);
    const pub = withPlus(() => generateKeyPair().publicKey);
    const priv = withPlus(() => generateKeyPair().privateKey);
    for (const [path, pw, q, name] of [
      ['peer/add', PW.AddPeer, `NodeID=3&Name=${k.name}&AdditionalCost=1&PubKey=${encodeURIComponent(k.pub)}&PSKey=${psk}`, 'PSKey'],
      ['peer/add', PW.AddPeer, `NodeID=3&Name=${k.name}&AdditionalCost=1&PubKey=${pub}`, 'PubKey'],
      ['peer/del', PW.DelPeer, `PrivKey=${priv}`, 'PrivKey'],
    ] as const) {
      const before = frozen(f);
      const r = await raw(path, pw, q);
      const body = (await r.json()) as { message: string };
      assert.equal(r.status, 400, body.message);
      assert.match(body.message, new RegExp(`${name}.*whitespace`));
      assert.match(body.message, hint);
      assert.deepEqual(frozen(f), before);
    }
    // A '+' in front: the space it becomes is dropped, and the key fails on its length, with the hint.
    let lead = '';
    while (!lead.startsWith('+')) lead = generateKeyPair().publicKey;
    const before = frozen(f);
    const l = await raw('peer/add', PW.AddPeer, `NodeID=3&Name=${k.name}&AdditionalCost=1&PubKey=${lead}`);
    const lbody = (await l.json()) as { message: string };
    assert.equal(l.status, 400, lbody.message);
    assert.match(lbody.message, hint);
    assert.deepEqual(frozen(f), before);
    // A key that is wrong for another reason gets no such hint.
    const r = await raw('peer/add', PW.AddPeer, `NodeID=3&Name=${k.name}&AdditionalCost=1&PubKey=not-a-key`);
    assert.doesNotMatch(((await r.json()) as { message: string }).message, hint);
  });

  it('a parameter name in the wrong case (password=, nodeid=) → 400 naming it and the right name, not 401 "Password required"', async () => {
    const before = frozen(f);
    const lower = await fetch(`${f.base}/manage/peer/update?password=${encodeURIComponent(PW.UpdatePeer)}&NodeID=1&AdditionalCost=3`, { method: 'POST' });
    const body = (await lower.json()) as { message: string };
    assert.equal(lower.status, 400, body.message);
    assert.match(body.message, /unknown parameter "password": parameter names are case-sensitive \(did you mean "Password"\?\)/);
    const r = await manage(f.base, 'peer/update', PW.UpdatePeer, { nodeid: '1', AdditionalCost: '3' });
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { message: string }).message, /unknown parameter "nodeid".*did you mean "NodeID"/);
    assert.deepEqual(frozen(f), before);
    // A wrong case costs no failed-attempt slot: the right request right after still works.
    const ok = await fetch(`${f.base}/manage/peer/update?Password=${encodeURIComponent(PW.UpdatePeer)}&NodeID=1&AdditionalCost=3`, { method: 'POST' });
    assert.equal(ok.status, 200, await ok.text());
  });

  it('peer/update of a peer that was removed from the file by hand → 409, nothing changed', async () => {
    const text = readFileSync(f.path, 'utf8');
    try {
      writeFileSync(f.path, text.replace(/ {2}# edge 2\n(?: {4}.*\n| {2}- .*\n)+/, ''));
      const before = frozen(f);
      const r = await manage(f.base, 'peer/update', PW.UpdatePeer, { NodeID: '2', AdditionalCost: '3' });
      assert.equal(r.status, 409, await r.clone().text());
      assert.match(await r.text(), /not in the config file/);
      assert.deepEqual(frozen(f), before);
    } finally {
      writeFileSync(f.path, text);
    }
  });

  it('a config file broken by hand since the start → 409 naming its problem; nothing written', async () => {
    const text = readFileSync(f.path, 'utf8');
    try {
      writeFileSync(f.path, text.replace('DampingFilterRadius: 4', 'DampingFilterRadius: four'));
      const before = frozen(f);
      const r = await manage(f.base, 'super/update', PW.UpdateSuper, { HttpPostInterval: '20' });
      assert.equal(r.status, 409);
      assert.match(await r.text(), /does not load as it is now.*DampingFilterRadius: must be an integer/);
      assert.deepEqual(frozen(f), before);
    } finally {
      writeFileSync(f.path, text);
    }
  });

  it('every writing API writes a file the loader loads again, and the supernode restarts from it', async () => {
    const k = mkEdge(3);
    // The loader the next start runs (parseSuper: the same checks, without printing warnings).
    const reload = () => parseSuper(readFileSync(f.path, 'utf8'), f.path).config;
    let r = await manage(f.base, 'peer/add', PW.AddPeer, { NodeID: '3', Name: k.name, PubKey: k.pub, PSKey: k.psk, AdditionalCost: '7.5', SkipLocalIP: 'true' });
    assert.equal(r.status, 200, await r.clone().text());
    let c = reload();
    assert.deepEqual(c.Peers.find((p) => p.NodeID === 3), { NodeID: 3, Name: k.name, PubKey: k.pub, PSKey: k.psk, AdditionalCost: 7.5, SkipLocalIP: true, EndPoint: '', ExternalIP: '' });
    assert.deepEqual(f.cfg.Peers.find((p) => p.NodeID === 3), c.Peers.find((p) => p.NodeID === 3));

    r = await manage(f.base, 'peer/update', PW.UpdatePeer, { NodeID: '3', AdditionalCost: '-1', SkipLocalIP: 'false' });
    assert.equal(r.status, 200, await r.clone().text());
    assert.equal(await r.text(), 'NodeID: 3 updated: AdditionalCost=-1, SkipLocalIP=false');
    c = reload();
    assert.equal(c.Peers.find((p) => p.NodeID === 3)!.AdditionalCost, -1);
    assert.equal(f.sn.edges.get(3)!.conf.AdditionalCost, -1);

    r = await manage(f.base, 'super/update', PW.UpdateSuper, { PeerAliveTimeout: '90', SendPingInterval: '20', HttpPostInterval: '80', DampingFilterRadius: '0' });
    assert.equal(r.status, 200, await r.clone().text());
    c = reload();
    assert.deepEqual([c.PeerAliveTimeout, c.SendPingInterval, c.HttpPostInterval, c.DampingFilterRadius], [90, 20, 80, 0]);
    assert.deepEqual([f.cfg.PeerAliveTimeout, f.cfg.SendPingInterval, f.cfg.HttpPostInterval, f.cfg.DampingFilterRadius], [90, 20, 80, 0]);

    r = await manage(f.base, 'peer/del', PW.DelPeer, { NodeID: '3' });
    assert.equal(r.status, 200, await r.clone().text());
    c = reload();
    assert.deepEqual(c.Peers.map((p) => p.NodeID), [1, 2]);
    assert.match(readFileSync(f.path, 'utf8'), /# supernode under test/);

    // The next start reads what was written.
    c.ListenPort = 0;
    c.ListenPort_EdgeAPI = '127.0.0.1:0';
    c.ListenPort_ManageAPI = '127.0.0.1:0';
    c.DisabledAf.ListenIPv4 = '127.0.0.1';
    const again = new Supernode(c, { log: quiet(), uapi: false });
    try {
      await again.start();
      assert.deepEqual([...again.edges.keys()], [1, 2]);
    } finally {
      await again.stop();
    }
  });
});

// ---- peer/add's edge config: addresses the supernode really listens on ---------------------------

/** Runs an edge (IType dummy, any free port) from an edge config as `-mode edge` would; returns its stop. */
async function runEdge(yaml: string, priv: string): Promise<() => Promise<void>> {
  const doc = parseDocument(yaml);
  doc.set('PrivKey', priv);
  doc.setIn(['Interface', 'IType'], 'dummy');
  doc.set('ListenPort', 0);
  const cfg = parseEdge(doc.toString(), 'edge under test').config;
  let client: SuperClient | undefined;
  const edge = new Edge(cfg, { log: quiet(), routes: new StaticRoutes(cfg.NextHopTable), uapi: false, onControl: (h, p, from) => client?.onControl(h, p, from) });
  client = new SuperClient(edge, cfg);
  client.addSuperPeers();
  await edge.start();
  client.start();
  return async () => {
    client!.stop();
    await edge.stop();
  };
}

describe('peer/add: the edge config loads and runs, whatever address the manage API was called on', function () {
  this.timeout(40000);
  // IPv6 is disabled on this supernode (superYaml: DisabledAf.IPv6: true).
  const variants: [string, ListenAt][] = [
    ['edge API on 127.0.0.1 only; manage API and UDP on every address', { edgeApi: '127.0.0.1:0', manageApi: ':0', udpV4: '' }],
    ['one HTTP server on every address; UDP on 127.0.0.1', { edgeApi: ':0', manageApi: ':0', udpV4: '127.0.0.1' }],
  ];
  for (const [title, at] of variants) {
    describe(title, () => {
      let f: Fixture;
      let id = 10;
      before(async () => {
        f = await startSuper(1, '', '', at);
      });
      after(() => stopSuper(f));

      for (const host of ['[::1]', '127.0.0.1']) {
        it(`called at http://${host}:PORT: loads, and an edge run from it registers and pulls its state`, async () => {
          const k = mkEdge(++id);
          const port = new URL(f.sn.manageAddress()).port;
          const r = await manage(`http://${host}:${port}/eg_api`, 'peer/add', PW.AddPeer, { NodeID: String(k.id), Name: k.name, PubKey: k.pub, PSKey: k.psk, AdditionalCost: '0' });
          const yaml = await r.text();
          assert.equal(r.status, 200, yaml);
          // As returned, with only the placeholder key replaced, it loads.
          const cfg = parseEdge(yaml.replace('Your_Private_Key', k.priv), 'returned').config;
          const s = cfg.DynamicRoute.SuperNode;
          assert.equal(s.PubKeyV4, f.v4pub);
          assert.match(s.EndpointV4, new RegExp(`^127\\.0\\.0\\.1:${f.sn.udpPort}$`));
          assert.deepEqual([s.PubKeyV6, s.EndpointV6], ['', ''], 'IPv6 is off on the supernode');
          assert.equal(new URL(s.EndpointEdgeAPIUrl).port, new URL(f.sn.httpAddress()).port);
          const stop = await runEdge(yaml, k.priv);
          try {
            // Registered over UDP at EndpointV4, and pulled its parameters from EndpointEdgeAPIUrl.
            await until(async () => {
              const st = (await getState(f)).Status[String(k.id)];
              return st?.Alive && st.Synced.SuperParams && st.Synced.PeerInfo;
            }, 15000);
          } finally {
            await stop();
          }
        });
      }
    });
  }
});

describe('supernode start-up log line names the addresses the HTTP servers are bound to', () => {
  const upLine = async (edgeApi: string, manageApi: string): Promise<{ line: string; sn: Supernode; dir: string }> => {
    const dir = mkdtempSync(join(tmpdir(), 'eg-super-'));
    const path = join(dir, 'super.yaml');
    writeFileSync(path, superYaml(generateKeyPair().privateKey, generateKeyPair().privateKey, [mkEdge(1)]));
    const cfg = parseSuperConfig(readFileSync(path, 'utf8'), path);
    cfg.ListenPort = 0;
    cfg.ListenPort_EdgeAPI = edgeApi;
    cfg.ListenPort_ManageAPI = manageApi;
    cfg.DisabledAf.ListenIPv4 = '127.0.0.1';
    const lines: string[] = [];
    const log = new Logger('super-test', { LogLevel: 'error', LogTransit: false, LogNormal: false, LogControl: true, LogInternal: true }, false, { write: (l) => void lines.push(l) });
    const sn = new Supernode(cfg, { configPath: path, log, uapi: false });
    await sn.start();
    return { line: lines.find((l) => l.includes(' up: udp port')) ?? lines.join(''), sn, dir };
  };

  it('every address ("port" alone) is logged as *:PORT, not 127.0.0.1; a host as that host', async () => {
    let s = await upLine(':0', ':0');
    try {
      const port = new URL(s.sn.httpAddress()).port;
      assert.match(s.line, new RegExp(`edge API http://\\*:${port}, manage API http://\\*:${port},`));
    } finally {
      await s.sn.stop();
      rmSync(s.dir, { recursive: true, force: true });
    }
    s = await upLine('127.0.0.1:0', ':0');
    try {
      const edge = new URL(s.sn.httpAddress()).port;
      const manage = new URL(s.sn.manageAddress()).port;
      assert.match(s.line, new RegExp(`edge API http://127\\.0\\.0\\.1:${edge}, manage API http://\\*:${manage},`));
    } finally {
      await s.sn.stop();
      rmSync(s.dir, { recursive: true, force: true });
    }
  });
});
