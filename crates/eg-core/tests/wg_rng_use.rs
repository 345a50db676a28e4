//! The CSPRNG is for keys, receiver indices, cookie secrets and nonces: a data packet must not
//! draw from it. In the WASM build every draw is a call out to WebCrypto, and an idle link whose
//! every request re-arms the new-handshake timer paid one per packet sent (the timer jitter).

mod wg_common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use eg_core::noise::rand_core::{CryptoRng, RngCore};
use eg_core::session::{Config, Tunnel, Verdict};
use rand::rngs::StdRng;
use rand::SeedableRng;
use wg_common::*;

/// A seeded RNG that counts how often it is asked for bytes.
struct Counting {
    inner: StdRng,
    draws: Arc<AtomicUsize>,
}

impl RngCore for Counting {
    fn next_u32(&mut self) -> u32 {
        self.draws.fetch_add(1, Ordering::Relaxed);
        self.inner.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.draws.fetch_add(1, Ordering::Relaxed);
        self.inner.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.draws.fetch_add(1, Ordering::Relaxed);
        self.inner.fill_bytes(dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}
impl CryptoRng for Counting {}

#[test]
fn request_and_answer_traffic_draws_nothing_from_the_csprng() {
    let (a_priv, a_pub) = static_key(7);
    let (b_priv, b_pub) = static_key(8);
    let (da, db) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let ra = Box::new(Counting {
        inner: StdRng::seed_from_u64(1),
        draws: da.clone(),
    });
    let rb = Box::new(Counting {
        inner: StdRng::seed_from_u64(2),
        draws: db.clone(),
    });
    let cfg = Config::default();
    let a = Tunnel::new(a_priv, b_pub, None, 0.0, cfg.clone(), ra).unwrap();
    let b = Tunnel::new(b_priv, a_pub, None, 0.0, cfg, rb).unwrap();
    let mut p = Pair { a, b, a_pub, b_pub };
    p.handshake(0.0);

    let mut out = vec![0u8; 2048];
    let mut plain = vec![0u8; 2048];
    let mut now = 0.01;
    // One ping a second or so, always answered: each request re-arms the sender's
    // new-handshake timer (KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + jitter).
    let (a0, b0) = (da.load(Ordering::Relaxed), db.load(Ordering::Relaxed));
    for i in 0..100u32 {
        let payload = i.to_be_bytes().repeat(16);
        let n = p.a.encapsulate(&payload, now, &mut out).unwrap();
        let v = p.b.decapsulate(&out[..n], SRC_A, now, false, &mut plain);
        assert!(
            matches!(&v, Verdict::Data(r) if plain[r.clone()].starts_with(&payload)),
            "request {i}: {v:?}"
        );
        let n = p.b.encapsulate(&payload, now, &mut out).unwrap();
        let v = p.a.decapsulate(&out[..n], SRC_B, now, false, &mut plain);
        assert!(
            matches!(&v, Verdict::Data(r) if plain[r.clone()].starts_with(&payload)),
            "answer {i}: {v:?}"
        );
        now += 0.7;
    }
    // At most one draw per side: the seed of the timer-jitter generator.
    let (a1, b1) = (
        da.load(Ordering::Relaxed) - a0,
        db.load(Ordering::Relaxed) - b0,
    );
    assert!(
        a1 <= 1 && b1 <= 1,
        "CSPRNG draws during 100 request/answer rounds: A {a1}, B {b1}"
    );
}
