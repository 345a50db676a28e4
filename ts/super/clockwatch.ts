// Clock offset and drift between the nodes of a mesh, estimated by the supernode from the one-way
// latencies it already receives (docs/routing.md §Clock offset and drift). Routing never needs
// it — offsets cancel along every path — but an operator wants to see a node whose clock steps
// or runs fast or slow. Pure logic, no I/O: the supernode feeds it (observe) and shows it (view).
//
// Method, per unordered node pair {a, b} (a < b), from the two directions' latest filtered
// one-way values m(a→b) = d(a→b) + off(b) − off(a) and m(b→a) = d(b→a) + off(a) − off(b):
//   offset θ = (m(a→b) − m(b→a)) / 2 = off(b) − off(a) + (d(a→b) − d(b→a)) / 2
//   round trip δ = m(a→b) + m(b→a)      (offset-free)
// — NTP's on-wire offset and delay (RFC 5905 §8, with one timestamp pair per direction). θ is off
// by at most δ/2 when the path is asymmetric; that error is constant for a constant path, so the
// drift (the slope of θ over time) is unaffected. A θ sample is formed only when both directions
// have a value newer than the last sample's (so no sample mixes a before and an after). Drift =
// least-squares slope of θ against the supernode's monotonic clock over the last WINDOW_S seconds
// (at least MIN_SPAN_S of samples). A sample further than STEP_FLOOR_S + limit·Δt from the line
// is a discontinuity, judged at the next sample against the values before it: a path that got
// slower or faster by Δ one way moves θ by Δ/2 *and* the round trip by Δ, a clock step moves θ
// only, so once the round trip has stopped moving and at least PENDING_MIN samples have passed
// (the two directions' filters follow a change after different numbers of samples: a clock
// step can look like two path changes for a while), the part of the θ jump J that the round-trip
// change R cannot explain, |J| − |R|/2, decides: above STEP_FLOOR_S a step (of J), else a path
// change. Either way the pair's history restarts there. Per node: its offset and drift are the medians over its pairs
// (relative to each peer, so one bad clock among good ones is the one whose medians stand out);
// a node is flagged 'drift' when |median drift| exceeds the configured ClockDriftLimitPpm, and
// 'step' for STEP_HOLD_S after most of its pairs saw a step.

/** Seconds of θ history a drift fit uses. */
export const WINDOW_S = 600;
/** A drift is reported once a pair's history spans this many seconds. */
export const MIN_SPAN_S = 30;
/** θ samples closer together than this (s) replace the last one instead of adding one. */
const MIN_SPACING_S = 1;
/** How often (s) the nodes' flags are re-judged from new samples (ClockWatch.flush), times sampleEvery. */
const FLUSH_S = 1;
/**
 * Pair samples per report round that observeLinks takes at full rate. With more pairs it takes
 * every k-th report of each edge (k = pairs / PAIR_BUDGET, rounded up, at most MAX_EVERY): at
 * N = 1000 a full-rate ClockWatch cost about 0.5 µs per link, half a core for a million links a
 * second, while a clock estimate needs far fewer samples (a 600 s drift window holds 600 / k).
 */
export const PAIR_BUDGET = 20_000;
/** Largest report decimation: each direction then still arrives well within MAX_AGE_S. */
export const MAX_EVERY = 30;
/** A direction's latest value older than this (s) is not paired with the other one. */
const MAX_AGE_S = 120;
/** Smallest offset jump (s) counted as a step: filtered one-way values move by less than this. */
export const STEP_FLOOR_S = 0.002;
/**
 * Samples a discontinuity waits before it is judged (more than the default radius-4 filter's
 * 9-sample window), and at most while the round trip keeps moving.
 */
const PENDING_MIN = 10;
const PENDING_MAX = 30;
/** How long (s) a node stays flagged after a step. */
export const STEP_HOLD_S = 600;

export type ClockFlag = '' | 'drift' | 'step';

