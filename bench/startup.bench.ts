// Process start: how long `-version`, an edge and a supernode take from spawn until ready, and
// how much CPU they spend getting there, for this tree and a baseline tree, interleaved.
//
//   version   `node dist/main.js -version` to exit: wall time and CPU (utime+stime of the child)
//   edge      `edge -config <example>` in a namespace of its own, spawn until its "up" log line;
//             CPU of the process at that moment (/proc/<pid>/stat)
//   super     the same for `super -config <example>`
//
// A machine that starts many edges at once (a boot, a test mesh, the README demo) pays the CPU
// once per process, so it bounds how fast a mesh can come up on few cores (docs/benchmarks.md,
// "Process start").
//
// Needs root (namespaces, TAP). Run: bash scripts/bench.sh bench/startup.bench.ts
// Env: BENCH_ROUNDS (default 7); BENCH_BASE_REF=<commit>: the baseline, a clean snapshot built by
//      `BENCH_EG_REF=<commit> bash bench/setup.sh` (default: no baseline, this tree only).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot, netnsAdd, netnsDel } from '../test/helpers/netns.js';
import { ROOT } from '../ts/paths.js';
import { CLK_TCK } from './lib/netbench.js';
import { BENCH_CACHE } from './lib/systems.js';

const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 7));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1] : NaN;
};

function cpuOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

function version(root: string): { wall: number; cpu: number } {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', process.execPath, join(root, 'dist/main.js'), '-version'], { encoding: 'utf8' });
  const wall = (performance.now() - t0) / 1000;
  const [u, s] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { wall, cpu: u + s };
}

/** Spawns `mode -config cfg` in `ns` and waits for its "up" line; returns wall s and CPU s at that point. */
async function untilUp(root: string, ns: string, mode: string, cfg: string): Promise<{ wall: number; cpu: number }> {
  const t0 = performance.now();
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, join(root, 'dist/main.js'), mode, '-config', cfg, '-no-uapi'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EG_ALLOW_STALE_WASM: '1' } });
  let out = '';
  try {
    const wall = await new Promise<number>((resolve, reject) => {
      const to = setTimeout(() => reject(new Error(`${mode} in ${root}: no "up" line in 60 s: ${out.slice(-400)}`)), 60_000);
      const on = (d: Buffer) => {
        out += d.toString();
        if (/ up[:,]/.test(out)) {
          clearTimeout(to);
          resolve((performance.now() - t0) / 1000);
        }
      };
      child.stdout!.on('data', on);
      child.stderr!.on('data', on);
      child.on('exit', (c) => reject(new Error(`${mode} in ${root} exited ${c}: ${out.slice(-400)}`)));
    });
    // `ip netns exec` execs the command, so the child's pid is node's.
    return { wall, cpu: cpuOf(child.pid!) };
  } finally {
    child.removeAllListeners('exit');
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

async function main(): Promise<void> {
  if (!isRoot()) {
    console.log('startup: skipped (needs root for network namespaces)');
    return;
  }
  const trees: { label: string; root: string }[] = [{ label: 'this tree', root: ROOT }];
  const base = process.env.BENCH_BASE_REF;
  if (base) {
    const sha = spawnSync('git', ['-C', ROOT, 'rev-parse', '--verify', `${base}^{commit}`], { encoding: 'utf8' }).stdout.trim();
    const dir = join(BENCH_CACHE, 'etherguard', sha);
    if (!existsSync(join(dir, '.built'))) throw new Error(`BENCH_BASE_REF=${base}: no snapshot at ${dir} (BENCH_EG_REF=${base} bash bench/setup.sh builds it)`);
    trees.push({ label: `baseline ${sha.slice(0, 7)}`, root: dir });
  }
  const tmp = mkdtempSync(join(tmpdir(), 'egstart-'));
  const ns = netnsAdd('egstart');
  try {
    spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const edgeCfg = join(tmp, 'edge.yaml');
    const superCfg = join(tmp, 'super.yaml');
    writeFileSync(edgeCfg, spawnSync(process.execPath, [join(ROOT, 'dist/main.js'), 'edge', '-example'], { encoding: 'utf8' }).stdout);
    writeFileSync(superCfg, spawnSync(process.execPath, [join(ROOT, 'dist/main.js'), 'super', '-example'], { encoding: 'utf8' }).stdout);
    const res = new Map<string, Record<string, number[]>>(trees.map((t) => [t.label, { vw: [], vc: [], ew: [], ec: [], sw: [], sc: [] }]));
    const load0 = loadavg()[0];
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < trees.length; k++) {
        const t = trees[(k + r) % trees.length];
        const m = res.get(t.label)!;
        const v = version(t.root);
        m.vw.push(v.wall);
        m.vc.push(v.cpu);
        const e = await untilUp(t.root, ns, 'edge', edgeCfg);
        m.ew.push(e.wall);
        m.ec.push(e.cpu);
        const s = await untilUp(t.root, ns, 'super', superCfg);
        m.sw.push(s.wall);
        m.sc.push(s.cpu);
      }
    }
    const load1 = loadavg()[0];
    console.log(`process start, ${ROUNDS} interleaved rounds, medians (s); load average ${load0.toFixed(1)} -> ${load1.toFixed(1)}; node ${process.version}`);
    const rows: [string, string][] = [
      ['-version: wall', 'vw'],
      ['-version: CPU', 'vc'],
      ['edge spawn -> "up": wall', 'ew'],
      ['edge spawn -> "up": CPU', 'ec'],
      ['supernode spawn -> "up": wall', 'sw'],
      ['supernode spawn -> "up": CPU', 'sc'],
    ];
    const head = ['metric'.padEnd(31), ...trees.map((t) => t.label.padStart(18))].join(' | ');
    console.log(head);
    console.log('-'.repeat(head.length));
    const first = res.get(trees[0].label)!;
    for (const [label, key] of rows) {
      const cells = trees.map((t, i) => {
        const v = median(res.get(t.label)![key]);
        const ratio = i === 0 || !trees[1] ? '' : ` (${(median(first[key]) / v).toFixed(2)}x)`;
        return `${v.toFixed(3)}${ratio}`.padStart(18);
      });
      console.log([label.padEnd(31), ...cells].join(' | '));
    }
    if (trees.length > 1) console.log('(x): this tree / baseline');
  } finally {
    netnsDel(ns);
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
