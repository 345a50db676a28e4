//! Fuzz harness shared by the cargo-fuzz target and the deterministic test.
//!
//! Input byte 0 selects a target; the rest is the input (or a mutation mask).
//! Nothing here may panic for any input.
#![allow(dead_code)]

use eg_core::frame;
use eg_core::noise::kdf::{hash, mac, LABEL_MAC1};
use eg_core::noise::keys::{base64_decode, private_from_random, public_key};
use eg_core::noise::Tai64N;
use eg_core::session::{Config, Device, Verdict};
use rand::rngs::StdRng;
use rand::SeedableRng;

pub struct Harness {
    pub a: Device,
    pub b: Device,
    b_pub: [u8; 32],
    a_pub: [u8; 32],
    templates: Vec<Vec<u8>>,
    now: f64,
    out: Vec<u8>,
    batch: Vec<u8>,
}

fn key(seed: u8) -> ([u8; 32], [u8; 32]) {
    let p = private_from_random([seed; 32]);
    (p, public_key(&p))
}

fn wall(now: f64) -> Tai64N {
    Tai64N::from_unix_millis(1_700_000_000_000.0 + now * 1000.0)
}

impl Harness {
    pub fn new() -> Harness {
        let (ap, a_pub) = key(1);
        let (bp, b_pub) = key(2);
        let mut a = Device::new(ap, Config::default(), Box::new(StdRng::seed_from_u64(1)));
        let mut b = Device::new(bp, Config::default(), Box::new(StdRng::seed_from_u64(2)));
        a.add_peer(b_pub, Some([9; 32]), 0.0).unwrap();
        b.add_peer(a_pub, Some([9; 32]), 0.0).unwrap();
        let mut out = vec![0u8; 4096];
        let mut init = vec![0u8; 148];
        a.format_initiation(0, 1.0, wall(1.0), &mut init).unwrap();
        let (_, Verdict::WriteToNetwork(n)) = b.decapsulate(&init, b"a", 1.0, false, &mut out)
        else {
            panic!("setup")
        };
        let resp = out[..n].to_vec();
        let (_, Verdict::SessionReady(n)) = a.decapsulate(&resp, b"b", 1.0, false, &mut out) else {
            panic!("setup")
        };
        let ka = out[..n].to_vec();
        b.decapsulate(&ka, b"a", 1.0, false, &mut out);
        let n = a.encapsulate(0, &[0x42; 100], 1.0, &mut out).unwrap();
        let data = out[..n].to_vec();
        // a cookie reply from B to a fresh initiation of A
        let mut init2 = vec![0u8; 148];
        a.format_initiation(0, 1.1, wall(1.1), &mut init2).unwrap();
        let (_, Verdict::CookieReply { len, .. }) =
            b.decapsulate(&init2, b"a", 1.1, true, &mut out)
        else {
            panic!("setup")
        };
        let cookie = out[..len].to_vec();
        Harness {
            a,
            b,
            a_pub,
            b_pub,
            templates: vec![init, resp, cookie, data, init2],
            now: 2.0,
            out,
            batch: vec![0u8; 256 * 8],
        }
    }

    fn remac(msg: &mut [u8], receiver_pub: &[u8; 32]) {
        if msg.len() < 32 {
            return;
        }
        let m1 = msg.len() - 32;
        let k = hash(&[LABEL_MAC1, receiver_pub]);
        let t = mac(&k, &msg[..m1]);
        msg[m1..m1 + 16].copy_from_slice(&t);
    }

    pub fn run(&mut self, data: &[u8]) {
        let Some((&sel, rest)) = data.split_first() else {
            return;
        };
        self.now += 0.001;
        let now = self.now;
        match sel % 8 {
            0 => {
                let _ = self
                    .b
                    .decapsulate(rest, b"src", now, sel & 0x80 != 0, &mut self.out);
            }
            1 => {
                let _ = self
                    .a
                    .decapsulate(rest, b"src", now, sel & 0x80 != 0, &mut self.out);
            }
            2 => {
                let _ = frame::parse(rest);
                let _ = frame::Header::parse_header(rest);
            }
            3 => {
                let n = rest.len().min(self.batch.len());
                self.batch[..n].copy_from_slice(&rest[..n]);
                let stride = 48 + (sel as usize >> 3) * 8;
                let count = self.batch.len() / stride;
                let _ = self.b.open_batch(&mut self.batch, stride, count, now);
                let n = rest.len().min(self.batch.len());
                self.batch[..n].copy_from_slice(&rest[..n]);
                let _ = self.a.seal_batch(&mut self.batch, stride, count, now);
            }
            4 => {
                if let Ok(s) = std::str::from_utf8(rest) {
                    let _ = base64_decode(s);
                }
            }
            _ => {
                // Mutate a valid message: XOR the mask, optionally resize, optionally fix mac1
                // so the deeper (cryptographic) checks are reached.
                let Some((&t, mask)) = rest.split_first() else {
                    return;
                };
                let mut msg = self.templates[t as usize % self.templates.len()].clone();
                for (i, m) in mask.iter().enumerate() {
                    if let Some(b) = msg.get_mut(i) {
                        *b ^= m;
                    }
                }
                match t >> 5 {
                    1 => msg.truncate(msg.len().saturating_sub(1 + mask.len() % 17)),
                    2 => msg.extend_from_slice(&mask[..mask.len().min(9)]),
                    _ => {}
                }
                let to_b = t as usize % self.templates.len() != 1;
                if t & 0x10 != 0 {
                    let pk = if to_b { self.b_pub } else { self.a_pub };
                    Self::remac(&mut msg, &pk);
                }
                let load = sel & 0x80 != 0;
                if to_b {
                    let _ = self.b.decapsulate(&msg, b"src", now, load, &mut self.out);
                } else {
                    let _ = self.a.decapsulate(&msg, b"src", now, load, &mut self.out);
                }
            }
        }
    }
}

impl Default for Harness {
    fn default() -> Self {
        Harness::new()
    }
}
