// The local mesh demo: a supernode and four edges on loopback (udpsock interfaces, no root
// needed), generated configs, real processes. Waits for the routes to converge, prints the
// measured one-way latency matrix and the next-hop table, sends a frame across the mesh, and
// points at the state API and the playground. Ctrl-C stops everything. `--once` exits after
// printing (used by the test suite). `--tap` (root only): every node in its own network
// namespace with a real TAP device, and real pings cross the mesh.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createSocket, Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot } from '../netns/netns.js';
import { buildStar, Topo } from '../netns/topo.js';
import { ROOT } from '../paths.js';
import { buildMeshConfigs } from './meshcfg.js';

const once = process.argv.includes('--once');
const tap = process.argv.includes('--tap');
if (tap && !isRoot()) {
  console.error('demo: --tap needs root (network namespaces and TAP devices); without it the demo runs on loopback');
  process.exit(2);
}
const SUPER_NS = 100;
const topo: Topo | undefined = tap ? buildStar([1, 2, 3, 4, SUPER_NS], 79) : undefined;
topo?.joinRoot(254);
const superHost = topo ? topo.addr(SUPER_NS) : '127.0.0.1';
const tapIp = (id: number) => `192.168.79.${id}`;
const N = 4;
const base = 20000 + Math.floor(Math.random() * 20000);
const superPort = base;
const httpPort = base + 1;
const edgePort = (id: number) => base + 10 + id;
const ifRecv = (id: number) => base + 20 + id; // the edge listens here for frames from its host
const ifSend = (id: number) => base + 30 + id; // the edge writes frames to its host here

const ids = Array.from({ length: N }, (_, i) => i + 1);
const cfgs = buildMeshConfigs({
  name: 'demo',
  superHost,
  superPort,
  httpPort,
  edges: ids.map((id) => ({
    id,
    listenPort: edgePort(id),
    // 50 ms per relay: loopback timing noise on a busy machine must not look like a better path.
    additionalCost: 50,
    iface: tap
      ? { IType: 'tap', Name: `egd${id}`, IPv4CIDR: '192.168.79.0/24' }
      : { IType: 'udpsock', Name: `demo${id}`, RecvAddr: `127.0.0.1:${ifRecv(id)}`, SendAddr: `127.0.0.1:${ifSend(id)}` },
  })),
  // Radius 4: the spike filter's three sub-windows of 3 pings ignore a busy moment of the machine.
  timing: { SendPingInterval: 1, HttpPostInterval: 3, PeerAliveTimeout: 10, DampingFilterRadius: 4, RecalculateCoolDown: 1, TimeoutCheckInterval: 1 },
  // Loopback latencies are all ~0; pretend the direct path 1→4 is slow (200 ms) in that
  // direction only, so the demo shows an asymmetric route: 1→4 via a relay, 4→1 direct.
  manualLatency: { 1: { 4: 200 } },
});

const dir = mkdtempSync(join(tmpdir(), 'egdemo-'));
writeFileSync(join(dir, 'super.yaml'), cfgs.superYaml, { mode: 0o600 });
for (const [id, y] of cfgs.edgeYaml) writeFileSync(join(dir, `edge${id}.yaml`), y, { mode: 0o600 });

const children: ChildProcess[] = [];
function run(name: string, args: string[], ns?: string): ChildProcess {
  const argv = [join(ROOT, 'dist/main.js'), ...args, '-no-uapi'];
  const c = ns
    ? spawn('ip', ['netns', 'exec', ns, process.execPath, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  c.stderr!.on('data', (d: Buffer) => process.stderr.write(d.toString().replace(/^(?=.)/gm, `[${name}] `)));
  c.on('exit', (code, sig) => {
    if (!stopping) {
      console.error(`demo: ${name} exited unexpectedly (${code ?? sig})`);
      void shutdown(1);
    }
  });
  children.push(c);
  return c;
}

let stopping = false;
const hosts: Socket[] = [];
async function shutdown(code: number): Promise<never> {
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.race([Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r))))), new Promise((r) => setTimeout(r, 3000))]);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const h of hosts) h.close();
  topo?.teardown();
  rmSync(dir, { recursive: true, force: true });
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

