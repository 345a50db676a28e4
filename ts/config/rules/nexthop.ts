// Static next-hop tables checked as a whole: a frame follows NextHopTable[cur][dst] from node to
// node, so one bad entry elsewhere in the table can send it round a cycle (each relay
// decrements the TTL, so one frame becomes up to DefaultTTL transmissions) or into a node that
// has no entry for the destination (the frame is dropped after having used the links before).
// Both are invisible from any single row; this module walks the table per destination.
//
// Why TypeScript and not the Rust route engine: `Solution::path` (crates/eg-core/src/route/
// solve.rs) answers only "reachable or not" and cannot name the cycle, and config loading must
// not depend on the WASM build (the loader also runs in tools and tests without it).
import type { NodeIdTable } from '../schema/common.js';
import type { EdgeConfig } from '../schema/edge.js';
import type { SuperConfig } from '../schema/super.js';
import type { Ctx } from './ctx.js';

/** A routing loop: frames from `src` to `dst` return to a node they already passed. */
export interface TableLoop {
  src: number;
  dst: number;
  /** The nodes the frame visits from `src`, ending with the first node it visits twice, e.g. [1, 2, 3, 1]. */
  path: number[];
  /** Other sources whose frames to `dst` end in the same cycle (ascending). */
  alsoFrom: number[];
}

/** Frames from `src` to `dst` reach `stuck`, which has no next hop for `dst` (`stuck === src`: no entry at all). */
export interface TableDeadEnd {
  src: number;
  dst: number;
  stuck: number;
}

export interface TableReport {
  loops: TableLoop[];
  unreachable: TableDeadEnd[];
}

/** How a walk from a node towards one destination ends. */
type Fate = { kind: 'arrives' } | { kind: 'dead'; stuck: number } | { kind: 'loop'; cycleId: number };

/**
 * Walks every (src, dst) pair of `table` (`table[src][dst]` = next hop, NodeID keys as decimal
 * strings, as the config loader produces them).
 *
 * The nodes are every row key, destination key and next-hop value, plus `extraNodes` (e.g. the
 * edge's own NodeID). Sources are those nodes; destinations likewise; `src === dst` is skipped,
 * and so are diagonal entries. Cost O(n²): per destination the next hops form a functional graph,
 * whose cycles and dead ends are found by one coloured walk.
 *
 * Returns every distinct cycle once (reported from its smallest source, with the other sources
 * that end in it), and every pair whose walk stops at a node without an entry. Pure; never throws
 * on well-typed input. Source of the forwarding rule: upstream's static mode (a relay forwards
 * by its own row, `NhTable[self][dst]`), as ts/edge/forward.ts decide() does.
 */
export function checkNextHopTable(table: NodeIdTable, extraNodes: readonly number[] = []): TableReport {
  const ids = new Set<number>(extraNodes);
  const next = new Map<number, Map<number, number>>();
  for (const [s, row] of Object.entries(table)) {
    const src = Number(s);
    ids.add(src);
    const m = new Map<number, number>();
    for (const [d, h] of Object.entries(row ?? {})) {
      const dst = Number(d);
      ids.add(dst);
      if (typeof h !== 'number') continue;
      ids.add(h);
      if (dst !== src) m.set(dst, h);
    }
    next.set(src, m);
  }
  const nodes = [...ids].sort((a, b) => a - b);
  const loops: TableLoop[] = [];
  const unreachable: TableDeadEnd[] = [];
  for (const dst of nodes) {
    const fate = new Map<number, Fate>();
    const cycleLoops = new Map<number, TableLoop>();
    let cycles = 0;
    fate.set(dst, { kind: 'arrives' });
    for (const src of nodes) {
      if (fate.has(src)) continue;
      // Walk until a node whose fate is known, or one already on this walk (a new cycle).
      const walk: number[] = [];
      const onWalk = new Map<number, number>();
      let cur = src;
      let end: Fate;
      for (;;) {
        const known = fate.get(cur);
        if (known) {
          end = known;
          break;
        }
        const at = onWalk.get(cur);
        if (at !== undefined) {
          end = { kind: 'loop', cycleId: cycles++ };
          cycleLoops.set(end.cycleId, { src, dst, path: [...walk, cur], alsoFrom: [] });
          break;
        }
        onWalk.set(cur, walk.length);
        walk.push(cur);
        const h = next.get(cur)?.get(dst);
        if (h === undefined) {
          end = { kind: 'dead', stuck: cur };
          break;
        }
        cur = h;
      }
      for (const n of walk) fate.set(n, end);
      if (end.kind === 'loop') {
        const l = cycleLoops.get(end.cycleId)!;
        for (const n of walk) if (n !== l.src) l.alsoFrom.push(n);
      }
    }
    for (const src of nodes) {
      if (src === dst) continue;
      const f = fate.get(src)!;
      if (f.kind === 'dead') unreachable.push({ src, dst, stuck: f.stuck });
    }
    for (const l of cycleLoops.values()) {
      l.alsoFrom.sort((a, b) => a - b);
      loops.push(l);
    }
  }
  loops.sort((a, b) => a.src - b.src || a.dst - b.dst);
  return { loops, unreachable };
}

