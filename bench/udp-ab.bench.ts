// A/B of the edge's own data-path switches on UDP floods: EG_OFFLOADS=0/1 x EG_MAIN_POLL=0/1, two
// edges over TAP in two namespaces (the compare bench's setup, bench/lib/systems.ts), iperf3 -u at
// a FIXED offered rate with 1372-byte and 64-byte payloads (1400- and 92-byte IP packets), packets
// received per second at the far end, and each edge's resident memory (VmRSS now, VmHWM peak).
// All variants run side by side and are measured interleaved (order rotated every round), so load
// from the rest of the machine hits them alike; the table has medians and ratios against the
// variant with both switches off.
//
// BENCH_EG_BEFORE=<commit>: also runs that commit's clean snapshot (built by bench/setup.sh under
// the cache, BENCH_EG_REF=<commit> bash bench/setup.sh) with both switches on, for before/after in
// one run. BENCH_EG_REF=<commit>: the four switch settings run that commit's snapshot instead of
// the working tree (whose WASM core may be stale while others edit the Rust sources).
// Env: BENCH_ROUNDS (3), BENCH_SECONDS (4), BENCH_PPS_1400 (40000), BENCH_PPS_64 (60000).
// Needs root. Run: bash scripts/bench.sh bench/udp-ab.bench.ts
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { isRoot } from '../test/helpers/netns.js';
import { ROOT } from '../ts/paths.js';
import { benchScratch, guardTeardown, iperfFigures, IperfJson, median, Pair, runIn, startIn, vethPair, waitUntil, printTable } from './lib/netbench.js';
import { BENCH_CACHE, etherguardRoot, NodeAt, startEtherguard, Tunnel } from './lib/systems.js';

const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const SECONDS = Math.max(2, Number(process.env.BENCH_SECONDS ?? 4));
const PPS: Record<Size, number> = { 1400: Number(process.env.BENCH_PPS_1400 ?? 40000), 64: Number(process.env.BENCH_PPS_64 ?? 60000) };
const IPERF_PORT = 5311;
type Size = 1400 | 64;
const PAYLOAD: Record<Size, number> = { 1400: 1372, 64: 64 };

let pair: Pair | undefined;
const { note, tmp, dirs: configDirs, cleanup } = benchScratch('egudpab-', () => pair);

interface Variant {
  key: string;
  label: string;
  root: string;
  offloads: boolean;
  mainPoll: boolean;
  t?: Tunnel;
}

/** VmRSS and VmHWM of a process in MiB (NaN once gone). */
function mem(pid: number): { rss: number; hwm: number } {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const f = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? NaN) / 1024;
    return { rss: f('VmRSS'), hwm: f('VmHWM') };
  } catch {
    return { rss: NaN, hwm: NaN };
  }
}

/** One fixed-rate UDP run: datagrams received per second at the server, and the loss. */
async function udpRun(ns: string, ip: string, size: Size): Promise<{ rxPps: number; lossPct: number }> {
  const len = PAYLOAD[size];
  const bps = Math.round(PPS[size] * len * 8);
  const args = ['-c', ip, '-p', String(IPERF_PORT), '-u', '-b', String(bps), '-l', String(len), '-t', String(SECONDS), '-J'];
  for (let attempt = 0; ; attempt++) {
    const r = await runIn(ns, 'iperf3', args, (SECONDS + 15) * 1000);
    if (attempt < 3 && /Connection refused|server is busy/.test(r.stdout)) {
      await new Promise((res) => setTimeout(res, 300));
      continue;
    }
    const j = JSON.parse(r.stdout) as IperfJson;
    const f = iperfFigures(j, true, `iperf3 ${args.join(' ')}`);
    const rcv = j.end!.sum_received!;
    return { rxPps: f.rxPps, lossPct: rcv.packets ? (100 * (rcv.lost_packets ?? 0)) / rcv.packets : NaN };
  }
}

