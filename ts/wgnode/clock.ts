import { monotonicSeconds } from '../core/wg.js';
import { loadNative } from '../native/index.js';

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
  /**
   * Converts a kernel timestamp (CLOCK_REALTIME in ms since the epoch: SO_TIMESTAMPNS receive
   * times, crates/eg-native/src/io.rs) into the clock of netMs(), i.e. applies the same test and
   * NTP offsets. Optional: without it, receive times are taken in JS (WgHost.rxTimeMs).
   */
  fromRealtimeMs?(ms: number): number;
}

/** The time to stamp (and receive) a ping with: netMs() when the clock has NTP, else wallMs(). */
export function pingTimeMs(c: Clock): number {
  return c.netMs ? c.netMs() : c.wallMs();
}

/**
 * CLOCK_REALTIME in ms with sub-millisecond resolution: the addon's clock_gettime where it is
 * loaded (the clock of the kernel's receive timestamps, so a ping's send and receive times are
 * two readings of one clock), else the process's wall-clock origin plus the monotonic clock
 * (then there are no kernel timestamps either). Undefined when `useNative` is false.
 */
function realtimeSource(useNative: boolean): (() => number) | undefined {
  if (!useNative) return undefined;
  const n = loadNative();
  const f = n.ok ? (n.mod as unknown as { realtimeMs?: () => number }).realtimeMs : undefined;
  return typeof f === 'function' ? f : undefined;
}

/**
 * The process clock. EG_TEST_CLOCK_OFFSET_MS (honoured only with EG_TEST=1) shifts the wall
 * clock, so tests can give one node a skewed clock without touching the machine's time.
 * `o.native` (default true): read CLOCK_REALTIME through the addon when it is loaded.
 */
export function systemClock(o: { native?: boolean } = {}): Clock {
  const off = process.env.EG_TEST === '1' ? Number(process.env.EG_TEST_CLOCK_OFFSET_MS ?? 0) || 0 : 0;
  // Sub-millisecond wall clock: the process's wall-clock origin plus the monotonic clock, so
  // one-way latencies are not quantised to Date.now()'s whole milliseconds. Any constant error of
  // the origin is a per-node clock offset, which routing is immune to.
  const origin = performance.timeOrigin + off;
  let ntpOffset = 0;
  const rt = realtimeSource(o.native ?? true);
  // One wall clock for everything: CLOCK_REALTIME (+ offset) when the addon gives it, so ping
  // times compare exactly with the kernel's receive timestamps (fromRealtimeMs), and the NTP
  // offset measured against wallMs is applied to the same clock it was measured on. (timeOrigin
  // is two clock reads at start-up: on a loaded host it was tens of ms off CLOCK_REALTIME, and
  // the NTP offset came out that far wrong.)
  const wallMs = rt ? () => rt() + off : () => origin + performance.now();
  return {
    now: monotonicSeconds,
    wallMs,
    netMs: () => wallMs() + ntpOffset,
    fromRealtimeMs: (ms: number) => ms + off + ntpOffset,
    setNtpOffsetMs: (ms: number) => {
      if (!Number.isFinite(ms)) throw new RangeError(`NTP offset must be a finite number of ms, got ${ms}`);
      ntpOffset = ms;
    },
  };
}
