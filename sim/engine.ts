// Virtual time for the simulator: an event queue (binary heap on (time, sequence)), per-node
// clocks with an offset and a drift, and Schedulers (ts/scheduler.ts) that run the real
// control logic's timers in virtual time. Time is "true" seconds from the start of the run;
// each node sees it through its own clock.
import type { Scheduler, Timer } from '../ts/scheduler.js';
import type { Clock } from '../ts/wgnode/clock.js';

interface Ev {
  t: number;
  seq: number;
  f: () => void;
  dead?: boolean;
}

/** The event loop: `at(t, f)` runs f at true time t; run(until) advances virtual time. */
export class Sim {
  now = 0;
  private heap: Ev[] = [];
  private seq = 0;
  /** Events run so far. */
  events = 0;

  at(t: number, f: () => void): Ev {
    const e: Ev = { t: Math.max(t, this.now), seq: this.seq++, f };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[p], e)) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = e;
    return e;
  }

  after(dt: number, f: () => void): Ev {
    return this.at(this.now + dt, f);
  }

  private pop(): Ev | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && less(h[r], h[l]) ? r : l;
        if (less(last, h[c])) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  /** Runs every event up to true time `until` (inclusive), then sets now = until. */
  run(until: number): void {
    while (this.heap.length > 0 && this.heap[0].t <= until) {
      const e = this.pop()!;
      if (e.dead) continue;
      this.now = e.t;
      this.events++;
      e.f();
    }
    this.now = Math.max(this.now, until);
  }
}

function less(a: Ev, b: Ev): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}

/**
 * A node's clock: wall = epoch + (t·(1 + drift) + offset) s, monotonic = t·(1 + drift) + a
 * per-node start value. `offsetS`/`driftPpm` as in the simulator's options; `epochMs` the wall
 * time of t = 0.
 */
export class NodeClock implements Clock {
  readonly rate: number;
  constructor(
    private readonly sim: Sim,
    readonly offsetS: number,
    readonly driftPpm: number,
    private readonly epochMs: number,
    private readonly monoStart: number,
  ) {
    this.rate = 1 + driftPpm * 1e-6;
  }
  now(): number {
    return this.monoStart + this.sim.now * this.rate;
  }
  wallMs(): number {
    return this.epochMs + (this.sim.now * this.rate + this.offsetS) * 1000;
  }
  /** True seconds for `local` seconds of this node's clock. */
  toTrue(local: number): number {
    return local / this.rate;
  }
}

/**
 * A Scheduler in virtual time for one node (its timers run at its clock's rate). `wrap` lets the
 * caller time each callback (the supernode's CPU). `stop()` cancels everything it scheduled.
 */
export class VirtualScheduler implements Scheduler {
  private readonly live = new Set<{ cancel(): void }>();
  private stopped = false;
  constructor(
    private readonly sim: Sim,
    private readonly clock: { toTrue(local: number): number },
    private readonly wrap: (f: () => void) => void = (f) => f(),
  ) {}

  every(sec: number, f: () => void): Timer {
    if (!(sec > 0)) throw new RangeError(`every: interval must be > 0 s, got ${sec}`);
    let ev: Ev | undefined;
    const period = this.clock.toTrue(sec);
    const t: Timer = {
      cancel: () => {
        if (ev) ev.dead = true;
        this.live.delete(t);
      },
    };
    const arm = () => {
      ev = this.sim.after(period, () => {
        if (this.stopped) return;
        arm();
        this.wrap(f);
      });
    };
    arm();
    this.live.add(t);
    return t;
  }

  after(sec: number, f: () => void): Timer {
    const ev = this.sim.after(this.clock.toTrue(Math.max(0, sec)), () => {
      this.live.delete(t);
      if (!this.stopped) this.wrap(f);
    });
    const t: Timer = {
      cancel: () => {
        ev.dead = true;
        this.live.delete(t);
      },
    };
    this.live.add(t);
    return t;
  }

  stop(): void {
    this.stopped = true;
    for (const t of [...this.live]) t.cancel();
  }
}

/**
 * A small deterministic PRNG (mulberry32), so a run is reproducible from its seed: the
 * playground's, which has no imports, so the browser build and the simulator share one copy.
 */
export { rng } from '../ts/web/playground/matrix.js';
