//! Row relaxation kernel: Bellman–Ford over whole rows of packed keys (see [`super::key`]),
//! the full solve's first choice; [`super::fw`] (blocked Floyd–Warshall) is the fallback.
//!
//! **Recurrence.** The key of the best walk `i -> j` is the best over the out-edges `(i, k)`
//! of `edge_key(i, k) + strip(key(k -> j))`: ticks and hops add, and the next-hop field of the
//! sum is `k`, the edge's own field (the stripped key has none). So row `i` is relaxed with
//! whole rows `k`: `row_i[j] = min(row_i[j], e + strip(row_k[j]))`. Starting from the one-hop
//! keys and repeating over all rows until no key changes (Gauss–Seidel order, in place) ends
//! at the fixed point `D(i, j) <= e(i, k) + strip(D(k, j))` for every edge; every stored key
//! is the key of a real walk, and the fixed point bounds every walk's key from above (by
//! induction over the walk's hops), so it *is* the minimum: the same exact keys as
//! Floyd–Warshall and the naive solver, ties included. Without a negative cycle the stored
//! walks are simple paths (a detour through `i` itself never wins: cycles cost `>= 0` and add
//! hops), so the keys stay in [`KeySpace`]'s exact range.
//!
//! **Why it is faster at large N.** On the product's graphs (dense, an AdditionalCost on every
//! hop) best paths have few hops and go through each node's cheap edges only.
//! * *Seeding.* Each row first relaxes through its [`SEED`] cheapest out-neighbours (full
//!   rows, no tests), so it starts close to final.
//! * *Candidate edges.* A row then only needs the edges with `e + L < max(row)` (`L` bounds
//!   every stripped path key from below; the maximum only falls), picked once after seeding:
//!   at N = 2000 on the benchmark graph 195 of about 1800 per row.
//! * *Per-chunk test.* Through edge `(i, k)`, a 16-column chunk is relaxed only if
//!   `e + lo < max(row_i chunk)` (exact integer test, all chunks at once into a bit mask),
//!   where `lo` is the chunk's smallest stripped key of row `k` on the first visit and, later,
//!   the smallest stripped key that *fell* in it since the last visit (logged per sweep):
//!   keys that did not change were already offered.
//! * *Cache.* A sweep goes block by block of [`BLOCK`] rows `k`: the block's rows are copied
//!   stripped (1 MB at N = 2000) and every row relaxes through its candidates in that block,
//!   cheapest first. A row remembers the copy's time stamp as what it has seen, so a row of
//!   the block that changes later is offered again in the next sweep.
//!
//! At N = 2000 (32 seeding neighbours) this takes 3 sweeps, about 11 M chunk relaxations and
//! 150 M single-chunk tests in all, where the blocked Floyd–Warshall runs about 7.8 M mask
//! tests of 64 `k` each and more relaxations; WASM CPU time 1118 → 1016 ms, and with 48
//! seeding neighbours about 1000 (docs/benchmarks.md, "route solver").
//!
//! **Fallback.** The kernel gives up (returns `false`, the caller restarts Floyd–Warshall from
//! the initial keys) when a diagonal key drops below the empty path's (a negative cycle:
//! Floyd–Warshall reports it exactly as before) or after [`MAX_SWEEPS`] sweeps (long paths
//! against the index order; a negative cycle also never reaches a fixed point).

use std::sync::atomic::{AtomicUsize, Ordering};

use super::key::KeySpace;

/// Columns per chunk of the pruning test.
const CHUNK: usize = 16;
/// Rows `k` per block: a row relaxes through its candidates one block at a time, all rows per
/// block, so that the block's rows stay in cache (64 rows of 2000 keys: 1 MB).
const BLOCK: usize = 64;
/// Cheapest out-neighbours each row is first relaxed through (as `fw.rs`'s seeding), so that
/// the row maxima that select the candidate edges start close to final. WASM, N = 2000, CPU
/// time, interleaved: 20: 1246 ms, 32: 1084, 48: 1004, 64: 984, 96: 1022; N = 1000: 32: 192,
/// 48: 193, 64: 198.
const SEED: usize = 48;
/// Sweeps before giving up (each after the first touches only changed chunks).
pub(crate) const MAX_SWEEPS: usize = 24;

