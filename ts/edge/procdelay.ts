// Processing delay inside this node: how long a received control datagram waited between the
// kernel's receive timestamp and the moment JS handled it (event-loop queueing behind the data
// path, GC pauses, the reader thread's hand-off). A relay's data frames wait the same way, so it
// is the node's own cost of being on a path. Measured separately from the wire latency (which no
// longer contains it, docs/routing.md §Wire timestamps) and, with DynamicRoute.ProcessDelayCost
// (off by default), added to the AdditionalCost the edge reports, so a busy relay is avoided on
// purpose rather than through polluted link latencies.

/** Samples kept (one per received ping). */
const WINDOW = 32;

/** A sliding median of the per-ping processing delay (ms). */
export class ProcessDelay {
  private readonly xs: number[] = [];

  /** One sample: handled − kernel receive time, ms; non-finite or negative values are ignored. */
  push(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.xs.push(ms);
    if (this.xs.length > WINDOW) this.xs.shift();
  }

  /** The median delay (ms, rounded to 0.1 ms so small noise does not move reports), 0 without samples. */
  costMs(): number {
    if (this.xs.length === 0) return 0;
    const s = [...this.xs].sort((a, b) => a - b);
    const k = s.length >> 1;
    const m = s.length % 2 ? s[k] : (s[k - 1] + s[k]) / 2;
    return Math.round(m * 10) / 10;
  }

  /** Number of samples held. */
  get count(): number {
    return this.xs.length;
  }
}
