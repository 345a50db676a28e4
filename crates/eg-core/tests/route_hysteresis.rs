//! Hysteresis (§9.6 vectors adapted to the offset-invariant rule; see docs/routing.md).

use eg_core::route::hysteresis::{Change, Hysteresis, RecalculateSetting};
use eg_core::route::Graph;

const SUPER: RecalculateSetting = RecalculateSetting {
    jitter_tolerance_ms: 30.0,
    jitter_tolerance_multiplier: 1.01,
    recalculate_cooldown: 5.0,
};

/// A symmetric link with zero offset whose two directions move together: exactly upstream's
/// supernode vectors (threshold = T + (M-1) * max(old, new)).
fn symmetric(old_ms: f64, new_ms: f64) -> Change {
    let (o, n) = (old_ms / 1000.0, new_ms / 1000.0);
    SUPER.classify(o, n, o, n)
}

#[test]
fn supernode_vectors_symmetric_link() {
    assert_eq!(symmetric(37.0, 39.0), Change::Jitter);
    assert_eq!(symmetric(100.0, 131.0), Change::Jitter); // 31 <= 31.31
    assert_eq!(symmetric(100.0, 132.0), Change::Significant); // 32 > 31.32
    assert_eq!(symmetric(300.0, 330.0), Change::Jitter); // 30 <= 33.3
    assert_eq!(symmetric(300.0, 334.0), Change::Significant); // 34 > 33.34
    assert_eq!(symmetric(100.0, 100.0), Change::None);
}

#[test]
fn finite_infinite_flip_is_connectivity() {
    let inf = f64::INFINITY;
    assert_eq!(SUPER.classify(0.1, inf, 0.1, 0.1), Change::Connectivity);
    assert_eq!(SUPER.classify(inf, 0.1, inf, inf), Change::Connectivity);
    assert_eq!(SUPER.classify(inf, inf, 0.1, 0.1), Change::None);
}

#[test]
fn clock_offset_invariance() {
    // True one-way 100 ms each way; offset +5 s on the receiver of u->v.
    let off = 5.0;
    for (old, new, want) in [
        (100.0, 131.0, Change::Jitter),
        (100.0, 132.0, Change::Significant),
        (300.0, 334.0, Change::Significant),
    ] {
        let (o, n) = (old / 1000.0, new / 1000.0);
        assert_eq!(
            SUPER.classify(o + off, n + off, o - off, n - off),
            want,
            "{old}->{new}"
        );
        assert_eq!(
            SUPER.classify(o - off, n - off, o + off, n + off),
            want,
            "{old}->{new}"
        );
    }
    // Without the reverse direction only the absolute term counts (30 ms).
    assert_eq!(
        SUPER.classify(5.100, 5.131, f64::INFINITY, f64::INFINITY),
        Change::Significant
    );
    assert_eq!(
        SUPER.classify(5.100, 5.129, f64::INFINITY, f64::INFINITY),
        Change::Jitter
    );
    // One direction moving alone, judged on its link only: the round trip's one-way share
    // counts (a lone link cannot tell it from a clock change), base = max(200, 264) / 2 = 132
    // -> threshold 31.32; in a graph the fitted potential adds the rest (route_hysteresis_drift.rs).
    assert_eq!(
        SUPER.classify(0.100, 0.164, 0.100, 0.100),
        Change::Significant
    );
    assert_eq!(SUPER.classify(0.100, 0.162, 0.100, 0.100), Change::Jitter);
    // A drifting clock (one direction up, the other down by as much) never counts.
    assert_eq!(SUPER.classify(0.100, 0.900, 0.100, -0.700), Change::Jitter);
}

#[test]
fn zero_tolerance_triggers_on_any_change() {
    let s = RecalculateSetting {
        jitter_tolerance_ms: 0.0,
        jitter_tolerance_multiplier: 1.0,
        recalculate_cooldown: 0.0,
    };
    assert_eq!(s.classify(0.1, 0.1000001, 0.1, 0.1), Change::Significant);
    assert_eq!(s.classify(0.1, 0.1, 0.1, 0.1), Change::None);
}

fn link(g: &mut Graph, ms: f64, until: f64) {
    g.set_edge(1, 2, ms / 1000.0, 0.0, until).unwrap();
    g.set_edge(2, 1, ms / 1000.0, 0.0, until).unwrap();
}

#[test]
fn recalc_needed_with_cooldown_and_drift() {
    let mut g = Graph::new();
    let mut h = Hysteresis::new(SUPER);
    assert!(!h.recalc_needed(&g, 0.0), "empty graph");
    link(&mut g, 100.0, 1000.0);
    assert!(h.recalc_needed(&g, 0.0), "first solve");
    h.record(&g, 0.0);
    assert!(!h.recalc_needed(&g, 1.0));
    // Gradual drift: compared against the value at the last solve, so it eventually counts.
    link(&mut g, 120.0, 1000.0);
    assert!(!h.recalc_needed(&g, 10.0));
    link(&mut g, 140.0, 1000.0);
    assert!(h.recalc_needed(&g, 10.0));
    // ...but not during the cooldown.
    assert!(!h.recalc_needed(&g, 4.0));
    h.record(&g, 10.0);
    assert!(!h.recalc_needed(&g, 11.0));
    // A new edge (connectivity) bypasses the cooldown.
    g.set_edge(2, 3, 0.01, 0.0, 1000.0).unwrap();
    assert!(h.recalc_needed(&g, 11.0));
    h.record(&g, 11.0);
    // Expiry is a finite -> infinite flip.
    assert!(!h.recalc_needed(&g, 999.0));
    assert!(h.recalc_needed(&g, 1000.5));
    // Removing a node changes the vertex set.
    h.record(&g, 1000.5);
    g.remove_node(3);
    assert!(h.recalc_needed(&g, 1000.6));
}

#[test]
fn additional_cost_change_counts() {
    let mut g = Graph::new();
    let mut h = Hysteresis::new(SUPER);
    link(&mut g, 100.0, 1e9);
    h.record(&g, 0.0);
    // On a lone link the AC of one direction counts half, like a latency change.
    g.set_edge(1, 2, 0.100, 0.070, 1e9).unwrap();
    assert_eq!(h.evaluate(&g, 100.0), Change::Significant);
}
