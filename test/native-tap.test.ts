import assert from 'node:assert/strict';
import { netnsAdd, netnsDel, runIn, isRoot, sh } from './helpers/netns.js';
import { loadNative } from '../ts/native/index.js';

describe('native addon: TAP through the kernel', function () {
  let ns = '';
  before(function () {
    if (!isRoot()) this.skip();
    ns = netnsAdd('egtap');
  });
  after(() => ns && netnsDel(ns));

  it('loads and reports its version', () => {
    const n = loadNative();
    assert.ok(n.ok, n.ok ? '' : n.error);
    assert.match(n.mod.nativeVersion(), /^\d+\.\d+\.\d+$/);
  });

  it('opens a TAP in a namespace, writes an ARP request and reads the kernel reply', async () => {
    const r = await runIn(ns, process.execPath, ['--import', 'tsx', 'test/fixtures/tap-arp.ts']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    assert.equal(out.name, 'egtest0');
    assert.equal(out.wrote, true);
    assert.deepEqual(out.state, { up: true, running: true, mtu: 1404 });
    assert.equal(out.dst, '02ee00000002', 'reply goes back to the asking MAC');
    assert.equal(out.senderMac, '02ee00000001', 'kernel answers with the MAC we set');
    assert.equal(out.senderIp, '10.99.0.1');
    assert.equal(out.targetIp, '10.99.0.2');
    // The device disappears with its fd: nothing is left behind in the namespace.
    assert.doesNotMatch(sh('ip', ['-n', ns, 'link', 'show']), /egtest0/);
  });

  it('names the interface in errors', () => {
    const n = loadNative();
    assert.ok(n.ok);
    assert.throws(() => n.mod.ifSetMtu('nosuchif0', 1400), /SIOCSIFMTU on nosuchif0: No such device/);
    assert.throws(() => n.mod.tapOpen('this-name-is-too-long'), /must be 1 to 15 bytes/);
  });
});