/** One pair's estimate: b's clock relative to a's. */
export interface PairClock {
  A: number;
  B: number;
  /** off(B) − off(A), ms (± RttMs/2 for path asymmetry). */
  OffsetMs: number;
  /** d/dt of OffsetMs, ppm (µs per s); null until MIN_SPAN_S of history. */
  DriftPpm: number | null;
  /** Round trip (offset-free), ms. */
  RttMs: number;
  Samples: number;
  /** The last step seen on this pair: its size (ms) and how long ago (s); null if none. */
  LastStep: { Ms: number; AgoS: number } | null;
}

/** One node's estimate, relative to its peers (medians over its pairs). */
export interface NodeClock {
  /** Median over its pairs of off(node) − off(peer), ms. */
  OffsetMs: number;
  /** Median over its pairs with a drift of d/dt off(node) − off(peer), ppm; null if none yet. */
  DriftPpm: number | null;
  Pairs: number;
  /** '' = fine, 'drift' = |DriftPpm| > limit, 'step' = stepped within STEP_HOLD_S. */
  Flag: ClockFlag;
}

export interface ClockView {
  LimitPpm: number;
  Nodes: Record<string, NodeClock>;
  Pairs: PairClock[];
}

interface Dir {
  m: number;
  at: number;
  /** Already paired into a θ sample. */
  used: boolean;
}

interface Pair {
  a: number;
  b: number;
  ab?: Dir;
  ba?: Dir;
  /** θ samples (s) at supernode times t (s), oldest first. */
  t: number[];
  th: number[];
  rtt: number;
  lastStep?: { at: number; s: number };
  /** A discontinuity waiting for the next sample: the line's value and slope there, the round trip before. */
  pending?: { t: number; theta: number; slope: number; rtt: number; lastRtt: number; count: number };
  /**
   * Running sums of (t − t0), (θ − y0), their squares and product over the samples in `t`/`th`,
   * so a fit costs O(1) instead of a pass over up to WINDOW_S samples (it runs at every sample:
   * at N = 1000 half a million pairs a second). Origins (t0, y0) keep the sums small; they are
   * recomputed exactly from the samples every RESUM_OPS updates, so rounding cannot pile up.
   */
  t0: number;
  y0: number;
  st: number;
  sy: number;
  stt: number;
  sty: number;
  ops: number;
}

/** Sum updates of a pair after which its sums are recomputed from its samples. */
const RESUM_OPS = 1024;

function newPair(a: number, b: number): Pair {
  return { a, b, t: [], th: [], rtt: NaN, t0: 0, y0: 0, st: 0, sy: 0, stt: 0, sty: 0, ops: 0 };
}

/** Adds (sign +1) or removes (−1) the sample (t, y) from the pair's sums. */
function sum(p: Pair, t: number, y: number, sign: number): void {
  const x = t - p.t0;
  const v = y - p.y0;
  p.st += sign * x;
  p.sy += sign * v;
  p.stt += sign * x * x;
  p.sty += sign * x * v;
  p.ops++;
}

/** Recomputes the pair's sums from its samples, with the oldest sample as the origin. */
function resum(p: Pair): void {
  p.t0 = p.t.length > 0 ? p.t[0] : 0;
  p.y0 = p.th.length > 0 ? p.th[0] : 0;
  p.st = p.sy = p.stt = p.sty = 0;
  for (let i = 0; i < p.t.length; i++) sum(p, p.t[i], p.th[i], 1);
  p.ops = 0;
}

/**
 * The least-squares line through the pair's samples, from its running sums: slope and value at
 * `at`; undefined with < 2 points. The same line as a direct fit (to rounding).
 */
function pairFit(p: Pair, at: number): { slope: number; value: number } | undefined {
  const n = p.t.length;
  if (n < 2) return undefined;
  const mt = p.st / n;
  const my = p.sy / n;
  const den = p.stt - p.st * mt;
  if (!(den > 1e-12 * (p.stt + 1))) return { slope: 0, value: my + p.y0 };
  const slope = (p.sty - p.st * my) / den;
  return { slope, value: my + p.y0 + slope * (at - p.t0 - mt) };
}

