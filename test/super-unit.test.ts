// Supernode pieces without sockets: state hashes, the peer list per requester, the
// AdditionalCost rule, the auth limiter, parameter validation, listen parsing, the edge YAML
// and the route state over the WASM graph (reference cases B and D).
import assert from 'node:assert/strict';
import { parse as parseYaml, parseDocument } from 'yaml';
import { generateKeyPair, type SuperConfig, type SuperPeerInfo } from '../ts/config/index.js';
import { AuthLimiter, passwordMatches, presentedPassword } from '../ts/super/auth.js';
import { addPeerToDoc, checkEdit, delPeerFromDoc, edgeConfigYaml, setNextHopTable, setTopLevel, updatePeerInDoc } from '../ts/super/config-rewrite.js';
import { superUpdate } from '../ts/super/manage.js';
import { normPrefix, parseListen, sameListen } from '../ts/shared/http.js';
import { pendingUpdates, serverUpdateFrame } from '../ts/super/push.js';
import { INFINITY, RouteState } from '../ts/super/routes.js';
import {
  effectiveAcMs, localMapProblem, newEdgeRec, PairPsks, peerInfoFor, publicEdges, stateHash, superParamsFor, versionCore, withExternalIP,
} from '../ts/super/state.js';
import { Action, decode } from '../ts/proto/control.js';
import { HEADER_LEN, readHeader } from '../ts/core/frame.js';

const peer = (id: number, o: Partial<SuperPeerInfo> = {}): SuperPeerInfo => ({
  NodeID: id,
  Name: `n${id}`,
  PubKey: generateKeyPair().publicKey,
  PSKey: '',
  AdditionalCost: 10,
  SkipLocalIP: false,
  EndPoint: '',
  ExternalIP: '',
  ...o,
});

const graphCfg = { StaticMode: false, ManualLatency: {}, JitterTolerance: 30, JitterToleranceMultiplier: 1.01, TimeoutCheckInterval: 5, RecalculateCoolDown: 0 };

