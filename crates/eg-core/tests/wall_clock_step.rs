//! The wall clock of an initiator stepped back (an admin, NTP, a VM snapshot restored): its next
//! initiations must still be accepted by the responder, which refuses a TAI64N timestamp that is
//! not later than the last one it accepted (whitepaper §5.1). The session timers run on the
//! monotonic clock and are not affected by either direction of step.

mod wg_common;

use eg_core::noise::Tai64N;
use eg_core::session::Verdict;
use wg_common::*;

fn initiate_at(p: &mut Pair, now: f64, wall: Tai64N) -> Verdict {
    let mut init = [0u8; 148];
    p.a.format_initiation(now, wall, &mut init).unwrap();
    let mut out = [0u8; 256];
    p.b.decapsulate(&init, SRC_A, now, false, &mut out)
}

#[test]
fn initiations_after_a_wall_clock_step_back_of_an_hour_are_accepted() {
    let mut p = pair(None);
    let t0 = 1_700_000_000_000.0;
    assert!(matches!(initiate_at(&mut p, 1.0, Tai64N::from_unix_millis(t0)), Verdict::WriteToNetwork(_)));
    // Stepped back one hour: monotonic time goes on, the wall clock reads an hour earlier.
    for (i, now) in [2.0, 3.0, 4.0].into_iter().enumerate() {
        let wall = Tai64N::from_unix_millis(t0 - 3_600_000.0 + i as f64 * 1000.0);
        let v = initiate_at(&mut p, now, wall);
        assert!(matches!(v, Verdict::WriteToNetwork(_)), "initiation {i} after the step: {v:?}");
    }
    // Stepped forward two hours (to +1 h): accepted, and later ones too.
    assert!(matches!(initiate_at(&mut p, 5.0, Tai64N::from_unix_millis(t0 + 3_600_000.0)), Verdict::WriteToNetwork(_)));
    assert!(matches!(initiate_at(&mut p, 6.0, Tai64N::from_unix_millis(t0 + 3_601_000.0)), Verdict::WriteToNetwork(_)));
}

#[test]
fn next_after_is_the_next_whitened_step_and_carries_into_seconds() {
    let t = Tai64N::from_unix(100, 0);
    let n = t.next_after();
    assert!(n > t);
    assert_eq!(&n.as_bytes()[8..], &(1u32 << 24).to_be_bytes());
    let late = Tai64N::from_unix(100, 999_000_000);
    let c = late.next_after();
    assert!(c > late);
    assert_eq!(c, Tai64N::from_unix(101, 0));
}
