// The P2P routing state of one edge, without I/O (ts/p2p/client.ts does the sending): the keys
// of known nodes (configured keys win; a discovered node's first-seen key wins), per-origin
// sequence numbers and (origin, seq) dedup, the latency graph (the same WASM RouteGraph the
// supernode uses: expiry, offset-invariant hysteresis and cooldown, deterministic ties) and the
// next-hop table solved from it. Every accept* call returns either what to apply or the reason
// the message was dropped, so the caller counts and logs it. Trust model: docs/p2p.md.
import { Kind } from '../core/frame.js';
import { RouteGraph, type RecalculateSetting } from '../core/graph.js';
import type { TableRows } from '../core/table.js';
import { keyFromBase64, keyToBase64 } from '../core/wg.js';
import { checkPeer, checkReport, linkTriples, open, reportLinks, seal, type PeerBody, type ReportBody, type ReportLink } from './proto.js';
import type { SignApi } from './sign.js';

/** The drop reason of a flood copy already seen (normal in a flood: one copy per neighbour). */
export const DUPLICATE = 'p2p: duplicate (origin, seq)';

export type KeySource = 'config' | 'discovered' | 'self';

export interface MeshOptions {
  me: number;
  privateKey: Uint8Array;
  publicKey: Uint8Array;
  signer: SignApi;
  graph: RecalculateSetting & { manualLatency?: Record<string, Record<string, number>> };
  /** s: the longest a reported link stays valid here (this node's PeerAliveTimeout). */
  peerAliveTimeout: number;
  /** s: how long an (origin, seq) pair is remembered (DupCheckTimeout; 0 = only the sequence rule). */
  dupCheckTimeout: number;
}

export type Drop = { ok: false; reason: string; fields?: Record<string, unknown> };
export type Accepted<T> = { ok: true } & T;

/** What a verified self-description asks the caller to do. */
export interface PeerNews {
  origin: number;
  key: Uint8Array;
  endpoints: string[];
  /** The node was not known before (its key is now bound to its NodeID). */
  isNew: boolean;
}

export class P2PMesh {
  readonly me: number;
  readonly graph: RouteGraph;
  private readonly keys = new Map<number, { key: Uint8Array; b64: string; source: KeySource }>();
  private readonly byKey = new Map<string, number>();
  /** Last accepted seq per "kind:origin", with the local monotonic time it arrived (s). */
  private readonly lastSeq = new Map<string, { seq: number; at: number }>();
  /** "kind:origin:seq" → when seen (s). */
  private readonly seen = new Map<string, number>();
  private seqCounter = 0;
  private table: TableRows = {};
  private tableJson = '{}';
  /** Solves run since start. */
  solves = 0;

  constructor(private readonly o: MeshOptions) {
    this.me = o.me;
    this.graph = new RouteGraph(o.graph);
    if (o.graph.manualLatency) this.graph.setManualLatency(o.graph.manualLatency);
    this.bind(o.me, o.publicKey, 'self');
  }

  /** The key bound to `id`, if any. */
  keyOf(id: number): { key: Uint8Array; source: KeySource } | undefined {
    return this.keys.get(id);
  }

  /** Known node ids (self included), ascending. */
  known(): number[] {
    return [...this.keys.keys()].sort((a, b) => a - b);
  }

  /**
   * Binds a configured peer's key (configured keys win over anything flooded). Throws when the
   * NodeID is this node's or the key is already another node's.
   */
  addConfigured(id: number, key: Uint8Array): void {
    const b64 = keyToBase64(key);
    const owner = this.byKey.get(b64);
    if (owner !== undefined && owner !== id) throw new Error(`public key of node ${id} is already node ${owner}'s`);
    if (id === this.me) throw new Error(`node ${id} is this node`);
    this.bind(id, key, 'config');
  }

  private bind(id: number, key: Uint8Array, source: KeySource): void {
    const b64 = keyToBase64(key);
    const old = this.keys.get(id);
    if (old) this.byKey.delete(old.b64);
    this.keys.set(id, { key: Uint8Array.from(key), b64, source });
    this.byKey.set(b64, id);
    this.graph.addNode(id);
  }

