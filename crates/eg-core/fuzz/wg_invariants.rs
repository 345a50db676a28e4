//! Invariant harnesses for the four WireGuard message kinds (initiation, response, cookie reply,
//! transport data). Each keeps a fresh valid message (the template), applies the fuzzer's input
//! as a mutation (XOR mask, optional truncation or extension, optional mac1 recomputed so the
//! cryptographic checks are reached, optional "under load"), and asserts:
//!
//! * a mutated message is accepted only when the bytes that changed are ones the protocol does
//!   not authenticate (the sender index, covered by mac1 only; mac1 itself, which anyone can
//!   recompute from the receiver's public key; mac2 when the receiver is not under load) — for cookie replies and transport
//!   data no byte may change;
//! * failed forgeries leave no trace: the untouched template is still accepted afterwards (the
//!   replay window, handshake state and pending cookie were not consumed by a forgery);
//! * transport: decapsulate(encapsulate(x)) == x (padded with zeros to 16).
//!
//! Whitepaper: "WireGuard: Next Generation Kernel Network Tunnel" §5.4 (message layouts).
#![allow(dead_code)]

use eg_core::noise::kdf::{hash, mac, LABEL_MAC1};
use eg_core::noise::keys::{private_from_random, public_key};
use eg_core::noise::Tai64N;
use eg_core::session::{Config, Device, PeerId, Verdict};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// Which message kind a harness fuzzes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Initiation,
    Response,
    CookieReply,
    Transport,
}

pub struct WgInvariants {
    kind: Kind,
    /// Initiator (sends initiations and transport data to B).
    a: Device,
    /// Responder.
    b: Device,
    a_pub: [u8; 32],
    b_pub: [u8; 32],
    a_peer: PeerId,
    b_peer: PeerId,
    template: Vec<u8>,
    /// Whether the template was already accepted once (a second acceptance would be a replay).
    consumed: bool,
    now: f64,
    out: Vec<u8>,
    /// Inputs whose mutation was accepted (only unauthenticated fields changed), for the stats line.
    pub accepted_mutations: u64,
}

