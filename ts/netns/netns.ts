// Network namespaces (tests and the root demo): created with unique names, always torn down (also when a test
// fails, and on process exit), so a failed run never leaks namespaces into the next.
import { execFileSync, spawn, SpawnOptions, ChildProcess } from 'node:child_process';

const created = new Set<string>();
let hooked = false;

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function netnsAdd(prefix: string): string {
  const name = `${prefix}-${process.pid}-${Math.floor(Math.random() * 1e6)}`.slice(0, 30);
  sh('ip', ['netns', 'add', name]);
  created.add(name);
  sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const n of created) {
        try {
          execFileSync('ip', ['netns', 'del', n], { stdio: 'ignore' });
        } catch {
          /* already gone */
        }
      }
    });
  }
  return name;
}

export function netnsDel(name: string): void {
  try {
    // Killing what still runs inside first, or the namespace lingers until it exits.
    execFileSync('sh', ['-c', `ip netns pids ${name} | xargs -r kill -9`], { stdio: 'ignore' });
    sh('ip', ['netns', 'del', name]);
  } catch {
    /* already gone */
  }
  created.delete(name);
}

/** Runs a command inside a namespace; output collected, resolves with exit code. */
export function runIn(
  ns: string,
  cmd: string,
  args: string[],
  opts: SpawnOptions & { timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}
