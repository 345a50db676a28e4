// Supernode → edge notices: ServerUpdate frames (kind 6, src 65533, dst = the edge, TTL 0), the
// decision which state hashes an edge still has to pull, and the Publisher that owns the
// published states' hashes and sends the notices (docs/supernode.md, "State hashes and pushes").
import type { SuperConfig } from '../config/index.js';
import { HEADER_LEN, Kind, NODE_SUPER, writeHeader } from '../core/frame.js';
import { Action, encode, type PeerInfoBody, type ServerUpdateMsg, type SuperParamsBody } from '../proto/control.js';
import type { Scheduler } from '../scheduler.js';
import type { Logger } from '../shared/log.js';
import type { Clock } from '../wgnode/clock.js';
import { peerInfoFor, publicEdges, stateHash, superParamsFor, type EdgeRec, type PairPsks, type PublicEdge } from './state.js';
import type { Warmup, WarmupEdge } from './warmup.js';

export function serverUpdateFrame(edgeId: number, action: Action, code: number, params: string): Uint8Array {
  const msg: ServerUpdateMsg = { v: 1, NodeID: edgeId, Action: action, Code: code, Params: params };
  const payload = encode(msg);
  const plain = new Uint8Array(HEADER_LEN + payload.length);
  writeHeader(plain, { kind: Kind.ServerUpdate, ttl: 0, dst: edgeId, src: NODE_SUPER, len: payload.length });
  plain.set(payload, HEADER_LEN);
  return plain;
}

export interface CurrentHashes {
  peer: string;
  nh: string;
  /** This edge's SuperParams hash. */
  params: string;
}

/** The Update notices an edge needs: every hash it has not acked, plus NhTable when forced. */
export function pendingUpdates(rec: EdgeRec, cur: CurrentHashes, forceNh: boolean): { action: Action; hash: string }[] {
  const out: { action: Action; hash: string }[] = [];
  if (rec.acked.peer !== cur.peer) out.push({ action: Action.UpdatePeer, hash: cur.peer });
  if (forceNh || rec.acked.nh !== cur.nh) out.push({ action: Action.UpdateNhTable, hash: cur.nh });
  if (rec.acked.params !== cur.params) out.push({ action: Action.UpdateSuperParams, hash: cur.params });
  return out;
}

/** What the Publisher reads and calls of the rest of the supernode. */
export interface PublishContext {
  readonly cfg: SuperConfig;
  readonly clock: Clock;
  readonly sched: Scheduler;
  readonly log: Logger;
  readonly edges: ReadonlyMap<number, EdgeRec>;
  /** The published next-hop table's hash, and the solve the end of a warm-up runs. */
  readonly routes: { readonly hash: string; check(nowS: number): boolean };
  readonly warmup: Warmup;
  readonly psks: PairPsks;
  alive(rec: EdgeRec): boolean;
  /** Sends on every session of the edge that has an endpoint. */
  sendBoth(rec: EdgeRec, plain: Uint8Array): void;
  invalidateState(): void;
  stopped(): boolean;
}

/**
 * The published states and their notices. PeerInfo (the public peer list) is global and cached
 * until something it shows changes; NhTable's hash is the route state's; SuperParams is per edge.
 * `pushAll` runs every second (and after changes): each alive edge gets a notice per state it has
 * not acked, and every RePushConfigInterval an UpdateNhTable whether it acked or not. While a
 * restarted supernode warms up (warmup.ts), PeerInfo and NhTable notices are held back.
 */
export class Publisher {
  private salt: string;
  private lastForce = 0;
  private lastPeerHash = '';
  /** The public peer list and its hash, until something it depends on changes (peerDirty). */
  private peerCache?: { hash: string; edges: PublicEdge[] };

  constructor(
    private readonly c: PublishContext,
    salt: string,
  ) {
    this.salt = salt;
  }

  /** A new state-hash salt (several supernodes on one etcd prefix share theirs). */
  setSalt(salt: string): void {
    this.salt = salt;
    this.peerDirty();
  }

  /** Starts the RePushConfigInterval clock (at start). */
  startForceClock(nowS: number): void {
    this.lastForce = nowS;
  }

  /**
   * The global peer list and its hash. Cached: rebuilt (O(N)) only after something it shows
   * changed (peerDirty: an edge added, removed, coming alive or dying, a new endpoint or local
   * address, a peer/update), not for every Register of every edge.
   */
  peerState(): { hash: string; edges: PublicEdge[] } {
    if (this.peerCache) return this.peerCache;
    for (const r of this.c.edges.values()) r.aliveSeen = this.c.alive(r);
    const edges = publicEdges(this.c.edges.values(), (r) => r.aliveSeen === true);
    return (this.peerCache = { hash: stateHash(JSON.stringify(edges), this.salt), edges });
  }

