//! The spike-robust latency filter (median of windowed minima; route/filter.rs, docs/routing.md
//! §Filter): its rules, and what it does with queueing spikes, a bogus low sample, a real change
//! of latency and a clock offset, next to the upstream median on the same input.

use eg_core::route::{MedianFilter, SpikeFilter};

fn run(radius: usize, input: &[f64]) -> Vec<f64> {
    let mut f = SpikeFilter::new();
    input.iter().map(|&x| f.push(x, radius)).collect()
}

fn run_median(radius: usize, input: &[f64]) -> Vec<f64> {
    let mut f = MedianFilter::new();
    input.iter().map(|&x| f.push(x, radius)).collect()
}

/// Deterministic pseudo-random numbers in [0, 1) (xorshift64*).
struct Rng(u64);
impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn radius_0_and_non_finite_samples_pass_through_unstored() {
    let input = [10., 50., 11., 12., 100., -3.0];
    assert_eq!(run(0, &input), input);
    let mut f = SpikeFilter::new();
    assert_eq!(f.push(f64::INFINITY, 4), f64::INFINITY);
    assert!(f.push(f64::NAN, 4).is_nan());
    assert_eq!(f.push(f64::NEG_INFINITY, 4), f64::NEG_INFINITY);
    assert!(f.is_empty());
}

#[test]
fn warm_up_is_the_minimum_then_the_median_of_three_group_minima() {
    // 1 and 2 samples: their minimum; 3: one per group, the median; 9 (radius 4): groups of 3.
    assert_eq!(run(4, &[5., 3., 4.]), [5., 3., 4.]);
    // window [9 1 9 | 9 9 2 | 9 9 9] (the 10th push drops the first 7): mins 1, 2, 9 -> 2
    let out = run(4, &[7., 9., 1., 9., 9., 9., 2., 9., 9., 9.]);
    assert_eq!(out[9], 2.);
    // 5 samples (radius 2): groups of 1, 2, 2 (the newer groups larger)
    assert_eq!(run(2, &[1., 8., 9., 3., 7.])[4], 3.);
}

#[test]
fn bursts_of_up_to_two_spikes_never_move_the_output() {
    // 2 ms of wire; queues only ever add: any pattern of bursts of at most 2 spiked samples
    // between clean ones leaves a clean sample in every group of 3, so every minimum is clean.
    let mut r = Rng(42);
    let mut input = Vec::new();
    while input.len() < 2000 {
        for _ in 0..(1 + (r.unit() * 2.0) as usize) {
            input.push(0.002 + 0.001 + r.unit() * 0.029);
        }
        input.push(0.002 + r.unit() * 10e-6);
    }
    let out = run(4, &input);
    let med = run_median(4, &input);
    let worst = out[9..].iter().map(|x| (x - 0.002).abs()).fold(0.0, f64::max);
    let worst_median = med[9..].iter().map(|x| (x - 0.002).abs()).fold(0.0, f64::max);
    assert!(worst <= 10e-6, "spike filter off by {worst} s");
    assert!(worst_median > 1e-3, "the median is moved by the same spikes ({worst_median} s)");
}

#[test]
fn random_spikes_on_30_percent_of_samples_rarely_reach_the_output() {
    let mut r = Rng(9);
    let input: Vec<f64> = (0..20_000).map(|_| 0.002 + r.unit() * 10e-6 + if r.unit() < 0.3 { 0.001 + r.unit() * 0.029 } else { 0.0 }).collect();
    let frac = |out: &[f64]| out[9..].iter().filter(|&&x| x - 0.002 > 1e-4).count() as f64 / (out.len() - 9) as f64;
    let f = frac(&run(4, &input));
    let m = frac(&run_median(4, &input));
    // A group of 3 is all spiked with p = 0.027; two of three groups: about 0.2 % of windows.
    assert!(f < 0.01, "spike filter output > 0.1 ms off in {:.2} % of samples", f * 100.0);
    assert!(m > 10.0 * f, "median: {:.2} %, spike filter {:.2} %", m * 100.0, f * 100.0);
}

#[test]
fn one_bogus_low_sample_is_ignored() {
    let mut input = vec![0.005; 20];
    input[12] = -0.5; // a clock stepped back for one sample
    let out = run(4, &input);
    assert!(out.iter().all(|&x| x == 0.005), "{out:?}");
}

#[test]
fn a_real_change_is_followed_within_the_window() {
    let radius = 4;
    let mut input = vec![0.002; 20];
    input.extend(vec![0.012; 20]); // the path got 10 ms slower
    input.extend(vec![0.001; 20]); // then faster than before
    let out = run(radius, &input);
    let up = out[20..].iter().position(|&x| x == 0.012).unwrap();
    let down = out[40..].iter().position(|&x| x == 0.001).unwrap();
    assert!(up < 2 * radius + 1, "increase seen after {up} samples");
    assert!(down < 2 * radius + 1, "decrease seen after {down} samples");
    assert!(down <= up, "a decrease is followed at least as fast ({down} vs {up})");
}

#[test]
fn a_clock_offset_shifts_the_output_by_exactly_the_offset() {
    let mut r = Rng(7);
    let input: Vec<f64> = (0..500).map(|_| 0.003 + r.unit() * r.unit() * 0.02).collect();
    let base = run(4, &input);
    for off in [7200.0, -3.25, 86400.0 * 365.0, -1.7e9] {
        let shifted: Vec<f64> = input.iter().map(|x| x + off).collect();
        let out = run(4, &shifted);
        for (i, (&o, &b)) in out.iter().zip(&base).enumerate() {
            // The same sample is chosen: the output is that shifted sample, bit for bit.
            assert_eq!(o, b + off, "sample {i}, offset {off}");
        }
    }
}
