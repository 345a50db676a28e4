// The supernode (`-mode super`): two WireGuard hosts on one UDP port (IPv4 with PrivKeyV4, IPv6
// with PrivKeyV6) that accept only Register and Pong from configured edges, the route graph,
// the state hashes and their push loop, and the HTTP edge/manage APIs. It never relays data.
import type { FastifyInstance } from 'fastify';
import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';
import type { SuperConfig, SuperPeerInfo } from '../config/index.js';
import { publicKeyOf } from '../config/index.js';
import { keyFromBase64, type WgTimers } from '../core/wg.js';
import { HEADER_LEN, Kind, NODE_SUPER, isSpecial, readHeader } from '../core/frame.js';
import type { Logger } from '../shared/log.js';
import { postScriptEnv, runPostScript } from '../shared/postscript.js';
import { PACKAGE_VERSION } from '../paths.js';
import {
  Action, checkLinkItem, checkReportPong, decode, ProtoError, type NodeInfoReportIn, type PeerInfoBody, type PongMsg, type RefusedItem, type RegisterMsg, type ReportResult,
  type SuperParamsBody,
} from '../proto/control.js';
import { realScheduler, type Scheduler } from '../scheduler.js';
import { startUapi, type UapiHandle } from '../uapi/server.js';
import type { SuperSnapshot } from '../metrics/snapshot.js';
import { statusPeer, type StatusNode } from '../status/json.js';
import { everySec, type Timer } from '../timer.js';
import { ClockWatch, type ClockView } from './clockwatch.js';
import { systemClock, type Clock } from '../wgnode/clock.js';
import { formatEndpoint, resolveEndpoint } from '../wgnode/endpoint.js';
import { WgHost } from '../wgnode/host.js';
import type { Peer } from '../wgnode/peers.js';
import { AuthLimiter } from './auth.js';
import { EtcdStore } from './etcd-store.js';
import { FileStore, type SuperStore } from './store.js';
import { registerEdgeApi, registerManageApi } from './api/index.js';
import { EdgeApiService } from './edge-api.js';
import { ManageService } from './manage.js';
import { boundUrl, makeApp, normPrefix, parseListen, sameListen, type Listen } from '../shared/http.js';
import { pendingUpdates, serverUpdateFrame } from './push.js';
import { RouteState } from './routes.js';
import { Warmup, type WarmupEdge } from './warmup.js';
import {
  effectiveAcMs, newEdgeRec, newSalt, PairPsks, peerInfoFor, publicEdges, splitLocalMap, stateHash, superParamsFor, versionCore,
  type EdgeRec, type PublicEdge,
} from './state.js';

export interface SupernodeOptions {
  /** The config file, rewritten after manage-API changes (none: changes stay in memory). */
  configPath?: string;
  log: Logger;
  clock?: Clock;
  /** Open the `${NodeName}_v4` / `_v6` UAPI sockets (default true). */
  uapi?: boolean;
  timers?: WgTimers;
  /** Shutdown notices on peer/del: how many and how far apart (default 10 × 100 ms). */
  shutdownNotices?: { count: number; intervalMs: number };
  /**
   * Timers of the control logic (the coalesced route check after reports); default Node's.
   * The simulator (sim/) runs the supernode's core in virtual time through it.
   */
  scheduler?: Scheduler;
}

/**
 * Route checks after link reports are coalesced: at most one per this fraction of
 * SendPingInterval (and at most every 0.2 s), so the supernode's work per interval is one pass
 * per report over its links plus a bounded number of checks, not a check per link or report.
 */
const CHECK_COALESCE = 0.1;

/** GET {prefix}/manage/super/state. */
export interface HttpState {
  /** NodeID → name and the wall-clock time of its last Register / report (ISO 8601, "" = never). */
  PeerInfo: Record<string, { Name: string; LastSeen: string }>;
  /**
   * The number that means "no edge" / "unreachable" in Edges, Edges_Nh, Dist and Dist_noAC:
   * upstream's 99999, unless a measured value (which carries clock offsets) reaches it; then the
   * smallest 999…9 above every value in this document. Compare with this field, not a constant.
   */
  Infinity: number;
  /** Edges[src][dst]: current one-way latency (s) without AC, as measured (clock offsets included); `Infinity` if none or expired. */
  Edges: Record<string, Record<string, number>>;
  /** Weights (s, with AC) the last route solve used. */
  Edges_Nh: Record<string, Record<string, number>>;
  NhTable: Record<string, Record<string, number>>;
  Dist: Record<string, Record<string, number>>;
  Dist_noAC: Record<string, Record<string, number>>;
  /** Our addition: per-edge status. */
  Status: Record<string, PeerStatus>;
  /** Our addition: clock offset and drift per node and node pair (ts/super/clockwatch.ts, docs/supernode.md). */
  Clocks: ClockView;
}

