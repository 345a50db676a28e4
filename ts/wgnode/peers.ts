// The edge's peers: one WireGuard peer per remote NodeID, with its live endpoint, the packets
// waiting for a session, and the counters `wg show` reports.
import { Endpoint } from './endpoint.js';

export const QUEUE_LIMIT = 128;

/** A plaintext waiting for a session: its bytes (Etherguard header first) and when it was queued (monotonic s). */
export interface Queued {
  plain: Uint8Array;
  at: number;
}

export interface Peer {
  nodeId: number;
  wgId: number;
  publicKey: Uint8Array;
  psk?: Uint8Array;
  /** The endpoint as configured (host:port), re-resolved for static peers. */
  configured?: string;
  endpoint?: Endpoint;
  isStatic: boolean;
  isSuper: boolean;
  keepalive: number;
  /** Plaintexts waiting for a session (at most QUEUE_LIMIT), oldest first. */
  queue: Queued[];
  rxBytes: number;
  txBytes: number;
  /** Monotonic seconds of the last authenticated packet, or -Infinity. */
  lastRx: number;
  /** Wall-clock ms of the last completed handshake, or 0. */
  lastHandshakeMs: number;
  /**
   * Monotonic seconds of the last message from this peer that failed to decrypt (a handshake
   * response under another PSK, or a damaged packet), or undefined: with no session, the sign of
   * a PSKey that differs from the peer's.
   */
  decryptFailedAt?: number;
}

/** Edge peers by NodeID; supernode sessions (two of them, v4 and v6, both NodeID 65533) apart. */
/**
 * The edge's liveness rule (upstream: a peer is alive while now - LastPingReceived <
 * PeerAliveTimeout): it has an endpoint and sent an authenticated packet less than `timeoutS`
 * seconds ago. `nowS` and `p.lastRx` are monotonic seconds (Peer.lastRx).
 */
export function peerAlive(p: Pick<Peer, 'endpoint' | 'lastRx'>, nowS: number, timeoutS: number): boolean {
  return p.endpoint !== undefined && nowS - p.lastRx < timeoutS;
}

export class PeerTable {
  private readonly byNode = new Map<number, Peer>();
  private readonly byWg = new Map<number, Peer>();
  readonly supers: Peer[] = [];

  add(p: Peer): void {
    if (p.isSuper) this.supers.push(p);
    else this.byNode.set(p.nodeId, p);
    this.byWg.set(p.wgId, p);
  }
  remove(p: Peer): void {
    if (p.isSuper) this.supers.splice(this.supers.indexOf(p), 1);
    else if (this.byNode.get(p.nodeId) === p) this.byNode.delete(p.nodeId);
    this.byWg.delete(p.wgId);
  }
  /** Every peer, supernode sessions included. */
  every(): IterableIterator<Peer> {
    return this.byWg.values();
  }
  node(id: number): Peer | undefined {
    return this.byNode.get(id);
  }
  wg(id: number): Peer | undefined {
    return this.byWg.get(id);
  }
  /** Edge peers (no supernode sessions). */
  all(): IterableIterator<Peer> {
    return this.byNode.values();
  }
  get size(): number {
    return this.byNode.size;
  }
}
