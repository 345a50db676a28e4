//! TAI64N timestamps (12 bytes: big-endian seconds label, big-endian nanoseconds).
//!
//! The seconds label is 2^62 + 10 + unix seconds, as the reference implementations write
//! it. Nanoseconds are "whitened" (rounded down to a multiple of 2^24 ns, ~16.8 ms) so the
//! timestamp does not leak a precise clock; this still allows more than 50 initiations per
//! second to carry distinct timestamps.

/// TAI64 label base used by WireGuard (2^62 plus the 10 s TAI-UTC offset of 1970).
pub const TAI64_BASE: u64 = 0x4000_0000_0000_000a;
/// Low bits of the nanosecond field that are cleared.
pub const WHITENER_MASK: u32 = 0x00ff_ffff;

/// A 12-byte TAI64N timestamp. Ordering is the numeric (big-endian) ordering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Tai64N(pub [u8; 12]);

impl Tai64N {
    /// From unix time (seconds and nanoseconds), whitened.
    pub fn from_unix(secs: u64, nanos: u32) -> Tai64N {
        let mut b = [0u8; 12];
        b[..8].copy_from_slice(&TAI64_BASE.wrapping_add(secs).to_be_bytes());
        b[8..].copy_from_slice(&((nanos % 1_000_000_000) & !WHITENER_MASK).to_be_bytes());
        Tai64N(b)
    }

    /// From unix milliseconds as a float (what `Date.now()` gives in JS). Negative and
    /// non-finite values clamp to the epoch.
    pub fn from_unix_millis(ms: f64) -> Tai64N {
        let ms = if ms.is_finite() && ms > 0.0 { ms } else { 0.0 };
        let secs = (ms / 1000.0).floor();
        let nanos = ((ms - secs * 1000.0) * 1_000_000.0) as u32;
        Tai64N::from_unix(secs as u64, nanos.min(999_999_999))
    }

    /// The raw 12 bytes.
    pub fn as_bytes(&self) -> &[u8; 12] {
        &self.0
    }

    /// The smallest whitened timestamp later than this one (+2^24 ns, carrying into the
    /// seconds): what an initiator sends when its clock reads no later than its last initiation.
    pub fn next_after(&self) -> Tai64N {
        let secs = u64::from_be_bytes(self.0[..8].try_into().expect("8 bytes"));
        let nanos = u32::from_be_bytes(self.0[8..].try_into().expect("4 bytes")) & !WHITENER_MASK;
        let step = WHITENER_MASK + 1;
        let (secs, nanos) = if nanos as u64 + step as u64 >= 1_000_000_000 { (secs.wrapping_add(1), 0) } else { (secs, nanos + step) };
        let mut b = [0u8; 12];
        b[..8].copy_from_slice(&secs.to_be_bytes());
        b[8..].copy_from_slice(&nanos.to_be_bytes());
        Tai64N(b)
    }
}