describe('supernode state helpers', () => {
  it('state hash: 32 hex digits of SHA-256(json ‖ salt), salt-dependent', () => {
    const h = stateHash('{"a":1}', 'salt');
    assert.match(h, /^[0-9a-f]{32}$/);
    assert.equal(h, stateHash('{"a":1}', 'salt'));
    assert.notEqual(h, stateHash('{"a":1}', 'other'));
    assert.notEqual(h, stateHash('{"a":2}', 'salt'));
  });

  it('versions compare on the part before the first dash', () => {
    assert.equal(versionCore('v0.3.5-f5'), versionCore('v0.3.5-anything'));
    assert.notEqual(versionCore('0.1.0'), versionCore('0.2.0'));
  });

  it('AdditionalCost: the supernode value when >= 0, else the edge\'s own (bug #7 fixed)', () => {
    assert.equal(effectiveAcMs(10, 3), 10);
    assert.equal(effectiveAcMs(0, 3), 0);
    assert.equal(effectiveAcMs(-1, 3), 3);
    assert.equal(effectiveAcMs(-1, -1), 0);
  });

  it('SuperParams are per edge (its AdditionalCost)', () => {
    const cfg = { SendPingInterval: 15, HttpPostInterval: 50, PeerAliveTimeout: 70, DampingFilterRadius: 4 } as SuperConfig;
    assert.deepEqual(superParamsFor(cfg, peer(1, { AdditionalCost: -1 })), { SendPingInterval: 15, HttpPostInterval: 50, PeerAliveTimeout: 70, DampingFilterRadius: 4, AdditionalCost: -1 });
  });

  it('ExternalIP replaces the address of the same family only', () => {
    assert.equal(withExternalIP('1.2.3.4:5', 4, '9.9.9.9'), '9.9.9.9:5');
    assert.equal(withExternalIP('[2001:db8::1]:5', 6, '2001:db8::9'), '[2001:db8::9]:5');
    assert.equal(withExternalIP('1.2.3.4:5', 4, '2001:db8::9'), '1.2.3.4:5');
    assert.equal(withExternalIP('1.2.3.4:5', 4, ''), '1.2.3.4:5');
  });

  it('peer list: unseen edges omitted, dead ones without URLs, SkipLocalIP both ways, pair PSKs symmetric', () => {
    const a = newEdgeRec(peer(1));
    const b = newEdgeRec(peer(2, { ExternalIP: '203.0.113.9' }));
    const c = newEdgeRec(peer(3, { SkipLocalIP: true }));
    const d = newEdgeRec(peer(4)); // never seen
    const dead = newEdgeRec(peer(5));
    a.ext[4] = '198.51.100.1:3001';
    a.local4 = { '10.0.0.1:3001': 100 };
    b.ext[4] = '198.51.100.2:3002';
    b.ext[6] = '[2001:db8::2]:3002';
    b.local6 = { '[fd00::2]:3002': 100 };
    c.ext[4] = '198.51.100.3:3003';
    c.local4 = { '10.0.0.3:3003': 100 };
    dead.ext[4] = '198.51.100.5:3005';
    const alive = (r: typeof a) => r !== dead;
    const edges = publicEdges([dead, c, b, a, d], alive);
    assert.deepEqual(edges.map((e) => e.NodeID), [1, 2, 3, 5]);
    const psks = new PairPsks();
    const forA = peerInfoFor(a.conf, edges, (x, y) => psks.get(x, y));
    assert.equal(forA[a.conf.PubKey], undefined, 'own entry omitted');
    assert.deepEqual(forA[b.conf.PubKey].Connurl, {
      ExternalV4: { '203.0.113.9:3002': 4 },
      ExternalV6: { '[2001:db8::2]:3002': 6 },
      LocalV4: {},
      LocalV6: { '[fd00::2]:3002': 100 },
    });
    assert.deepEqual(forA[c.conf.PubKey].Connurl.LocalV4, {}, 'SkipLocalIP edge publishes no local addresses');
    assert.deepEqual(forA[dead.conf.PubKey].Connurl, { ExternalV4: {}, ExternalV6: {}, LocalV4: {}, LocalV6: {} });
    const forC = peerInfoFor(c.conf, edges, (x, y) => psks.get(x, y));
    assert.deepEqual(forC[b.conf.PubKey].Connurl.LocalV6, {}, 'a SkipLocalIP requester gets no local addresses');
    assert.deepEqual(forC[a.conf.PubKey].Connurl.LocalV4, {});
    assert.equal(forC[a.conf.PubKey].PSKey, forA[c.conf.PubKey].PSKey);
    assert.notEqual(forA[b.conf.PubKey].PSKey, forA[c.conf.PubKey].PSKey);
    const noPsk = peerInfoFor(a.conf, edges, undefined);
    assert.equal(noPsk[b.conf.PubKey].PSKey, '');
    assert.doesNotThrow(() => decode.peerInfo(JSON.stringify(forA)));
    psks.drop(1);
    // Pairs handed out: 1-2, 1-3, 1-5, 2-3, 3-5; dropping node 1 leaves 2-3 and 3-5.
    assert.equal(psks.size, 2);
  });

  it('local address maps are checked by family', () => {
    assert.equal(localMapProblem({ '10.0.0.1:1': 100 }, 4), null);
    assert.equal(localMapProblem({ '[fd00::1]:1': 100 }, 6), null);
    assert.match(localMapProblem({ '[fd00::1]:1': 100 }, 4) ?? '', /LocalV4s/);
    assert.match(localMapProblem({ 'host:1': 100 }, 4) ?? '', /not an IPv4/);
    assert.match(localMapProblem({ '10.0.0.1:0': 100 }, 4) ?? '', /LocalV4s/);
  });

  it('pending updates: unacked hashes, NhTable also when forced; frame is kind 6 from 65533', () => {
    const r = newEdgeRec(peer(7));
    r.acked = { peer: 'p', nh: 'n', params: 'x' };
    assert.deepEqual(pendingUpdates(r, { peer: 'p', nh: 'n', params: 'x' }, false), []);
    assert.deepEqual(pendingUpdates(r, { peer: 'p', nh: 'n', params: 'x' }, true), [{ action: Action.UpdateNhTable, hash: 'n' }]);
    assert.deepEqual(pendingUpdates(r, { peer: 'P', nh: 'n', params: 'X' }, false).map((u) => u.action), [Action.UpdatePeer, Action.UpdateSuperParams]);
    const f = serverUpdateFrame(7, Action.Shutdown, 2, 'bye');
    const h = readHeader(f)!;
    assert.deepEqual({ kind: h.kind, ttl: h.ttl, dst: h.dst, src: h.src }, { kind: 6, ttl: 0, dst: 7, src: 65533 });
    assert.deepEqual(decode.serverUpdate(f.subarray(HEADER_LEN)), { v: 1, NodeID: 7, Action: 1, Code: 2, Params: 'bye' });
  });
});