export interface ClockWatchOptions {
  /** ClockDriftLimitPpm: |drift| above this flags a node (ppm). */
  limitPpm: number;
  /** A line for the log when a node's flag changes. */
  onFlag?: (node: number, flag: ClockFlag, detail: string) => void;
  /** Every new θ sample of a pair, with the pair's estimate (for a debug log). */
  onEstimate?: (e: PairClock) => void;
  /**
   * Whether onEstimate wants the estimates now (default: always). Building one per sample is a
   * per-link cost at the supernode (half a million samples a second at N = 1000), so it is
   * skipped while the log that takes them is off.
   */
  wantEstimates?: () => boolean;
}

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const k = s.length >> 1;
  return s.length % 2 ? s[k] : (s[k - 1] + s[k]) / 2;
}

/**
 * Per-pair clock offset and drift from two-way one-way latencies (method above). Times are the
 * supernode's monotonic seconds, latencies seconds (as the route graph takes them).
 */
export class ClockWatch {
  private readonly pairs = new Map<number, Pair>();
  private readonly flags = new Map<number, ClockFlag>();
  /** Nodes with a new sample since the last flush, and when that was (s): flags are re-judged once per FLUSH_S, in one pass over the pairs. */
  private readonly dirty = new Set<number>();
  private lastFlush = -Infinity;
  /** Reports per measuring edge seen by observeLinks (decimation counter). */
  private readonly reportsOf = new Uint32Array(65536);
  /**
   * observeLinks takes every `sampleEvery`-th report of each edge (1 = all; see PAIR_BUDGET):
   * each pair then gets a θ sample every `sampleEvery` intervals, so a step is judged
   * PENDING_MIN samples, i.e. that many times `sampleEvery` intervals, after it happened.
   */
  sampleEvery = 1;

  constructor(private readonly o: ClockWatchOptions) {
    if (!(o.limitPpm > 0)) throw new RangeError(`ClockDriftLimitPpm must be a positive number of ppm, got ${o.limitPpm}`);
  }

  /** A filtered one-way latency src→dst (s) arrived at `now` (s). Non-finite values are ignored. */
  observe(src: number, dst: number, latency: number, now: number): void {
    this.observeOne(src, dst, latency, now);
    if (this.dirty.size > 0 && now - this.lastFlush >= FLUSH_S) this.flush(now);
  }

  /**
   * The links of one LinkReport measured by `dst` at `now` (s): `srcs[k]` → `dst` with filtered
   * one-way latency `latencies[k]` (s), as `observe` for each, with one flush check per report
   * (flags re-judged every FLUSH_S × sampleEvery). Takes every `sampleEvery`-th report of each
   * edge (all of them below PAIR_BUDGET pairs, i.e. up to N ≈ 200).
   */
  observeLinks(dst: number, srcs: Uint16Array, latencies: Float64Array, now: number): void {
    this.sampleEvery = Math.min(MAX_EVERY, Math.max(1, Math.ceil(this.pairs.size / PAIR_BUDGET)));
    if (this.reportsOf[dst]++ % this.sampleEvery !== 0) return;
    for (let k = 0; k < srcs.length; k++) this.observeOne(srcs[k], dst, latencies[k], now);
    if (this.dirty.size > 0 && now - this.lastFlush >= FLUSH_S * this.sampleEvery) this.flush(now);
  }

  private observeOne(src: number, dst: number, latency: number, now: number): void {
    if (!Number.isFinite(latency) || src === dst) return;
    const a = Math.min(src, dst);
    const b = Math.max(src, dst);
    const key = a * 65536 + b;
    let p = this.pairs.get(key);
    if (!p) this.pairs.set(key, (p = newPair(a, b)));
    // Updated in place: one object per direction, not one per sample (a million a second at N = 1000).
    const d = src === a ? (p.ab ??= { m: 0, at: 0, used: false }) : (p.ba ??= { m: 0, at: 0, used: false });
    d.m = latency;
    d.at = now;
    d.used = false;
    if (!p.ab || !p.ba || p.ab.used || p.ba.used || now - p.ab.at > MAX_AGE_S || now - p.ba.at > MAX_AGE_S) return;
    p.ab.used = p.ba.used = true;
    this.addSample(p, (p.ab.m - p.ba.m) / 2, p.ab.m + p.ba.m, now);
  }

