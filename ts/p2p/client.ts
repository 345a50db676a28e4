// P2P mode, edge side (DynamicRoute.P2P.UseP2P; docs/p2p.md): no supernode. Every edge
//  * pings its peers every SendPingInterval and measures one-way latency (ts/edge/probe.ts);
//  * floods one signed report of its incoming latencies per SendPingInterval (kind Pong, dst
//    65534, TTL DefaultTTL; the core's flood channel forwards it to every peer with dedup);
//  * keeps every member's reports in a latency graph and solves it in WASM (ts/p2p/mesh.ts),
//    installing the whole table into its data plane (edge.routes) when the next hops change;
//  * floods its own signed self-description every SendPeerInterval (kind BroadcastPeer) and once
//    at start as a QueryPeer, which makes every member flood its own: a node that knows one peer
//    learns the others, adds them (no PSK, as upstream) and connects; with SaveNewPeers it
//    writes them to its config file (atomically, comments kept).
// Upstream behaviour: reference §1.3, §5.8; differences (signatures, per-origin sequence numbers,
// self-descriptions instead of third-party peer lists) are in docs/p2p.md.
import { createHash } from 'node:crypto';
import type { Document } from 'yaml';
import { isMap, isSeq, YAMLMap } from 'yaml';
import type { EdgeConfig } from '../config/index.js';
import { HEADER_LEN, Header, Kind, NODE_BROADCAST, NODE_SPREAD, writeHeader } from '../core/frame.js';
import { StaticRoutes } from '../core/table.js';
import { keyFromBase64, keyToBase64, publicKey } from '../core/wg.js';
import { Edge } from '../edge/edge.js';
import { Prober } from '../edge/probe.js';
import { insideVpn, underlayAddresses } from '../edge/underlay.js';
import { decode } from '../proto/control.js';
import { ConfigWriter } from '../super/config-rewrite.js';
import { everySec, type Timer } from '../timer.js';
import { pingTimeMs } from '../wgnode/clock.js';
import { formatEndpoint, parseHostPort, resolveEndpoint } from '../wgnode/endpoint.js';
import type { Peer } from '../wgnode/peers.js';
import { DUPLICATE, P2PMesh, type Drop } from './mesh.js';
import { seal, type ReportLink } from './proto.js';
import type { SignApi } from './sign.js';

/** Drop reasons that mean someone tried to speak for another node: always logged (rate-limited). */
const SECURITY = /signature|origin differs|key differs|another node's|claims to be/;

interface Discovered {
  candidates: string[];
  next: number;
  savedEndpoint?: string;
}

export interface P2PClientOptions {
  /** The config file, for SaveNewPeers (undefined: nothing is written). */
  configPath?: string;
  signer: SignApi;
}

export class P2PClient {
  readonly mesh: P2PMesh;
  private readonly prober: Prober;
  private readonly timers: Timer[] = [];
  private readonly discovered = new Map<number, Discovered>();
  private readonly writer: ConfigWriter;
  /** When each peer's session was first seen alive (s), for the mixed-mesh notice. */
  private readonly firstAlive = new Map<number, number>();
  private readonly reporting = new Set<number>();
  private readonly warnedSilent = new Set<number>();
  private readonly lastSecurityLog = new Map<string, number>();
  private lastQuery = -Infinity;
  /** When the installed table last changed (s). */
  private lastTableChange = -Infinity;
  /** Reports sent; every k-th is flooded even when the trees are in use (see report()). */
  private reportsSent = 0;
  private onTrees = false;
  /** Reports sent on the broadcast trees and flooded (for observers and the benchmark). */
  readonly reportModes = { tree: 0, flood: 0 };
  private lastAnswer = -Infinity;
  private stopped = false;
  private readonly dr: EdgeConfig['DynamicRoute'];
  /** Control bytes sent (payload + header), for the benchmark and metrics. */
  controlBytesSent = 0;
  /**
   * Tests only (EG_TEST=1, EG_TEST_P2P_SPOOF=<NodeID>): this node also floods messages that
   * pretend to come from that node, so an end-to-end test can check they are dropped.
   */
  private readonly spoofVictim = process.env.EG_TEST === '1' && process.env.EG_TEST_P2P_SPOOF ? Number(process.env.EG_TEST_P2P_SPOOF) : undefined;
  private readonly signer: P2PClientOptions['signer'];
  private readonly priv: Uint8Array;

