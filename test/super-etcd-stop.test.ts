// A supernode with its state in etcd stops on SIGTERM whatever etcd's state: etcd never reached,
// or reached and then gone (killed). Before, the etcd3 client's pending calls, watch retries and
// backoff timers kept the process alive until SIGKILL. Also: a write refused for want of etcd
// quorum answers 503 with fastify's reason phrase ("Service Unavailable"), not "Error".
// Runs the real CLI (`node dist/main.js super -config ...`): run `bash scripts/build.sh ts` first.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '../ts/config/index.js';
import { ROOT } from '../ts/paths.js';
import { EtcdCluster } from './helpers/etcd.js';
import { freePort } from './helpers/ports.js';

const MAIN = join(ROOT, 'dist/main.js');
const PW = { ShowState: 'show_pw', AddPeer: 'add_pw', DelPeer: 'del_pw', UpdatePeer: 'upd_pw', UpdateSuper: 'sup_pw' };

interface Run {
  child: ChildProcess;
  out: () => string;
  /** Resolves with the exit code and signal once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  manage: string;
  dir: string;
}

/** Starts `node dist/main.js super` on a config whose Etcd lists `endpoints`; resolves once it logged "up". */
async function startCli(endpoints: string[]): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'eg-etcd-stop-'));
  const path = join(dir, 'super.yaml');
  const manage = await freePort('tcp');
  const edgeApi = await freePort('tcp');
  const udp = await freePort('udp');
  writeFileSync(
    path,
    `NodeName: SuperStop
PrivKeyV4: ${generateKeyPair().privateKey}
PrivKeyV6: ""
DisabledAf: {IPv6: true, ListenIPv4: 127.0.0.1}
ListenPort: ${udp}
ListenPort_EdgeAPI: "127.0.0.1:${edgeApi}"
ListenPort_ManageAPI: "127.0.0.1:${manage}"
API_Prefix: /eg_api
Passwords: ${JSON.stringify(PW)}
Etcd:
  Endpoints: ${JSON.stringify(endpoints)}
  Prefix: /eg-test/${randomBytes(6).toString('hex')}/
  Timeout: 2
Peers:
  - {NodeID: 1, Name: Node_1, PubKey: ${generateKeyPair().publicKey}, AdditionalCost: 10}
`,
  );
  const child = spawn(process.execPath, [MAIN, 'super', '-config', path, '-no-uapi'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  const t0 = Date.now();
  while (!/supernode SuperStop up/.test(out)) {
    if (child.exitCode !== null) throw new Error(`the supernode exited (${child.exitCode}) before "up": ${out}`);
    if (Date.now() - t0 > 20_000) {
      child.kill('SIGKILL');
      throw new Error(`no "up" within 20 s: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, out: () => out, exited, manage: `http://127.0.0.1:${manage}/eg_api/manage`, dir };
}

/** Sends SIGTERM and returns how the process ended and how long it took (SIGKILL after `ms`). */
async function terminate(run: Run, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; took: number }> {
  const t0 = Date.now();
  run.child.kill('SIGTERM');
  const kill = setTimeout(() => run.child.kill('SIGKILL'), ms);
  const end = await run.exited;
  clearTimeout(kill);
  return { ...end, took: Date.now() - t0 };
}

describe('a supernode with its state in etcd stops on SIGTERM', function () {
  this.timeout(120_000);
  const runs: Run[] = [];
  let etcd: EtcdCluster | undefined;
  after(async () => {
    for (const r of runs) {
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
      rmSync(r.dir, { recursive: true, force: true });
    }
    await etcd?.stop();
  });

  it('exits 0 within 3 s when etcd was never reachable (nothing listens on its port)', async () => {
    const run = await startCli([`http://127.0.0.1:${await freePort('tcp')}`]);
    runs.push(run);
    assert.match(run.out(), /etcd: cannot load the state/);
    const end = await terminate(run, 15_000);
    assert.equal(end.signal, null, `killed by ${end.signal} after ${end.took} ms: ${run.out()}`);
    assert.equal(end.code, 0, run.out());
    assert.ok(end.took < 3000, `took ${end.took} ms`);
  });

  it('exits 0 within 3 s when etcd was reachable and then killed (-9)', async () => {
    etcd = await EtcdCluster.start(1);
    const run = await startCli(etcd.endpoints);
    runs.push(run);
    assert.match(run.out(), /etcd: state loaded/);
    await etcd.stopMember(0);
    // Gone for a while: the watch's reconnect backoff has grown (etcd3's default reaches 30 s).
    await new Promise((r) => setTimeout(r, 10_000));
    const end = await terminate(run, 15_000);
    assert.equal(end.signal, null, `killed by ${end.signal} after ${end.took} ms: ${run.out()}`);
    assert.equal(end.code, 0, run.out());
    assert.ok(end.took < 3000, `took ${end.took} ms`);
  });

  it('answers a write without etcd quorum 503 with error "Service Unavailable", then still exits 0 within 3 s', async () => {
    etcd!.startMember(0);
    await etcd!.waitReady(60_000);
    const run = await startCli(etcd!.endpoints);
    runs.push(run);
    assert.match(run.out(), /etcd: state loaded/);
    await etcd!.stopMember(0);
    const u = new URL(`${run.manage}/peer/add`);
    for (const [k, v] of Object.entries({ Password: PW.AddPeer, NodeID: 5, Name: 'Node_5', AdditionalCost: 10, PubKey: generateKeyPair().publicKey })) u.searchParams.set(k, String(v));
    const r = await fetch(u, { method: 'POST' });
    const body = (await r.json()) as { statusCode: number; error: string; message: string };
    assert.equal(r.status, 503, JSON.stringify(body));
    assert.equal(body.statusCode, 503);
    assert.equal(body.error, 'Service Unavailable', JSON.stringify(body));
    assert.match(body.message, /etcd cluster .* unavailable/);
    const end = await terminate(run, 15_000);
    assert.equal(end.signal, null, `killed by ${end.signal} after ${end.took} ms: ${run.out()}`);
    assert.equal(end.code, 0, run.out());
    assert.ok(end.took < 3000, `took ${end.took} ms`);
  });
});
