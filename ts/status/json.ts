// The document `-mode status -json` prints, per node, and that each node returns for the UAPI
// operation `eg_status=1` (docs/observability.md). Field names and shapes are fixed by the
// issue: {"nodes":[{"NodeName","NodeID","peers":[{"NodeID","endpoint","lastHandshake","rxBytes",
// "txBytes","latencyMs"}],"nextHops":{"<dst>":<nexthop>}}]}; more keys may be added, none removed.
import { mergeSuperSessions, type EdgeSnapshot, type PeerSnapshot } from '../metrics/snapshot.js';

export interface StatusPeer {
  NodeID: number;
  /** "ip:port" / "[ip6]:port", "" while no endpoint is known. */
  endpoint: string;
  /** Last completed handshake, ISO 8601 (UTC), or null if none. */
  lastHandshake: string | null;
  rxBytes: number;
  txBytes: number;
  /** Filtered one-way latency peer → this node, milliseconds (clock offset included), or null. */
  latencyMs: number | null;
  /** Added key: this peer is a supernode session (NodeID 65533). */
  supernode: boolean;
  /**
   * Added key: an authenticated packet came from the peer less than PeerAliveTimeout s ago (the
   * edge's rule, peerAlive in ts/wgnode/peers.ts). latencyMs of a peer that is not alive is its
   * last value, stale.
   */
  alive: boolean;
  /**
   * Added key: latencyMs comes from fewer samples than the filter's window (2·DampingFilterRadius
   * + 1, about that many SendPingIntervals after the link came up), so it may still fall.
   */
  settling: boolean;
}

export interface StatusNode {
  NodeName: string;
  NodeID: number;
  peers: StatusPeer[];
  /** Destination NodeID (decimal string) → next hop NodeID. */
  nextHops: Record<string, number>;
  /** Added key: "edge" or "super". */
  role: 'edge' | 'super';
  /**
   * Added key: the node hears from every live peer at least every PeerAliveTimeout (super and P2P
   * edges ping their peers; edges register with the supernode). Without that (static mode) a
   * peer that is not `alive` has only been quiet: the table says idle, not dead.
   */
  probing: boolean;
}

export interface StatusDoc {
  nodes: StatusNode[];
}

/** One peer row from a snapshot peer and its latency (seconds) if measured. */
export function statusPeer(p: PeerSnapshot, latencyS: number | undefined, settling = false): StatusPeer {
  return {
    NodeID: p.nodeId,
    endpoint: p.endpoint,
    lastHandshake: p.lastHandshakeMs > 0 ? new Date(p.lastHandshakeMs).toISOString() : null,
    rxBytes: p.rxBytes,
    txBytes: p.txBytes,
    latencyMs: latencyS !== undefined && Number.isFinite(latencyS) ? latencyS * 1000 : null,
    supernode: p.isSuper,
    alive: p.alive === true,
    settling: settling && latencyS !== undefined && Number.isFinite(latencyS),
  };
}

/** An edge's status entry from its snapshot (supernode sessions folded into one peer 65533). */
export function edgeStatus(s: EdgeSnapshot): StatusNode {
  return {
    NodeName: s.nodeName,
    NodeID: s.nodeId,
    peers: mergeSuperSessions(s.peers).map((p) => statusPeer(p, p.isSuper ? undefined : s.latencyS.get(p.nodeId), s.settling?.has(p.nodeId) ?? false)),
    nextHops: Object.fromEntries([...s.nextHops].map(([d, nh]) => [String(d), nh])),
    role: 'edge',
    probing: s.probing ?? true,
  };
}
