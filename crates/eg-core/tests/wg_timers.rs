//! The timer state machine event by event, on a fake clock, compared with what
//! wireguard-go (device/timers.go, device/send.go) and the Linux module do:
//! persistent keepalive from the moment a peer is configured, a keepalive due without a
//! keypair starting a handshake, zero intervals, rekey after time/messages on send and on
//! receive, handshake retransmit and give-up after MAX_TIMER_HANDSHAKES, and what resets
//! the attempt counter.
//!
//! `Sim` connects two tunnels through an in-memory link and runs both clocks in fixed
//! steps, recording every message each side sends.

mod wg_common;

use eg_core::noise::Reason;
use eg_core::session::{Action, Config, Verdict};
use wg_common::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    A,
    B,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ev {
    Initiation,
    Response,
    Keepalive,
    Data,
    SessionReady,
    GaveUp,
    KeysZeroed,
}

struct Sim {
    p: Pair,
    t: f64,
    /// Whether datagrams reach the other side.
    link: bool,
    log: Vec<(f64, Side, Ev)>,
}

impl Sim {
    fn new(cfg: Config, ka_a: f64, ka_b: f64, seed: u64) -> Sim {
        Sim {
            p: pair_with(cfg, None, ka_a, ka_b, seed),
            t: 0.0,
            link: true,
            log: Vec::new(),
        }
    }

    fn tun(&mut self, s: Side) -> &mut eg_core::session::Tunnel {
        match s {
            Side::A => &mut self.p.a,
            Side::B => &mut self.p.b,
        }
    }

    /// Deliver `msg` sent by `from` (if the link is up), and whatever it provokes.
    fn deliver(&mut self, from: Side, msg: Vec<u8>) {
        if !self.link {
            return;
        }
        let to = if from == Side::A { Side::B } else { Side::A };
        let src = if from == Side::A { SRC_A } else { SRC_B };
        let t = self.t;
        let mut out = vec![0u8; msg.len().max(256)];
        let v = self.tun(to).decapsulate(&msg, src, t, false, &mut out);
        match v {
            Verdict::WriteToNetwork(n) => {
                self.log.push((t, to, Ev::Response));
                self.deliver(to, out[..n].to_vec());
            }
            Verdict::SessionReady(n) => {
                self.log.push((t, to, Ev::SessionReady));
                self.deliver(to, out[..n].to_vec());
            }
            Verdict::Data(_) | Verdict::Keepalive | Verdict::Nothing => {}
            v => panic!("{to:?} refused a message from {from:?} at {t}: {v:?}"),
        }
    }

    fn tick_side(&mut self, s: Side) {
        let t = self.t;
        let acts = self.tun(s).tick(t, wall(t));
        for a in acts {
            match a {
                Action::SendInitiation(b) => {
                    self.log.push((t, s, Ev::Initiation));
                    self.deliver(s, b);
                }
                Action::SendKeepalive(b) => {
                    self.log.push((t, s, Ev::Keepalive));
                    self.deliver(s, b);
                }
                Action::HandshakeGaveUp => self.log.push((t, s, Ev::GaveUp)),
                Action::KeysZeroed => self.log.push((t, s, Ev::KeysZeroed)),
            }
        }
    }

    /// Advance to `until` in steps of [`DT`], ticking both sides (A first) at each step.
    /// Times are multiples of a power of two, so sums of them are exact.
    fn run(&mut self, until: f64) {
        while self.t + DT <= until {
            self.t += DT;
            self.tick_side(Side::A);
            self.tick_side(Side::B);
        }
    }

    /// One step.
    fn step(&mut self) {
        let t = self.t + DT;
        self.run(t);
    }

    /// `s` sends a data packet now (returns false when it had to be queued: no session).
    fn send_data(&mut self, s: Side, payload: &[u8]) -> bool {
        let t = self.t;
        let mut m = vec![0u8; payload.len() + 64];
        match self.tun(s).encapsulate(payload, t, &mut m) {
            Ok(n) => {
                m.truncate(n);
                self.log.push((t, s, Ev::Data));
                self.deliver(s, m);
                true
            }
            Err(Reason::NoSession) => false,
            Err(r) => panic!("seal failed: {r:?}"),
        }
    }

