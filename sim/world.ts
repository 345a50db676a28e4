// The simulated network (sim/README.md): N edges running the real SuperClient (ping, median
// filter, LinkReport encoder) and one real Supernode core (Register/LinkReport handling, the
// WASM route graph, hysteresis, solver, push loop), connected by a virtual network with
// per-direction latency, jitter, loss, cuts, and per-node clock offset and drift. No sockets and
// no WireGuard: control messages are handed over as the decrypted plaintexts the WireGuard
// hosts would deliver (Etherguard header + JSON payload), after the simulated delay.
//
// Ground truth is the network's own base latencies: the optimal route of every pair is computed
// from them (Floyd–Warshall in JS), and the supernode's next-hop table is judged by the true
// cost of the path it gives.
import { exampleEdgeConfig, generateKeyPair, parseEdgeConfig, parseSuperConfig, type EdgeConfig, type SuperConfig, type SuperPeerInfo } from '../ts/config/index.js';
import { HEADER_LEN, writeHeader, type Header } from '../ts/core/frame.js';
import type { Edge } from '../ts/edge/edge.js';
import { Logger } from '../ts/shared/log.js';
import { SuperClient } from '../ts/edge/superclient.js';
import { Supernode } from '../ts/super/supernode.js';
import type { Peer } from '../ts/wgnode/peers.js';
import { NodeClock, rng, Sim, VirtualScheduler } from './engine.js';

export interface SimOptions {
  n: number;
  seed: number;
  /** Clock offsets uniform in ±offsetS seconds. */
  offsetS: number;
  /** Clock drift uniform in ±driftPpm. */
  driftPpm: number;
  /** One-way jitter per packet, uniform in ±jitterMs (the delay never drops below 0.05 ms). */
  jitterMs: number;
  /** Loss probability per packet. */
  loss: number;
  /** Timing (the supernode's values, which its edges use). */
  sendPingInterval: number;
  peerAliveTimeout: number;
  dampingFilterRadius: number;
  jitterToleranceMs: number;
  jitterToleranceMultiplier: number;
  recalculateCoolDown: number;
  timeoutCheckInterval: number;
  /** AdditionalCost of every edge, ms. */
  acMs: number;
  /** Nodes start at uniform times in [0, startSpreadS). */
  startSpreadS: number;
}

export const DEFAULTS: SimOptions = {
  n: 50,
  seed: 1,
  offsetS: 10,
  driftPpm: 100,
  jitterMs: 2,
  loss: 0,
  sendPingInterval: 1,
  peerAliveTimeout: 5,
  dampingFilterRadius: 1,
  jitterToleranceMs: 5,
  jitterToleranceMultiplier: 1.01,
  recalculateCoolDown: 1,
  timeoutCheckInterval: 1,
  acMs: 0,
  startSpreadS: 1,
};

const silent = () => new Logger('sim', { LogLevel: 'silent', LogTransit: false, LogNormal: false, LogControl: false, LogInternal: false });

/** WireGuard transport bytes on the wire for a plaintext of `len` bytes: padding to 16, 32 bytes of header and tag, 28 of IPv4 + UDP. */
export const wireBytes = (len: number): number => Math.ceil(len / 16) * 16 + 32 + 28;

interface SimNode {
  id: number;
  clock: NodeClock;
  sched: VirtualScheduler;
  client: SuperClient;
  /** This node's Peer objects for every other node (what its WireGuard host would hold). */
  peers: Map<number, Peer>;
  superPeer: Peer;
  up: boolean;
}

function fakePeer(nodeId: number, isSuper: boolean): Peer {
  return {
    nodeId,
    wgId: nodeId,
    publicKey: new Uint8Array(32),
    endpoint: { address: `10.${(nodeId >> 8) & 255}.${nodeId & 255}.1`, port: 3001, family: 4 },
    isStatic: false,
    isSuper,
    keepalive: 0,
    queue: [],
    rxBytes: 0,
    txBytes: 0,
    lastRx: -Infinity,
    lastHandshakeMs: 0,
  };
}

