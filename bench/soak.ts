// Soak: a supernode and 8 edges, each in its own network namespace with a TAP device, real
// processes (node dist/main.js), for SOAK_MINUTES (default 60) under churn, sampling every process.
//
//   traffic   every round (SOAK_ROUND_S, default 5 s) each ordered pair of edges pings across the
//             VPN (2 ICMP echoes): frames sent vs answered per pair. A round counts as "a path
//             existed" when no churn event touched either edge within the round or the settle
//             time before it (SOAK_SETTLE_S, default 12 s); the others count as "during churn".
//   churn     a 60 s cycle: link 1<->2 cut (iptables) for 15 s; edge 3 stopped (SIGTERM) and
//             started 10 s later; the supernode killed (SIGKILL) and started 3 s later; edge 8
//             deleted through the manage API (it exits 2) and added again with the same key,
//             then started.
//   samples   every 10 s, from every process's -metrics endpoint (prom-client): RSS, V8 heap used,
//             open fds, active timers (nodejs_active_resources{type="Timeout"}, else handles).
//   growth    per process that was never restarted (edges 1, 2, 4..7): the least-squares slope of
//             each series after a 60 s warm-up, as % of its mean per hour.
//   stuck     at the end: an edge pair that cannot ping within 10 s although every edge runs.
//
// Needs root. Run: SOAK_MINUTES=5 npx tsx bench/soak.ts   (prints a table and a JSON line)
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { buildMeshConfigs } from '../ts/demo/meshcfg.js';
import { cutLink, type CutHandle } from '../test/helpers/delay.js';
import { type Proc, startEdge, stopAll } from '../test/helpers/mesh.js';
import { isRoot } from '../test/helpers/netns.js';
import { buildStar, pingFrom } from '../test/helpers/topo.js';

const run = promisify(execFile);
const MINUTES = Number(process.env.SOAK_MINUTES ?? 60);
const ROUND_S = Number(process.env.SOAK_ROUND_S ?? 5);
const SETTLE_S = Number(process.env.SOAK_SETTLE_S ?? 12);
const IDS = [1, 2, 3, 4, 5, 6, 7, 8];
const SUPER = 100;
const ROOT_ID = 99;
const NET = 172;
const METRICS = '127.0.0.1:9599';
const tapIp = (id: number) => `192.168.172.${id}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sample {
  t: number;
  rss: number;
  heap: number;
  fds: number;
  timers: number;
}

if (!isRoot()) {
  console.error('soak: needs root (namespaces, TAP)');
  process.exit(2);
}

const topo = buildStar([...IDS, SUPER], NET);
topo.joinRoot(ROOT_ID);
const dir = mkdtempSync(join(tmpdir(), 'egsoak-'));
const cfgs = buildMeshConfigs({
  name: `egs${process.pid % 1000}n`,
  superHost: topo.addr(SUPER),
  superPort: 3000,
  httpPort: 3100,
  edges: IDS.map((id) => ({ id, listenPort: 3001, additionalCost: 50, iface: { IType: 'tap', Name: `egs${id}`, IPv4CIDR: '192.168.172.0/24' } })),
  timing: { SendPingInterval: 1, HttpPostInterval: 2, PeerAliveTimeout: 6, DampingFilterRadius: 1, RecalculateCoolDown: 1, TimeoutCheckInterval: 1, JitterTolerance: 20, JitterToleranceMultiplier: 1.01 },
  log: { LogControl: false },
});
const procs = new Map<number, Proc>();
const restarts = new Map<number, number>();
const samples = new Map<string, Sample[]>(); // key: "<id>#<incarnation>"
const lastEvent = new Map<number, number>(); // edge -> time of its last churn event (s since t0)
const pairs = IDS.flatMap((a) => IDS.filter((b) => b !== a).map((b) => [a, b] as const));
const frames = new Map<string, { steadySent: number; steadyGot: number; churnSent: number; churnGot: number }>(pairs.map(([a, b]) => [`${a}>${b}`, { steadySent: 0, steadyGot: 0, churnSent: 0, churnGot: 0 }]));
const t0 = performance.now();
const now = () => (performance.now() - t0) / 1000;
let cut: CutHandle | undefined;
let stopping = false;

const ns = (id: number) => topo.ns.get(id)!;
const startNode = (id: number) => {
  const path = join(dir, id === SUPER ? 'super.yaml' : `edge${id}.yaml`);
  procs.set(id, startEdge(path, { netns: ns(id), args: ['-no-uapi', '-metrics', METRICS], mode: id === SUPER ? 'super' : 'edge' }));
  restarts.set(id, (restarts.get(id) ?? -1) + 1);
};
const touch = (...ids: number[]) => {
  for (const id of ids) lastEvent.set(id, now());
};

async function manage(path: string, pw: string, params: Record<string, string | number>): Promise<number> {
  const q = new URLSearchParams({ Password: pw, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) });
  const r = await run('curl', ['-s', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', `http://${topo.addr(SUPER)}:3100${cfgs.apiPrefix}${path}?${q}`]).catch(() => ({ stdout: '0' }));
  return Number(r.stdout);
}

