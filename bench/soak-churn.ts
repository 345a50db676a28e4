// Churn leak probe: a supernode and edges 1, 2, 8 in namespaces over TAP; one churn event (or a
// list) repeated N times as fast as it completes, while edge 1, never restarted, is watched: RSS,
// V8 heap used and external memory (ArrayBuffers, WASM memory) from its -metrics after every
// iteration, and two heap snapshots (after the warm-up and at the end, objects counted by
// constructor) to name what grows. Used to find per-event growth seen in the 60-minute soak.
//
//   events (SOAK_CHURN, comma-separated, default "peer,super,cut,restart"):
//     peer     edge 8 deleted through the manage API (it exits 2), added again with the same key
//              and started: edge 1 removes and re-adds the peer with the same key
//     super    the supernode killed (SIGKILL) and started: edge 1 gets a new supernode session
//     cut      link 1<->2 cut for 3 s (iptables) and restored
//     restart  edge 2 stopped (SIGTERM) and started: edge 1 handshakes a restarted peer
//     restart-super  restart, then 4 s later super (the soak's order); probes 1<->8
//     idle     nothing for 20 s (with SOAK_CHURN_PROBE=1: traffic across the 2-minute rekeys)
//
// Needs root. Run: SOAK_CHURN=peer SOAK_CHURN_N=200 npx tsx bench/soak-churn.ts
// Prints per-iteration growth (least squares after the warm-up) and the constructors whose
// object count grew between the snapshots.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { buildMeshConfigs } from '../ts/demo/meshcfg.js';
import { snapshotArtefacts } from './soak-snapshot.js';
import { cutLink } from '../test/helpers/delay.js';
import { type Proc, stopAll } from '../test/helpers/mesh.js';
import { isRoot } from '../test/helpers/netns.js';
import { buildStar, pingFrom } from '../test/helpers/topo.js';

const run = promisify(execFile);
const EVENTS = (process.env.SOAK_CHURN ?? 'peer,super,cut,restart').split(',');
const N = Number(process.env.SOAK_CHURN_N ?? 100);
const WARM = Number(process.env.SOAK_CHURN_WARM ?? 10);
// SOAK_CHURN_PROBE=1: during every event, edges 1 and 2 ping each other (and 1 pings 8 unless the
// event removes it) 20 times a second; echoes without a reply within 3 s are reported with the
// edges' drop counters (etherguard_drops_total) before and after. SOAK_CHURN_SNAP=0: no heap snapshots.
const PROBE = process.env.SOAK_CHURN_PROBE === '1';
const SNAP = process.env.SOAK_CHURN_SNAP !== '0';
const IDS = [1, 2, 8];
const SUPER = 100;
const METRICS = '127.0.0.1:9598';
const tapIp = (id: number) => `192.168.173.${id}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (!isRoot()) {
  console.error('soak-churn: needs root');
  process.exit(2);
}
const topo = buildStar([...IDS, SUPER], 173);
topo.joinRoot(98);
const dir = mkdtempSync(join(tmpdir(), 'egchurn-'));
const cfgs = buildMeshConfigs({
  name: `egc${process.pid % 1000}n`,
  superHost: topo.addr(SUPER),
  superPort: 3000,
  httpPort: 3100,
  edges: IDS.map((id) => ({ id, listenPort: 3001, additionalCost: 50, iface: { IType: 'tap', Name: `egc${id}`, IPv4CIDR: '192.168.173.0/24' } })),
  timing: { SendPingInterval: 1, HttpPostInterval: 2, PeerAliveTimeout: 6, DampingFilterRadius: 1, RecalculateCoolDown: 1, TimeoutCheckInterval: 1, JitterTolerance: 20, JitterToleranceMultiplier: 1.01 },
  log: { LogControl: false },
});
const mainJs = await snapshotArtefacts(dir);
const procs = new Map<number, Proc>();
const ns = (id: number) => topo.ns.get(id)!;

function start(id: number): void {
  const path = join(dir, id === SUPER ? 'super.yaml' : `edge${id}.yaml`);
  const node = id === 1 ? [process.execPath, `--heapsnapshot-signal=SIGUSR2`] : [process.execPath];
  const child = spawn('ip', ['netns', 'exec', ns(id), ...node, mainJs, id === SUPER ? 'super' : 'edge', '-config', path, '-json', '-no-uapi', '-metrics', METRICS], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  const out: string[] = [];
  const keep = (d: Buffer) => {
    out.push(...d.toString().split('\n').filter(Boolean));
    if (out.length > 200) out.splice(0, 100);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  procs.set(id, { child, out, exited: new Promise((res) => child.on('exit', (c) => res(c))) });
}

async function manage(path: string, pw: string, params: Record<string, string | number>): Promise<number> {
  const q = new URLSearchParams({ Password: pw, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) });
  const r = await run('curl', ['-s', '-m', '10', '-o', '/dev/null', '-w', '%{http_code}', `http://${topo.addr(SUPER)}:3100${cfgs.apiPrefix}${path}?${q}`]).catch(() => ({ stdout: '0' }));
  return Number(r.stdout);
}

