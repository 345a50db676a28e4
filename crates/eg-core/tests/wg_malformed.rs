//! Malformed input of every message type: truncated, extended, bit flips (with and
//! without a recomputed mac1), replays, unknown indices. Each must give a reason code.

mod wg_common;

use eg_core::noise::kdf::{hash, mac, LABEL_MAC1};
use eg_core::noise::Reason;
use eg_core::session::Verdict;
use wg_common::*;

fn remac(msg: &mut [u8], receiver_pub: &[u8; 32]) {
    let m1 = msg.len() - 32;
    let t = mac(&hash(&[LABEL_MAC1, receiver_pub]), &msg[..m1]);
    msg[m1..m1 + 16].copy_from_slice(&t);
}

fn err(v: Verdict) -> Reason {
    match v {
        Verdict::Err(r) => r,
        v => panic!("expected an error, got {v:?}"),
    }
}

#[test]
fn short_and_unknown_types() {
    let mut p = pair(None);
    let mut out = [0u8; 256];
    for len in 0..4 {
        assert_eq!(
            err(p
                .b
                .decapsulate(&[1, 0, 0, 0][..len], SRC_A, 1.0, false, &mut out)),
            Reason::Truncated
        );
    }
    for ty in [
        [0u8, 0, 0, 0],
        [5, 0, 0, 0],
        [1, 0, 0, 1],
        [4, 1, 0, 0],
        [0xff; 4],
    ] {
        let mut m = vec![0u8; 148];
        m[..4].copy_from_slice(&ty);
        assert_eq!(
            err(p.b.decapsulate(&m, SRC_A, 1.0, false, &mut out)),
            Reason::BadType
        );
    }
}

#[test]
fn initiation_malformed() {
    // ~100 handshake messages within one second would put B under load (cookie replies,
    // session::ratelimit); this test is about each message's own checks.
    let cfg = eg_core::session::Config { handshake_budget: u32::MAX, ..Default::default() };
    let mut p = pair_with(cfg, None, 0.0, 0.0, 1);
    let mut out = [0u8; 256];
    let mut init = [0u8; 148];
    p.a.format_initiation(1.0, wall(1.0), &mut init).unwrap();
    assert_eq!(
        err(p.b.decapsulate(&init[..147], SRC_A, 1.0, false, &mut out)),
        Reason::Truncated
    );
    assert_eq!(
        err(p.b.decapsulate(&init[..4], SRC_A, 1.0, false, &mut out)),
        Reason::Truncated
    );
    let mut ext = init.to_vec();
    ext.push(0);
    assert_eq!(
        err(p.b.decapsulate(&ext, SRC_A, 1.0, false, &mut out)),
        Reason::BadLength
    );
    for pos in 4..132 {
        let mut m = init;
        m[pos] ^= 0x20;
        assert_eq!(
            err(p.b.decapsulate(&m, SRC_A, 1.0, false, &mut out)),
            Reason::BadMac1,
            "pos {pos}"
        );
    }
    // with a valid mac1 (anyone knowing B's public key can compute it) the AEADs catch it
    for pos in 8..116 {
        let mut m = init;
        m[pos] ^= 0x01;
        remac(&mut m, &p.b_pub);
        let r = err(p.b.decapsulate(&m, SRC_A, 1.0, false, &mut out));
        assert!(
            matches!(r, Reason::DecryptFailed | Reason::BadKey),
            "pos {pos}: {r:?}"
        );
    }
    // mac2 is only looked at under load
    let mut m = init;
    m[140] ^= 1;
    assert!(matches!(
        p.b.decapsulate(&m, SRC_A, 1.0, false, &mut out),
        Verdict::WriteToNetwork(92)
    ));
    // replay of the very same initiation
    assert_eq!(
        err(p.b.decapsulate(&init, SRC_A, 2.0, false, &mut out)),
        Reason::StaleTimestamp
    );
    // initiation addressed to someone else (mac1 for another key)
    let mut q = pair_with(Default::default(), None, 0.0, 0.0, 77);
    let mut other = [0u8; 148];
    q.a.format_initiation(1.0, wall(1.0), &mut other).unwrap();
    assert_eq!(
        err(p.b.decapsulate(&other, SRC_A, 3.0, false, &mut out)),
        Reason::BadMac1
    );
    // re-mac'd for us but encrypted to another key
    remac(&mut other, &p.b_pub);
    assert_eq!(
        err(p.b.decapsulate(&other, SRC_A, 3.0, false, &mut out)),
        Reason::DecryptFailed
    );
    // output buffer too small for the response
    let mut fresh = [0u8; 148];
    p.a.format_initiation(4.0, wall(4.0), &mut fresh).unwrap();
    assert_eq!(
        err(p.b.decapsulate(&fresh, SRC_A, 4.0, false, &mut [0u8; 64])),
        Reason::BufferTooSmall
    );
}

