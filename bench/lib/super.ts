// Helpers for super-mode benchmarks: a supernode and N edges (IType dummy), each in its own
// network namespace joined by test/helpers/topo.ts buildStar, run as real processes with the
// configs from ts/demo/meshcfg.ts. The benchmark process itself reaches the supernode's state API
// over one extra veth from the root namespace into the hub bridge (plain fetch, no per-poll
// `ip netns exec curl`), so it can poll every 100 ms without disturbing the machine much.
// Everything is removed by teardown(), and by the exit hooks of the helpers if the run dies.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildMeshConfigs, MeshConfigs } from '../../ts/demo/meshcfg.js';
import { Proc, startEdge } from '../../test/helpers/mesh.js';
import { sh } from '../../test/helpers/netns.js';
import { buildStar, Topo } from '../../test/helpers/topo.js';

export const SUPER_ID = 100;
const HOST_ID = 250; // the root namespace's address on the star
const SUPER_UDP = 3000;
const SUPER_HTTP = 3100;
export const EDGE_PORT = 3001;

export interface Timing {
  SendPingInterval: number;
  HttpPostInterval: number;
  PeerAliveTimeout: number;
  DampingFilterRadius: number;
  RecalculateCoolDown: number;
  TimeoutCheckInterval: number;
  JitterTolerance: number;
  JitterToleranceMultiplier: number;
}

export interface SuperState {
  PeerInfo: Record<string, { Name: string; LastSeen: string }>;
  Edges: Record<string, Record<string, number>>;
  NhTable: Record<string, Record<string, number>>;
  Status: Record<string, { Alive: boolean; Synced: { PeerInfo: boolean; NhTable: boolean; SuperParams: boolean } }>;
  /** The value that stands for "no link" in this document (99999 unless a measurement reaches it). */
  Infinity: number;
}


export interface SuperMesh {
  ids: number[];
  topo: Topo;
  cfgs: MeshConfigs;
  supernode?: Proc;
  edges: Map<number, Proc>;
  /** performance.now() at the supernode's spawn. */
  t0: number;
  /** Spawns the supernode, then every edge right after it. */
  start(): void;
  /** Stops every edge (SIGTERM, then SIGKILL after 3 s). */
  stopEdges(): Promise<void>;
  /** Spawns every edge again (same configs and keys); returns performance.now() at the spawn. */
  startEdges(): number;
  /** The state document, or undefined when the API does not answer (yet). */
  state(timeoutMs?: number): Promise<SuperState | undefined>;
  ns(id: number): string;
  addr(id: number): string;
  /** Processes that died, with their last log lines. */
  deaths(): string[];
  teardownSync(): void;
  teardown(): Promise<void>;
}

