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
        self.window.push_back(sample);
        while self.window.len() > size {
            self.window.pop_front();
        }
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
