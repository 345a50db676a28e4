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
/// `Δ`, [`Self::push`] lags a rising series by about `(2/3)·window·sΔ` and a falling one by about
/// `(1/3)·window·sΔ`; at 100 ppm, 1 s pings and radius 4 that is 0.6 / 0.3 ms, but at 15 s pings
/// and two clocks 200 ppm apart it is 18 / 9 ms, and a round trip read from the two directions
/// comes out 9 ms short. [`Self::push_at`] takes each sample's time and removes the drift: the
/// minima are carried to the newest sample's time along the drift they show.
#[derive(Clone, Debug, Default)]
pub struct SpikeFilter {
    window: VecDeque<f64>,
    /// The receive time (s, any monotonic origin) of each sample in `window`; empty when the
    /// filter is fed by [`Self::push`].
    times: VecDeque<f64>,
    /// [`Self::push_at`]'s drift estimate (s/s): an exponential average of the per-sample
    /// Theil–Sen slopes, from 0.
    slope: f64,
}

/// Weight of a new slope in [`SpikeFilter::push_at`]'s average. One slope comes from three
/// minima about a window apart, each off by the jitter's residue, so on its own it is noisy (at
/// ±2 ms jitter and 15 s pings it doubled the output's spread); a clock's drift changes over
/// hours, so averaging the last ~16 slopes loses nothing and brings the spread back near the plain
/// minima's.
const SLOPE_WEIGHT: f64 = 0.0625;

/// The minimum of each of the three sub-windows of `window` (at least 3 samples, oldest first;
/// sizes `n / 3` each, the remainder going to the newest groups) and the index of the first
/// sample that holds it.
fn group_minima(window: &VecDeque<f64>) -> [(f64, usize); 3] {
    let n = window.len();
    let (base, extra) = (n / 3, n % 3);
    let sizes = [base, base + usize::from(extra >= 2), base + usize::from(extra >= 1)];
    let mut mins = [(f64::INFINITY, 0usize); 3];
    let mut k = 0;
    for (g, &len) in sizes.iter().enumerate() {
        for _ in 0..len {
            if window[k] < mins[g].0 {
                mins[g] = (window[k], k);
            }
            k += 1;
        }
    }
    mins
}

/// The largest drift (s/s) between two clocks that [`SpikeFilter::push_at`] takes from a trend:
/// NTP's bound on one clock's frequency error is 500 ppm (RFC 5905 §7.3, MAXFREQ), and common
/// oscillators stay within 100 ppm, so two clocks part at well under 500 ppm. A steeper trend is
/// a change of the path itself and is followed as such.
pub const MAX_DRIFT: f64 = 500e-6;

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
        self.times.clear();
        slide(&mut self.window, sample, size);
        let n = self.window.len();
        if n < 3 {
            return self.window.iter().copied().fold(f64::INFINITY, f64::min);
        }
        let mut mins = group_minima(&self.window).map(|(m, _)| m);
        mins.sort_by(f64::total_cmp);
        mins[1]
    }

    /// [`Self::push`] with the sample's receive time `at` (seconds, any monotonic origin, not
    /// decreasing), which removes the lag a drifting clock gives the minima: each sub-window's
    /// minimum `m_g`, taken at `τ_g`, is carried to the newest sample's time `t` as
    /// `m_g + s·(t − τ_g)`, and the output is the median of the three. `s` is the Theil–Sen
    /// slope of the three minima (the median of the slopes of the three pairs; one bad
    /// sub-window cannot set it), limited to ±[`MAX_DRIFT`] and averaged over the last pushes
    /// (`SLOPE_WEIGHT`). Under a linear drift the minima lie
    /// on the drift line, so the output is the latest minimum-delay value, not one from half a
    /// window ago, and both directions of a link are read at the same moment: their round trip
    /// loses the drift. Queueing spikes are still rejected (they are never minima). A step of the
    /// path's latency is followed as before, overshooting by at most `MAX_DRIFT` times the window.
    /// A clock offset shifts the output by exactly the offset; so does a shift of every `at`.
    pub fn push_at(&mut self, sample: f64, radius: usize, at: f64) -> f64 {
        let size = radius.saturating_mul(2).saturating_add(1);
        if size < 3 || !sample.is_finite() {
            return sample;
        }
        if self.times.len() != self.window.len() {
            // Fed by push() before: those samples have no times.
            self.window.clear();
            self.times.clear();
            self.slope = 0.0;
        }
        slide(&mut self.window, sample, size);
        slide(&mut self.times, at, size);
        let n = self.window.len();
        if n < 3 {
            return self.window.iter().copied().fold(f64::INFINITY, f64::min);
        }
        let mins = group_minima(&self.window).map(|(m, k)| (m, self.times[k]));
        let slope = |a: (f64, f64), b: (f64, f64)| if b.1 > a.1 { (b.0 - a.0) / (b.1 - a.1) } else { 0.0 };
        let mut slopes = [slope(mins[0], mins[1]), slope(mins[0], mins[2]), slope(mins[1], mins[2])];
        slopes.sort_by(f64::total_cmp);
        let raw = slopes[1].clamp(-MAX_DRIFT, MAX_DRIFT);
        // Until the window is full the groups are one or two samples each: no slope from them
        // (one spiked sample would set it). The average starts from no drift, not from the first
        // slope, so a new filter's first outputs carry no slope noise (the demo showed −0.05 ms
        // on loopback with it) and the drift is taken in over the next pushes.
        if n == size {
            self.slope += SLOPE_WEIGHT * (raw - self.slope);
        }
        let s = self.slope;
        let now = self.times[n - 1];
        let mut carried = mins.map(|(m, t)| m + s * (now - t));
        carried.sort_by(f64::total_cmp);
        carried[1]
    }

    /// Forgets all samples.
    pub fn clear(&mut self) {
        self.window.clear();
        self.times.clear();
        self.slope = 0.0;
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
