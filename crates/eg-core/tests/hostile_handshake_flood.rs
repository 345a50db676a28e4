//! A member that floods handshake initiations: the responder decides by itself that it is under
//! load (more than `Config::handshake_budget` handshake messages in a second), answers messages
//! without a valid mac2 with cookie replies (no Diffie-Hellman spent on them), rate-limits each
//! source address that does prove it owns its address, and still completes an honest member's
//! handshake. WireGuard whitepaper §5.4.7; session::ratelimit.

mod wg_common;

use eg_core::noise::Reason;
use eg_core::session::{Config, Device, Tunnel, Verdict};
use wg_common::*;

const SRC_C: &[u8] = &[10, 0, 0, 3, 0x13, 0x88];

struct Net {
    b: Device,
    a: Tunnel,
    c: Tunnel,
}

fn net(cfg: Config) -> Net {
    let (a_priv, a_pub) = static_key(1);
    let (b_priv, b_pub) = static_key(2);
    let (c_priv, c_pub) = static_key(3);
    let mut b = Device::new(b_priv, cfg.clone(), rng(10));
    b.add_peer(a_pub, None, 0.0).unwrap();
    b.add_peer(c_pub, None, 0.0).unwrap();
    let a = Tunnel::new(a_priv, b_pub, None, 0.0, cfg.clone(), rng(11)).unwrap();
    let c = Tunnel::new(c_priv, b_pub, None, 0.0, cfg, rng(12)).unwrap();
    Net { b, a, c }
}

fn init(t: &mut Tunnel, now: f64) -> Vec<u8> {
    let mut m = vec![0u8; 148];
    t.format_initiation(now, wall(now), &mut m).unwrap();
    m
}

#[test]
fn initiation_flood_switches_on_cookies_and_an_honest_member_still_connects() {
    let cfg = Config { handshake_budget: 50, ..Config::default() };
    let mut n = net(cfg);
    let mut out = vec![0u8; 2048];
    let (mut responses, mut cookies, mut other) = (0, 0, 0);
    // 400 initiations within 0.4 s from one member (each freshly made, as a flooder would).
    for i in 0..400 {
        let now = 10.0 + i as f64 * 0.001;
        let m = init(&mut n.a, now);
        match n.b.decapsulate(&m, SRC_A, now, false, &mut out).1 {
            Verdict::WriteToNetwork(_) => responses += 1,
            Verdict::CookieReply { reason: Reason::NeedCookie, .. } => cookies += 1,
            _ => other += 1,
        }
    }
    let st = n.b.load_stats();
    assert!(n.b.is_under_load(10.5), "the flood put the device under load");
    assert_eq!(st.handshakes, 400);
    assert_eq!(st.load_episodes, 1);
    assert_eq!(cookies, 350, "every message over the budget got a cookie reply");
    assert_eq!(st.cookie_replies, 350);
    // Within the budget the messages were processed: a response, or (1 ms apart) refused by
    // the per-peer 1/50 s rule after the Diffie-Hellman that identified the peer.
    assert_eq!(responses + other, 50);
    assert!(responses >= 2, "responses {responses}");

    // An honest member initiating during the flood is asked for a cookie, then gets through.
    let now = 10.45;
    let m = init(&mut n.c, now);
    let (_, v) = n.b.decapsulate(&m, SRC_C, now, false, &mut out);
    let Verdict::CookieReply { len, .. } = v else { panic!("expected a cookie reply, got {v:?}") };
    let reply = out[..len].to_vec();
    assert_eq!(n.c.decapsulate(&reply, SRC_B, now, false, &mut out), Verdict::Nothing);
    let m = init(&mut n.c, now + 0.01);
    let (peer, v) = n.b.decapsulate(&m, SRC_C, now + 0.01, false, &mut out);
    let Verdict::WriteToNetwork(len) = v else { panic!("expected a response, got {v:?}") };
    assert_eq!(peer, Some(1));
    let resp = out[..len].to_vec();
    assert!(matches!(n.c.decapsulate(&resp, SRC_B, now + 0.01, false, &mut out), Verdict::SessionReady(_)));

    // The flooder answers its cookie too: with a valid mac2 its address gets only its bucket
    // (burst 5, then 20/s); the rest is refused and counted.
    let now = 10.5;
    let m = init(&mut n.a, now);
    let Verdict::CookieReply { len, .. } = n.b.decapsulate(&m, SRC_A, now, false, &mut out).1 else { panic!() };
    let reply = out[..len].to_vec();
    assert_eq!(n.a.decapsulate(&reply, SRC_B, now, false, &mut out), Verdict::Nothing);
    let (mut passed, mut limited) = (0, 0);
    for i in 0..100 {
        let t = now + 0.001 * i as f64;
        let m = init(&mut n.a, t);
        assert_ne!(&m[132..148], &[0u8; 16], "the flooder's initiations carry mac2");
        match n.b.decapsulate(&m, SRC_A, t, false, &mut out).1 {
            Verdict::Err(Reason::Flood) => limited += 1,
            _ => passed += 1,
        }
    }
    // Bucket: 5 at once + 20/s over 0.1 s = 2 more; the per-peer 1/50 s rule may refuse some of
    // those as Flood too, so at most 7 pass.
    assert!(passed <= 7, "passed {passed}");
    assert!(n.b.load_stats().rate_limited >= 90, "{:?}", n.b.load_stats());
    assert!(limited >= 93);

    // Once the flood stops, a second later the device is no longer under load and an initiation
    // without mac2 is processed again.
    let m = init(&mut n.c, 13.0);
    assert!(!n.b.is_under_load(13.0));
    assert!(matches!(n.b.decapsulate(&m, SRC_C, 13.0, false, &mut out).1, Verdict::WriteToNetwork(_)));
}

#[test]
fn normal_handshake_rates_never_trigger_the_defence() {
    let mut n = net(Config::default());
    let mut out = vec![0u8; 2048];
    // Two members rekeying every few seconds for a simulated hour.
    let mut t = 0.0;
    while t < 3600.0 {
        for (tun, src) in [(&mut n.a, SRC_A), (&mut n.c, SRC_C)] {
            let m = init(tun, t);
            assert!(matches!(n.b.decapsulate(&m, src, t, false, &mut out).1, Verdict::WriteToNetwork(_)));
        }
        t += 2.5;
    }
    let st = n.b.load_stats();
    assert_eq!((st.cookie_replies, st.rate_limited, st.load_episodes), (0, 0, 0));
}
