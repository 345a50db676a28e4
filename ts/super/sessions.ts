// Registration and sessions: the supernode's two WireGuard hosts (IPv4 with PrivKeyV4, IPv6 with
// PrivKeyV6, one UDP port), a WireGuard peer per configured edge on each, and what arrives on
// those sessions. A host accepts only Register (kind 5) and Pong / LinkReport (kind 8) to NodeID
// 65533 whose header src is the edge the key belongs to (docs/supernode.md, "WireGuard side").
// A Register is checked and recorded here (LastSeen, JWT secret, post counter, acked hashes,
// observed endpoint); pongs and link reports go on to the latency graph (links.ts).
import type { SuperConfig, SuperPeerInfo } from '../config/index.js';
import { HEADER_LEN, Kind, NODE_SUPER, readHeader } from '../core/frame.js';
import { keyFromBase64, type WgTimers } from '../core/wg.js';
import { PACKAGE_VERSION } from '../paths.js';
import { Action, decode, ProtoError, type LinkReportFrame, type PongMsg, type RegisterMsg } from '../proto/control.js';
import type { Logger } from '../shared/log.js';
import type { Clock } from '../wgnode/clock.js';
import { formatEndpoint, resolveEndpoint } from '../wgnode/endpoint.js';
import { WgHost } from '../wgnode/host.js';
import { peerAlive, type Peer } from '../wgnode/peers.js';
import { serverUpdateFrame } from './push.js';
import { newEdgeRec, versionCore, type EdgeRec } from './state.js';

export const FAMILIES = [4, 6] as const;
export type Fam = (typeof FAMILIES)[number];

/** Whether family `f` runs: not disabled in DisabledAf and it has a private key. */
export function famEnabled(cfg: Pick<SuperConfig, 'PrivKeyV4' | 'PrivKeyV6' | 'DisabledAf'>, f: Fam): boolean {
  const key = f === 4 ? cfg.PrivKeyV4 : cfg.PrivKeyV6;
  return !cfg.DisabledAf[f === 4 ? 'IPv4' : 'IPv6'] && key !== '';
}

/** What the sessions hand on, and the state they touch outside themselves. */
export interface SessionEvents {
  /** The public peer list shows something that changed (liveness, endpoint). */
  peerDirty(): void;
  /** The cached state document is out of date. */
  invalidateState(): void;
  /** A Register carrying a PeerInfo hash (`hasState`) or not, at `now` (s): the warm-up decides on the first. */
  warmupRegistered(hasState: boolean, now: number): void;
  /** A Register was recorded for `rec` (after every check): notices to send. */
  registered(rec: EdgeRec): void;
  pong(rec: EdgeRec, m: PongMsg): void;
  linkReport(rec: EdgeRec, m: LinkReportFrame): void;
  /** Whether the supernode is stopping (no more notices). */
  stopped(): boolean;
}

export class EdgeSessions {
  /** NodeID → the edge's record (configured edges; `removing` while peer/del runs). */
  readonly edges = new Map<number, EdgeRec>();
  /** Control-plane counters since start: UDP messages and items (simulator, benchmarks). */
  readonly stats = { registers: 0, pongs: 0, linkReports: 0, links: 0, checks: 0 };
  private readonly hosts: { 4?: WgHost; 6?: WgHost } = {};
  /**
   * Each edge's last Register as received (payload bytes), decoded, with its JWT secret: an edge
   * sends the same Register every interval until a state hash or its post counter changes, and
   * at N = 1000 parsing and checking a thousand of them a second cost about 5 % of a core. Equal
   * bytes decode to an equal message, so the same bytes again skip the parse and schema check
   * (every rule after decoding still runs). Per record: a removed and re-added edge starts afresh.
   */
  private readonly lastRegister = new WeakMap<EdgeRec, { bytes: Uint8Array; msg: RegisterMsg; secret: Buffer }>();

  constructor(
    private readonly cfg: SuperConfig,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly ev: SessionEvents,
    private readonly timers?: WgTimers,
  ) {}

  famEnabled(f: Fam): boolean {
    return famEnabled(this.cfg, f);
  }

  /** The UDP port both hosts share (0 before open()). */
  get udpPort(): number {
    return (this.hosts[4] ?? this.hosts[6])?.port ?? 0;
  }

  host(f: Fam): WgHost | undefined {
    return this.hosts[f];
  }