async function mem(): Promise<{ rss: number; heap: number; ext: number }> {
  const r = await run('ip', ['netns', 'exec', ns(1), 'curl', '-s', '-m', '3', `http://${METRICS}/metrics`]);
  const num = (re: RegExp) => Number(re.exec(r.stdout)?.[1] ?? NaN);
  return { rss: num(/^process_resident_memory_bytes (\S+)/m), heap: num(/^nodejs_heap_size_used_bytes (\S+)/m), ext: num(/^nodejs_external_memory_bytes (\S+)/m) };
}

async function up(a: number, b: number, ms = 60_000): Promise<void> {
  const until = performance.now() + ms;
  while (!(await pingFrom(ns(a), tapIp(b), 1))) {
    if (performance.now() > until) throw new Error(`${a} -> ${b} never pinged`);
    await sleep(200);
  }
}

async function allUp(): Promise<void> {
  for (const [a, b] of [[1, 2], [2, 1], [1, 8], [8, 1], [2, 8], [8, 2]] as const) await up(a, b);
}

/** Heap snapshot of edge 1 (SIGUSR2), objects counted by constructor name. */
async function snapshot(): Promise<Map<string, { count: number; size: number }>> {
  const before = new Set(readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot')));
  procs.get(1)!.child.kill('SIGUSR2');
  let file: string | undefined;
  for (let i = 0; i < 600 && !file; i++) {
    await sleep(200);
    file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
  }
  if (!file) throw new Error('no heap snapshot');
  let text = '';
  for (let i = 0; i < 300; i++) {
    await sleep(500);
    text = readFileSync(join(dir, file), 'utf8');
    if (text.trimEnd().endsWith('}')) break;
  }
  const snap = JSON.parse(text) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] };
  rmSync(join(dir, file));
  const f = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((k) => f.indexOf(k));
  const by = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < snap.nodes.length; i += f.length) {
    const t = types[snap.nodes[i + iType]];
    if (t === 'hidden' || t === 'synthetic' || t === 'code') continue;
    const k = `${t}:${t === 'string' || t === 'concatenated string' || t === 'sliced string' ? '' : snap.strings[snap.nodes[i + iName]].slice(0, 60)}`;
    const e = by.get(k) ?? { count: 0, size: 0 };
    e.count++;
    e.size += snap.nodes[i + iSize];
    by.set(k, e);
  }
  return by;
}

