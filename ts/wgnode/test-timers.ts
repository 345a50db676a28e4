// WireGuard timers shortened for end-to-end tests, so a test can watch several rekeys (and the
// TAI64N timestamps of their initiations) within seconds instead of REKEY_AFTER_TIME = 120 s.
import type { WgTimers } from '../core/wg.js';

/**
 * The timers a test asked for, or undefined (the defaults) when it asked for none.
 * `EG_TEST_REKEY_AFTER_S=N` (seconds, 1 ≤ N ≤ 120; honoured only with `EG_TEST=1`, like
 * EG_TEST_CLOCK_OFFSET_MS in ./clock.ts) sets REKEY_AFTER_TIME (whitepaper §6.1) to N.
 *
 * @throws RangeError naming the variable when it is set but not a number in [1, 120].
 */
export function testTimers(env: NodeJS.ProcessEnv = process.env): WgTimers | undefined {
  if (env.EG_TEST !== '1' || env.EG_TEST_REKEY_AFTER_S === undefined) return undefined;
  const n = Number(env.EG_TEST_REKEY_AFTER_S);
  if (!Number.isFinite(n) || n < 1 || n > 120) throw new RangeError(`EG_TEST_REKEY_AFTER_S must be a number of seconds in [1, 120], got ${JSON.stringify(env.EG_TEST_REKEY_AFTER_S)}`);
  return { rekeyAfterTime: n };
}