  /**
   * Sequence numbers: wall-clock milliseconds, and always above the previous one, so a restarted
   * node (whose receivers still remember its last seq) continues above it unless its clock went
   * back, in which case receivers accept it again once they have not heard the origin for
   * PeerAliveTimeout.
   */
  nextSeq(wallMs: number): number {
    this.seqCounter = Math.max(this.seqCounter + 1, Math.floor(wallMs));
    return this.seqCounter;
  }

  /** This node's signed report of its incoming links (each Src → me). */
  report(links: ReportLink[], acMs: number, wallMs: number): { body: ReportBody; payload: Uint8Array } {
    const body: ReportBody = { v: 1, Origin: this.me, Seq: this.nextSeq(wallMs), AdditionalCost: acMs, Links: linkTriples(links) };
    return { body, payload: seal(Kind.Pong, body, (m) => this.o.signer.sign(this.o.privateKey, m)) };
  }

  /** This node's signed self-description (kind BroadcastPeer, or QueryPeer to ask for everyone's). */
  describe(kind: Kind.BroadcastPeer | Kind.QueryPeer, endpoints: string[], wallMs: number): { body: PeerBody; payload: Uint8Array } {
    const body: PeerBody = { v: 1, Origin: this.me, Seq: this.nextSeq(wallMs), PubKey: keyToBase64(this.o.publicKey), PSK: 'none', Endpoints: endpoints };
    return { body, payload: seal(kind, body, (m) => this.o.signer.sign(this.o.privateKey, m)) };
  }

  /** Applies this node's own measurements (links Src → me) to its graph. */
  applyOwn(body: ReportBody, now: number): void {
    this.applyLinks(body, now);
  }

  private applyLinks(b: ReportBody, now: number): void {
    for (const l of reportLinks(b)) {
      this.graph.addNode(l.Src);
      this.graph.applyPong(l.Src, b.Origin, l.Timediff, b.AdditionalCost, 0, Math.min(l.TimeToAlive, this.o.peerAliveTimeout), now);
    }
  }

  /** Sequence and (origin, seq) checks shared by both message types; records an accepted one. */
  private fresh(kind: number, origin: number, seq: number, now: number): Drop | undefined {
    for (const [k, t] of this.seen) {
      if (now - t <= this.o.dupCheckTimeout) break; // insertion order = time order
      this.seen.delete(k);
    }
    const id = `${kind}:${origin}:${seq}`;
    if (this.seen.has(id)) return { ok: false, reason: DUPLICATE, fields: { origin, seq, kind } };
    const k = `${kind}:${origin}`;
    const last = this.lastSeq.get(k);
    // An origin silent for PeerAliveTimeout may have restarted with a clock that went back.
    if (last && seq <= last.seq && now - last.at < this.o.peerAliveTimeout) {
      return { ok: false, reason: 'p2p: stale sequence number', fields: { origin, seq, last: last.seq, kind } };
    }
    return undefined;
  }

  private record(kind: number, origin: number, seq: number, now: number): void {
    this.lastSeq.set(`${kind}:${origin}`, { seq, at: now });
    if (this.o.dupCheckTimeout > 0) this.seen.set(`${kind}:${origin}:${seq}`, now);
  }