interface State {
  Edges: Record<string, Record<string, number>>;
  NhTable: Record<string, Record<string, number>>;
  Dist: Record<string, Record<string, number>>;
  /** The value that stands for "no link" in this document (99999 unless a measurement reaches it). */
  Infinity: number;
}
const stateUrl = `http://${superHost}:${httpPort}${cfgs.apiPrefix}/manage/super/state?Password=${cfgs.passwords.ShowState}`;
async function state(): Promise<State | undefined> {
  try {
    const r = await fetch(stateUrl, { signal: AbortSignal.timeout(2000) });
    return r.ok ? ((await r.json()) as State) : undefined;
  } catch {
    return undefined;
  }
}

// A value that rounds to zero prints as 0.00, not -0.00 (a loopback link whose clocks agree to a few µs).
const ms = (s: number | undefined, inf: number) => (s === undefined || s >= inf ? '   inf' : (Math.abs(s * 1000) < 0.005 ? 0 : s * 1000).toFixed(2).padStart(6));
function table(title: string, rows: (id: number, col: number) => string): string {
  const head = `${title.padEnd(8)}` + ids.map((c) => String(c).padStart(8)).join('');
  return [head, ...ids.map((r) => String(r).padEnd(8) + ids.map((c) => (r === c ? '       -' : rows(r, c).padStart(8))).join(''))].join('\n');
}

