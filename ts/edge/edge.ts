// The edge runtime: WireGuard sessions to every peer, the local L2 interface, and forwarding of
// Etherguard frames by the next-hop table. The WASM core seals/opens and runs the timers; this
// module performs the I/O and the per-packet routing decision (ts/edge/forward.ts).
import { EdgeConfig } from '../config/index.js';
import { macForNode, ipv4ForNode, ipv6ForNode, ipv6LLForNode, NodeAddr } from '../config/index.js';
import { addrKey, keyFromBase64, monotonicSeconds, Reason, TickKind, Verdict, WgDevice, WgTimers } from '../core/wg.js';
import { openInterface, L2Interface } from '../itype/index.js';
import { startUapi, UapiHandle, UapiPeer } from '../uapi/server.js';
import { DedupSet } from './dedup.js';
import { Endpoint, formatEndpoint, resolveEndpoint } from './endpoint.js';
import { decide, RouteView } from './forward.js';
import { HEADER_LEN, Header, Kind, NODE_BROADCAST, readHeader, writeHeader } from './ids.js';
import { L2Fib } from './l2fib.js';
import { Logger } from './log.js';
import { Peer, PeerTable, QUEUE_LIMIT } from './peers.js';
import { postScriptEnv, runPostScript } from './postscript.js';
import { Transport } from './transport.js';

export interface Clock {
  /** Monotonic seconds. */
  now(): number;
  /** Wall-clock milliseconds (ping timestamps, handshake times); tests may skew it. */
  wallMs(): number;
}
export const systemClock: Clock = { now: monotonicSeconds, wallMs: Date.now };

export interface EdgeOptions {
  log: Logger;
  routes: RouteView;
  clock?: Clock;
  uapi?: boolean;
  timers?: WgTimers;
  /** Control-plane hook (super/p2p modes): called with authenticated control messages. */
  onControl?: (h: Header, payload: Uint8Array, from: Peer) => void;
}

export interface EdgeStats {
  delivered: number;
  sentFromIface: number;
  forwarded: number;
  drops: Record<string, number>;
}

export class Edge {
  readonly me: number;
  readonly wg: WgDevice;
  readonly peers = new PeerTable();
  readonly log: Logger;
  routes: RouteView;
  iface!: L2Interface;
  transport!: Transport;
  private uapi?: UapiHandle;
  private readonly fib: L2Fib;
  private readonly dedup: DedupSet;
  private readonly clock: Clock;
  private tickTimer?: NodeJS.Timeout;
  private tickAt = Infinity;
  private housekeeping?: NodeJS.Timeout;
  private stopped = false;
  readonly stats: EdgeStats = { delivered: 0, sentFromIface: 0, forwarded: 0, drops: {} };
  private readonly scratch = new Uint8Array(HEADER_LEN + 65535);

  constructor(
    readonly cfg: EdgeConfig,
    private readonly o: EdgeOptions,
  ) {
    this.me = cfg.NodeID;
    this.log = o.log;
    this.routes = o.routes;
    this.clock = o.clock ?? systemClock;
    this.wg = new WgDevice(keyFromBase64(cfg.PrivKey), { clock: this.clock.now, wallClock: this.clock.wallMs });
    if (o.timers) this.wg.setTimers(o.timers);
    this.fib = new L2Fib(cfg.L2FIBTimeout, (mac, node, old) =>
      this.log.cat('internal', old === undefined ? 'L2FIB learned' : 'L2FIB moved', { mac, node, old }),
    );
    this.dedup = new DedupSet(cfg.DynamicRoute.DupCheckTimeout);
  }

