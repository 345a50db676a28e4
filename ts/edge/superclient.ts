// Super mode, edge side: register with the supernode, measure one-way latency to every peer
// (Ping through the median filter), report it (one UDP LinkReport per interval + signed HTTP report), pull peer
// info / next-hop table / parameters when the supernode announces a new state hash, and find
// working endpoints for peers (try-lists with priorities, hole punching with RequestReply pings).
import { randomBytes } from 'node:crypto';
import { EdgeConfig } from '../config/index.js';
import { ProcessDelay } from './procdelay.js';
import { Prober } from './probe.js';
import { StaticRoutes } from '../core/table.js';
import { keyFromBase64, keyToBase64 } from '../core/wg.js';
import { PACKAGE_VERSION } from '../paths.js';
import {
  Action, decode, decodeReportResult, encode, encodeLinkReportsBin, NhTableBody, NodeInfoReport, PeerInfoBody, PingMsg, SuperParamsBody,
} from '../proto/control.js';
import { bodyHash, signReport } from '../proto/jwt.js';
import { realScheduler, type Scheduler, type Timer } from '../scheduler.js';
import { pingTimeMs } from '../wgnode/clock.js';
import { formatEndpoint, parseHostPort, resolveEndpoint } from '../wgnode/endpoint.js';
import { Peer } from '../wgnode/peers.js';
import { Edge } from './edge.js';
import { insideVpn, underlayAddresses } from './underlay.js';
import { httpText, type HttpAnswer } from './http-client.js';
import { Header, Kind, NODE_SPREAD, NODE_SUPER } from '../core/frame.js';

const HTTP_TIMEOUT_MS = 8000;

interface Candidate {
  url: string;
  priority: number;
  lastTry: number;
}

interface PeerExtra {
  tries: Candidate[];
}

/**
 * A healthy supernode answers a Register only with WireGuard's passive keepalive, sent
 * KEEPALIVE_TIMEOUT (10 s, whitepaper §6.5) after a packet it did not answer; notices come only
 * on changes. Its normal quiet gap is therefore up to register interval + KEEPALIVE_TIMEOUT, and
 * the silence report waits that long plus SUPER_SILENCE_MARGIN_S, at least SUPER_SILENCE_MIN_S.
 */
const KEEPALIVE_TIMEOUT_S = 10;
const SUPER_SILENCE_MARGIN_S = 5;
const SUPER_SILENCE_MIN_S = 10;

/**
 * While a supernode session has no keys, new handshake initiations go out after
 * SUPER_RETRY_FIRST_S, then at twice the wait up to every SUPER_RETRY_S seconds (148 bytes each;
 * the core alone would wait REKEY_TIMEOUT, 5 s): a supernode that learns this edge after its
 * first initiation (it started later, or peer/add came after the edge) answers within about a
 * second, and one that started a moment after the edge (a mesh started at once) within a
 * quarter of one. After SUPER_RETRY_FAST_FOR_S without keys the supernode is down or
 * misconfigured rather than late, and the retries slow to REKEY_TIMEOUT (SUPER_RETRY_SLOW_S),
 * WireGuard's own pace: one initiation a second forever was 2 log lines a second at LogInternal.
 */
const SUPER_RETRY_S = 1;
const SUPER_RETRY_FIRST_S = 0.25;
const SUPER_RETRY_FAST_FOR_S = 30;
const SUPER_RETRY_SLOW_S = 5;

/**
 * Whether a failed pull is said as an error. A supernode binds its HTTP API a moment after its
 * UDP sessions (and a restarted one may lag), so an edge that registered at once can get a notice
 * and find nothing listening yet; the pull is tried again (PULL_RETRY_S) and the notice comes
 * again every second until the state is pulled.
 * Connection failures are therefore logged at debug (category control) until they have lasted
 * `quietS` seconds without a successful pull, then as errors; any other failure (a refusal, a bad
 * body) is an error at once.
 */
export class PullFailures {
  private since?: number;
  private lastErrorAt = -Infinity;
  private held = 0;
  private erred = false;
  /**
   * `quietS`: how long connection failures stay at debug; `errorEveryS`: at most one error line
   * per this many seconds while pulls keep failing (a notice comes every second, and an edge
   * whose supernode API is unreachable logged two errors a second).
   */
  constructor(
    private readonly quietS = 5,
    private readonly errorEveryS = 60,
  ) {}
  /** A pull could not connect at `nowS` (monotonic s): true when it should be logged as an error. */
  unreachable(nowS: number): boolean {
    this.since ??= nowS;
    return nowS - this.since >= this.quietS;
  }
  /** A pull got an answer: the next connection failure starts a new quiet period. */
  answered(): boolean {
    this.since = undefined;
    const erred = this.erred;
    this.erred = false;
    this.held = 0;
    this.lastErrorAt = -Infinity;
    return erred;
  }