async function main(): Promise<void> {
  console.log(`Etherguard demo${tap ? ' (TAP devices in network namespaces)' : ''}: supernode on ${superHost}:${superPort} (HTTP ${httpPort}), ${N} edges; configs in ${dir}`);
  run('super', ['super', '-config', join(dir, 'super.yaml')], topo?.ns.get(SUPER_NS));
  await new Promise((r) => setTimeout(r, 500));
  for (const id of ids) run(`edge${id}`, ['edge', '-config', join(dir, `edge${id}.yaml`)], topo?.ns.get(id));

  // The demo plays each edge's local host: frames in on RecvAddr, out on SendAddr.
  const received = new Map<number, Buffer[]>(ids.map((id) => [id, []]));
  for (const id of ids) {
    const s = createSocket('udp4');
    s.on('message', (m) => received.get(id)!.push(m));
    await new Promise<void>((r) => s.bind(ifSend(id), '127.0.0.1', () => r()));
    hosts.push(s);
  }

  const t0 = Date.now();
  let st: State | undefined;
  for (;;) {
    st = await state();
    const pairs = st ? ids.flatMap((a) => ids.filter((b) => b !== a && st!.NhTable?.[a]?.[b] !== undefined)) : [];
    if (st && pairs.length === N * (N - 1) && st.NhTable['1']?.['4'] !== 4) break;
    if (Date.now() - t0 > 60_000) {
      console.error('demo: routes did not converge within 60 s');
      return void shutdown(1);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  console.log(`\nRoutes converged after ${((Date.now() - t0) / 1000).toFixed(1)} s.`);
  // The first samples of a link carry start-up transients (a ping that waited for the handshake,
  // a busy start); the spike filter drops them within its window. Print settled values: every
  // measured link has moved less than SETTLE_MS over the last SETTLE_POLLS polls.
  const t1 = Date.now();
  const settled = await settle(st!, (s) => (st = s));
  console.log(settled ? `Latencies settled after ${((Date.now() - t1) / 1000).toFixed(1)} s more.\n` : `Latencies still moving after ${SETTLE_TIMEOUT_MS / 1000} s; printing them anyway.\n`);
  console.log(`Measured one-way latency, ms (row = from, column = to; ${tap ? 'veth pairs on a bridge' : 'loopback'}, plus ManualLatency 1→4 = 200 ms):`);
  console.log(table('from\\to', (r, c) => ms(st!.Edges[r]?.[c], st!.Infinity)));
  console.log('\nNext-hop table (row = at node, column = destination):');
  console.log(table('at\\dst', (r, c) => String(st!.NhTable[r]?.[c] ?? '?')));

  if (topo) {
    // Real frames: the kernel in node 1's namespace pings node 4's TAP address across the mesh.
    await new Promise((r) => setTimeout(r, 1500)); // let the edges pull the final table
    try {
      const out = execFileSync('ip', ['netns', 'exec', topo.ns.get(1)!, 'ping', '-c', '3', '-i', '0.3', '-W', '2', tapIp(4)], { encoding: 'utf8' });
      console.log(`\nping from node 1 (${tapIp(1)}) to node 4 (${tapIp(4)}), path 1→4: ${path(st!, 1, 4)}, back: ${path(st!, 4, 1)}:`);
      console.log(out.trim().split('\n').map((l) => '  ' + l).join('\n'));
    } catch (e) {
      console.error(`demo: ping across the mesh failed: ${(e as Error).message}`);
      return void shutdown(1);
    }
    return finish();
  }
  // A frame across the mesh: host 1 broadcasts, then host 4 answers host 1 by unicast.
  const mac = (id: number) => Buffer.from([0xaa, 0xbb, 0xcc, 0xdd, 0x00, id]);
  const frame = (dst: Buffer, src: Buffer, text: string) => Buffer.concat([dst, src, Buffer.from([0x88, 0xb5]), Buffer.from(text.padEnd(46, ' '))]);
  const tx = createSocket('udp4');
  hosts.push(tx);
  tx.send(frame(Buffer.alloc(6, 0xff), mac(1), 'hello from host 1 (broadcast)'), ifRecv(1), '127.0.0.1');
  await waitFor(() => ids.slice(1).every((id) => received.get(id)!.length > 0), 5000);
  console.log('\nBroadcast from host 1 arrived at hosts ' + ids.filter((id) => received.get(id)!.length > 0).join(', ') + '.');
  for (const id of ids) received.get(id)!.length = 0;
  tx.send(frame(mac(1), mac(4), 'hello host 1, from host 4 (unicast)'), ifRecv(4), '127.0.0.1');
  await waitFor(() => received.get(1)!.length > 0, 5000);
  const got = received.get(1)![0];
  console.log(`Unicast 4→1 arrived at host 1: "${got?.subarray(14).toString().trim()}" (path 4→1: ${path(st!, 4, 1)}; path 1→4: ${path(st!, 1, 4)})`);

  finish();
}

function finish(): void {
  // --once stops everything now: URLs that are dead when read would only mislead.
  if (once) return void shutdown(0);
  console.log(`\nState API:   ${stateUrl}`);
  console.log(`Playground:  http://${superHost}:${httpPort}${cfgs.apiPrefix}/playground/  (or: npx just playground)`);
  console.log('\nRunning. Ctrl-C stops the supernode and the edges.');
}

function path(st: State, s: number, d: number): string {
  const p = [s];
  while (p[p.length - 1] !== d && p.length <= N) p.push(st.NhTable[p[p.length - 1]]?.[d] ?? d);
  return p.join('→');
}

/** Settled: each link moved less than this (ms) ... */
const SETTLE_MS = 0.02;
/** ... over this many consecutive state polls (500 ms apart), */
const SETTLE_POLLS = 4;
/** ... at least this long after convergence (the edges' filter window: 2·radius + 1 = 9 pings at 1 s). */
const SETTLE_MIN_MS = 9000;
const SETTLE_TIMEOUT_MS = 30_000;

/**
 * Polls the state until every measured directed link (ManualLatency overrides aside) has stayed
 * within SETTLE_MS for SETTLE_POLLS polls; hands each new state to `take`. False on timeout.
 */
async function settle(first: State, take: (s: State) => void): Promise<boolean> {
  const t0 = Date.now();
  const hist: State[] = [first];
  const links = ids.flatMap((a) => ids.filter((b) => b !== a && !(a === 1 && b === 4)).map((b) => [String(a), String(b)] as const));
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const s = await state();
    if (!s) continue;
    take(s);
    hist.push(s);
    if (hist.length > SETTLE_POLLS) hist.shift();
    const still = hist.length === SETTLE_POLLS && links.every(([a, b]) => {
      const v = hist.map((h) => h.Edges[a]?.[b]);
      return v.every((x) => x !== undefined && x < s.Infinity) && Math.max(...v) - Math.min(...v) <= SETTLE_MS / 1000;
    });
    if (still && Date.now() - t0 >= SETTLE_MIN_MS) return true;
    if (Date.now() - t0 > SETTLE_TIMEOUT_MS) return false;
  }
}

async function waitFor(f: () => boolean, msTotal: number): Promise<void> {
  const end = Date.now() + msTotal;
  while (!f() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
}

main().catch((e: unknown) => {
  console.error(`demo failed: ${(e as Error).stack ?? String(e)}`);
  void shutdown(1);
});