#[test]
fn response_malformed() {
    let mut p = pair(None);
    let mut out = [0u8; 256];
    let mut init = [0u8; 148];
    p.a.format_initiation(1.0, wall(1.0), &mut init).unwrap();
    let Verdict::WriteToNetwork(n) = p.b.decapsulate(&init, SRC_A, 1.0, false, &mut out) else {
        panic!()
    };
    let resp: [u8; 92] = out[..n].try_into().unwrap();
    assert_eq!(
        err(p.a.decapsulate(&resp[..91], SRC_B, 1.0, false, &mut out)),
        Reason::Truncated
    );
    let mut ext = resp.to_vec();
    ext.extend_from_slice(&[0; 16]);
    assert_eq!(
        err(p.a.decapsulate(&ext, SRC_B, 1.0, false, &mut out)),
        Reason::BadLength
    );
    for pos in 4..76 {
        let mut m = resp;
        m[pos] ^= 0x80;
        assert_eq!(
            err(p.a.decapsulate(&m, SRC_B, 1.0, false, &mut out)),
            Reason::BadMac1,
            "pos {pos}"
        );
    }
    // receiver index flipped (mac1 fixed) -> unknown index
    let mut m = resp;
    m[9] ^= 1;
    remac(&mut m, &p.a_pub);
    assert_eq!(
        err(p.a.decapsulate(&m, SRC_B, 1.0, false, &mut out)),
        Reason::UnknownIndex
    );
    for pos in 12..60 {
        let mut m = resp;
        m[pos] ^= 0x04;
        remac(&mut m, &p.a_pub);
        let r = err(p.a.decapsulate(&m, SRC_B, 1.0, false, &mut out));
        assert!(
            matches!(r, Reason::DecryptFailed | Reason::BadKey),
            "pos {pos}: {r:?}"
        );
    }
    // the genuine one still works after all that, exactly once
    assert!(matches!(
        p.a.decapsulate(&resp, SRC_B, 1.0, false, &mut out),
        Verdict::SessionReady(32)
    ));
    assert_eq!(
        err(p.a.decapsulate(&resp, SRC_B, 1.0, false, &mut out)),
        Reason::UnknownIndex
    );
}

#[test]
fn cookie_reply_malformed() {
    let mut p = pair(None);
    let mut out = [0u8; 256];
    let mut init = [0u8; 148];
    p.a.format_initiation(1.0, wall(1.0), &mut init).unwrap();
    let Verdict::CookieReply { len, .. } = p.b.decapsulate(&init, SRC_A, 1.0, true, &mut out)
    else {
        panic!()
    };
    let c: [u8; 64] = out[..len].try_into().unwrap();
    assert_eq!(
        err(p.a.decapsulate(&c[..63], SRC_B, 1.0, false, &mut out)),
        Reason::Truncated
    );
    let mut ext = c.to_vec();
    ext.push(1);
    assert_eq!(
        err(p.a.decapsulate(&ext, SRC_B, 1.0, false, &mut out)),
        Reason::BadLength
    );
    let mut m = c;
    m[5] ^= 1;
    assert_eq!(
        err(p.a.decapsulate(&m, SRC_B, 1.0, false, &mut out)),
        Reason::UnknownIndex
    );
    for pos in 8..64 {
        let mut m = c;
        m[pos] ^= 0x10;
        assert_eq!(
            err(p.a.decapsulate(&m, SRC_B, 1.0, false, &mut out)),
            Reason::DecryptFailed,
            "pos {pos}"
        );
    }
    assert_eq!(
        p.a.decapsulate(&c, SRC_B, 1.0, false, &mut out),
        Verdict::Nothing
    );
    assert_eq!(
        err(p.a.decapsulate(&c, SRC_B, 1.0, false, &mut out)),
        Reason::UnexpectedCookie
    );
}

