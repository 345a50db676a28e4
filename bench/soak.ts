// Soak: a supernode and 8 edges, each in its own network namespace with a TAP device, real
// processes (node dist/main.js), for SOAK_MINUTES (default 60) under churn, sampling every process.
//
//   traffic   every round (SOAK_ROUND_S, default 5 s) each ordered pair of edges pings across the
//             VPN: echoes 1 and 2 are the frames counted, each answered if its reply arrives
//             within SOAK_REPLY_WAIT_S (default 3 s; replies over 0.5 s are counted as slow).
//   path      a round of pair a>b counts as "a path existed" unless (a) a or b is a restarted edge
//             that is not back yet, or came back after the round began: back = the first round,
//             begun after its spawn, in which any of its 14 pairs was answered (or SOAK_BACK_MAX_S,
//             default 30 s, after the spawn, so an edge that never returns still counts its
//             losses); or (b) a link cut/restore, a stop or a deletion touched a or b within the
//             round or SOAK_SETTLE_S (default 12 s) before it. A round that only follows a
//             supernode restart (12 s) is counted apart ("supernode only"): edges keep forwarding
//             on their last table, so a path existed there too. Everything else is "churn".
//   events    every churn event, every lost or slow echo (pair, class, phase in the cycle), every
//             restarted edge's return, every sample and drop-counter change
//             (etherguard_drops_total by reason) go to SOAK_EVENTS (JSON lines).
//   churn     a 60 s cycle: link 1<->2 cut (iptables) for 15 s; edge 3 stopped (SIGTERM) and
//             started 10 s later; the supernode killed (SIGKILL) and started 3 s later; edge 8
//             deleted through the manage API (it exits 2) and added again with the same key,
//             then started.
//   samples   every 10 s, from every process's -metrics endpoint (prom-client): RSS, V8 heap used,
//             external memory (ArrayBuffers, WASM memory), open fds, active timers (nodejs_active_resources{type="Timeout"}, else handles).
//   growth    per process that was never restarted (edges 1, 2, 4..7): the least-squares slope of
//             each series after a 60 s warm-up, as % of its mean per hour; RSS and fds also after
//             SOAK_WARMUP_S (default 600 s: V8 sizes its heap in the first minutes) and over the
//             second half of the run.
//   stuck     at the end: an edge pair that cannot ping within 10 s although every edge runs.
//
// The processes run from a copy of dist/, wasm-pkg/ and native-pkg/ taken at the start
// (bench/soak-snapshot.ts), so rebuilds in the tree during the run do not reach them.
//
// Needs root. Run: SOAK_MINUTES=5 npx tsx bench/soak.ts   (prints a table and a JSON line)
import { execFile, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { buildMeshConfigs } from '../ts/demo/meshcfg.js';
import { cutLink, type CutHandle } from '../test/helpers/delay.js';
import { type Proc, stopAll } from '../test/helpers/mesh.js';
import { isRoot } from '../test/helpers/netns.js';
import { buildStar, pingFrom } from '../test/helpers/topo.js';
import { snapshotArtefacts } from './soak-snapshot.js';

const run = promisify(execFile);
const MINUTES = Number(process.env.SOAK_MINUTES ?? 60);
const ROUND_S = Number(process.env.SOAK_ROUND_S ?? 5);
const SETTLE_S = Number(process.env.SOAK_SETTLE_S ?? 12);
const BACK_MAX_S = Number(process.env.SOAK_BACK_MAX_S ?? 30);
const REPLY_WAIT_S = Number(process.env.SOAK_REPLY_WAIT_S ?? 3);
const WARMUP_S = Number(process.env.SOAK_WARMUP_S ?? 600);
const EVENTS = process.env.SOAK_EVENTS ?? `/tmp/soak-events-${process.pid}.jsonl`;
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
  /** nodejs_external_memory_bytes: ArrayBuffers (WASM memory, packet buffers) and native wrappers. */
  ext: number;
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
// The processes run from a copy of the built artefacts taken at the start (bench/soak-snapshot.ts).
const mainJs = await snapshotArtefacts(dir);
const procs = new Map<number, Proc>();
const restarts = new Map<number, number>();
const samples = new Map<string, Sample[]>(); // key: "<id>#<incarnation>"
const lastEvent = new Map<number, number>(); // node -> time of its last churn event (s since t0)
// A restarted edge (3, 8) is "away" from its stop until it is back: the first round, started after
// its spawn, in which any of its 14 pairs got an answer (or BACK_MAX_S after the spawn, so an edge
// that never comes back still counts its losses). node -> spawn time (s since t0).
const away = new Map<number, { stoppedAt: number; spawnedAt?: number }>();
const backAt = new Map<number, number>(); // node -> time it was last seen back (s since t0)
const drops = new Map<string, Map<string, number>>(); // "<id>#<incarnation>" -> reason -> count
let cycleStart = 0;
let slowReplies = 0; // echo replies (counted ones) that took more than 0.5 s
const log = (ev: Record<string, unknown>) => appendFileSync(EVENTS, `${JSON.stringify({ t: +now().toFixed(2), phase: +(now() - cycleStart).toFixed(1), ...ev })}\n`);
const pairs = IDS.flatMap((a) => IDS.filter((b) => b !== a).map((b) => [a, b] as const));
type Tally = { steadySent: number; steadyGot: number; superSent: number; superGot: number; churnSent: number; churnGot: number };
const frames = new Map<string, Tally>(pairs.map(([a, b]) => [`${a}>${b}`, { steadySent: 0, steadyGot: 0, superSent: 0, superGot: 0, churnSent: 0, churnGot: 0 }]));
const t0 = performance.now();
const now = () => (performance.now() - t0) / 1000;
let cut: CutHandle | undefined;
let stopping = false;

const ns = (id: number) => topo.ns.get(id)!;
const startNode = (id: number) => {
  const path = join(dir, id === SUPER ? 'super.yaml' : `edge${id}.yaml`);
  const child = spawn('ip', ['netns', 'exec', ns(id), process.execPath, mainJs, id === SUPER ? 'super' : 'edge', '-config', path, '-json', '-no-uapi', '-metrics', METRICS], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  const keep = (d: Buffer) => {
    out.push(...d.toString().split('\n').filter(Boolean));
    if (out.length > 200) out.splice(0, out.length - 100);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  procs.set(id, { child, out, exited });
  restarts.set(id, (restarts.get(id) ?? -1) + 1);
};
const touch = (what: string, ...ids: number[]) => {
  for (const id of ids) lastEvent.set(id, now());
  log({ ev: 'churn', what });
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
    ext: num(/^nodejs_external_memory_bytes (\S+)/m),
    fds: num(/^process_open_fds (\S+)/m),
    timers: Number.isFinite(timers) ? timers : num(/^nodejs_active_handles_total (\S+)/m),
  };
  const key = `${id}#${restarts.get(id)}`;
  samples.set(key, [...(samples.get(key) ?? []), s]);
  log({ ev: 'sample', id, inc: restarts.get(id), rss: s.rss, heap: s.heap, heapTotal: num(/^nodejs_heap_size_total_bytes (\S+)/m), ext: s.ext, ab: num(/^nodejs_arraybuffers_memory_bytes (\S+)/m), fds: s.fds });
  const prev = drops.get(key) ?? new Map<string, number>();
  const cur = new Map<string, number>();
  for (const m of r.stdout.matchAll(/^etherguard_drops_total\{reason="([^"]*)"\} (\S+)/gm)) cur.set(m[1], Number(m[2]));
  const delta = Object.fromEntries([...cur].filter(([k, v]) => v > (prev.get(k) ?? 0)).map(([k, v]) => [k, v - (prev.get(k) ?? 0)]));
  if (Object.keys(delta).length) log({ ev: 'drops', id, inc: restarts.get(id), delta });
  drops.set(key, cur);
}

/**
 * How a round of pair a>b (started at `start`, s since t0) counts: 'steady' when a path existed,
 * 'super' when the only recent event is a supernode restart (edges keep forwarding on their last
 * next-hop table, so a path existed too), 'churn' otherwise. An edge that is away (restarted, not
 * back yet) or came back after the round started makes it 'churn'; other events (link cut, stop,
 * supernode) count for SETTLE_S before and during the round.
 */
function classify(a: number, b: number, start: number): 'steady' | 'super' | 'churn' {
  const settled = (id: number) => start - (lastEvent.get(id) ?? -1e9) > SETTLE_S && now() - (lastEvent.get(id) ?? -1e9) > SETTLE_S;
  for (const id of [a, b]) {
    if (away.has(id) || start < (backAt.get(id) ?? -1e9) || !settled(id)) return 'churn';
  }
  return settled(SUPER) ? 'steady' : 'super';
}

async function pingRound(): Promise<void> {
  const start = now();
  const answered = new Set<number>();
  await Promise.all(
    pairs.map(async ([a, b]) => {
      // Echoes 1 and 2 are the frames counted; each may answer up to REPLY_WAIT_S late. Plain
      // `ping -c 2 -W 1` stops waiting two round-trip times after the last echo once one reply
      // came back (ping(8), -W), so a reply held up 0.5 s by a stalled process on this loaded
      // machine was counted as a lost frame; `-c 2 -w 3` exits as soon as two replies of any
      // echoes came, so echo 3 overtaking a late echo 2 counted echo 2 as lost. Without -c,
      // ping sends every 0.5 s and listens until the deadline, whatever came back; the echoes
      // after the second are not counted.
      const r = await run('ip', ['netns', 'exec', ns(a), 'ping', '-n', '-i', '0.5', '-w', String(REPLY_WAIT_S), tapIp(b)]).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
      const replies = [...r.stdout.matchAll(/icmp_seq=(\d+) .*time=([\d.]+) ms/g)].filter((m) => m[1] === '1' || m[1] === '2');
      const sent = 2;
      const got = new Set(replies.map((m) => m[1])).size;
      const slow = replies.filter((m) => Number(m[2]) > 500).length;
      if (slow) {
        slowReplies += slow;
        log({ ev: 'slow', pair: `${a}>${b}`, ms: replies.map((m) => Number(m[2])) });
      }
      if (got > 0) answered.add(a).add(b);
      const cls = classify(a, b, start);
      const f = frames.get(`${a}>${b}`)!;
      if (cls === 'steady') {
        f.steadySent += sent;
        f.steadyGot += got;
      } else if (cls === 'super') {
        f.superSent += sent;
        f.superGot += got;
      } else {
        f.churnSent += sent;
        f.churnGot += got;
      }
      if (got < sent) log({ ev: 'loss', pair: `${a}>${b}`, sent, got, cls, start: +start.toFixed(2) });
    }),
  );
  // Back: an answer in a round that began after the spawn proves the restarted edge runs, holds a
  // session and a route with at least one peer; from the next round all its pairs count again.
  for (const [id, w] of away) {
    if (w.spawnedAt === undefined || start < w.spawnedAt) continue;
    if (answered.has(id) || now() - w.spawnedAt > BACK_MAX_S) {
      away.delete(id);
      backAt.set(id, now());
      log({ ev: 'back', id, afterSpawn: +(now() - w.spawnedAt).toFixed(1), answered: answered.has(id) });
    }
  }
}

async function churnCycle(): Promise<void> {
  const sn = parse(cfgs.superYaml) as { Peers: Array<{ NodeID: number; Name: string; PubKey: string; PSKey: string; AdditionalCost: number }> };
  const p8 = sn.Peers.find((p) => p.NodeID === 8)!;
  while (!stopping) {
    const c0 = now();
    cycleStart = c0;
    const at = async (s: number) => {
      while (!stopping && now() - c0 < s) await sleep(200);
    };
    await at(10);
    touch('cut 1-2', 1, 2);
    cut = cutLink({ netns: ns(1), dstIp: topo.addr(2), both: true });
    await at(25);
    cut.restore();
    cut = undefined;
    touch('restore 1-2', 1, 2);
    await at(30);
    touch('stop 3', 3);
    away.set(3, { stoppedAt: now() });
    const p3 = procs.get(3)!;
    p3.child.kill('SIGTERM');
    await p3.exited;
    await at(40);
    startNode(3);
    away.get(3)!.spawnedAt = now();
    log({ ev: 'churn', what: 'spawn 3' });
    await at(45);
    touch('kill super', SUPER);
    const sp = procs.get(SUPER)!;
    sp.child.kill('SIGKILL');
    await sp.exited;
    await at(48);
    startNode(SUPER);
    touch('spawn super', SUPER);
    await at(55);
    if (stopping) break;
    touch('del 8', 8);
    away.set(8, { stoppedAt: now() });
    // Wait for the restarted supernode's API, then delete edge 8 (it exits 2) and add it back.
    for (let i = 0; i < 50 && (await manage('/manage/super/state', cfgs.passwords.ShowState, {})) !== 200; i++) await sleep(200);
    const del = await manage('/manage/peer/del', cfgs.passwords.DelPeer, { NodeID: 8 });
    await Promise.race([procs.get(8)!.exited, sleep(5000)]);
    const add = await manage('/manage/peer/add', cfgs.passwords.AddPeer, { NodeID: 8, Name: p8.Name, AdditionalCost: p8.AdditionalCost, PubKey: p8.PubKey, PSKey: p8.PSKey });
    if (del !== 200 || add !== 200) console.error(`soak: peer/del ${del}, peer/add ${add}`);
    if (procs.get(8)!.child.exitCode === null) procs.get(8)!.child.kill('SIGTERM');
    await procs.get(8)!.exited;
    startNode(8);
    away.get(8)!.spawnedAt = now();
    log({ ev: 'churn', what: 'spawn 8', del, add });
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
  const superOnly = [...frames.values()].reduce((x, f) => ({ sent: x.sent + f.superSent, got: x.got + f.superGot }), { sent: 0, got: 0 });
  const lossySuper = [...frames].filter(([, f]) => f.superGot < f.superSent).map(([k, f]) => `${k} ${f.superGot}/${f.superSent}`);
  const churned = [...frames.values()].reduce((x, f) => ({ sent: x.sent + f.churnSent, got: x.got + f.churnGot }), { sent: 0, got: 0 });
  const lossy = [...frames].filter(([, f]) => f.steadyGot < f.steadySent).map(([k, f]) => `${k} ${f.steadyGot}/${f.steadySent}`);
  console.log(`\nsoak: ${MINUTES} min, 8 edges + supernode, ${ROUND_S} s rounds, churn cycle 60 s`);
  console.log(`frames while a path existed: ${steady.got}/${steady.sent} answered (${lossy.length ? `lossy pairs: ${lossy.join(', ')}` : 'no pair lost any'})`);
  console.log(`frames while only the supernode restarted (a path existed): ${superOnly.got}/${superOnly.sent} answered (${lossySuper.length ? `lossy pairs: ${lossySuper.join(', ')}` : 'no pair lost any'})`);
  console.log(`frames during churn:        ${churned.got}/${churned.sent} answered`);
  console.log(`replies slower than 0.5 s:  ${slowReplies} (answered, counted as answered)`);
  console.log(`stuck pairs at the end:     ${stuck.length ? stuck.join(', ') : 'none'}`);
  console.log(`events:                     ${EVENTS}`);
  console.log(`restarts: edge 3 ×${restarts.get(3)}, edge 8 ×${restarts.get(8)}, supernode ×${restarts.get(SUPER)}`);
  console.log('\ngrowth per hour (least squares after 60 s warm-up), % of the mean:');
  console.log('process      samples   RSS MiB   RSS %/h   heap MiB  heap %/h   ext MiB   ext %/h   fds  fds %/h  timers timers %/h');
  const result: Record<string, unknown> = {};
  for (const id of IDS.filter((i) => i !== 3 && i !== 8)) {
    const xs = (samples.get(`${id}#0`) ?? []).filter((s) => s.t > 60);
    const g = { rss: slope(xs, 'rss'), heap: slope(xs, 'heap'), ext: slope(xs, 'ext'), fds: slope(xs, 'fds'), timers: slope(xs, 'timers') };
    const ends = (k: keyof Omit<Sample, 't'>) => (xs.length ? [xs[0][k], xs[xs.length - 1][k]] : []);
    result[`edge${id}`] = { fdsFirstLast: ends('fds'), rssMiBFirstLast: ends('rss').map((v) => +(v / 2 ** 20).toFixed(1)), timersFirstLast: ends('timers'), samples: xs.length, rssPctPerHour: g.rss.perHourPct, heapPctPerHour: g.heap.perHourPct, extMiB: g.ext.mean / 2 ** 20, extPctPerHour: g.ext.perHourPct, extMiBFirstLast: ends('ext').map((v) => +(v / 2 ** 20).toFixed(2)), heapMiBFirstLast: ends('heap').map((v) => +(v / 2 ** 20).toFixed(2)), fdsPctPerHour: g.fds.perHourPct, timersPctPerHour: g.timers.perHourPct, rssMiB: g.rss.mean / 2 ** 20 };
    const f = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '-');
    console.log(
      `edge ${id}      ${String(xs.length).padStart(7)}  ${f(g.rss.mean / 2 ** 20).padStart(8)}  ${f(g.rss.perHourPct).padStart(8)}  ${f(g.heap.mean / 2 ** 20).padStart(8)}  ${f(g.heap.perHourPct).padStart(8)}  ${f(g.ext.mean / 2 ** 20, 2).padStart(8)}  ${f(g.ext.perHourPct).padStart(8)}  ${f(g.fds.mean, 0).padStart(4)}  ${f(g.fds.perHourPct).padStart(7)}  ${f(g.timers.mean, 0).padStart(6)}  ${f(g.timers.perHourPct).padStart(9)}`,
    );
  }
  // V8 sizes its heap over the first minutes (new space, then old generation after the first
  // major collections), so a slope that starts at 60 s mixes that warm-up into "growth". A leak is
  // a slope that persists: the same fit from SOAK_WARMUP_S (default 600 s) and over the second
  // half alone, both printed beside the 60 s one.
  console.log(`\nRSS and fds growth per hour after ${WARMUP_S} s, and over the second half (${(MINUTES / 2).toFixed(0)} min):`);
  for (const id of IDS.filter((i) => i !== 3 && i !== 8)) {
    const all = samples.get(`${id}#0`) ?? [];
    const late = all.filter((s) => s.t > WARMUP_S);
    const half = all.filter((s) => s.t > (MINUTES * 60) / 2);
    const f = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');
    const r = (result[`edge${id}`] ?? {}) as Record<string, unknown>;
    r.rssPctPerHourAfterWarmup = slope(late, 'rss').perHourPct;
    r.rssPctPerHourSecondHalf = slope(half, 'rss').perHourPct;
    r.fdsPctPerHourAfterWarmup = slope(late, 'fds').perHourPct;
    console.log(`edge ${id}   RSS %/h after ${WARMUP_S} s ${f(slope(late, 'rss').perHourPct).padStart(6)}   second half ${f(slope(half, 'rss').perHourPct).padStart(6)}   fds %/h after ${WARMUP_S} s ${f(slope(late, 'fds').perHourPct).padStart(6)}`);
  }
  console.log(JSON.stringify({ soak: { minutes: MINUTES, warmupS: WARMUP_S, steady, superOnly, churn: churned, lossyPairs: lossy, lossySuperPairs: lossySuper, slowReplies, stuck, restarts: Object.fromEntries(restarts), growth: result } }));
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
    for (const [id, p] of procs) console.error(`--- ${id === SUPER ? 'supernode' : `edge ${id}`} (exit ${p.child.exitCode}):\n${p.out.slice(-8).join('\n')}`);
    await cleanup();
    process.exit(1);
  },
);