  /**
   * A pull error to log as an error at `nowS` (monotonic s): `say` for the first and then one
   * every errorEveryS, with `held` the errors not said since the last one (the others go to the
   * control log). answered() returns whether any was said, for a "works again" line.
   */
  errorDue(nowS: number): { say: boolean; held: number } {
    if (nowS - this.lastErrorAt < this.errorEveryS) return { say: false, held: ++this.held };
    const held = this.held;
    this.held = 0;
    this.lastErrorAt = nowS;
    this.erred = true;
    return { say: true, held };
  }
}

/** Thrown by pull() when no supernode base URL answered at all (connection refused, timeout). */
class Unreachable extends Error {}

/**
 * A pull that could not connect is tried again this soon (s), while its state is still the newest
 * announced and within PullFailures' quiet period, instead of at the next notice (1 s): a
 * supernode that has just started answers HTTP a moment after UDP.
 */
const PULL_RETRY_S = 0.2;

/** A new link's first measurement is reported this soon (s) instead of at the next interval. */
const FIRST_REPORT_DELAY_S = 0.02;

/** Options of a SuperClient (seams for the simulator; defaults are the real ones). */
export interface SuperClientOptions {
  /** Timers of the control logic (default: Node's, unref'd). */
  scheduler?: Scheduler;
  /** HTTP requests to the supernode's edge API (default: httpText over node:http). */
  http?: typeof httpText;
}

export class SuperClient {
  private readonly secret = randomBytes(32);
  /** Requests to the edge API (SuperClientOptions.http). */
  http: typeof httpText;
  private postCount = 0;
  /** A report post is waiting for its answers (postReport). */
  private posting = false;
  private hashes = { peer: '', nh: '', params: '' };
  private params: SuperParamsBody;
  private ownAC: number;
  /** Kernel receive → handled delay of pings (ts/edge/procdelay.ts). */
  readonly processDelay = new ProcessDelay();
  /** Pings out, one-way latencies in (ts/edge/probe.ts), filtered with the supernode's DampingFilterRadius. */
  private readonly prober: Prober;
  private readonly extra = new Map<number, PeerExtra>();
  private timers: Timer[] = [];
  private pingTimer?: Timer;
  private postTimer?: Timer;
  private reportTimer?: Timer;
  private firstReport?: Timer;
  /** Peers whose link was in the last LinkReport (a link missing from it is reported early). */
  private reported = new Set<number>();
  /** Per supernode session without keys: last early initiation (s), the wait before the next (s), and since when it has had none (s). */
  private superRetry = new Map<Peer, { at: number; wait: number; since: number }>();
  private readonly sched: Scheduler;
  /** LinkReport messages and bytes (payload) sent since start (simulator, tests). */
  readonly reportStats = { messages: 0, bytes: 0 };
  private pulling = new Set<string>();
  private readonly pullFailures = new PullFailures();
  /** The newest state hash each notice kind announced (a failed pull is retried only for it). */
  private readonly announced: Record<'peerinfo' | 'nhtable' | 'superparams', string> = { peerinfo: '', nhtable: '', superparams: '' };
  private stopped = false;
  private exit?: (code: number) => void;
  readonly exited: Promise<number>;
  readonly base: string;
  /** Edge API base URL of each supernode session (the main one and DynamicRoute.SuperNode.ExtraSuperNodes). */
  private readonly superBase = new Map<Peer, string>();

  constructor(
    private readonly edge: Edge,
    private readonly cfg: EdgeConfig,
    opts: SuperClientOptions = {},
  ) {
    this.sched = opts.scheduler ?? realScheduler;
    this.http = opts.http ?? httpText;
    const dr = cfg.DynamicRoute;
    this.ownAC = dr.AdditionalCost;
    // Until the supernode's parameters arrive: our own; no HTTP report (interval 0 = wait).
    this.prober = new Prober(edge, () => this.params.DampingFilterRadius);
    this.params = { SendPingInterval: dr.SendPingInterval, HttpPostInterval: 0, PeerAliveTimeout: dr.PeerAliveTimeout, DampingFilterRadius: dr.DampingFilterRadius, AdditionalCost: -1 };
    this.base = dr.SuperNode.EndpointEdgeAPIUrl.replace(/\/+$/, '');
    this.exited = new Promise((r) => (this.exit = r));
  }

