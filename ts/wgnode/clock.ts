import { monotonicSeconds } from '../core/wg.js';

export interface Clock {
  /** Monotonic seconds. */
  now(): number;
  /** Wall-clock milliseconds (ping timestamps, handshake times); tests may skew it. */
  wallMs(): number;
}

/**
 * The process clock. EG_TEST_CLOCK_OFFSET_MS (honoured only with EG_TEST=1) shifts the wall
 * clock, so tests can give one node a skewed clock without touching the machine's time.
 */
export function systemClock(): Clock {
  const off = process.env.EG_TEST === '1' ? Number(process.env.EG_TEST_CLOCK_OFFSET_MS ?? 0) || 0 : 0;
  // Sub-millisecond wall clock: the process's wall-clock origin plus the monotonic clock, so
  // one-way latencies are not quantised to Date.now()'s whole milliseconds. Any constant error of
  // the origin is a per-node clock offset, which routing is immune to.
  const origin = performance.timeOrigin + off;
  return { now: monotonicSeconds, wallMs: () => origin + performance.now() };
}
