// Faults: the supernode's config file cannot be written when a peer is added through the manage
// API — the disk is full (a 1 MiB tmpfs, filled) or the file system is read-only (a read-only
// bind mount). The API must answer 500 naming the reason, and neither the running supernode nor
// the file on disk may change. Needs root (mounts); the mounts live under a fresh temp dir.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, generatePSK, parseSuperConfig } from '../ts/config/index.js';
import { Supernode } from '../ts/super/supernode.js';
import { quietLogger } from './helpers/loopback-super.js';

const sh = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { stdio: 'pipe' });

function superYaml(): string {
  const v4 = generateKeyPair();
  const e = generateKeyPair();
  return `# hand-written comment that must survive
NodeName: FaultSN
PrivKeyV4: ${v4.privateKey}
PrivKeyV6: ${generateKeyPair().privateKey}
DisabledAf: {IPv6: true}
API_Prefix: eg_api
Passwords: {ShowState: s, AddPeer: add, DelPeer: del, UpdatePeer: upd, UpdateSuper: sup}
Peers:
  - {NodeID: 1, Name: Edge1, PubKey: ${e.publicKey}, PSKey: ${generatePSK()}, AdditionalCost: 10}
`;
}

interface Fx {
  root: string;
  mnt: string;
  path: string;
  text: string;
  sn: Supernode;
  errors: string[];
}

async function start(root: string, mnt: string): Promise<Fx> {
  const path = join(mnt, 'super.yaml');
  const text = readFileSync(path, 'utf8');
  const cfg = parseSuperConfig(text, path);
  cfg.ListenPort = 0;
  cfg.ListenPort_EdgeAPI = '127.0.0.1:0';
  cfg.ListenPort_ManageAPI = '127.0.0.1:0';
  cfg.DisabledAf.ListenIPv4 = '127.0.0.1';
  const log = quietLogger('fault-super');
  const errors: string[] = [];
  const orig = log.error.bind(log);
  log.error = (m: string, ...r: unknown[]) => {
    errors.push(m);
    return (orig as (...a: unknown[]) => void)(m, ...r);
  };
  const sn = new Supernode(cfg, { configPath: path, log, uapi: false });
  await sn.start();
  return { root, mnt, path, text, sn, errors };
}

async function addPeer(fx: Fx, id: number): Promise<{ status: number; body: { message?: string } }> {
  const k = generateKeyPair();
  const q = new URLSearchParams({ Password: 'add', NodeID: String(id), Name: `Edge${id}`, AdditionalCost: '5', PubKey: k.publicKey, PSKey: generatePSK() });
  const r = await fetch(`${fx.sn.manageAddress()}/eg_api/manage/peer/add?${q}`, { signal: AbortSignal.timeout(10_000) });
  const t = await r.text();
  return { status: r.status, body: r.headers.get('content-type')?.includes('json') ? JSON.parse(t) : { message: t } };
}

function assertUnchanged(fx: Fx, id: number): void {
  assert.equal(readFileSync(fx.path, 'utf8'), fx.text, 'the config file is byte for byte the old one');
  assert.deepEqual(readdirSync(fx.mnt).filter((n) => n.endsWith('.tmp')), [], 'no temp file left behind');
  assert.equal(fx.sn.edges.has(id), false, 'the running supernode has no new peer');
  assert.equal(fx.sn.state().PeerInfo[String(id)], undefined, 'the state API lists no new peer');
}

describe('faults: the config file cannot be written when a peer is added', function () {
  this.timeout(60_000);
  let root = '';
  let fx: Fx | undefined;
  const mounts: string[] = [];

  beforeEach(function () {
    if (process.getuid?.() !== 0) this.skip();
    root = mkdtempSync(join(tmpdir(), 'eg-fault-cfg-'));
  });
  afterEach(async () => {
    await fx?.sn.stop();
    fx = undefined;
    for (const m of mounts.splice(0).reverse()) {
      try {
        sh('umount', '-l', m);
      } catch {
        /* already gone */
      }
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('disk full: 500 naming ENOSPC, running state and old file unchanged; works again once there is room', async () => {
    const mnt = join(root, 'small');
    mkdirSync(mnt);
    sh('mount', '-t', 'tmpfs', '-o', 'size=256k', 'egfault', mnt);
    mounts.push(mnt);
    writeFileSync(join(mnt, 'super.yaml'), superYaml());
    fx = await start(root, mnt);
    // Fill the file system: what is left cannot hold another copy of the config.
    try {
      sh('dd', 'if=/dev/zero', `of=${join(mnt, 'filler')}`, 'bs=4k');
    } catch {
      /* dd stops with "No space left on device" */
    }
    const r = await addPeer(fx, 7);
    assert.equal(r.status, 500, JSON.stringify(r.body).slice(0, 300));
    assert.match(r.body.message ?? '', /ENOSPC|no space/i);
    assert.match(r.body.message ?? '', /nothing changed/);
    assertUnchanged(fx, 7);
    // Room again: the same request succeeds and is written.
    rmSync(join(mnt, 'filler'));
    const ok = await addPeer(fx, 7);
    assert.equal(ok.status, 200, JSON.stringify(ok.body).slice(0, 300));
    assert.ok(fx.sn.edges.has(7));
    assert.match(readFileSync(fx.path, 'utf8'), /Name: Edge7/);
    assert.match(readFileSync(fx.path, 'utf8'), /hand-written comment that must survive/);
  });

  it('read-only file system: 500 naming EROFS, running state and old file unchanged', async () => {
    const mnt = join(root, 'ro');
    mkdirSync(mnt);
    writeFileSync(join(mnt, 'super.yaml'), superYaml());
    fx = await start(root, mnt);
    sh('mount', '--bind', mnt, mnt);
    mounts.push(mnt);
    sh('mount', '-o', 'remount,bind,ro', mnt);
    const r = await addPeer(fx, 8);
    assert.equal(r.status, 500, JSON.stringify(r.body).slice(0, 300));
    assert.match(r.body.message ?? '', /EROFS|read-only/i);
    assertUnchanged(fx, 8);
    // peer/update and super/update are refused the same way.
    const u = await fetch(`${fx.sn.manageAddress()}/eg_api/manage/peer/update?Password=upd&NodeID=1&AdditionalCost=3`);
    assert.equal(u.status, 500);
    assert.equal(fx.sn.edges.get(1)?.conf.AdditionalCost, 10, 'AdditionalCost unchanged');
    assert.equal(readFileSync(fx.path, 'utf8'), fx.text);
  });
});
