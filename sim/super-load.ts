// Supernode load at large N (sim/README.md): one real Supernode core (Register and LinkReport
// handling, the WASM route graph, hysteresis, coalesced checks, incremental solves, the 1 s push
// loop, ClockWatch) fed in virtual time by N synthetic edges, each sending what a SuperClient
// sends every interval: a Register and its LinkReport(s), built by the real encoders, with every
// incoming link's filtered latency = base + clock offsets (with drift) + jitter. The edges'
// own ping traffic is not simulated (sim/run.ts does that; at N = 1000 it is a million pings per
// simulated second), so this measures the supernode alone: its CPU per simulated second.
//   npx tsx sim/super-load.ts --n 1000 --seconds 60 [--warmup 15] [--jitter 2] [--drift 100] [--offset 10] [--tol 30] [--json] [--prof FILE]
// --prof FILE: a CPU profile (.cpuprofile, V8 inspector) of the measured window only, without the
// warm-up's solves and route history (node --cpu-prof covers the whole run).
// The warm-up (default 15 s) covers the start-up: every edge's first Register and report, the
// first full solve, and the settling solve (RouteState.settleS after it), whose next-hop changes
// (about N² at the first solve) the route history records; only the steady state after it is
// measured.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { encode, encodeLinkReports, encodeLinkReportsBin, type RegisterMsg } from '../ts/proto/control.js';
import { HEADER_LEN, Kind, NODE_SUPER, writeHeader } from '../ts/core/frame.js';
import { PACKAGE_VERSION } from '../ts/paths.js';
import { rng } from './engine.js';
import { World } from './world.js';

