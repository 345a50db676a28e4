// peer/add's edge config: the supernode addresses it names must be ones the new edge can reach
// (ts/super/endpoints.ts), and its text must describe the file handed out (ts/super/config-rewrite.ts,
// gencfg's EdgeTemplate). docs/supernode.md "The edge YAML from peer/add", docs/gencfg.md.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, generatePSK, parseSuperConfig } from '../ts/config/index.js';
import { parseEdge } from '../ts/config/validate.js';
import { Logger } from '../ts/shared/log.js';
import { Supernode } from '../ts/super/supernode.js';

const quiet = (): Logger => new Logger('peeradd-test', { LogLevel: 'silent', LogTransit: false, LogNormal: false, LogControl: false, LogInternal: false });

const PW = 'add_pw';

const addPeer = (base: string, q: Record<string, string>) =>
  fetch(`${base}/manage/peer/add`, { method: 'POST', headers: { authorization: `Bearer ${PW}` }, body: new URLSearchParams(q) });

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
