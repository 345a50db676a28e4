// peer/add's edge config: the supernode addresses it names must be ones the new edge can reach
// (ts/super/endpoints.ts), and its text must describe the file handed out (ts/super/config-rewrite.ts,
// gencfg's EdgeTemplate). docs/supernode.md "The edge YAML from peer/add", docs/gencfg.md.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, generatePSK, parseSuperConfig } from '../ts/config/index.js';
import { parse as parseYaml } from 'yaml';
import { parseEdge } from '../ts/config/validate.js';
import { runGencfg } from '../ts/gencfg/mode.js';
import { Logger } from '../ts/shared/log.js';
import { Supernode } from '../ts/super/supernode.js';

const quiet = (): Logger => new Logger('peeradd-test', { LogLevel: 'silent', LogTransit: false, LogNormal: false, LogControl: false, LogInternal: false });

const PW = 'add_pw';

const addPeer = (base: string, q: Record<string, string>, pw = PW) =>
  fetch(`${base}/manage/peer/add`, { method: 'POST', headers: { authorization: `Bearer ${pw}` }, body: new URLSearchParams(q) });

function superText(v4: string, v6: string): string {
  return `NodeName: PeerAddSN
PrivKeyV4: ${v4}
PrivKeyV6: ${v6}
ListenPort: 3000
ListenPort_EdgeAPI: "3000"
ListenPort_ManageAPI: "3000"
API_Prefix: /eg_api
Passwords: {ShowState: s, AddPeer: ${PW}, DelPeer: d, UpdatePeer: u, UpdateSuper: x}
Peers: []
`;
}

describe('peer/add over a non-loopback IPv4 address of an interface without global IPv6', function () {
  this.timeout(30_000);
  // A veth pair of our own in this namespace (this kernel has no dummy links), IPv4 only on one
  // end (the kernel adds an IPv6 link-local address when it comes up, which must be skipped).
  const ifname = `egpa${process.pid % 100000}`;
  const addr = `198.19.${(process.pid >> 8) & 255}.${(process.pid & 127) + 1}`;
  let dir = '';
  let sn: Supernode | undefined;

  before(async function () {
    try {
      execFileSync('ip', ['link', 'add', ifname, 'type', 'veth', 'peer', 'name', `${ifname}p`], { stdio: 'pipe' });
      execFileSync('ip', ['addr', 'add', `${addr}/32`, 'dev', ifname], { stdio: 'pipe' });
      execFileSync('ip', ['link', 'set', ifname, 'up'], { stdio: 'pipe' });
      execFileSync('ip', ['link', 'set', `${ifname}p`, 'up'], { stdio: 'pipe' });
    } catch (e) {
      if (process.getuid?.() !== 0) this.skip();
      throw e;
    }
    dir = mkdtempSync(join(tmpdir(), 'eg-peeradd-'));
    const path = join(dir, 'super.yaml');
    writeFileSync(path, superText(generateKeyPair().privateKey, generateKeyPair().privateKey));
    const cfg = parseSuperConfig(readFileSync(path, 'utf8'), path, () => {});
    // Every address, both families (IPv6 on): a wildcard bind is where the address is chosen.
    cfg.ListenPort = 0;
    cfg.ListenPort_EdgeAPI = '0';
    cfg.ListenPort_ManageAPI = '0';
    sn = new Supernode(cfg, { configPath: path, log: quiet(), uapi: false });
    await sn.start();
  });

  after(async () => {
    await sn?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    try {
      execFileSync('ip', ['link', 'del', ifname], { stdio: 'pipe' });
    } catch {
      /* not created */
    }
  });

  it('names that IPv4 address, and no IPv6 endpoint (neither loopback nor another interface’s), dropping PubKeyV6', async () => {
    const port = new URL(sn!.manageAddress()).port;
    const k = generateKeyPair();
    const r = await addPeer(`http://${addr}:${port}/eg_api`, { NodeID: '7', Name: 'edge7', PubKey: k.publicKey, PSKey: generatePSK(), AdditionalCost: '10' });
    const yaml = await r.text();
    assert.equal(r.status, 200, yaml);
    const s = parseEdge(yaml.replace('Your_Private_Key', k.privateKey), 'returned').config.DynamicRoute.SuperNode;
    assert.equal(s.EndpointV4, `${addr}:${sn!.udpPort}`);
    assert.deepEqual([s.EndpointV6, s.PubKeyV6], ['', ''], yaml);
    assert.equal(new URL(s.EndpointEdgeAPIUrl).hostname, addr);
  });

  it('over loopback a loopback address of the other family is still used ([::1] → 127.0.0.1)', async () => {
    const port = new URL(sn!.manageAddress()).port;
    const k = generateKeyPair();
    const r = await addPeer(`http://[::1]:${port}/eg_api`, { NodeID: '8', Name: 'edge8', PubKey: k.publicKey, AdditionalCost: '10' });
    const yaml = await r.text();
    assert.equal(r.status, 200, yaml);
    const s = parseEdge(yaml.replace('Your_Private_Key', k.privateKey), 'returned').config.DynamicRoute.SuperNode;
    assert.equal(s.EndpointV4, `127.0.0.1:${sn!.udpPort}`);
    assert.equal(s.EndpointV6, `[::1]:${sn!.udpPort}`);
  });
});

/** Comments of the static-mode example (`-mode edge -example`) that are false in a peer/add config. */
const EXAMPLE_ONLY = [/static mode example/, /here AA:BB:CC:DD:00:01/, /6-node reference topology/, /Static peers/, /as here\) routes with NextHopTable/, /generated fresh on every -example run/];

