// Timers whose delays come from configs, the supernode or the WASM core's deadlines.
//
// Node keeps a timer's delay as a signed 32-bit count of milliseconds: a delay above
// 2^31-1 ms (about 24.8 days), NaN or Infinity fires after 1 ms with a TimeoutOverflowWarning.
// A config may legitimately say "re-resolve every 30 days" (and upstream accepts any float),
// so such a delay must wait in steps, not turn into a 1 ms busy loop.

/** The longest delay Node's setTimeout/setInterval honour, in milliseconds (2^31 - 1). */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** A running timer; `cancel()` stops it (idempotent). */
export interface Timer {
  cancel(): void;
}

export interface TimerOptions {
  /** Keep the process alive while the timer is pending (default false: the timer is unref'd). */
  keepAlive?: boolean;
}

function checkDelay(sec: number, what: string): void {
  if (Number.isNaN(sec) || sec < 0) throw new RangeError(`${what}: delay must be a number of seconds >= 0, got ${sec}`);
}

/**
 * Calls `f` once, `sec` seconds from now (seconds, fractional allowed; `Infinity` never fires).
 * Delays longer than MAX_TIMER_DELAY_MS wait in steps of at most that length.
 * Throws RangeError for NaN or a negative delay.
 */
export function afterSec(sec: number, f: () => void, opts: TimerOptions = {}): Timer {
  checkDelay(sec, 'afterSec');
  let handle: NodeJS.Timeout | undefined;
  let cancelled = false;
  if (sec === Infinity) return { cancel: () => undefined };
  const due = performance.now() + sec * 1000;
  const arm = (): void => {
    if (cancelled) return;
    const left = due - performance.now();
    handle = left > MAX_TIMER_DELAY_MS ? setTimeout(arm, MAX_TIMER_DELAY_MS) : setTimeout(f, Math.max(0, left));
    if (!opts.keepAlive) handle.unref();
  };
  arm();
  return {
    cancel: () => {
      cancelled = true;
      if (handle) clearTimeout(handle);
    },
  };
}

/**
 * Calls `f` every `sec` seconds (seconds > 0; `Infinity` never fires). Intervals longer than
 * MAX_TIMER_DELAY_MS are kept by chained one-shot timers. Throws RangeError for NaN, zero or a
 * negative interval (a 0 s interval would spin the event loop).
 */
export function everySec(sec: number, f: () => void, opts: TimerOptions = {}): Timer {
  checkDelay(sec, 'everySec');
  if (sec === 0) throw new RangeError('everySec: interval must be > 0 seconds');
  if (sec * 1000 <= MAX_TIMER_DELAY_MS) {
    const h = setInterval(f, sec * 1000);
    if (!opts.keepAlive) h.unref();
    return { cancel: () => clearInterval(h) };
  }
  let current: Timer | undefined;
  let cancelled = false;
  const next = (): void => {
    current = afterSec(sec, () => {
      if (cancelled) return;
      next();
      f();
    }, opts);
  };
  next();
  return {
    cancel: () => {
      cancelled = true;
      current?.cancel();
    },
  };
}
