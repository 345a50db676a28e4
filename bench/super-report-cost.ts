// CPU per link of the supernode's LinkReport intake alone (docs/benchmarks.md, "Supernode CPU at
// N = 1000"): a Supernode core with N configured edges is fed, round after round, every edge's
// binary LinkReports (one full round = N(N − 1) links, all values fixed), no timers, no solves
// after the first; prints the process CPU per link per round. Parts can be switched off to see
// where the time goes:
//   npx tsx bench/super-report-cost.ts [N=1000] [noclock,noroute]
// noclock: ClockWatch.observeLinks does nothing; noroute: RouteState.applyPongs does nothing
// (what is left is the frame decode and the per-item checks in JS).
import { generateKeyPair, parseSuperConfig, type SuperPeerInfo } from '../ts/config/index.js';
import { HEADER_LEN, Kind, NODE_SUPER, writeHeader } from '../ts/core/frame.js';
import { encodeLinkReportsBin } from '../ts/proto/control.js';
import type { Scheduler } from '../ts/scheduler.js';
import { Logger } from '../ts/shared/log.js';
import { Supernode } from '../ts/super/supernode.js';
import type { Peer } from '../ts/wgnode/peers.js';

const N = Number(process.argv[2] ?? 1000);
const mode = process.argv[3] ?? '';
const k = generateKeyPair();
const k6 = generateKeyPair();
const cfg = parseSuperConfig(`NodeName: Cost\nPrivKeyV4: ${k.privateKey}\nPrivKeyV6: ${k6.privateKey}\nPeers: []\n`, 'cost.yaml', () => {});
let drops = 0;
const log = new Logger('cost', { LogLevel: 'silent', LogTransit: false, LogNormal: false, LogControl: false, LogInternal: false });
log.drop = () => void drops++;
let now = 100;
const clock = { now: () => now, wallMs: () => 1.7e12 + now * 1000 };
const sched: Scheduler = { every: () => ({ cancel: () => undefined }), after: () => ({ cancel: () => undefined }) };
const sn = new Supernode(cfg, { log, clock, uapi: false, scheduler: sched });
const conf = (id: number): SuperPeerInfo => ({ NodeID: id, Name: `n${id}`, PubKey: generateKeyPair().publicKey, PSKey: '', AdditionalCost: 0, SkipLocalIP: true, EndPoint: '', ExternalIP: '' });
for (let id = 1; id <= N; id++) await sn.addEdge(conf(id));
const frames: Uint8Array[][] = [];
for (let id = 1; id <= N; id++) {
  const l: Array<[number, number, number]> = [];
  for (let j = 1; j <= N; j++) if (j !== id) l.push([j, 0.01 + ((id * 7 + j * 13) % 100) / 1e4, 5]);
  frames.push(
    encodeLinkReportsBin(id, 0, l).map((p) => {
      const f = new Uint8Array(HEADER_LEN + p.length);
      writeHeader(f, { kind: Kind.Pong, ttl: 0, dst: NODE_SUPER, src: id, len: p.length });
      f.set(p, HEADER_LEN);
      return f;
    }),
  );
}
const peers = Array.from({ length: N }, (_, i) => ({ nodeId: i + 1, endpoint: { address: '10.0.0.1', port: 1, family: 4 } }) as unknown as Peer);
if (mode.includes('noclock')) sn.clocks.observeLinks = () => {};
if (mode.includes('noroute')) sn.routes.applyPongs = () => {};
const perLink: number[] = [];
for (let round = 0; round < 12; round++) {
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) for (const f of frames[i]!) sn.receive(4, f, peers[i]!);
  now += 1;
  if (round === 1) sn.routes.check(now); // one solve: the pre-check then has a snapshot to compare with
  const c = process.cpuUsage(c0);
  const ns = ((c.user + c.system) * 1000) / (N * (N - 1));
  if (round >= 4) perLink.push(ns);
  console.log(`round ${round}: ${((c.user + c.system) / 1000).toFixed(1)} ms CPU for ${N * (N - 1)} links = ${ns.toFixed(0)} ns/link`);
}
perLink.sort((a, b) => a - b);
console.log(`N=${N} ${mode || 'all'}: median ${perLink[perLink.length >> 1]!.toFixed(0)} ns per link (rounds 4-11), ${drops} drops`);
await sn.stop();