/// Smallest `n` for which [`crate::route::solve`] uses this kernel; `usize::MAX` switches it
/// off.
static MIN_N: AtomicUsize = AtomicUsize::new(DEFAULT_MIN_N);
/// Measured on the benchmark graph (WASM, CPU time, interleaved with the build before): N = 500
/// 44 ms with Floyd–Warshall against 60 with this kernel, N = 750 114 against 102, N = 1000 214
/// against 196, N = 2000 1118 against 1016. Below the crossover the blocked kernel's whole
/// matrix fits the caches and the per-row bookkeeping here does not pay.
pub(crate) const DEFAULT_MIN_N: usize = 640;

/// Sets the smallest node count at which the full solve tries the row relaxation kernel first
/// (default 640; `0`: always, `usize::MAX`: never, i.e. blocked Floyd–Warshall only).
/// Process-wide, for tests and A/B benchmarks: the results are identical either way.
pub fn set_row_kernel_min_n(min_n: usize) {
    MIN_N.store(min_n, Ordering::Relaxed);
}

/// Whether the full solve of `n` nodes tries [`relax_rows`] first.
pub(crate) fn row_kernel_enabled(n: usize) -> bool {
    n >= MIN_N.load(Ordering::Relaxed)
}

/// `row[j] = min(row[j], a + strip(s[j]))`.
#[inline]
fn relax_row_strip(row: &mut [f64], a: f64, s: &[f64], ks: &KeySpace) {
    let s = &s[..row.len()];
    for (c, &sv) in row.iter_mut().zip(s) {
        let cand = a + ks.strip(sv);
        *c = if cand < *c { cand } else { *c };
    }
}

/// Relaxes one full chunk of `row` with `e + s` (`s`: stripped keys); `max` is the chunk's
/// largest key now. Returns the chunk's new largest key and the smallest candidate that lowered
/// a key (infinity: none did).
#[inline(always)]
fn relax_chunk(row: &mut [f64; CHUNK], e: f64, s: &[f64; CHUNK], max: f64) -> (f64, f64) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        // Most chunks that pass the mask lower no key (about 85 % at N = 2000): a first pass
        // only tests, without stores or the running maximum and minimum, and the full pass runs
        // when some lane lowers. Nothing changed: the row and its maximum stay as they are.
        {
            use core::arch::wasm32::{
                f64x2, f64x2_add, f64x2_lt, f64x2_splat, v128_any_true, v128_or,
            };
            let ev = f64x2_splat(e);
            let mut any = f64x2_lt(ev, ev); // all false
            for t in (0..CHUNK).step_by(2) {
                let cand = f64x2_add(ev, f64x2(s[t], s[t + 1]));
                any = v128_or(any, f64x2_lt(cand, f64x2(row[t], row[t + 1])));
            }
            if !v128_any_true(any) {
                return (max, f64::INFINITY);
            }
        }
        // Written out: the generic loop below did not become f64x2 code in WASM (measured:
        // the relaxation was several times slower there than natively).
        use core::arch::wasm32::{
            f64x2, f64x2_add, f64x2_extract_lane, f64x2_lt, f64x2_pmax, f64x2_pmin, f64x2_splat,
            v128_bitselect,
        };
        let ev = f64x2_splat(e);
        let inf = f64x2_splat(f64::INFINITY);
        let mut mx = f64x2_splat(f64::NEG_INFINITY);
        let mut fl = inf;
        for t in (0..CHUNK).step_by(2) {
            let r = f64x2(row[t], row[t + 1]);
            let cand = f64x2_add(ev, f64x2(s[t], s[t + 1]));
            let lt = f64x2_lt(cand, r);
            let nr = v128_bitselect(cand, r, lt);
            row[t] = f64x2_extract_lane::<0>(nr);
            row[t + 1] = f64x2_extract_lane::<1>(nr);
            fl = f64x2_pmin(fl, v128_bitselect(cand, inf, lt));
            mx = f64x2_pmax(mx, nr);
        }
        let (m0, m1) = (f64x2_extract_lane::<0>(mx), f64x2_extract_lane::<1>(mx));
        let (f0, f1) = (f64x2_extract_lane::<0>(fl), f64x2_extract_lane::<1>(fl));
        (if m1 > m0 { m1 } else { m0 }, if f1 < f0 { f1 } else { f0 })
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        // As above: a chunk where no lane lowers keeps its row and maximum.
        let mut any = false;
        for t in 0..CHUNK {
            any |= e + s[t] < row[t];
        }
        if !any {
            return (max, f64::INFINITY);
        }
        let mut fell = [f64::INFINITY; CHUNK];
        for t in 0..CHUNK {
            let cand = e + s[t];
            let lt = cand < row[t];
            row[t] = if lt { cand } else { row[t] };
            fell[t] = if lt { cand } else { f64::INFINITY };
        }
        (hmax(row), hmin(&fell))
    }
}

