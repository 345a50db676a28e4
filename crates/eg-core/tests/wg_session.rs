//! Replay window, timers (rekey, reject, keepalive, persistent keepalive, retransmit,
//! give-up), message-count limits and key erasure, on shortened timer constants.

mod wg_common;

use eg_core::noise::Reason;
use eg_core::session::{Action, Config, ReplayWindow, Verdict};
use wg_common::*;

#[test]
fn replay_window_unit() {
    let mut w = ReplayWindow::new();
    for c in 0..5000u64 {
        w.update(c).unwrap();
    }
    assert_eq!(w.greatest(), Some(4999));
    assert_eq!(w.update(4999), Err(Reason::Replayed));
    assert_eq!(w.update(3000), Err(Reason::Replayed));
    assert_eq!(w.update(0), Err(Reason::TooOld));

    let mut w = ReplayWindow::new();
    w.update(10_000).unwrap();
    // out of order within 2048 (and further, up to the 4032 window)
    for c in (10_000 - 2048..10_000).rev() {
        w.update(c).unwrap();
    }
    w.update(10_000 - 4031).unwrap();
    assert_eq!(w.update(10_000 - 4032), Err(Reason::TooOld));
    assert_eq!(w.check(10_000 - 5), Err(Reason::Replayed));
    assert_eq!(w.update(10_000 - 2048), Err(Reason::Replayed));
    // a big jump clears the ring
    w.update(1_000_000).unwrap();
    assert_eq!(w.update(10_000), Err(Reason::TooOld));
    w.update(1_000_000 - 100).unwrap();
    assert_eq!(w.update(1_000_000 - 100), Err(Reason::Replayed));
    w.update(1_000_001).unwrap();
    // bits recycled from an older block do not leak into newer counters
    let mut w = ReplayWindow::new();
    w.update(63).unwrap();
    w.update(64 * 64 + 63 + 64).unwrap();
    w.update(64 * 64 + 63).unwrap();
    // first packet may be any counter
    let mut w = ReplayWindow::new();
    w.update(7).unwrap();
    w.update(0).unwrap();
    assert_eq!(w.update(0), Err(Reason::Replayed));
}

#[test]
fn transport_replay_out_of_order_and_too_old() {
    let mut p = pair(None);
    p.handshake(1.0);
    let mut msgs = Vec::new();
    for i in 0..5000u32 {
        let mut m = vec![0u8; 64];
        let n = p.a.encapsulate(&i.to_le_bytes(), 2.0, &mut m).unwrap();
        m.truncate(n);
        msgs.push(m);
    }
    let mut out = [0u8; 64];
    // deliver the newest first, then 2048 older ones in reverse order
    assert!(matches!(
        p.b.decapsulate(&msgs[4999], SRC_A, 2.0, false, &mut out),
        Verdict::Data(_)
    ));
    for m in msgs[4999 - 2048..4999].iter().rev() {
        let Verdict::Data(r) = p.b.decapsulate(m, SRC_A, 2.0, false, &mut out) else {
            panic!()
        };
        assert_eq!(r, 16..32);
    }
    // duplicates
    assert_eq!(
        p.b.decapsulate(&msgs[4999], SRC_A, 2.0, false, &mut out),
        Verdict::Err(Reason::Replayed)
    );
    assert_eq!(
        p.b.decapsulate(&msgs[4000], SRC_A, 2.0, false, &mut out),
        Verdict::Err(Reason::Replayed)
    );
    // counter of msgs[i] is i + 1 (the keepalive used 0); too old
    assert_eq!(
        p.b.decapsulate(&msgs[100], SRC_A, 2.0, false, &mut out),
        Verdict::Err(Reason::TooOld)
    );
    // a forged packet does not advance the window
    let mut forged = msgs[4999].clone();
    forged[8..16].copy_from_slice(&1_000_000u64.to_le_bytes());
    assert_eq!(
        p.b.decapsulate(&forged, SRC_A, 2.0, false, &mut out),
        Verdict::Err(Reason::DecryptFailed)
    );
    assert!(matches!(
        p.b.decapsulate(&msgs[2000], SRC_A, 2.0, false, &mut out),
        Verdict::Data(_)
    ));
}

