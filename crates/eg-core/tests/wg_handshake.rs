//! Handshakes between two eg_core instances, transport, cookies, initiation replay and
//! flood protection.

mod wg_common;

use eg_core::noise::Reason;
use eg_core::session::{Config, Device, Verdict};
use wg_common::*;

#[test]
fn handshake_and_transport_without_psk() {
    let mut p = pair(None);
    let (init, resp, ka) = p.handshake(1.0);
    assert_eq!(&init[..4], &[1, 0, 0, 0]);
    assert_eq!(&resp[..4], &[2, 0, 0, 0]);
    assert_eq!(&ka[..4], &[4, 0, 0, 0]);
    // the initiation's sender index is the response's receiver index
    assert_eq!(&init[4..8], &resp[8..12]);
    for (i, len) in [0usize, 1, 15, 16, 17, 100, 1420].into_iter().enumerate() {
        let payload: Vec<u8> = (0..len).map(|x| (x * 7 + i) as u8).collect();
        let m = transfer(&mut p.a, &mut p.b, &payload, 2.0);
        assert_eq!(m.len(), 32 + len.div_ceil(16) * 16);
        transfer(&mut p.b, &mut p.a, &payload, 2.0);
    }
    assert_eq!(p.a.peer().current().unwrap().send_counter(), 8); // keepalive + 7
    assert!(p.a.peer().current().unwrap().is_initiator());
    assert!(!p.b.peer().current().unwrap().is_initiator());
}

#[test]
fn handshake_with_psk_and_psk_mismatch() {
    let mut p = pair(Some([7u8; 32]));
    p.handshake(1.0);
    transfer(&mut p.a, &mut p.b, b"with psk", 1.5);
    transfer(&mut p.b, &mut p.a, b"back", 1.5);

    // B has a different psk: the response can not be decrypted by A.
    let (a_priv, a_pub) = static_key(50);
    let (b_priv, b_pub) = static_key(51);
    let mut a =
        eg_core::session::Tunnel::new(a_priv, b_pub, Some([1; 32]), 0.0, Config::default(), rng(1))
            .unwrap();
    let mut b =
        eg_core::session::Tunnel::new(b_priv, a_pub, Some([2; 32]), 0.0, Config::default(), rng(2))
            .unwrap();
    let mut init = [0u8; 148];
    a.format_initiation(1.0, wall(1.0), &mut init).unwrap();
    let mut out = [0u8; 256];
    let Verdict::WriteToNetwork(n) = b.decapsulate(&init, SRC_A, 1.0, false, &mut out) else {
        panic!()
    };
    let resp = out[..n].to_vec();
    assert_eq!(
        a.decapsulate(&resp, SRC_B, 1.0, false, &mut out),
        Verdict::Err(Reason::DecryptFailed)
    );
    assert!(!a.has_session(1.0));
}

#[test]
fn responder_can_send_only_after_confirmation() {
    let mut p = pair(None);
    let mut init = [0u8; 148];
    p.a.format_initiation(1.0, wall(1.0), &mut init).unwrap();
    let mut out = [0u8; 256];
    let Verdict::WriteToNetwork(n) = p.b.decapsulate(&init, SRC_A, 1.0, false, &mut out) else {
        panic!()
    };
    let resp = out[..n].to_vec();
    assert!(p.b.peer().next().is_some());
    assert_eq!(p.b.encapsulate(b"x", 1.0, &mut out), Err(Reason::NoSession));
    let Verdict::SessionReady(n) = p.a.decapsulate(&resp, SRC_B, 1.0, false, &mut out) else {
        panic!()
    };
    let ka = out[..n].to_vec();
    // A can send data right away; it arrives on B's `next` keypair and rotates it in.
    transfer(&mut p.a, &mut p.b, b"data before keepalive", 1.0);
    assert!(p.b.peer().next().is_none());
    assert!(p.b.has_session(1.0));
    // the delayed keepalive still opens (same keypair, out of order)
    assert_eq!(
        p.b.decapsulate(&ka, SRC_A, 1.0, false, &mut out),
        Verdict::Keepalive
    );
    transfer(&mut p.b, &mut p.a, b"now B talks", 1.0);
}

