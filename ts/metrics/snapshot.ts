// The one narrow interface between the running nodes and everything that observes them (the
// Prometheus collectors, `-mode status`, the dashboard): plain snapshots of counters the data
// path already keeps. Taking one walks the peer table once; nothing here runs per packet.
import { NODE_SUPER } from '../core/frame.js';

/** One WireGuard peer as an edge sees it at the moment of the snapshot. */
export interface PeerSnapshot {
  /** NodeID of the peer (65533 for a supernode session). */
  nodeId: number;
  /** Live endpoint "ip:port" / "[ip6]:port", "" if none yet. */
  endpoint: string;
  /** Wall-clock ms (Unix epoch) of the last completed handshake, 0 = never. */
  lastHandshakeMs: number;
  /** Bytes of UDP payload received from / sent to the peer (WireGuard messages, all kinds). */
  rxBytes: number;
  txBytes: number;
  /** Whether this is a supernode session (there may be two: IPv4 and IPv6, same NodeID). */
  isSuper: boolean;
  /**
   * Alive by the node's rule (peerAlive, ts/wgnode/peers.ts: an authenticated packet less than
   * PeerAliveTimeout s ago); absent when the snapshot was taken without a timeout.
   */
  alive?: boolean;
}

/** What an edge reports about itself (Edge.snapshot()). */
export interface EdgeSnapshot {
  nodeId: number;
  nodeName: string;
  peers: PeerSnapshot[];
  /**
   * Filtered one-way latency peer → this node, seconds, per peer NodeID (super mode; the median
   * filter's output, the value reported to the supernode). It includes the clock offset between
   * the two nodes (docs/routing.md). Peers never measured are absent.
   */
  latencyS: Map<number, number>;
  /**
   * Peers whose latency filter has not yet seen a full window of samples (2·DampingFilterRadius
   * + 1): their latencyS may still fall. Absent (older producers) means none.
   */
  settling?: Set<number>;
  /**
   * Whether this edge pings its peers (super and P2P mode): without pings (static mode) a peer
   * that sent nothing for PeerAliveTimeout is idle, not known to be dead. Absent means true.
   */
  probing?: boolean;
  /** Frames relayed for other nodes (counted once per relayed frame, however many next hops). */
  forwarded: number;
  /** Drops by reason text, as the data path counts them (Edge.drop). */
  drops: Record<string, number>;
  /** Next hop from this node to each known destination (NodeID → NodeID); unroutable ones absent. */
  nextHops: Map<number, number>;
  /**
   * The core's under-load defence (WgDevice.loadStats, crates/eg-core/src/session/ratelimit.rs):
   * counts since start of handshake messages, cookie replies sent, messages refused per source
   * address, and times the edge went under load. Absent from snapshots made without a device.
   */
  handshakeLoad?: { handshakes: number; underLoad: number; cookieReplies: number; rateLimited: number; episodes: number };
}

/** A directed link as the supernode sees it. */
export interface LinkSnapshot {
  from: number;
  to: number;
  /** Effective one-way latency, seconds, without AdditionalCost (clock offsets included). */
  latencyS: number;
}

/** What a supernode reports about itself (Supernode.metricsSnapshot()). */
export interface SuperSnapshot {
  nodeName: string;
  /** Configured edges and whether each is alive (registered within PeerAliveTimeout). */
  edges: Array<{ nodeId: number; name: string; up: boolean }>;
  /** Links with a current (finite, unexpired) measurement. */
  links: LinkSnapshot[];
  /** Route solves run (each one the hysteresis asked for), since start. */
  recalculations: number;
  /** Solves that raised links to break a negative cycle among the measurements, since start. */
  negativeCycleRepairs: number;
  /** (src, dst) entries of the published next-hop table that changed, summed over all changes. */
  nextHopChanges: number;
}

/**
 * Folds the supernode sessions (IPv4 and IPv6, both NodeID 65533) into one entry, so a
 * per-peer series is unique: bytes summed, the latest handshake, the first endpoint.
 */
export function mergeSuperSessions(peers: readonly PeerSnapshot[]): PeerSnapshot[] {
  const out: PeerSnapshot[] = [];
  let sup: PeerSnapshot | undefined;
  for (const p of peers) {
    if (p.nodeId !== NODE_SUPER) {
      out.push(p);
      continue;
    }
    if (!sup) {
      sup = { ...p };
      out.push(sup);
      continue;
    }
    sup.rxBytes += p.rxBytes;
    sup.txBytes += p.txBytes;
    sup.lastHandshakeMs = Math.max(sup.lastHandshakeMs, p.lastHandshakeMs);
    // The supernode is reachable while either session (IPv4 / IPv6) is.
    if (p.alive !== undefined) sup.alive = sup.alive === true || p.alive;
    if (!sup.endpoint) sup.endpoint = p.endpoint;
  }
  return out.sort((a, b) => a.nodeId - b.nodeId);
}

/**
 * A drop reason as a label value of bounded cardinality: the data path writes NodeIDs and sizes
 * into some reasons ("no route from 1 to 7"); each standalone number becomes "N" so one series
 * counts the kind, not every pair. Reasons without numbers pass unchanged.
 */
export function dropKind(reason: string): string {
  return reason.replace(/\b\d+\b/g, 'N');
}
