//! Blocked Floyd–Warshall over packed keys (see [`super::key`]).
//!
//! Layout: one flat row-major `Vec<f64>` of `n * n` keys. The k loop is tiled in blocks of
//! [`BLOCK`] vertices. For each block:
//! 1. the block's own rows run plain Floyd–Warshall for every k of the block (full width);
//! 2. those rows are copied once with their next-hop fields stripped;
//! 3. every other row `i` first relaxes the block's columns in k order; then all remaining
//!    columns get `row[j] = min(row[j], row[k] + S[k][j])` over the block's finite `row[k]`,
//!    tile by tile ([`TILE`] columns, all rows per tile; a whole row up to N = 2048), in
//!    chunks of [`CHUNK`] columns held in a local array (registers) across the k loop. Rows
//!    with at least 3/4 of the block's `row[k]` finite use a copy of `S` repacked per chunk
//!    (contiguous, no index arithmetic in the k loop); sparser rows skip the infinite `row[k]`.
//!
//! Step 3 uses the block rows' values *after* the whole block, not after each k. That only
//! ever offers valid path keys that are at least as good as plain Floyd–Warshall's, so the
//! final keys are the same exact minima. The inner loops are branch-free `min(a + s, c)` over
//! contiguous `f64`s, which LLVM vectorises (SSE2 `minpd`, or WASM `f64x2.pmin` with simd128).
//! `f64` rather than `f32`: the packed key needs up to 53 exact bits (see `key.rs`).
//!
//! **Pruning (dense rows).** Step 2 also records, per chunk and block row `k`, the smallest
//! stripped key of the chunk, `cmin`. A chunk of row `i` then only relaxes with the `k` for
//! which `row[k] + cmin < max(chunk)`: for every other `k` no candidate can beat any key of the
//! chunk. Keys are exact integers, so the test is exact and the result does not change. The
//! test runs for all `k` of the block at once into a 64-bit mask (`f64x2.lt` +
//! `i64x2.bitmask` under simd128, a loop LLVM vectorises elsewhere), and the surviving `k` are
//! walked with `trailing_zeros`. It prunes well once rows are close to final, *if* the columns
//! are not shifted against each other: measured one-way latencies carry clock offsets, so
//! `solve` runs the kernel on potential-reduced keys (see `solve.rs`, `potentials`), which
//! removes them. On the random 90 % dense N = 1000 benchmark graph about three quarters of the
//! `(row, chunk, k)` relaxations are skipped. Worst case (nothing pruned) it costs the mask,
//! about a tenth more than the plain kernel.
//!
//! **Speed-ups for large N** (measured in docs/routing.md; results unchanged, switchable with
//! [`set_kernel_options`] for A/B runs):
//! * *Row seeding* ([`seed_two_hop`]): before the blocks, each row relaxes through its 16
//!   cheapest out-neighbours, so rows start close to final and the pruning skips more: the
//!   relaxations left at N = 2000 drop from about 14 % to 5 % of the plain kernel's.
//! * *`f32` mask* ([`live_mask32`], WASM SIMD128 only by default): the pruning test on `f32`
//!   bounds (values rounded down, the chunk maximum up), four lanes per SIMD operation instead
//!   of two; a superset of the exact mask, so only extra relaxations can result, never a
//!   missed one.
//! * Step 3a is pruned the same way (a `k` whose smallest candidate cannot beat the largest
//!   of the block's columns is skipped), and the row's block values are copied once per row
//!   and block, not once per tile.

use std::sync::atomic::{AtomicBool, Ordering};

use super::key::KeySpace;

/// Kernel variants, for benchmarks (A/B in one process); the results never depend on them.
static SEED_ROWS: AtomicBool = AtomicBool::new(true);
/// On by default only under WASM SIMD128, where it is a 4-lane vector test; the scalar
/// fallback elsewhere is slower than the `f64` mask (native N = 1000: 195 vs 182 ms).
static MASK_F32: AtomicBool = AtomicBool::new(cfg!(all(
    target_arch = "wasm32",
    target_feature = "simd128"
)));

/// Switches the kernel's two speed-ups (process-wide; seeding on by default, the `f32` mask
/// on under WASM SIMD128 only): seeding every row
/// through its cheapest out-neighbours before the blocked passes ([`seed_two_hop`]) and the
/// pruning mask on `f32` bounds ([`live_mask32`]). For benchmarks and tests: the solve's
/// results are identical either way.
pub fn set_kernel_options(seed_rows: bool, mask_f32: bool) {
    SEED_ROWS.store(seed_rows, Ordering::Relaxed);
    MASK_F32.store(mask_f32, Ordering::Relaxed);
}

