// The edge runtime: WireGuard sessions to every peer (ts/wgnode), the local L2 interface, and
// forwarding of Etherguard frames by the next-hop table. The WASM core's data plane
// (crates/eg-core/src/plane) frames, routes, seals, opens and forwards whole batches; this module
// performs the I/O, hands control messages to the control plane and logs what the core reports.
import { EdgeConfig, ipv4ForNode, ipv6ForNode, ipv6LLForNode, macForNode, NodeAddr } from '../config/index.js';
import { keyFromBase64, limits, WgTimers } from '../core/wg.js';
import { L2Interface, openInterface } from '../itype/index.js';
import { startUapi, UapiHandle } from '../uapi/server.js';
import { edgeStatus } from '../status/json.js';
import { Clock, systemClock } from '../wgnode/clock.js';
import { formatEndpoint, resolveEndpoint } from '../wgnode/endpoint.js';
import { WgHost } from '../wgnode/host.js';
import { Peer } from '../wgnode/peers.js';
import { StaticRoutes } from '../core/table.js';
import { Drop, EV, Ev, Mode, REC } from '../core/generated.js';
import { HEADER_LEN, Header, Kind, writeHeader } from '../core/frame.js';
import { dropName } from '../wgnode/host.js';
import { Logger } from '../shared/log.js';
import { postScriptEnv, runPostScript } from '../shared/postscript.js';
import { everySec, Timer } from '../timer.js';
import { offloadsEnabled } from '../native/index.js';
import type { EdgeSnapshot } from '../metrics/snapshot.js';

/** The core's reason for a flood copy already seen (crates/eg-core plane/drop.rs, Duplicate). */

export type { Clock };

export interface EdgeOptions {
  log: Logger;
  routes: StaticRoutes;
  clock?: Clock;
  uapi?: boolean;
  timers?: WgTimers;
  /**
   * Control-plane hook (super/p2p modes): authenticated control messages for this node.
   * `rxTimeMs`: when the datagram arrived, in the ping clock (WgHost.rxTimeMs: the kernel's
   * receive timestamp where the socket has one; docs/routing.md §Wire timestamps).
   */
  onControl?: (h: Header, payload: Uint8Array, from: Peer, rxTimeMs: number) => void;
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
  private table: StaticRoutes;
  iface!: L2Interface;
  private uapi?: UapiHandle;
  private housekeeping?: Timer;
  private reresolve?: Timer;
  private stopped = false;
  /** start() finished (the "up" line was logged). */
  private up = false;
  /** Counters; sentFromIface and forwarded are counted by the data plane (read through the host). */
  readonly stats: EdgeStats = edgeStats(this);
  /**
   * Largest Etherguard payload that is sent (bytes; 65,464, docs/wire.md §5): header + payload,
   * padded and sealed, must fit one UDP datagram. Anything longer is dropped before sealing as
   * "frame too large" — the 16-bit lengths further down (batch records, the header's length
   * field) would otherwise wrap it into a 0- or 16-byte datagram.
   */
  readonly maxFrame = limits().maxFrame;

