//! The clock that kernel receive timestamps use (SO_TIMESTAMPNS: CLOCK_REALTIME), read the same
//! way for send stamps, so a one-way measurement subtracts two readings of one clock
//! (docs/routing.md §Wire timestamps).

use napi_derive::napi;

/// CLOCK_REALTIME now, in milliseconds since the Unix epoch (f64: about 0.24 µs resolution
/// today). Node's `Date.now()` is whole milliseconds and `performance.timeOrigin + now()` is a
/// monotonic clock with a start-up origin, which drifts from CLOCK_REALTIME when NTP steps it.
#[napi]
pub fn realtime_ms() -> f64 {
    // SAFETY: zeroed timespec, clock_gettime fills it.
    let mut t: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: valid clock id and pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut t) };
    t.tv_sec as f64 * 1e3 + t.tv_nsec as f64 / 1e6
}