/// Vertices per k block. 64 rows of 1000 stripped keys are 512 KB (fits L2).
pub(crate) const BLOCK: usize = 64;
/// Columns per tile in step 3b. Once the pruning skips most `k`, a row reads only the few tiles
/// of `S` its surviving `k` need, and small tiles only added passes (each re-reading the row's
/// block values): WASM, CPU time, interleaved (`bench/route-ab.ts`), N = 2000: 64 columns
/// 1505 ms, 256: 1205–1373, 512: 1281, 2048: 1252; N = 1000: 64: 258, 512: 236, 2048: 232. So
/// a tile is a whole row up to N = 2048.
const TILE: usize = 2048;
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

/// Largest element (no NaN occurs; infinity allowed).
#[inline(always)]
fn hmax(acc: &[f64; CHUNK]) -> f64 {
    // A tree of pairwise maxima (8, 4, 2, 1 lanes): LLVM turns the first levels into `maxpd` /
    // `f64x2.pmax`, where a running maximum was a chain of 15 dependent scalar steps.
    let mut m = [0.0f64; CHUNK / 2];
    for t in 0..CHUNK / 2 {
        let (x, y) = (acc[t], acc[t + CHUNK / 2]);
        m[t] = if y > x { y } else { x };
    }
    let mut w = CHUNK / 2;
    while w > 1 {
        w /= 2;
        for t in 0..w {
            let (x, y) = (m[t], m[t + w]);
            m[t] = if y > x { y } else { x };
        }
    }
    m[0]
}

/// Bit `r` set iff `a[r] + mins[r] < mx` (`a.len() <= 64`).
#[inline(always)]
fn live_mask(a: &[f64], mins: &[f64], mx: f64) -> u64 {
    let mut live = 0u64;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = {
        use core::arch::wasm32::{f64x2, f64x2_add, f64x2_lt, f64x2_splat, i64x2_bitmask};
        let m = f64x2_splat(mx);
        for (r, (a2, n2)) in a.chunks_exact(2).zip(mins.chunks_exact(2)).enumerate() {
            let v = f64x2_add(f64x2(a2[0], a2[1]), f64x2(n2[0], n2[1]));
            live |= (i64x2_bitmask(f64x2_lt(v, m)) as u64) << (2 * r);
        }
        a.len() & !1
    };
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    for (r, (&av, &mn)) in a.iter().zip(mins).enumerate().skip(done) {
        live |= ((av + mn < mx) as u64) << r;
    }
    live
}

/// The largest `f32` not above `x` (`x` itself when exact; infinities stay).
#[inline(always)]
fn f32_down(x: f64) -> f32 {
    let f = x as f32;
    if (f as f64) > x {
        f.next_down()
    } else {
        f
    }
}

/// The smallest `f32` not below `x`.
#[inline(always)]
fn f32_up(x: f64) -> f32 {
    let f = x as f32;
    if (f as f64) < x {
        f.next_up()
    } else {
        f
    }
}

/// A superset of [`live_mask`] computed on `f32` bounds, four lanes at a time: bit `r` is set
/// if `a[r] + mins[r] <= mx` where `a`, `mins` were rounded down and `mx` up. The `f32` sum
/// of two values below an `f32` number cannot round above it, so every `k` that could improve
/// the chunk stays set (an extra `k` only costs its relaxation; the result is unchanged).
#[inline(always)]
fn live_mask32(a: &[f32], mins: &[f32], mx: f32) -> u64 {
    let mut live = 0u64;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = {
        use core::arch::wasm32::{f32x4, f32x4_add, f32x4_le, f32x4_splat, i32x4_bitmask};
        let m = f32x4_splat(mx);
        for (r, (a4, n4)) in a.chunks_exact(4).zip(mins.chunks_exact(4)).enumerate() {
            let v = f32x4_add(
                f32x4(a4[0], a4[1], a4[2], a4[3]),
                f32x4(n4[0], n4[1], n4[2], n4[3]),
            );
            live |= (i32x4_bitmask(f32x4_le(v, m)) as u64) << (4 * r);
        }
        a.len() & !3
    };
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    for (r, (&av, &mn)) in a.iter().zip(mins).enumerate().skip(done) {
        live |= ((av + mn <= mx) as u64) << r;
    }
    live
}