    fn times(&self, s: Side, ev: Ev) -> Vec<f64> {
        self.log
            .iter()
            .filter(|(_, side, e)| *side == s && *e == ev)
            .map(|(t, _, _)| *t)
            .collect()
    }

    fn count(&self, s: Side, ev: Ev) -> usize {
        self.times(s, ev).len()
    }
}

/// Clock step of the simulation: 1/128 s.
const DT: f64 = 1.0 / 128.0;

/// rekey_timeout 0.5 s, jitter 0.1 s, keepalive 1 s, rekey after 4 s, reject after 6 s,
/// attempts 3 s (MAX_TIMER_HANDSHAKES = 6), key erasure after 18 s.
fn cfg() -> Config {
    short_config()
}

fn no_time_rekey() -> Config {
    Config {
        rekey_after_time: 100.0,
        ..cfg()
    }
}

#[test]
fn persistent_keepalive_without_traffic_starts_a_handshake_at_once() {
    let mut s = Sim::new(cfg(), 1.0, 0.0, 31);
    // Nothing was sent yet, but a keepalive is already due (wireguard-go sends one when the
    // peer is configured with a nonzero interval).
    let d =
        s.p.a
            .next_deadline()
            .expect("a deadline right after configuration");
    assert!(d <= 0.0, "first deadline {d}");
    assert_eq!(s.p.b.next_deadline(), None, "B has no persistent keepalive");
    s.step();
    // The keepalive found no keypair: it became a handshake initiation.
    assert_eq!(s.times(Side::A, Ev::Initiation), vec![DT]);
    assert_eq!(s.count(Side::B, Ev::Response), 1);
    assert_eq!(s.count(Side::A, Ev::SessionReady), 1);
    assert!(s.p.a.has_session(s.t) && s.p.b.has_session(s.t));
    // Then one keepalive per second, each armed by the last authenticated packet.
    s.run(3.5);
    assert_eq!(
        s.times(Side::A, Ev::Keepalive),
        vec![1.0 + DT, 2.0 + DT, 3.0 + DT]
    );
    assert_eq!(s.count(Side::A, Ev::Initiation), 1);
    assert_eq!(
        s.count(Side::B, Ev::Keepalive),
        0,
        "B answers nothing to keepalives"
    );
}

#[test]
fn persistent_keepalive_rearms_after_any_authenticated_packet() {
    let mut s = Sim::new(cfg(), 1.0, 0.0, 32);
    s.step(); // handshake
    s.run(0.5);
    assert!(s.send_data(Side::A, b"x")); // B would answer with a keepalive at 1.5...
    s.run(1.25);
    assert!(s.send_data(Side::B, b"y")); // ...but sends data at 1.25 instead
    s.run(2.5);
    // A's next keepalive is one interval after the last packet it received
    assert_eq!(s.times(Side::A, Ev::Keepalive), vec![2.25]);
}

#[test]
fn persistent_keepalive_zero_is_off() {
    let mut s = Sim::new(cfg(), 0.0, 0.0, 33);
    assert_eq!(s.p.a.next_deadline(), None);
    s.run(30.0);
    assert!(s.log.is_empty(), "{:?}", s.log);
    // Turning it off stops the keepalives of a running session.
    let mut s = Sim::new(cfg(), 1.0, 0.0, 34);
    s.run(2.5);
    assert_eq!(s.count(Side::A, Ev::Keepalive), 2);
    let id = s.p.a.device().peer_ids()[0];
    s.p.a
        .device_mut()
        .set_persistent_keepalive(id, 0.0)
        .unwrap();
    assert_eq!(s.p.a.peer().timers().persistent_at, None);
    s.run(5.0);
    assert_eq!(s.count(Side::A, Ev::Keepalive), 2);
}