#[test]
fn rekey_after_time_initiator() {
    let mut p = pair_with(short_config(), None, 0.0, 0.0, 3);
    p.handshake(1.0);
    let first = p.a.peer().current().unwrap().local_index();
    transfer(&mut p.a, &mut p.b, b"young", 4.9);
    assert!(initiations(&p.a.tick(4.9, wall(4.9))).is_empty());
    // age 4.1 >= rekey_after_time 4: sending requests a handshake
    transfer(&mut p.a, &mut p.b, b"old", 5.1);
    assert!(p.a.peer().timers().want_handshake);
    assert!(p.a.next_deadline().unwrap() <= 5.1);
    let acts = p.a.tick(5.1, wall(5.1));
    let inits = initiations(&acts);
    assert_eq!(inits.len(), 1, "{acts:?}");
    let mut out = [0u8; 256];
    let Verdict::WriteToNetwork(n) = p.b.decapsulate(&inits[0], SRC_A, 5.1, false, &mut out) else {
        panic!()
    };
    let resp = out[..n].to_vec();
    assert!(matches!(
        p.a.decapsulate(&resp, SRC_B, 5.1, false, &mut out),
        Verdict::SessionReady(_)
    ));
    assert_ne!(p.a.peer().current().unwrap().local_index(), first);
    assert_eq!(p.a.peer().previous().unwrap().local_index(), first);
    transfer(&mut p.a, &mut p.b, b"new keys", 5.2);
    transfer(&mut p.b, &mut p.a, b"new keys back", 5.2);
    // the responder does not rekey on time alone
    let mut q = pair_with(short_config(), None, 0.0, 0.0, 4);
    q.handshake(1.0);
    transfer(&mut q.b, &mut q.a, b"responder sends", 5.5);
    assert!(!q.b.peer().timers().want_handshake);
}

#[test]
fn initiator_rekeys_when_receiving_near_reject_time() {
    let mut p = pair_with(short_config(), None, 0.0, 0.0, 5);
    p.handshake(1.0);
    // reject(6) - keepalive(1) - rekey_timeout(0.5) = 4.5 s of age
    transfer(&mut p.b, &mut p.a, b"x", 5.4);
    assert!(!p.a.peer().timers().want_handshake);
    transfer(&mut p.b, &mut p.a, b"x", 5.6);
    assert!(p.a.peer().timers().want_handshake);
    assert_eq!(initiations(&p.a.tick(5.6, wall(5.6))).len(), 1);
}

#[test]
fn reject_after_time_and_key_erasure() {
    let mut p = pair_with(short_config(), None, 0.0, 0.0, 6);
    p.handshake(1.0);
    let mut m = [0u8; 64];
    let n = p.a.encapsulate(b"late", 6.9, &mut m).unwrap();
    let late = m[..n].to_vec();
    // at age 6 the keypair is unusable both ways
    assert_eq!(p.a.encapsulate(b"x", 7.0, &mut m), Err(Reason::NoSession));
    let mut out = [0u8; 64];
    assert_eq!(
        p.b.decapsulate(&late, SRC_A, 7.0, false, &mut out),
        Verdict::Err(Reason::KeyExpired)
    );
    // a tick erases it and frees its index
    assert!(p.b.next_deadline().unwrap() <= 7.0);
    p.b.tick(7.0, wall(7.0));
    assert_eq!(p.b.peer().keypair_count(), 0);
    assert_eq!(
        p.b.decapsulate(&late, SRC_A, 7.0, false, &mut out),
        Verdict::Err(Reason::UnknownIndex)
    );
    assert_eq!(p.b.device().index_count(), 0);
}