  /** Adds the supernode sessions; call before Edge.start() so their endpoints resolve with the rest. */
  addSuperPeers(): void {
    const s = this.cfg.DynamicRoute.SuperNode;
    const psk = s.PSKey ? keyFromBase64(s.PSKey) : undefined;
    const add = (pub: string, ep: string, base = this.base) => {
      if (!pub || !ep) return;
      const host = parseHostPort(ep).host;
      // Loopback supernodes are not "static": nothing to re-resolve (upstream's rule).
      const p = this.edge.host.addPeer(NODE_SUPER, keyFromBase64(pub), psk, { endpoint: ep, isSuper: true, isStatic: host !== '127.0.0.1' && host !== '::1', keepalive: 0 });
      this.superBase.set(p, base);
    };
    // Every supernode of the network gets its own sessions (same NodeID 65533, its own key).
    for (const x of [s, ...(s.ExtraSuperNodes ?? [])]) {
      const base = x.EndpointEdgeAPIUrl.replace(/\/+$/, '');
      if (!this.cfg.DisabledAf.IPv4) add(x.PubKeyV4, x.EndpointV4, base);
      if (!this.cfg.DisabledAf.IPv6) add(x.PubKeyV6, x.EndpointV6, base);
    }
    if (this.edge.peers.supers.length === 0) throw new Error('super mode: no usable supernode session (check PubKeyV4/EndpointV4, PubKeyV6/EndpointV6 and DisabledAf)');
  }

  start(): void {
    for (const p of this.edge.peers.all()) this.track(p);
    // Another edge can pull the peer list that names us and reach us before we pull the one
    // that names it (at start, and after a peer/add): its first initiations are then from an
    // unknown key, which is expected until our pull is applied.
    this.edge.host.unknownPeerExpected = () => this.hashes.peer === '' || [...this.pulling].some((k) => k.startsWith('peerinfo:'));
    // A new session with a supernode may be with a new supernode process (a restart, or one that
    // lost our registration and refused a report): register on it at once instead of at the
    // next interval (SendPingInterval, 16 s in generated configs), which is what the supernode
    // waits for before it serves us anything.
    this.edge.sessionHook = (p) => {
      if (p.isSuper && !this.stopped) this.register();
    };
    this.register();
    const regEvery = this.params.SendPingInterval > 0 ? this.params.SendPingInterval : 8;
    this.silenceS = Math.max(SUPER_SILENCE_MIN_S, regEvery + KEEPALIVE_TIMEOUT_S + SUPER_SILENCE_MARGIN_S);
    this.every(regEvery, () => this.register());
    this.every(SUPER_RETRY_S / 4, () => this.retrySuperHandshakes());
    // Dead peers get their next candidate every ConnNextTry seconds (TimeoutCheckInterval if unset).
    const dr = this.cfg.DynamicRoute;
    this.every(Math.max(1, dr.ConnNextTry || dr.TimeoutCheckInterval || 5), () => void this.tryEndpoints());
    this.restartPing();
    const started = this.edge.clock.now();
    // Checked every second (cheap: one comparison per supernode session) so the report comes
    // within a second of the threshold whatever the threshold is.
    this.every(1, () => this.reportSupernodeSilence(started));
  }

  /** Supernode sessions currently reported as silent (by their configured endpoint). */
  private readonly silentSupers = new Set<string>();
  /** Monotonic s at which each supernode session last had keys (reportSupernodeSilence). */
  private readonly keyedAt = new Map<Peer, number>();
  /** Seconds without an authenticated packet from a supernode session before the edge says so (see KEEPALIVE_TIMEOUT_S); set by start(). */
  private silenceS = SUPER_SILENCE_MIN_S;

  /**
   * Says once, at the default log level, when a supernode session has been silent for
   * silenceS (never answered, or stopped answering), and once when it answers again:
   * without it an edge whose supernode is unreachable only printed "up" and then nothing.
   */
  private reportSupernodeSilence(started: number): void {
    const now = this.edge.clock.now();
    for (const s of this.edge.peers.supers) {
      const name = s.configured ?? 'supernode';
      // Packets from the supernode count only while there are session keys: with a wrong PSKey
      // its handshake initiations still arrive and authenticate (the PSK enters only the
      // response), so lastRx moves although no session ever forms.
      const keyed = this.edge.host.wg.hasSession(s.wgId, now);
      if (keyed) this.keyedAt.set(s, now);
      const heard = keyed ? s.lastRx : Math.min(s.lastRx, this.keyedAt.get(s) ?? -Infinity);
      const quietFor = now - Math.max(heard, started);
      if (quietFor >= this.silenceS && !this.silentSupers.has(name)) {
        this.silentSupers.add(name);
        const never = !this.keyedAt.has(s);
        // A response that does not decrypt, or initiations that arrive while no session forms:
        // the two sides disagree on the pre-shared key (it enters only the response).
        const pskHint = never && ((s.decryptFailedAt ?? -Infinity) >= started || s.lastRx > -Infinity);
        const noSession = pskHint
          ? ' (its handshake messages arrive but no session forms: check DynamicRoute.SuperNode.PSKey and that the supernode has this edge\'s PubKey)'
          : never ? ' (no handshake completed yet)' : '';
        this.edge.log.info(`no answer from the supernode at ${name} for ${Math.round(quietFor)} s${noSession}: check its endpoint, public key and PSKey (DynamicRoute.SuperNode) and that it runs; still trying`);
      } else if (quietFor < this.silenceS && this.silentSupers.delete(name)) {
        this.edge.log.info(`the supernode at ${name} answers again`);
      }
    }
  }