export class World {
  readonly sim = new Sim();
  readonly o: SimOptions;
  readonly ids: number[];
  readonly nodes = new Map<number, SimNode>();
  sn!: Supernode;
  /** Base one-way latency (s) a→b, flat n×n over index order; the ground truth. */
  readonly base: Float64Array;
  /** One-way latency (s) edge ↔ supernode per node index. */
  readonly superLat: Float64Array;
  private readonly cuts = new Set<number>();
  private readonly rand: () => number;
  private readonly index = new Map<number, number>();
  private superPeers = new Map<number, Peer>();
  private edgeCfg!: EdgeConfig;
  private superSched!: VirtualScheduler;
  /** Wall seconds spent inside the supernode (message handling, checks, push loop). */
  superBusy = 0;
  /** Wire bytes sent by edges: pings to edges, and messages to the supernode. */
  readonly bytes = { ping: 0, toSuper: 0, pingMsgs: 0, superMsgs: 0 };
  readonly drops = { loss: 0, cut: 0, down: 0 };

  constructor(opts: Partial<SimOptions> = {}) {
    this.o = { ...DEFAULTS, ...opts };
    this.rand = rng(this.o.seed);
    const n = this.o.n;
    this.ids = Array.from({ length: n }, (_, i) => i + 1);
    this.ids.forEach((id, i) => this.index.set(id, i));
    // Nodes on a 80 ms × 80 ms square; each direction of each pair takes a detour factor of
    // 1–1.8 (routes are not straight lines, and not the same both ways), plus 0.2 ms.
    const xs = this.ids.map(() => this.rand() * 0.08);
    const ys = this.ids.map(() => this.rand() * 0.08);
    this.base = new Float64Array(n * n);
    for (let a = 0; a < n; a++)
      for (let b = 0; b < n; b++) if (a !== b) this.base[a * n + b] = Math.hypot(xs[a] - xs[b], ys[a] - ys[b]) * (1 + 0.8 * this.rand()) + 0.0002;
    this.superLat = Float64Array.from(this.ids, () => 0.005 + this.rand() * 0.035);
  }

  /** Builds the supernode and the edges; each edge starts at a random time in [0, startSpreadS). */
  async setup(): Promise<void> {
    const o = this.o;
    const k4 = generateKeyPair();
    const k6 = generateKeyPair();
    const text = `NodeName: SimSN
PrivKeyV4: ${k4.privateKey}
PrivKeyV6: ${k6.privateKey}
SendPingInterval: ${o.sendPingInterval}
PeerAliveTimeout: ${o.peerAliveTimeout}
HttpPostInterval: ${Math.min(o.peerAliveTimeout, o.sendPingInterval * 2)}
DampingFilterRadius: ${o.dampingFilterRadius}
GraphRecalculateSetting:
  StaticMode: false
  JitterTolerance: ${o.jitterToleranceMs}
  JitterToleranceMultiplier: ${o.jitterToleranceMultiplier}
  TimeoutCheckInterval: ${o.timeoutCheckInterval}
  RecalculateCoolDown: ${o.recalculateCoolDown}
Peers: []
`;
    const scfg: SuperConfig = parseSuperConfig(text, 'sim-super.yaml', () => {});
    const superClock = new NodeClock(this.sim, 0, 0, Date.UTC(2026, 0, 1), 1000);
    this.superSched = new VirtualScheduler(this.sim, superClock, (f) => this.timed(f));
    this.sn = new Supernode(scfg, { log: silent(), clock: superClock, uapi: false, scheduler: this.superSched });
    for (const id of this.ids) {
      const conf: SuperPeerInfo = { NodeID: id, Name: `sim${id}`, PubKey: Buffer.from(this.randomKey()).toString('base64'), PSKey: '', AdditionalCost: o.acMs, SkipLocalIP: true, EndPoint: '', ExternalIP: '' };
      scfg.Peers.push(conf);
      await this.sn.addEdge(conf);
      this.superPeers.set(id, fakePeer(id, false));
    }
    this.superSched.every(1, () => this.sn.pushAll());
    this.superSched.every(o.timeoutCheckInterval, () => this.sn.checkRoutes());

    const ec = parseEdgeConfig(exampleEdgeConfig(), 'sim-edge.yaml', () => {});
    ec.DynamicRoute = {
      ...ec.DynamicRoute,
      SendPingInterval: o.sendPingInterval,
      PeerAliveTimeout: o.peerAliveTimeout,
      DampingFilterRadius: o.dampingFilterRadius,
      AdditionalCost: o.acMs,
      SuperNode: { ...ec.DynamicRoute.SuperNode, UseSuperNode: true, SkipLocalIP: true },
    };
    this.edgeCfg = ec;
    for (const id of this.ids) this.sim.at(this.rand() * o.startSpreadS, () => this.join(id));
  }

  private randomKey(): Uint8Array {
    return Uint8Array.from({ length: 32 }, () => Math.floor(this.rand() * 256));
  }