#[test]
fn repeated_handshakes_rotate_keypairs() {
    let mut p = pair(None);
    p.handshake(1.0);
    let first = p.a.peer().current().unwrap().local_index();
    let mut old_msg = vec![0u8; 64];
    let n = p.b.encapsulate(b"in flight", 1.0, &mut old_msg).unwrap();
    old_msg.truncate(n);
    p.handshake(2.0);
    assert_eq!(p.a.peer().previous().unwrap().local_index(), first);
    // packets sealed with the previous keypair still open
    let mut out = [0u8; 64];
    assert!(matches!(
        p.a.decapsulate(&old_msg, SRC_B, 2.0, false, &mut out),
        Verdict::Data(_)
    ));
    p.handshake(3.0);
    // the first keypair is gone and its index released
    assert_eq!(
        p.a.decapsulate(&old_msg, SRC_B, 3.0, false, &mut out),
        Verdict::Err(Reason::UnknownIndex)
    );
    assert_eq!(p.a.device().index_count(), 2);
    assert!(p.b.device().index_count() <= 3);
}

#[test]
fn simultaneous_initiations_converge() {
    let mut p = pair(None);
    let mut ia = [0u8; 148];
    let mut ib = [0u8; 148];
    p.a.format_initiation(1.0, wall(1.0), &mut ia).unwrap();
    p.b.format_initiation(1.0, wall(1.0), &mut ib).unwrap();
    let mut out = [0u8; 256];
    let Verdict::WriteToNetwork(n) = p.b.decapsulate(&ia, SRC_A, 1.0, false, &mut out) else {
        panic!()
    };
    let rb = out[..n].to_vec();
    let Verdict::WriteToNetwork(n) = p.a.decapsulate(&ib, SRC_B, 1.0, false, &mut out) else {
        panic!()
    };
    let ra = out[..n].to_vec();
    let Verdict::SessionReady(n) = p.a.decapsulate(&rb, SRC_B, 1.0, false, &mut out) else {
        panic!()
    };
    let ka = out[..n].to_vec();
    let _ = p.b.decapsulate(&ra, SRC_A, 1.0, false, &mut out);
    let _ = p.b.decapsulate(&ka, SRC_A, 1.0, false, &mut out);
    transfer(&mut p.a, &mut p.b, b"a->b", 1.1);
    transfer(&mut p.b, &mut p.a, b"b->a", 1.1);
}

#[test]
fn replayed_initiation_is_rejected() {
    let mut p = pair(None);
    let (init, _, _) = p.handshake(1.0);
    let mut out = [0u8; 256];
    assert_eq!(
        p.b.decapsulate(&init, SRC_A, 5.0, false, &mut out),
        Verdict::Err(Reason::StaleTimestamp)
    );
    // an older timestamp too (from another instance holding A's key: A itself never sends a
    // timestamp below its last one, even when its wall clock goes back)
    let (a_priv, _) = static_key(1);
    let mut a2 = eg_core::session::Tunnel::new(a_priv, p.b_pub, None, 0.0, Default::default(), rng(999)).unwrap();
    let mut old = [0u8; 148];
    a2.format_initiation(6.0, wall(0.5), &mut old).unwrap();
    assert_eq!(
        p.b.decapsulate(&old, SRC_A, 6.0, false, &mut out),
        Verdict::Err(Reason::StaleTimestamp)
    );
    // the session survived
    transfer(&mut p.a, &mut p.b, b"still up", 6.0);
    // a fresh one is accepted
    let mut fresh = [0u8; 148];
    p.a.format_initiation(7.0, wall(7.0), &mut fresh).unwrap();
    assert!(matches!(
        p.b.decapsulate(&fresh, SRC_A, 7.0, false, &mut out),
        Verdict::WriteToNetwork(92)
    ));
}

#[test]
fn initiation_flood_is_limited() {
    let mut p = pair(None);
    let mut out = [0u8; 256];
    let mut i1 = [0u8; 148];
    p.a.format_initiation(1.0, wall(1.0), &mut i1).unwrap();
    assert!(matches!(
        p.b.decapsulate(&i1, SRC_A, 1.0, false, &mut out),
        Verdict::WriteToNetwork(_)
    ));
    // newer timestamp but only 10 ms later on B's clock
    let mut i2 = [0u8; 148];
    p.a.format_initiation(1.01, wall(1.1), &mut i2).unwrap();
    assert_eq!(
        p.b.decapsulate(&i2, SRC_A, 1.01, false, &mut out),
        Verdict::Err(Reason::Flood)
    );
    // the same message 30 ms later is fine (timestamp was not recorded on rejection)
    assert!(matches!(
        p.b.decapsulate(&i2, SRC_A, 1.03, false, &mut out),
        Verdict::WriteToNetwork(_)
    ));
}