export interface PeerStatus {
  Alive: boolean;
  /** Seconds since LastSeen, -1 = never. */
  LastSeenAgo: number;
  ExternalV4: string;
  ExternalV6: string;
  LocalV4s: Record<string, number>;
  LocalV6s: Record<string, number>;
  /** Whether the edge holds the current PeerInfo / NhTable / SuperParams state. */
  Synced: { PeerInfo: boolean; NhTable: boolean; SuperParams: boolean };
}

const FAMILIES = [4, 6] as const;
type Fam = (typeof FAMILIES)[number];

export class Supernode {
  readonly log: Logger;
  readonly clock: Clock;
  readonly edges = new Map<number, EdgeRec>();
  readonly routes: RouteState;
  /** Clock offset / drift estimates from the measured latencies (never used for routing). */
  readonly clocks: ClockWatch;
  readonly psks = new PairPsks();
  readonly limiter = new AuthLimiter();
  /** Holds PeerInfo/NhTable notices back after a restart until the edges re-reported (warmup.ts). */
  readonly warmup = new Warmup();
  /** Durable state: the config file (FileStore, today's ConfigWriter), or the etcd cluster of config key Etcd (EtcdStore). */
  readonly writer: SuperStore;
  readonly prefix: string;
  private salt = newSalt();
  private readonly hosts: { 4?: WgHost; 6?: WgHost } = {};
  private readonly ownPubs: { 4: string; 6: string };
  private apps: FastifyInstance[] = [];
  private edgeUrl = '';
  private manageUrl = '';
  private timers: Timer[] = [];
  private uapis: UapiHandle[] = [];
  private lastForce = 0;
  private lastPeerHash = '';
  private stateCache?: { at: number; state: HttpState };
  /** The public peer list and its hash, until something it depends on changes (peerDirty). */
  private peerCache?: { hash: string; edges: PublicEdge[] };
  private readonly sched: Scheduler;
  private checkTimer?: { cancel(): void };
  /** Control-plane counters since start: UDP messages and items (simulator, benchmarks). */
  readonly controlStats = { registers: 0, pongs: 0, linkReports: 0, links: 0, checks: 0 };
  private started = false;
  private stopped = false;

  constructor(
    readonly cfg: SuperConfig,
    private readonly o: SupernodeOptions,
  ) {
    this.log = o.log;
    this.clock = o.clock ?? systemClock();
    this.sched = o.scheduler ?? realScheduler;
    this.prefix = normPrefix(cfg.API_Prefix);
    this.writer = cfg.Etcd
      ? new EtcdStore(cfg.Etcd, cfg.NodeName, o.configPath, (m) => this.log.error(m), (m) => this.log.info(m))
      : new FileStore(o.configPath, (m) => this.log.error(m));
    // Pair PSKs and the state-hash salt stable across restarts: random per process, every edge
    // pair rekeyed (and lost frames) whenever the supernode restarted, and every edge pulled every
    // state again though nothing had changed. Derived from its own private keys, which whoever
    // could read them could use to hand out PSKs anyway; several supernodes on one etcd prefix
    // replace both with their shared secret (useSharedSecret).
    const ownKeys = [cfg.PrivKeyV4, cfg.PrivKeyV6].filter((k) => k !== '').join(' ');
    if (ownKeys) {
      this.psks.seed = createHmac('sha256', ownKeys).update('etherguard edge pair psk seed').digest();
      this.salt = createHmac('sha256', ownKeys).update('etherguard state hash salt').digest('hex');
    }
    this.routes = new RouteState(cfg.GraphRecalculateSetting, cfg.NextHopTable, this.salt, (m) => this.log.error(m));
    this.routes.settleS = (2 * Math.max(0, cfg.DampingFilterRadius) + 2) * cfg.SendPingInterval;
    this.clocks = new ClockWatch({
      limitPpm: cfg.ClockDriftLimitPpm ?? 500,
      onFlag: (_n, _f, detail) => this.log.info(detail),
      onEstimate: (e) => this.log.cat('control', 'clock estimate', { a: e.A, b: e.B, offsetMs: e.OffsetMs, driftPpm: e.DriftPpm, rttMs: e.RttMs }),
    });
    this.ownPubs = {
      4: this.famEnabled(4) ? publicKeyOf(cfg.PrivKeyV4) : '',
      6: this.famEnabled(6) ? publicKeyOf(cfg.PrivKeyV6) : '',
    };
  }

  famEnabled(f: Fam): boolean {
    const key = f === 4 ? this.cfg.PrivKeyV4 : this.cfg.PrivKeyV6;
    return !this.cfg.DisabledAf[f === 4 ? 'IPv4' : 'IPv6'] && key !== '';
  }