async function main(): Promise<void> {
  if (!isRoot()) {
    console.log('udp-ab: skipped (needs root for network namespaces)');
    return;
  }
  guardTeardown(cleanup, (240 + ROUNDS * 10 * 2 * (SECONDS + 6)) * 1000, note);
  const variants: Variant[] = [];
  const before = process.env.BENCH_EG_BEFORE;
  if (before) {
    const sha = execFileSync('git', ['-C', ROOT, 'rev-parse', '--verify', `${before}^{commit}`], { encoding: 'utf8' }).trim();
    const root = join(BENCH_CACHE, 'etherguard', sha);
    if (!existsSync(join(root, 'dist/main.js'))) throw new Error(`${root}/dist/main.js missing: BENCH_EG_REF=${before} bash bench/setup.sh`);
    variants.push({ key: 'z', label: `${before.slice(0, 8)} off=1 poll=1`, root, offloads: true, mainPoll: true });
  }
  // The four switch settings run the working tree, or with BENCH_EG_REF a clean snapshot of it.
  const { root: treeRoot, ref } = etherguardRoot();
  const tree = ref ? ref.slice(0, 8) : 'tree';
  const keys = 'abcd';
  let k = 0;
  for (const offloads of [false, true]) for (const mainPoll of [false, true]) variants.push({ key: keys[k++], label: `${tree} off=${+offloads} poll=${+mainPoll}`, root: treeRoot, offloads, mainPoll });

  pair = vethPair(205);
  const nodes: NodeAt[] = [
    { ns: pair.a, host: pair.addrA },
    { ns: pair.b, host: pair.addrB },
  ];
  for (const [i, v] of variants.entries()) {
    // startIn copies process.env at spawn time: the switches reach exactly this pair of edges.
    process.env.EG_OFFLOADS = v.offloads ? '1' : '0';
    process.env.EG_MAIN_POLL = v.mainPoll ? '1' : '0';
    note(`starting ${v.label}`);
    v.t = await startEtherguard({
      key: v.key,
      label: v.label,
      nodes,
      links: [[0, 1]],
      table: { 1: { 2: 2 }, 2: { 1: 1 } },
      net: `192.168.${90 + i}`,
      port: 3110 + i,
      uapiDir: join(tmp, 'uapi'),
      root: v.root,
      onConfigDir: (d) => configDirs.push(d),
    });
  }
  delete process.env.EG_OFFLOADS;
  delete process.env.EG_MAIN_POLL;
  startIn('iperf3-server', pair.b, 'iperf3', ['-s', '-p', String(IPERF_PORT)]);
  await waitUntil(async () => (await runIn(pair!.b, 'ss', ['-ltnH', `sport = :${IPERF_PORT}`])).stdout.includes(String(IPERF_PORT)), 5000, 'iperf3 server');
  for (const v of variants) await udpRun(pair.a, v.t!.ip(1), 64).catch((e: Error) => note(`${v.label} warm-up: ${e.message}`));

  const loads: number[] = [loadavg()[0]];
  const res = new Map<string, number[]>();
  const put = (k: string, x: number) => res.set(k, [...(res.get(k) ?? []), x]);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const size of [1400, 64] as Size[]) {
      const parts: string[] = [];
      for (let j = 0; j < variants.length; j++) {
        const v = variants[(j + round - 1) % variants.length];
        try {
          const r = await udpRun(pair.a, v.t!.ip(1), size);
          put(`${v.key} ${size}`, r.rxPps / 1000);
          put(`${v.key} ${size} loss`, r.lossPct);
          parts.push(`${v.key} ${(r.rxPps / 1000).toFixed(1)}`);
        } catch (e) {
          note(`${v.label} ${size}: ${(e as Error).message.split('\n')[0]}`);
        }
        for (const [i, p] of v.t!.procs.entries()) {
          const m = mem(p.pid);
          put(`${v.key} rss${i}`, m.rss);
          put(`${v.key} hwm${i}`, m.hwm);
        }
      }
      loads.push(loadavg()[0]);
      note(`round ${round} ${size} B kpps: ${parts.join(', ')} (load ${loadavg()[0].toFixed(1)})`);
    }
  }

  const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
  const base = variants.find((v) => v.key === 'a')!;
  const med = (k: string) => median(res.get(k) ?? []);
  const last = (k: string) => (res.get(k) ?? []).at(-1) ?? NaN;
  console.log(`UDP A/B: 2 edges over TAP (MTU 1404) in 2 namespaces, iperf3 -u at a fixed offered rate (1400 B IP: ${PPS[1400]} pps, 92 B IP: ${PPS[64]} pps), ${ROUNDS} round(s) x ${SECONDS} s, variants interleaved`);
  console.log(`load average (1 min) over the run: ${loads.map((x) => x.toFixed(1)).join(' ')}; ratios against "${base.label}"`);
  console.log('');
  const head = ['variant', '1400 B rx kpps', 'loss %', '64 B rx kpps', 'loss %', 'RSS A/B MiB (end)', 'peak RSS A/B MiB'];
  const rows = variants.map((v) => {
    const r = (s: Size) => `${fmt(med(`${v.key} ${s}`))} (${fmt(med(`${v.key} ${s}`) / med(`${base.key} ${s}`), 2)}x)`;
    return [
      v.label,
      r(1400),
      fmt(med(`${v.key} 1400 loss`)),
      r(64),
      fmt(med(`${v.key} 64 loss`)),
      `${fmt(last(`${v.key} rss0`), 0)} / ${fmt(last(`${v.key} rss1`), 0)}`,
      `${fmt(last(`${v.key} hwm0`), 0)} / ${fmt(last(`${v.key} hwm1`), 0)}`,
    ];
  });
  printTable(head, rows);
  const per = (k: string) => (res.get(k) ?? []).map((x) => fmt(x)).join(' / ');
  console.log('\nper round (kpps):');
  for (const v of variants) console.log(`  ${v.label}: 1400 B ${per(`${v.key} 1400`)}; 64 B ${per(`${v.key} 64`)}`);
}

main()
  .catch((e) => {
    console.error(`udp-ab failed: ${(e as Error).stack ?? e}`);
    process.exitCode = 1;
  })
  .finally(() => {
    cleanup();
    note('torn down');
  });
