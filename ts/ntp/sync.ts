// NTP time sync for an edge, per upstream's NTPConfig (path/ntp.go): at start every server is
// queried in parallel; then every SyncTimeInterval the MaxServerUse servers with the shortest
// last round trip. The round's offset is the median of the answers after dropping the lowest and
// the highest when more than three answered (upstream averaged those; a median is not pulled by
// one server that is still off by a second). The offset goes to the edge's clock object only
// (ping timestamps); the system clock is never touched. Nothing here blocks start-up or
// forwarding: rounds run in the background and each query gives up after NTPTimeout.
import type { NTPInfo } from '../config/index.js';
import { everySec, type Timer } from '../timer.js';
import { querySntp, type SntpResult } from './sntp.js';

/** Exchanges per server and round; the one with the least round trip is used. */
export const EXCHANGES_PER_SERVER = 4;

/**
 * Queries one server up to `n` times in a row and returns the exchange with the least round-trip
 * delay: queueing on either side (a busy event loop reading T4 late, a loaded server) only ever
 * adds delay, and half of it lands in the offset, so the least-delay sample is the most accurate
 * (RFC 5905 §10, the clock filter's minimum-delay rule). The first failure ends the series: with no
 * answer at all the server failed (its error is thrown); otherwise the best answer so far is used.
 */
export async function bestExchange(query: () => Promise<SntpResult>, n = EXCHANGES_PER_SERVER): Promise<SntpResult> {
  let best: SntpResult | undefined;
  for (let i = 0; i < n; i++) {
    try {
      const r = await query();
      if (!best || r.rttMs < best.rttMs) best = r;
    } catch (e) {
      if (!best) throw e;
      break;
    }
  }
  return best!;
}

export interface NtpLog {
  (msg: string, fields?: Record<string, unknown>): void;
}

export interface NtpRound {
  /** The offset applied (ms), or undefined when no server answered (the old offset is kept). */
  offsetMs: number | undefined;
  answered: number;
  queried: number;
}

/** Combines per-server offsets (ms): drop min and max when more than 3, then the median. */
export function combineOffsets(offsets: readonly number[]): number | undefined {
  if (offsets.length === 0) return undefined;
  let s = [...offsets].sort((a, b) => a - b);
  if (s.length > 3) s = s.slice(1, -1);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export class NtpSync {
  /** Last round trip per server (ms); Infinity until it answers, and after it fails. */
  private readonly rtt = new Map<string, number>();
  private timer?: Timer;
  private stopped = false;
  private busy = false;
  private first?: Promise<NtpRound>;

  /**
   * `cfg` is the edge's DynamicRoute.NTPConfig (intervals in seconds); `wallMs` the clock the
   * offset is measured against and `apply` receives each new offset (ms). `log` gets one line
   * per server and per round (the caller gates it with LogNTP).
   */
  constructor(
    private readonly cfg: NTPInfo,
    private readonly wallMs: () => number,
    private readonly apply: (offsetMs: number) => void,
    private readonly log: NtpLog,
  ) {
    for (const s of cfg.Servers) this.rtt.set(s, Infinity);
  }

  /** Whether the config turns sync on (upstream: UseNTP and at least one server). */
  static enabled(cfg: NTPInfo): boolean {
    return cfg.UseNTP && cfg.Servers.length > 0;
  }

  /** Starts the first round (all servers) and the periodic rounds; returns at once. */
  start(): void {
    this.first = this.round(this.cfg.Servers.length);
    this.timer = everySec(this.cfg.SyncTimeInterval, () => {
      // A round still waiting for slow servers is not doubled up.
      if (!this.busy) void this.round(this.cfg.MaxServerUse);
    });
  }

  /** The first round's result (tests and logs). */
  firstRound(): Promise<NtpRound> | undefined {
    return this.first;
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  /** Queries the `count` fastest servers (all when count >= the list) and applies the combined offset. */
  async round(count: number): Promise<NtpRound> {
    const order = [...this.rtt.entries()].sort((a, b) => a[1] - b[1]).map(([s]) => s);
    const chosen = order.slice(0, Math.max(1, Math.min(count, order.length)));
    const timeoutMs = this.cfg.NTPTimeout * 1000;
    this.busy = true;
    const results = await Promise.all(
      chosen.map(async (server) => {
        try {
          const r = await bestExchange(() => querySntp(server, timeoutMs, this.wallMs));
          this.rtt.set(server, r.rttMs);
          this.log('NTP server answered', { server, address: r.address, offset_ms: round3(r.offsetMs), rtt_ms: round3(r.rttMs), stratum: r.stratum });
          return r.offsetMs;
        } catch (e) {
          this.rtt.set(server, Infinity);
          this.log('NTP server failed', { server, error: (e as Error).message });
          return undefined;
        }
      }),
    );
    this.busy = false;
    const offsets = results.filter((x): x is number => x !== undefined);
    const offsetMs = combineOffsets(offsets);
    if (this.stopped) return { offsetMs: undefined, answered: offsets.length, queried: chosen.length };
    if (offsetMs === undefined) {
      this.log('NTP sync failed: no server answered; the clock offset is unchanged', { queried: chosen.length });
    } else {
      this.apply(offsetMs);
      this.log('NTP sync', { offset_ms: round3(offsetMs), answered: offsets.length, queried: chosen.length });
    }
    return { offsetMs, answered: offsets.length, queried: chosen.length };
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