  /**
   * Several supernodes on one etcd prefix (ts/super/etcd-store.ts): a secret they share makes the
   * state-hash salt and the pair PSKs the same on each, so the same inputs publish the same
   * hashes and an edge can take its state from any of them.
   */
  useSharedSecret(secret: Buffer): void {
    this.salt = createHmac('sha256', secret).update('state hash salt').digest('hex');
    this.routes.setSalt(this.salt);
    this.psks.seed = secret;
    this.peerDirty();
    this.stateCache = undefined;
  }

  /** The supernode's public keys per family ("" when that family is off). */
  publicKeys(): { 4: string; 6: string } {
    return { ...this.ownPubs };
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.started) throw new Error('already started');
    this.started = true;
    const cfg = this.cfg;
    if (!this.famEnabled(4) && !this.famEnabled(6)) throw new Error('both address families are disabled (or have no private key)');
    let port = cfg.ListenPort;
    for (const f of FAMILIES) {
      if (!this.famEnabled(f)) continue;
      const h = new WgHost({
        privateKey: f === 4 ? cfg.PrivKeyV4 : cfg.PrivKeyV6,
        port,
        v4: f === 4,
        v6: f === 6,
        listenV4: cfg.DisabledAf.ListenIPv4,
        listenV6: cfg.DisabledAf.ListenIPv6,
        fwmark: cfg.FwMark,
        clock: this.clock,
        timers: this.o.timers,
        log: {
          internal: (m, x) => this.log.cat('internal', m, { af: f, ...x }),
          error: (m, x) => this.log.error(m, { af: f, ...x }),
          debug: (m, x) => this.log.debug(m, { af: f, ...x }),
          drop: (r, x) => this.log.drop(r, { af: f, ...x }),
        },
        onPlaintext: (plain, from) => this.onUdp(f, plain, from),
      });
      this.hosts[f] = h;
      try {
        await h.open();
      } catch (e) {
        throw new Error(`cannot bind UDP port ${port} (IPv${f}): ${(e as Error).message}`);
      }
      port = h.port; // ListenPort 0 (tests): the second family takes the first one's port
    }
    // With etcd the shared state replaces the file's peers, passwords and settings before any edge exists.
    if (this.writer instanceof EtcdStore && (await this.writer.open(this)) && this.routes.staticMode) this.routes.setStatic(cfg.NextHopTable);
    for (const p of cfg.Peers) await this.addEdge(p);
    this.routes.check(this.clock.now());
    this.warmup.configure(cfg.PeerAliveTimeout, cfg.SendPingInterval);

    await this.startHttp();

    if (this.o.uapi !== false) {
      for (const f of FAMILIES) {
        const h = this.hosts[f];
        if (h) {
          const status = (): StatusNode => ({ NodeName: cfg.NodeName, NodeID: NODE_SUPER, peers: h.peerCounters(cfg.PeerAliveTimeout).map((p) => statusPeer(p, undefined)), nextHops: {}, role: 'super' });
          this.uapis.push(await startUapi(`${cfg.NodeName}_v${f}`, { ...h.uapiDevice(cfg.FwMark), status }, (m) => this.log.error(m)));
        }
      }
    }
    if (cfg.PostScript) runPostScript(cfg.PostScript, postScriptEnv('super', cfg.NodeName, NODE_SUPER));

