//! Damping filter vectors of the upstream inventory (§5.2).

use eg_core::route::MedianFilter;

fn run(radius: usize, input: &[f64]) -> Vec<f64> {
    let mut f = MedianFilter::new();
    input.iter().map(|&x| f.push(x, radius)).collect()
}

#[test]
fn radius_4() {
    let inf = f64::INFINITY;
    let input = [inf, 10., 12., 50., 11., 13., 100., 12., 9., 14., 15., 200.];
    let want = [inf, 10., 12., 12., 12., 12., 13., 12., 12., 12., 13., 14.];
    assert_eq!(run(4, &input), want);
}

#[test]
fn radius_1() {
    assert_eq!(
        run(1, &[10., 50., 11., 12., 100.]),
        [10., 50., 11., 12., 12.]
    );
}

#[test]
fn radius_0_passthrough() {
    let input = [10., 50., 11., 12., 100., -3.0];
    assert_eq!(run(0, &input), input);
}

#[test]
fn infinity_is_not_stored_and_radius_is_reread() {
    let mut f = MedianFilter::new();
    assert_eq!(f.push(f64::INFINITY, 1), f64::INFINITY);
    assert!(f.is_empty());
    for x in [5.0, 1.0, 3.0] {
        f.push(x, 1);
    }
    assert_eq!(f.push(f64::INFINITY, 1), f64::INFINITY);
    assert_eq!(f.len(), 3);
    // Growing the radius keeps the samples: [5,1,3,4] is even -> ignore 5 -> median of 1,3,4.
    assert_eq!(f.push(4.0, 2), 3.0);
    // Negative latencies (clock offsets) are ordinary samples.
    let mut g = MedianFilter::new();
    assert_eq!([-0.3, -0.1, -0.2].map(|x| g.push(x, 1)), [-0.3, -0.1, -0.2]);
}