describe('supernode auth', () => {
  it('passwords compare in constant time and equal only when equal', () => {
    assert.equal(passwordMatches('abc', 'abc'), true);
    assert.equal(passwordMatches('abc', 'abd'), false);
    assert.equal(passwordMatches('', 'abc'), false);
    assert.equal(passwordMatches('abcabc', 'abc'), false);
  });

  it('the Bearer header wins over the parameter', () => {
    assert.equal(presentedPassword('Bearer s3cret', 'x'), 's3cret');
    assert.equal(presentedPassword('bearer  s3cret ', undefined), 's3cret');
    assert.equal(presentedPassword(undefined, 'p'), 'p');
    assert.equal(presentedPassword('Basic abc', undefined), undefined);
  });

  it('limiter: 10 failures within the window block for blockMs, then release; old failures age out', () => {
    let t = 0;
    const l = new AuthLimiter({ maxFailures: 10, windowMs: 60_000, blockMs: 60_000 }, () => t);
    for (let i = 0; i < 9; i++) assert.equal(l.fail('a'), false);
    assert.equal(l.blockedFor('a'), 0);
    assert.equal(l.fail('a'), true);
    assert.equal(l.blockedFor('a'), 60_000);
    assert.equal(l.blockedFor('b'), 0, 'per client');
    t = 60_001;
    assert.equal(l.blockedFor('a'), 0);
    // Failures spread wider than the window never block.
    for (let i = 0; i < 30; i++) {
      t += 7_000;
      assert.equal(l.fail('c'), false);
    }
  });

  it('limiter memory is bounded', () => {
    const l = new AuthLimiter({ maxClients: 100 }, () => 0);
    for (let i = 0; i < 1000; i++) l.fail(`10.0.${i >> 8}.${i & 255}`);
    assert.ok(l.size <= 100);
  });
});

describe('supernode manage validation', () => {
  // A manage-API change is the config file plus the edit, loaded by the config loader.
  const KEY = generateKeyPair();
  const base = (extra = '') =>
    `NodeName: S\nPrivKeyV4: ${KEY.privateKey}\nDisabledAf: {IPv6: true}\nPeerAliveTimeout: 70\nSendPingInterval: 15\nHttpPostInterval: 50\n${extra}` +
    `Peers:\n  - {NodeID: 1, Name: a, PubKey: ${generateKeyPair().publicKey}}\n  - {NodeID: 2, Name: b, PubKey: ${generateKeyPair().publicKey}}\n`;
  const sup = (text: string, p: Record<string, unknown>) => checkEdit(text, 's.yaml', (d) => setTopLevel(d, superUpdate(p)));
  const why = (r: ReturnType<typeof checkEdit>) => (r.ok ? '' : r.introduced.map((x) => `${x.path}: ${x.message}`).join('; '));

  it('super/update: each parameter by its own rule, against the values after the update', () => {
    assert.deepEqual(superUpdate({}), {});
    assert.equal(sup(base(), { HttpPostInterval: 0 }).ok, true);
    assert.match(why(sup(base(), { PeerAliveTimeout: 0 })), /PeerAliveTimeout: must be greater than 0/);
    assert.match(why(sup(base(), { PeerAliveTimeout: 10, SendPingInterval: 5 })), /HttpPostInterval: must be at most PeerAliveTimeout \(10\)/);
    assert.match(why(sup(base(), { HttpPostInterval: 71 })), /HttpPostInterval/);
    // Upstream bug #12 checked HttpPostInterval with SendPingInterval's value: 60 > 15 is fine here.
    assert.equal(sup(base(), { HttpPostInterval: 60 }).ok, true);
    assert.match(why(sup(base(), { DampingFilterRadius: -1 })), /DampingFilterRadius/);
    assert.match(why(sup(base(), { SendPingInterval: 0 })), /SendPingInterval/);
    assert.match(why(sup(base(), { SendPingInterval: Infinity })), /SendPingInterval: must be a number, got number Infinity/);
    const ok = sup(base(), { HttpPostInterval: 20 });
    assert.ok(ok.ok && ok.config.HttpPostInterval === 20 && /^HttpPostInterval: 20$/m.test(ok.text));
  });

  it('problems the file had before the edit are reported apart from the ones the edit adds', () => {
    const r = sup(base('DampingFilterRadius: four\n'), { HttpPostInterval: 99 });
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.before.length === 1 && r.before[0]!.path === 'DampingFilterRadius');
    assert.ok(!r.ok && r.introduced.length === 1 && r.introduced[0]!.path === 'HttpPostInterval');
  });

  it('StaticMode tables must cover every pair through configured peers, without loops', () => {
    const st = (t: unknown) => checkEdit(base('GraphRecalculateSetting: {StaticMode: true}\n'), 's.yaml', (d) => setNextHopTable(d, t));
    assert.equal(st({ 1: { 2: 2 }, 2: { 1: 1 } }).ok, true);
    assert.match(why(st({ 1: { 2: 2 } })), /missing 2->1/);
    assert.match(why(st({ 1: { 2: 9 }, 2: { 1: 1 } })), /not a configured peer/);
    assert.match(why(st({ 1: { 2: 1 }, 2: { 1: 1 } })), /NextHopTable: frames 1→2 loop 1→1/);
    assert.match(why(st([])), /NextHopTable: must be a mapping/);
  });

  it('listen addresses: upstream forms and host:port', () => {
    assert.deepEqual(parseListen('3000'), { port: 3000 });
    assert.deepEqual(parseListen(':3000'), { port: 3000 });
    assert.deepEqual(parseListen('127.0.0.1:3000'), { host: '127.0.0.1', port: 3000 });
    assert.deepEqual(parseListen('[::1]:3000'), { host: '::1', port: 3000 });
    assert.equal(sameListen('3000', ':3000'), true);
    assert.equal(sameListen('3000', '127.0.0.1:3000'), false);
    assert.throws(() => parseListen('nope'));
    assert.equal(normPrefix('eg_api/'), '/eg_api');
    assert.equal(normPrefix('/'), '');
  });
});