#[test]
fn cookie_path_under_load() {
    let mut p = pair(None);
    let mut out = [0u8; 256];
    let mut init = [0u8; 148];
    p.a.format_initiation(1.0, wall(1.0), &mut init).unwrap();
    assert_eq!(&init[132..148], &[0u8; 16]);
    // Under load: no mac2 -> cookie reply.
    let v = p.b.decapsulate(&init, SRC_A, 1.0, true, &mut out);
    let Verdict::CookieReply {
        len: 64,
        reason: Reason::NeedCookie,
    } = v
    else {
        panic!("{v:?}")
    };
    let cookie = out[..64].to_vec();
    assert_eq!(&cookie[..4], &[3, 0, 0, 0]);
    assert_eq!(&cookie[4..8], &init[4..8]);
    assert!(!p.b.peer().next().is_some());
    // Tampered cookie reply is refused.
    let mut bad = cookie.clone();
    bad[40] ^= 1;
    assert_eq!(
        p.a.decapsulate(&bad, SRC_B, 1.0, false, &mut out),
        Verdict::Err(Reason::DecryptFailed)
    );
    assert_eq!(
        p.a.decapsulate(&cookie, SRC_B, 1.0, false, &mut out),
        Verdict::Nothing
    );
    assert!(p.a.peer().cookie_state().has_cookie());
    // A second copy has no outstanding mac1 any more.
    assert_eq!(
        p.a.decapsulate(&cookie, SRC_B, 1.0, false, &mut out),
        Verdict::Err(Reason::UnexpectedCookie)
    );
    // Retry carries mac2 and is accepted under load.
    let mut retry = [0u8; 148];
    p.a.format_initiation(1.5, wall(1.5), &mut retry).unwrap();
    assert_ne!(&retry[132..148], &[0u8; 16]);
    let Verdict::WriteToNetwork(n) = p.b.decapsulate(&retry, SRC_A, 1.5, true, &mut out) else {
        panic!()
    };
    let resp = out[..n].to_vec();
    // The same initiation from another address has a wrong mac2 -> BadMac2 cookie reply.
    let mut again = [0u8; 148];
    p.a.format_initiation(2.0, wall(2.0), &mut again).unwrap();
    let v = p.b.decapsulate(&again, SRC_B, 2.0, true, &mut out);
    assert!(
        matches!(
            v,
            Verdict::CookieReply {
                reason: Reason::BadMac2,
                ..
            }
        ),
        "{v:?}"
    );
    // A is now waiting for the response to `again`; the stale response has an old index.
    assert_eq!(
        p.a.decapsulate(&resp, SRC_B, 2.0, false, &mut out),
        Verdict::Err(Reason::UnknownIndex)
    );
    // Not under load, mac2 is ignored.
    let Verdict::WriteToNetwork(n) = p.b.decapsulate(&again, SRC_B, 2.1, false, &mut out) else {
        panic!()
    };
    let resp2 = out[..n].to_vec();
    assert!(matches!(
        p.a.decapsulate(&resp2, SRC_B, 2.1, false, &mut out),
        Verdict::SessionReady(_)
    ));
}

#[test]
fn response_under_load_needs_cookie_too() {
    let mut p = pair(None);
    let mut out = [0u8; 256];
    let mut init = [0u8; 148];
    p.a.format_initiation(1.0, wall(1.0), &mut init).unwrap();
    let Verdict::WriteToNetwork(n) = p.b.decapsulate(&init, SRC_A, 1.0, false, &mut out) else {
        panic!()
    };
    let resp = out[..n].to_vec();
    let v = p.a.decapsulate(&resp, SRC_B, 1.0, true, &mut out);
    let Verdict::CookieReply {
        len,
        reason: Reason::NeedCookie,
    } = v
    else {
        panic!("{v:?}")
    };
    let cr = out[..len].to_vec();
    // B (the responder) accepts the cookie for its response index.
    assert_eq!(
        p.b.decapsulate(&cr, SRC_A, 1.0, false, &mut out),
        Verdict::Nothing
    );
    assert!(p.b.peer().cookie_state().has_cookie());
}

