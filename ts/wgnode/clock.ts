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
  return { now: monotonicSeconds, wallMs: off ? () => Date.now() + off : Date.now };
}