/// `relax_chunk` for the last, partial chunk.
fn relax_tail(row: &mut [f64], e: f64, s: &[f64]) -> (f64, f64) {
    let (mut mx, mut fell) = (f64::NEG_INFINITY, f64::INFINITY);
    for (c, &sv) in row.iter_mut().zip(s) {
        let cand = e + sv;
        if cand < *c {
            *c = cand;
            fell = fell.min(cand);
        }
        mx = mx.max(*c);
    }
    (mx, fell)
}

#[cfg_attr(
    all(target_arch = "wasm32", target_feature = "simd128"),
    allow(dead_code)
)]
/// Largest element, as a tree of pairwise maxima (vectorises; no NaN occurs).
#[inline(always)]
fn hmax(a: &[f64; CHUNK]) -> f64 {
    let mut m = [0.0f64; CHUNK / 2];
    for t in 0..CHUNK / 2 {
        m[t] = if a[t + CHUNK / 2] > a[t] {
            a[t + CHUNK / 2]
        } else {
            a[t]
        };
    }
    let mut w = CHUNK / 2;
    while w > 1 {
        w /= 2;
        for t in 0..w {
            m[t] = if m[t + w] > m[t] { m[t + w] } else { m[t] };
        }
    }
    m[0]
}

#[cfg_attr(
    all(target_arch = "wasm32", target_feature = "simd128"),
    allow(dead_code)
)]
/// Smallest element, as [`hmax`].
#[inline(always)]
fn hmin(a: &[f64; CHUNK]) -> f64 {
    let mut m = [0.0f64; CHUNK / 2];
    for t in 0..CHUNK / 2 {
        m[t] = if a[t + CHUNK / 2] < a[t] {
            a[t + CHUNK / 2]
        } else {
            a[t]
        };
    }
    let mut w = CHUNK / 2;
    while w > 1 {
        w /= 2;
        for t in 0..w {
            m[t] = if m[t + w] < m[t] { m[t + w] } else { m[t] };
        }
    }
    m[0]
}

/// Bit `c` of `out` set iff `e + lo[c] < mx[c]`.
#[inline(always)]
fn chunk_mask(e: f64, lo: &[f64], mx: &[f64], out: &mut [u64]) {
    for (w, (l64, m64)) in out.iter_mut().zip(lo.chunks(64).zip(mx.chunks(64))) {
        let mut bits = 0u64;
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        let done = {
            use core::arch::wasm32::{f64x2, f64x2_add, f64x2_lt, f64x2_splat, i64x2_bitmask};
            let ev = f64x2_splat(e);
            for (r, (l2, m2)) in l64.chunks_exact(2).zip(m64.chunks_exact(2)).enumerate() {
                let v = f64x2_add(ev, f64x2(l2[0], l2[1]));
                bits |= (i64x2_bitmask(f64x2_lt(v, f64x2(m2[0], m2[1]))) as u64) << (2 * r);
            }
            l64.len() & !1
        };
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        let done = 0;
        for (r, (&l, &m)) in l64.iter().zip(m64).enumerate().skip(done) {
            bits |= ((e + l < m) as u64) << r;
        }
        *w = bits;
    }
}

