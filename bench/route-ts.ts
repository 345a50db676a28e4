// Plain-TypeScript all-pairs shortest paths on Float64Arrays, as baselines for the WASM solver in
// route.bench.ts. Both take a dense row-major weight matrix (Infinity = no edge, diagonal
// ignored) and return row-major distances and next-hop indices (-1 = none, also the diagonal).
//
// Cost semantics as the Rust solver (path cost = sum of edge weights) but compared as plain
// floats with `<`: no tick grid and no (hops, first hop) tie-break, so on inputs with exact ties
// the next hops may differ from the WASM solver's. With random real-valued weights ties do not
// occur and all three produce the same table (route.bench.ts checks that on a small graph).

export interface ApspResult {
  dist: Float64Array;
  next: Int32Array;
}

function init(w: Float64Array, n: number): ApspResult {
  const dist = new Float64Array(n * n).fill(Infinity);
  const next = new Int32Array(n * n).fill(-1);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const x = w[i * n + j];
      if (i !== j && x !== Infinity) {
        dist[i * n + j] = x;
        next[i * n + j] = j;
      }
    }
    dist[i * n + i] = 0;
  }
  return { dist, next };
}

/** The textbook triple loop: for k, for i, for j. */
export function apspNaive(w: Float64Array, n: number): ApspResult {
  const r = init(w, n);
  const { dist, next } = r;
  for (let k = 0; k < n; k++) {
    const kb = k * n;
    for (let i = 0; i < n; i++) {
      const ib = i * n;
      const a = dist[ib + k];
      if (a === Infinity) continue;
      const nk = next[ib + k];
      for (let j = 0; j < n; j++) {
        const c = a + dist[kb + j];
        if (c < dist[ib + j]) {
          dist[ib + j] = c;
          next[ib + j] = i === k ? j : nk;
        }
      }
    }
  }
  // A detour i -> ... -> i never beats 0 unless there is a negative cycle; keep the diagonal clean.
  for (let i = 0; i < n; i++) next[i * n + i] = -1;
  return r;
}

/** Vertices per k block, as in crates/eg-core/src/route/fw.rs. */
export const BLOCK = 64;

/**
 * Blocked Floyd–Warshall in the same order as the Rust kernel (fw.rs): per block of BLOCK k's,
 * first the block's own rows run plain Floyd–Warshall over the block, then every other row is
 * relaxed over the block's (now final for this block) rows, skipping infinite `row[k]`. The row
 * being relaxed stays hot in cache; the block's rows (BLOCK * n doubles) are shared by all rows.
 * Using the block rows' values after the whole block only ever offers valid, better-or-equal
 * paths, so the distances are the same exact minima as the naive loop's.
 */
export function apspBlocked(w: Float64Array, n: number): ApspResult {
  const r = init(w, n);
  const { dist, next } = r;
  const relaxRow = (i: number, k: number): void => {
    const ib = i * n;
    const a = dist[ib + k];
    if (a === Infinity) return;
    const kb = k * n;
    const nk = i === k ? -2 : next[ib + k];
    for (let j = 0; j < n; j++) {
      const c = a + dist[kb + j];
      if (c < dist[ib + j]) {
        dist[ib + j] = c;
        next[ib + j] = nk === -2 ? j : nk;
      }
    }
  };
  for (let k0 = 0; k0 < n; k0 += BLOCK) {
    const k1 = Math.min(k0 + BLOCK, n);
    for (let k = k0; k < k1; k++) for (let i = k0; i < k1; i++) relaxRow(i, k);
    for (let i = 0; i < n; i++) {
      if (i >= k0 && i < k1) continue;
      for (let k = k0; k < k1; k++) relaxRow(i, k);
    }
  }
  for (let i = 0; i < n; i++) next[i * n + i] = -1;
  return r;
}