  constructor(
    private readonly edge: Edge,
    private readonly cfg: EdgeConfig,
    o: P2PClientOptions,
  ) {
    this.dr = cfg.DynamicRoute;
    const g = this.dr.P2P.GraphRecalculateSetting;
    const priv = keyFromBase64(cfg.PrivKey);
    this.priv = priv;
    this.signer = o.signer;
    this.mesh = new P2PMesh({
      me: cfg.NodeID,
      privateKey: priv,
      publicKey: publicKey(priv),
      signer: o.signer,
      graph: { jitterToleranceMs: g.JitterTolerance, multiplier: g.JitterToleranceMultiplier, cooldownS: g.RecalculateCoolDown, manualLatency: g.ManualLatency },
      peerAliveTimeout: this.dr.PeerAliveTimeout,
      dupCheckTimeout: this.dr.DupCheckTimeout,
    });
    this.prober = new Prober(edge, () => this.dr.DampingFilterRadius);
    this.writer = new ConfigWriter(this.dr.SaveNewPeers ? o.configPath : undefined, (m) => edge.log.error(m));
    for (const p of cfg.Peers) this.mesh.addConfigured(p.NodeID, keyFromBase64(p.PubKey));
  }

  private get now(): number {
    return this.edge.clock.now();
  }

  private every(sec: number, f: () => void): void {
    if (sec > 0) this.timers.push(everySec(sec, f));
  }

  /** Starts the timers; call after Edge.start(). */
  start(): void {
    const dr = this.dr;
    const g = dr.P2P.GraphRecalculateSetting;
    this.edge.log.info(`P2P mode: ${this.cfg.Peers.length} configured peer(s); reports and peer descriptions are signed (XEdDSA)`);
    this.every(dr.SendPingInterval, () => this.tick());
    this.every(dr.P2P.SendPeerInterval, () => this.describe(Kind.BroadcastPeer));
    if (!g.StaticMode) this.every(g.TimeoutCheckInterval, () => this.recalc());
    this.every(Math.max(1, dr.ConnNextTry || dr.TimeoutCheckInterval || 5), () => void this.tryEndpoints());
    // Ask at once: every member answers with its own signed description.
    this.describe(Kind.QueryPeer);
    this.tick();
  }

  private tick(): void {
    if (this.stopped) return;
    this.pingAll(0);
    this.report();
    this.watchPeers();
  }

  // ---- measuring and reporting ---------------------------------------------------------------

  private alive(p: Peer): boolean {
    return p.endpoint !== undefined && this.now - p.lastRx < this.dr.PeerAliveTimeout;
  }

  private send(p: Peer, kind: Kind, ttl: number, payload: Uint8Array): void {
    this.controlBytesSent += payload.length + 8;
    this.edge.sendControl(p, kind, NODE_SPREAD, ttl, payload);
  }

  private ping(p: Peer, requestReply: number): void {
    this.prober.ping(p, requestReply, (payload) => this.send(p, Kind.Ping, 0, payload));
  }

  private pingAll(requestReply: number): void {
    for (const p of this.edge.peers.all()) if (p.endpoint) this.ping(p, requestReply);
  }

  /** Floods to every peer with an endpoint (the origin's first hop; relays flood in the core). */
  private flood(kind: Kind, payload: Uint8Array): void {
    for (const p of this.edge.peers.all()) if (p.endpoint) this.send(p, kind, this.cfg.DefaultTTL, payload);
  }