export function buildSuperMesh(o: { n: number; net: number; timing: Timing; additionalCost: number; tag: string; log?: Record<string, unknown>; iface?: (id: number) => Record<string, unknown> }): SuperMesh {
  const ids = Array.from({ length: o.n }, (_, i) => i + 1);
  const topo = buildStar([...ids, SUPER_ID], o.net);
  const pidTag = (process.pid % 10000).toString();
  const hostDev = `egsh${pidTag}`;
  const hubDev = `egsg${pidTag}`;
  const dir = mkdtempSync(join(tmpdir(), 'egsuperbench-'));
  const edges = new Map<number, Proc>();
  let torn = false;
  // root namespace <-> hub bridge, so fetch() reaches the supernode's HTTP port directly
  try {
    sh('ip', ['link', 'add', hostDev, 'type', 'veth', 'peer', 'name', hubDev]);
    sh('ip', ['link', 'set', hubDev, 'netns', topo.hub]);
    sh('ip', ['-n', topo.hub, 'link', 'set', hubDev, 'master', 'br0']);
    sh('ip', ['-n', topo.hub, 'link', 'set', hubDev, 'up']);
    sh('ip', ['addr', 'add', `10.${o.net}.0.${HOST_ID}/24`, 'dev', hostDev]);
    sh('ip', ['link', 'set', hostDev, 'up']);
  } catch (e) {
    try {
      sh('ip', ['link', 'del', hostDev]);
    } catch {
      /* not created */
    }
    topo.teardown();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const cfgs = buildMeshConfigs({
    name: o.tag,
    superHost: topo.addr(SUPER_ID),
    superPort: SUPER_UDP,
    httpPort: SUPER_HTTP,
    edges: ids.map((id) => ({ id, listenPort: EDGE_PORT, additionalCost: o.additionalCost, iface: o.iface?.(id) ?? { IType: 'dummy', Name: `egd${id}` } })),
    timing: o.timing,
    log: o.log ?? { LogLevel: 'error' },
  });
  // Files hold private keys: 0600, removed at teardown.
  writeFileSync(join(dir, 'super.yaml'), cfgs.superYaml, { mode: 0o600 });
  for (const [id, y] of cfgs.edgeYaml) writeFileSync(join(dir, `edge${id}.yaml`), y, { mode: 0o600 });
  const stateUrl = `http://${topo.addr(SUPER_ID)}:${SUPER_HTTP}${cfgs.apiPrefix}/manage/super/state?Password=${encodeURIComponent(cfgs.passwords.ShowState)}`;

  const all = (): Proc[] => [...(m.supernode ? [m.supernode] : []), ...edges.values()];
  const m: SuperMesh = {
    ids,
    topo,
    cfgs,
    edges,
    t0: 0,
    start() {
      m.t0 = performance.now();
      m.supernode = startEdge(join(dir, 'super.yaml'), { netns: topo.ns.get(SUPER_ID)!, args: ['-no-uapi'], mode: 'super' });
      m.startEdges();
    },
    async stopEdges() {
      const live = [...edges.values()].filter((p) => p.child.exitCode === null && p.child.signalCode === null);
      for (const p of live) p.child.kill('SIGTERM');
      await Promise.race([Promise.all(live.map((p) => p.exited)), new Promise((r) => setTimeout(r, 3000))]);
      for (const p of live) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await Promise.all(live.map((p) => p.exited));
      edges.clear();
    },
    startEdges() {
      const t = performance.now();
      for (const id of ids) edges.set(id, startEdge(join(dir, `edge${id}.yaml`), { netns: topo.ns.get(id)!, args: ['-no-uapi'] }));
      return t;
    },
    async state(timeoutMs = 1500) {
      try {
        const r = await fetch(stateUrl, { signal: AbortSignal.timeout(timeoutMs) });
        return r.ok ? ((await r.json()) as SuperState) : undefined;
      } catch {
        return undefined;
      }
    },
    ns: (id) => topo.ns.get(id)!,
    addr: (id) => topo.addr(id),
    deaths() {
      const out: string[] = [];
      for (const [name, p] of [['super', m.supernode] as const, ...[...edges].map(([id, p]) => [`edge${id}`, p] as const)]) {
        if (p && p.child.exitCode !== null) out.push(`${name} exited ${p.child.exitCode}: ${p.out.slice(-5).join(' | ')}`);
      }
      return out;
    },
    teardownSync() {
      if (torn) return;
      torn = true;
      for (const p of all()) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      try {
        sh('ip', ['link', 'del', hostDev]);
      } catch {
        /* went with the hub namespace */
      }
      topo.teardown();
      rmSync(dir, { recursive: true, force: true });
    },
    async teardown() {
      if (torn) return;
      const live = all().filter((p) => p.child.exitCode === null && p.child.signalCode === null);
      for (const p of live) p.child.kill('SIGTERM');
      await Promise.race([Promise.all(live.map((p) => p.exited)), new Promise((r) => setTimeout(r, 3000))]);
      m.teardownSync();
    },
  };
  return m;
}

// ---- conditions on the state document ----------------------------------------------------------

/** Every ordered pair has a finite latency and a next hop. */
export function fullTable(s: SuperState, ids: number[]): boolean {
  return ids.every((a) => ids.every((b) => a === b || (s.NhTable?.[a]?.[b] !== undefined && (s.Edges?.[a]?.[b] ?? s.Infinity) < s.Infinity)));
}

/** Every edge is alive and has pulled the current next-hop table. */
export function allSynced(s: SuperState, ids: number[]): boolean {
  return ids.every((id) => s.Status?.[id]?.Alive === true && s.Status[id].Synced?.NhTable === true);
}

/** Ordered pairs whose next hop is not the destination itself. */
export function indirectPairs(s: SuperState, ids: number[]): string[] {
  const out: string[] = [];
  for (const a of ids) for (const b of ids) if (a !== b && s.NhTable?.[a]?.[b] !== b) out.push(`${a}->${b}:${s.NhTable?.[a]?.[b] ?? '?'}`);
  return out;
}
