// Real etcd clusters for tests: Debian's etcd-server (`etcd` on PATH), members on loopback with
// free ports, temp data dirs and a unique cluster token, so concurrent test runs never meet.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { noop } from 'cockatiel';
import { freePort } from './ports.js';

interface Member {
  name: string;
  client: number;
  peer: number;
  dir: string;
  proc?: ChildProcess;
  log: string[];
}

export class EtcdCluster {
  private constructor(
    readonly members: Member[],
    private readonly token: string,
    private readonly root: string,
    /** The address members listen on (loopback, or an address other namespaces reach). */
    readonly host: string,
  ) {}

  /** Client URLs of every member. */
  get endpoints(): string[] {
    return this.members.map((m) => `http://${this.host}:${m.client}`);
  }

  /** Starts `n` members and waits (up to `readyMs`) until the cluster answers a read. */
  static async start(n: number, readyMs = 60_000, host = '127.0.0.1'): Promise<EtcdCluster> {
    if (spawnSync('etcd', ['--version']).error) throw new Error('etcd is not installed: apt-get install etcd-server (scripts/bootstrap.sh installs it)');
    const root = mkdtempSync(join(tmpdir(), 'eg-etcd-'));
    const members: Member[] = [];
    for (let i = 0; i < n; i++) {
      members.push({ name: `m${i}`, client: await freePort('tcp'), peer: await freePort('tcp'), dir: join(root, `m${i}`), log: [] });
    }
    const c = new EtcdCluster(members, `eg-test-${process.pid}-${Date.now()}`, root, host);
    for (let i = 0; i < n; i++) c.startMember(i, 'new');
    await c.waitReady(readyMs);
    return c;
  }

  /** (Re)starts member `i` with its data dir (`state` "new" only for the first start). */
  startMember(i: number, state: 'new' | 'existing' = 'existing'): void {
    const m = this.members[i]!;
    const h = this.host;
    const cluster = this.members.map((x) => `${x.name}=http://${h}:${x.peer}`).join(',');
    // Heartbeat and election timeouts well above the defaults: the test machine is heavily
    // loaded, and a leader that misses heartbeats would make the cluster flap.
    m.proc = spawn('etcd', [
      '--name', m.name, '--data-dir', m.dir,
      '--listen-client-urls', `http://${h}:${m.client}`, '--advertise-client-urls', `http://${h}:${m.client}`,
      '--listen-peer-urls', `http://${h}:${m.peer}`, '--initial-advertise-peer-urls', `http://${h}:${m.peer}`,
      '--initial-cluster', cluster, '--initial-cluster-state', state, '--initial-cluster-token', this.token,
      '--heartbeat-interval', '200', '--election-timeout', '2000', '--logger', 'zap', '--log-level', 'error',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    m.proc.on('error', (e) => m.log.push(`cannot run etcd: ${e.message}`));
    m.proc.stderr!.on('data', (b: Buffer) => {
      m.log.push(b.toString());
      if (m.log.length > 50) m.log.shift();
    });
  }

  /** Kills member `i` (SIGKILL) and waits for it to exit. */
  async stopMember(i: number): Promise<void> {
    const p = this.members[i]!.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGKILL');
    await gone;
  }

  /** A client that fails fast (no retries), for the test's own reads. */
  client(): Etcd3 {
    return new Etcd3({
      hosts: this.endpoints,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + 2000 }),
      faultHandling: { host: () => noop, global: noop },
    });
  }

  /** Waits until a linearizable read succeeds. */
  async waitReady(ms: number): Promise<void> {
    const c = this.client();
    const end = Date.now() + ms;
    try {
      for (;;) {
        try {
          await c.get('eg-ready-probe').string();
          return;
        } catch (e) {
          if (Date.now() > end) throw new Error(`etcd cluster not ready after ${ms} ms: ${(e as Error).message}; logs: ${this.members.map((m) => m.log.join('')).join('\n')}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    } finally {
      c.close();
    }
  }

  async stop(): Promise<void> {
    for (let i = 0; i < this.members.length; i++) await this.stopMember(i);
    rmSync(this.root, { recursive: true, force: true });
  }
}
