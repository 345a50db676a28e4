import { monotonicSeconds } from '../core/wg.js';

export interface Clock {
  /** Monotonic seconds. */
  now(): number;
  /** Wall-clock milliseconds (handshake times; the base of ping timestamps); tests may skew it. */
  wallMs(): number;
  /**
   * Network time in milliseconds for ping timestamps: wallMs() plus the NTP offset (upstream's
   * GetCurrentTime, path/ntp.go). Optional: a clock without it stamps pings with wallMs().
   */
  netMs?(): number;
  /**
   * Sets the offset netMs() adds (ms; from ts/ntp/sync.ts). Only this object changes: the
   * system clock is never set. Handshake TAI64N times keep using wallMs(), so an NTP step back
   * cannot make a peer refuse our next initiation as a replay.
   */
  setNtpOffsetMs?(ms: number): void;
}

/** The time to stamp (and receive) a ping with: netMs() when the clock has NTP, else wallMs(). */
export function pingTimeMs(c: Clock): number {
  return c.netMs ? c.netMs() : c.wallMs();
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
  let ntpOffset = 0;
  const wallMs = () => origin + performance.now();
  return {
    now: monotonicSeconds,
    wallMs,
    netMs: () => wallMs() + ntpOffset,
    setNtpOffsetMs: (ms: number) => {
      if (!Number.isFinite(ms)) throw new RangeError(`NTP offset must be a finite number of ms, got ${ms}`);
      ntpOffset = ms;
    },
  };
}