  private every(sec: number, f: () => void): void {
    this.timers.push(this.sched.every(sec, f));
  }

  private track(p: Peer): PeerExtra {
    let x = this.extra.get(p.nodeId);
    if (!x) {
      x = { tries: [] };
      this.extra.set(p.nodeId, x);
    }
    return x;
  }

  /** PeerAliveTimeout (s) in force: the config's until the supernode's SuperParams set it. */
  aliveTimeoutS(): number {
    return this.params.PeerAliveTimeout;
  }

  private alive(p: Peer): boolean {
    return p.endpoint !== undefined && this.edge.clock.now() - p.lastRx < this.params.PeerAliveTimeout;
  }

  private toSupers(kind: Kind, body: object): void {
    const payload = encode(body);
    for (const s of this.edge.peers.supers) this.edge.sendControl(s, kind, NODE_SUPER, 0, payload);
  }

  private register(): void {
    if (this.stopped) return;
    this.toSupers(Kind.Register, {
      v: 1,
      NodeID: this.edge.me,
      Version: PACKAGE_VERSION,
      PeerStateHash: this.hashes.peer,
      NhStateHash: this.hashes.nh,
      SuperParamStateHash: this.hashes.params,
      JWTSecret: this.secret.toString('base64'),
      HttpPostCount: this.postCount,
    });
  }

  /**
   * A supernode session without keys gets a fresh initiation every SUPER_RETRY_S: the first one
   * may have reached a supernode that did not know this edge yet (it started later, or peer/add
   * came after this edge), and WireGuard itself would wait REKEY_TIMEOUT before the next.
   */
  private retrySuperHandshakes(): void {
    const host = this.edge.host;
    const now = this.edge.clock.now();
    for (const s of this.edge.peers.supers) {
      if (!s.endpoint || host.wg.hasSession(s.wgId, now)) {
        this.superRetry.delete(s);
        continue;
      }
      const r = this.superRetry.get(s);
      // The first check after start (the core's own initiation went out with the first Register) starts the clock.
      if (!r) this.superRetry.set(s, { at: now, wait: SUPER_RETRY_FIRST_S, since: now });
      else if (now - r.at >= r.wait - 1e-3) {
        // initiateNow logs the initiation itself ("handshake initiation sent … early=true").
        host.initiateNow(s);
        const cap = now - r.since >= SUPER_RETRY_FAST_FOR_S ? SUPER_RETRY_SLOW_S : SUPER_RETRY_S;
        this.superRetry.set(s, { at: now, wait: Math.min(cap, 2 * r.wait), since: r.since });
      }
    }
  }

  // ---- latency ----------------------------------------------------------------------------

  private restartPing(): void {
    this.pingTimer?.cancel();
    this.postTimer?.cancel();
    this.reportTimer?.cancel();
    const pi = this.params.SendPingInterval;
    if (pi > 0) {
      this.pingTimer = this.sched.every(pi, () => this.pingAll(0));
      this.pingAll(0);
      // One LinkReport per interval with every incoming link (not a Pong per received ping).
      this.reportTimer = this.sched.every(pi, () => this.sendLinkReport());
    }
    const hp = this.params.HttpPostInterval;
    if (hp > 0) {
      this.postTimer = this.sched.every(hp, () => void this.postReport());
    }
  }

  /** The incoming links to report now: [Src, filtered Timediff (s), TimeToAlive (s)] per alive measured peer. */
  private currentLinks(): Array<[number, number, number]> {
    const links: Array<[number, number, number]> = [];
    const now = this.edge.clock.now();
    const pat = this.params.PeerAliveTimeout;
    for (const p of this.edge.peers.all()) {
      const latency = this.prober.latency(p.nodeId);
      if (latency === undefined || !this.alive(p)) continue;
      // TimeToAlive counts from the peer's last packet, so a link dies at the supernode when it
      // would die here, whatever the report's phase (rounded to the ms: bytes, not precision).
      links.push([p.nodeId, latency, Math.round(Math.max(0, pat - (now - p.lastRx)) * 1000) / 1000]);
    }
    return links;
  }

