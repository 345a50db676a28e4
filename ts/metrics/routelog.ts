// The supernode's route-change history: every (src, dst) entry of the published next-hop table
// that changed, when, from which next hop to which, and why (the sums of the old and the new
// route under the weights of the solve that made the change). Shown by the dashboard and counted
// by etherguard_next_hop_changes_total.

type Table = Record<string, Record<string, number>>;

import type { RouteChange } from '../web/dashboard/data.js';

export type { RouteChange };

/** What the solve that changed the table knew: link weights and shortest distances (seconds). */
export interface SolveView {
  /** Weight (latency + AdditionalCost, s) of the directed link, Infinity if none. */
  weight(src: number, dst: number): number;
  /** Shortest distance (s), Infinity if unreachable. */
  dist(src: number, dst: number): number;
}

const ms = (s: number): string => (s * 1000).toFixed(1);

/** The route src→dst along `t` (loop-guarded), or [] if it does not reach dst. */
export function pathIn(t: Table, src: number, dst: number): number[] {
  const p = [src];
  let at = src;
  while (at !== dst) {
    const nh = t[String(at)]?.[String(dst)];
    if (nh === undefined || p.includes(nh) || p.length > 65536) return [];
    p.push(nh);
    at = nh;
  }
  return p;
}

function sums(path: number[], v: SolveView): { text: string; total: number } {
  const parts: string[] = [];
  let total = 0;
  for (let i = 1; i < path.length; i++) {
    const w = v.weight(path[i - 1]!, path[i]!);
    total += w;
    parts.push(`${path[i - 1]}→${path[i]} ${Number.isFinite(w) ? ms(w) : '∞'}`);
  }
  return { text: parts.length > 1 ? `${parts.join(' + ')} = ${ms(total)} ms` : `${parts[0] ?? ''} ms`, total };
}

export class RouteHistory {
  private readonly log: RouteChange[] = [];
  private seq = 0;
  /** Changed entries since start (the counter behind etherguard_next_hop_changes_total). */
  changes = 0;

  constructor(private readonly capacity = 1000) {}

  /** Records the entries that differ between `before` and `after`; returns how many. */
  record(before: Table, after: Table, v: SolveView, atMs: number): number {
    const keys = new Set<string>();
    for (const t of [before, after]) for (const [s, row] of Object.entries(t)) for (const d of Object.keys(row)) keys.add(`${s},${d}`);
    let n = 0;
    for (const k of [...keys].sort((a, b) => { const [x1, y1] = a.split(',').map(Number); const [x2, y2] = b.split(',').map(Number); return x1! - x2! || y1! - y2!; })) {
      const [s, d] = k.split(',');
      const oldNh = before[s!]?.[d!] ?? null;
      const newNh = after[s!]?.[d!] ?? null;
      if (oldNh === newNh) continue;
      const src = Number(s);
      const dst = Number(d);
      const path = newNh === null ? [] : pathIn(after, src, dst);
      const newSum = path.length ? sums(path, v) : undefined;
      const oldCost = oldNh === null ? Infinity : oldNh === dst ? v.weight(src, dst) : v.weight(src, oldNh) + v.dist(oldNh, dst);
      let why: string;
      if (newNh === null) why = `no route: nothing reaches ${dst} from ${src}`;
      else if (oldNh === null) why = `new route via ${newNh}: ${newSum?.text ?? '?'}`;
      else if (!Number.isFinite(v.weight(src, oldNh))) why = `link ${src}→${oldNh} down; via ${newNh}: ${newSum?.text ?? '?'}`;
      else {
        const oldText = oldNh === dst ? `direct ${src}→${dst} ${ms(oldCost)} ms` : `via ${oldNh}: ${src}→${oldNh} ${ms(v.weight(src, oldNh))} + rest ${Number.isFinite(v.dist(oldNh, dst)) ? ms(v.dist(oldNh, dst)) : '∞'} = ${Number.isFinite(oldCost) ? ms(oldCost) : '∞'} ms`;
        why = `via ${newNh}: ${newSum?.text ?? '?'} < ${oldText}`;
      }
      this.push({
        seq: ++this.seq,
        atMs,
        src,
        dst,
        oldNh,
        newNh,
        path,
        newCostS: newSum && Number.isFinite(newSum.total) ? newSum.total : null,
        oldCostS: Number.isFinite(oldCost) ? oldCost : null,
        why,
      });
      n++;
    }
    this.changes += n;
    return n;
  }

  private push(c: RouteChange): void {
    this.log.push(c);
    if (this.log.length > this.capacity) this.log.splice(0, this.log.length - this.capacity);
  }

  /** seq of the newest entry, 0 if none. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Entries with seq > `after`, oldest first (at most the last `capacity`). */
  since(after = 0): RouteChange[] {
    return this.log.filter((c) => c.seq > after);
  }
}