describe('supernode config rewrite and edge YAML', () => {
  it('peer add / update / delete keep comments and the rest of the file', () => {
    const doc = parseDocument('# top\nNodeName: S # name\nPeers:\n  # one\n  - NodeID: 1\n    Name: a\n    PubKey: k\n');
    const p = peer(2);
    addPeerToDoc(doc, p);
    updatePeerInDoc(doc, 1, { AdditionalCost: 3 });
    let out = doc.toString();
    assert.match(out, /# top/);
    assert.match(out, /NodeName: S # name/);
    assert.match(out, /# one/);
    const y = parseYaml(out) as { Peers: SuperPeerInfo[] };
    assert.deepEqual(y.Peers.map((x) => x.NodeID), [1, 2]);
    assert.equal(y.Peers[0].AdditionalCost, 3);
    delPeerFromDoc(doc, 1);
    out = doc.toString();
    assert.deepEqual((parseYaml(out) as { Peers: SuperPeerInfo[] }).Peers.map((x) => x.NodeID), [2]);
    const empty = parseDocument('NodeName: S\nPeers: []\n');
    addPeerToDoc(empty, p);
    assert.equal((parseYaml(empty.toString()) as { Peers: SuperPeerInfo[] }).Peers[0].PubKey, p.PubKey);
  });

  it('edge YAML: identity filled in, a family without endpoint loses its key, -1 keeps the template AC', () => {
    const fill = {
      NodeID: 9, NodeName: 'E9', PSKey: '', PubKeyV4: 'A'.repeat(43) + '=', PubKeyV6: 'B'.repeat(43) + '=',
      EndpointV4: '192.0.2.1:3000', EndpointV6: '', EndpointEdgeAPIUrl: 'http://192.0.2.1:3000/eg_api', AdditionalCost: -1, SkipLocalIP: true,
    };
    const y = parseYaml(edgeConfigYaml(undefined, fill)) as Record<string, any>;
    assert.equal(y.NodeID, 9);
    assert.equal(y.PrivKey, 'Your_Private_Key');
    const sn = y.DynamicRoute.SuperNode;
    assert.equal(sn.UseSuperNode, true);
    assert.equal(sn.EndpointV4, '192.0.2.1:3000');
    assert.equal(sn.EndpointV6, '');
    assert.equal(sn.PubKeyV6, '');
    assert.equal(sn.SkipLocalIP, true);
    assert.equal(y.DynamicRoute.AdditionalCost, 10, 'the example edge value stays');
    assert.deepEqual(y.NextHopTable, {});
    // A template's own endpoints are kept.
    const t = 'NodeID: 1\nDynamicRoute:\n  SuperNode:\n    EndpointV4: vpn.example.org:3000\n';
    const z = parseYaml(edgeConfigYaml(t, { ...fill, AdditionalCost: 5 })) as Record<string, any>;
    assert.equal(z.DynamicRoute.SuperNode.EndpointV4, 'vpn.example.org:3000');
    assert.equal(z.DynamicRoute.AdditionalCost, 5);
  });
});

describe('supernode route state (WASM graph)', () => {
  it('reference case B: AdditionalCost 10 ms makes the direct path win', () => {
    const r = new RouteState(graphCfg, {}, 'salt', (m) => assert.fail(m));
    try {
      const h0 = r.hash;
      for (const id of [1, 2, 3]) r.addNode(id);
      r.applyPong(1, 2, 0.001, 10, 70, 0);
      r.applyPong(2, 3, 0.002, 10, 70, 0);
      r.applyPong(1, 3, 0.004, 10, 70, 0);
      assert.equal(r.check(0), true);
      assert.notEqual(r.hash, h0);
      const v = r.view(0);
      assert.equal(v.NhTable['1']['3'], 3);
      assert.ok(Math.abs(v.Dist['1']['3'] - 0.014) < 1e-12);
      assert.ok(Math.abs(v.Dist_noAC['1']['3'] - 0.004) < 1e-12);
      assert.equal(v.Edges['3'], undefined, 'a link never measured is not listed');
      assert.ok(Math.abs(v.Edges_Nh['1']['2'] - 0.011) < 1e-12);
    } finally {
      r.free();
    }
  });

  it('without AC the relay wins; expiry makes edges infinite and reroutes', () => {
    const r = new RouteState(graphCfg, {}, 'salt', (m) => assert.fail(m));
    try {
      r.applyPong(1, 2, 0.001, 0, 10, 0);
      r.applyPong(2, 3, 0.002, 0, 10, 0);
      r.applyPong(1, 3, 0.004, 0, 100, 0);
      r.check(0);
      assert.equal(r.view(0).NhTable['1']['3'], 2);
      assert.equal(r.check(1), false, 'nothing changed');
      // 1→2 and 2→3 expire after 10 s.
      assert.equal(r.check(11), true);
      const v = r.view(11);
      assert.equal(v.NhTable['1']['3'], 3);
      assert.equal(v.Edges['1']['2'], INFINITY);
    } finally {
      r.free();
    }
  });

  it('reference case D: ManualLatency overrides reported edges only', () => {
    const ml = { 1: { 2: 1.14 }, 2: { 1: 5.14 }, 100: { 65535: 1.919 }, 65535: { 100: 8.1 } };
    const r = new RouteState({ ...graphCfg, ManualLatency: ml }, {}, 'salt', (m) => assert.fail(m));
    try {
      r.applyPong(1, 2, 0.5, 0, 70, 0);
      r.applyPong(100, 1, 0.5, 0, 70, 0);
      r.applyPong(1, 100, 0.5, 0, 70, 0);
      r.check(0);
      const v = r.view(0);
      const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);
      near(v.Edges['1']['2'], 0.00114);
      near(v.Edges['100']['1'], 0.001919);
      near(v.Edges['1']['100'], 0.0081);
      assert.equal(v.Edges['2']?.['1'], undefined, 'never created by an override');
      assert.ok(Math.abs(v.Dist['1']['2'] - 0.00114) < 1e-12);
    } finally {
      r.free();
    }
  });

  it('StaticMode publishes the configured table; removing a node strips it', () => {
    const r = new RouteState({ ...graphCfg, StaticMode: true }, { 1: { 2: 2, 3: 2 }, 2: { 1: 1, 3: 3 }, 3: { 1: 2, 2: 2 } }, 'salt', (m) => assert.fail(m));
    const h = r.hash;
    assert.equal(r.staticMode, true);
    r.applyPong(1, 2, 0.1, 0, 70, 0);
    assert.equal(r.check(0), false);
    r.removeNode(3);
    assert.deepEqual(r.nhTable, { 1: { 2: 2 }, 2: { 1: 1 } });
    assert.notEqual(r.hash, h);
  });
});