  /**
   * Sends the LinkReport (kind 8, binary form, docs/control.md) of every incoming link on every supernode
   * session, split into datagram-sized messages. Runs once per SendPingInterval, and
   * FIRST_REPORT_DELAY_S after a link that the last report did not carry is measured.
   */
  sendLinkReport(): void {
    if (this.stopped) return;
    this.firstReport?.cancel();
    this.firstReport = undefined;
    const links = this.currentLinks();
    this.reported = new Set(links.map((l) => l[0]));
    // The binary form (docs/control.md): the supernode reads it into typed arrays without a
    // per-value parse, and a datagram holds about twice the links of the JSON form.
    for (const payload of encodeLinkReportsBin(this.edge.me, this.reportedAC(), links)) {
      this.reportStats.messages++;
      this.reportStats.bytes += payload.length;
      for (const s of this.edge.peers.supers) this.edge.sendControl(s, Kind.Pong, NODE_SUPER, 0, payload);
    }
  }

  /** A ping from `id` was measured: a link the supernode has not heard of yet is reported at once. */
  private linkMeasured(id: number): void {
    if (this.reported.has(id) || this.firstReport || this.stopped) return;
    this.firstReport = this.sched.after(FIRST_REPORT_DELAY_S, () => this.sendLinkReport());
  }

  /** Sends a ping (stamped for its sendmmsg time, Prober.ping) straight to `p`. */
  private ping(p: Peer, requestReply: number): void {
    this.prober.ping(p, requestReply, (payload) => this.edge.sendControl(p, Kind.Ping, NODE_SPREAD, 0, payload));
  }

  private pingAll(requestReply: number): void {
    if (this.stopped) return;
    for (const p of this.edge.peers.all()) if (p.endpoint) this.ping(p, requestReply);
  }

  /**
   * Control messages for this node (wired as Edge's onControl). `rxTimeMs`: the datagram's
   * receive time in the ping clock (Edge onControl; default: now, in JS).
   */
  onControl(h: Header, payload: Uint8Array, from: Peer, rxTimeMs?: number): void {
    try {
      switch (h.kind) {
        case Kind.Ping:
          return this.onPing(decode.ping(payload), from, rxTimeMs ?? pingTimeMs(this.edge.clock));
        case Kind.ServerUpdate:
          return this.onServerUpdate(decode.serverUpdate(payload), from);
        default:
          this.edge.drop(`control kind ${h.kind} is not used in super mode`, { src: h.src });
      }
    } catch (e) {
      this.edge.drop(`bad control message: ${(e as Error).message}`, { src: h.src, kind: h.kind });
    }
  }

  /**
   * A ping from `from`, received at `rxTimeMs` (ping clock, ms): the sample is the receive time
   * minus the ping's Time — with kernel receive timestamps and the send stamp taken just before
   * the sealed datagram leaves (ping()), neither event loop's queueing is in it
   * (docs/routing.md §Wire timestamps).
   */
  private onPing(m: PingMsg, from: Peer, rxTimeMs: number): void {
    // Only a kernel receive time says how long the ping waited inside this node.
    const procMs = this.edge.host.transport.rxTimestamps ? pingTimeMs(this.edge.clock) - rxTimeMs : NaN;
    // The receive time on our monotonic clock lets the filter take the drift between the two
    // clocks out of its minima (docs/routing.md §Filter).
    const r = this.prober.measure(from.nodeId, m, rxTimeMs, this.edge.clock.now());
    if (!r.ok) return this.edge.drop(r.reason, { node: from.nodeId, time: m.Time });
    this.processDelay.push(procMs);
    this.edge.log.cat('control', 'ping measured', { from: from.nodeId, measuredS: r.measured, filteredS: r.filtered, procMs });
    this.linkMeasured(from.nodeId);
    // Hole punching: answer with pings so the other side's NAT opens too.
    for (let i = 0; i < m.RequestReply; i++) {
      const t = setTimeout(() => !this.stopped && this.ping(from, 0), i * 1000);
      t.unref();
    }
  }

  /**
   * The AdditionalCost to report (ms): the node's own (config or supernode), plus its measured
   * processing delay with DynamicRoute.ProcessDelayCost (off by default; ts/edge/procdelay.ts).
   * A negative own value ("use the supernode's") is passed on unchanged.
   */
  private reportedAC(): number {
    if (!this.cfg.DynamicRoute.ProcessDelayCost || this.ownAC < 0) return this.ownAC;
    return this.ownAC + this.processDelay.costMs();
  }

  /** Filtered one-way latency (s) from each measured peer to this edge, for observers (ts/metrics). */
  latencies(): Map<number, number> {
    return this.prober.latencies();
  }

  /** Peers whose latency filter has not filled its window yet (Prober.settling). */
  settling(): Set<number> {
    return this.prober.settling();
  }