#[test]
fn cookie_secret_rotates() {
    let mut out = [0u8; 256];
    let mut init = [0u8; 148];
    let cfg = Config {
        cookie_refresh_time: 20.0,
        ..Config::default()
    };
    let mut p = pair_with(cfg, None, 0.0, 0.0, 10);
    p.a.format_initiation(1.0, wall(1.0), &mut init).unwrap();
    let Verdict::CookieReply { len, .. } = p.b.decapsulate(&init, SRC_A, 1.0, true, &mut out)
    else {
        panic!()
    };
    let cr = out[..len].to_vec();
    assert_eq!(
        p.a.decapsulate(&cr, SRC_B, 1.0, false, &mut out),
        Verdict::Nothing
    );
    p.a.format_initiation(2.0, wall(2.0), &mut init).unwrap();
    assert!(matches!(
        p.b.decapsulate(&init, SRC_A, 2.0, true, &mut out),
        Verdict::WriteToNetwork(_)
    ));
    // 21 s later A's cookie is older than refresh - rekey_timeout (15 s): A sends no
    // mac2 and B demands a new cookie.
    p.a.format_initiation(22.0, wall(22.0), &mut init).unwrap();
    assert_eq!(&init[132..], &[0u8; 16]);
    assert!(matches!(
        p.b.decapsulate(&init, SRC_A, 22.0, true, &mut out),
        Verdict::CookieReply {
            reason: Reason::NeedCookie,
            ..
        }
    ));
    let mut p = pair_with(
        Config {
            cookie_refresh_time: 20.0,
            ..Config::default()
        },
        None,
        0.0,
        0.0,
        11,
    );
    p.a.format_initiation(1.0, wall(1.0), &mut init).unwrap();
    let Verdict::CookieReply { len, .. } = p.b.decapsulate(&init, SRC_A, 1.0, true, &mut out)
    else {
        panic!()
    };
    let cr = out[..len].to_vec();
    // B's clock is ahead: B rotates at 21 while A's cookie (received at A-time 1.0) is fresh.
    assert_eq!(
        p.a.decapsulate(&cr, SRC_B, 1.0, false, &mut out),
        Verdict::Nothing
    );
    p.a.format_initiation(3.0, wall(3.0), &mut init).unwrap();
    assert_ne!(&init[132..], &[0u8; 16]);
    let v = p.b.decapsulate(&init, SRC_A, 25.0, true, &mut out);
    assert!(
        matches!(
            v,
            Verdict::CookieReply {
                reason: Reason::BadMac2,
                ..
            }
        ),
        "{v:?}"
    );
}

#[test]
fn device_selects_peer_by_static_key() {
    let (d_priv, d_pub) = static_key(70);
    let mut dev = Device::new(d_priv, Config::default(), rng(70));
    let mut tunnels = Vec::new();
    for i in 0..5u64 {
        let (priv_i, pub_i) = static_key(80 + i);
        let id = dev.add_peer(pub_i, None, 0.0).unwrap();
        assert_eq!(id, i as usize);
        tunnels.push(
            eg_core::session::Tunnel::new(priv_i, d_pub, None, 0.0, Config::default(), rng(90 + i))
                .unwrap(),
        );
    }
    assert_eq!(
        dev.add_peer(static_key(80).1, None, 0.0),
        Err(Reason::BadPeer)
    );
    let mut out = [0u8; 256];
    for (i, t) in tunnels.iter_mut().enumerate().rev() {
        let mut init = [0u8; 148];
        t.format_initiation(1.0, wall(1.0), &mut init).unwrap();
        let (pid, v) = dev.decapsulate(&init, SRC_A, 1.0, false, &mut out);
        assert_eq!(pid, Some(i));
        let Verdict::WriteToNetwork(n) = v else {
            panic!()
        };
        let resp = out[..n].to_vec();
        let Verdict::SessionReady(n) = t.decapsulate(&resp, SRC_B, 1.0, false, &mut out) else {
            panic!()
        };
        let ka = out[..n].to_vec();
        assert_eq!(
            dev.decapsulate(&ka, SRC_A, 1.0, false, &mut out),
            (Some(i), Verdict::Keepalive)
        );
    }
    for (i, t) in tunnels.iter_mut().enumerate() {
        let msg = format!("from peer {i}");
        let mut m = [0u8; 128];
        let n = t.encapsulate(msg.as_bytes(), 2.0, &mut m).unwrap();
        let (pid, v) = dev.decapsulate(&m[..n], SRC_A, 2.0, false, &mut out);
        assert_eq!(pid, Some(i));
        let Verdict::Data(r) = v else { panic!() };
        assert_eq!(&out[r.start..r.start + msg.len()], msg.as_bytes());
    }
    // unknown static key
    let (u_priv, _) = static_key(99);
    let mut stranger =
        eg_core::session::Tunnel::new(u_priv, d_pub, None, 0.0, Config::default(), rng(99))
            .unwrap();
    let mut init = [0u8; 148];
    stranger
        .format_initiation(1.0, wall(1.0), &mut init)
        .unwrap();
    assert_eq!(
        dev.decapsulate(&init, SRC_A, 1.0, false, &mut out),
        (None, Verdict::Err(Reason::UnknownPeer))
    );
    // removing a peer frees its indices
    let before = dev.index_count();
    assert!(dev.remove_peer(2));
    assert_eq!(dev.index_count(), before - 1);
    let mut m = [0u8; 128];
    let n = tunnels[2].encapsulate(b"gone", 3.0, &mut m).unwrap();
    assert_eq!(
        dev.decapsulate(&m[..n], SRC_A, 3.0, false, &mut out).1,
        Verdict::Err(Reason::UnknownIndex)
    );
}
