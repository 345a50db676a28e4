// systemd integration: the unit files pass `systemd-analyze verify`, ask for exactly the
// capabilities a node needs, and a real edge and supernode speak sd_notify to a NOTIFY_SOCKET
// bound here (READY=1 only once the interface, UAPI and metrics sockets are up, WATCHDOG=1 at half
// WATCHDOG_USEC, STOPPING=1 on SIGTERM).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { exampleEdgeConfig, generateKeyPair } from '../ts/config/index.js';
import { parse } from 'yaml';
import { native } from '../ts/native/index.js';
import { splitBatch } from '../ts/itype/framing.js';
import { ROOT } from '../ts/paths.js';
import { notifyAddress, watchdogIntervalS } from '../ts/service/sdnotify.js';
import { startEdge, stopAll, type Proc } from './helpers/mesh.js';

const UNITS = join(ROOT, 'deploy', 'systemd');

function directives(file: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of readFileSync(join(UNITS, file), 'utf8').split('\n')) {
    const x = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (x) m.set(x[1]!, [...(m.get(x[1]!) ?? []), x[2]!]);
  }
  return m;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const a = s.address();
  await new Promise((r) => s.close(r));
  return typeof a === 'object' && a ? a.port : 0;
}

/** A NOTIFY_SOCKET bound in a temp dir; collects the datagrams (one string per message). */
function notifySocket(dir: string) {
  const n = native();
  const path = join(dir, 'notify.sock');
  const fd = n.unixDgramOpen(path);
  const msgs: Array<{ at: number; text: string }> = [];
  let open = true;
  const loop = (async () => {
    while (open) {
      const b = await n.unixReadBatch(fd, -1, 100, 1 << 16);
      for (const m of splitBatch(b.data, [])) msgs.push({ at: Date.now(), text: Buffer.from(m).toString('utf8') });
    }
  })();
  return {
    path,
    msgs,
    async close() {
      open = false;
      await loop;
      n.unixClose(fd);
    },
  };
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('systemd units and sd_notify', function () {
  this.timeout(30_000);

  it('the unit files pass systemd-analyze verify (as instances of the templates)', function () {
    if (spawnSync('systemd-analyze', ['--version']).error) {
      console.log('      SKIPPED: systemd-analyze is not installed (Debian package systemd; scripts/bootstrap.sh installs it)');
      this.skip();
    }
    for (const u of ['etherguard-edge@test1.service', 'etherguard-super@test1.service']) {
      const r = spawnSync('systemd-analyze', ['verify', join(UNITS, u)], { encoding: 'utf8', cwd: tmpdir() });
      assert.equal(r.status, 0, `${u}: ${r.stderr}${r.stdout}`);
      assert.equal(r.stderr.trim(), '', `${u} verify warnings: ${r.stderr}`);
    }
    // The check is real: a broken copy of the same unit fails it.
    const dir = mkdtempSync(join(tmpdir(), 'egunit-'));
    writeFileSync(join(dir, 'broken@.service'), readFileSync(join(UNITS, 'etherguard-edge@.service'), 'utf8').replace('/usr/bin/node', '/usr/bin/no-such-node'));
    assert.notEqual(spawnSync('systemd-analyze', ['verify', join(dir, 'broken@x.service')], { cwd: tmpdir() }).status, 0);
  });

  it('the units are Type=notify with a watchdog, restart on failure, and hold only the capabilities needed', () => {
    const e = directives('etherguard-edge@.service');
    const s = directives('etherguard-super@.service');
    for (const d of [e, s]) {
      assert.deepEqual(d.get('Type'), ['notify']);
      assert.deepEqual(d.get('NotifyAccess'), ['main']);
      assert.deepEqual(d.get('Restart'), ['on-failure']);
      assert.ok(Number(d.get('WatchdogSec')?.[0]) > 0);
      assert.deepEqual(d.get('NoNewPrivileges'), ['yes']);
    }
    assert.deepEqual(e.get('CapabilityBoundingSet'), ['CAP_NET_ADMIN']);
    assert.deepEqual(e.get('AmbientCapabilities'), ['CAP_NET_ADMIN']);
    assert.deepEqual(s.get('CapabilityBoundingSet'), ['']);
    assert.deepEqual(s.get('AmbientCapabilities'), ['']);
    assert.match(e.get('ExecStart')![0]!, /main\.js -mode edge -config \/etc\/etherguard\/%i\.yaml$/);
    assert.match(s.get('ExecStart')![0]!, /main\.js -mode super -config \/etc\/etherguard\/%i\.yaml$/);
  });

  it('NOTIFY_SOCKET forms and the watchdog interval follow sd_notify(3)', () => {
    assert.deepEqual([...notifyAddress('@abc')], [0, 0x61, 0x62, 0x63]);
    assert.equal(notifyAddress('/run/systemd/notify').toString(), '/run/systemd/notify');
    assert.throws(() => notifyAddress('relative'), /NOTIFY_SOCKET "relative"/);
    assert.equal(watchdogIntervalS({ WATCHDOG_USEC: '30000000' }), 15);
    assert.equal(watchdogIntervalS({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' }, 2), 0);
    assert.equal(watchdogIntervalS({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '2' }, 2), 15);
    assert.equal(watchdogIntervalS({ WATCHDOG_USEC: 'x' }), 0);
    assert.equal(watchdogIntervalS({}), 0);
  });

  it('an edge sends READY=1 only after its UAPI and metrics sockets answer, WATCHDOG=1 at half WATCHDOG_USEC, STOPPING=1 on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egsd-'));
    const sock = notifySocket(dir);
    const procs: Proc[] = [];
    try {
      const cfg = parse(exampleEdgeConfig()) as Record<string, unknown> & { Interface: Record<string, unknown> };
      const name = `egsd${process.pid % 10000}`;
      const metricsPort = await freePort();
      const file = join(dir, 'edge.yaml');
      writeFileSync(file, stringify({ ...cfg, NodeName: name, PrivKey: generateKeyPair().privateKey, ListenPort: 0, Interface: { ...cfg.Interface, IType: 'dummy' }, MetricsListen: `127.0.0.1:${metricsPort}`, LogLevel: { LogLevel: 'error' } }));
      const uapiDir = join(dir, 'uapi');
      const p = startEdge(file, { env: { NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: '400000', EG_UAPI_DIR: uapiDir } });
      procs.push(p);
      await until(() => sock.msgs.some((m) => m.text.includes('READY=1')), 15_000, 'READY=1').catch((e: Error) => {
        throw new Error(`${e.message}; edge output: ${p.out.join('\n')}`);
      });
      // At READY the sockets are bound: both answer at once.
      assert.ok(existsSync(join(uapiDir, `${name}.sock`)), 'UAPI socket exists at READY');
      const r = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      assert.equal(r.status, 200);
      assert.match(await r.text(), /etherguard_frames_forwarded_total 0/);
      const ready = sock.msgs.find((m) => m.text.includes('READY=1'))!;
      assert.match(ready.text, new RegExp(`STATUS=edge ${name} \\(node 1\\) up`));
      assert.match(ready.text, new RegExp(`MAINPID=\\d+`));
      const t0 = Date.now();
      await new Promise((res) => setTimeout(res, 1000));
      const pings = sock.msgs.filter((m) => m.text === 'WATCHDOG=1\n' && m.at >= t0).length;
      // every 0.2 s: about 5 in one second (allow scheduling slack either way)
      assert.ok(pings >= 3 && pings <= 7, `${pings} watchdog pings in 1 s`);
      p.child.kill('SIGTERM');
      assert.equal(await p.exited, 0);
      assert.ok(sock.msgs.some((m) => m.text.includes('STOPPING=1')), 'STOPPING=1 sent');
    } finally {
      await stopAll(procs);
      await sock.close();
    }
  });

  it('without NOTIFY_SOCKET nothing is sent and the node runs as before', () => {
    // systemdNotifier with an empty environment is inert (no addon call, no socket).
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', "import('./ts/service/sdnotify.ts').then(m => { const n = m.systemdNotifier(() => { throw new Error('no'); }, {}); n.ready('x'); n.stopping(); console.log(n.active); })"], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(out.trim(), 'false');
  });
});