async function drops(id: number): Promise<Record<string, number>> {
  const r = await run('ip', ['netns', 'exec', ns(id), 'curl', '-s', '-m', '3', `http://${METRICS}/metrics`]).catch(() => ({ stdout: '' }));
  return Object.fromEntries([...r.stdout.matchAll(/^etherguard_drops_total\{reason="([^"]*)"\} (\S+)/gm)].map((m) => [m[1], Number(m[2])]));
}

/** Pings a>b 20/s until `done` resolves (+1 s); returns the icmp_seq numbers never answered. */
async function probe(a: number, b: number, done: Promise<unknown>): Promise<number[]> {
  const child = spawn('ip', ['netns', 'exec', ns(a), 'ping', '-n', '-i', '0.05', '-W', '3', tapIp(b)], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await done;
  await sleep(1000);
  const sentUpTo = Math.max(0, ...[...out.matchAll(/icmp_seq=(\d+)/g)].map((m) => Number(m[1])));
  await sleep(3000); // replies still in flight for the last echoes
  child.kill('SIGINT');
  await new Promise((r) => child.on('exit', r));
  const got = new Set([...out.matchAll(/icmp_seq=(\d+) .*time=/g)].map((m) => Number(m[1])));
  const lost: number[] = [];
  for (let i = 1; i <= sentUpTo; i++) if (!got.has(i)) lost.push(i);
  return lost;
}

async function event(ev: string): Promise<void> {
  if (!PROBE) return eventOnly(ev);
  const before = await Promise.all([1, 2].map(drops));
  const t0 = performance.now();
  const done = eventOnly(ev);
  const pairs: Array<[number, number]> = ev === 'peer' ? [[1, 2], [2, 1]] : ev === 'restart-super' ? [[1, 8], [8, 1]] : [[1, 2], [2, 1], [1, 8]];
  const lost = await Promise.all(pairs.map(([a, b]) => probe(a, b, done)));
  const after = await Promise.all([1, 2].map(drops));
  const delta = after.map((d, i) => Object.fromEntries(Object.entries(d).filter(([k, v]) => v !== (before[i][k] ?? 0)).map(([k, v]) => [k, v - (before[i][k] ?? 0)])));
  const n = lost.reduce((x, l) => x + l.length, 0);
  console.log(`${ev}: ${((performance.now() - t0) / 1000).toFixed(1)} s, lost ${n}${n ? ` (${pairs.map(([a, b], i) => `${a}>${b} seq ${lost[i].join(',')}`).join('; ')})` : ''}; drops edge 1 ${JSON.stringify(delta[0])}, edge 2 ${JSON.stringify(delta[1])}`);
}

async function eventOnly(ev: string): Promise<void> {
  if (ev === 'peer') {
    const sn = parse(cfgs.superYaml) as { Peers: Array<{ NodeID: number; Name: string; PubKey: string; PSKey: string; AdditionalCost: number }> };
    const p8 = sn.Peers.find((p) => p.NodeID === 8)!;
    const del = await manage('/manage/peer/del', cfgs.passwords.DelPeer, { NodeID: 8 });
    await Promise.race([procs.get(8)!.exited, sleep(8000)]);
    const add = await manage('/manage/peer/add', cfgs.passwords.AddPeer, { NodeID: 8, Name: p8.Name, AdditionalCost: p8.AdditionalCost, PubKey: p8.PubKey, PSKey: p8.PSKey });
    if (del !== 200 || add !== 200) console.error(`peer/del ${del}, peer/add ${add}`);
    if (procs.get(8)!.child.exitCode === null) procs.get(8)!.child.kill('SIGTERM');
    await procs.get(8)!.exited;
    start(8);
  } else if (ev === 'super') {
    procs.get(SUPER)!.child.kill('SIGKILL');
    await procs.get(SUPER)!.exited;
    start(SUPER);
    for (let i = 0; i < 100 && (await manage('/manage/super/state', cfgs.passwords.ShowState, {})) !== 200; i++) await sleep(200);
  } else if (ev === 'cut') {
    const c = cutLink({ netns: ns(1), dstIp: topo.addr(2), both: true });
    await sleep(3000);
    c.restore();
  } else if (ev === 'restart') {
    procs.get(2)!.child.kill('SIGTERM');
    await procs.get(2)!.exited;
    start(2);
  } else if (ev === 'idle') {
    await sleep(20_000);
  } else if (ev === 'restart-super') {
    // The soak's sequence: an edge (2) restarted, the supernode killed 4 s after its spawn.
    await eventOnly('restart');
    await sleep(4000);
    await eventOnly('super');
    await sleep(6000);
  } else throw new Error(`unknown event ${ev}`);
}

function slope(ys: number[]): number {
  const n = ys.length;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  return den ? num / den : 0;
}

async function main(): Promise<void> {
  writeFileSync(join(dir, 'super.yaml'), cfgs.superYaml);
  start(SUPER);
  for (const id of IDS) {
    writeFileSync(join(dir, `edge${id}.yaml`), cfgs.edgeYaml.get(id)!);
    start(id);
  }
  await allUp();
  const series: Array<{ rss: number; heap: number; ext: number }> = [];
  let first: Map<string, { count: number; size: number }> | undefined;
  for (let i = 0; i < N + WARM; i++) {
    for (const ev of EVENTS) await event(ev);
    await allUp();
    if (i === WARM - 1 && SNAP) first = await snapshot();
    if (i >= WARM) series.push(await mem());
    if ((i + 1) % 10 === 0) console.log(`iteration ${i + 1}: ${JSON.stringify(series.at(-1))}`);
  }
  const last = SNAP ? await snapshot() : new Map<string, { count: number; size: number }>();
  first ??= new Map();
  const mib = (v: number) => (v / 2 ** 20).toFixed(2);
  console.log(`\nsoak-churn: ${EVENTS.join('+')} × ${N} after ${WARM} warm-up iterations, edge 1 watched`);
  for (const k of ['rss', 'heap', 'ext'] as const) {
    const ys = series.map((s) => s[k]);
    console.log(`${k.padEnd(5)} first ${mib(ys[0])} MiB, last ${mib(ys.at(-1)!)} MiB, slope ${(slope(ys) / 1024).toFixed(2)} KiB per iteration`);
  }
  const grew = [...last]
    .map(([k, v]) => ({ k, dc: v.count - (first!.get(k)?.count ?? 0), ds: v.size - (first!.get(k)?.size ?? 0) }))
    .filter((x) => x.dc > 0)
    .sort((a, b) => b.ds - a.ds)
    .slice(0, 25);
  console.log('heap snapshot, end against warm-up (objects by constructor; count and self size grown):');
  for (const g of grew) console.log(`  ${String(g.dc).padStart(7)}  ${String(g.ds).padStart(9)} B  ${g.k}`);
  console.log(JSON.stringify({ soakChurn: { events: EVENTS, n: N, series: series.map((s) => [s.rss, s.heap, s.ext]), grew } }));
}

const cleanup = async () => {
  await stopAll([...procs.values()]);
  topo.teardown();
  rmSync(dir, { recursive: true, force: true });
};
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
main().then(
  () => cleanup().then(() => process.exit(0)),
  async (e: Error) => {
    console.error(`soak-churn failed: ${e.message}`);
    for (const [id, p] of procs) console.error(`--- ${id} (exit ${p.child.exitCode}):\n${p.out.slice(-8).join('\n')}`);
    await cleanup();
    process.exit(1);
  },
);