  /** Opens a WireGuard host per enabled family on ListenPort (0: the first one picks, the second takes it). */
  async open(): Promise<void> {
    const cfg = this.cfg;
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
        timers: this.timers,
        log: {
          internal: (m, x) => this.log.cat('internal', m, { af: f, ...x }),
          error: (m, x) => this.log.error(m, { af: f, ...x }),
          debug: (m, x) => this.log.debug(m, { af: f, ...x }),
          drop: (r, x) => this.log.drop(r, { af: f, ...x }),
        },
        onPlaintext: (plain, from) => this.receive(f, plain, from),
      });
      this.hosts[f] = h;
      try {
        await h.open();
      } catch (e) {
        throw new Error(`cannot bind UDP port ${port} (IPv${f}): ${(e as Error).message}`);
      }
      port = h.port; // ListenPort 0 (tests): the second family takes the first one's port
    }
  }

  close(): void {
    for (const f of FAMILIES) this.hosts[f]?.close();
  }

  /** A record and a WireGuard peer on each host for a configured edge (its static EndPoint not resolved yet: resolveStatic). */
  add(conf: SuperPeerInfo): EdgeRec {
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
    return rec;
  }

  /**
   * Takes edge `id` out: marked `removing` at once (it leaves the API), then `n.count` Shutdown
   * notices (Code 2) `n.intervalMs` apart, then its WireGuard peers and its record. false when
   * there is no such edge (or it is already being removed).
   */
  async remove(id: number, n: { count: number; intervalMs: number }): Promise<boolean> {
    const rec = this.edges.get(id);
    if (!rec || rec.removing) return false;
    rec.removing = true;
    const frame = serverUpdateFrame(id, Action.Shutdown, 2, "You've been removed from supernode.");
    for (let i = 0; i < n.count && !this.ev.stopped(); i++) {
      this.sendBoth(rec, frame);
      if (i + 1 < n.count) await new Promise((r) => setTimeout(r, n.intervalMs));
    }
    for (const f of FAMILIES) {
      const p = rec.wg[f];
      if (p) this.hosts[f]?.removePeer(p);
    }
    this.edges.delete(id);
    return true;
  }

  /** Resolves a configured EndPoint per family as the session's static endpoint. */
  async resolveStatic(rec: EdgeRec): Promise<void> {
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

  /** Every ResetEndPointInterval: dead edges with a configured EndPoint get it resolved again. */
  async reresolve(): Promise<void> {
    for (const rec of this.edges.values()) if (rec.conf.EndPoint && !this.alive(rec)) await this.resolveStatic(rec);
  }

  /** A Register or report within PeerAliveTimeout. */
  alive(rec: EdgeRec): boolean {
    return this.clock.now() - rec.lastSeen < this.cfg.PeerAliveTimeout;
  }

  /**
   * Sends on the edge's sessions that have an endpoint, leaving out one that has been silent for
   * PeerAliveTimeout while the other is alive: an edge that left a family (IPv6 only now, an
   * address gone) keeps its old endpoint there, and each message sent to it only queued and
   * started handshake initiations to a dead address (hundreds over ten minutes). With neither
   * alive, both get it.
   */
  sendBoth(rec: EdgeRec, plain: Uint8Array): void {
    const now = this.clock.now();
    const usable = FAMILIES.filter((f) => rec.wg[f]?.endpoint && this.hosts[f]);
    const alive = usable.filter((f) => peerAlive(rec.wg[f]!, now, this.cfg.PeerAliveTimeout));
    for (const f of alive.length ? alive : usable) this.hosts[f]!.sendTo(rec.wg[f]!, plain);
  }

  /**
   * A decrypted plaintext from a configured edge's session (what the WireGuard host hands over;
   * the seam the simulator drives the supernode's core through).
   */
  receive(fam: Fam, plain: Uint8Array, from: Peer): void {
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
      if (h.kind === Kind.Register) this.register(fam, rec, payload, from);
      else {
        const m = decode.pongOrReport(payload);
        if ('pong' in m) this.ev.pong(rec, m.pong);
        else this.ev.linkReport(rec, m.report);
      }
    } catch (e) {
      if (e instanceof ProtoError) return this.log.drop(`bad control message: ${e.message}`, { from: from.nodeId, kind: h.kind });
      throw e;
    }
  }

  /** A Register payload: decoded (or the same bytes as last time: the message decoded then), then onRegister. */
  private register(fam: Fam, rec: EdgeRec, payload: Uint8Array, from: Peer): void {
    const last = this.lastRegister.get(rec);
    if (last && Buffer.compare(last.bytes, payload) === 0) return this.onRegister(fam, rec, last.msg, from, last.secret);
    const msg = decode.register(payload);
    const secret = Buffer.from(msg.JWTSecret, 'base64');
    this.lastRegister.set(rec, { bytes: payload, msg, secret });
    this.onRegister(fam, rec, msg, from, secret);
  }

  /**
   * Register: versions compared on the part before the first '-' (a mismatch answers ThrowError
   * Code 38); the JWT secret must be 32 bytes. A new secret is a new edge process, so the post
   * counter starts again; the same secret never lowers it.
   */
  private onRegister(fam: Fam, rec: EdgeRec, m: RegisterMsg, from: Peer, secret: Buffer): void {
    const id = rec.conf.NodeID;
    if (m.NodeID !== id) return this.log.drop(`Register claims NodeID ${m.NodeID} but came from peer ${id}`, { from: id });
    if (versionCore(m.Version) !== versionCore(PACKAGE_VERSION)) {
      this.log.error(`peer ${id}: version mismatch (edge ${m.Version}, supernode ${PACKAGE_VERSION})`);
      this.hosts[fam]?.sendTo(from, serverUpdateFrame(id, Action.ThrowError, 38, `version mismatch: edge ${m.Version}, supernode ${PACKAGE_VERSION}`));
      return;
    }
    if (secret.length !== 32) return this.log.drop('Register JWTSecret is not 32 bytes', { from: id });
    const now = this.clock.now();
    const wasAlive = this.alive(rec);
    this.stats.registers++;
    if (!wasAlive) this.ev.peerDirty();
    rec.lastSeen = now;
    rec.lastSeenWall = this.clock.wallMs();
    // A new secret is a new edge process (counts restart); the same one never lowers the floor.
    rec.postCount = rec.secret && rec.secret.equals(secret) ? Math.max(rec.postCount, m.HttpPostCount) : m.HttpPostCount;
    rec.secret = secret;
    rec.acked = { peer: m.PeerStateHash, nh: m.NhStateHash, params: m.SuperParamStateHash };
    this.ev.warmupRegistered(m.PeerStateHash !== '', now);
    const ep = from.endpoint ? formatEndpoint(from.endpoint) : undefined;
    if (ep !== rec.ext[fam]) {
      this.log.cat('control', 'edge endpoint', { node: id, af: fam, endpoint: ep ?? '' });
      rec.ext[fam] = ep;
      this.ev.peerDirty();
    }
    if (!wasAlive) this.log.cat('control', 'edge registered', { node: id, version: m.Version });
    if (!wasAlive) this.ev.invalidateState();
    this.ev.registered(rec);
  }
}
