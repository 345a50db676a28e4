// The timer seam of the control logic: the supernode's core and the edge's SuperClient ask a
// Scheduler for their periodic and one-shot work, so the simulator (sim/) can run the same
// code in virtual time. The default runs on Node's timers (ts/timer.ts).
import { afterSec, everySec, type Timer } from './timer.js';

export type { Timer };

/** Periodic and one-shot callbacks; delays in seconds (fractional allowed). */
export interface Scheduler {
  /** Calls `f` every `sec` seconds (> 0) until cancelled. */
  every(sec: number, f: () => void): Timer;
  /** Calls `f` once, `sec` seconds (>= 0) from now, unless cancelled. */
  after(sec: number, f: () => void): Timer;
}

/** Node's timers, unref'd (they never keep the process alive), as everySec/afterSec. */
export const realScheduler: Scheduler = {
  every: (sec, f) => everySec(sec, f),
  after: (sec, f) => afterSec(sec, f),
};