async function scrape(id: number): Promise<void> {
  const p = procs.get(id);
  if (!p || p.child.exitCode !== null) return;
  const r = await run('ip', ['netns', 'exec', ns(id), 'curl', '-s', '-m', '3', `http://${METRICS}/metrics`]).catch(() => undefined);
  if (!r) return;
  const num = (re: RegExp) => Number(re.exec(r.stdout)?.[1] ?? NaN);
  const timers = num(/^nodejs_active_resources\{type="Timeout"\} (\S+)/m);
  const s: Sample = {
    t: now(),
    rss: num(/^process_resident_memory_bytes (\S+)/m),
    heap: num(/^nodejs_heap_size_used_bytes (\S+)/m),
    fds: num(/^process_open_fds (\S+)/m),
    timers: Number.isFinite(timers) ? timers : num(/^nodejs_active_handles_total (\S+)/m),
  };
  const key = `${id}#${restarts.get(id)}`;
  samples.set(key, [...(samples.get(key) ?? []), s]);
}

async function pingRound(): Promise<void> {
  const start = now();
  await Promise.all(
    pairs.map(async ([a, b]) => {
      const r = await run('ip', ['netns', 'exec', ns(a), 'ping', '-q', '-c', '2', '-i', '0.5', '-W', '1', tapIp(b)]).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
      const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
      const sent = Number(m?.[1] ?? 2);
      const got = Number(m?.[2] ?? 0);
      const quiet = [a, b, SUPER].every((id) => start - (lastEvent.get(id) ?? -1e9) > SETTLE_S && now() - (lastEvent.get(id) ?? -1e9) > SETTLE_S);
      const f = frames.get(`${a}>${b}`)!;
      if (quiet) {
        f.steadySent += sent;
        f.steadyGot += got;
      } else {
        f.churnSent += sent;
        f.churnGot += got;
      }
    }),
  );
}

async function churnCycle(): Promise<void> {
  const sn = parse(cfgs.superYaml) as { Peers: Array<{ NodeID: number; Name: string; PubKey: string; PSKey: string; AdditionalCost: number }> };
  const p8 = sn.Peers.find((p) => p.NodeID === 8)!;
  while (!stopping) {
    const c0 = now();
    const at = async (s: number) => {
      while (!stopping && now() - c0 < s) await sleep(200);
    };
    await at(10);
    touch(1, 2);
    cut = cutLink({ netns: ns(1), dstIp: topo.addr(2), both: true });
    await at(25);
    cut.restore();
    cut = undefined;
    touch(1, 2);
    await at(30);
    touch(3);
    const p3 = procs.get(3)!;
    p3.child.kill('SIGTERM');
    await p3.exited;
    await at(40);
    startNode(3);
    touch(3);
    await at(45);
    touch(SUPER);
    const sp = procs.get(SUPER)!;
    sp.child.kill('SIGKILL');
    await sp.exited;
    await at(48);
    startNode(SUPER);
    touch(SUPER);
    await at(55);
    if (stopping) break;
    touch(8);
    // Wait for the restarted supernode's API, then delete edge 8 (it exits 2) and add it back.
    for (let i = 0; i < 50 && (await manage('/manage/super/state', cfgs.passwords.ShowState, {})) !== 200; i++) await sleep(200);
    const del = await manage('/manage/peer/del', cfgs.passwords.DelPeer, { NodeID: 8 });
    await Promise.race([procs.get(8)!.exited, sleep(5000)]);
    const add = await manage('/manage/peer/add', cfgs.passwords.AddPeer, { NodeID: 8, Name: p8.Name, AdditionalCost: p8.AdditionalCost, PubKey: p8.PubKey, PSKey: p8.PSKey });
    if (del !== 200 || add !== 200) console.error(`soak: peer/del ${del}, peer/add ${add}`);
    if (procs.get(8)!.child.exitCode === null) procs.get(8)!.child.kill('SIGTERM');
    await procs.get(8)!.exited;
    startNode(8);
    touch(8);
    await at(60);
  }
}

/** Least-squares slope of v over t (per second). */
function slope(xs: Sample[], key: keyof Omit<Sample, 't'>): { perHourPct: number; mean: number } {
  const pts = xs.filter((s) => Number.isFinite(s[key]));
  const n = pts.length;
  if (n < 3) return { perHourPct: NaN, mean: NaN };
  const mt = pts.reduce((a, s) => a + s.t, 0) / n;
  const mv = pts.reduce((a, s) => a + s[key], 0) / n;
  let num = 0;
  let den = 0;
  for (const s of pts) {
    num += (s.t - mt) * (s[key] - mv);
    den += (s.t - mt) ** 2;
  }
  const b = den > 0 ? num / den : 0;
  return { perHourPct: mv !== 0 ? ((b * 3600) / mv) * 100 : 0, mean: mv };
}

