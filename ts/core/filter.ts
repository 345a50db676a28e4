// The per-peer latency filters (route engine, WASM): the upstream sliding median, and the
// spike-robust median of windowed minima the edges use (crates/eg-core/src/route/filter.rs,
// docs/routing.md §Filter).
import { wasm } from './wasm.js';

/** Upstream's damping filter: a sliding median over 2·radius + 1 samples. */
export class MedianFilter {
  private readonly f = new (wasm().DampingFilter)();
  /** Pushes a one-way latency sample (s); returns the filtered value (s). */
  push(sample: number, radius: number): number {
    return this.f.push(sample, radius);
  }
  clear(): void {
    this.f.clear();
  }
  free(): void {
    this.f.free();
  }
}

/**
 * The edges' latency filter: the median of the minima of three sub-windows of the last
 * 2·radius + 1 samples (queueing only adds delay, so minima reject it; RFC 5905 §10's minimum-
 * delay choice, RFC 6817 §3.4.2's minimum of minima). Radius 0 passes samples through.
 */
export class SpikeFilter {
  private readonly f = new (wasm().SpikeFilter)();
  /** Pushes a one-way latency sample (s); returns the filtered value (s). */
  push(sample: number, radius: number): number {
    return this.f.push(sample, radius);
  }
  clear(): void {
    this.f.clear();
  }
  free(): void {
    this.f.free();
  }
}