#[test]
fn persistent_keepalive_turned_on_later_sends_at_once() {
    let mut s = Sim::new(cfg(), 0.0, 0.0, 35);
    s.run(1.0);
    assert!(s.log.is_empty());
    let id = s.p.a.device().peer_ids()[0];
    // 0 -> 2 s: a keepalive (here: a handshake, no keypair yet) right away.
    s.p.a
        .device_mut()
        .set_persistent_keepalive(id, 2.0)
        .unwrap();
    assert!(s.p.a.next_deadline().unwrap() <= s.t);
    s.step();
    assert_eq!(s.times(Side::A, Ev::Initiation), vec![1.0 + DT]);
    s.run(3.5);
    assert_eq!(s.times(Side::A, Ev::Keepalive), vec![3.0 + DT]);
    // 2 s -> 1 s (on to on): no immediate keepalive; the pending one still fires at 5, and
    // the new interval applies from then on.
    s.p.a
        .device_mut()
        .set_persistent_keepalive(id, 1.0)
        .unwrap();
    s.run(6.5);
    assert_eq!(
        s.times(Side::A, Ev::Keepalive),
        vec![3.0 + DT, 5.0 + DT, 6.0 + DT]
    );
}

#[test]
fn keepalive_due_without_keypair_requests_a_handshake() {
    // Passive keepalive: B received data at 6.0; its keypair (made at DT) is rejected from
    // 6 + DT on; the keepalive due at 7.0 cannot be sealed, so B initiates instead.
    let mut s = Sim::new(no_time_rekey(), 0.0, 0.0, 36);
    assert!(!s.send_data(Side::A, b"first")); // queued: starts the handshake
    s.step();
    assert_eq!(s.count(Side::A, Ev::SessionReady), 1);
    s.run(6.0);
    assert!(s.send_data(Side::A, b"late data"));
    assert_eq!(s.p.b.peer().timers().keepalive_at, Some(7.0));
    s.link = false; // only B's side matters now
    s.run(7.5);
    assert_eq!(s.count(Side::B, Ev::Keepalive), 0);
    assert_eq!(s.times(Side::B, Ev::Initiation), vec![7.0]);

    // Persistent keepalive after the keypair expired: same.
    let mut s = Sim::new(no_time_rekey(), 0.0, 1.0, 37);
    s.step(); // B's first keepalive makes B the initiator
    assert_eq!(s.count(Side::B, Ev::SessionReady), 1);
    s.link = false;
    s.run(7.0);
    let ka = s.times(Side::B, Ev::Keepalive);
    assert_eq!(ka, vec![1.0 + DT, 2.0 + DT, 3.0 + DT, 4.0 + DT, 5.0 + DT]);
    // (then retransmits, the link being down)
    assert_eq!(s.times(Side::B, Ev::Initiation)[..2], [DT, 6.0 + DT]);
}

#[test]
fn handshake_retransmits_then_gives_up_after_max_attempts() {
    let c = cfg();
    let max = c.max_timer_handshakes();
    assert_eq!(max, 6);
    assert_eq!(Config::default().max_timer_handshakes(), 18);
    let mut s = Sim::new(c, 0.0, 0.0, 38);
    s.link = false;
    assert!(!s.send_data(Side::A, b"queued"));
    s.run(10.0);
    let inits = s.times(Side::A, Ev::Initiation);
    // The first initiation and MAX_TIMER_HANDSHAKES + 1 retries (wireguard-go: "did not
    // complete after MaxTimerHandshakes+2 attempts, giving up").
    assert_eq!(inits.len(), max as usize + 2, "{inits:?}");
    for w in inits.windows(2) {
        let gap = w[1] - w[0];
        assert!(
            (0.5..=0.6 + DT).contains(&gap),
            "retransmit gap {gap} in {inits:?}"
        );
    }
    let gave = s.times(Side::A, Ev::GaveUp);
    assert_eq!(gave.len(), 1);
    let g = gave[0];
    let last = *inits.last().unwrap();
    assert!(
        (last + 0.5..=last + 0.6 + DT).contains(&g),
        "gave up at {g}, last try {last}"
    );
    assert_eq!(s.p.a.peer().pending_index(), None);
    assert_eq!(s.p.a.device().index_count(), 0);
    // Residue is erased 3 x REJECT_AFTER_TIME later.
    assert_eq!(s.p.a.peer().timers().zero_keys_at, Some(g + 18.0));
    // Nothing more happens by itself...
    assert_eq!(s.p.a.peer().timers().retransmit_at, None);
    assert!(!s.p.a.peer().timers().want_handshake);
    // ...until new traffic starts a fresh cycle.
    assert!(!s.send_data(Side::A, b"again"));
    s.step();
    assert_eq!(s.count(Side::A, Ev::Initiation), max as usize + 3);
    assert_eq!(s.p.a.peer().timers().handshake_attempts, 0);
}

