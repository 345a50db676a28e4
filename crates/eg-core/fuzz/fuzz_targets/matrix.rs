//! cargo-fuzz entry: upstream's latency-matrix text (eg_core::route::matrix, the `solve` input).
//! Invariants: parsing never panics; an accepted matrix written back as text (header, one row
//! per id, `Inf` for no edge, values in Rust's shortest round-trip form) parses to the same ids and
//! edges, bit for bit; small accepted matrices solve, and every path found starts and ends at
//! its pair and steps only along input edges.
#![no_main]

use std::collections::HashMap;
use std::fmt::Write;

use eg_core::route::matrix::{parse_matrix, LatencyMatrix};
use libfuzzer_sys::fuzz_target;

fn write_back(m: &LatencyMatrix) -> String {
    let mut w: HashMap<(u16, u16), f64> = HashMap::new();
    for e in &m.edges {
        w.insert((e.src, e.dst), e.latency);
    }
    let mut s = String::from("X");
    for id in &m.ids {
        write!(s, " {id}").unwrap();
    }
    s.push('\n');
    for &src in &m.ids {
        write!(s, "{src}").unwrap();
        for &dst in &m.ids {
            match w.get(&(src, dst)) {
                Some(v) => write!(s, " {v}").unwrap(),
                None => s.push_str(" Inf"),
            }
        }
        s.push('\n');
    }
    s
}

fn edge_set(m: &LatencyMatrix) -> Vec<(u16, u16, u64)> {
    let mut v: Vec<_> = m.edges.iter().map(|e| (e.src, e.dst, e.latency.to_bits())).collect();
    v.sort_unstable();
    v
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(m) = parse_matrix(text) else { return };
    let again = parse_matrix(&write_back(&m)).expect("a parsed matrix, written back, parses");
    assert_eq!(again.ids, m.ids);
    assert_eq!(edge_set(&again), edge_set(&m));
    // Solving is O(n^3): only small matrices, so one input stays fast.
    if m.ids.len() <= 24 {
        if let Ok(sol) = m.solve() {
            let edges: std::collections::HashSet<(u16, u16)> = m.edges.iter().map(|e| (e.src, e.dst)).collect();
            for &s in &m.ids {
                for &t in &m.ids {
                    if s == t {
                        continue;
                    }
                    if let Some(p) = sol.path(s, t) {
                        assert_eq!(p.first(), Some(&s));
                        assert_eq!(p.last(), Some(&t));
                        for w in p.windows(2) {
                            assert!(edges.contains(&(w[0], w[1])), "path {s}->{t} uses a missing edge {:?}", w);
                        }
                    }
                }
            }
        }
    }
});