const args = process.argv.slice(2);
const num = (k: string, d: number) => {
  const i = args.indexOf(`--${k}`);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const n = num('n', 1000);
const seconds = num('seconds', 60);
const jitterMs = num('jitter', 2);
const driftPpm = num('drift', 100);
const offsetS = num('offset', 10);
const tol = num('tol', 30);
const warmup = num('warmup', 15);
const spi = 1;
// --json: the edges send the JSON LinkReport of older builds instead of the binary form.
const encodeReports = args.includes('--json') ? encodeLinkReports : encodeLinkReportsBin;

const w = new World({ n, jitterMs, driftPpm, offsetS, jitterToleranceMs: tol, sendPingInterval: spi, startSpreadS: 1e9 });
await w.setup(); // builds the supernode and its timers; edges would join at t ≈ 1e9 s (never here)
const sim = w.sim;
const r = rng(99);
const off = Array.from({ length: n }, () => (r() * 2 - 1) * offsetS);
const drift = Array.from({ length: n }, () => (r() * 2 - 1) * driftPpm * 1e-6);
const phase = Array.from({ length: n }, () => r() * spi);
const secret = Buffer.alloc(32, 7).toString('base64');
const snPeer = (id: number) => ({ nodeId: id, wgId: id, publicKey: new Uint8Array(32), endpoint: { address: `10.0.${id >> 8}.${id & 255}`, port: 3001, family: 4 as const }, isStatic: false, isSuper: false, keepalive: 0, queue: [], rxBytes: 0, txBytes: 0, lastRx: 0, lastHandshakeMs: 0 });
const peers = Array.from({ length: n }, (_, i) => snPeer(i + 1));
const frame = (kind: Kind, src: number, payload: Uint8Array) => {
  const p = new Uint8Array(HEADER_LEN + payload.length);
  writeHeader(p, { kind, ttl: 0, dst: NODE_SUPER, src, len: payload.length });
  p.set(payload, HEADER_LEN);
  return p;
};
let msgs = 0;
let bytes = 0;
let links = 0;
let wall = 0;
const timed = (f: () => void) => {
  const t0 = performance.now();
  f();
  wall += performance.now() - t0;
};
// Everything an edge builds (JSON encoding) happens outside the timed part: only the supernode counts.
for (let i = 0; i < n; i++) {
  const id = i + 1;
  const tick = () => {
    const t = sim.now;
    const reg: RegisterMsg = { v: 1, NodeID: id, Version: PACKAGE_VERSION, PeerStateHash: '', NhStateHash: '', SuperParamStateHash: '', JWTSecret: secret, HttpPostCount: 0 };
    const list: Array<[number, number, number]> = [];
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const lat = w.base[j * n + i] + (off[i] + drift[i] * t) - (off[j] + drift[j] * t) + ((r() * 2 - 1) * jitterMs) / 3000;
      list.push([j + 1, lat, 5]);
    }
    const frames = [frame(Kind.Register, id, encode(reg)), ...encodeReports(id, 0, list).map((p) => frame(Kind.Pong, id, p))];
    msgs += frames.length;
    links += list.length;
    for (const f of frames) bytes += f.length;
    timed(() => {
      for (const f of frames) w.sn.receive(4, f, peers[i]);
    });
    sim.after(spi, tick);
  };
  sim.at(phase[i], tick);
}
const c0 = process.cpuUsage();
const w0 = performance.now();
sim.run(warmup); // every edge registered, the first full solve and the settling solve
const busy0 = w.superBusy + wall / 1000;
const t5 = performance.now();
const cpu5 = process.cpuUsage(c0);
const solves0 = w.sn.routes.recalculations;
const changes0 = w.sn.routes.history.changes;
const profFile = args.includes('--prof') ? args[args.indexOf('--prof') + 1] : undefined;
const prof = profFile ? new Session() : undefined;
if (prof) {
  prof.connect();
  await prof.post('Profiler.enable');
  await prof.post('Profiler.start');
}
sim.run(warmup + seconds);
// Read before the profile is written out, which is not the supernode's work.
const cpu = process.cpuUsage(c0);
const wallAll = (performance.now() - t5) / 1000;
if (prof && profFile) {
  const { profile } = await prof.post('Profiler.stop');
  writeFileSync(profFile, JSON.stringify(profile));
  prof.disconnect();
}
const cpuAll = (cpu.user + cpu.system - cpu5.user - cpu5.system) / 1e6;
// The supernode's handlers' wall time, scaled by the process's CPU/wall ratio (other load on the machine does not count).
const busy = (w.superBusy + wall / 1000 - busy0) * Math.min(1, cpuAll / wallAll);
console.log(`supernode load: N=${n} synthetic edges, SendPingInterval ${spi} s, ${seconds} s simulated after a ${warmup} s warm-up; jitter ±${jitterMs} ms, offsets ±${offsetS} s, drift ±${driftPpm} ppm, JitterTolerance ${tol} ms`);
console.log(`  messages to the supernode: ${(msgs / (warmup + seconds) / n).toFixed(2)} per edge per second, ${(bytes / (warmup + seconds) / n).toFixed(0)} B/s per edge (plaintext), ${(links / (warmup + seconds)).toFixed(0)} links/s in all`);
console.log(`  supernode CPU: ${((100 * busy) / seconds).toFixed(1)} % of one core, ${((busy * 1000) / (n * (seconds / spi))).toFixed(3)} ms per edge per ping interval`);
console.log(`  route solves: ${w.sn.routes.recalculations} (${w.sn.routes.recalculations - solves0} measured), hysteresis walks skipped: ${w.sn.routes.checksSkipped}, next-hop changes: ${w.sn.routes.history.changes} (${w.sn.routes.history.changes - changes0} measured); full table: ${w.sn.routes.nhTable[1] ? Object.keys(w.sn.routes.nhTable[1]).length : 0}/${n - 1} destinations from node 1`);
// Cross-check of the scaling above: the whole process's CPU (supernode + the synthetic edges'
// encoding + the event queue) per simulated second is an upper bound of the supernode's share.
console.log(`  whole process (upper bound): ${((100 * cpuAll) / seconds).toFixed(1)} % of one core; CPU/wall ${(cpuAll / wallAll).toFixed(2)}`);
console.log(`  wall ${((performance.now() - w0) / 1000).toFixed(1)} s`);
w.stop();