#[test]
fn transport_malformed() {
    let mut p = pair(None);
    p.handshake(1.0);
    let mut msg = [0u8; 128];
    let n = p.a.encapsulate(&[0xab; 40], 2.0, &mut msg).unwrap();
    let good = msg[..n].to_vec();
    let mut out = [0u8; 256];
    for len in 4..32 {
        assert_eq!(
            err(p.b.decapsulate(&good[..len], SRC_A, 2.0, false, &mut out)),
            Reason::Truncated
        );
    }
    let mut ext = good.clone();
    ext.push(0);
    assert_eq!(
        err(p.b.decapsulate(&ext, SRC_A, 2.0, false, &mut out)),
        Reason::DecryptFailed
    );
    assert_eq!(
        err(p.b.decapsulate(&good[..n - 1], SRC_A, 2.0, false, &mut out)),
        Reason::DecryptFailed
    );
    for pos in 4..8 {
        let mut m = good.clone();
        m[pos] ^= 0x55;
        assert_eq!(
            err(p.b.decapsulate(&m, SRC_A, 2.0, false, &mut out)),
            Reason::UnknownIndex
        );
    }
    for pos in 8..n {
        let mut m = good.clone();
        m[pos] ^= 0x01;
        let r = err(p.b.decapsulate(&m, SRC_A, 2.0, false, &mut out));
        if pos == 8 {
            // counter 1 -> 0: the keepalive's counter, already seen
            assert_eq!(r, Reason::Replayed);
        } else {
            assert_eq!(r, Reason::DecryptFailed, "pos {pos}");
        }
    }
    // counter beyond REJECT_AFTER_MESSAGES
    let mut m = good.clone();
    m[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(
        err(p.b.decapsulate(&m, SRC_A, 2.0, false, &mut out)),
        Reason::KeyExpired
    );
    assert!(matches!(
        p.b.decapsulate(&good, SRC_A, 2.0, false, &mut out),
        Verdict::Data(_)
    ));
    assert_eq!(
        err(p.b.decapsulate(&good, SRC_A, 2.0, false, &mut out)),
        Reason::Replayed
    );
    // output buffer too small
    assert_eq!(
        err(p.b.decapsulate(&good, SRC_A, 2.0, false, &mut [0u8; 40])),
        Reason::BufferTooSmall
    );
    assert_eq!(
        p.a.encapsulate(&[0; 40], 2.0, &mut [0u8; 79]),
        Err(Reason::BufferTooSmall)
    );
    assert_eq!(
        p.a.format_initiation(2.0, wall(2.0), &mut [0u8; 147]),
        Err(Reason::BufferTooSmall)
    );
}

#[test]
fn reason_codes_roundtrip() {
    for c in 0..=255u8 {
        if let Some(r) = Reason::from_code(c) {
            assert_eq!(r.code(), c);
        }
    }
    assert_eq!(Reason::from_code(1), Some(Reason::Truncated));
    assert_eq!(Reason::from_code(20), Some(Reason::UnexpectedCookie));
    assert_eq!(Reason::from_code(0), None);
    assert_eq!(Reason::from_code(21), Some(Reason::FrameTooLarge));
    assert_eq!(Reason::from_code(22), None);
}
