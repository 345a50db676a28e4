// Pure pieces of the supernode's state: state hashes, the per-edge record, the public peer list
// (global document for the hash, per-requester body), SuperParams, the AdditionalCost rule and
// the in-memory inter-edge PSKs. No I/O here, so super-unit.test.ts can exercise all of it.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { SuperConfig, SuperPeerInfo } from '../config/index.js';
import { formatParsedEndpoint, parseEndpoint } from '../config/endpoint.js';
import type { Connurl, PeerInfoBody, SuperParamsBody } from '../proto/control.js';
import type { Peer } from '../wgnode/peers.js';

/** hex SHA-256 of the JSON text followed by the salt, first 32 hex digits (docs/control.md). */
export function stateHash(json: string, salt: string): string {
  return createHash('sha256').update(json).update(salt).digest('hex').slice(0, 32);
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** 32 random alphanumerics, chosen once per supernode start. */
export function newSalt(): string {
  return Array.from(randomBytes(32), (b) => ALNUM[b % ALNUM.length]).join('');
}

/** Versions match on the part before the first '-' (v0.3.5-f5 ≈ v0.3.5-anything). */
export const versionCore = (v: string): string => v.split('-')[0];

/**
 * AdditionalCost (ms) of the measuring edge `Dst` for one pong: the supernode's configured value
 * when it is >= 0, else the edge's own value carried in the pong (upstream bug #7 inverted this).
 * A negative result counts as 0.
 */
export function effectiveAcMs(configuredMs: number, pongMs: number): number {
  const ms = configuredMs >= 0 ? configuredMs : pongMs;
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/** The parameters one edge pulls (its own AdditionalCost included, so the hash is per edge). */
export function superParamsFor(cfg: SuperConfig, peer: SuperPeerInfo): SuperParamsBody {
  return {
    SendPingInterval: cfg.SendPingInterval,
    HttpPostInterval: cfg.HttpPostInterval,
    PeerAliveTimeout: cfg.PeerAliveTimeout,
    DampingFilterRadius: cfg.DampingFilterRadius,
    AdditionalCost: peer.AdditionalCost,
  };
}

/** What the supernode tracks per configured edge. */
export interface EdgeRec {
  /** The entry in cfg.Peers (mutated in place by the manage API). */
  conf: SuperPeerInfo;
  /** WireGuard peers on the IPv4 and IPv6 hosts. */
  wg: { 4?: Peer; 6?: Peer };
  /** Monotonic seconds of the last Register / accepted report, -Infinity if never. */
  lastSeen: number;
  /** Wall-clock ms of the same, 0 if never. */
  lastSeenWall: number;
  /** HMAC key for the edge's reports, from its latest Register. */
  secret?: Buffer;
  /** The lowest PostCount the next report may carry. */
  postCount: number;
  /** State hashes the edge reported (Register) or pulled (GET). */
  acked: { peer: string; nh: string; params: string };
  /** Observed external endpoints per family ("ip:port" / "[ip]:port"), recorded on Register. */
  ext: { 4?: string; 6?: string };
  local4: Record<string, number>;
  local6: Record<string, number>;
  /** Set while the Shutdown notices of a deletion are being sent. */
  removing: boolean;
  /** Whether the edge was alive when the cached public peer list was built (Supernode.peerState). */
  aliveSeen?: boolean;
}

export function newEdgeRec(conf: SuperPeerInfo): EdgeRec {
  return {
    conf,
    wg: {},
    lastSeen: -Infinity,
    lastSeenWall: 0,
    postCount: 0,
    acked: { peer: '', nh: '', params: '' },
    ext: {},
    local4: {},
    local6: {},
    removing: false,
  };
}

/** Replaces the IP part of "ip:port" / "[ip]:port" with `ip` if it is of the same family. */
export function withExternalIP(url: string, family: 4 | 6, externalIP: string): string {
  if (!externalIP || isIP(externalIP) !== family) return url;
  const port = url.slice(url.lastIndexOf(':') + 1);
  return family === 6 ? `[${externalIP}]:${port}` : `${externalIP}:${port}`;
}

/** One edge as the public peer list sees it. */
export interface PublicEdge {
  NodeID: number;
  PubKey: string;
  SkipLocalIP: boolean;
  alive: boolean;
  Connurl: Connurl;
}

/**
 * The global peer list (input of the PeerInfo hash), sorted by NodeID. Edges never seen at any
 * endpoint are left out; a dead edge is listed with empty Connurl maps (upstream behaviour), so
 * the others keep its key and PSK but stop trying to reach it.
 */
export function publicEdges(recs: Iterable<EdgeRec>, alive: (r: EdgeRec) => boolean): PublicEdge[] {
  const out: PublicEdge[] = [];
  for (const r of recs) {
    if (r.removing || (r.ext[4] === undefined && r.ext[6] === undefined)) continue;
    const a = alive(r);
    const c = r.conf;
    const Connurl: Connurl = { ExternalV4: {}, ExternalV6: {}, LocalV4: {}, LocalV6: {} };
    if (a) {
      if (r.ext[4] !== undefined) Connurl.ExternalV4[withExternalIP(r.ext[4], 4, c.ExternalIP)] = 4;
      if (r.ext[6] !== undefined) Connurl.ExternalV6[withExternalIP(r.ext[6], 6, c.ExternalIP)] = 6;
      if (!c.SkipLocalIP) {
        Object.assign(Connurl.LocalV4, r.local4);
        Object.assign(Connurl.LocalV6, r.local6);
      }
    }
    out.push({ NodeID: c.NodeID, PubKey: c.PubKey, SkipLocalIP: c.SkipLocalIP, alive: a, Connurl });
  }
  return out.sort((x, y) => x.NodeID - y.NodeID);
}

/**
 * The peer list one edge downloads: every other edge, with the pair PSK (or "" without
 * UsePSKForInterEdge), local addresses removed entirely when the requester has SkipLocalIP.
 */
export function peerInfoFor(
  requester: SuperPeerInfo,
  edges: readonly PublicEdge[],
  psk: ((a: number, b: number) => string) | undefined,
): PeerInfoBody {
  const out: PeerInfoBody = {};
  for (const e of edges) {
    if (e.NodeID === requester.NodeID || e.PubKey === requester.PubKey) continue;
    const u = e.Connurl;
    out[e.PubKey] = {
      NodeID: e.NodeID,
      PSKey: psk ? psk(requester.NodeID, e.NodeID) : '',
      Connurl: {
        ExternalV4: { ...u.ExternalV4 },
        ExternalV6: { ...u.ExternalV6 },
        LocalV4: requester.SkipLocalIP ? {} : { ...u.LocalV4 },
        LocalV6: requester.SkipLocalIP ? {} : { ...u.LocalV6 },
      },
    };
  }
  return out;
}

/** Random PSKs per unordered edge pair, memory only (new ones after a restart). */
export class PairPsks {
  private readonly m = new Map<string, string>();
  /**
   * Each pair's PSK is HMAC-SHA256(seed, "psk <lower NodeID> <higher NodeID>"): the same after a
   * restart (no rekey of every edge pair) and, with several supernodes sharing one etcd prefix
   * (seed = their shared secret), the same on each (and so the same peer-list hash). Unset: random
   * per process.
   */
  seed?: Buffer;
  private static key(a: number, b: number): string {
    return a < b ? `${a}-${b}` : `${b}-${a}`;
  }
  get(a: number, b: number): string {
    const k = PairPsks.key(a, b);
    let v = this.m.get(k);
    if (v === undefined) {
      v = (this.seed ? createHmac('sha256', this.seed).update(`psk ${k.replace('-', ' ')}`).digest() : randomBytes(32)).toString('base64');
      this.m.set(k, v);
    }
    return v;
  }
  /** Forgets every PSK involving `id`. */
  drop(id: number): void {
    for (const k of [...this.m.keys()]) {
      const [a, b] = k.split('-').map(Number);
      if (a === id || b === id) this.m.delete(k);
    }
  }
  get size(): number {
    return this.m.size;
  }
}

/** Why one entry of a report's local address map is unusable, or null when it is fine. */
function localEntryProblem(k: string, prio: unknown, family: 4 | 6): string | null {
  // The endpoint parser of the config and the runtime (ts/config/endpoint.ts); edges report
  // the canonical numeric form, which their peers read back by its brackets.
  const ep = parseEndpoint(k, { numeric: true });
  if (!ep.ok || ep.value.kind !== (family === 6 ? 'v6' : 'v4') || formatParsedEndpoint(ep.value) !== k) {
    return `LocalV${family}s: "${k}" is not an IPv${family} address with a port${ep.ok ? '' : ` (${ep.problem})`}`;
  }
  if (typeof prio !== 'number' || !Number.isFinite(prio)) return `LocalV${family}s: priority of "${k}" is not a finite number`;
  return null;
}

/** Checks a report's local address map: "a.b.c.d:port" (family 4) or "[v6]:port" (family 6). */
export function localMapProblem(m: Record<string, unknown>, family: 4 | 6): string | null {
  for (const [k, prio] of Object.entries(m)) {
    const why = localEntryProblem(k, prio, family);
    if (why) return why;
  }
  return null;
}

/**
 * A report's local address map split per entry (each is an item of its own): the usable
 * `"ip:port" → priority` entries, and the refused ones with their reasons.
 */
export function splitLocalMap(m: Record<string, unknown>, family: 4 | 6): { good: Record<string, number>; refused: Array<{ Item: string; Reason: string }> } {
  const good: Record<string, number> = {};
  const refused: Array<{ Item: string; Reason: string }> = [];
  for (const [k, prio] of Object.entries(m)) {
    const why = localEntryProblem(k, prio, family);
    if (why) refused.push({ Item: `LocalV${family}s/${k}`, Reason: why });
    else good[k] = prio as number;
  }
  return { good, refused };
}
