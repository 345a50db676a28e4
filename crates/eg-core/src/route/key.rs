//! Exact path keys: how costs are quantised and how ties are encoded.
//!
//! A path from `i` is ranked by the triple `(cost, hops, next-hop index)`, lexicographically,
//! smallest first. To let Floyd–Warshall compare all three with a single `min`, the triple is
//! packed into one `f64` that holds an integer:
//!
//! ```text
//! key = ticks * H * M + hops * M + next_index        (H = M = 2^B, 2^B >= n)
//! ```
//!
//! * `ticks = round(cost * 2^Q)`: the cost on a dyadic grid of `2^-Q` seconds. `Q` is at most
//!   30 (about 0.93 ns) and is lowered only when the graph's largest |weight| times `n - 1`
//!   would not fit (see [`KeySpace::new`]). On that grid every sum is exact, so equal costs
//!   are *exactly* equal and comparison is transitive (an epsilon comparison is not).
//!   When clock offsets make the weights large, the solver first shifts every edge by integer
//!   tick potentials (`solve.rs`, `reduce`), which changes no path order, so that the grid
//!   is chosen for the small offset-free values rather than for the offsets.
//! * Adding two keys adds ticks and hops; the next-hop field of a candidate `i -> k -> j`
//!   must be the one of `i -> k`, so the solver adds the *stripped* key of `k -> j`
//!   (next-hop field cleared, [`KeySpace::strip`]).
//! * The diagonal key is `M - 1`: zero cost, zero hops, and a next-hop field larger than any
//!   real index, so `i -> i -> j` never beats `i -> j`.
//!
//! All values stay below 2^53 in magnitude, hence exact in `f64`. Infinity is `f64::INFINITY`;
//! `INFINITY + finite = INFINITY` never wins a strict comparison, and `-INFINITY` never occurs.

/// The encoding parameters of one solve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeySpace {
    /// Tick exponent: one tick is `2^-q` seconds.
    pub q: i32,
    /// Bits of the hop field and of the next-hop field.
    pub bits: u32,
    scale: f64,
    m: f64,
    hm: f64,
    /// `(M - 1) / 2` and `1.5 * 2^52 * M`: see [`KeySpace::strip`].
    half: f64,
    magic: f64,
}

/// Largest tick exponent used: 2^-30 s, about 0.93 ns.
pub const MAX_TICK_EXPONENT: i32 = 30;

impl KeySpace {
    /// Parameters for `n` nodes whose finite edge weights are all at most `max_abs` in
    /// magnitude (seconds). Chooses `B = max(1, ceil(log2 n))` and
    /// `Q = min(30, 50 - 2B - ceil(log2((n-1) * max_abs)))`, which keeps the sum of any two
    /// simple-path keys below 2^52.
    pub fn new(n: usize, max_abs: f64) -> Self {
        Self::with_max_exponent(n, max_abs, MAX_TICK_EXPONENT)
    }

    /// [`KeySpace::new`] with `Q` also at most `q_max` (the solver's reduced weights are
    /// integers on a grid of `2^-q_max` s and cannot get finer).
    pub fn with_max_exponent(n: usize, max_abs: f64, q_max: i32) -> Self {
        let mut bits = 1u32;
        while (1usize << bits) < n {
            bits += 1;
        }
        let span = (n.saturating_sub(1).max(1) as f64) * max_abs;
        let q = if span > 0.0 && span.is_finite() {
            let l = span.log2().ceil() as i32;
            (50 - 2 * bits as i32 - l).min(q_max)
        } else {
            q_max
        };
        let m = (1u64 << bits) as f64;
        KeySpace {
            q,
            bits,
            scale: 2f64.powi(q),
            m,
            hm: m * m,
            half: (m - 1.0) / 2.0,
            magic: 1.5 * 2f64.powi(52) * m,
        }
    }

    /// The cost in ticks (an integer-valued f64). Rounds half away from zero.
    #[inline]
    pub fn ticks(&self, cost: f64) -> f64 {
        (cost * self.scale).round()
    }

    /// Key of the single edge `i -> to_index` of cost `cost` (one hop).
    #[inline]
    pub fn edge_key(&self, cost: f64, to_index: usize) -> f64 {
        self.ticks(cost) * self.hm + self.m + to_index as f64
    }

    /// Same value as [`KeySpace::ticks`] without a `round` libcall (baseline x86-64 and
    /// wasm32 have no round-half-away-from-zero instruction): truncate, then step away from
    /// zero if the exact remainder is at least one half. Valid for `|cost * 2^q| < 2^62`.
    #[inline]
    pub fn ticks_fast(&self, cost: f64) -> f64 {
        let x = cost * self.scale;
        // WASM has `f64.trunc` (and `f64x2.trunc`, so the caller's loops vectorise); the same
        // value as the round trip through i64 in the valid range.
        #[cfg(target_arch = "wasm32")]
        let t = x.trunc();
        #[cfg(not(target_arch = "wasm32"))]
        let t = (x as i64) as f64;
        let frac = x - t;
        if frac >= 0.5 {
            t + 1.0
        } else if frac <= -0.5 {
            t - 1.0
        } else {
            t
        }
    }

    /// `H * M`: the weight of one tick in a key.
    #[inline]
    pub fn hop_scale(&self) -> f64 {
        self.hm
    }

    /// The hop and next-hop fields of a one-hop key to `to_index`: `M + to_index`.
    #[inline]
    pub fn edge_tail(&self, to_index: usize) -> f64 {
        self.m + to_index as f64
    }

    /// Key of the empty path `i -> i`.
    #[inline]
    pub fn diag_key(&self) -> f64 {
        self.m - 1.0
    }

    /// The key with its next-hop field cleared (`floor(key / M) * M`); infinity stays infinity.
    ///
    /// Computed without `floor` (a libm call on baseline x86-64 and slow to vectorise):
    /// for an integer `x = qM + r`, `0 <= r < M`, the value `y = x - (M-1)/2` lies strictly
    /// within `M/2` of `qM`, and `(y + C) - C` with `C = 1.5 * 2^52 * M` (whose ulp is `M`)
    /// rounds `y` to the nearest multiple of `M`, i.e. `qM`. Valid for `|x| < 2^52`.
    #[inline(always)]
    pub fn strip(&self, key: f64) -> f64 {
        ((key - self.half) + self.magic) - self.magic
    }

    /// The next-hop index stored in a finite key.
    #[inline]
    pub fn next_index(&self, key: f64) -> usize {
        (key - self.strip(key)) as usize
    }

    /// The tick count stored in a finite key.
    #[inline]
    pub fn key_ticks(&self, key: f64) -> f64 {
        (key / self.hm).floor()
    }
}