fn wall(now: f64) -> Tai64N {
    Tai64N::from_unix_millis(1_700_000_000_000.0 + now * 1000.0)
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

fn accepted(v: &Verdict) -> bool {
    matches!(v, Verdict::WriteToNetwork(_) | Verdict::SessionReady(_) | Verdict::Data(_) | Verdict::Keepalive)
        || matches!(v, Verdict::Nothing)
}

impl WgInvariants {
    pub fn new(kind: Kind) -> WgInvariants {
        let ap = private_from_random([21; 32]);
        let bp = private_from_random([22; 32]);
        let (a_pub, b_pub) = (public_key(&ap), public_key(&bp));
        let mut a = Device::new(ap, Config::default(), Box::new(StdRng::seed_from_u64(21)));
        let mut b = Device::new(bp, Config::default(), Box::new(StdRng::seed_from_u64(22)));
        let a_peer = a.add_peer(b_pub, Some([7; 32]), 0.0).unwrap();
        let b_peer = b.add_peer(a_pub, Some([7; 32]), 0.0).unwrap();
        let mut h = WgInvariants {
            kind,
            a,
            b,
            a_pub,
            b_pub,
            a_peer,
            b_peer,
            template: Vec::new(),
            consumed: false,
            now: 1.0,
            out: vec![0u8; 70_000],
            accepted_mutations: 0,
        };
        if kind == Kind::Transport {
            h.handshake();
        }
        h.refresh();
        h
    }

    /// A full handshake A → B (for transport data).
    fn handshake(&mut self) {
        self.now += 1.0;
        let mut init = [0u8; 148];
        self.a.format_initiation(self.a_peer, self.now, wall(self.now), &mut init).unwrap();
        let (_, v) = self.b.decapsulate(&init, b"a", self.now, false, &mut self.out);
        let Verdict::WriteToNetwork(n) = v else { panic!("handshake: initiation refused: {v:?}") };
        let resp = self.out[..n].to_vec();
        let (_, v) = self.a.decapsulate(&resp, b"b", self.now, false, &mut self.out);
        let Verdict::SessionReady(n) = v else { panic!("handshake: response refused: {v:?}") };
        let ka = self.out[..n].to_vec();
        let (_, v) = self.b.decapsulate(&ka, b"a", self.now, false, &mut self.out);
        assert!(matches!(v, Verdict::Keepalive), "handshake: keepalive refused: {v:?}");
    }

    /// A fresh template of this harness's kind (time moves on, so timestamps and the flood limit
    /// never refuse it).
    fn refresh(&mut self) {
        self.now += 1.0;
        let now = self.now;
        let mut init = vec![0u8; 148];
        self.template = match self.kind {
            Kind::Initiation => {
                self.a.format_initiation(self.a_peer, now, wall(now), &mut init).unwrap();
                init
            }
            Kind::Response => {
                self.a.format_initiation(self.a_peer, now, wall(now), &mut init).unwrap();
                let (_, v) = self.b.decapsulate(&init, b"a", now, false, &mut self.out);
                let Verdict::WriteToNetwork(n) = v else { panic!("response template: {v:?}") };
                self.out[..n].to_vec()
            }
            Kind::CookieReply => {
                self.a.format_initiation(self.a_peer, now, wall(now), &mut init).unwrap();
                // A new source address each time: once A holds a cookie its mac2 is valid for the
                // old address, and B would answer instead of sending a cookie reply.
                let src = now.to_bits().to_le_bytes();
                let (_, v) = self.b.decapsulate(&init, &src, now, true, &mut self.out);
                let Verdict::CookieReply { len, .. } = v else { panic!("cookie template: {v:?}") };
                self.out[..len].to_vec()
            }
            Kind::Transport => Vec::new(), // made per input from the input's plaintext
        };
        self.consumed = false;
    }

    /// Byte ranges that may differ in an accepted mutation (see the module comment).
    fn unauthenticated(&self, i: usize, under_load: bool) -> bool {
        match self.kind {
            // sender index; mac1 (a public MAC: it must be right for the changed bytes, which
            // anyone can compute); mac2 unless under load
            Kind::Initiation => (4..8).contains(&i) || (116..132).contains(&i) || (!under_load && (132..148).contains(&i)),
            Kind::Response => (4..8).contains(&i) || (60..76).contains(&i) || (!under_load && (76..92).contains(&i)),
            Kind::CookieReply | Kind::Transport => false,
        }
    }

    /// Delivers `msg` to the receiver of this kind.
    fn deliver(&mut self, msg: &[u8], under_load: bool) -> Verdict {
        let now = self.now;
        let to_a = matches!(self.kind, Kind::Response | Kind::CookieReply);
        let (d, src): (&mut Device, &[u8]) = if to_a { (&mut self.a, b"b") } else { (&mut self.b, b"a") };
        d.decapsulate(msg, src, now, under_load, &mut self.out).1
    }

    /// Input: byte 0 flags (bit 0 recompute mac1, bit 1 under load, bits 2-3 truncate / extend,
    /// bits 4-7 = 0: deliver the untouched template afterwards), then the XOR mask. For transport
    /// the mask's first 2 bytes give the plaintext length and the rest is also the plaintext.
    pub fn run(&mut self, data: &[u8]) {
        let Some((&flags, mask)) = data.split_first() else { return };
        if self.kind == Kind::Transport {
            return self.run_transport(flags, mask);
        }
        let under_load = flags & 2 != 0;
        let mut msg = self.template.clone();
        for (b, m) in msg.iter_mut().zip(mask) {
            *b ^= m;
        }
        match (flags >> 2) & 3 {
            1 => msg.truncate(msg.len().saturating_sub(1 + mask.len() % 31)),
            2 => msg.extend_from_slice(&mask[..mask.len().min(17)]),
            _ => {}
        }
        if flags & 1 != 0 {
            let k = if matches!(self.kind, Kind::Response) { self.a_pub } else { self.b_pub };
            remac(&mut msg, &k);
        }
        let v = self.deliver(&msg, under_load);
        if accepted(&v) {
            let same_len = msg.len() == self.template.len();
            let bad = (0..msg.len().min(self.template.len())).find(|&i| msg[i] != self.template[i] && !self.unauthenticated(i, under_load));
            assert!(
                same_len && bad.is_none(),
                "{:?}: a mutated message was accepted ({v:?}): length {} vs {}, first changed authenticated byte {bad:?}",
                self.kind,
                msg.len(),
                self.template.len()
            );
            assert!(!self.consumed, "{:?}: accepted twice (replay): {v:?}", self.kind);
            if matches!(self.kind, Kind::Initiation | Kind::Response) {
                // mac1 may differ from the template's only by being the right MAC of the new bytes.
                let k = if self.kind == Kind::Response { self.a_pub } else { self.b_pub };
                let mut want = msg.clone();
                remac(&mut want, &k);
                assert_eq!(want, msg, "{:?}: accepted with a wrong mac1", self.kind);
            }
            self.consumed = true;
            self.accepted_mutations += 1;
        }
        if flags >> 4 == 0 || self.consumed {
            if !self.consumed {
                let t = self.template.clone();
                let v = self.deliver(&t, false);
                assert!(accepted(&v), "{:?}: the untouched template was refused after a forgery: {v:?}", self.kind);
            }
            self.refresh();
        }
    }

    fn run_transport(&mut self, flags: u8, mask: &[u8]) {
        let plen = if mask.len() >= 2 { u16::from_le_bytes([mask[0], mask[1]]) as usize % 1500 } else { 0 };
        let plaintext: Vec<u8> = (0..plen).map(|i| mask.get(i).copied().unwrap_or(i as u8)).collect();
        let mut sealed = vec![0u8; plen + 64];
        let n = self
            .a
            .encapsulate(self.a_peer, &plaintext, self.now, &mut sealed)
            .expect("session is up");
        sealed.truncate(n);
        let mut msg = sealed.clone();
        for (b, m) in msg.iter_mut().zip(mask.iter().skip(2)) {
            *b ^= m;
        }
        match (flags >> 2) & 3 {
            1 => msg.truncate(msg.len().saturating_sub(1 + mask.len() % 31)),
            2 => msg.extend_from_slice(&mask[..mask.len().min(17)]),
            _ => {}
        }
        if msg != sealed {
            let (_, v) = self.b.decapsulate(&msg, b"a", self.now, flags & 2 != 0, &mut self.out);
            assert!(!accepted(&v), "transport: a mutated message was accepted: {v:?}");
        }
        // The original still opens (forgeries did not move the replay window) to the plaintext.
        let (_, v) = self.b.decapsulate(&sealed, b"a", self.now, false, &mut self.out);
        match v {
            Verdict::Data(r) => {
                let got = &self.out[r];
                assert_eq!(&got[..plen], &plaintext[..], "transport: round trip changed the plaintext");
                assert!(got[plen..].iter().all(|&b| b == 0) && got.len() % 16 == 0, "transport: padding");
            }
            Verdict::Keepalive => assert_eq!(plen, 0, "transport: a non-empty plaintext came back as a keepalive"),
            v => panic!("transport: the untouched message was refused after a forgery: {v:?}"),
        }
        // A replay of the accepted message is refused.
        let (_, v) = self.b.decapsulate(&sealed, b"a", self.now, false, &mut self.out);
        assert!(!accepted(&v), "transport: a replay was accepted: {v:?}");
        let _ = self.b_peer;
    }
}