  /**
   * Runs `f` as supernode work, adding its wall time to superBusy (scenario.ts scales the sum by
   * the process's CPU/wall ratio, so other processes on a shared machine do not inflate it;
   * process.cpuUsage() per call cost more than a small message's handling).
   */
  private timed(f: () => void): void {
    const t0 = performance.now();
    try {
      f();
    } finally {
      this.superBusy += (performance.now() - t0) / 1000;
    }
  }

  /** Starts (or restarts: a new process, fresh filters) the edge `id`. */
  join(id: number): void {
    const old = this.nodes.get(id);
    if (old?.up) return;
    const o = this.o;
    const clock = new NodeClock(this.sim, (this.rand() * 2 - 1) * o.offsetS, (this.rand() * 2 - 1) * o.driftPpm, Date.UTC(2026, 0, 1), this.rand() * 1e5);
    const sched = new VirtualScheduler(this.sim, clock);
    const peers = new Map<number, Peer>();
    for (const other of this.ids) if (other !== id) peers.set(other, fakePeer(other, false));
    const superPeer = fakePeer(0xfffd, true);
    const peerList = [...peers.values()];
    const node: SimNode = { id, clock, sched, client: undefined as unknown as SuperClient, peers, superPeer, up: true };
    const edge = {
      me: id,
      clock,
      log: silent(),
      iface: undefined,
      peers: { all: () => peerList, supers: [superPeer], node: (x: number) => peers.get(x) },
      host: { port: 3001, wg: { hasSession: () => true, publicKey: new Uint8Array(32) }, initiateNow: () => false, transport: { rxTimestamps: false, lastSendMs: () => NaN } },
      sendControl: (p: Peer, kind: number, dst: number, ttl: number, payload: Uint8Array) => this.send(node, p, { kind, ttl, dst, src: id, len: payload.length }, payload),
      drop: () => undefined,
    } as unknown as Edge;
    const cfg = { ...this.edgeCfg, NodeID: id, NodeName: `sim${id}` };
    node.client = new SuperClient(edge, cfg, { scheduler: sched });
    this.nodes.set(id, node);
    node.client.start();
  }

  /** Stops the edge `id` (its process ends: no more pings or reports). */
  leave(id: number): void {
    const node = this.nodes.get(id);
    if (!node?.up) return;
    node.up = false;
    node.client.stop();
    node.sched.stop();
  }

  /** Whether every node has started at least once. */
  allJoined(): boolean {
    return this.nodes.size === this.o.n;
  }

  isUp(id: number): boolean {
    return this.nodes.get(id)?.up === true;
  }

  /** Cuts (or restores) both directions between a and b. */
  cut(a: number, b: number, on = true): void {
    for (const k of [a * 65536 + b, b * 65536 + a]) {
      if (on) this.cuts.add(k);
      else this.cuts.delete(k);
    }
  }

  isCut(a: number, b: number): boolean {
    return this.cuts.has(a * 65536 + b);
  }

  private delay(base: number): number {
    const j = this.o.jitterMs / 1000;
    return Math.max(0.00005, base + (this.rand() * 2 - 1) * j);
  }

  private send(from: SimNode, p: Peer, h: Header, payload: Uint8Array): void {
    if (!from.up) return;
    const bytes = wireBytes(HEADER_LEN + payload.length);
    const body = payload.slice();
    if (p.isSuper) {
      this.bytes.toSuper += bytes;
      this.bytes.superMsgs++;
      if (this.rand() < this.o.loss) return void this.drops.loss++;
      const plain = new Uint8Array(HEADER_LEN + body.length);
      writeHeader(plain, h);
      plain.set(body, HEADER_LEN);
      const at = this.delay(this.superLat[this.index.get(from.id)!]);
      this.sim.after(at, () => this.timed(() => this.sn.receive(4, plain, this.superPeers.get(from.id)!)));
      return;
    }
    this.bytes.ping += bytes;
    this.bytes.pingMsgs++;
    const to = p.nodeId;
    if (this.isCut(from.id, to)) return void this.drops.cut++;
    if (this.rand() < this.o.loss) return void this.drops.loss++;
    const n = this.o.n;
    const at = this.delay(this.base[this.index.get(from.id)! * n + this.index.get(to)!]);
    this.sim.after(at, () => {
      const dst = this.nodes.get(to);
      if (!dst?.up) return void this.drops.down++;
      const peer = dst.peers.get(from.id)!;
      peer.lastRx = dst.clock.now();
      dst.client.onControl(h, body, peer);
    });
  }

  // ---- ground truth and judging -------------------------------------------------------------

