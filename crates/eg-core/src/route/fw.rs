//! Blocked Floyd–Warshall over packed keys (see [`super::key`]).
//!
//! Layout: one flat row-major `Vec<f64>` of `n * n` keys. The k loop is tiled in blocks of
//! [`BLOCK`] vertices. For each block:
//! 1. the block's own rows run plain Floyd–Warshall for every k of the block (full width);
//! 2. those rows are copied once with their next-hop fields stripped;
//! 3. every other row `i` first relaxes the block's columns in k order; then all remaining
//!    columns get `row[j] = min(row[j], row[k] + S[k][j])` over the block's finite `row[k]`,
//!    tile by tile ([`TILE`] columns, all rows per tile, so the tile of `S` stays in cache), in
//!    chunks of [`CHUNK`] columns held in a local array (registers) across the k loop. Rows
//!    with at least 3/4 of the block's `row[k]` finite use a copy of `S` repacked per chunk
//!    (contiguous, no index arithmetic in the k loop); sparser rows skip the infinite `row[k]`.
//!
//! Step 3 uses the block rows' values *after* the whole block, not after each k. That only
//! ever offers valid path keys that are at least as good as plain Floyd–Warshall's, so the
//! final keys are the same exact minima. The inner loops are branch-free `min(a + s, c)` over
//! contiguous `f64`s, which LLVM vectorises (SSE2 `minpd`, or WASM `f64x2.pmin` with simd128).
//! `f64` rather than `f32`: the packed key needs up to 53 exact bits (see `key.rs`).

use super::key::KeySpace;

/// Vertices per k block. 64 rows of 1000 stripped keys are 512 KB (fits L2).
pub(crate) const BLOCK: usize = 64;
/// Columns per cache tile in step 3.
const TILE: usize = 64;
/// Columns per register-blocked chunk.
const CHUNK: usize = 16;

#[inline(always)]
fn min_into(c: &mut f64, cand: f64) {
    // Written as a select so it lowers to minpd / f64x2.pmin.
    *c = if cand < *c { cand } else { *c };
}

#[inline]
fn relax_row(row: &mut [f64], a: f64, s: &[f64]) {
    let s = &s[..row.len()];
    for (c, &sv) in row.iter_mut().zip(s) {
        min_into(c, a + sv);
    }
}

fn strip_into(src: &[f64], dst: &mut [f64], ks: &KeySpace) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = ks.strip(s);
    }
}

/// Columns `[c0, c1)` of `row`: `row[j] = min(row[j], a + S[r][j])` over all `(a, r)`
/// (sparse rows: only the block's finite `row[k]`).
fn relax_span_sparse(
    row: &mut [f64],
    c0: usize,
    c1: usize,
    ak: &[(f64, usize)],
    srows: &[f64],
    n: usize,
) {
    let mut j = c0;
    while j + CHUNK <= c1 {
        let mut acc = [0.0f64; CHUNK];
        acc.copy_from_slice(&row[j..j + CHUNK]);
        for &(a, r) in ak {
            let base = r * n + j;
            let s: &[f64; CHUNK] = srows[base..base + CHUNK].try_into().expect("chunk");
            for t in 0..CHUNK {
                min_into(&mut acc[t], a + s[t]);
            }
        }
        row[j..j + CHUNK].copy_from_slice(&acc);
        j += CHUNK;
    }
    for jj in j..c1 {
        let mut c = row[jj];
        for &(a, r) in ak {
            min_into(&mut c, a + srows[r * n + jj]);
        }
        row[jj] = c;
    }
}

