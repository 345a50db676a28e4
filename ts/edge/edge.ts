// The edge runtime: WireGuard sessions to every peer (ts/wgnode), the local L2 interface, and
// forwarding of Etherguard frames by the next-hop table. The WASM core seals/opens and runs the
// timers; this module performs the I/O and the per-packet routing decision (forward.ts).
import { EdgeConfig, ipv4ForNode, ipv6ForNode, ipv6LLForNode, macForNode, NodeAddr } from '../config/index.js';
import { keyFromBase64, limits, WgTimers } from '../core/wg.js';
import { L2Interface, openInterface } from '../itype/index.js';
import { startUapi, UapiHandle } from '../uapi/server.js';
import { edgeStatus } from '../status/json.js';
import { Clock, systemClock } from '../wgnode/clock.js';
import { formatEndpoint, resolveEndpoint } from '../wgnode/endpoint.js';
import { WgHost } from '../wgnode/host.js';
import { Peer } from '../wgnode/peers.js';
import { DedupSet } from './dedup.js';
import { decide, RouteView } from './forward.js';
import { HEADER_LEN, Header, Kind, NODE_BROADCAST, NODE_SPREAD, readHeader, writeHeader } from './ids.js';
import { L2Fib } from './l2fib.js';
import { Logger } from './log.js';
import { postScriptEnv, runPostScript } from './postscript.js';
import { everySec, Timer } from '../timer.js';
import type { EdgeSnapshot } from '../metrics/snapshot.js';

export type { Clock };

export interface EdgeOptions {
  log: Logger;
  routes: RouteView;
  clock?: Clock;
  uapi?: boolean;
  timers?: WgTimers;
  /** Control-plane hook (super/p2p modes): authenticated control messages for this node. */
  onControl?: (h: Header, payload: Uint8Array, from: Peer) => void;
  onSession?: (p: Peer) => void;
}

export interface EdgeStats {
  delivered: number;
  sentFromIface: number;
  forwarded: number;
  drops: Record<string, number>;
}

export class Edge {
  readonly me: number;
  readonly host: WgHost;
  readonly log: Logger;
  readonly clock: Clock;
  routes: RouteView;
  iface!: L2Interface;
  private uapi?: UapiHandle;
  private readonly fib: L2Fib;
  private readonly dedup: DedupSet;
  private housekeeping?: Timer;
  private reresolve?: Timer;
  private stopped = false;
  readonly stats: EdgeStats = { delivered: 0, sentFromIface: 0, forwarded: 0, drops: {} };
  /**
   * Largest Etherguard payload that is sent (bytes; 65,464, docs/wire.md §5): header + payload,
   * padded and sealed, must fit one UDP datagram. Anything longer is dropped before sealing as
   * "frame too large" — the 16-bit lengths further down (batch records, the header's length
   * field) would otherwise wrap it into a 0- or 16-byte datagram.
   */
  readonly maxFrame = limits().maxFrame;
  private readonly scratch = new Uint8Array(HEADER_LEN + this.maxFrame);

  constructor(
    readonly cfg: EdgeConfig,
    private readonly o: EdgeOptions,
  ) {
    this.me = cfg.NodeID;
    this.log = o.log;
    this.routes = o.routes;
    this.clock = o.clock ?? systemClock();
    const log = this.log;
    this.host = new WgHost({
      privateKey: cfg.PrivKey,
      port: cfg.ListenPort,
      v4: !cfg.DisabledAf.IPv4,
      v6: !cfg.DisabledAf.IPv6,
      listenV4: cfg.DisabledAf.ListenIPv4,
      listenV6: cfg.DisabledAf.ListenIPv6,
      fwmark: cfg.FwMark,
      clock: this.clock,
      timers: o.timers,
      log: {
        internal: (m, f) => log.cat('internal', m, f),
        error: (m, f) => log.error(m, f),
        debug: (m, f) => log.debug(m, f),
        drop: (r, f) => this.drop(r, f),
      },
      onPlaintext: (plain, from) => this.onPlaintext(plain, from),
      onSession: (p) => o.onSession?.(p),
    });
    this.fib = new L2Fib(cfg.L2FIBTimeout, (mac, node, old) => log.cat('internal', old === undefined ? 'L2FIB learned' : 'L2FIB moved', { mac, node, old }));
    this.dedup = new DedupSet(cfg.DynamicRoute.DupCheckTimeout);
  }