#[test]
fn traffic_while_handshaking_resets_the_attempt_counter() {
    // wireguard-go: every packet that finds no keypair calls SendHandshakeInitiation(false),
    // which resets handshakeAttempts; so a peer with steady traffic never gives up.
    let mut s = Sim::new(cfg(), 0.0, 0.0, 39);
    s.link = false;
    let mut t = 0.0;
    while t < 10.0 {
        assert!(!s.send_data(Side::A, b"ping"));
        t += 0.25;
        s.run(t);
    }
    assert_eq!(s.count(Side::A, Ev::GaveUp), 0);
    let inits = s.times(Side::A, Ev::Initiation);
    assert!(inits.len() >= 16, "kept retrying: {inits:?}");
    // the rate limit holds: never two initiations within rekey_timeout
    assert!(inits.windows(2).all(|w| w[1] - w[0] >= 0.5), "{inits:?}");
    // when the peer comes back, the handshake completes and the counter is clear
    s.link = true;
    s.run(11.0);
    assert_eq!(s.count(Side::A, Ev::SessionReady), 1);
    assert_eq!(s.p.a.peer().timers().handshake_attempts, 0);
}

#[test]
fn persistent_keepalive_keeps_a_handshake_going_forever() {
    // An interval shorter than rekey_timeout: each expiry requests a fresh handshake, so
    // the attempts never run out (as in wireguard-go and the kernel).
    let mut s = Sim::new(cfg(), 0.25, 0.0, 40);
    s.link = false;
    s.run(15.0);
    assert_eq!(s.count(Side::A, Ev::GaveUp), 0);
    assert!(s.count(Side::A, Ev::Initiation) >= 20);
    // An interval longer than the attempt time: the retries give up, and the keepalive,
    // re-armed by the last initiation, starts a new cycle one interval after it.
    let mut s = Sim::new(cfg(), 5.0, 0.0, 41);
    s.link = false;
    s.run(12.0);
    let gave = s.times(Side::A, Ev::GaveUp);
    assert_eq!(gave.len(), 1, "{:?}", s.log);
    let inits = s.times(Side::A, Ev::Initiation);
    assert!(inits.len() >= 9, "{inits:?}");
    let last_of_cycle = inits[7];
    assert!(last_of_cycle < gave[0] && gave[0] < inits[8]);
    let restart = inits[8];
    assert!(
        (0.0..DT).contains(&(restart - (last_of_cycle + 5.0))),
        "restart {restart}, last {last_of_cycle}"
    );
    // and it completes when the peer answers again
    s.link = true;
    s.run(14.0);
    assert!(s.count(Side::A, Ev::SessionReady) >= 1);
}

#[test]
fn new_handshake_when_data_goes_unanswered_has_jitter() {
    // KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + jitter after the first unanswered data packet
    let mut at = Vec::new();
    for seed in 0..8 {
        let mut s = Sim::new(cfg(), 0.0, 0.0, 50 + seed);
        assert!(!s.send_data(Side::A, b"q"));
        s.step();
        s.link = false;
        s.run(1.0);
        assert!(s.send_data(Side::A, b"anyone?"));
        let d = s.p.a.peer().timers().new_handshake_at.unwrap();
        assert!((2.5..=2.6).contains(&d), "{d}");
        // later data does not push it back
        s.run(1.5);
        assert!(s.send_data(Side::A, b"still there?"));
        assert_eq!(s.p.a.peer().timers().new_handshake_at, Some(d));
        s.run(2.75);
        assert_eq!(s.count(Side::A, Ev::Initiation), 2, "{:?}", s.log);
        at.push(d);
    }
    at.dedup();
    assert!(at.len() > 1, "no jitter: {at:?}");
}

