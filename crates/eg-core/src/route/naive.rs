//! Reference solver: the textbook triple loop over explicit `(ticks, hops, next)` triples in
//! integer arithmetic. Slow (O(n^3) with tuple compares) and independent of the packed-key
//! kernel; tests and benchmarks compare [`solve`](super::solve::solve) against it.

use super::ids::NodeId;
use super::solve::{Prepared, RouteError, Solution, WeightedEdge};

/// Solves with the same rule as [`super::solve::solve`] using a naive triple loop.
pub fn solve_naive(nodes: &[NodeId], edges: &[WeightedEdge]) -> Result<Solution, RouteError> {
    let prep = Prepared::new(nodes, edges)?;
    let n = prep.ids.len();
    // (ticks, hops, next index); None = unreachable. The diagonal's next is usize::MAX so a
    // detour through the source itself never wins the third comparison.
    let mut d: Vec<Option<(i128, u64, usize)>> = vec![None; n * n];
    for i in 0..n {
        for j in 0..n {
            let t = prep.ticks(i * n + j);
            if t != f64::INFINITY {
                d[i * n + j] = Some((t as i128, 1, j));
            }
        }
        d[i * n + i] = Some((0, 0, usize::MAX));
    }
    for k in 0..n {
        for i in 0..n {
            let Some((t1, h1, nx)) = d[i * n + k] else {
                continue;
            };
            for j in 0..n {
                let Some((t2, h2, _)) = d[k * n + j] else {
                    continue;
                };
                let cand = (t1 + t2, h1 + h2, nx);
                match d[i * n + j] {
                    Some(cur) if cur <= cand => {}
                    _ => d[i * n + j] = Some(cand),
                }
            }
        }
    }
    let neg: Vec<NodeId> = (0..n)
        .filter(|&i| matches!(d[i * n + i], Some((t, _, _)) if t < 0))
        .map(|i| prep.ids[i])
        .collect();
    if !neg.is_empty() {
        return Err(RouteError::NegativeCycle(neg));
    }
    let next_idx: Vec<u32> = d
        .iter()
        .enumerate()
        .map(|(p, v)| match v {
            Some((_, _, nx)) if p / n != p % n => *nx as u32,
            _ => u32::MAX,
        })
        .collect();
    prep.finish(&next_idx)
}