async function main(): Promise<void> {
  writeFileSync(join(dir, 'super.yaml'), cfgs.superYaml);
  startNode(SUPER);
  for (const id of IDS) {
    writeFileSync(join(dir, `edge${id}.yaml`), cfgs.edgeYaml.get(id)!);
    startNode(id);
  }
  // Up: every edge reaches edge 1 and back (TAP devices appear only once the processes run).
  for (const id of IDS.filter((i) => i !== 1)) {
    const until = performance.now() + 120_000;
    while (!(await pingFrom(ns(id), tapIp(1), 1)) || !(await pingFrom(ns(1), tapIp(id), 1))) {
      if (performance.now() > until) throw new Error(`soak: ${id} <-> 1 never pinged`);
      await sleep(500);
    }
  }
  console.log(`soak: mesh up after ${now().toFixed(1)} s; running ${MINUTES} min`);
  const end = t0 + MINUTES * 60_000;
  const churn = churnCycle();
  let nextSample = 0;
  while (performance.now() < end) {
    const r0 = performance.now();
    if (now() >= nextSample) {
      await Promise.all([...IDS, SUPER].map(scrape));
      nextSample = now() + 10;
    }
    await pingRound();
    await sleep(Math.max(0, ROUND_S * 1000 - (performance.now() - r0)));
  }
  stopping = true;
  await churn;
  cut?.restore();
  // Stuck sessions: every edge runs again; every pair must ping within 10 s.
  await sleep(SETTLE_S * 1000);
  const stuck: string[] = [];
  await Promise.all(pairs.map(async ([a, b]) => ((await pingFrom(ns(a), tapIp(b), 5)) ? undefined : stuck.push(`${a}>${b}`))));

  const steady = [...frames.values()].reduce((x, f) => ({ sent: x.sent + f.steadySent, got: x.got + f.steadyGot }), { sent: 0, got: 0 });
  const churned = [...frames.values()].reduce((x, f) => ({ sent: x.sent + f.churnSent, got: x.got + f.churnGot }), { sent: 0, got: 0 });
  const lossy = [...frames].filter(([, f]) => f.steadyGot < f.steadySent).map(([k, f]) => `${k} ${f.steadyGot}/${f.steadySent}`);
  console.log(`\nsoak: ${MINUTES} min, 8 edges + supernode, ${ROUND_S} s rounds, churn cycle 60 s`);
  console.log(`frames while a path existed: ${steady.got}/${steady.sent} answered (${lossy.length ? `lossy pairs: ${lossy.join(', ')}` : 'no pair lost any'})`);
  console.log(`frames during churn:        ${churned.got}/${churned.sent} answered`);
  console.log(`stuck pairs at the end:     ${stuck.length ? stuck.join(', ') : 'none'}`);
  console.log(`restarts: edge 3 ×${restarts.get(3)}, edge 8 ×${restarts.get(8)}, supernode ×${restarts.get(SUPER)}`);
  console.log('\ngrowth per hour (least squares after 60 s warm-up), % of the mean:');
  console.log('process      samples   RSS MiB   RSS %/h   heap MiB  heap %/h   fds  fds %/h  timers timers %/h');
  const result: Record<string, unknown> = {};
  for (const id of IDS.filter((i) => i !== 3 && i !== 8)) {
    const xs = (samples.get(`${id}#0`) ?? []).filter((s) => s.t > 60);
    const g = { rss: slope(xs, 'rss'), heap: slope(xs, 'heap'), fds: slope(xs, 'fds'), timers: slope(xs, 'timers') };
    const ends = (k: keyof Omit<Sample, 't'>) => (xs.length ? [xs[0][k], xs[xs.length - 1][k]] : []);
    result[`edge${id}`] = { fdsFirstLast: ends('fds'), rssMiBFirstLast: ends('rss').map((v) => +(v / 2 ** 20).toFixed(1)), timersFirstLast: ends('timers'), samples: xs.length, rssPctPerHour: g.rss.perHourPct, heapPctPerHour: g.heap.perHourPct, fdsPctPerHour: g.fds.perHourPct, timersPctPerHour: g.timers.perHourPct, rssMiB: g.rss.mean / 2 ** 20 };
    const f = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '-');
    console.log(
      `edge ${id}      ${String(xs.length).padStart(7)}  ${f(g.rss.mean / 2 ** 20).padStart(8)}  ${f(g.rss.perHourPct).padStart(8)}  ${f(g.heap.mean / 2 ** 20).padStart(8)}  ${f(g.heap.perHourPct).padStart(8)}  ${f(g.fds.mean, 0).padStart(4)}  ${f(g.fds.perHourPct).padStart(7)}  ${f(g.timers.mean, 0).padStart(6)}  ${f(g.timers.perHourPct).padStart(9)}`,
    );
  }
  console.log(JSON.stringify({ soak: { minutes: MINUTES, steady, churn: churned, lossyPairs: lossy, stuck, restarts: Object.fromEntries(restarts), growth: result } }));
}

const cleanup = async () => {
  stopping = true;
  cut?.restore();
  await stopAll([...procs.values()]);
  topo.teardown();
  rmSync(dir, { recursive: true, force: true });
};
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
main().then(
  async () => {
    await cleanup();
    process.exit(0);
  },
  async (e: Error) => {
    console.error(`soak failed: ${e.message}`);
    await cleanup();
    process.exit(1);
  },
);
