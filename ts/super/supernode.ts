// The supernode (`-mode super`): it tells edges about each other and computes their routes; it
// never relays data. This class composes its parts and is the one object embedders, the CLI and
// the simulator hold:
//   sessions.ts    registration and sessions (two WireGuard hosts, Register, the edge records)
//   links.ts       the latency graph's input (pongs, LinkReports, reports) and route checks;
//                  routes.ts holds the graph and the published next-hop table
//   push.ts        the published states' hashes and their notices (Publisher)
//   store.ts       the peer store: the config file (FileStore) or etcd (EtcdStore, etcd-store.ts)
//   server.ts, api/  the HTTP servers and their route plugins, over edge-api.ts and manage.ts
//   warmup.ts      what a restarted supernode holds back
import type { FastifyInstance } from 'fastify';
import { createHmac } from 'node:crypto';
import type { SuperConfig, SuperPeerInfo } from '../config/index.js';
import { publicKeyOf } from '../config/index.js';
import type { WgTimers } from '../core/wg.js';
import { NODE_SUPER } from '../core/frame.js';
import type { NodeInfoReportIn, PeerInfoBody, ReportResult, SuperParamsBody } from '../proto/control.js';
import { realScheduler, type Scheduler } from '../scheduler.js';
import { boundUrl, normPrefix } from '../shared/http.js';
import type { Logger } from '../shared/log.js';
import { postScriptEnv, runPostScript } from '../shared/postscript.js';
import { startUapi, type UapiHandle } from '../uapi/server.js';
import type { SuperSnapshot } from '../metrics/snapshot.js';
import { statusPeer, type StatusNode } from '../status/json.js';
import { everySec, type Timer } from '../timer.js';
import { systemClock, type Clock } from '../wgnode/clock.js';
import type { Peer } from '../wgnode/peers.js';
import { AuthLimiter } from './auth.js';
import { ClockWatch } from './clockwatch.js';
import { EdgeApiService } from './edge-api.js';
import { EtcdStore } from './etcd-store.js';
import { LinkIntake } from './links.js';
import { ManageService } from './manage.js';
import { resolveSuperPaths } from './config-paths.js';
import { Publisher } from './push.js';
import { RouteState, type RouteView } from './routes.js';
import { startServers } from './server.js';
import { EdgeSessions, FAMILIES, type Fam } from './sessions.js';
import { newSalt, PairPsks, type EdgeRec, type PublicEdge } from './state.js';
import { FileStore, type SuperStore } from './store.js';
import type { HttpState } from './types.js';
import { Warmup } from './warmup.js';

export type { HttpState, PeerStatus } from './types.js';

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

