// The send side of a ping's one-way measurement (docs/routing.md §Wire timestamps). A ping's
// Time is sealed inside the datagram, so it must be written before the datagram is encrypted and
// handed to sendmmsg; what happens in between (JSON, the seal, the batch call, a preemption on a
// busy machine) would count as wire latency. The native sender reads CLOCK_REALTIME right before
// sendmmsg (NativeIo.lastSendMs), so each ping learns its own stamp → syscall gap afterwards, and
// the next ping to the same peer has as Time its stamp plus the *smallest* gap of that peer's last
// WINDOW pings: the predicted syscall time (per peer: the first ping of a burst runs colder code
// and is consistently slower than the rest). A ping that is slower than that reads high by the difference, a
// positive error that the edges' minimum-based filter (SpikeFilter) discards.

/** Pings whose gaps are remembered. */
const WINDOW = 16;
/** Gaps outside [0, MAX_GAP_MS] are not a stamp → syscall time (a queued ping, a stale reading). */
const MAX_GAP_MS = 50;

/** The lead (ms) to add to a ping's stamp: the smallest recent stamp → sendmmsg gap. */
export class SendLead {
  private readonly gaps: number[] = [];

  /** One ping's gap (ms); ignored when not plausible. */
  push(gapMs: number): void {
    if (!Number.isFinite(gapMs) || gapMs < 0 || gapMs > MAX_GAP_MS) return;
    this.gaps.push(gapMs);
    if (this.gaps.length > WINDOW) this.gaps.shift();
  }

  /** The lead in ms (0 until a gap was measured). */
  get ms(): number {
    return this.gaps.length ? Math.min(...this.gaps) : 0;
  }
}
