// The supernode's state document (GET {API_Prefix}/manage/super/state), shared by the supernode
// that builds it, the manage API that serves it and the dashboard that draws it.
import type { ClockView } from './clockwatch.js';

/** GET {prefix}/manage/super/state. */
export interface HttpState {
  /** NodeID → name and the wall-clock time of its last Register / report (ISO 8601, "" = never). */
  PeerInfo: Record<string, { Name: string; LastSeen: string }>;
  /**
   * The number that means "no edge" / "unreachable" in Edges, Edges_Nh, Dist and Dist_noAC:
   * upstream's 99999, unless a measured value (which carries clock offsets) reaches it; then the
   * smallest 999…9 above every value in this document. Compare with this field, not a constant.
   */
  Infinity: number;
  /** Edges[src][dst]: current one-way latency (s) without AC, as measured (clock offsets included); `Infinity` if none or expired. */
  Edges: Record<string, Record<string, number>>;
  /** Weights (s, with AC) the last route solve used. */
  Edges_Nh: Record<string, Record<string, number>>;
  NhTable: Record<string, Record<string, number>>;
  Dist: Record<string, Record<string, number>>;
  Dist_noAC: Record<string, Record<string, number>>;
  /** Our addition: per-edge status. */
  Status: Record<string, PeerStatus>;
  /** Our addition: clock offset and drift per node and node pair (ts/super/clockwatch.ts, docs/supernode.md). */
  Clocks: ClockView;
}

export interface PeerStatus {
  Alive: boolean;
  /** Seconds since LastSeen, -1 = never. */
  LastSeenAgo: number;
  ExternalV4: string;
  ExternalV6: string;
  LocalV4s: Record<string, number>;
  LocalV6s: Record<string, number>;
  /** Whether the edge holds the current PeerInfo / NhTable / SuperParams state. */
  Synced: { PeerInfo: boolean; NhTable: boolean; SuperParams: boolean };
}