  private async postReport(): Promise<void> {
    // One post at a time: each is signed with the current PostCount, which moves on only when a
    // supernode accepted it, so a tick while a slow post is in flight would sign the same count
    // again and be refused as a replay (409). That tick is skipped; the next one reports.
    if (this.stopped || this.posting) return;
    this.posting = true;
    try {
      await this.postReportNow();
    } finally {
      this.posting = false;
    }
  }

  private async postReportNow(): Promise<void> {
    const pongs = [];
    const now = this.edge.clock.now();
    for (const p of this.edge.peers.all()) {
      const latency = this.prober.latency(p.nodeId);
      if (latency === undefined || !this.alive(p)) continue;
      pongs.push({ Src: p.nodeId, Dst: this.edge.me, Timediff: latency, TimeToAlive: Math.max(0, this.params.PeerAliveTimeout - (now - p.lastRx)), AdditionalCost: this.reportedAC() });
    }
    const report: NodeInfoReport = { v: 1, Pongs: pongs, ...(await this.localAddrs()) };
    const body = Buffer.from(JSON.stringify(report));
    const jwt = signReport(this.secret, { PostCount: this.postCount, BodyHash: bodyHash(body) });
    // The same signed report goes to every supernode (each keeps its own PostCount floor); the
    // count moves on once any accepted it.
    const sent = await Promise.all(this.bases().map((b) => this.postTo(b, body, jwt)));
    if (sent.some((ok) => ok)) this.postCount++;
  }

  /** Posts one signed report to the supernode at `base`; resolves to whether it was accepted. */
  private async postTo(base: string, body: Buffer<ArrayBuffer>, jwt: string): Promise<boolean> {
    const url = `${base}/edge/post/nodeinfo?${this.ident()}&JWTSig=${encodeURIComponent(jwt)}`;
    try {
      const r = await this.http(url, { method: 'POST', body, headers: { 'content-type': 'application/json' }, timeoutMs: HTTP_TIMEOUT_MS });
      if (!r.ok) {
        const why = r.text;
        this.edge.log.error(`supernode refused the report: HTTP ${r.status} ${why}${base === this.base ? '' : ` (${base})`}`);
        // A supernode that does not know our registration has restarted (or lost its state): our
        // WireGuard session to it is dead on its side, and without this the edge would keep
        // sealing to it until KEEPALIVE + REKEY_TIMEOUT (15 s) passed. Handshake again now; the
        // Register that follows the new session restores everything.
        if (r.status === 400 && /has not registered yet/.test(why)) {
          // Only the sessions of the supernode that refused (with ExtraSuperNodes the others are fine).
          for (const sp of this.edge.peers.supers) if (sp.endpoint && (this.superBase.get(sp) ?? this.base) === base) this.edge.host.initiateNow(sp);
        }
        return false;
      }
      // Accepted; items the supernode could not use are listed (the others are in effect).
      const text = r.text;
      let res;
      try {
        res = decodeReportResult(text);
      } catch (e) {
        this.edge.log.debug(`report accepted; answer not understood: ${(e as Error).message}`);
        return true;
      }
      if (res.Refused.length > 0) {
        const list = res.Refused.slice(0, 8).map((x) => `${x.Item}: ${x.Reason}`).join('; ');
        this.edge.log.error(`supernode refused ${res.Refused.length} item(s) of the report (${res.Applied} pong(s) applied): ${list}${res.Refused.length > 8 ? '; ...' : ''}`);
      }
      return true;
    } catch (e) {
      this.edge.log.error(`cannot post the report to ${base}: ${(e as Error).message}`);
      return false;
    }
  }

  private async localAddrs(): Promise<{ LocalV4s: Record<string, number>; LocalV6s: Record<string, number> }> {
    const sn = this.cfg.DynamicRoute.SuperNode;
    const v4: Record<string, number> = {};
    const v6: Record<string, number> = {};
    if (!sn.SkipLocalIP) {
      const port = this.edge.host.port;
      // Never offers the VPN's own interface or subnets as an underlay address (see insideVpn).
      for (const a of underlayAddresses(this.edge.iface?.name, this.cfg.Interface, this.cfg.DisabledAf)) {
        if (a.family === 4) v4[`${a.address}:${port}`] = 100;
        else v6[`[${a.address}]:${port}`] = 100;
      }
    }
    // As upstream: each entry is resolved in each family and reported as ip:port (the supernode
    // takes only numeric addresses); one that resolves nowhere is skipped with an error.
    for (const extra of sn.AdditionalLocalIP) {
      let found = false;
      for (const fam of [4, 6] as const) {
        if (fam === 4 ? this.cfg.DisabledAf.IPv4 : this.cfg.DisabledAf.IPv6) continue;
        try {
          const ep = await resolveEndpoint(extra, fam, { v4: fam === 4, v6: fam === 6 });
          (fam === 4 ? v4 : v6)[formatEndpoint(ep)] = 50;
          found = true;
        } catch {
          /* no address in this family */
        }
      }
      if (!found) this.edge.log.error(`AdditionalLocalIP ${extra}: no address in an enabled family, not reported`);
    }
    return { LocalV4s: v4, LocalV6s: v6 };
  }

