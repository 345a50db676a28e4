//! The spike-robust latency filter (median of windowed minima; route/filter.rs, docs/routing.md
//! §Filter): its rules, and what it does with queueing spikes, a bogus low sample, a real change
//! of latency and a clock offset, next to the upstream median on the same input; and push_at, which
//! takes out the drift between the two clocks.

use eg_core::route::{MedianFilter, SpikeFilter};

// push_at (below) is what the edges use; push, the same without sample times, keeps its tests.

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

// ---- push_at: the drift between the two clocks taken out -----------------------------------

/// Samples `lat + drift·t + noise` at `t = k·dt`, through push_at; returns (t, output) pairs.
fn run_drift(radius: usize, n: usize, dt: f64, lat: f64, drift: f64, noise: impl Fn(usize) -> f64) -> Vec<(f64, f64)> {
    let mut f = SpikeFilter::new();
    (0..n)
        .map(|k| {
            let t = k as f64 * dt;
            (t, f.push_at(lat + drift * t + noise(k), radius, t))
        })
        .collect()
}

#[test]
fn under_a_linear_drift_push_at_reads_the_current_value_where_push_lags() {
    // 15 s pings, two clocks 200 ppm apart, radius 4: push() lags a rising series by about
    // (2/3)·9·200e-6·15 = 18 ms; push_at follows it exactly.
    // The slope is averaged (weight 1/16) from no drift on, so after a few hundred samples the
    // output is the current value to within a microsecond.
    for drift in [200e-6, -200e-6, 80e-6, 0.0] {
        let out = run_drift(4, 400, 15.0, 0.010, drift, |_| 0.0);
        let mut plain = SpikeFilter::new();
        let mut lag_plain: f64 = 0.0;
        for (k, &(t, y)) in out.iter().enumerate().skip(300) {
            let truth = 0.010 + drift * t;
            assert!((y - truth).abs() < 1e-6, "drift {drift}: sample {k}: {y} vs {truth}");
        }
        for k in 0..40 {
            let t = k as f64 * 15.0;
            let y = plain.push(0.010 + drift * t, 4);
            if k >= 9 {
                lag_plain = lag_plain.max((y - (0.010 + drift * t)).abs());
            }
        }
        if drift != 0.0 {
            assert!(lag_plain > 2.0e-3, "drift {drift}: push() lags by {lag_plain} (the case must show the lag)");
        }
    }
}

#[test]
fn the_two_directions_of_a_link_give_the_true_round_trip_under_drift() {
    // a→b reads lat_ab + Δ(t), b→a reads lat_ba − Δ(t), Δ drifting at 200 ppm; the two are
    // sampled 7 s apart (different ping phases). Their sum is the round trip with push_at.
    let (ab, ba, drift) = (0.004, 0.003, 200e-6);
    let mut f1 = SpikeFilter::new();
    let mut f2 = SpikeFilter::new();
    let (mut y1, mut y2) = (0.0, 0.0);
    for k in 0..400 {
        let t1 = k as f64 * 15.0;
        let t2 = t1 + 7.0;
        y1 = f1.push_at(ab + drift * t1, 4, t1);
        y2 = f2.push_at(ba - drift * t2, 4, t2);
    }
    // Both carried to their newest sample; read at t2 the a→b value is 7 s of drift behind.
    let rtt = y1 + drift * 7.0 + y2;
    assert!((rtt - (ab + ba)).abs() < 1e-6, "round trip {rtt}");
}

#[test]
fn push_at_still_rejects_spikes_and_ignores_jitter_mostly() {
    // Bursts of up to two upward spikes in every 9 samples, ±0.1 ms jitter, drift 100 ppm, 1 s
    // pings: the output stays within the jitter of the drifting truth.
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let spikes: Vec<f64> = (0..400).map(|k| if k % 9 < 2 { 0.003 + r.unit() * 0.030 } else { 0.0 }).collect();
    let jit: Vec<f64> = (0..400).map(|_| (r.unit() - 0.5) * 0.0002).collect();
    let out = run_drift(4, 400, 1.0, 0.002, 100e-6, |k| spikes[k] + jit[k]);
    for &(t, y) in out.iter().skip(100) {
        let truth = 0.002 + 100e-6 * t;
        assert!((y - truth).abs() < 0.0004, "t {t}: {y} vs {truth}");
    }
}

#[test]
fn push_at_follows_a_step_of_the_path_with_a_bounded_overshoot() {
    // 10 ms, then 60 ms from sample 20 on; 1 s pings, radius 4. The trend the step makes is
    // steeper than any clock drift, so the slope is capped at MAX_DRIFT: within a window the
    // output is 60 ms, off by at most MAX_DRIFT times the window.
    let out = run_drift(4, 40, 1.0, 0.0, 0.0, |k| if k < 20 { 0.010 } else { 0.060 });
    let cap = eg_core::route::MAX_DRIFT * 9.0;
    for &(t, y) in out.iter().skip(29) {
        assert!((y - 0.060).abs() <= cap + 1e-12, "t {t}: {y}");
    }
    for &(_, y) in out.iter().take(20).skip(3) {
        assert!((y - 0.010).abs() < 1e-12);
    }
}

#[test]
fn push_at_moves_with_a_clock_offset_and_not_with_the_time_origin() {
    let base = run_drift(4, 30, 15.0, 0.010, 150e-6, |k| if k % 5 == 0 { 0.02 } else { 0.0 });
    let mut f = SpikeFilter::new();
    for (k, &(t, y)) in base.iter().enumerate() {
        let x = 0.010 + 150e-6 * t + if k % 5 == 0 { 0.02 } else { 0.0 };
        let z = f.push_at(x + 3600.0, 4, t + 1.0e6);
        assert!((z - 3600.0 - y).abs() < 1e-6, "sample {k}: {z} vs {y} + 3600");
    }
}

#[test]
fn push_at_adds_little_spread_to_jittered_samples_without_drift() {
    // ±2 ms uniform jitter, no drift, 15 s pings, radius 4. One slope per sample from three
    // noisy minima nearly doubled the output's spread (0.95 ms against push's 0.54); the slope is
    // averaged over the last pushes, so the spread stays within a fifth of push's.
    let mut r = Rng(0x0DDB_1A5E_5BAD_5EED);
    let (mut a, mut b) = (SpikeFilter::new(), SpikeFilter::new());
    let (mut ea, mut eb) = (Vec::new(), Vec::new());
    for k in 0..5000 {
        let x = 0.010 + (r.unit() * 2.0 - 1.0) * 0.002;
        let (ya, yb) = (a.push(x, 4), b.push_at(x, 4, k as f64 * 15.0));
        if k > 30 {
            ea.push(ya);
            eb.push(yb);
        }
    }
    let sd = |e: &[f64]| {
        let m = e.iter().sum::<f64>() / e.len() as f64;
        (e.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / e.len() as f64).sqrt()
    };
    let (sa, sb) = (sd(&ea), sd(&eb));
    assert!(sb <= 1.2 * sa, "push_at spread {sb} against push {sa}");
}
