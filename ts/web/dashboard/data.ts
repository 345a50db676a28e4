// The document GET {API_Prefix}/dashboard/data returns, declared once for both sides: the
// supernode (ts/dashboard/plugin.ts, ts/metrics/routelog.ts) and the page (./main.ts) import
// these types; the response schema in plugin.ts checks the same fields at run time.

/** One changed entry of the next-hop table. */
export interface RouteChange {
  /** Increasing from 1 per supernode run; the dashboard asks for entries after the last it has. */
  seq: number;
  /** Wall-clock ms (Unix epoch) of the solve that published the change. */
  atMs: number;
  src: number;
  dst: number;
  /** Next hop before / after; null = no route. */
  oldNh: number | null;
  newNh: number | null;
  /** The new route as NodeIDs src … dst (empty when there is none). */
  path: number[];
  /** Cost (s, with AdditionalCost) of the new route / of going through the old next hop now; null = unreachable. */
  newCostS: number | null;
  oldCostS: number | null;
  /** Why, in words, with the sums in ms (e.g. "via 2: 1→2 5.0 + 2→3 7.1 = 12.1 ms < via 3: 1→3 200.4 ms"). */
  why: string;
}

/**
 * GET {prefix}/dashboard/data. Flat row-major n×n arrays over `ids` (ascending), seconds, null =
 * none; built from the state document (GET …/manage/super/state), so the two always agree.
 */
export interface DashboardData {
  /** Supernode wall clock, ms since the Unix epoch. */
  nowMs: number;
  ids: number[];
  names: string[];
  alive: boolean[];
  /** Seconds since each edge was last heard from, -1 = never. */
  lastSeenAgo: number[];
  /** Edges: measured one-way latency src→dst without AdditionalCost (clock offsets included). */
  lat: Array<number | null>;
  /** Edges_Nh: the weights (latency + AdditionalCost) the last solve used. */
  w: Array<number | null>;
  /** NhTable: next hop NodeID. */
  nh: Array<number | null>;
  /** Hash of the published next-hop table. */
  nhHash: string;
  /** Route changes with seq > the request's `since` (oldest first). */
  history: RouteChange[];
  /** seq of the newest route change (0 = none yet). */
  lastSeq: number;
}