  /**
   * Floods (dst 65534) costs about (N − 1)² transmissions per message in a full mesh; the
   * broadcast trees (dst 65535) N − 1, and deliver each message exactly once when every node
   * holds the same table. So a report goes on the trees when this node's table is complete and
   * has not changed for 2 × PeerAliveTimeout (tables that settled alike), and is flooded
   * otherwise; one report in k is flooded anyway, k = PeerAliveTimeout / SendPingInterval − 2
   * (at least 1), so a node that a broken tree misses still gets a report of every origin before
   * that origin's links expire.
   */
  private report(): void {
    const now = this.now;
    const links: ReportLink[] = [];
    for (const p of this.edge.peers.all()) {
      const lat = this.prober.latency(p.nodeId);
      if (lat === undefined || !this.alive(p)) continue;
      links.push({ Src: p.nodeId, Timediff: lat, TimeToAlive: Math.max(0, this.dr.PeerAliveTimeout - (now - p.lastRx)) });
    }
    const { body, payload } = this.mesh.report(links, this.dr.AdditionalCost, this.edge.clock.wallMs());
    this.mesh.applyOwn(body, now);
    const pat = this.dr.PeerAliveTimeout;
    const k = Math.max(1, Math.floor(pat / Math.max(this.dr.SendPingInterval, 1e-3)) - 2);
    const stable = !this.dr.P2P.GraphRecalculateSetting.StaticMode && this.mesh.complete() && now - this.lastTableChange >= 2 * pat;
    const settled = stable && this.reportsSent % k !== 0;
    this.reportsSent++;
    if (stable !== this.onTrees) {
      this.onTrees = stable;
      this.edge.log.cat('internal', stable ? 'p2p reports on the broadcast trees (table settled)' : 'p2p reports flooded (table changing or incomplete)');
    }
    if (settled) {
      this.reportModes.tree++;
      this.treeBroadcast(Kind.Pong, payload);
    } else {
      this.reportModes.flood++;
      this.flood(Kind.Pong, payload);
    }
    if (this.spoofVictim !== undefined) this.spoof(this.spoofVictim);
    this.recalc();
  }

  /** Sends on this node's broadcast tree: to the distinct next hops of its row; relays follow their forward sets. */
  private treeBroadcast(kind: Kind, payload: Uint8Array): void {
    const row = this.mesh.nhTable[String(this.edge.me)] ?? {};
    for (const id of new Set(Object.values(row))) {
      const p = this.edge.peers.node(id);
      if (p?.endpoint) {
        this.controlBytesSent += payload.length + 8;
        this.edge.sendControl(p, kind, NODE_BROADCAST, this.cfg.DefaultTTL, payload);
      }
    }
  }

  /**
   * Test only: floods, under `victim`'s NodeID as header source, a report of a link from us into
   * `victim` 50 ms faster than light (which would pull traffic for it through us) and a description binding
   * `victim` to our key and a bogus endpoint, both signed with our own key (we have no other).
   */
  private spoof(victim: number): void {
    const sign = (m: Uint8Array) => this.signer.sign(this.priv, m);
    const seq = Math.floor(this.edge.clock.wallMs());
    const report = seal(Kind.Pong, { v: 1, Origin: victim, Seq: seq, AdditionalCost: 0, Links: [[this.edge.me, -0.05, this.dr.PeerAliveTimeout]] }, sign);
    const peer = seal(Kind.BroadcastPeer, { v: 1, Origin: victim, Seq: seq, PubKey: keyToBase64(publicKey(this.priv)), PSK: 'none', Endpoints: ['10.255.255.1:9'] }, sign);
    for (const [kind, payload] of [[Kind.Pong, report], [Kind.BroadcastPeer, peer]] as const) {
      const plain = new Uint8Array(HEADER_LEN + payload.length);
      writeHeader(plain, { kind, ttl: this.cfg.DefaultTTL, dst: NODE_SPREAD, src: victim, len: payload.length });
      plain.set(payload, HEADER_LEN);
      for (const p of this.edge.peers.all()) if (p.endpoint && p.nodeId !== victim) this.edge.host.sendTo(p, plain);
    }
  }

  private describe(kind: Kind.BroadcastPeer | Kind.QueryPeer): void {
    if (this.stopped) return;
    if (kind === Kind.QueryPeer) this.lastQuery = this.now;
    const { payload } = this.mesh.describe(kind, this.ownEndpoints(), this.edge.clock.wallMs());
    this.flood(kind, payload);
  }

  /** Solves if needed and installs a changed table into the data plane. */
  recalc(): void {
    if (this.stopped || this.dr.P2P.GraphRecalculateSetting.StaticMode) return;
    let t;
    try {
      t = this.mesh.solve(this.now);
    } catch (e) {
      return this.edge.log.error(`P2P route solve failed, keeping the previous table: ${(e as Error).message}`);
    }
    if (!t) return;
    this.edge.routes = new StaticRoutes(t);
    this.lastTableChange = this.now;
    const digest = createHash('sha256').update(JSON.stringify(t)).digest('hex').slice(0, 16);
    this.edge.log.cat('internal', 'p2p next-hop table updated', { row: t[String(this.edge.me)] ?? {}, digest, solves: this.mesh.solves });
  }

  // ---- receiving ------------------------------------------------------------------------------