async function startFrom(superPath: string): Promise<Supernode> {
  const cfg = parseSuperConfig(readFileSync(superPath, 'utf8'), superPath, () => {});
  cfg.ListenPort = 0;
  cfg.ListenPort_EdgeAPI = '127.0.0.1:0';
  cfg.ListenPort_ManageAPI = '127.0.0.1:0';
  const sn = new Supernode(cfg, { configPath: superPath, log: quiet(), uapi: false });
  await sn.start();
  return sn;
}

describe('peer/add on a supernode generated by gencfg -cfgmode super (no template in the input)', function () {
  this.timeout(30_000);
  let dir = '';
  let sn: Supernode | undefined;
  let edge1: Record<string, any> = {}; // eslint-disable-line @typescript-eslint/no-explicit-any
  let superPath = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'eg-peeradd-gen-'));
    const input = `Config output dir: out
Enable generated config overwrite: false
Add NodeID to the interface name: true
Network name: pnet
Super Node:
  Listen port: 3456
  EdgeAPI prefix: /eg_api
  Endpoint(IPv4)(optional): 127.0.0.1
  Endpoint(IPv6)(optional): ""
  Endpoint(EdgeAPI): http://127.0.0.1:3456/eg_api
Edge Node:
  Node IDs: "[1~2]"
  MacAddress prefix: "02:7E:11:22"
  IPv4 range: 10.77.0.0/16
  IPv6 range: fd77:1:2:3::/64
  IPv6 LL range: fe80::77:0/112
`;
    const file = join(dir, 'gen.yaml');
    writeFileSync(file, input);
    await runGencfg('super', file, input);
    superPath = join(dir, 'out', 'pnet_super.yaml');
    edge1 = parseYaml(readFileSync(join(dir, 'out', 'pnet_edge1.yaml'), 'utf8'));
    sn = await startFrom(superPath);
  });

  after(async () => {
    await sn?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the supernode config names an edge template with the network’s settings', () => {
    const s = parseYaml(readFileSync(superPath, 'utf8'));
    assert.equal(s.EdgeTemplate, join(dir, 'out', 'pnet_edge_template.yaml'));
    const t = parseYaml(readFileSync(s.EdgeTemplate, 'utf8'));
    assert.deepEqual(t.Interface, { ...edge1.Interface, Name: 'pnet' });
  });

  it('returns an edge config that loads, with the network’s MAC prefix and address ranges and no example comments', async () => {
    const k = generateKeyPair();
    const pw = parseYaml(readFileSync(superPath, 'utf8')).Passwords.AddPeer as string;
    const r = await addPeer(sn!.manageAddress() + '/eg_api', { NodeID: '9', Name: 'pnet9', PubKey: k.publicKey, PSKey: generatePSK(), AdditionalCost: '10' }, pw);
    const yaml = await r.text();
    assert.equal(r.status, 200, yaml);
    const c = parseEdge(yaml.replace('Your_Private_Key', k.privateKey), 'returned').config;
    assert.equal(c.NodeID, 9);
    assert.equal(c.NodeName, 'pnet9');
    for (const key of ['MacAddrPrefix', 'IPv4CIDR', 'IPv6CIDR', 'IPv6LLPrefix', 'MTU', 'IType'] as const) assert.equal(c.Interface[key], edge1.Interface[key], key);
    assert.equal(c.DynamicRoute.SuperNode.UseSuperNode, true);
    assert.equal(c.DynamicRoute.SuperNode.EndpointV4, edge1.DynamicRoute.SuperNode.EndpointV4);
    for (const re of EXAMPLE_ONLY) assert.doesNotMatch(yaml, re);
    // The header describes this file, not the template.
    assert.match(yaml, /^# Etherguard edge config of node 9 \(pnet9\) in super mode, from the supernode's peer\/add/);
    assert.doesNotMatch(yaml, /Edge template of network/);
    assert.match(yaml, /# This node's private key goes here: the one whose public key was given to peer\/add\.\nPrivKey: Your_Private_Key\n/);
  });
});

describe('peer/add on a supernode without EdgeTemplate', function () {
  this.timeout(30_000);
  let dir = '';
  let sn: Supernode | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'eg-peeradd-nt-'));
    const path = join(dir, 'super.yaml');
    writeFileSync(path, superText(generateKeyPair().privateKey, generateKeyPair().privateKey));
    sn = await startFrom(path);
  });

  after(async () => {
    await sn?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('returns a super-mode edge config whose comments describe it: no example-only comments or values', async () => {
    const k = generateKeyPair();
    const r = await addPeer(sn!.manageAddress() + '/eg_api', { NodeID: '9', Name: 'edge9', PubKey: k.publicKey, AdditionalCost: '10' });
    const yaml = await r.text();
    assert.equal(r.status, 200, yaml);
    const c = parseEdge(yaml.replace('Your_Private_Key', k.privateKey), 'returned').config;
    for (const re of EXAMPLE_ONLY) assert.doesNotMatch(yaml, re);
    assert.match(yaml, /^# Etherguard edge config of node 9 \(edge9\) in super mode/);
    assert.match(yaml, /no EdgeTemplate/);
    // Node-specific example values are replaced: the interface is named after this node, the port is any.
    assert.equal(c.Interface.Name, 'eg9');
    assert.equal(c.ListenPort, 0);
    assert.deepEqual([c.NextHopTable, c.Peers], [{}, []]);
  });
});
