// DPDK's dpdk-testpmd as a memif server (the peer of IType vpp in tests and the memif benchmark):
// Debian's dpdk-dev package, memif PMD in server role on a socket file, MAC-swap forwarding (each
// frame comes back with its MAC addresses swapped). Settings found to work with DPDK 22.11 on a
// machine without hugepages: --no-huge -m 256 needs --total-num-mbufs 8192; socket-abstract=no
// makes the PMD use the socket file; --stats-period keeps it running without a terminal. Its
// forwarding lcore busy-polls one CPU, so it runs niced and only as long as a test needs it.
// --disable-link-check and --no-flush-rx make it forward at once (see startTestpmd).
// After kill -9 its socket file stays and a restart would fail with "Address already in use":
// start() removes a stale file first.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';

export function testpmdAvailable(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v dpdk-testpmd'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface Testpmd {
  child: ChildProcess;
  out: string[];
  exited: Promise<number | null>;
  /** SIGKILL (default) or another signal; resolves once it exited (or at once for SIGSTOP/SIGCONT). */
  kill(sig?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts testpmd with a memif server on `socket` (memif `id`, default 0) and waits until the
 * socket file is there. `prefix` must be unique per concurrent run (DPDK's runtime directory).
 * `nice`: 19 for tests (they need little throughput); the benchmark passes 0 for a few seconds,
 * since a nice-19 poller on a loaded machine measures the scheduler, not memif.
 */
let starts = 0;

export async function startTestpmd(socket: string, prefix: string, id = 0, nice = 19): Promise<Testpmd> {
  rmSync(socket, { force: true });
  // A runtime directory of its own per start: a restart right after kill -9 must not meet the
  // dead instance's files.
  const filePrefix = `${prefix}-${++starts}`;
  const args = [
    '-n', String(nice), 'dpdk-testpmd', '-l', '0,1', '--no-huge', '-m', '256', '--no-pci', '--file-prefix', filePrefix,
    `--vdev=net_memif0,role=server,id=${id},socket=${socket},socket-abstract=no`,
    // --disable-link-check: start forwarding without waiting (up to 9 s) for a memif client;
    // --no-flush-rx: testpmd otherwise drains and frees what arrives while it starts forwarding,
    // which ate the first frames of a client that connected at once.
    '--', '--forward-mode=macswap', '--total-num-mbufs', '8192', '--stats-period', '1', '--disable-link-check', '--no-flush-rx',
  ];
  const child = spawn('nice', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  const collect = (d: Buffer) => out.push(...d.toString().split('\n').filter((l) => l.trim() !== ''));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  // DPDK leaves its runtime directory behind (a dead instance's too): removed once it exited.
  const exited = new Promise<number | null>((r) =>
    child.on('exit', (c) => {
      rmSync(`/var/run/dpdk/${filePrefix}`, { recursive: true, force: true });
      r(c);
    }),
  );
  let dead = false;
  void exited.then(() => (dead = true));
  const end = Date.now() + 20_000;
  for (;;) {
    let ok = false;
    try {
      ok = statSync(socket).isSocket() && out.some((l) => l.includes('packets/burst='));
    } catch {
      /* not yet */
    }
    if (ok) break;
    if (dead || Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`dpdk-testpmd did not start a memif server on ${socket}:\n${out.slice(-20).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    out,
    exited,
    async kill(sig: NodeJS.Signals = 'SIGKILL') {
      if (dead) return;
      child.kill(sig);
      if (sig === 'SIGSTOP' || sig === 'SIGCONT') return;
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (!dead) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Removes a socket file a killed server left behind (what an operator must do too). */
export function removeStaleSocket(path: string): void {
  if (existsSync(path)) rmSync(path, { force: true });
}