  get peers() {
    return this.host.peers;
  }

  async start(): Promise<void> {
    const cfg = this.cfg;
    for (const p of cfg.Peers) {
      this.host.addPeer(p.NodeID, keyFromBase64(p.PubKey), p.PSKey ? keyFromBase64(p.PSKey) : undefined, {
        endpoint: p.EndPoint || undefined,
        isStatic: p.Static,
        keepalive: p.PersistentKeepalive,
      });
    }
    const ic = cfg.Interface;
    const mac = macForNode(ic.MacAddrPrefix, this.me);
    const opt = (f: (c: string, id: number) => NodeAddr, c: string | undefined) => (c ? f(c, this.me) : undefined);
    this.iface = await openInterface({
      IType: ic.IType,
      Name: ic.Name,
      MTU: ic.MTU,
      RecvAddr: ic.RecvAddr,
      SendAddr: ic.SendAddr,
      L2HeaderMode: ic.L2HeaderMode || undefined,
      mac: Uint8Array.from(mac.split(':').map((h) => parseInt(h, 16))),
      ipv4: ic.IType === 'tap' ? opt(ipv4ForNode, ic.IPv4CIDR) : undefined,
      ipv6: ic.IType === 'tap' ? opt(ipv6ForNode, ic.IPv6CIDR) : undefined,
      ipv6ll: ic.IType === 'tap' ? opt(ipv6LLForNode, ic.IPv6LLPrefix) : undefined,
      log: (lvl, msg) => (lvl === 'error' ? this.log.error(msg) : lvl === 'info' ? this.log.info(msg) : this.log.debug(msg)),
    });
    this.iface.on('error', (e) => this.log.error(`interface ${this.iface.name}: ${e.message}`));
    this.iface.on('down', () => this.log.info(`interface ${this.iface.name} is down`));
    this.iface.on('up', () => this.log.info(`interface ${this.iface.name} is up`));
    this.iface.on('mtu', (m) => {
      this.log.info(`interface ${this.iface.name} MTU is now ${m}`);
      this.checkMtu(m);
    });
    this.iface.on('drop', (reason, count, fields) => {
      for (let i = 0; i < count; i++) this.drop(reason, { iface: this.iface.name, ...fields });
    });
    if (this.iface.type === 'tap') this.checkMtu(this.iface.mtu());

    try {
      await this.host.open();
    } catch (e) {
      throw new Error(`cannot bind UDP port ${cfg.ListenPort}: ${(e as Error).message}`);
    }
    await this.resolveAll(false);
    this.iface.start((frames) => this.onFrames(frames));

    if (this.o.uapi !== false) {
      this.uapi = await startUapi(cfg.NodeName, { ...this.host.uapiDevice(cfg.FwMark), status: () => edgeStatus(this.snapshot()) }, (m) => this.log.error(m));
    }
    if (cfg.PostScript) {
      runPostScript(cfg.PostScript, postScriptEnv('edge', cfg.NodeName, this.me, { name: this.iface.name, type: ic.IType, macPrefix: ic.MacAddrPrefix, mac }));
    }
    const rr = cfg.ResetEndPointInterval;
    if (rr > 0.01) {
      // DDNS: static peers that went quiet get their configured name resolved again.
      this.reresolve = everySec(rr, () => void this.resolveAll(true));
    }
    const hk = Math.max(1, Math.min(cfg.L2FIBTimeout > 0.01 ? cfg.L2FIBTimeout : 60, 60));
    this.housekeeping = everySec(hk, () => this.housekeep());
    this.log.info(`edge ${cfg.NodeName} (node ${this.me}) up: ${this.iface.type} ${this.iface.name}, udp port ${this.host.port}, ${this.peers.size} peer(s)`);
    this.host.kick();
  }