  // ---- state pulls ------------------------------------------------------------------------

  private ident(): string {
    return `NodeID=${this.edge.me}&PubKey=${encodeURIComponent(keyToBase64(this.edge.host.wg.publicKey))}`;
  }

  /**
   * The edge API base URLs to try, `first` (the supernode that sent the notice) first, then the
   * others that answered most recently: a supernode that stopped answering is skipped over.
   */
  private bases(first?: Peer): string[] {
    const order = [...this.superBase].sort((a, b) => (a[0] === first ? -1 : b[0] === first ? 1 : b[0].lastRx - a[0].lastRx));
    const out = [...new Set(order.map(([, u]) => u))];
    return out.length > 0 ? out : [this.base];
  }

  private onServerUpdate(m: { Action: number; Code: number; Params: string; NodeID: number }, from?: Peer): void {
    switch (m.Action) {
      case Action.Shutdown:
        this.edge.log.error(`supernode shut this edge down: ${m.Params}`, { code: m.Code });
        return this.finish(m.Code);
      case Action.ThrowError:
      case Action.Panic:
        this.edge.log.error(`supernode reported an error: ${m.Params}`, { code: m.Code });
        return this.finish(m.Code || 1);
      case Action.UpdatePeer:
        this.announced.peerinfo = m.Params;
        if (m.Params !== this.hashes.peer) void this.pull('peerinfo', m.Params, from);
        return;
      case Action.UpdateNhTable:
        this.announced.nhtable = m.Params;
        if (m.Params !== this.hashes.nh) void this.pull('nhtable', m.Params, from);
        return;
      case Action.UpdateSuperParams:
        this.announced.superparams = m.Params;
        if (m.Params !== this.hashes.params) void this.pull('superparams', m.Params, from);
        return;
    }
  }

  private async pull(what: 'peerinfo' | 'nhtable' | 'superparams', state: string, from?: Peer): Promise<void> {
    const key = `${what}:${state}`;
    if (this.pulling.has(key) || this.stopped) return;
    this.pulling.add(key);
    const bases = this.bases(from);
    let base = bases[0]!;
    try {
      // Several supernodes publish the same hashes: a state any of them announced can come from
      // any that answers (one that is down or refuses is skipped).
      let r: HttpAnswer | undefined;
      let text = '';
      for (base of bases) {
        try {
          r = await this.http(`${base}/edge/${what}?${this.ident()}&State=${encodeURIComponent(state)}`, { timeoutMs: HTTP_TIMEOUT_MS / bases.length });
          text = r.text;
          if (r.ok) break;
        } catch (e) {
          if (base === bases[bases.length - 1]) throw new Unreachable((e as Error).message);
          this.edge.log.cat('control', `pull ${what} from ${base} failed, trying the next supernode: ${(e as Error).message}`);
        }
      }
      if (!r) return;
      if (this.pullFailures.answered()) this.edge.log.info(`the supernode's edge API at ${base} answers again`);
      if (!r.ok) {
        // 404 "State not correct" means a newer state exists: its notice is on the way.
        this.edge.log.cat('control', `pull ${what} refused: HTTP ${r.status} ${text}`);
        return;
      }
      if (what === 'peerinfo') {
        await this.applyPeers(decode.peerInfo(text));
        this.hashes.peer = state;
      } else if (what === 'nhtable') {
        this.applyTable(decode.nhTable(text));
        this.hashes.nh = state;
      } else {
        this.applyParams(decode.superParams(text));
        this.hashes.params = state;
      }
      this.edge.log.cat('control', `applied ${what}`, { state });
    } catch (e) {
      const msg = `cannot pull ${what} from ${base}: ${(e as Error).message}`;
      if (e instanceof Unreachable && !this.pullFailures.unreachable(this.edge.clock.now())) {
        this.edge.log.cat('control', `${msg} (retried in ${PULL_RETRY_S} s)`);
        this.sched.after(PULL_RETRY_S, () => {
          if (!this.stopped && this.announced[what] === state) void this.pull(what, state, from);
        });
      } else {
        const due = this.pullFailures.errorDue(this.edge.clock.now());
        if (due.say) this.edge.log.error(due.held > 0 ? `${msg} (${due.held} more failed pull(s) since the last error line, logged under control)` : msg);
        else this.edge.log.cat('control', msg);
      }
    } finally {
      this.pulling.delete(key);
    }
  }