#[test]
fn zero_key_material_timer() {
    let mut p = pair_with(short_config(), None, 0.0, 0.0, 7);
    p.handshake(1.0);
    assert_eq!(p.a.peer().timers().zero_keys_at, Some(19.0));
    let mut t = 1.0;
    let mut zeroed_at = None;
    while t < 25.0 {
        t += 0.25;
        if p.a.tick(t, wall(t)).contains(&Action::KeysZeroed) {
            zeroed_at = Some(t);
        }
    }
    assert_eq!(zeroed_at, Some(19.0));
    assert_eq!(p.a.peer().keypair_count(), 0);
    assert_eq!(p.a.peer().pending_index(), None);
    assert_eq!(p.a.device().index_count(), 0);
}

#[test]
fn keepalive_after_receiving_data() {
    let mut p = pair_with(short_config(), None, 0.0, 0.0, 8);
    p.handshake(1.0);
    transfer(&mut p.a, &mut p.b, b"hello", 2.0);
    assert_eq!(p.b.next_deadline(), Some(3.0));
    assert!(keepalives(&p.b.tick(2.9, wall(2.9))).is_empty());
    let acts = p.b.tick(3.0, wall(3.0));
    let ka = keepalives(&acts);
    assert_eq!(ka.len(), 1, "{acts:?}");
    assert_eq!(ka[0].len(), 32);
    let mut out = [0u8; 64];
    assert_eq!(
        p.a.decapsulate(&ka[0], SRC_B, 3.0, false, &mut out),
        Verdict::Keepalive
    );
    // the keepalive answered A's data: no new handshake from A's side
    assert!(p.a.peer().timers().new_handshake_at.is_none());
    // if B replies with data, no keepalive is sent
    transfer(&mut p.a, &mut p.b, b"again", 4.0);
    transfer(&mut p.b, &mut p.a, b"reply", 4.5);
    assert!(keepalives(&p.b.tick(5.5, wall(5.5))).is_empty());
}

#[test]
fn new_handshake_when_peer_is_silent() {
    let mut p = pair_with(short_config(), None, 0.0, 0.0, 9);
    p.handshake(1.0);
    let mut m = [0u8; 64];
    p.a.encapsulate(b"anyone?", 2.0, &mut m).unwrap();
    // keepalive_timeout + rekey_timeout = 1.5 s later, plus up to 0.1 s of jitter
    let at = p.a.peer().timers().new_handshake_at.unwrap();
    assert!((3.5..=3.6).contains(&at), "{at}");
    assert!(initiations(&p.a.tick(3.49, wall(3.49))).is_empty());
    assert_eq!(initiations(&p.a.tick(3.6, wall(3.6))).len(), 1);
}

#[test]
fn persistent_keepalive() {
    let mut p = pair_with(short_config(), None, 2.0, 0.0, 10);
    p.handshake(1.0);
    let mut sent = Vec::new();
    let mut t = 1.0;
    while t < 5.5 {
        t += 0.5;
        if !keepalives(&p.a.tick(t, wall(t))).is_empty() {
            sent.push(t);
        }
    }
    assert_eq!(sent, vec![3.0, 5.0]);
    // B (no persistent keepalive) sent nothing
    assert!(keepalives(&p.b.tick(5.5, wall(5.5))).is_empty());
}

