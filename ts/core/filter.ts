// The latency median filter (route engine, WASM) per measured peer.
import { wasm } from './wasm.js';

export class MedianFilter {
  private readonly f = new (wasm().DampingFilter)();
  /** Pushes a one-way latency sample (s); returns the filtered value. */
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
