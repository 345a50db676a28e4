//! The per-peer damping filter: a sliding median over `2 * radius + 1` samples.
//!
//! Behaviour (upstream-compatible):
//! * window `< 3` (radius 0) or a sample `>= infinity`: the output is the sample itself and an
//!   infinite sample is not stored;
//! * otherwise the sample is appended and the oldest beyond the window dropped; if the stored
//!   count is even the oldest stored sample is ignored; with fewer than 3 left the output is the
//!   sample, else the median (element `(n + 1) / 2 - 1` of the sorted window).
//!
//! The radius is passed on every push, as upstream re-reads it from the config.

use std::collections::VecDeque;

/// Appends `sample` to `window` and drops the oldest samples beyond `size`.
fn slide(window: &mut VecDeque<f64>, sample: f64, size: usize) {
    window.push_back(sample);
    while window.len() > size {
        window.pop_front();
    }
}

/// A sliding median filter. A new peer starts empty (upstream pushes one infinity, which is
/// not stored, so it is equivalent).
#[derive(Clone, Debug, Default)]
pub struct MedianFilter {
    window: VecDeque<f64>,
    scratch: Vec<f64>,
}

impl MedianFilter {
    /// An empty filter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Pushes a sample (seconds) and returns the filtered value.
    pub fn push(&mut self, sample: f64, radius: usize) -> f64 {
        let size = radius.saturating_mul(2).saturating_add(1);
        if size < 3 || sample.is_nan() || sample >= f64::INFINITY {
            return sample;
        }
        slide(&mut self.window, sample, size);
        let skip = usize::from(self.window.len() & 1 == 0);
        if self.window.len() - skip < 3 {
            return sample;
        }
        self.scratch.clear();
        self.scratch.extend(self.window.iter().skip(skip).copied());
        self.scratch.sort_by(f64::total_cmp);
        self.scratch[self.scratch.len().div_ceil(2) - 1]
    }

    /// Forgets all samples.
    pub fn clear(&mut self) {
        self.window.clear();
    }

    /// Number of stored samples.
    pub fn len(&self) -> usize {
        self.window.len()
    }

    /// Whether no sample is stored.
    pub fn is_empty(&self) -> bool {
        self.window.is_empty()
    }
}

/// The spike-robust latency filter: the median of the minima of three sub-windows of the last
/// `2 * radius + 1` samples.
///
/// Why a minimum: queueing (event loops, socket queues, a busy sender or relay, a GC pause)
/// only ever *adds* to a one-way sample, so the smallest sample of a window is the one closest
/// to the path's propagation delay — the minimum-delay principle of NTP's clock filter (RFC 5905
/// §10: of the last 8 samples, the one with the lowest delay is used) and of LEDBAT's base delay
/// (RFC 6817 §3.4.2: a minimum over per-interval minima). A clock offset shifts every sample
/// alike, so the output shifts by exactly that offset (the hysteresis stays offset-invariant).
///
/// Why the median of three minima: a plain minimum would keep one spuriously *low* sample (a
/// clock step, a reordered stamp) for a whole window and answer a latency increase only after
/// the whole window; the median of the three sub-window minima ignores one bad sub-window in
/// either direction and follows an increase once two sub-windows have seen it.
///
/// Rules:
/// * radius 0 (window < 3), or a non-finite sample: the output is the sample; a non-finite
///   sample is not stored (as [`MedianFilter`]);
/// * otherwise the sample is appended and the oldest beyond the window dropped; with fewer than
///   3 stored samples the output is their minimum; else the stored samples (oldest first) are cut
///   into three contiguous groups whose sizes differ by at most one (the newer groups are the
///   larger), and the output is the median of the three group minima.
///
/// Trade-off (docs/routing.md §Filter): under a linear clock drift `s` (s/s) and ping interval
/// `Δ`, the output lags a rising series by about `(2/3)·window·sΔ` and a falling one by about
/// `(1/3)·window·sΔ`; at 100 ppm, 1 s pings and radius 4 that is 0.6 / 0.3 ms.
#[derive(Clone, Debug, Default)]
pub struct SpikeFilter {
    window: VecDeque<f64>,
}

impl SpikeFilter {
    /// An empty filter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Pushes a sample (seconds) with the current radius and returns the filtered value
    /// (seconds).
    pub fn push(&mut self, sample: f64, radius: usize) -> f64 {
        let size = radius.saturating_mul(2).saturating_add(1);
        if size < 3 || !sample.is_finite() {
            return sample;
        }
        slide(&mut self.window, sample, size);
        let n = self.window.len();
        if n < 3 {
            return self.window.iter().copied().fold(f64::INFINITY, f64::min);
        }
        // Group sizes: n / 3 each, the remainder going to the newest groups.
        let base = n / 3;
        let extra = n % 3;
        let sizes = [base, base + usize::from(extra >= 2), base + usize::from(extra >= 1)];
        let mut mins = [f64::INFINITY; 3];
        let mut it = self.window.iter().copied();
        for (g, &k) in sizes.iter().enumerate() {
            for x in it.by_ref().take(k) {
                mins[g] = mins[g].min(x);
            }
        }
        mins.sort_by(f64::total_cmp);
        mins[1]
    }

    /// Forgets all samples.
    pub fn clear(&mut self) {
        self.window.clear();
    }

    /// Number of stored samples.
    pub fn len(&self) -> usize {
        self.window.len()
    }

    /// Whether no sample is stored.
    pub fn is_empty(&self) -> bool {
        self.window.is_empty()
    }
}