#[test]
fn retransmit_then_give_up() {
    let cfg = short_config();
    let mut p = pair_with(cfg, None, 0.0, 0.0, 11);
    let mut init = [0u8; 148];
    p.a.format_initiation(1.0, wall(1.0), &mut init).unwrap();
    let first_retx = p.a.peer().timers().retransmit_at.unwrap();
    assert!((1.5..=1.6).contains(&first_retx), "{first_retx}");
    let mut inits = Vec::new();
    let mut gave_up = None;
    let mut t = 1.0;
    while t < 8.0 {
        t += 0.05;
        let acts = p.a.tick(t, wall(t));
        inits.extend(initiations(&acts));
        if acts.contains(&Action::HandshakeGaveUp) {
            gave_up = Some(t);
        }
    }
    // retries every 0.5..0.6 s; the retransmit timer expiring with more than
    // MAX_TIMER_HANDSHAKES (3 / 0.5 = 6) retries behind it gives up: 8 initiations in all
    assert_eq!(inits.len(), 7, "the explicit initiation and 7 retries");
    let g = gave_up.expect("gave up");
    assert!((1.0 + 8.0 * 0.5..=1.0 + 8.0 * 0.65).contains(&g), "{g}");
    assert_eq!(p.a.peer().pending_index(), None);
    // retransmissions use fresh sender indices and fresh ephemerals
    assert_ne!(&inits[0][4..40], &inits[1][4..40]);
    // the late responder still works for the last initiation? No: it was dropped.
    let mut out = [0u8; 256];
    let Verdict::WriteToNetwork(n) =
        p.b.decapsulate(inits.last().unwrap(), SRC_A, t, false, &mut out)
    else {
        panic!()
    };
    let resp = out[..n].to_vec();
    assert_eq!(
        p.a.decapsulate(&resp, SRC_B, t, false, &mut out),
        Verdict::Err(Reason::UnknownIndex)
    );
    // new traffic restarts the handshake
    assert_eq!(p.a.encapsulate(b"x", t, &mut out), Err(Reason::NoSession));
    assert_eq!(initiations(&p.a.tick(t, wall(t))).len(), 1);
}

#[test]
fn no_session_requests_handshake_rate_limited() {
    let mut p = pair_with(short_config(), None, 0.0, 0.0, 12);
    let mut out = [0u8; 256];
    assert_eq!(p.a.encapsulate(b"x", 1.0, &mut out), Err(Reason::NoSession));
    assert_eq!(p.a.next_deadline(), Some(0.0));
    let acts = p.a.tick(1.0, wall(1.0));
    assert_eq!(initiations(&acts).len(), 1);
    // more packets while the handshake is pending do not cause more initiations
    for i in 0..10 {
        let t = 1.0 + i as f64 * 0.01;
        assert_eq!(p.a.encapsulate(b"x", t, &mut out), Err(Reason::NoSession));
        assert!(initiations(&p.a.tick(t, wall(t))).is_empty());
    }
}

#[test]
fn message_count_limits() {
    let cfg = Config {
        rekey_after_messages: 10,
        reject_after_messages: 20,
        ..Config::default()
    };
    let mut p = pair_with(cfg, None, 0.0, 0.0, 13);
    p.handshake(1.0); // keepalive used counter 0
    let mut out = [0u8; 64];
    for _ in 0..9 {
        p.a.encapsulate(b"m", 2.0, &mut out).unwrap();
    }
    assert!(!p.a.peer().timers().want_handshake);
    p.a.encapsulate(b"m", 2.0, &mut out).unwrap();
    // next counter now exceeds rekey_after_messages
    p.a.encapsulate(b"m", 2.0, &mut out).unwrap();
    assert!(p.a.peer().timers().want_handshake);
    for _ in 12..20 {
        p.a.encapsulate(b"m", 2.0, &mut out).unwrap();
    }
    assert_eq!(p.a.encapsulate(b"m", 2.0, &mut out), Err(Reason::NoSession));
}

#[test]
fn next_deadline_tracks_timers() {
    let mut p = pair_with(short_config(), None, 0.0, 0.0, 14);
    assert_eq!(p.a.next_deadline(), None);
    p.handshake(1.0);
    // keypair expiry at 7.0, zero at 19.0
    assert_eq!(p.a.next_deadline(), Some(7.0));
    transfer(&mut p.a, &mut p.b, b"d", 2.0);
    let d = p.a.next_deadline().unwrap(); // new handshake if no answer (+ jitter)
    assert!((3.5..=3.6).contains(&d), "{d}");
    assert_eq!(p.b.next_deadline(), Some(3.0)); // keepalive
}
