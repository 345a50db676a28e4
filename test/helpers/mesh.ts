// Builds edge configs for a topology (links + next-hop table) and runs edges as real processes
// (`node dist/main.js edge -config ...`), collecting their logs.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generateKeyPair, generatePSK, KeyPair } from '../../ts/config/index.js';
import { ROOT } from '../../ts/paths.js';

export interface NodeSpec {
  id: number;
  /** Address other nodes use to reach this node's UDP port, e.g. 10.200.0.1 or 127.0.0.1. */
  host: string;
  port: number;
  iface: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

export interface MeshSpec {
  nodes: NodeSpec[];
  links: [number, number][];
  table: Record<number, Record<number, number>>;
  log?: Record<string, unknown>;
}

export function buildConfigs(spec: MeshSpec): { dir: string; files: Map<number, string>; keys: Map<number, KeyPair> } {
  const dir = mkdtempSync(join(tmpdir(), 'egmesh-'));
  const keys = new Map(spec.nodes.map((n) => [n.id, generateKeyPair()]));
  const psk = new Map<string, string>();
  const pairKey = (a: number, b: number) => `${Math.min(a, b)}-${Math.max(a, b)}`;
  for (const [a, b] of spec.links) psk.set(pairKey(a, b), generatePSK());
  const files = new Map<number, string>();
  for (const n of spec.nodes) {
    const peers = spec.links
      .filter(([a, b]) => a === n.id || b === n.id)
      .map(([a, b]) => (a === n.id ? b : a))
      .map((pid) => {
        const p = spec.nodes.find((x) => x.id === pid)!;
        return {
          NodeID: pid,
          PubKey: keys.get(pid)!.publicKey,
          PSKey: psk.get(pairKey(n.id, pid)),
          EndPoint: `${p.host}:${p.port}`,
          PersistentKeepalive: 0,
          Static: true,
        };
      });
    const cfg = {
      Interface: { MacAddrPrefix: 'AA:BB:CC:DD', MTU: 1404, ...n.iface },
      NodeID: n.id,
      NodeName: `egn${n.id}`,
      PrivKey: keys.get(n.id)!.privateKey,
      ListenPort: n.port,
      DisabledAf: { IPv6: true },
      LogLevel: { LogLevel: 'error', ...spec.log },
      NextHopTable: spec.table,
      Peers: peers,
      ...n.extra,
    };
    const f = join(dir, `edge${n.id}.yaml`);
    writeFileSync(f, stringify(cfg));
    files.set(n.id, f);
  }
  return { dir, files, keys };
}

export interface Proc {
  child: ChildProcess;
  out: string[];
  exited: Promise<number | null>;
}

export function startEdge(config: string, opts: { netns?: string; args?: string[]; env?: Record<string, string>; mode?: 'edge' | 'super' } = {}): Proc {
  const argv = [join(ROOT, 'dist/main.js'), opts.mode ?? 'edge', '-config', config, '-json', ...(opts.args ?? [])];
  const child = opts.netns
    ? spawn('ip', ['netns', 'exec', opts.netns, process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } })
    : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  const out: string[] = [];
  let partial = '';
  const onData = (d: Buffer) => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    out.push(...lines);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  return { child, out, exited };
}

export async function stopAll(procs: Proc[]): Promise<void> {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGTERM');
  await Promise.race([Promise.all(procs.map((p) => p.exited)), new Promise((r) => setTimeout(r, 3000))]);
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
}

export async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

export function jsonLines(p: Proc): Record<string, unknown>[] {
  const r: Record<string, unknown>[] = [];
  for (const l of p.out) {
    try {
      r.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      /* not a log line */
    }
  }
  return r;
}
