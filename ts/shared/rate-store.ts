// The in-memory store behind the HTTP request limit (ts/shared/http.ts limitRequests), on the
// monotonic clock. @fastify/rate-limit's own LocalStore times its windows with Date.now(): after
// the system clock was stepped back by an hour, every client's window stayed open for that hour,
// so its count only grew and an edge that pulls and reports every few seconds was refused (429,
// "retry in 60 minutes") until the wall clock caught up (test/e2e/clock-step.test.ts).

/** One client's window: requests counted since `start` (ms, monotonic). */
interface Window {
  current: number;
  start: number;
}

/** What @fastify/rate-limit reads back from `incr`: the count and the ms left in the window. */
export interface RateResult {
  current: number;
  ttl: number;
}

/**
 * A fixed-window counter per key (client IP), `timeWindow` ms long, on `performance.now()`;
 * at most `cache` keys are kept, the least recently seen forgotten first. The store interface of
 * @fastify/rate-limit v10 (its `store` option: constructed with the plugin's options, `child`
 * per route, `incr(key, cb, timeWindow, max)`); continueExceeding and exponentialBackoff are not
 * supported (this project uses neither).
 */
export class MonotonicRateStore {
  private readonly m = new Map<string, Window>();
  private readonly cache: number;

  constructor(opts: { cache?: number } = {}, private readonly now: () => number = () => performance.now()) {
    this.cache = opts.cache ?? 10_000;
  }

  incr(key: string, cb: (err: Error | null, res: RateResult) => void, timeWindow: number, _max?: number): void {
    const t = this.now();
    let w = this.m.get(key);
    if (w) this.m.delete(key);
    else if (this.m.size >= this.cache) this.m.delete(this.m.keys().next().value as string);
    if (!w || t - w.start >= timeWindow) w = { current: 0, start: t };
    w.current++;
    this.m.set(key, w); // most recently seen last
    cb(null, { current: w.current, ttl: Math.max(0, timeWindow - (t - w.start)) });
  }

  /** A store for a route's own limit (same clock, same size bound). */
  child(_routeOptions: unknown): MonotonicRateStore {
    return new MonotonicRateStore({ cache: this.cache }, this.now);
  }
}