  async start(): Promise<void> {
    const cfg = this.cfg;
    for (const p of cfg.Peers) {
      this.addPeer(p.NodeID, keyFromBase64(p.PubKey), p.PSKey ? keyFromBase64(p.PSKey) : undefined, {
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
    this.iface.on('mtu', (m) => this.log.info(`interface ${this.iface.name} MTU is now ${m}`));

    this.transport = new Transport({
      port: cfg.ListenPort,
      v4: !cfg.DisabledAf.IPv4,
      v6: !cfg.DisabledAf.IPv6,
      listenV4: cfg.DisabledAf.ListenIPv4,
      listenV6: cfg.DisabledAf.ListenIPv6,
      fwmark: cfg.FwMark,
      onMessage: (m, from) => this.onDatagram(m, from),
      onError: (e) => this.log.error(`udp: ${e.message}`),
    });
    await this.transport.open();
    await this.resolveAll(false);
    this.iface.start((frames) => this.onFrames(frames));

    if (this.o.uapi !== false) {
      this.uapi = await startUapi(cfg.NodeName, this.uapiDevice(), (m) => this.log.error(m));
    }
    if (cfg.PostScript) {
      runPostScript(cfg.PostScript, postScriptEnv('edge', cfg.NodeName, this.me, { name: this.iface.name, type: ic.IType, macPrefix: ic.MacAddrPrefix, mac }));
    }
    const hk = Math.max(1, Math.min(cfg.L2FIBTimeout > 0.01 ? cfg.L2FIBTimeout : 60, 60));
    this.housekeeping = setInterval(() => this.housekeep(), hk * 1000);
    this.housekeeping.unref();
    this.log.info(`edge ${cfg.NodeName} (node ${this.me}) up: ${this.iface.type} ${this.iface.name}, udp port ${this.transport.port}, ${this.peers.size} peer(s)`);
    this.kick();
  }

  addPeer(nodeId: number, publicKey: Uint8Array, psk: Uint8Array | undefined, o: { endpoint?: string; isStatic?: boolean; keepalive?: number; isSuper?: boolean }): Peer {
    const wgId = this.wg.addPeer(publicKey, { psk, persistentKeepalive: o.keepalive ?? 0 });
    const p: Peer = {
      nodeId,
      wgId,
      publicKey,
      psk,
      configured: o.endpoint,
      isStatic: o.isStatic ?? false,
      isSuper: o.isSuper ?? false,
      keepalive: o.keepalive ?? 0,
      queue: [],
      rxBytes: 0,
      txBytes: 0,
      lastRx: -Infinity,
      lastHandshakeMs: 0,
    };
    this.peers.add(p);
    this.log.cat('internal', 'peer added', { node: nodeId, endpoint: o.endpoint ?? '' });
    return p;
  }

  removePeer(p: Peer): void {
    this.wg.removePeer(p.wgId);
    this.peers.remove(p);
    this.log.cat('internal', 'peer removed', { node: p.nodeId });
  }

  /** Resolves configured endpoints: all at start; later only static peers that are not alive (DDNS). */
  async resolveAll(onlyDeadStatic: boolean): Promise<void> {
    const now = this.clock.now();
    const alive = this.cfg.DynamicRoute.PeerAliveTimeout;
    await Promise.all(
      [...this.peers.all()].map(async (p) => {
        if (!p.configured) return;
        if (onlyDeadStatic && (!p.isStatic || now - p.lastRx < alive)) return;
        try {
          p.endpoint = await resolveEndpoint(p.configured, this.cfg.AfPrefer, { v4: !this.cfg.DisabledAf.IPv4, v6: !this.cfg.DisabledAf.IPv6 });
        } catch (e) {
          this.log.error(`peer ${p.nodeId}: cannot resolve endpoint: ${(e as Error).message}`);
        }
      }),
    );
  }

  // ---- receive path -----------------------------------------------------------------------

  private onDatagram(msg: Buffer, from: Endpoint): void {
    if (this.stopped) return;
    const wg = this.wg;
    const code = wg.handleRaw(msg, addrKey(from.address, from.port), this.clock.now(), false);
    const peer = this.peers.wg(wg.raw.lastPeer());
    switch (code) {
      case Verdict.Data: {
        if (!peer) return this.drop('data from an unknown peer', { from: formatEndpoint(from) });
        this.touch(peer, from, msg.length);
        this.onPlaintext(wg.outputView(), peer);
        break;
      }
      case Verdict.Keepalive:
        if (peer) this.touch(peer, from, msg.length);
        break;
      case Verdict.WriteToNetwork:
      case Verdict.CookieReply:
      case Verdict.SessionReady: {
        const out = wg.outputView().slice();
        if (peer) {
          this.touch(peer, from, msg.length);
          if (code !== Verdict.CookieReply) peer.lastHandshakeMs = this.clock.wallMs();
        }
        this.transport.send(out, from);
        if (peer) peer.txBytes += out.length;
        if (code === Verdict.SessionReady && peer) this.flush(peer);
        break;
      }
      case Verdict.Nothing:
        if (peer) this.touch(peer, from, msg.length);
        break;
      default:
        this.drop(`wireguard: ${Reason[code & 0x7f] ?? code & 0x7f}`, { from: formatEndpoint(from), len: msg.length });
    }
    this.kick();
  }

  private touch(p: Peer, from: Endpoint, bytes: number): void {
    p.rxBytes += bytes;
    p.lastRx = this.clock.now();
    // Roaming: the live endpoint follows the peer (static peers too; only their configured
    // address is never rewritten).
    const ep = p.endpoint;
    if (!ep || ep.address !== from.address || ep.port !== from.port) {
      if (ep) this.log.cat('internal', 'peer roamed', { node: p.nodeId, from: formatEndpoint(ep), to: formatEndpoint(from) });
      p.endpoint = from;
    }
  }

  /** `plain` is a view into WASM memory: valid until the next call into the module. */
  private onPlaintext(plain: Uint8Array, from: Peer): void {
    const h = readHeader(plain);
    if (!h) return this.drop('malformed Etherguard header', { from: from.nodeId, len: plain.length });
    const d = decide(h, this.me, from.nodeId, from.isSuper, this.routes);
    if (d.drop) this.drop(d.drop, { src: h.src, dst: h.dst, kind: h.kind, from: from.nodeId });
    if (d.flood || (h.dst === 65534 && (d.control || d.deliver))) {
      if (this.dedup.check(h.kind, h.src, plain.subarray(HEADER_LEN, HEADER_LEN + h.len), this.clock.now())) {
        return this.drop('duplicate flood message', { src: h.src, kind: h.kind });
      }
    }
    const payload = plain.subarray(HEADER_LEN, HEADER_LEN + h.len);
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
    if (d.control && this.o.onControl) this.o.onControl(h, payload.slice(), from);
    else if (d.control) this.drop(`control message kind ${h.kind} in static mode`, { src: h.src });
    if (d.forward.length === 0 && !d.flood) return;
    // Forward with TTL−1. Copy out of WASM memory first: sealing may grow it.
    const out = plain.slice(0, HEADER_LEN + h.len);
    out[1] = h.ttl - 1;
    if (this.log.enabled('transit')) this.log.cat('transit', 'forward', { src: h.src, dst: h.dst, from: from.nodeId, to: d.flood ? 'flood' : d.forward.join(','), ttl: h.ttl - 1 });
    if (d.flood) {
      for (const p of this.peers.all()) if (p.nodeId !== h.src && p.nodeId !== from.nodeId && !p.isSuper) this.sendTo(p, out);
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
      if (f.length > 65535) {
        this.drop('frame from interface too large', { len: f.length });
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
    this.kick();
  }

  /** Sends a control message (kind != Normal) to a direct peer. */
  sendControl(p: Peer, kind: Kind, dst: number, ttl: number, payload: Uint8Array): void {
    const plain = new Uint8Array(HEADER_LEN + payload.length);
    writeHeader(plain, { kind, ttl, dst, src: this.me, len: payload.length });
    plain.set(payload, HEADER_LEN);
    this.sendTo(p, plain);
    this.kick();
  }

  private sendToNode(nodeId: number, plain: Uint8Array): void {
    const p = this.peers.node(nodeId);
    if (!p) return this.drop(`next hop ${nodeId} is not a peer`, { node: nodeId });
    this.sendTo(p, plain);
  }

  private sendTo(p: Peer, plain: Uint8Array): void {
    if (!p.endpoint) return this.drop(`peer ${p.nodeId} has no endpoint`, { node: p.nodeId });
    const r = this.wg.raw.encapsulate(p.wgId, plain, this.clock.now());
    if (r === 0) {
      const out = this.wg.outputView();
      this.transport.send(out.slice(), p.endpoint);
      p.txBytes += out.length;
      return;
    }
    if ((r & 0x7f) === Reason.NoSession) {
      if (p.queue.length >= QUEUE_LIMIT) return this.drop(`queue for peer ${p.nodeId} full while handshaking`, { node: p.nodeId });
      p.queue.push(plain.slice());
      return;
    }
    this.drop(`seal for peer ${p.nodeId} failed: ${Reason[r & 0x7f] ?? r}`, { node: p.nodeId });
  }

  private flush(p: Peer): void {
    const q = p.queue;
    p.queue = [];
    for (const plain of q) this.sendTo(p, plain);
  }

  // ---- timers -----------------------------------------------------------------------------

  /** Re-arms the timer at the core's next deadline (the core decides when, we only wait). */
  kick(): void {
    if (this.stopped) return;
    const d = this.wg.nextDeadline();
    if (d === undefined) return;
    const now = this.clock.now();
    if (d >= this.tickAt && this.tickTimer) return;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.tickAt = d;
    this.tickTimer = setTimeout(() => this.tick(), Math.max(0, (d - now) * 1000));
  }

  private tick(): void {
    this.tickTimer = undefined;
    this.tickAt = Infinity;
    if (this.stopped) return;
    for (const a of this.wg.tick()) {
      const p = this.peers.wg(a.peer);
      switch (a.kind) {
        case TickKind.SendInitiation:
        case TickKind.SendKeepalive:
          if (p?.endpoint) {
            this.transport.send(a.packet, p.endpoint);
            p.txBytes += a.packet.length;
            if (a.kind === TickKind.SendInitiation) this.log.cat('internal', 'handshake initiation sent', { node: p.nodeId, to: formatEndpoint(p.endpoint) });
          } else if (p) {
            this.log.debug('timer wants to send but the peer has no endpoint', { node: p.nodeId });
          }
          break;
        case TickKind.HandshakeGaveUp:
          if (p) {
            if (p.queue.length) this.drop(`handshake with peer ${p.nodeId} gave up; ${p.queue.length} queued packet(s) dropped`, { node: p.nodeId });
            p.queue = [];
          }
          break;
        case TickKind.KeysZeroed:
          this.log.cat('internal', 'session keys expired and zeroed', { node: p?.nodeId });
          break;
      }
    }
    this.kick();
  }

  private housekeep(): void {
    const now = this.clock.now();
    const n = this.fib.sweep(now);
    if (n) this.log.cat('internal', 'L2FIB entries expired', { count: n });
    this.dedup.sweep(now);
  }

  // ---- misc -------------------------------------------------------------------------------

  drop(reason: string, fields?: Record<string, unknown>): void {
    this.stats.drops[reason] = (this.stats.drops[reason] ?? 0) + 1;
    this.log.drop(reason, fields);
  }

  private uapiDevice() {
    return {
      privateKey: () => keyFromBase64(this.cfg.PrivKey),
      listenPort: () => this.transport.port,
      fwmark: () => this.cfg.FwMark,
      peers: (): UapiPeer[] =>
        [...this.peers.all()].map((p) => ({
          publicKey: p.publicKey,
          presharedKey: p.psk,
          endpoint: p.endpoint ? formatEndpoint(p.endpoint) : undefined,
          lastHandshake: p.lastHandshakeMs ? { sec: Math.floor(p.lastHandshakeMs / 1000), nsec: (p.lastHandshakeMs % 1000) * 1e6 } : undefined,
          rxBytes: p.rxBytes,
          txBytes: p.txBytes,
          persistentKeepalive: p.keepalive,
        })),
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    if (this.housekeeping) clearInterval(this.housekeeping);
    await this.uapi?.close();
    this.transport?.close();
    await this.iface?.close();
    this.log.info('edge stopped');
  }
}

function etherType(f: Uint8Array): string {
  return f.length >= 14 ? ((f[12] << 8) | f[13]).toString(16).padStart(4, '0') : '';
}