/// Dense rows: `a` = the row's values at the block's columns (infinite ones included, they
/// never win), `packed` = the block's stripped rows repacked chunk by chunk so the k loop
/// walks contiguous memory without index arithmetic or bounds checks.
fn relax_span_dense(
    row: &mut [f64],
    c0: usize,
    c1: usize,
    a: &[f64],
    packed: &[f64],
    srows: &[f64],
    n: usize,
) {
    let kl = a.len();
    let mut j = c0;
    while j + CHUNK <= c1 {
        let mut acc = [0.0f64; CHUNK];
        acc.copy_from_slice(&row[j..j + CHUNK]);
        let tile = &packed[(j / CHUNK) * kl * CHUNK..(j / CHUNK + 1) * kl * CHUNK];
        for (&av, s) in a.iter().zip(tile.chunks_exact(CHUNK)) {
            for t in 0..CHUNK {
                min_into(&mut acc[t], av + s[t]);
            }
        }
        row[j..j + CHUNK].copy_from_slice(&acc);
        j += CHUNK;
    }
    for jj in j..c1 {
        let mut c = row[jj];
        for (r, &av) in a.iter().enumerate() {
            min_into(&mut c, av + srows[r * n + jj]);
        }
        row[jj] = c;
    }
}

/// Runs blocked Floyd–Warshall in place on `d` (`n * n` packed keys).
pub(crate) fn floyd_warshall_blocked(d: &mut [f64], n: usize, ks: &KeySpace) {
    assert_eq!(d.len(), n * n);
    let inf = f64::INFINITY;
    let mut srow = vec![0.0f64; n];
    let mut srows = vec![0.0f64; BLOCK.min(n) * n];
    let mut packed = vec![0.0f64; BLOCK.min(n) * n];
    let mut ak: Vec<(f64, usize)> = Vec::with_capacity(BLOCK * n);
    let mut ak_start: Vec<usize> = Vec::with_capacity(n + 1);
    let mut k0 = 0;
    while k0 < n {
        let k1 = (k0 + BLOCK).min(n);
        // 1. the block's rows: plain FW for k in the block.
        for k in k0..k1 {
            strip_into(&d[k * n..(k + 1) * n], &mut srow, ks);
            for i in k0..k1 {
                let a = d[i * n + k];
                if a == inf {
                    continue;
                }
                relax_row(&mut d[i * n..(i + 1) * n], a, &srow);
            }
        }
        // 2. stripped copy of the block's rows, also repacked per CHUNK columns.
        let kl = k1 - k0;
        for k in k0..k1 {
            let r = k - k0;
            strip_into(&d[k * n..(k + 1) * n], &mut srows[r * n..(r + 1) * n], ks);
        }
        for c in 0..n / CHUNK {
            for r in 0..kl {
                let dst = c * kl * CHUNK + r * CHUNK;
                packed[dst..dst + CHUNK]
                    .copy_from_slice(&srows[r * n + c * CHUNK..r * n + (c + 1) * CHUNK]);
            }
        }
        // 3a. every other row: the block's columns in k order, then its finite row[k] list.
        ak.clear();
        ak_start.clear();
        for i in (0..k0).chain(k1..n) {
            let row = &mut d[i * n..(i + 1) * n];
            for k in k0..k1 {
                let a = row[k];
                if a == inf {
                    continue;
                }
                let r = k - k0;
                relax_row(&mut row[k0..k1], a, &srows[r * n + k0..r * n + k1]);
            }
            ak_start.push(ak.len());
            ak.extend(
                (k0..k1)
                    .filter(|&k| row[k] != inf)
                    .map(|k| (row[k], k - k0)),
            );
        }
        ak_start.push(ak.len());
        // 3b. all remaining columns, one tile of columns at a time so the tile of `srows`
        // (BLOCK x TILE keys, 32 KB) stays in L1/L2 while every row passes over it.
        for (c_lo, c_hi) in [(0, k0), (k1, n)] {
            let mut c0 = c_lo;
            while c0 < c_hi {
                let c1 = (c0 + TILE).min(c_hi);
                for (slot, i) in (0..k0).chain(k1..n).enumerate() {
                    let list = &ak[ak_start[slot]..ak_start[slot + 1]];
                    let row = &mut d[i * n..(i + 1) * n];
                    if list.len() * 4 >= kl * 3 {
                        let mut a = [0.0f64; BLOCK];
                        a[..kl].copy_from_slice(&row[k0..k1]);
                        relax_span_dense(row, c0, c1, &a[..kl], &packed, &srows, n);
                    } else if !list.is_empty() {
                        relax_span_sparse(row, c0, c1, list, &srows, n);
                    }
                }
                c0 = c1;
            }
        }
        k0 = k1;
    }
}
