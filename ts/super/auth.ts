// Manage API authentication: constant-time password comparison and a small per-IP limiter for
// failed attempts (upstream compared with == and never limited, reference §8.2 #4).
import { createHash, timingSafeEqual } from 'node:crypto';

const sha = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Compares in constant time (both sides hashed first, so the length does not leak either). */
export function passwordMatches(given: string, configured: string): boolean {
  return timingSafeEqual(sha(given), sha(configured));
}

/** The password of a request: `Authorization: Bearer <pw>` header, else the `Password` parameter. */
export function presentedPassword(authorization: string | undefined, param: unknown): string | undefined {
  const m = authorization ? /^Bearer\s+(.+)$/i.exec(authorization.trim()) : null;
  if (m) return m[1];
  return typeof param === 'string' ? param : undefined;
}

export interface LimiterOptions {
  /** Failures allowed within `windowMs` before the client is blocked. */
  maxFailures: number;
  windowMs: number;
  blockMs: number;
  /** Tracked clients at most (oldest forgotten first). */
  maxClients: number;
}

interface Entry {
  fails: number[];
  blockedUntil: number;
}

export class AuthLimiter {
  private readonly m = new Map<string, Entry>();
  private readonly o: LimiterOptions;

  // Blocks and windows run on the monotonic clock: on Date.now a step back of the system clock by
  // an hour blocked a client for an hour and a minute (test/e2e/clock-step.test.ts).
  constructor(o: Partial<LimiterOptions> = {}, private readonly now: () => number = () => performance.now()) {
    this.o = { maxFailures: 10, windowMs: 60_000, blockMs: 60_000, maxClients: 10_000, ...o };
  }

  /** Milliseconds the client stays blocked, 0 if it may try. */
  blockedFor(ip: string): number {
    const e = this.m.get(ip);
    if (!e) return 0;
    const left = e.blockedUntil - this.now();
    return left > 0 ? left : 0;
  }

  /** Records a failed attempt; returns true when this failure blocked the client. */
  fail(ip: string): boolean {
    const t = this.now();
    let e = this.m.get(ip);
    if (!e) {
      if (this.m.size >= this.o.maxClients) this.prune(t);
      e = { fails: [], blockedUntil: 0 };
    }
    this.m.delete(ip);
    this.m.set(ip, e); // most recent last, for pruning
    e.fails = e.fails.filter((f) => t - f < this.o.windowMs);
    e.fails.push(t);
    if (e.fails.length >= this.o.maxFailures) {
      e.blockedUntil = t + this.o.blockMs;
      e.fails = [];
      return true;
    }
    return false;
  }

  private prune(t: number): void {
    for (const [ip, e] of this.m) {
      if (e.blockedUntil <= t && e.fails.every((f) => t - f >= this.o.windowMs)) this.m.delete(ip);
    }
    while (this.m.size >= this.o.maxClients) {
      const first = this.m.keys().next().value;
      if (first === undefined) break;
      this.m.delete(first);
    }
  }

  get size(): number {
    return this.m.size;
  }
}
