//! Deterministic fuzzing of the data plane's batch decoder: the cargo-fuzz harness
//! (fuzz/plane_harness.rs) over seeded random and mutated batches. Passing means no panic and
//! every output area well-formed after every batch.

#[path = "../fuzz/plane_harness.rs"]
mod plane_harness;

use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

#[test]
fn plane_batches_random_and_mutated() {
    let mut h = plane_harness::PlaneHarness::new();
    let mut rng = StdRng::seed_from_u64(0x91a7e);
    for _ in 0..20_000 {
        let len = match rng.gen_range(0..4) {
            0 => rng.gen_range(0..8),
            1 => rng.gen_range(0..64),
            _ => rng.gen_range(0..600),
        };
        let mut data = vec![0u8; len];
        rng.fill_bytes(&mut data);
        if len > 2 && data[1] & 1 == 1 {
            // sparse masks: flip a few bits of the valid datagrams
            for b in data[2..].iter_mut() {
                if rng.gen_range(0..16) != 0 {
                    *b = 0;
                }
            }
        }
        h.run(&data);
    }
}