  /** Resolves configured endpoints: all at start; later only static peers that are not alive (DDNS). */
  async resolveAll(onlyDeadStatic: boolean): Promise<void> {
    const now = this.clock.now();
    const alive = this.cfg.DynamicRoute.PeerAliveTimeout;
    await Promise.all(
      [...this.peers.every()].map(async (p) => {
        if (!p.configured) return;
        if (onlyDeadStatic && (!p.isStatic || now - p.lastRx < alive)) return;
        try {
          const before = p.endpoint;
          p.endpoint = await resolveEndpoint(p.configured, this.cfg.AfPrefer, { v4: !this.cfg.DisabledAf.IPv4, v6: !this.cfg.DisabledAf.IPv6 });
          if (before && formatEndpoint(before) !== formatEndpoint(p.endpoint)) {
            this.log.cat('internal', 're-resolved endpoint', { node: p.nodeId, from: formatEndpoint(before), to: formatEndpoint(p.endpoint) });
          }
        } catch (e) {
          this.log.error(`peer ${p.nodeId}: cannot resolve endpoint: ${(e as Error).message}`);
        }
      }),
    );
  }

  // ---- receive path -----------------------------------------------------------------------

  /** `plain` is a view into WASM memory: valid until the next call into the module. */
  private onPlaintext(plain: Uint8Array, from: Peer): void {
    const h = readHeader(plain);
    if (!h) return this.drop('malformed Etherguard header', { from: from.nodeId, len: plain.length });
    const d = decide(h, this.me, from.nodeId, from.isSuper, this.routes);
    if (d.drop) this.drop(d.drop, { src: h.src, dst: h.dst, kind: h.kind, from: from.nodeId });
    const payload = plain.subarray(HEADER_LEN, HEADER_LEN + h.len);
    // Pings (TTL 0, one hop, timestamped) are measurements, not floods: never deduplicated.
    if (h.dst === NODE_SPREAD && h.kind !== Kind.Ping && (d.flood || d.control || d.deliver)) {
      // A duplicate flood is dropped whole: neither processed again nor forwarded again.
      if (this.dedup.check(h.kind, h.src, payload, this.clock.now())) return this.drop('duplicate flood message', { src: h.src, kind: h.kind });
    }
    if (d.deliver) {
      if (payload.length <= 12) {
        this.drop('frame too short', { src: h.src, len: payload.length });
      } else {
        this.fib.learn(payload, h.src, this.clock.now());
        if (this.log.enabled('normal')) this.log.cat('normal', 'deliver', { src: h.src, dst: h.dst, ethertype: etherType(payload), len: payload.length });
        if (this.iface.write(payload)) this.stats.delivered++;
        else this.drop('interface refused the frame', { iface: this.iface.name });
      }
    }
    if (d.control) {
      if (this.o.onControl) this.o.onControl(h, payload.slice(), from);
      else this.drop(`control message kind ${h.kind} in static mode`, { src: h.src });
    }
    if (d.forward.length === 0 && !d.flood) return;
    // A peer may send us more than we may send (an IPv6 datagram holds 20 bytes more than an
    // IPv4 one): such a frame is delivered above but not relayed, since sealing would fail.
    if (h.len > this.maxFrame) return this.drop('frame too large', { len: h.len, max: this.maxFrame, src: h.src, dst: h.dst, from: from.nodeId });
    // Forward with TTL−1. Copy out of WASM memory first: sealing may grow it.
    const out = plain.slice(0, HEADER_LEN + h.len);
    out[1] = h.ttl - 1;
    if (this.log.enabled('transit')) this.log.cat('transit', 'forward', { src: h.src, dst: h.dst, from: from.nodeId, to: d.flood ? 'flood' : d.forward.join(','), ttl: h.ttl - 1 });
    if (d.flood) {
      for (const p of this.peers.all()) if (p.nodeId !== h.src && p.nodeId !== from.nodeId) this.host.sendTo(p, out);
    } else {
      for (const nh of d.forward) this.sendToNode(nh, out);
    }
    this.stats.forwarded++;
  }

  // ---- send path --------------------------------------------------------------------------