/** "frames 1→4 loop 1→2→3→1 (frames from 2, 3 to 4 end in the same loop)". */
export function describeLoop(l: TableLoop): string {
  const also = l.alsoFrom.length > 0 ? ` (frames from ${l.alsoFrom.join(', ')} to ${l.dst} end in the same loop)` : '';
  return `frames ${l.src}→${l.dst} loop ${l.path.join('→')}${also}`;
}

/**
 * One line per source: "no route from 1 to 5, 6 (node 2 has no next hop for them)". At most
 * `max` lines, then a count of the rest.
 */
export function describeUnreachable(u: readonly TableDeadEnd[], max = 10): string[] {
  const groups = new Map<string, TableDeadEnd[]>();
  for (const x of u) {
    const k = `${x.src}/${x.stuck}`;
    const g = groups.get(k);
    if (g) g.push(x);
    else groups.set(k, [x]);
  }
  const lines = [...groups.values()].map((g) => {
    const { src, stuck } = g[0]!;
    const dsts = g.map((x) => x.dst).join(', ');
    const why = stuck === src ? `node ${src} has no entry for ${g.length === 1 ? 'it' : 'them'}` : `node ${stuck} on the way has no next hop for ${g.length === 1 ? 'it' : 'them'}`;
    return `no route from ${src} to ${dsts} (${why})`;
  });
  return lines.length > max ? [...lines.slice(0, max), `and ${lines.length - max} more source(s) with unreachable destinations`] : lines;
}

/** The keys that say whether a config's NextHopTable is used, in either config kind. */
interface TableUse {
  NextHopTable?: NodeIdTable;
  AllowNextHopLoops?: boolean;
  /** Supernode only. */
  GraphRecalculateSetting?: { StaticMode?: boolean };
  /** Edge only. */
  DynamicRoute?: { SuperNode?: { UseSuperNode?: boolean }; P2P?: { UseP2P?: boolean } };
}

/** Whether the config's own NextHopTable routes its frames (edge static mode, supernode StaticMode). */
function tableInUse(c: TableUse): boolean {
  if (c.GraphRecalculateSetting !== undefined) return c.GraphRecalculateSetting.StaticMode === true;
  const d = c.DynamicRoute;
  return !(d?.SuperNode?.UseSuperNode || d?.P2P?.UseP2P);
}

/**
 * Load-time rule for both config kinds, for a NextHopTable in use (edge static mode, supernode
 * StaticMode; an unused table is not checked, so upstream configs carrying a stale one load):
 * a routing loop is an error naming the cycle, unless the config sets `AllowNextHopLoops: true`
 * (then a warning); an edge's destinations that some source cannot reach are warnings (a partial
 * table is legal upstream; such frames are dropped as "no route"). The supernode's coverage of
 * every pair of peers is checkStaticTable's (super.ts). See docs/config.md, "Routing loops".
 */
export function nextHopTableRule(ctx: Ctx, c: EdgeConfig | SuperConfig): void {
  const cfg: TableUse = c;
  if (!ctx.ok(['NextHopTable'], ['DynamicRoute'], ['GraphRecalculateSetting'], ['AllowNextHopLoops'], ['NodeID'])) return;
  if (cfg.NextHopTable === undefined || !tableInUse(cfg)) return;
  const edgeId = (c as Partial<EdgeConfig>).NodeID;
  const r = checkNextHopTable(cfg.NextHopTable, edgeId === undefined ? [] : [edgeId]);
  for (const l of r.loops) {
    if (cfg.AllowNextHopLoops === true) ctx.warn(['NextHopTable'], `${describeLoop(l)} (loaded because AllowNextHopLoops is true)`);
    else ctx.add(['NextHopTable'], `${describeLoop(l)}; each relay forwards it again until its TTL runs out (set AllowNextHopLoops: true to load it anyway)`);
  }
  if (edgeId !== undefined) for (const line of describeUnreachable(r.unreachable)) ctx.warn(['NextHopTable'], line);
}