#[test]
fn initiator_rekeys_on_any_packet_received_near_reject_time() {
    // REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT = 4.5 s of age; wireguard-go
    // checks on every authenticated transport packet, keepalives included.
    let mut s = Sim::new(no_time_rekey(), 0.0, 3.0, 42);
    assert!(!s.send_data(Side::A, b"q")); // A initiates
    s.step();
    assert_eq!(s.count(Side::A, Ev::SessionReady), 1);
    s.run(4.5 + DT);
    // B's keepalive due at configuration was made redundant by the handshake at DT
    assert_eq!(s.times(Side::B, Ev::Keepalive), vec![3.0 + DT]);
    assert_eq!(s.count(Side::A, Ev::Initiation), 1);
    assert!(!s.p.a.peer().timers().sent_lastminute);
    // A keepalive from B at 4.5 + 2 DT (A's keypair is older than 4.5 s): A rekeys once.
    let id = s.p.b.device().peer_ids()[0];
    s.p.b
        .device_mut()
        .set_persistent_keepalive(id, 0.0)
        .unwrap();
    s.p.b
        .device_mut()
        .set_persistent_keepalive(id, 3.0)
        .unwrap(); // 0 -> 3: keepalive now
    s.step();
    assert_eq!(
        s.times(Side::B, Ev::Keepalive).last(),
        Some(&(4.5 + 2.0 * DT))
    );
    assert!(s.p.a.peer().timers().sent_lastminute);
    s.step();
    assert_eq!(s.count(Side::A, Ev::Initiation), 2);
    assert_eq!(s.count(Side::A, Ev::SessionReady), 2);
}

#[test]
fn rekey_after_messages_and_reject_after_messages() {
    let c = Config {
        rekey_after_messages: 10,
        reject_after_messages: 20,
        ..Config::default()
    };
    let mut s = Sim::new(c, 0.0, 0.0, 43);
    assert!(!s.send_data(Side::A, b"q"));
    s.step(); // the confirming keepalive used counter 0
    s.link = false;
    for _ in 0..9 {
        assert!(s.send_data(Side::A, b"m"));
    }
    assert!(
        !s.p.a.peer().timers().want_handshake,
        "10 messages are not past 10"
    );
    assert!(s.send_data(Side::A, b"m"));
    assert!(s.p.a.peer().timers().want_handshake);
    // reject: the 20th message is the last the keypair seals
    for _ in 11..20 {
        assert!(s.send_data(Side::A, b"m"));
    }
    assert!(!s.send_data(Side::A, b"m"));
    // the responder rekeys on messages too (not only on time)
    let c = Config {
        rekey_after_messages: 3,
        ..Config::default()
    };
    let mut q = Sim::new(c, 0.0, 0.0, 44);
    assert!(!q.send_data(Side::A, b"q"));
    q.step();
    for _ in 0..4 {
        assert!(q.send_data(Side::B, b"m"));
    }
    assert!(q.p.b.peer().timers().want_handshake);
    // B sent its response at DT: its initiation waits for the REKEY_TIMEOUT rate limit
    q.run(5.0);
    assert_eq!(q.count(Side::B, Ev::Initiation), 0);
    q.step();
    assert_eq!(q.times(Side::B, Ev::Initiation), vec![5.0 + DT]);
    assert_eq!(q.count(Side::B, Ev::SessionReady), 1);
}

#[test]
fn all_key_material_is_erased_three_reject_times_after_the_last_session() {
    let mut s = Sim::new(cfg(), 0.0, 0.0, 45);
    assert!(!s.send_data(Side::A, b"q"));
    s.step();
    assert_eq!(s.p.a.peer().timers().zero_keys_at, Some(18.0 + DT));
    assert_eq!(s.p.b.peer().timers().zero_keys_at, Some(18.0 + DT));
    s.run(20.0);
    assert_eq!(s.times(Side::A, Ev::KeysZeroed), vec![18.0 + DT]);
    assert_eq!(s.times(Side::B, Ev::KeysZeroed), vec![18.0 + DT]);
    assert_eq!(s.p.a.peer().keypair_count(), 0);
    assert_eq!(s.p.a.device().index_count(), 0);
    assert_eq!(s.p.b.device().index_count(), 0);
}