  private applyTable(t: NhTableBody): void {
    this.edge.routes = new StaticRoutes(t);
    this.edge.log.cat('internal', 'next-hop table updated', { row: t[String(this.edge.me)] ?? {} });
  }

  private applyParams(p: SuperParamsBody): void {
    this.params = { ...p };
    if (p.AdditionalCost >= 0) this.ownAC = p.AdditionalCost;
    else this.ownAC = this.cfg.DynamicRoute.AdditionalCost;
    this.restartPing();
  }

  private async applyPeers(info: PeerInfoBody): Promise<void> {
    const seen = new Set<number>();
    const myKey = keyToBase64(this.edge.host.wg.publicKey);
    for (const [pub, e] of Object.entries(info)) {
      if (pub === myKey || e.NodeID === this.edge.me) continue;
      seen.add(e.NodeID);
      let p = this.edge.peers.node(e.NodeID);
      const psk = e.PSKey ? keyFromBase64(e.PSKey) : undefined;
      if (p && (keyToBase64(p.publicKey) !== pub || (p.psk ? keyToBase64(p.psk) : '') !== e.PSKey)) {
        if (p.isStatic) continue; // a configured peer is never replaced by downloaded info (upstream bug #11)
        this.edge.host.removePeer(p);
        p = undefined;
      }
      if (!p) {
        p = this.edge.host.addPeer(e.NodeID, keyFromBase64(pub), psk, {});
      }
      const x = this.track(p);
      const urls: Candidate[] = [];
      const prefer = this.cfg.AfPrefer;
      const sn = this.cfg.DynamicRoute.SuperNode;
      const add = (m: Record<string, number>, local: boolean) => {
        if (local && sn.SkipLocalIP) return;
        for (const [url, prio] of Object.entries(m)) {
          const fam = url.startsWith('[') ? 6 : 4;
          let host: string;
          try {
            host = parseHostPort(url).host;
          } catch {
            this.edge.log.cat('internal', 'ignoring a malformed candidate endpoint', { node: e.NodeID, url });
            continue;
          }
          if (insideVpn(this.cfg.Interface, host)) {
            this.edge.log.cat('internal', 'ignoring a candidate endpoint inside the VPN', { node: e.NodeID, url });
            continue;
          }
          if ((fam === 4 && this.cfg.DisabledAf.IPv4) || (fam === 6 && this.cfg.DisabledAf.IPv6)) continue;
          urls.push({ url, priority: prio - (fam === prefer ? 10000 : 0), lastTry: 0 });
        }
      };
      add(e.Connurl.ExternalV4, false);
      add(e.Connurl.ExternalV6, false);
      add(e.Connurl.LocalV4, true);
      add(e.Connurl.LocalV6, true);
      // Keep try history for URLs we already knew.
      const old = new Map(x.tries.map((c) => [c.url, c.lastTry]));
      for (const c of urls) c.lastTry = old.get(c.url) ?? 0;
      x.tries = urls;
    }
    for (const p of [...this.edge.peers.all()]) {
      if (!seen.has(p.nodeId) && !p.isStatic) {
        this.edge.host.removePeer(p);
        this.prober.forget(p.nodeId);
        this.extra.delete(p.nodeId);
      }
    }
    await this.tryEndpoints();
  }

  /** For every peer that is not alive, try its next candidate endpoint and punch with pings. */
  private async tryEndpoints(): Promise<void> {
    if (this.stopped) return;
    for (const p of this.edge.peers.all()) {
      if (p.isStatic || this.alive(p)) continue;
      const x = this.extra.get(p.nodeId);
      if (!x || x.tries.length === 0) continue;
      // Smallest (priority-adjusted) last-try first: preferred family, then priority, then round robin.
      const c = [...x.tries].sort((a, b) => a.lastTry - b.lastTry || a.priority - b.priority)[0];
      c.lastTry = this.edge.clock.now();
      try {
        p.endpoint = await resolveEndpoint(c.url, this.cfg.AfPrefer, { v4: !this.cfg.DisabledAf.IPv4, v6: !this.cfg.DisabledAf.IPv6 });
        this.edge.log.cat('internal', 'trying endpoint', { node: p.nodeId, url: c.url });
        this.ping(p, 1);
      } catch (e) {
        this.edge.log.error(`peer ${p.nodeId}: cannot use endpoint ${c.url}: ${(e as Error).message}`);
        x.tries = x.tries.filter((t) => t !== c);
      }
    }
  }

  private finish(code: number): void {
    this.stop();
    this.exit?.(code);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    this.pingTimer?.cancel();
    this.postTimer?.cancel();
    this.reportTimer?.cancel();
    this.firstReport?.cancel();
    this.prober.free();
  }
}