  constructor(
    readonly cfg: EdgeConfig,
    private readonly o: EdgeOptions,
  ) {
    this.me = cfg.NodeID;
    this.log = o.log;
    this.table = o.routes;
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
        info: (m, f) => log.info(m, f),
        internal: (m, f) => log.cat('internal', m, f),
        error: (m, f) => log.error(m, f),
        debug: (m, f) => log.debug(m, f),
        drop: (r, f, expected) => (expected ? this.dropExpected(r, f) : this.drop(r, f)),
      },
      onEvent: (type, ev, at) => this.onEvent(type, ev, at),
      onTap: (records, count) => this.writeTap(records, count),
      onSession: (p) => {
        o.onSession?.(p);
        this.sessionHook?.(p);
      },
    });
    this.host.me = this.me;
    this.host.wg.configureEdge(this.me, cfg.DefaultTTL, cfg.L2FIBTimeout, cfg.DynamicRoute.DupCheckTimeout, log.enabled('normal'), log.enabled('transit'));
    this.routes = o.routes;
  }

  /** The next-hop table the data plane forwards by; setting it hands it to the core. */
  get routes(): StaticRoutes {
    return this.table;
  }

  set routes(r: StaticRoutes) {
    this.table = r;
    this.host.wg.setRoutes(r.triples);
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
      offloads: offloadsEnabled(),
      RecvAddr: ic.RecvAddr,
      SendAddr: ic.SendAddr,
      L2HeaderMode: ic.L2HeaderMode || undefined,
      vpp: ic.IType === 'vpp' ? { ifaceId: ic.VPPIFaceID, bridgeId: ic.VPPBridgeID, ringSize: ic.VPPRingSize ?? undefined, bufferSize: ic.VPPBufferSize ?? undefined } : undefined,
      mac: Uint8Array.from(mac.split(':').map((h) => parseInt(h, 16))),
      ipv4: ic.IType === 'tap' ? opt(ipv4ForNode, ic.IPv4CIDR) : undefined,
      ipv6: ic.IType === 'tap' ? opt(ipv6ForNode, ic.IPv6CIDR) : undefined,
      ipv6ll: ic.IType === 'tap' ? opt(ipv6LLForNode, ic.IPv6LLPrefix) : undefined,
      log: (lvl, msg) => (lvl === 'error' ? this.log.error(msg) : lvl === 'info' ? this.log.info(msg) : this.log.debug(msg)),
    });
    this.syncOffload();
    this.iface.on('error', (e) => this.log.error(`interface ${this.iface.name}: ${e.message}`));
    this.iface.on('gone', (why) => this.resolveGone?.(why));
    this.iface.on('down', () => this.log.info(`interface ${this.iface.name} is down`));
    this.iface.on('up', () => this.log.info(`interface ${this.iface.name} is up`));
    this.iface.on('mtu', (m) => {
      this.log.info(`interface ${this.iface.name} MTU is now ${m}`);
      this.checkMtu(m);
      this.syncOffload();
    });
    this.iface.on('drop', (reason, count, fields) => {
      for (let i = 0; i < count; i++) this.drop(reason, { iface: this.iface.name, ...fields });
    });
    if (this.iface.type === 'tap' || this.iface.type === 'vpp') this.checkMtu(this.iface.mtu());

    try {
      await this.host.open();
    } catch (e) {
      throw new Error(`cannot bind UDP port ${cfg.ListenPort}: ${(e as Error).message}`);
    }
    await this.resolveAll(false);
    const tap = this.iface as L2Interface & { startRecords?(f: (records: Uint8Array) => void): void };
    if (tap.startRecords) tap.startRecords((records) => this.onTapRecords(records));
    else this.iface.start((frames) => this.onFrames(frames));

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
    this.up = true;
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
          // Not fatal (a DDNS name may resolve later, and the peer can still reach us): say
          // whether and when it is tried again.
          this.log.error(`peer ${p.nodeId}: cannot resolve endpoint ${p.configured}: ${(e as Error).message}; ${this.retryNote(p)}`);
        }
      }),
    );
  }

  /** What happens next to a configured endpoint that did not resolve (resolveAll's log line). */
  private retryNote(p: Peer): string {
    const rr = this.cfg.ResetEndPointInterval;
    if (!p.isStatic) return 'not retried (Static is false); its endpoint is learned when it connects';
    if (rr <= 0.01) return `not retried (ResetEndPointInterval is ${rr}); its endpoint is learned when it connects`;
    return `retried every ${rr} s while it is not alive (ResetEndPointInterval); it can still connect to us meanwhile`;
  }

  // ---- data path (one call into the core per batch; host.run) --------------------------------

  /** Frames read from the interface: staged as TAP records and handed to the core in one call. */
  private onFrames(frames: Uint8Array[]): void {
    if (this.stopped) return;
    let len = 0;
    for (const f of frames) len += REC.TAP + f.length;
    const at = this.host.stage(len);
    const u8 = this.host.wg.view(at, len);
    let off = 0;
    for (const f of frames) {
      // A record length is a u16; longer frames become a counted drop in the core.
      const n = Math.min(f.length, 0xffff);
      u8[off] = n >>> 8;
      u8[off + 1] = n & 0xff;
      u8.set(n === f.length ? f : f.subarray(0, 0), off + REC.TAP);
      off += REC.TAP + (n === f.length ? n : 0);
    }
    this.host.run(Mode.Tap, off);
  }

  /** A native TAP batch, already `[len u16 BE][frame]` records: copied into WASM memory whole. */
  private onTapRecords(records: Uint8Array): void {
    if (this.stopped) return;
    this.host.run(Mode.Tap, this.host.wg.stageBytes(records));
  }

  /** Frames the core delivered (`[len u16 BE][frame]` records in WASM memory). */
  private writeTap(records: Uint8Array, count: number): void {
    // countsWriteDrops: the interface reports refused frames itself, with a specific reason (vpp).
    const itf = this.iface as L2Interface & { writeRecords?(r: Uint8Array, n: number): number; countsWriteDrops?: boolean };
    let ok = 0;
    if (itf.writeRecords) {
      ok = itf.writeRecords(records, count);
    } else {
      for (let off = 0; off + REC.TAP <= records.length; ) {
        const n = (records[off] << 8) | records[off + 1];
        if (itf.write(records.subarray(off + REC.TAP, off + REC.TAP + n))) ok++;
        off += REC.TAP + n;
      }
    }
    this.stats.delivered += ok;
    if (itf.countsWriteDrops && itf.writeRecords) return;
    for (let i = ok; i < count; i++) this.drop(dropName(Drop.InterfaceRefused, {}), { iface: this.iface.name });
  }

  /** Control messages and log lines the core reported (layout EV in core/generated.ts). */
  private onEvent(type: Ev, ev: DataView, at: number): void {
    const u16 = (o: number) => ev.getUint16(at + o, true);
    switch (type) {
      case Ev.Control: {
        const kind = ev.getUint8(at + EV.KIND);
        const len = ev.getUint32(at + EV.LEN, true);
        const from = this.peers.wg(ev.getUint32(at + EV.PEER, true));
        if (!from) return;
        const h: Header = { kind, ttl: 0, dst: u16(EV.DST), src: u16(EV.SRC), len };
        const payload = new Uint8Array(ev.buffer, ev.byteOffset + at + EV.HEADER, len).slice();
        if (this.o.onControl) this.o.onControl(h, payload, from, this.host.rxTimeMs(ev.getUint32(at + EV.SIZE, true)));
        else this.drop(dropName(Drop.ControlInStaticMode, { kind }), { src: h.src });
        return;
      }
      case Ev.LogSend:
        return this.log.cat('normal', 'send', { dst: u16(EV.DST), ethertype: hex4(u16(EV.AUX)), len: ev.getUint32(at + EV.SIZE, true) });
      case Ev.LogDeliver:
        return this.log.cat('normal', 'deliver', { src: u16(EV.SRC), dst: u16(EV.DST), ethertype: hex4(u16(EV.AUX)), len: ev.getUint32(at + EV.SIZE, true) });
      case Ev.LogForward: {
        const hops: number[] = [];
        const len = ev.getUint32(at + EV.LEN, true);
        for (let i = 0; i + 2 <= len; i += 2) hops.push(ev.getUint16(at + EV.HEADER + i, true));
        const to = ev.getUint8(at + EV.KIND) === 1 ? 'flood' : hops.join(',');
        return this.log.cat('transit', 'forward', { src: u16(EV.SRC), dst: u16(EV.DST), from: u16(EV.FROM), to, ttl: u16(EV.AUX) });
      }
      case Ev.Fib: {
        let mac = '';
        for (let i = 0; i < 6; i++) mac += ev.getUint8(at + EV.HEADER + i).toString(16).padStart(2, '0');
        const moved = ev.getUint8(at + EV.KIND) === 1;
        return this.log.cat('internal', moved ? 'L2FIB moved' : 'L2FIB learned', { mac, node: u16(EV.NODE), old: moved ? u16(EV.FROM) : undefined });
      }
    }
  }

  /** Sends a control message (kind != Normal) to one direct peer. */
  sendControl(p: Peer, kind: Kind, dst: number, ttl: number, payload: Uint8Array): void {
    if (payload.length > this.maxFrame) return this.drop(dropName(Drop.FrameTooLarge, {}), { len: payload.length, max: this.maxFrame, kind, node: p.nodeId });
    const plain = new Uint8Array(HEADER_LEN + payload.length);
    writeHeader(plain, { kind, ttl, dst, src: this.me, len: payload.length });
    plain.set(payload, HEADER_LEN);
    this.host.sendTo(p, plain);
  }

  /** Tells the core whether TAP records carry vnet headers, and the MTU super-frames are cut to. */
  private syncOffload(): void {
    const vnet = (this.iface as L2Interface & { vnetHdr?: boolean }).vnetHdr === true;
    if (vnet) this.host.wg.setTapOffload(true, this.iface.mtu());
  }

  /** A TAP MTU whose frames (MTU + 14 Ethernet + 4 VLAN tag) cannot all be carried. */
  private checkMtu(mtu: number): void {
    if (mtu + 18 > this.maxFrame) {
      this.log.info(`interface ${this.iface.name}: MTU ${mtu} allows frames larger than ${this.maxFrame} bytes, the largest one UDP datagram carries; such frames are dropped ("frame too large")`);
    }
  }

  private housekeep(): void {
    const now = this.clock.now();
    const n = this.host.wg.sweep(now);
    if (n) this.log.cat('internal', 'L2FIB entries expired', { count: n });
  }

  private resolveGone?: (why: string) => void;
  /**
   * Resolves (once) when the interface no longer exists (InterfaceEvents.gone), with the reason;
   * the CLI then stops the edge and exits with code 3.
   */
  readonly interfaceGone: Promise<string> = new Promise((r) => (this.resolveGone = r));

  /**
   * Super and P2P mode: the client that pings the peers (SuperClient, P2PClient): the filtered
   * one-way latencies (s) to this node per peer, and the peers whose filter has not filled its
   * window (Prober). Unset in static mode, which does not ping.
   */
  measurer?: { latencies(): Map<number, number>; settling(): Set<number> };
  /** Super mode: PeerAliveTimeout (s) as the supernode last set it (SuperParams); else the config's. */
  aliveTimeoutSource?: () => number;
  /** Called when a WireGuard session with `p` becomes usable (each completed handshake; SuperClient re-registers). */
  sessionHook?: (p: Peer) => void;

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
      peers: this.host.peerCounters(this.aliveTimeoutSource?.() ?? this.cfg.DynamicRoute.PeerAliveTimeout),
      latencyS: this.measurer?.latencies() ?? new Map(),
      settling: this.measurer?.settling() ?? new Set(),
      probing: this.measurer !== undefined,
      forwarded: this.stats.forwarded,
      drops: { ...this.stats.drops },
      nextHops,
      handshakeLoad: this.host.wg.loadStats(),
    };
  }

  drop(reason: string, fields?: Record<string, unknown>): void {
    this.stats.drops[reason] = (this.stats.drops[reason] ?? 0) + 1;
    this.log.drop(reason, fields);
  }

  /**
   * A drop that is part of normal operation (a flood's second copy): counted under `reason` like
   * any drop (snapshot, metrics), but logged at debug only, so it never makes the periodic drop
   * summary that LogLevel error prints.
   */
  dropExpected(reason: string, fields?: Record<string, unknown>): void {
    this.stats.drops[reason] = (this.stats.drops[reason] ?? 0) + 1;
    this.log.debug(`drop: ${reason}`, fields);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.housekeeping?.cancel();
    this.reresolve?.cancel();
    await this.uapi?.close();
    this.host.close();
    await this.iface?.close();
    // An edge that never came up (its start failed) was not "stopped" in the user's sense.
    if (this.up) this.log.info('edge stopped');
  }
}

function edgeStats(e: Edge): EdgeStats {
  return {
    delivered: 0,
    get sentFromIface() {
      return e.host.fromIface;
    },
    get forwarded() {
      return e.host.forwarded;
    },
    drops: {},
  };
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, '0');
}
