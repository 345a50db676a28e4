// super/update refuses timer values that break liveness (an edge seen as dead between its pings),
// although a config file with them loads with a warning, as etherguard-go's loader accepts them.
// A real Supernode on loopback, its config file on disk, the manage API over HTTP.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, generatePSK, type SuperConfig } from '../ts/config/index.js';
import { parseSuper } from '../ts/config/validate.js';
import type { Supernode } from '../ts/super/supernode.js';
import { startFileSupernode, superConfigHead } from './helpers/file-super.js';

const PW = 'sup_pw';

function superYaml(timers: { SendPingInterval: number; PeerAliveTimeout: number; HttpPostInterval: number }): string {
  const edge = generateKeyPair();
  return `${superConfigHead('LiveSuper')}RePushConfigInterval: 30
HttpPostInterval: ${timers.HttpPostInterval}
PeerAliveTimeout: ${timers.PeerAliveTimeout}
SendPingInterval: ${timers.SendPingInterval}
DampingFilterRadius: 4
Passwords:
  UpdateSuper: ${PW}
Peers:
  - NodeID: 1
    Name: edge1
    PubKey: ${edge.publicKey}
    PSKey: ${generatePSK()}
    AdditionalCost: 10
`;
}

interface Fixture {
  dir: string;
  path: string;
  cfg: SuperConfig;
  sn: Supernode;
  base: string;
}

async function start(timers = { SendPingInterval: 15, PeerAliveTimeout: 70, HttpPostInterval: 50 }): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'eg-live-'));
  const path = join(dir, 'super.yaml');
  writeFileSync(path, superYaml(timers));
  const { sn, cfg, base } = await startFileSupernode(path, 'live-test');
  return { dir, path, cfg, sn, base };
}

async function stop(f: Fixture | undefined): Promise<void> {
  if (!f) return;
  await f.sn.stop();
  rmSync(f.dir, { recursive: true, force: true });
}

const update = async (f: Fixture, q: Record<string, string>): Promise<{ status: number; text: string }> => {
  const r = await fetch(`${f.base}/manage/super/update`, { method: 'POST', headers: { authorization: `Bearer ${PW}` }, body: new URLSearchParams(q) });
  return { status: r.status, text: await r.text() };
};

const frozen = (f: Fixture) => ({
  file: readFileSync(f.path, 'utf8'),
  params: [f.cfg.PeerAliveTimeout, f.cfg.SendPingInterval, f.cfg.HttpPostInterval, f.cfg.DampingFilterRadius],
});

describe('super/update refuses timers that break liveness', function () {
  this.timeout(20000);
  let f: Fixture | undefined;
  afterEach(async () => {
    await stop(f);
    f = undefined;
  });

  const refused: [string, Record<string, string>, RegExp][] = [
    ['SendPingInterval above PeerAliveTimeout', { SendPingInterval: '100' }, /SendPingInterval: is not less than PeerAliveTimeout \(70\), got 100: it must be less.*SendPingInterval=100, PeerAliveTimeout=70 after this update\); nothing changed"/],
    ['SendPingInterval equal to PeerAliveTimeout', { SendPingInterval: '70' }, /SendPingInterval: is not less than PeerAliveTimeout \(70\), got 70/],
    ['PeerAliveTimeout lowered to SendPingInterval', { PeerAliveTimeout: '15', HttpPostInterval: '10' }, /SendPingInterval: is not less than PeerAliveTimeout \(15\), got 15.*PeerAliveTimeout=15/],
    ['both set so they break it', { PeerAliveTimeout: '10', SendPingInterval: '12', HttpPostInterval: '5' }, /SendPingInterval: is not less than PeerAliveTimeout \(10\), got 12/],
  ];
  for (const [what, q, want] of refused) {
    it(`${what} → 400 naming both keys and the rule; running values and config file unchanged`, async () => {
      f = await start();
      const before = frozen(f);
      const r = await update(f, q);
      assert.equal(r.status, 400, r.text);
      assert.match(r.text, want);
      assert.deepEqual(frozen(f), before);
    });
  }

  it('HttpPostInterval above PeerAliveTimeout is still refused by the loader (upstream refuses it at load too)', async () => {
    f = await start();
    const before = frozen(f);
    const r = await update(f, { HttpPostInterval: '71' });
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /HttpPostInterval: must be at most PeerAliveTimeout \(70\), got 71/);
    assert.deepEqual(frozen(f), before);
  });

  it('values that keep edges alive are applied and written', async () => {
    f = await start();
    const r = await update(f, { SendPingInterval: '69', HttpPostInterval: '70' });
    assert.equal(r.status, 200, r.text);
    assert.equal(f.cfg.SendPingInterval, 69);
    assert.match(readFileSync(f.path, 'utf8'), /^SendPingInterval: 69$/m);
  });

  it('a file that loaded with the warning takes other updates, and refuses one that keeps the timers broken', async () => {
    const broken = { SendPingInterval: 100, PeerAliveTimeout: 70, HttpPostInterval: 50 };
    const warnings: string[] = [];
    parseSuper(superYaml(broken), 'super.yaml').warnings.forEach((w) => warnings.push(w.message));
    assert.ok(warnings.some((w) => /is not less than PeerAliveTimeout \(70\), got 100/.test(w)), warnings.join('\n'));
    f = await start(broken);
    let r = await update(f, { DampingFilterRadius: '2' });
    assert.equal(r.status, 200, r.text);
    const before = frozen(f);
    r = await update(f, { PeerAliveTimeout: '80' });
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /SendPingInterval: is not less than PeerAliveTimeout \(80\), got 100/);
    assert.deepEqual(frozen(f), before);
    r = await update(f, { PeerAliveTimeout: '120' });
    assert.equal(r.status, 200, r.text);
  });
});