/// Dense rows: `a` = the row's values at the block's columns (infinite ones included, they
/// never win), `packed` = the block's stripped rows repacked chunk by chunk (`CHUNK` keys of
/// one block row contiguous); `cmin` = per chunk and block row, the smallest stripped key of
/// that chunk (a lower bound for every candidate through that row).
#[allow(clippy::too_many_arguments)]
fn relax_span_dense(
    row: &mut [f64],
    c0: usize,
    c1: usize,
    a: &[f64],
    packed: &[f64],
    cmin: &[f64],
    m32: Option<(&[f32], &[f32])>,
    srows: &[f64],
    n: usize,
) {
    let kl = a.len();
    let mut j = c0;
    let mut prune = true;
    while j + CHUNK <= c1 {
        let c = j / CHUNK;
        let mut acc = [0.0f64; CHUNK];
        acc.copy_from_slice(&row[j..j + CHUNK]);
        let mx = if prune { hmax(&acc) } else { f64::INFINITY };
        let tile = &packed[c * kl * CHUNK..(c + 1) * kl * CHUNK];
        let mins = &cmin[c * kl..(c + 1) * kl];
        // Exact integer arithmetic: if even the chunk's smallest candidate through k does not
        // beat the chunk's largest current key, k changes nothing here. Collect the other k
        // without branches, then relax only those.
        let mut live = if prune {
            match m32 {
                Some((a32, c32)) => live_mask32(a32, &c32[c * kl..(c + 1) * kl], f32_up(mx)),
                None => live_mask(a, mins, mx),
            }
        } else {
            u64::MAX
        };
        if !prune || live.count_ones() as usize * 4 >= kl * 3 {
            // Little to skip: the plain contiguous loop is faster than walking the mask, and
            // the rest of this span (same row, neighbouring columns) will not prune either.
            prune = false;
            for (&av, s) in a.iter().zip(tile.chunks_exact(CHUNK)) {
                for t in 0..CHUNK {
                    min_into(&mut acc[t], av + s[t]);
                }
            }
        } else {
            while live != 0 {
                let r = live.trailing_zeros() as usize;
                live &= live - 1;
                let av = a[r];
                let s: &[f64; CHUNK] = tile[r * CHUNK..(r + 1) * CHUNK].try_into().expect("chunk");
                for t in 0..CHUNK {
                    min_into(&mut acc[t], av + s[t]);
                }
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

/// Out-neighbours per row used by [`seed_two_hop`]. Measured at N = 2000 (WASM, CPU time):
/// 4: 1503 ms, 8: 1464, 16: 1439, 32: 1469, 64: 1542.
const SEED_NEIGHBOURS: usize = 16;

/// `row[j] = min(row[j], a + strip(s[j]))`, stripping on the fly.
#[inline]
fn relax_row_strip(row: &mut [f64], a: f64, s: &[f64], ks: &KeySpace) {
    let s = &s[..row.len()];
    for (c, &sv) in row.iter_mut().zip(s) {
        min_into(c, a + ks.strip(sv));
    }
}

/// Lowers each row towards its final keys before the blocked passes, so that their pruning
/// (see the module docs) skips more: row `i` relaxes through its [`SEED_NEIGHBOURS`] cheapest
/// out-neighbours `v` (by current key), `d[i][j] = min(d[i][j], d[i][v] + strip(d[v][j]))`.
/// Every value stays the key of a real walk, so Floyd–Warshall still ends at the exact minima:
/// the result is unchanged, only reached with fewer relaxations.
fn seed_two_hop(d: &mut [f64], n: usize, ks: &KeySpace) {
    let seed_neighbours = SEED_NEIGHBOURS;
    if n <= 2 * seed_neighbours {
        return;
    }
    let mut cand: Vec<(f64, usize)> = Vec::with_capacity(n);
    let mut row = vec![0.0f64; n];
    for i in 0..n {
        cand.clear();
        cand.extend(
            d[i * n..(i + 1) * n]
                .iter()
                .enumerate()
                .filter(|&(v, &k)| v != i && k != f64::INFINITY)
                .map(|(v, &k)| (k, v)),
        );
        let l = seed_neighbours.min(cand.len());
        if l == 0 {
            continue;
        }
        if cand.len() > l {
            cand.select_nth_unstable_by(l - 1, |a, b| a.0.total_cmp(&b.0));
        }
        row.copy_from_slice(&d[i * n..(i + 1) * n]);
        for &(a, v) in &cand[..l] {
            relax_row_strip(&mut row, a, &d[v * n..(v + 1) * n], ks);
        }
        d[i * n..(i + 1) * n].copy_from_slice(&row);
    }
}

/// Runs blocked Floyd–Warshall in place on `d` (`n * n` packed keys).
pub(crate) fn floyd_warshall_blocked(d: &mut [f64], n: usize, ks: &KeySpace) {
    assert_eq!(d.len(), n * n);
    if SEED_ROWS.load(Ordering::Relaxed) {
        seed_two_hop(d, n, ks);
    }
    let mask32 = MASK_F32.load(Ordering::Relaxed);
    let inf = f64::INFINITY;
    let mut srow = vec![0.0f64; n];
    let mut srows = vec![0.0f64; BLOCK.min(n) * n];
    let mut packed = vec![0.0f64; BLOCK.min(n) * n];
    let mut cmin = vec![0.0f64; BLOCK.min(n) * (n / CHUNK)];
    let mut cmin32 = vec![
        0.0f32;
        if mask32 {
            BLOCK.min(n) * (n / CHUNK)
        } else {
            0
        }
    ];
    // Per other row of the current block: its values at the block's columns, rounded down.
    let mut a32_rows = vec![0.0f32; if mask32 { BLOCK * n } else { 0 }];
    let mut a_rows = vec![0.0f64; BLOCK * n];
    let mut bmin = [0.0f64; BLOCK];
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
                let src = &srows[r * n + c * CHUNK..r * n + (c + 1) * CHUNK];
                packed[dst..dst + CHUNK].copy_from_slice(src);
                cmin[c * kl + r] = src.iter().fold(f64::INFINITY, |m, &x| m.min(x));
            }
        }
        for (m32, &m) in cmin32.iter_mut().zip(&cmin) {
            *m32 = f32_down(m);
        }
        // 3a. every other row: the block's columns in k order, then its finite row[k] list.
        // A k whose smallest candidate cannot beat the largest of those columns is skipped
        // (the initial largest: values only decrease, so the test stays exact).
        for r in 0..kl {
            bmin[r] = srows[r * n + k0..r * n + k1]
                .iter()
                .fold(f64::INFINITY, |m, &x| m.min(x));
        }
        ak.clear();
        ak_start.clear();
        for i in (0..k0).chain(k1..n) {
            let row = &mut d[i * n..(i + 1) * n];
            let mx = row[k0..k1]
                .iter()
                .fold(f64::NEG_INFINITY, |m, &x| if x > m { x } else { m });
            for k in k0..k1 {
                let a = row[k];
                let r = k - k0;
                if a == inf || a + bmin[r] >= mx {
                    continue;
                }
                relax_row(&mut row[k0..k1], a, &srows[r * n + k0..r * n + k1]);
            }
            let slot = ak_start.len();
            a_rows[slot * BLOCK..slot * BLOCK + (k1 - k0)].copy_from_slice(&row[k0..k1]);
            if mask32 {
                for (d, &x) in a32_rows[slot * BLOCK..slot * BLOCK + (k1 - k0)]
                    .iter_mut()
                    .zip(&row[k0..k1])
                {
                    *d = f32_down(x);
                }
            }
            ak_start.push(ak.len());
            ak.extend(
                (k0..k1)
                    .filter(|&k| row[k] != inf)
                    .map(|k| (row[k], k - k0)),
            );
        }
        ak_start.push(ak.len());
        // 3b. all remaining columns, one tile of columns at a time (see TILE: up to N = 2048
        // the whole row at once).
        for (c_lo, c_hi) in [(0, k0), (k1, n)] {
            let mut c0 = c_lo;
            while c0 < c_hi {
                let c1 = (c0 + TILE).min(c_hi);
                for (slot, i) in (0..k0).chain(k1..n).enumerate() {
                    let list = &ak[ak_start[slot]..ak_start[slot + 1]];
                    let row = &mut d[i * n..(i + 1) * n];
                    if list.len() * 4 >= kl * 3 {
                        // The row's values at the block's columns are final for this block
                        // (step 3a), so they were copied once per row, not once per tile.
                        let a = &a_rows[slot * BLOCK..slot * BLOCK + kl];
                        let m32 = mask32
                            .then(|| (&a32_rows[slot * BLOCK..slot * BLOCK + kl], &cmin32[..]));
                        relax_span_dense(row, c0, c1, a, &packed, &cmin, m32, &srows, n);
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