  /**
   * Re-judges the flags of the nodes that got samples since the last flush, in one pass over the
   * pairs (a node's estimate needs all its pairs; judging it per sample cost a walk over every
   * pair per sample, O(N^4) per interval at the supernode). Runs from observe() once per FLUSH_S.
   */
  flush(now: number): void {
    this.lastFlush = now;
    if (this.dirty.size === 0) return;
    const est = this.nodesOf(now, this.dirty);
    for (const id of this.dirty) this.reflag(id, est.get(id));
    this.dirty.clear();
  }

  private addSample(p: Pair, theta: number, rtt: number, now: number): void {
    const n = p.t.length;
    const pend = p.pending;
    if (pend) {
      if ((pend.count < PENDING_MIN || Math.abs(rtt - pend.lastRtt) > STEP_FLOOR_S) && pend.count < PENDING_MAX) {
        pend.lastRtt = rtt;
        pend.count++;
        return;
      }
      p.pending = undefined;
      const j = theta - (pend.theta + pend.slope * (now - pend.t));
      const unexplained = Math.abs(j) - Math.abs(rtt - pend.rtt) / 2;
      if (Math.abs(j) > STEP_FLOOR_S) {
        if (unexplained > STEP_FLOOR_S) p.lastStep = { at: now, s: j };
        p.t = [];
        p.th = [];
        resum(p);
      }
    } else if (n > 0) {
      const f = n >= 3 ? pairFit(p, p.t[n - 1]) : undefined;
      const slope = f ? f.slope : 0;
      const dt = now - p.t[n - 1];
      const last = f ? f.value : p.th[n - 1];
      const tol = STEP_FLOOR_S + this.o.limitPpm * 1e-6 * dt;
      if (Math.abs(theta - (last + slope * dt)) > tol) {
        // Judged at the next sample, when both directions are past whatever happened.
        p.pending = { t: p.t[n - 1], theta: last, slope, rtt: p.rtt, lastRtt: rtt, count: 1 };
        return;
      }
    }
    p.rtt = rtt;
    if (p.t.length === 0) {
      // A new history: its first sample is the sums' origin.
      p.t0 = now;
      p.y0 = theta;
      p.st = p.sy = p.stt = p.sty = 0;
      p.ops = 0;
    }
    if (p.t.length > 0 && now - p.t[p.t.length - 1] < MIN_SPACING_S) {
      sum(p, p.t[p.t.length - 1], p.th[p.th.length - 1], -1);
      p.th[p.th.length - 1] = theta;
      p.t[p.t.length - 1] = now;
    } else {
      p.t.push(now);
      p.th.push(theta);
    }
    sum(p, now, theta, 1);
    while (p.t.length > 2 && now - p.t[0] > WINDOW_S) {
      sum(p, p.t.shift()!, p.th.shift()!, -1);
    }
    if (p.ops >= RESUM_OPS) resum(p);
    if (this.o.onEstimate && (this.o.wantEstimates?.() ?? true)) {
      const e = this.pairEstimate(p, now);
      if (e) this.o.onEstimate(e);
    }
    this.dirty.add(p.a);
    this.dirty.add(p.b);
  }

  /** Forgets a node (peer deleted). */
  forget(node: number): void {
    this.reportsOf[node] = 0;
    for (const [k, p] of this.pairs) if (p.a === node || p.b === node) this.pairs.delete(k);
    this.flags.delete(node);
  }