  /** True optimal cost (s, latency + AC of every node entered) of every pair among up nodes, over links that are not cut. */
  optimal(): Float64Array {
    const n = this.o.n;
    const ac = Math.max(0, this.o.acMs) / 1000;
    const d = new Float64Array(n * n).fill(Infinity);
    const up = this.ids.map((id) => this.isUp(id));
    for (let a = 0; a < n; a++) {
      if (!up[a]) continue;
      d[a * n + a] = 0;
      for (let b = 0; b < n; b++) if (a !== b && up[b] && !this.isCut(this.ids[a], this.ids[b])) d[a * n + b] = this.base[a * n + b] + ac;
    }
    for (let k = 0; k < n; k++) {
      if (!up[k]) continue;
      const rk = k * n;
      for (let i = 0; i < n; i++) {
        const dik = d[i * n + k];
        if (dik === Infinity) continue;
        const ri = i * n;
        for (let j = 0; j < n; j++) {
          const c = dik + d[rk + j];
          if (c < d[ri + j]) d[ri + j] = c;
        }
      }
    }
    return d;
  }

  /**
   * The true cost (s) of the route the supernode's table gives from a to b (Infinity when the
   * table has no route, loops, or sends a frame over a cut link or through a node that is down),
   * and its hop count.
   */
  routeCost(table: Record<string, Record<string, number>>, a: number, b: number): { cost: number; hops: number; via: number[] } {
    const n = this.o.n;
    const ac = Math.max(0, this.o.acMs) / 1000;
    let cost = 0;
    let at = a;
    const via: number[] = [a];
    for (let hops = 0; hops < n; hops++) {
      if (at === b) return { cost, hops, via };
      const next = table[at]?.[b];
      if (next === undefined || !this.isUp(next) || this.isCut(at, next)) return { cost: Infinity, hops, via };
      cost += this.base[this.index.get(at)! * n + this.index.get(next)!] + ac;
      at = next;
      via.push(at);
    }
    return { cost: Infinity, hops: n, via };
  }

  /** Tolerance (s) for a pair whose optimal cost is `opt`: the hysteresis threshold T + (M − 1)·opt (docs/routing.md). */
  tolerance(opt: number): number {
    return this.o.jitterToleranceMs / 1000 + (this.o.jitterToleranceMultiplier - 1) * Math.abs(opt);
  }

  /** Judges the supernode's current table against the ground truth over all ordered pairs of up nodes. */
  judge(opt = this.optimal()): { pairs: number; routed: number; within: number; worstExcessMs: number } {
    const table = this.sn.routes.nhTable;
    const n = this.o.n;
    let pairs = 0;
    let routed = 0;
    let within = 0;
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const a = this.ids[i];
      if (!this.isUp(a)) continue;
      for (let j = 0; j < n; j++) {
        const b = this.ids[j];
        if (i === j || !this.isUp(b) || opt[i * n + j] === Infinity) continue;
        pairs++;
        const r = this.routeCost(table, a, b);
        if (r.cost === Infinity) continue;
        routed++;
        const excess = r.cost - opt[i * n + j];
        if (excess <= this.tolerance(opt[i * n + j]) + 1e-9) within++;
        if (excess > worst) worst = excess;
      }
    }
    return { pairs, routed, within, worstExcessMs: worst * 1000 };
  }

  /** Whether the table has a next hop for every ordered pair of up nodes. */
  fullTable(): boolean {
    const t = this.sn.routes.nhTable;
    for (const a of this.ids) {
      if (!this.isUp(a)) continue;
      const row = t[a];
      if (!row) return false;
      for (const b of this.ids) if (a !== b && this.isUp(b) && row[b] === undefined) return false;
    }
    return true;
  }

  /** Ordered pairs (a, b) of up nodes whose current route uses the directed link x→y. */
  pairsUsing(x: number, y: number): Array<[number, number]> {
    const t = this.sn.routes.nhTable;
    const out: Array<[number, number]> = [];
    for (const a of this.ids) {
      if (!this.isUp(a)) continue;
      for (const b of this.ids) {
        if (a === b || !this.isUp(b)) continue;
        const r = this.routeCost(t, a, b);
        for (let k = 0; k + 1 < r.via.length; k++) if (r.via[k] === x && r.via[k + 1] === y) out.push([a, b]);
      }
    }
    return out;
  }

  stop(): void {
    for (const node of this.nodes.values()) {
      node.client.stop();
      node.sched.stop();
    }
    this.superSched?.stop();
    void this.sn?.stop();
  }
}
