// Frames per second through the two local interface types the edge can sit on, measured from
// the edge's own batch API (writeRecords in, startRecords out), on this machine, in one run:
//
//   memif  IType vpp (the addon's memif client) -> DPDK's dpdk-testpmd memif server with MAC-swap
//          forwarding -> back through the same memif. testpmd's forwarding core busy-polls one CPU,
//          as a VPP worker would; it runs at nice 0 for these few seconds (BENCH_TESTPMD_NICE).
//   TAP    IType tap -> a Linux bridge -> a second IType tap: write(2) into one TAP, the kernel's
//          bridge forwards, read(2) from the other (in a network namespace of its own).
//
// Both are a round trip through user space -> something else -> user space with the same frames,
// batches of 32 and at most WINDOW frames in flight; the figure is frames that came back per
// second (sent ones that did not come back are reported as lost). Frame sizes 64 and 1400 bytes,
// BENCH_SECONDS (default 3) each. Needs root and dpdk-testpmd (scripts/bootstrap.sh).
// Run: bash scripts/bench.sh bench/memif.bench.ts
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openInterface } from '../ts/itype/index.js';
import type { L2Interface } from '../ts/itype/types.js';
import { startTestpmd, testpmdAvailable } from '../test/helpers/testpmd.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const BATCH = 32;
const WINDOW = 512;
const SIZES = (process.env.BENCH_SIZES ?? '64,1400').split(',').map(Number);
const SRC = Buffer.from('020000000001', 'hex');
const DST = Buffer.from('020000000002', 'hex');

type Itf = L2Interface & { writeRecords(r: Uint8Array, n: number): number; startRecords(f: (r: Uint8Array) => void): void };

interface Result {
  name: string;
  size: number;
  sent: number;
  back: number;
  refused: number;
  seconds: number;
}

function batchOf(size: number): Buffer {
  const b = Buffer.alloc(BATCH * (2 + size));
  for (let i = 0; i < BATCH; i++) {
    const at = i * (2 + size);
    b.writeUInt16BE(size, at);
    DST.copy(b, at + 2);
    SRC.copy(b, at + 8);
    b.writeUInt16BE(0x88b5, at + 14);
  }
  return b;
}

/** Sends windowed batches into `tx` for SECONDS, counting frames read back from `rx`. */
async function measure(name: string, size: number, tx: Itf, counter: { n: number }): Promise<Result> {
  const batch = batchOf(size);
  // Settle: whatever is still in flight from the previous case.
  await new Promise((r) => setTimeout(r, 300));
  const base = counter.n;
  let sent = 0;
  let refused = 0;
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(Math.round(SECONDS * 1e9));
  while (process.hrtime.bigint() < end) {
    if (sent - (counter.n - base) - refused < WINDOW) {
      const ok = tx.writeRecords(batch, BATCH);
      sent += BATCH;
      refused += BATCH - ok;
    }
    await new Promise((r) => setImmediate(r));
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const back = counter.n - base;
  return { name, size, sent, back, refused, seconds: secs };
}

function counting(itf: Itf): { n: number } {
  const c = { n: 0 };
  itf.startRecords((recs) => {
    for (let off = 0; off + 2 <= recs.length; ) {
      const len = (recs[off]! << 8) | recs[off + 1]!;
      if (len >= 14 && recs[off + 14] === 0x88 && recs[off + 15] === 0xb5) c.n++;
      off += 2 + len;
    }
  });
  return c;
}

async function memifCases(): Promise<Result[]> {
  const dir = mkdtempSync(join(tmpdir(), 'egbench-memif-'));
  // Not niced here (tests nice it to 19): on a loaded machine a nice-19 poller gets a fraction of
  // a percent of a CPU and the figure would be the scheduler's. It runs for the memif cases only.
  const pmd = await startTestpmd(join(dir, 'bench0.sock'), `egbench${process.pid}`, 0, Number(process.env.BENCH_TESTPMD_NICE ?? 0));
  process.env.VPP_MEMIF_SOCKET_DIR = dir;
  const itf = (await openInterface({ IType: 'vpp', Name: 'bench0', MTU: 1500, mac: SRC, vpp: { ifaceId: 0, bridgeId: 0 } })) as Itf & { connected: boolean };
  const c = counting(itf);
  const t = Date.now();
  while (!itf.connected && Date.now() - t < 10_000) await new Promise((r) => setTimeout(r, 20));
  const out: Result[] = [];
  try {
    for (const s of SIZES) out.push(await measure('memif (testpmd macswap)', s, itf, c));
  } finally {
    await itf.close();
    await pmd.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

async function tapCases(): Promise<Result[]> {
  const a = (await openInterface({ IType: 'tap', Name: 'egbA', MTU: 1500, mac: Buffer.from('020000000a0a', 'hex') })) as Itf;
  const b = (await openInterface({ IType: 'tap', Name: 'egbB', MTU: 1500, mac: Buffer.from('020000000b0b', 'hex') })) as Itf;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'ignore' });
  ip('link', 'add', 'egbr', 'type', 'bridge');
  ip('link', 'set', 'egbA', 'master', 'egbr');
  ip('link', 'set', 'egbB', 'master', 'egbr');
  ip('link', 'set', 'egbr', 'up');
  const c = counting(b);
  a.startRecords(() => {});
  const out: Result[] = [];
  try {
    for (const s of SIZES) out.push(await measure('TAP -> bridge -> TAP', s, a, c));
  } finally {
    await a.close();
    await b.close();
  }
  return out;
}

function print(rs: Result[]): void {
  const row = (r: Result) =>
    `${r.name.padEnd(26)} ${String(r.size).padStart(5)} B ${Math.round(r.back / r.seconds).toLocaleString('en').padStart(11)} frames/s ` +
    `${((r.back * r.size * 8) / r.seconds / 1e9).toFixed(2).padStart(6)} Gbit/s   sent ${r.sent}, refused ${r.refused}, lost ${r.sent - r.refused - r.back}`;
  for (const r of rs) console.log(row(r));
}

async function inner(which: string): Promise<void> {
  const rs = which === 'tap' ? await tapCases() : await memifCases();
  console.log(JSON.stringify(rs));
}

async function main(): Promise<void> {
  if (process.argv[2] === '--inner') return inner(process.argv[3]!);
  if (process.getuid?.() !== 0 || !testpmdAvailable()) {
    console.log('memif bench: needs root and dpdk-testpmd (scripts/bootstrap.sh); skipped');
    return;
  }
  console.log(`interface round trips, batches of ${BATCH}, window ${WINDOW} frames, ${SECONDS} s per case; load average ${execFileSync('cat', ['/proc/loadavg']).toString().split(' ').slice(0, 3).join(' ')}`);
  const self = fileURLToPath(import.meta.url);
  const runCase = (which: string, ns?: string): Result[] => {
    const cmd = [process.execPath, '--import', 'tsx', self, '--inner', which];
    const r = ns ? spawnSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8' }) : spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${which} case failed:\n${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Result[];
  };
  // The TAP case builds devices and a bridge: in a namespace of its own, removed afterwards.
  const ns = `egbench-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  let tap: Result[];
  try {
    tap = runCase('tap', ns);
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
  const memif = runCase('memif');
  print([...memif, ...tap]);
  for (const s of SIZES) {
    const m = memif.find((r) => r.size === s)!;
    const t = tap.find((r) => r.size === s)!;
    console.log(`${s} B: memif / TAP = ${(m.back / m.seconds / (t.back / t.seconds)).toFixed(2)}x`);
  }
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