  private pairEstimate(p: Pair, now: number): PairClock | undefined {
    if (p.t.length === 0) return undefined;
    const span = p.t[p.t.length - 1] - p.t[0];
    const f = span >= MIN_SPAN_S ? pairFit(p, now) : undefined;
    return {
      A: p.a,
      B: p.b,
      OffsetMs: p.th[p.th.length - 1] * 1e3,
      DriftPpm: f ? f.slope * 1e6 : null,
      RttMs: p.rtt * 1e3,
      Samples: p.t.length,
      LastStep: p.lastStep ? { Ms: p.lastStep.s * 1e3, AgoS: now - p.lastStep.at } : null,
    };
  }

  /** One node's estimate relative to its peers, or undefined without any pair. */
  node(id: number, now: number): NodeClock | undefined {
    return this.nodesOf(now, new Set([id])).get(id);
  }

  /** The estimates of the nodes in `ids` (every node with a pair when omitted), one pass over the pairs. */
  private nodesOf(now: number, ids?: ReadonlySet<number>): Map<number, NodeClock> {
    const acc = new Map<number, { offs: number[]; drifts: number[]; stepped: number }>();
    const add = (id: number, sign: number, e: PairClock, stepped: boolean) => {
      if (ids && !ids.has(id)) return;
      let a = acc.get(id);
      if (!a) acc.set(id, (a = { offs: [], drifts: [], stepped: 0 }));
      a.offs.push(sign * e.OffsetMs);
      if (e.DriftPpm !== null) a.drifts.push(sign * e.DriftPpm);
      if (stepped) a.stepped++;
    };
    for (const p of this.pairs.values()) {
      if (ids && !ids.has(p.a) && !ids.has(p.b)) continue;
      const e = this.pairEstimate(p, now);
      if (!e) continue;
      const stepped = p.lastStep !== undefined && now - p.lastStep.at < STEP_HOLD_S;
      // Pair estimates are off(b) − off(a): flip the sign when the node is a.
      add(p.a, -1, e, stepped);
      add(p.b, 1, e, stepped);
    }
    const out = new Map<number, NodeClock>();
    for (const [id, a] of acc) {
      const drift = a.drifts.length ? median(a.drifts) : null;
      // A step is the node's when most of its pairs saw one (a peer's step shows on one pair only).
      const flag: ClockFlag = a.stepped * 2 > a.offs.length ? 'step' : drift !== null && Math.abs(drift) > this.o.limitPpm ? 'drift' : '';
      out.set(id, { OffsetMs: median(a.offs), DriftPpm: drift, Pairs: a.offs.length, Flag: flag });
    }
    return out;
  }

  private reflag(id: number, e: NodeClock | undefined): void {
    const flag = e?.Flag ?? '';
    const old = this.flags.get(id) ?? '';
    if (flag === old) return;
    this.flags.set(id, flag);
    if (!this.o.onFlag) return;
    const drift = e?.DriftPpm;
    const detail =
      flag === 'drift'
        ? `clock of node ${id} drifts ${drift!.toFixed(0)} ppm against its ${e!.Pairs} peer(s) (limit ${this.o.limitPpm} ppm, ClockDriftLimitPpm)`
        : flag === 'step'
          ? `clock of node ${id} stepped (offset against most of its ${e!.Pairs} peer(s) jumped)`
          : `clock of node ${id} is within ${this.o.limitPpm} ppm of its peers again`;
    this.o.onFlag(id, flag, detail);
  }

  /** The state API's view (docs/supernode.md): every node with a pair, every pair with a sample. */
  view(now: number): ClockView {
    const Nodes: Record<string, NodeClock> = {};
    const Pairs: PairClock[] = [];
    const ids = new Set<number>();
    for (const p of [...this.pairs.values()].sort((x, y) => x.a - y.a || x.b - y.b)) {
      const e = this.pairEstimate(p, now);
      if (!e) continue;
      Pairs.push(e);
      ids.add(p.a);
      ids.add(p.b);
    }
    const est = this.nodesOf(now);
    for (const id of [...ids].sort((x, y) => x - y)) {
      const e = est.get(id);
      if (e) Nodes[String(id)] = e;
    }
    return { LimitPpm: this.o.limitPpm, Nodes, Pairs };
  }
}