  /** Control messages for this node (wired as Edge's onControl). */
  /**
   * Control messages for this node (wired as Edge's onControl). `rxTimeMs`: the datagram's
   * receive time in the ping clock (a kernel timestamp where the socket has one); default: now.
   */
  onControl(h: Header, payload: Uint8Array, from: Peer, rxTimeMs?: number): void {
    if (this.stopped) return;
    try {
      switch (h.kind) {
        case Kind.Ping:
          return this.onPing(decode.ping(payload), from, rxTimeMs ?? pingTimeMs(this.edge.clock));
        case Kind.Pong:
          return this.onReport(h, payload, from);
        case Kind.QueryPeer:
        case Kind.BroadcastPeer:
          return this.onPeer(h, payload, from);
        default:
          return this.edge.drop(`control kind ${h.kind} is not used in P2P mode`, { src: h.src, from: from.nodeId });
      }
    } catch (e) {
      this.edge.drop(`bad control message: ${(e as Error).message}`, { src: h.src, kind: h.kind });
    }
  }

  private dropped(d: Drop, from: Peer): void {
    const fields = { ...d.fields, from: from.nodeId };
    // Every node receives each flood once per neighbour that forwards it: the copies after the
    // first are expected, counted, and not worth an error-level drop summary every 10 s.
    if (d.reason === DUPLICATE) return this.edge.dropExpected(d.reason, fields);
    this.edge.drop(d.reason, fields);
    if (SECURITY.test(d.reason)) {
      const t = this.now;
      if (t - (this.lastSecurityLog.get(d.reason) ?? -Infinity) >= 5) {
        this.lastSecurityLog.set(d.reason, t);
        this.edge.log.error(`dropped a flooded message: ${d.reason}`, fields);
      }
    }
  }

  private onPing(m: ReturnType<typeof decode.ping>, from: Peer, rxTimeMs: number): void {
    const r = this.prober.measure(from.nodeId, m, rxTimeMs, this.now);
    if (!r.ok) return this.edge.drop(r.reason, { node: from.nodeId });
    this.edge.log.cat('control', 'ping measured', { from: from.nodeId, measuredS: r.measured, filteredS: r.filtered });
    for (let i = 0; i < m.RequestReply; i++) {
      const t = setTimeout(() => !this.stopped && this.ping(from, 0), i * 1000);
      t.unref();
    }
  }

  private onReport(h: Header, payload: Uint8Array, from: Peer): void {
    const r = this.mesh.acceptReport(h.src, payload, this.now);
    if (!r.ok) {
      this.dropped(r, from);
      // A member we have no key for: ask everyone to describe themselves (at most once per ping interval).
      if (r.reason.includes('unknown') && this.now - this.lastQuery >= Math.max(1, this.dr.SendPingInterval)) this.describe(Kind.QueryPeer);
      return;
    }
    this.reporting.add(r.body.Origin);
    this.recalc();
  }

  private onPeer(h: Header, payload: Uint8Array, from: Peer): void {
    const r = this.mesh.acceptPeer(h.kind, h.src, payload, this.now);
    if (!r.ok) return this.dropped(r, from);
    const n = r.news;
    this.reporting.add(n.origin);
    if (h.kind === Kind.QueryPeer && this.now - this.lastAnswer >= 1) {
      // Answer with our own description, at most once a second however many queries arrive.
      this.lastAnswer = this.now;
      this.describe(Kind.BroadcastPeer);
    }
    let p = this.edge.peers.node(n.origin);
    if (!p) {
      p = this.edge.host.addPeer(n.origin, n.key, undefined, {});
      this.edge.log.info(`P2P: discovered node ${n.origin}`, { endpoints: n.endpoints, via: from.nodeId });
    }
    if (this.cfg.Peers.some((c) => c.NodeID === n.origin)) return; // configured: its endpoint is the config's
    const d = this.discovered.get(n.origin) ?? { candidates: [], next: 0 };
    d.candidates = n.endpoints.filter((e) => this.usable(e));
    this.discovered.set(n.origin, d);
    if (!this.alive(p)) void this.tryEndpoints(p);
  }

  // ---- discovery: endpoints, connecting, saving -----------------------------------------------

  private usable(ep: string): boolean {
    try {
      const { host } = parseHostPort(ep);
      const v6 = host.includes(':');
      if (v6 ? this.cfg.DisabledAf.IPv6 : this.cfg.DisabledAf.IPv4) return false;
      return !insideVpn(this.cfg.Interface, host);
    } catch {
      return false;
    }
  }