  /**
   * A flooded latency report whose header source is `hSrc`. Accepted only if the header source is
   * the report's Origin, the Origin's key is known (configured, or learnt from its own
   * self-description), the signature verifies with that key, no link claims Origin → Origin, and
   * the sequence number is new; then its links (each Src → Origin) go into the graph.
   */
  acceptReport(hSrc: number, payload: Uint8Array, now: number): Accepted<{ body: ReportBody }> | Drop {
    let env, body: ReportBody;
    try {
      env = open(Kind.Pong, payload);
      body = checkReport(env.body);
    } catch (e) {
      return { ok: false, reason: 'p2p report: malformed', fields: { src: hSrc, error: (e as Error).message } };
    }
    if (body.Origin !== hSrc) return { ok: false, reason: 'p2p report: origin differs from the header source', fields: { src: hSrc, origin: body.Origin } };
    if (body.Origin === this.me) return { ok: false, reason: 'p2p report: claims to be ours', fields: { src: hSrc } };
    const k = this.keys.get(body.Origin);
    if (!k) return { ok: false, reason: 'p2p report: origin unknown (no key yet)', fields: { origin: body.Origin } };
    if (!this.o.signer.verify(k.key, env.signed, env.sig)) return { ok: false, reason: 'p2p report: bad signature', fields: { origin: body.Origin, seq: body.Seq } };
    if (body.Links.some((l) => l[0] === body.Origin)) return { ok: false, reason: 'p2p report: link from the origin to itself', fields: { origin: body.Origin } };
    const stale = this.fresh(Kind.Pong, body.Origin, body.Seq, now);
    if (stale) return stale;
    this.record(Kind.Pong, body.Origin, body.Seq, now);
    this.applyLinks(body, now);
    return { ok: true, body };
  }

  /**
   * A flooded self-description (kind 9 or 10). Accepted only if the header source is its Origin,
   * it is signed by the key it carries, and that key does not contradict what is known: a known
   * NodeID keeps its key (configured or first seen), and a key already bound to another NodeID
   * is refused. Returns the origin's key and endpoints (and whether it is new).
   */
  acceptPeer(kind: number, hSrc: number, payload: Uint8Array, now: number): Accepted<{ news: PeerNews; body: PeerBody }> | Drop {
    let env, body: PeerBody;
    try {
      env = open(kind, payload);
      body = checkPeer(env.body);
    } catch (e) {
      return { ok: false, reason: 'p2p peer: malformed', fields: { src: hSrc, error: (e as Error).message } };
    }
    if (body.Origin !== hSrc) return { ok: false, reason: 'p2p peer: origin differs from the header source', fields: { src: hSrc, origin: body.Origin } };
    if (body.Origin === this.me) return { ok: false, reason: 'p2p peer: claims to be us', fields: { src: hSrc } };
    const key = keyFromBase64(body.PubKey);
    if (!this.o.signer.verify(key, env.signed, env.sig)) return { ok: false, reason: 'p2p peer: bad signature', fields: { origin: body.Origin, seq: body.Seq } };
    const known = this.keys.get(body.Origin);
    if (known && known.b64 !== body.PubKey) {
      return { ok: false, reason: 'p2p peer: key differs from the known key of its NodeID', fields: { origin: body.Origin, known: known.source } };
    }
    const owner = this.byKey.get(body.PubKey);
    if (owner !== undefined && owner !== body.Origin) return { ok: false, reason: "p2p peer: key is another node's", fields: { origin: body.Origin, owner } };
    const stale = this.fresh(kind, body.Origin, body.Seq, now);
    if (stale) return stale;
    this.record(kind, body.Origin, body.Seq, now);
    if (!known) this.bind(body.Origin, key, 'discovered');
    return { ok: true, body, news: { origin: body.Origin, key, endpoints: body.Endpoints, isNew: !known } };
  }

  /**
   * Solves when the hysteresis says so (a link came or went, a change beyond the jitter
   * tolerance outside the cooldown); returns the new table when the next hops changed.
   * Throws RouteGraphError (negative cycle), keeping the previous table.
   */
  solve(now: number): TableRows | undefined {
    if (!this.graph.recalcNeeded(now)) return undefined;
    const changed = this.graph.solve(now);
    this.solves++;
    if (!changed) return undefined;
    const t = this.graph.nextHopTable();
    const json = JSON.stringify(t);
    if (json === this.tableJson) return undefined;
    this.table = t;
    this.tableJson = json;
    return t;
  }

  /** Whether this node's row has a route to every node whose key it knows. */
  complete(): boolean {
    const row = this.table[String(this.me)] ?? {};
    return this.known().every((id) => id === this.me || row[String(id)] !== undefined);
  }

  /** The current next-hop table (all rows, as every node computes it). */
  get nhTable(): TableRows {
    return this.table;
  }

  free(): void {
    this.graph.free();
  }
}
