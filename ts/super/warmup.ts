// A restarted supernode knows nothing: every edge looks dead and no link is measured. If it
// published at once, the first edge to register again would pull a peer list holding only the
// edges registered so far and remove the others (dropping live edge-to-edge sessions), then pull
// a next-hop table solved from no links (dropping every frame for lack of a route), while the
// edges themselves had a complete, working state all along. So after a restart the supernode
// holds back its PeerInfo and NhTable notices (never SuperParams) until it knows as much as
// before: every configured edge registered and reported its links, or a deadline passed.
//
// A fresh start (edges with no state) must not wait for edges that are not running: the first
// Register decides. An edge that announces a PeerInfo state hash was served by an earlier
// supernode, so this is a restart and the warm-up runs; an edge without one means a fresh
// network, and notices flow at once as before. docs/supernode.md, "Restarts".

/**
 * WireGuard's KEEPALIVE_TIMEOUT + REKEY_TIMEOUT (s, whitepaper §6.5 / wireguard-go
 * device/constants.go): an edge whose supernode session went silent starts a new handshake within
 * this time, so every running edge has registered again by then (plus its report interval).
 */
const SESSION_RECOVERY_S = 15;

export type WarmupPhase = 'undecided' | 'warming' | 'done';

/** An edge as the warm-up sees it: its NodeID and whether it is registered (alive) now. */
export interface WarmupEdge {
  id: number;
  alive: boolean;
}

export class Warmup {
  phase: WarmupPhase = 'undecided';
  /** Edges whose links reached this process (a LinkReport, Pong or HTTP report) since start. */
  private readonly reported = new Set<number>();
  private deadline = Infinity;
  private windowS = 0;

  /**
   * Sets the longest warm-up (s): min(PeerAliveTimeout, 15 s + 2 · SendPingInterval), counted
   * from the first Register that carries state. An edge that has not registered and reported by
   * then is taken for down, and the others should not wait for it any longer.
   */
  configure(peerAliveTimeoutS: number, sendPingIntervalS: number): void {
    this.windowS = Math.min(peerAliveTimeoutS, SESSION_RECOVERY_S + 2 * Math.max(0, sendPingIntervalS));
  }

  /**
   * A Register at `nowS` (monotonic s); `hasState`: the edge announced a PeerInfo state hash, so
   * an earlier supernode served it. The first Register decides whether a warm-up runs.
   */
  registered(hasState: boolean, nowS: number): void {
    if (this.phase !== 'undecided') return;
    this.phase = hasState ? 'warming' : 'done';
    this.deadline = nowS + this.windowS;
  }

  /** Links measured by edge `id` were applied. */
  reportedBy(id: number): void {
    if (this.phase !== 'done') this.reported.add(id);
  }

  /**
   * Whether PeerInfo and NhTable notices may go out now; ends the warm-up (returns true from then
   * on) once every edge in `edges` is alive and has reported, or at the deadline. O(N) while
   * warming, O(1) after.
   */
  publishing(nowS: number, edges: Iterable<WarmupEdge>): boolean {
    if (this.phase === 'done') return true;
    if (this.phase === 'undecided') return true; // no edge registered yet: nothing to hold back
    if (nowS >= this.deadline) return this.finish();
    for (const e of edges) if (!e.alive || !this.reported.has(e.id)) return false;
    return this.finish();
  }

  private finish(): true {
    this.phase = 'done';
    this.reported.clear();
    return true;
  }
}