  /** The underlay addresses this node listens on (not loopback, not link-local v6, not the VPN's own). */
  ownEndpoints(): string[] {
    const port = this.edge.host.port;
    const out = underlayAddresses(this.edge.iface?.name, this.cfg.Interface, this.cfg.DisabledAf).map((a) =>
      a.family === 4 ? `${a.address}:${port}` : `[${a.address}]:${port}`,
    );
    // Only loopback (tests, one host): offer it, so members on this host can still connect.
    if (out.length === 0 && !this.cfg.DisabledAf.IPv4) out.push(`127.0.0.1:${port}`);
    return out.slice(0, 64);
  }

  /** For discovered peers that are not alive: the next candidate endpoint, and a ping asking for replies. */
  private async tryEndpoints(only?: Peer): Promise<void> {
    if (this.stopped) return;
    for (const p of only ? [only] : [...this.edge.peers.all()]) {
      const d = this.discovered.get(p.nodeId);
      if (!d || d.candidates.length === 0 || this.alive(p)) continue;
      const url = d.candidates[d.next++ % d.candidates.length];
      try {
        p.endpoint = await resolveEndpoint(url, this.cfg.AfPrefer, { v4: !this.cfg.DisabledAf.IPv4, v6: !this.cfg.DisabledAf.IPv6 });
        this.edge.log.cat('internal', 'trying endpoint', { node: p.nodeId, url });
        this.ping(p, 1);
      } catch (e) {
        this.edge.log.error(`peer ${p.nodeId}: cannot use endpoint ${url}: ${(e as Error).message}`);
      }
    }
    this.edge.host.kick();
  }

  /** Per tick: save newly working discovered peers; say once when a live peer never reports. */
  private watchPeers(): void {
    const now = this.now;
    for (const p of this.edge.peers.all()) {
      const d = this.discovered.get(p.nodeId);
      if (d && this.alive(p) && p.endpoint) {
        const ep = formatEndpoint(p.endpoint);
        if (d.savedEndpoint !== ep) {
          d.savedEndpoint = ep;
          if (this.dr.SaveNewPeers) void this.save(p, ep);
        }
      }
      if (!this.alive(p)) continue;
      if (!this.firstAlive.has(p.nodeId)) this.firstAlive.set(p.nodeId, now);
      const first = this.firstAlive.get(p.nodeId)!;
      // Every P2P member floods a report per ping interval and a description per SendPeerInterval.
      const grace = 3 * Math.max(this.dr.SendPingInterval, 1) + this.dr.P2P.SendPeerInterval;
      if (now - first > grace && !this.reporting.has(p.nodeId) && !this.warnedSilent.has(p.nodeId)) {
        this.warnedSilent.add(p.nodeId);
        this.edge.log.info(
          `peer ${p.nodeId} has a live session but floods no P2P reports or description: it is probably in super or static mode. A P2P mesh needs every member in P2P mode; no route leads into node ${p.nodeId} until it reports`,
        );
      }
    }
  }

  /** SaveNewPeers: adds (or updates the endpoint of) a discovered peer in the config's Peers. */
  private save(p: Peer, endpoint: string): Promise<void> {
    const key = keyToBase64(p.publicKey);
    return this.writer.update(`SaveNewPeers: node ${p.nodeId}`, (doc: Document) => {
      let peers = doc.get('Peers');
      if (!isSeq(peers)) {
        doc.set('Peers', doc.createNode([]));
        peers = doc.get('Peers');
      }
      if (!isSeq(peers)) throw new Error('Peers is not a list');
      const existing = peers.items.find((it) => isMap(it) && Number((it as YAMLMap).get('NodeID')) === p.nodeId) as YAMLMap | undefined;
      if (existing) {
        if (existing.get('PubKey') !== key) return; // a configured peer of that id: never replaced
        existing.set('EndPoint', endpoint);
        return;
      }
      peers.items.push(doc.createNode({ NodeID: p.nodeId, PubKey: key, PSKey: '', EndPoint: endpoint, PersistentKeepalive: 0, Static: false }) as YAMLMap);
    }).then(() => this.edge.log.cat('internal', 'SaveNewPeers: peer written to the config', { node: p.nodeId, endpoint }));
  }

  /** Filtered one-way latency (s) to this edge per measured peer (metrics). */
  latencies(): Map<number, number> {
    return this.prober.latencies();
  }

  /** Peers whose latency filter has not filled its window yet (Prober.settling). */
  settling(): Set<number> {
    return this.prober.settling();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) t.cancel();
  }
}