/// Smallest stripped key of `row[j0..j1]`, leaving out column `skip` (the row's own
/// diagonal: through it a candidate is the edge itself, which the row already holds).
#[inline]
fn chunk_min(row: &[f64], j0: usize, j1: usize, skip: usize, ks: &KeySpace) -> f64 {
    let mut m = f64::INFINITY;
    for (j, &x) in row[j0..j1].iter().enumerate() {
        let s = ks.strip(x);
        if j0 + j != skip && s < m {
            m = s;
        }
    }
    m
}

/// Runs the row relaxation in place on `d` (`n * n` packed keys, the one-hop keys and the
/// diagonal as built by `solve.rs`; `kmin` its smallest off-diagonal key, infinity if none). `true`: `d` holds the exact minimum keys (identical to
/// [`super::fw::floyd_warshall_blocked`]'s). `false`: gave up (negative cycle or too many
/// sweeps); `d` then holds partial results and the caller must start over.
pub(crate) fn relax_rows(d: &mut [f64], n: usize, ks: &KeySpace, kmin: f64) -> bool {
    assert_eq!(d.len(), n * n);
    if n < 2 {
        return true;
    }
    let inf = f64::INFINITY;
    let hm = ks.hop_scale();
    let diag = ks.diag_key();
    // L: a lower bound of every stripped key of a simple path (j != its start). With all edge
    // ticks >= tmin >= 0 a path costs at least tmin; otherwise at most n - 1 edges of >= tmin.
    debug_assert_eq!(
        kmin,
        d.chunks_exact(n)
            .enumerate()
            .flat_map(|(i, r)| r.iter().enumerate().filter(move |&(j, _)| j != i))
            .fold(inf, |m, (_, &x)| if x < m { x } else { m })
    );
    if kmin == inf {
        return true; // no edges: the initial keys are final
    }
    let tmin = ks.key_ticks(kmin);
    let l = if tmin >= 0.0 {
        tmin * hm
    } else {
        tmin * (n - 1) as f64 * hm
    };
    let nc = n.div_ceil(CHUNK);
    let nb = n.div_ceil(BLOCK);
    // Seeding and candidate edges, row by row: the row is seeded in a copy, so the one-hop keys
    // are still in `d` when the candidates are picked with the seeded row's maximum. A row's
    // candidates are grouped by block of `BLOCK` rows `k`, cheapest first within a block.
    let mut cand_start = vec![0u32; n * nb + 1];
    let mut cands: Vec<(f64, u32)> = Vec::with_capacity(n * 64);
    let mut sel: Vec<(f64, usize)> = Vec::with_capacity(n);
    let mut row = vec![0.0f64; n];
    for i in 0..n {
        let orig = &d[i * n..(i + 1) * n];
        sel.clear();
        sel.extend(
            orig.iter()
                .enumerate()
                .filter(|&(v, &k)| v != i && k != inf)
                .map(|(v, &k)| (k, v)),
        );
        row.copy_from_slice(orig);
        let ls = SEED.min(sel.len());
        if ls > 0 && sel.len() > ls {
            sel.select_nth_unstable_by(ls - 1, |a, b| a.0.total_cmp(&b.0));
        }
        for &(a, v) in &sel[..ls] {
            relax_row_strip(&mut row, a, &d[v * n..(v + 1) * n], ks);
        }
        // The diagonal counts as at least the empty path's key: an edge that could close a
        // negative cycle through i stays a candidate, so such a cycle never looks converged.
        let mx = row
            .iter()
            .enumerate()
            .fold(diag, |m, (j, &x)| if j != i && x > m { x } else { m });
        let orig = &d[i * n..(i + 1) * n];
        for b in 0..nb {
            cand_start[i * nb + b] = cands.len() as u32;
            let k0 = b * BLOCK;
            let k1 = (k0 + BLOCK).min(n);
            cands.extend(
                orig[k0..k1]
                    .iter()
                    .enumerate()
                    .filter(|&(v, &e)| k0 + v != i && e != inf && e + l < mx)
                    .map(|(v, &e)| (e, (k0 + v) as u32)),
            );
            // Cheapest first: they lower the row most, and the chunk maxima that prune the
            // later ones fall with them.
            let c0 = cand_start[i * nb + b] as usize;
            cands[c0..].sort_unstable_by(|x, y| x.0.total_cmp(&y.0));
        }
        d[i * n..(i + 1) * n].copy_from_slice(&row);
    }
    cand_start[n * nb] = cands.len() as u32;
    if cands.len() > u32::MAX as usize / 2 {
        return false;
    }
    // The sweeps take block by block all rows' candidates in that block: stored in that order
    // (slot `b * n + i`), each slot's candidates follow the previous slot's in memory instead
    // of lying a row's worth of candidates further on (a cache miss per slot).
    let (cand_start, cands) = {
        let mut start = vec![0u32; n * nb + 1];
        let mut out: Vec<(f64, u32)> = Vec::with_capacity(cands.len());
        for b in 0..nb {
            for i in 0..n {
                let (c0, c1) = (
                    cand_start[i * nb + b] as usize,
                    cand_start[i * nb + b + 1] as usize,
                );
                start[b * n + i] = out.len() as u32;
                out.extend_from_slice(&cands[c0..c1]);
            }
        }
        start[n * nb] = out.len() as u32;
        (start, out)
    };
    for i in 0..n {
        if d[i * n + i] < diag {
            return false; // a negative cycle already
        }
    }
    // Per row and chunk: the smallest stripped key (diagonal left out), the largest key, when
    // it last changed and (sweep, smallest stripped key that fell) for the latest two sweeps
    // with a change. Per row: when it last changed; per row and block of rows `k`: when the row
    // last relaxed through them, and in which sweep. Time and sweeps count from 1 (0 = never).
    let mut cmin = vec![inf; n * nc];
    let mut cmax = vec![inf; n * nc];
    for k in 0..n {
        let rk = &d[k * n..(k + 1) * n];
        for c in 0..nc {
            let (j0, j1) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
            cmin[k * nc + c] = chunk_min(rk, j0, j1, k, ks);
            cmax[k * nc + c] = rk[j0..j1]
                .iter()
                .fold(f64::NEG_INFINITY, |m, &x| if x > m { x } else { m });
        }
    }
    // Smallest stripped key that fell per row and chunk: in this sweep, and in this sweep or
    // the last (what a row that last looked one sweep ago has not seen).
    let mut fell_now = vec![inf; n * nc];
    let mut recent = vec![inf; n * nc];
    let mut row_mod = vec![1u32; n];
    let mut last = vec![0u32; n * nb];
    let mut rowmax = vec![inf; n];
    let mut fell = vec![inf; nc];
    let nw = nc.div_ceil(64);
    let mut mask = vec![0u64; nw];
    let mut sblk = vec![0.0f64; BLOCK.min(n) * n];
    let mut t: u32 = 1;
    for sweep in 1..=MAX_SWEEPS as u32 {
        let mut any = false;
        for (i, m) in rowmax.iter_mut().enumerate() {
            *m = cmax[i * nc..(i + 1) * nc]
                .iter()
                .fold(f64::NEG_INFINITY, |m, &x| if x > m { x } else { m });
        }
        for b in 0..nb {
            let k0 = b * BLOCK;
            let k1 = (k0 + BLOCK).min(n);
            // The block's rows, stripped, as of now: every row relaxes through this copy, and
            // remembers `t_copy` as what it has seen (later changes are stamped later).
            for (dst, src) in sblk
                .chunks_exact_mut(n)
                .zip(d[k0 * n..k1 * n].chunks_exact(n))
            {
                for (x, &y) in dst.iter_mut().zip(src) {
                    *x = ks.strip(y);
                }
            }
            t += 1;
            let t_copy = t;
            for i in 0..n {
                let slot = b * n + i;
                let (c0, c1) = (cand_start[slot] as usize, cand_start[slot + 1] as usize);
                if c0 == c1 {
                    continue;
                }
                t += 1;
                if t >= u32::MAX - 1 {
                    return false;
                }
                let seen = last[slot];
                last[slot] = t_copy;
                let ri = &mut d[i * n..(i + 1) * n];
                let cmx = &mut cmax[i * nc..(i + 1) * nc];
                let mut row_fell = false;
                for &(e, k) in &cands[c0..c1] {
                    let k = k as usize;
                    // Cheapest first: the rest of the block cannot lower the row either.
                    if e + l >= rowmax[i] {
                        break;
                    }
                    if row_mod[k] <= seen {
                        continue;
                    }
                    // Candidates through row k's chunk c are at least e + lo[c]: on the first
                    // visit lo is the chunk's smallest stripped key, later the smallest that
                    // fell since the last visit (one sweep ago).
                    let lo = if sweep == 1 {
                        &cmin[k * nc..(k + 1) * nc]
                    } else {
                        &recent[k * nc..(k + 1) * nc]
                    };
                    chunk_mask(e, lo, cmx, &mut mask);
                    let rk = &sblk[(k - k0) * n..(k - k0 + 1) * n];
                    for (wi, &w0) in mask.iter().enumerate() {
                        let mut w = w0;
                        while w != 0 {
                            let c = wi * 64 + w.trailing_zeros() as usize;
                            w &= w - 1;
                            let j0 = c * CHUNK;
                            let (m, f) = if j0 + CHUNK <= n {
                                let r: &mut [f64; CHUNK] =
                                    (&mut ri[j0..j0 + CHUNK]).try_into().expect("chunk");
                                let s: &[f64; CHUNK] =
                                    rk[j0..j0 + CHUNK].try_into().expect("chunk");
                                relax_chunk(r, e, s, cmx[c])
                            } else {
                                relax_tail(&mut ri[j0..n], e, &rk[j0..n])
                            };
                            cmx[c] = m;
                            if f < inf {
                                // stripped: the candidate's next-hop field is k
                                let f = f - k as f64;
                                if f < fell[c] {
                                    fell[c] = f;
                                    row_fell = true;
                                }
                            }
                        }
                    }
                }
                if ri[i] < diag {
                    return false; // negative cycle through i
                }
                if row_fell {
                    for (c, fc) in fell.iter_mut().enumerate() {
                        let f = std::mem::replace(fc, inf);
                        if f == inf {
                            continue;
                        }
                        let p = i * nc + c;
                        // Plain comparisons: no NaN occurs, and `f64::min`'s NaN handling
                        // costs a test per operand.
                        if f < cmin[p] {
                            cmin[p] = f;
                        }
                        if f < fell_now[p] {
                            fell_now[p] = f;
                        }
                        if f < recent[p] {
                            recent[p] = f;
                        }
                    }
                    row_mod[i] = t;
                    any = true;
                    // The row's largest key only falls: a lower bound prunes the candidates of
                    // its next blocks in this sweep too (exact: a candidate at or above every key
                    // of the row lowers none).
                    rowmax[i] = cmx
                        .iter()
                        .fold(f64::NEG_INFINITY, |m, &x| if x > m { x } else { m });
                }
            }
        }
        std::mem::swap(&mut recent, &mut fell_now);
        fell_now.iter_mut().for_each(|x| *x = inf);
        if !any {
            return true;
        }
    }
    false
}
