//! Helpers shared by the wg_* integration tests (deterministic RNG, key pairs, a
//! two-tunnel harness).
#![allow(dead_code)]

use eg_core::noise::keys::{private_from_random, public_key};
use eg_core::noise::rand_core::CryptoRngCore;
use eg_core::noise::Tai64N;
use eg_core::session::{Action, Config, Tunnel, Verdict};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

pub const SRC_A: &[u8] = &[10, 0, 0, 1, 0x13, 0x88];
pub const SRC_B: &[u8] = &[10, 0, 0, 2, 0x13, 0x88];

pub fn rng(seed: u64) -> Box<dyn CryptoRngCore + Send> {
    Box::new(StdRng::seed_from_u64(seed))
}

pub fn static_key(seed: u64) -> ([u8; 32], [u8; 32]) {
    let mut r = StdRng::seed_from_u64(seed ^ 0x5eed_5eed);
    let mut b = [0u8; 32];
    r.fill_bytes(&mut b);
    let private = private_from_random(b);
    (private, public_key(&private))
}

/// Wall clock derived from the monotonic test clock (1.7e9 s epoch offset).
pub fn wall(now: f64) -> Tai64N {
    Tai64N::from_unix_millis(1_700_000_000_000.0 + now * 1000.0)
}

pub struct Pair {
    pub a: Tunnel,
    pub b: Tunnel,
    pub a_pub: [u8; 32],
    pub b_pub: [u8; 32],
}

pub fn pair_with(cfg: Config, psk: Option<[u8; 32]>, ka_a: f64, ka_b: f64, seed: u64) -> Pair {
    let (a_priv, a_pub) = static_key(seed);
    let (b_priv, b_pub) = static_key(seed + 1);
    let a = Tunnel::new(a_priv, b_pub, psk, ka_a, cfg.clone(), rng(seed + 100)).unwrap();
    let b = Tunnel::new(b_priv, a_pub, psk, ka_b, cfg, rng(seed + 200)).unwrap();
    Pair { a, b, a_pub, b_pub }
}

pub fn pair(psk: Option<[u8; 32]>) -> Pair {
    pair_with(Config::default(), psk, 0.0, 0.0, 1)
}

impl Pair {
    /// A initiates, B responds, A confirms with a keepalive. Returns (init, response, keepalive).
    pub fn handshake(&mut self, now: f64) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let mut init = vec![0u8; 148];
        assert_eq!(
            self.a.format_initiation(now, wall(now), &mut init).unwrap(),
            148
        );
        let mut out = vec![0u8; 2048];
        let v = self.b.decapsulate(&init, SRC_A, now, false, &mut out);
        let Verdict::WriteToNetwork(n) = v else {
            panic!("expected response, got {v:?}")
        };
        assert_eq!(n, 92);
        let resp = out[..n].to_vec();
        let v = self.a.decapsulate(&resp, SRC_B, now, false, &mut out);
        let Verdict::SessionReady(n) = v else {
            panic!("expected session, got {v:?}")
        };
        assert_eq!(n, 32);
        let ka = out[..n].to_vec();
        assert_eq!(
            self.b.decapsulate(&ka, SRC_A, now, false, &mut out),
            Verdict::Keepalive
        );
        assert!(self.a.has_session(now));
        assert!(self.b.has_session(now));
        (init, resp, ka)
    }
}

/// Send `payload` from `from` to `to` and assert it arrives intact.
pub fn transfer(from: &mut Tunnel, to: &mut Tunnel, payload: &[u8], now: f64) -> Vec<u8> {
    let mut msg = vec![0u8; payload.len() + 64];
    let n = from.encapsulate(payload, now, &mut msg).unwrap();
    msg.truncate(n);
    let mut out = vec![0u8; n];
    match to.decapsulate(&msg, SRC_A, now, false, &mut out) {
        Verdict::Data(r) => {
            assert_eq!(r.len() % 16, 0);
            assert_eq!(&out[r.start..r.start + payload.len()], payload);
            assert!(out[r.start + payload.len()..r.end].iter().all(|&b| b == 0));
        }
        Verdict::Keepalive => assert!(payload.is_empty()),
        v => panic!("transfer failed: {v:?}"),
    }
    msg
}

pub fn initiations(actions: &[Action]) -> Vec<Vec<u8>> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SendInitiation(b) => Some(b.clone()),
            _ => None,
        })
        .collect()
}

pub fn keepalives(actions: &[Action]) -> Vec<Vec<u8>> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SendKeepalive(b) => Some(b.clone()),
            _ => None,
        })
        .collect()
}

pub fn short_config() -> Config {
    Config {
        rekey_after_time: 4.0,
        reject_after_time: 6.0,
        rekey_attempt_time: 3.0,
        rekey_timeout: 0.5,
        rekey_timeout_jitter: 0.1,
        keepalive_timeout: 1.0,
        cookie_refresh_time: 10.0,
        handshake_initiation_rate: 0.02,
        zero_key_material_after: 18.0,
        ..Config::default()
    }
}