export class Supernode {
  readonly log: Logger;
  readonly clock: Clock;
  /** NodeID → edge record (owned by the sessions). */
  readonly edges: Map<number, EdgeRec>;
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
  /** Control-plane counters since start: UDP messages and items (simulator, benchmarks). */
  readonly controlStats: { registers: number; pongs: number; linkReports: number; links: number; checks: number };
  private readonly sessions: EdgeSessions;
  private readonly links: LinkIntake;
  private readonly pub: Publisher;
  private readonly ownPubs: { 4: string; 6: string };
  private apps: FastifyInstance[] = [];
  private edgeUrl = '';
  private manageUrl = '';
  private timers: Timer[] = [];
  private uapis: UapiHandle[] = [];
  private viewCache?: { at: number; version: number; hash: string; view: RouteView; clocks: HttpState['Clocks'] };
  private readonly sched: Scheduler;
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
    let salt = newSalt();
    const ownKeys = [cfg.PrivKeyV4, cfg.PrivKeyV6].filter((k) => k !== '').join(' ');
    if (ownKeys) {
      this.psks.seed = createHmac('sha256', ownKeys).update('etherguard edge pair psk seed').digest();
      salt = createHmac('sha256', ownKeys).update('etherguard state hash salt').digest('hex');
    }
    this.routes = new RouteState(cfg.GraphRecalculateSetting, cfg.NextHopTable, salt, (m) => this.log.error(m), (m) => this.log.info(m));
    this.routes.settleS = (2 * Math.max(0, cfg.DampingFilterRadius) + 2) * cfg.SendPingInterval;
    this.clocks = new ClockWatch({
      limitPpm: cfg.ClockDriftLimitPpm ?? 500,
      onFlag: (_n, _f, detail) => this.log.info(detail),
      wantEstimates: () => this.log.enabled('control'),
      onEstimate: (e) => this.log.cat('control', 'clock estimate', { a: e.A, b: e.B, offsetMs: e.OffsetMs, driftPpm: e.DriftPpm, rttMs: e.RttMs }),
    });
    const stopped = () => this.stopped;
    const invalidateState = () => this.invalidateState();
    this.sessions = new EdgeSessions(
      cfg,
      this.clock,
      this.log,
      {
        peerDirty: () => this.pub.peerDirty(),
        invalidateState,
        warmupRegistered: (hasState, now) => this.warmup.registered(hasState, now),
        registered: (rec) => this.pub.registered(rec),
        pong: (rec, m) => this.links.pong(rec, m),
        linkReport: (rec, m) => this.links.linkReport(rec, m),
        stopped,
      },
      o.timers,
    );
    this.edges = this.sessions.edges;
    this.controlStats = this.sessions.stats;
    const alive = (rec: EdgeRec) => this.sessions.alive(rec);
    const base = { cfg, clock: this.clock, sched: this.sched, log: this.log, edges: this.edges, routes: this.routes, warmup: this.warmup, alive, invalidateState, stopped };
    this.pub = new Publisher({ ...base, psks: this.psks, sendBoth: (rec, plain) => this.sessions.sendBoth(rec, plain) }, salt);
    this.links = new LinkIntake({
      ...base,
      clocks: this.clocks,
      stats: this.controlStats,
      peerDirty: () => this.pub.peerDirty(),
      pushAll: () => this.pub.pushAll(),
      publishing: () => this.pub.publishing(),
    });
    this.ownPubs = {
      4: this.famEnabled(4) ? publicKeyOf(cfg.PrivKeyV4) : '',
      6: this.famEnabled(6) ? publicKeyOf(cfg.PrivKeyV6) : '',
    };
  }

  famEnabled(f: Fam): boolean {
    return this.sessions.famEnabled(f);
  }

  /**
   * Several supernodes on one etcd prefix (ts/super/etcd-store.ts): a secret they share makes the
   * state-hash salt and the pair PSKs the same on each, so the same inputs publish the same
   * hashes and an edge can take its state from any of them.
   */
  useSharedSecret(secret: Buffer): void {
    const salt = createHmac('sha256', secret).update('state hash salt').digest('hex');
    this.routes.setSalt(salt);
    this.pub.setSalt(salt);
    this.psks.seed = secret;
    this.viewCache = undefined;
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
    await this.sessions.open();
    // With etcd the shared state replaces the file's peers, passwords and settings before any edge exists.
    if (this.writer instanceof EtcdStore && (await this.writer.open(this)) && this.routes.staticMode) this.routes.setStatic(cfg.NextHopTable);
    for (const p of cfg.Peers) await this.addEdge(p);
    this.routes.check(this.clock.now());
    this.warmup.configure(cfg.PeerAliveTimeout, cfg.SendPingInterval);

    // Relative file paths are relative to the config file's directory (ts/super/config-paths.ts).
    const paths = resolveSuperPaths(cfg, this.o.configPath);
    for (const w of paths.warnings) this.log.error(w);
    const urls = await startServers(
      { cfg: { ...cfg, HttpTLS: paths.httpTLS }, prefix: this.prefix, log: this.log, edgeApi: new EdgeApiService(this), manageApi: new ManageService(this), auth: this, dashboard: this },
      this.apps,
    );
    this.edgeUrl = urls.edgeUrl;
    this.manageUrl = urls.manageUrl;

    if (this.o.uapi !== false) {
      for (const f of FAMILIES) {
        const h = this.sessions.host(f);
        if (h) {
          const status = (): StatusNode => ({ NodeName: cfg.NodeName, NodeID: NODE_SUPER, peers: h.peerCounters(cfg.PeerAliveTimeout).map((p) => statusPeer(p, undefined)), nextHops: {}, role: 'super', probing: true });
          this.uapis.push(await startUapi(`${cfg.NodeName}_v${f}`, { ...h.uapiDevice(cfg.FwMark), status }, (m) => this.log.error(m)));
        }
      }
    }
    if (cfg.PostScript) runPostScript(cfg.PostScript, postScriptEnv('super', cfg.NodeName, NODE_SUPER));

    this.every(1, () => this.pushAll());
    this.every(cfg.GraphRecalculateSetting.TimeoutCheckInterval, () => this.checkRoutes());
    if (cfg.ResetEndPointInterval > 0.01) this.every(cfg.ResetEndPointInterval, () => void this.sessions.reresolve());
    this.pub.startForceClock(this.clock.now());
    // The bound address (`*:3000` for every address), not edgeUrl, which is the loopback URL to dial.
    this.log.info(`supernode ${cfg.NodeName} up: udp port ${this.udpPort}, edge API ${boundUrl(this.apps[0]!, !!cfg.HttpTLS)}${this.manageUrl ? `, manage API ${boundUrl(this.apps[this.apps.length - 1]!, !!cfg.HttpTLS)}` : ''}, ${this.edges.size} peer(s)`);
  }

  private every(sec: number, f: () => void): void {
    this.timers.push(everySec(Math.max(sec, 0.01), () => {
      if (!this.stopped) f();
    }));
  }

  /** The config file (undefined when embedded without one). */
  get configPath(): string | undefined {
    return this.o.configPath;
  }

  get udpPort(): number {
    return this.sessions.udpPort;
  }

  /** Base URL of the edge API server (without API_Prefix), e.g. http://127.0.0.1:3000. */
  httpAddress(): string {
    return this.edgeUrl;
  }

  /** Base URL of the manage API server ("" when it is disabled). */
  manageAddress(): string {
    return this.manageUrl;
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
      negativeCycleRepairs: this.routes.negativeCycleRepairs,
      nextHopChanges: this.routes.history.changes,
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    this.links.cancel();
    // The etcd store closes first and in about a second whatever etcd's state (EtcdStore.close):
    // its closing fails the etcd calls a manage request in flight waits on, so closing the
    // HTTP servers (which waits for those requests) does not wait on an etcd that is gone.
    const store = this.writer instanceof EtcdStore ? this.writer.close() : this.writer.flush();
    await Promise.all(this.apps.map((a) => a.close().catch(() => undefined)));
    for (const u of this.uapis) await u.close().catch(() => undefined);
    this.sessions.close();
    await store;
    this.routes.free();
  }

  // ---- edges --------------------------------------------------------------------------------

  /** Adds a configured edge (start, peer/add): WG peers on both hosts, graph vertex. */
  async addEdge(conf: SuperPeerInfo): Promise<EdgeRec> {
    const rec = this.sessions.add(conf);
    this.pub.peerDirty();
    this.routes.addNode(conf.NodeID);
    if (conf.EndPoint) await this.sessions.resolveStatic(rec);
    return rec;
  }

  /**
   * Removes an edge (peer/del): Shutdown notices first (Code 2, ENOENT), then its WG peers, its
   * graph vertex and its pair PSKs. The record leaves the API at once.
   */
  async removeEdge(id: number): Promise<boolean> {
    if (!(await this.sessions.remove(id, this.o.shutdownNotices ?? { count: 10, intervalMs: 100 }))) return false;
    this.pub.peerDirty();
    this.routes.removeNode(id);
    this.clocks.forget(id);
    this.psks.drop(id);
    const i = this.cfg.Peers.findIndex((p) => p.NodeID === id);
    if (i >= 0) this.cfg.Peers.splice(i, 1);
    this.viewCache = undefined;
    this.checkRoutes();
    this.pushAll();
    return true;
  }

  alive(rec: EdgeRec): boolean {
    return this.sessions.alive(rec);
  }

  // ---- state hashes and pushes (push.ts) ----------------------------------------------------

  /** The global peer list and its hash (cached until something it shows changes). */
  peerState(): { hash: string; edges: PublicEdge[] } {
    return this.pub.peerState();
  }

  /** Something the public peer list shows has changed: rebuild it on next use. */
  peerDirty(): void {
    this.pub.peerDirty();
  }

  peerInfoBody(rec: EdgeRec, edges: PublicEdge[]): PeerInfoBody {
    return this.pub.peerInfoBody(rec, edges);
  }

  paramsState(rec: EdgeRec): { hash: string; body: SuperParamsBody } {
    return this.pub.paramsState(rec);
  }

  /** The 1-s loop (and after changes): notices to alive edges that lack a state; forced NhTable every RePushConfigInterval. */
  pushAll(): void {
    this.pub.pushAll();
  }

  /** Re-solves when the hysteresis asks for it (also expiry); pushes a changed table. */
  checkRoutes(): void {
    this.links.checkRoutes();
  }

  /** After SuperParams changes (peer/update, super/update). */
  paramsChanged(): void {
    this.viewCache = undefined;
    this.pub.peerDirty(); // peer/update may change SkipLocalIP
    this.pushAll();
  }

  // ---- UDP and reports ----------------------------------------------------------------------

  /**
   * A decrypted plaintext from a configured edge's session (what the WireGuard host hands us);
   * public as the seam the simulator drives the supernode's core through.
   */
  receive(fam: 4 | 6, plain: Uint8Array, from: Peer): void {
    this.sessions.receive(fam, plain, from);
  }

  /** An accepted, verified report (edge-api.ts checked it), applied item by item (links.ts). */
  applyReport(rec: EdgeRec, postCount: number, r: NodeInfoReportIn): ReportResult {
    return this.links.report(rec, postCount, r);
  }

  // ---- state --------------------------------------------------------------------------------

  /**
   * The manage API's state document. Peers and their status are built on each call (O(N)); the
   * route view and clock estimates (O(N²)) are kept until the routes change (a new link, a
   * solve, a node added or removed: RouteState.version, or a new table) or for 1 s, so a polled
   * document shows a published table, a new link or an edge's status at once and latency values
   * at most 1 s old. It was all cached for 1 s, which showed a mesh empty up to a second after
   * its full table had gone out.
   */
  state(): HttpState {
    const now = this.clock.now();
    const c = this.viewCache;
    const fresh = c && now - c.at < 1 && c.version === this.routes.version && c.hash === this.routes.hash;
    const { view, clocks } = fresh ? c : (this.viewCache = { at: now, version: this.routes.version, hash: this.routes.hash, view: this.routes.view(now), clocks: this.clocks.view(now) });
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
    return { PeerInfo, ...view, Status, Clocks: clocks };
  }

  /** Drops the cached state document (tests, after changes). */
  invalidateState(): void {
    this.viewCache = undefined;
  }
}