    this.every(1, () => this.pushAll());
    this.every(cfg.GraphRecalculateSetting.TimeoutCheckInterval, () => this.checkRoutes());
    if (cfg.ResetEndPointInterval > 0.01) this.every(cfg.ResetEndPointInterval, () => void this.reresolve());
    this.lastForce = this.clock.now();
    // The bound address (`*:3000` for every address), not edgeUrl, which is the loopback URL to dial.
    this.log.info(`supernode ${cfg.NodeName} up: udp port ${this.udpPort}, edge API ${boundUrl(this.apps[0], !!cfg.HttpTLS)}${this.manageUrl ? `, manage API ${boundUrl(this.apps[this.apps.length - 1], !!cfg.HttpTLS)}` : ''}, ${this.edges.size} peer(s)`);
  }

  private every(sec: number, f: () => void): void {
    this.timers.push(everySec(Math.max(sec, 0.01), () => {
      if (!this.stopped) f();
    }));
  }

  get udpPort(): number {
    return (this.hosts[4] ?? this.hosts[6])?.port ?? 0;
  }

  /** Base URL of the edge API server (without API_Prefix), e.g. http://127.0.0.1:3000. */
  httpAddress(): string {
    return this.edgeUrl;
  }

  /** Base URL of the manage API server ("" when it is disabled). */
  manageAddress(): string {
    return this.manageUrl;
  }

  private async startHttp(): Promise<void> {
    const cfg = this.cfg;
    const scheme = cfg.HttpTLS ? 'https' : 'http';
    const onInternal = (e: Error) => this.log.error(`HTTP handler failed: ${e.stack ?? e.message}`);
    const listen = async (app: FastifyInstance, l: Listen, key: string): Promise<string> => {
      let addr: string;
      try {
        if (l.host !== undefined) addr = await app.listen({ port: l.port, host: l.host });
        else {
          try {
            addr = await app.listen({ port: l.port, host: '::' });
          } catch {
            addr = await app.listen({ port: l.port, host: '0.0.0.0' });
          }
        }
      } catch (e) {
        // Name the config key: "EADDRINUSE 0.0.0.0:3756" alone does not say which API it was.
        const err = e as NodeJS.ErrnoException;
        const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
        throw new Error(`cannot serve the ${key === 'ListenPort_EdgeAPI' ? 'edge' : 'manage'} API on ${l.host ?? '*'}:${l.port} (${key}): ${why}`);
      }
      const a = app.server.address();
      if (a && typeof a === 'object') {
        const host = a.address === '::' || a.address === '0.0.0.0' ? '127.0.0.1' : a.address;
        return `${scheme}://${isIP(host) === 6 ? `[${host}]` : host}:${a.port}`;
      }
      return addr;
    };
    const edgeApp = makeApp(cfg.HttpTLS, onInternal);
    registerEdgeApi(edgeApp, this.prefix, new EdgeApiService(this));
    this.apps.push(edgeApp);
    let manageApp: FastifyInstance | undefined;
    const m = cfg.ListenPort_ManageAPI;
    if (m !== '') {
      if (sameListen(m, cfg.ListenPort_EdgeAPI)) manageApp = edgeApp;
      else {
        manageApp = makeApp(cfg.HttpTLS, onInternal);
        this.apps.push(manageApp);
      }
      registerManageApi(manageApp, this.prefix, new ManageService(this), this);
      await this.mountPlayground(manageApp);
      await this.mountDashboard(manageApp);
    }
    this.edgeUrl = await listen(edgeApp, parseListen(cfg.ListenPort_EdgeAPI), 'ListenPort_EdgeAPI');
    if (manageApp === edgeApp) this.manageUrl = this.edgeUrl;
    else if (manageApp) this.manageUrl = await listen(manageApp, parseListen(m), 'ListenPort_ManageAPI');
  }

  private async mountPlayground(app: FastifyInstance): Promise<void> {
    try {
      const { servePlayground } = await import('../webserve/serve.js');
      await servePlayground(app, `${this.prefix}/playground`);
    } catch (e) {
      this.log.debug(`route playground not mounted: ${(e as Error).message}`);
    }
  }

  /** The live dashboard at {prefix}/dashboard/ (ts/dashboard/plugin.ts), same auth as the state API. */
  private async mountDashboard(app: FastifyInstance): Promise<void> {
    try {
      const { registerDashboard } = await import('../dashboard/plugin.js');
      await registerDashboard(app, this.prefix, this);
    } catch (e) {
      this.log.debug(`dashboard not mounted: ${(e as Error).message}`);
    }
  }

  /** Liveness, measured links and route counters for the metrics (ts/metrics/snapshot.ts). */
  metricsSnapshot(): SuperSnapshot {
    const now = this.clock.now();
    return {
      nodeName: this.cfg.NodeName,
      edges: [...this.edges.values()]
        .filter((r) => !r.removing)
        .map((r) => ({ nodeId: r.conf.NodeID, name: r.conf.Name, up: this.alive(r) }))
        .sort((a, b) => a.nodeId - b.nodeId),
      links: this.routes.measuredLinks(now).map(([from, to, latencyS]) => ({ from, to, latencyS })),
      recalculations: this.routes.recalculations,
      nextHopChanges: this.routes.history.changes,
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    this.checkTimer?.cancel();
    // The etcd store closes first and in about a second whatever etcd's state (EtcdStore.close):
    // its closing fails the etcd calls a manage request in flight waits on, so closing the
    // HTTP servers (which waits for those requests) does not wait on an etcd that is gone.
    const store = this.writer instanceof EtcdStore ? this.writer.close() : this.writer.flush();
    await Promise.all(this.apps.map((a) => a.close().catch(() => undefined)));
    for (const u of this.uapis) await u.close().catch(() => undefined);
    for (const f of FAMILIES) this.hosts[f]?.close();
    await store;
    this.routes.free();
  }

  // ---- edges --------------------------------------------------------------------------------

  /** Adds a configured edge (start, peer/add): WG peers on both hosts, graph vertex. */
  async addEdge(conf: SuperPeerInfo): Promise<EdgeRec> {
    const rec = newEdgeRec(conf);
    const pub = keyFromBase64(conf.PubKey);
    const psk = conf.PSKey ? keyFromBase64(conf.PSKey) : undefined;
    for (const f of FAMILIES) {
      const h = this.hosts[f];
      if (!h) continue;
      const p = h.addPeer(conf.NodeID, pub, psk, { endpoint: conf.EndPoint || undefined, isStatic: conf.EndPoint !== '' });
      rec.wg[f] = p;
    }
    this.edges.set(conf.NodeID, rec);
    this.peerDirty();
    this.routes.addNode(conf.NodeID);
    if (conf.EndPoint) await this.resolveStatic(rec);
    return rec;
  }

  private async resolveStatic(rec: EdgeRec): Promise<void> {
    for (const f of FAMILIES) {
      const p = rec.wg[f];
      if (!p || !rec.conf.EndPoint) continue;
      try {
        p.endpoint = await resolveEndpoint(rec.conf.EndPoint, f, { v4: f === 4, v6: f === 6 });
      } catch (e) {
        this.log.debug(`peer ${rec.conf.NodeID}: EndPoint ${rec.conf.EndPoint} has no IPv${f} address: ${(e as Error).message}`);
      }
    }
  }

  private async reresolve(): Promise<void> {
    for (const rec of this.edges.values()) if (rec.conf.EndPoint && !this.alive(rec)) await this.resolveStatic(rec);
  }

  /**
   * Removes an edge (peer/del): Shutdown notices first (Code 2, ENOENT), then its WG peers, its
   * graph vertex and its pair PSKs. The record leaves the API at once.
   */
  async removeEdge(id: number): Promise<boolean> {
    const rec = this.edges.get(id);
    if (!rec || rec.removing) return false;
    rec.removing = true;
    const n = this.o.shutdownNotices ?? { count: 10, intervalMs: 100 };
    const frame = serverUpdateFrame(id, Action.Shutdown, 2, "You've been removed from supernode.");
    for (let i = 0; i < n.count && !this.stopped; i++) {
      this.sendBoth(rec, frame);
      if (i + 1 < n.count) await new Promise((r) => setTimeout(r, n.intervalMs));
    }
    for (const f of FAMILIES) {
      const p = rec.wg[f];
      if (p) this.hosts[f]?.removePeer(p);
    }
    this.edges.delete(id);
    this.peerDirty();
    this.routes.removeNode(id);
    this.clocks.forget(id);
    this.psks.drop(id);
    const i = this.cfg.Peers.findIndex((p) => p.NodeID === id);
    if (i >= 0) this.cfg.Peers.splice(i, 1);
    this.stateCache = undefined;
    this.checkRoutes();
    this.pushAll();
    return true;
  }

  alive(rec: EdgeRec): boolean {
    return this.clock.now() - rec.lastSeen < this.cfg.PeerAliveTimeout;
  }

  /** Sends on every session of the edge that has an endpoint. */
  private sendBoth(rec: EdgeRec, plain: Uint8Array): void {
    for (const f of FAMILIES) {
      const p = rec.wg[f];
      if (p?.endpoint) this.hosts[f]?.sendTo(p, plain);
    }
  }

  // ---- state hashes -------------------------------------------------------------------------

  /**
   * The global peer list and its hash. Cached: rebuilt (O(N)) only after something it shows
   * changed (peerDirty: an edge added, removed, coming alive or dying, a new endpoint or local
   * address, a peer/update), not for every Register of every edge.
   */
  peerState(): { hash: string; edges: PublicEdge[] } {
    if (this.peerCache) return this.peerCache;
    for (const r of this.edges.values()) r.aliveSeen = this.alive(r);
    const edges = publicEdges(this.edges.values(), (r) => r.aliveSeen === true);
    return (this.peerCache = { hash: stateHash(JSON.stringify(edges), this.salt), edges });
  }

  /** Something the public peer list shows has changed: rebuild it on next use. */
  peerDirty(): void {
    this.peerCache = undefined;
  }

  /** Marks the peer list dirty when an edge came alive or died since the list was built (O(N)). */
  private sweepAlive(): void {
    for (const r of this.edges.values()) if (r.aliveSeen !== this.alive(r)) return this.peerDirty();
  }

  peerInfoBody(rec: EdgeRec, edges: PublicEdge[]): PeerInfoBody {
    return peerInfoFor(rec.conf, edges, this.cfg.UsePSKForInterEdge ? (a, b) => this.psks.get(a, b) : undefined);
  }

  paramsState(rec: EdgeRec): { hash: string; body: SuperParamsBody } {
    const body = superParamsFor(this.cfg, rec.conf);
    return { hash: stateHash(JSON.stringify(body), this.salt), body };
  }

  // ---- push ---------------------------------------------------------------------------------

  /** `open`: PeerInfo and NhTable may be announced (publishing()); SuperParams always may. */
  private pushEdge(rec: EdgeRec, peerHash: string, forceNh: boolean, open: boolean): void {
    if (rec.removing || !this.alive(rec)) return;
    const cur = open ? { peer: peerHash, nh: this.routes.hash } : { peer: rec.acked.peer, nh: rec.acked.nh };
    for (const u of pendingUpdates(rec, { ...cur, params: this.paramsState(rec).hash }, forceNh && open)) {
      this.sendBoth(rec, serverUpdateFrame(rec.conf.NodeID, u.action, 0, u.hash));
    }
  }

  /** The 1-s loop (and after changes): notices to alive edges that lack a state; forced NhTable every RePushConfigInterval. */
  pushAll(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    const force = now - this.lastForce >= this.cfg.RePushConfigInterval;
    if (force) this.lastForce = now;
    this.sweepAlive();
    const open = this.publishing();
    const peerHash = this.peerState().hash;
    this.lastPeerHash = peerHash;
    for (const rec of this.edges.values()) this.pushEdge(rec, peerHash, force, open);
  }

  private *warmupEdges(): Iterable<WarmupEdge> {
    for (const r of this.edges.values()) if (!r.removing) yield { id: r.conf.NodeID, alive: this.alive(r) };
  }

  /**
   * Whether PeerInfo and NhTable may be announced (false while a restarted supernode warms up,
   * ts/super/warmup.ts). The call that ends the warm-up solves first, so the first table
   * announced is solved from every reported link.
   */
  private publishing(): boolean {
    const was = this.warmup.phase;
    const open = this.warmup.publishing(this.clock.now(), this.warmupEdges());
    if (open && was === 'warming') {
      this.log.info(`restart warm-up over: ${[...this.warmupEdges()].filter((e) => e.alive).length} of ${this.edges.size} edge(s) registered again; announcing the peer list and next-hop table`);
      this.routes.check(this.clock.now());
      this.stateCache = undefined;
      this.sched.after(0, () => this.pushAll());
    }
    return open;
  }

  /** Re-solves when the hysteresis asks for it (also expiry); pushes a changed table. */
  checkRoutes(): void {
    if (this.stopped) return;
    // While warming up, links arrive edge by edge: solving then would only cost the cooldown
    // (publishing() solves when the warm-up ends, and pushes).
    if (this.warmup.phase === 'warming') return void this.publishing();
    if (this.routes.check(this.clock.now())) {
      this.log.cat('control', 'next-hop table changed', { hash: this.routes.hash });
      this.pushAll();
    }
  }

  /** After SuperParams changes (peer/update, super/update). */
  paramsChanged(): void {
    this.stateCache = undefined;
    this.peerDirty(); // peer/update may change SkipLocalIP
    this.pushAll();
  }

  /**
   * A route check soon (coalesced, CHECK_COALESCE): after link reports, so N reports per
   * interval cost N passes over their own links and a few checks, not N checks.
   */
  private scheduleCheck(): void {
    if (this.checkTimer || this.stopped) return;
    const delay = Math.min(0.2, CHECK_COALESCE * this.cfg.SendPingInterval);
    this.checkTimer = this.sched.after(delay, () => {
      this.checkTimer = undefined;
      this.checkRoutes();
    });
  }

  // ---- UDP ----------------------------------------------------------------------------------

  /**
   * A decrypted plaintext from a configured edge's session (what the WireGuard host hands us);
   * public as the seam the simulator drives the supernode's core through.
   */
  receive(fam: 4 | 6, plain: Uint8Array, from: Peer): void {
    this.onUdp(fam, plain, from);
  }

  private onUdp(fam: Fam, plain: Uint8Array, from: Peer): void {
    const h = readHeader(plain);
    if (!h) return this.log.drop('malformed Etherguard header', { from: from.nodeId, af: fam });
    if (h.dst !== NODE_SUPER || (h.kind !== Kind.Register && h.kind !== Kind.Pong)) {
      return this.log.drop(`supernode accepts only Register/Pong to ${NODE_SUPER}`, { kind: h.kind, dst: h.dst, from: from.nodeId });
    }
    if (h.src !== from.nodeId) return this.log.drop(`header src ${h.src} is not the sending peer ${from.nodeId}`, { kind: h.kind });
    const rec = this.edges.get(from.nodeId);
    if (!rec || rec.removing) return this.log.drop('message from a removed peer', { from: from.nodeId });
    const payload = plain.slice(HEADER_LEN, HEADER_LEN + h.len);
    try {
      if (h.kind === Kind.Register) this.onRegister(fam, rec, decode.register(payload), from);
      else {
        const m = decode.pongOrReport(payload);
        if ('pong' in m) this.onPong(rec, m.pong);
        else this.onLinkReport(rec, m.report);
      }
    } catch (e) {
      if (e instanceof ProtoError) return this.log.drop(`bad control message: ${e.message}`, { from: from.nodeId, kind: h.kind });
      throw e;
    }
  }

  private onRegister(fam: Fam, rec: EdgeRec, m: RegisterMsg, from: Peer): void {
    const id = rec.conf.NodeID;
    if (m.NodeID !== id) return this.log.drop(`Register claims NodeID ${m.NodeID} but came from peer ${id}`, { from: id });
    if (versionCore(m.Version) !== versionCore(PACKAGE_VERSION)) {
      this.log.error(`peer ${id}: version mismatch (edge ${m.Version}, supernode ${PACKAGE_VERSION})`);
      this.hosts[fam]?.sendTo(from, serverUpdateFrame(id, Action.ThrowError, 38, `version mismatch: edge ${m.Version}, supernode ${PACKAGE_VERSION}`));
      return;
    }
    const secret = Buffer.from(m.JWTSecret, 'base64');
    if (secret.length !== 32) return this.log.drop('Register JWTSecret is not 32 bytes', { from: id });
    const now = this.clock.now();
    const wasAlive = this.alive(rec);
    this.controlStats.registers++;
    if (!wasAlive) this.peerDirty();
    rec.lastSeen = now;
    rec.lastSeenWall = this.clock.wallMs();
    // A new secret is a new edge process (counts restart); the same one never lowers the floor.
    rec.postCount = rec.secret && rec.secret.equals(secret) ? Math.max(rec.postCount, m.HttpPostCount) : m.HttpPostCount;
    rec.secret = secret;
    rec.acked = { peer: m.PeerStateHash, nh: m.NhStateHash, params: m.SuperParamStateHash };
    this.warmup.registered(m.PeerStateHash !== '', now);
    const ep = from.endpoint ? formatEndpoint(from.endpoint) : undefined;
    if (ep !== rec.ext[fam]) {
      this.log.cat('control', 'edge endpoint', { node: id, af: fam, endpoint: ep ?? '' });
      rec.ext[fam] = ep;
      this.peerDirty();
    }
    if (!wasAlive) this.log.cat('control', 'edge registered', { node: id, version: m.Version });
    if (!wasAlive) this.stateCache = undefined;
    // A changed peer list goes to everyone at once; otherwise only this edge gets what it lacks.
    const peerHash = this.peerState().hash;
    if (peerHash !== this.lastPeerHash) this.pushAll();
    else this.pushEdge(rec, peerHash, false, this.publishing());
  }

  /**
   * Applies one schema-valid pong (UDP, or one item of a report) measured by `rec`. Returns
   * null, or why it was refused: `[kind, detail]`, the kind being a fixed text to count drops by.
   */
  private applyPong(rec: EdgeRec, p: Pick<PongMsg, 'Src' | 'Dst' | 'Timediff' | 'TimeToAlive' | 'AdditionalCost'>, now: number): [string, string] | null {
    const id = rec.conf.NodeID;
    if (p.Dst !== id) return ['Pong Dst is not the reporting edge', `Dst ${p.Dst} is not the reporting edge ${id}`];
    if (p.Src === id) return ['Pong Src is the reporting edge itself', `Src ${p.Src} is the reporting edge itself`];
    const src = this.edges.get(p.Src);
    if (isSpecial(p.Src) || !src || src.removing) return ['Pong Src is not a peer', `Src ${p.Src} is not a peer of this supernode`];
    this.routes.applyPong(p.Src, p.Dst, p.Timediff, effectiveAcMs(rec.conf.AdditionalCost, p.AdditionalCost), p.TimeToAlive, now);
    this.warmup.reportedBy(id);
    this.clocks.observe(p.Src, p.Dst, p.Timediff, now);
    return null;
  }

  private onPong(rec: EdgeRec, m: PongMsg): void {
    const id = rec.conf.NodeID;
    this.controlStats.pongs++;
    const why = this.applyPong(rec, m, this.clock.now());
    if (why) return this.log.drop(why[0], { from: id, reason: why[1] });
    this.log.cat('control', 'pong', { src: m.Src, dst: m.Dst, latency: m.Timediff });
    this.scheduleCheck();
  }

  /**
   * A LinkReport (kind 8 with `Links`, docs/control.md): every incoming link of the reporting
   * edge. The message is refused whole only when its Dst is not the edge that sent it; each
   * link is an item of its own (a bad one is counted as `report item refused: <rule>`, the
   * others applied). Then one coalesced route check (scheduleCheck).
   */
  private onLinkReport(rec: EdgeRec, m: { Dst: number; AdditionalCost: number; Links: unknown[] }): void {
    const id = rec.conf.NodeID;
    if (m.Dst !== id) return this.log.drop('LinkReport Dst is not the sending edge', { from: id, dst: m.Dst });
    this.controlStats.linkReports++;
    const now = this.clock.now();
    let applied = 0;
    for (let i = 0; i < m.Links.length; i++) {
      const l = checkLinkItem(m.Links[i]);
      if (typeof l === 'string') {
        this.log.drop(`report item refused: ${l}`, { from: id, item: `Links/${i}` });
        continue;
      }
      const why = this.applyPong(rec, { Src: l[0], Dst: id, Timediff: l[1], TimeToAlive: l[2], AdditionalCost: m.AdditionalCost }, now);
      if (why) this.log.drop(`report item refused: ${why[0]}`, { from: id, item: `Links/${i}`, reason: why[1] });
      else applied++;
    }
    this.controlStats.links += applied;
    // A report is every incoming link of its edge, so an empty one counts for the warm-up too.
    this.warmup.reportedBy(id);
    if (applied > 0 || this.warmup.phase === 'warming') this.scheduleCheck();
  }

  /**
   * An accepted, verified report (http-edge.ts has checked the signature, the count and the
   * frame). Each pong and each local address is an item of its own: the valid ones are applied,
   * each refused one is counted as a drop (reason = the rule) and listed in the answer, so one
   * bad item never discards the others (docs/control.md).
   */
  applyReport(rec: EdgeRec, postCount: number, r: NodeInfoReportIn): ReportResult {
    const now = this.clock.now();
    const id = rec.conf.NodeID;
    const refused: RefusedItem[] = [];
    const refuse = (item: string, kind: string, reason: string) => {
      refused.push({ Item: item, Reason: reason });
      this.log.drop(`report item refused: ${kind}`, { from: id, item, reason });
    };
    rec.postCount = postCount + 1;
    const wasAlive = this.alive(rec);
    rec.lastSeen = now;
    rec.lastSeenWall = this.clock.wallMs();
    const l4 = splitLocalMap(r.LocalV4s, 4);
    const l6 = splitLocalMap(r.LocalV6s, 6);
    for (const x of [...l4.refused, ...l6.refused]) refuse(x.Item, 'bad local address', x.Reason);
    // The peer list shows local addresses and liveness: only a change there is pushed to all.
    const peerChanged = !wasAlive || JSON.stringify(rec.local4) !== JSON.stringify(l4.good) || JSON.stringify(rec.local6) !== JSON.stringify(l6.good);
    rec.local4 = l4.good;
    rec.local6 = l6.good;
    if (peerChanged) this.peerDirty();
    let applied = 0;
    r.Pongs.forEach((item, i) => {
      let p;
      try {
        p = checkReportPong(item);
      } catch (e) {
        if (!(e instanceof ProtoError)) throw e;
        // The kind is the message without the value: "Pong: /Timediff must be <= 17280000000000".
        return refuse(`Pongs/${i}`, e.message, e.message);
      }
      const why = this.applyPong(rec, p, now);
      if (why) return refuse(`Pongs/${i}`, why[0], why[1]);
      applied++;
    });
    this.stateCache = undefined;
    this.checkRoutes();
    if (peerChanged) this.pushAll();
    return { Applied: applied, Refused: refused };
  }

  // ---- state --------------------------------------------------------------------------------

  /** The manage API's state document (cached for up to 1 s). */
  state(): HttpState {
    const now = this.clock.now();
    if (this.stateCache && now - this.stateCache.at < 1) return this.stateCache.state;
    const PeerInfo: HttpState['PeerInfo'] = {};
    const Status: HttpState['Status'] = {};
    const cur = { peer: this.peerState().hash, nh: this.routes.hash };
    for (const [id, r] of [...this.edges].sort((a, b) => a[0] - b[0])) {
      if (r.removing) continue;
      PeerInfo[id] = { Name: r.conf.Name, LastSeen: r.lastSeenWall ? new Date(r.lastSeenWall).toISOString() : '' };
      Status[id] = {
        Alive: this.alive(r),
        LastSeenAgo: Number.isFinite(r.lastSeen) ? Math.max(0, now - r.lastSeen) : -1,
        ExternalV4: r.ext[4] ?? '',
        ExternalV6: r.ext[6] ?? '',
        LocalV4s: { ...r.local4 },
        LocalV6s: { ...r.local6 },
        Synced: { PeerInfo: r.acked.peer === cur.peer, NhTable: r.acked.nh === cur.nh, SuperParams: r.acked.params === this.paramsState(r).hash },
      };
    }
    const v = this.routes.view(now);
    const state: HttpState = { PeerInfo, ...v, Status, Clocks: this.clocks.view(now) };
    this.stateCache = { at: now, state };
    return state;
  }

  /** Drops the cached state document (tests, after changes). */
  invalidateState(): void {
    this.stateCache = undefined;
  }
}
