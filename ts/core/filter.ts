// The per-peer latency filters (route engine, WASM): the upstream sliding median, and the
// spike-robust median of windowed minima the edges use (crates/eg-core/src/route/filter.rs,
// docs/routing.md §Filter).
import { wasm } from './wasm.js';

/** The calls both WASM filters answer (crates/eg-core/src/route/filter.rs). */
interface CoreFilter {
  push(sample: number, radius: number): number;
  clear(): void;
  free(): void;
}

/** The JS face of a WASM filter; `free()` releases its WASM memory. */
class WasmFilter {
  constructor(private readonly f: CoreFilter) {}
  /** Pushes a one-way latency sample (s) with the current radius; returns the filtered value (s). */
  push(sample: number, radius: number): number {
    return this.f.push(sample, radius);
  }
  /** Forgets all samples. */
  clear(): void {
    this.f.clear();
  }
  free(): void {
    this.f.free();
  }
}

/** Upstream's damping filter: a sliding median over 2·radius + 1 samples. */
export class MedianFilter extends WasmFilter {
  constructor() {
    super(new (wasm().DampingFilter)());
  }
}

/**
 * The edges' latency filter: the median of the minima of three sub-windows of the last
 * 2·radius + 1 samples (queueing only adds delay, so minima reject it; RFC 5905 §10's minimum-
 * delay choice, RFC 6817 §3.4.2's minimum of minima). Radius 0 passes samples through.
 */
export class SpikeFilter extends WasmFilter {
  private readonly spike: InstanceType<ReturnType<typeof wasm>['SpikeFilter']>;
  constructor() {
    const f = new (wasm().SpikeFilter)();
    super(f);
    this.spike = f;
  }
  /**
   * push() with the sample's receive time `atS` (s, a monotonic clock): the drift between the two
   * nodes' clocks is taken out of the minima (docs/routing.md §Filter). What the edges use.
   */
  pushAt(sample: number, radius: number, atS: number): number {
    return this.spike.pushAt(sample, radius, atS);
  }
}