  /** Something the public peer list shows has changed: rebuild it on next use. */
  peerDirty(): void {
    this.peerCache = undefined;
  }

  /** Marks the peer list dirty when an edge came alive or died since the list was built (O(N)). */
  private sweepAlive(): void {
    for (const r of this.c.edges.values()) if (r.aliveSeen !== this.c.alive(r)) return this.peerDirty();
  }

  peerInfoBody(rec: EdgeRec, edges: PublicEdge[]): PeerInfoBody {
    return peerInfoFor(rec.conf, edges, this.c.cfg.UsePSKForInterEdge ? (a, b) => this.c.psks.get(a, b) : undefined);
  }

  /**
   * One edge's SuperParams and their state hash. The body is built every time (it follows the
   * config and the edge's record as they are now); the hash is recomputed only when the body's
   * JSON or the salt differs from the last call for this record: the supernode asks after every
   * Register and in every 1-s push loop, two SHA-256 per edge per second at N = 1000.
   */
  paramsState(rec: EdgeRec): { hash: string; body: SuperParamsBody } {
    const body = superParamsFor(this.c.cfg, rec.conf);
    const json = JSON.stringify(body);
    const last = this.paramsHashes.get(rec);
    if (last && last.json === json && last.salt === this.salt) return { hash: last.hash, body };
    const hash = stateHash(json, this.salt);
    this.paramsHashes.set(rec, { json, salt: this.salt, hash });
    return { hash, body };
  }

  /** paramsState's last JSON, salt and hash per edge record. */
  private readonly paramsHashes = new WeakMap<EdgeRec, { json: string; salt: string; hash: string }>();

  /** `open`: PeerInfo and NhTable may be announced (publishing()); SuperParams always may. */
  private pushEdge(rec: EdgeRec, peerHash: string, forceNh: boolean, open: boolean): void {
    if (rec.removing || !this.c.alive(rec)) return;
    const cur = open ? { peer: peerHash, nh: this.c.routes.hash } : { peer: rec.acked.peer, nh: rec.acked.nh };
    for (const u of pendingUpdates(rec, { ...cur, params: this.paramsState(rec).hash }, forceNh && open)) {
      this.c.sendBoth(rec, serverUpdateFrame(rec.conf.NodeID, u.action, 0, u.hash));
    }
  }

  /** The 1-s loop (and after changes): notices to alive edges that lack a state; forced NhTable every RePushConfigInterval. */
  pushAll(): void {
    if (this.c.stopped()) return;
    const now = this.c.clock.now();
    const force = now - this.lastForce >= this.c.cfg.RePushConfigInterval;
    if (force) this.lastForce = now;
    this.sweepAlive();
    const open = this.publishing();
    const peerHash = this.peerState().hash;
    this.lastPeerHash = peerHash;
    for (const rec of this.c.edges.values()) this.pushEdge(rec, peerHash, force, open);
  }

  /** After a Register of `rec`: a changed peer list goes to everyone at once; otherwise only this edge gets what it lacks. */
  registered(rec: EdgeRec): void {
    const peerHash = this.peerState().hash;
    if (peerHash !== this.lastPeerHash) this.pushAll();
    else this.pushEdge(rec, peerHash, false, this.publishing());
  }

  private *warmupEdges(): Iterable<WarmupEdge> {
    for (const r of this.c.edges.values()) if (!r.removing) yield { id: r.conf.NodeID, alive: this.c.alive(r) };
  }

  /**
   * Whether PeerInfo and NhTable may be announced (false while a restarted supernode warms up,
   * ts/super/warmup.ts). The call that ends the warm-up solves first, so the first table
   * announced is solved from every reported link.
   */
  publishing(): boolean {
    const c = this.c;
    const was = c.warmup.phase;
    const open = c.warmup.publishing(c.clock.now(), this.warmupEdges());
    if (open && was === 'warming') {
      c.log.info(`restart warm-up over: ${[...this.warmupEdges()].filter((e) => e.alive).length} of ${c.edges.size} edge(s) registered again; announcing the peer list and next-hop table`);
      c.routes.check(c.clock.now());
      c.invalidateState();
      c.sched.after(0, () => this.pushAll());
    }
    return open;
  }
}