  private onFrames(frames: Uint8Array[]): void {
    if (this.stopped) return;
    const now = this.clock.now();
    for (const f of frames) {
      if (f.length < 14) {
        this.drop('frame from interface shorter than an Ethernet header', { len: f.length });
        continue;
      }
      if (f.length > this.maxFrame) {
        this.drop('frame too large', { len: f.length, max: this.maxFrame, iface: this.iface.name });
        continue;
      }
      const dst = this.fib.lookup(f, now) ?? NODE_BROADCAST;
      const plain = this.scratch.subarray(0, HEADER_LEN + f.length);
      writeHeader(plain, { kind: Kind.Normal, ttl: this.cfg.DefaultTTL, dst, src: this.me, len: f.length });
      plain.set(f, HEADER_LEN);
      this.stats.sentFromIface++;
      if (this.log.enabled('normal')) this.log.cat('normal', 'send', { dst, ethertype: etherType(f), len: f.length });
      if (dst === NODE_BROADCAST) {
        for (const nh of this.routes.broadcastTargets(this.me)) this.sendToNode(nh, plain);
      } else {
        const nh = this.routes.nextHop(this.me, dst);
        if (nh === undefined) this.drop(`no route from ${this.me} to ${dst}`, { dst });
        else this.sendToNode(nh, plain);
      }
    }
    this.host.kick();
  }

  /** Sends a control message (kind != Normal) to one direct peer. */
  sendControl(p: Peer, kind: Kind, dst: number, ttl: number, payload: Uint8Array): void {
    if (payload.length > this.maxFrame) return this.drop('frame too large', { len: payload.length, max: this.maxFrame, kind, node: p.nodeId });
    const plain = new Uint8Array(HEADER_LEN + payload.length);
    writeHeader(plain, { kind, ttl, dst, src: this.me, len: payload.length });
    plain.set(payload, HEADER_LEN);
    this.host.sendTo(p, plain);
  }

  private sendToNode(nodeId: number, plain: Uint8Array): void {
    const p = this.peers.node(nodeId);
    if (!p) return this.drop(`next hop ${nodeId} is not a peer`, { node: nodeId });
    this.host.sendTo(p, plain);
  }

  /** A TAP MTU whose frames (MTU + 14 Ethernet + 4 VLAN tag) cannot all be carried. */
  private checkMtu(mtu: number): void {
    if (mtu + 18 > this.maxFrame) {
      this.log.info(`interface ${this.iface.name}: MTU ${mtu} allows frames larger than ${this.maxFrame} bytes, the largest one UDP datagram carries; such frames are dropped ("frame too large")`);
    }
  }

  private housekeep(): void {
    const now = this.clock.now();
    const n = this.fib.sweep(now);
    if (n) this.log.cat('internal', 'L2FIB entries expired', { count: n });
    this.dedup.sweep(now);
  }

  /** Super mode: the filtered one-way latencies (s) to this node per peer (SuperClient.latencies). */
  latencySource?: () => Map<number, number>;

  /**
   * The edge's counters and routes for observers (metrics, `-mode status`, ts/metrics/snapshot.ts):
   * one walk of the peer table, read from what the data path already counts.
   */
  snapshot(): EdgeSnapshot {
    const nextHops = new Map<number, number>();
    const dsts = new Set<number>([...this.peers.all()].map((p) => p.nodeId));
    for (const [s, row] of Object.entries(this.cfg.NextHopTable)) for (const d of [s, ...Object.keys(row)]) dsts.add(Number(d));
    dsts.delete(this.me);
    for (const d of [...dsts].sort((a, b) => a - b)) {
      const nh = this.routes.nextHop(this.me, d);
      if (nh !== undefined) nextHops.set(d, nh);
    }
    return {
      nodeId: this.me,
      nodeName: this.cfg.NodeName,
      peers: this.host.peerCounters(),
      latencyS: this.latencySource?.() ?? new Map(),
      forwarded: this.stats.forwarded,
      drops: { ...this.stats.drops },
      nextHops,
    };
  }

  drop(reason: string, fields?: Record<string, unknown>): void {
    this.stats.drops[reason] = (this.stats.drops[reason] ?? 0) + 1;
    this.log.drop(reason, fields);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.housekeeping?.cancel();
    this.reresolve?.cancel();
    await this.uapi?.close();
    this.host.close();
    await this.iface?.close();
    this.log.info('edge stopped');
  }
}

function etherType(f: Uint8Array): string {
  return f.length >= 14 ? ((f[12] << 8) | f[13]).toString(16).padStart(4, '0') : '';
}
