//! Why a datagram or a request was rejected. Every failure path returns one of these,
//! never a panic. The numeric values are stable: the WASM bindings hand them to JS.

use core::fmt;

/// Reason code of a rejection. `repr(u8)`; values are part of the JS API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Reason {
    /// Shorter than the fixed size of its message type (or than 4 bytes).
    Truncated = 1,
    /// Type word (u32 LE, reserved bytes included) is not 1, 2, 3 or 4.
    BadType = 2,
    /// Handshake or cookie message longer than its fixed size.
    BadLength = 3,
    /// mac1 does not match our public key.
    BadMac1 = 4,
    /// Under load and mac2 is absent (all zero): a cookie reply was produced instead.
    NeedCookie = 5,
    /// Under load and mac2 is present but wrong: a cookie reply was produced instead.
    BadMac2 = 6,
    /// The receiver index names no live handshake or keypair.
    UnknownIndex = 7,
    /// An initiation decrypted to a static key that is not a configured peer.
    UnknownPeer = 8,
    /// AEAD authentication failed.
    DecryptFailed = 9,
    /// Transport counter already received.
    Replayed = 10,
    /// Transport counter older than the replay window.
    TooOld = 11,
    /// Initiation timestamp not greater than the last one accepted from that peer.
    StaleTimestamp = 12,
    /// Initiation arrived less than `handshake_initiation_rate` after the previous one, or,
    /// under load, a handshake message (with a valid mac2) its source address's bucket
    /// refused (session::ratelimit).
    Flood = 13,
    /// No usable current keypair (encapsulate); a handshake has been requested.
    NoSession = 14,
    /// Keypair older than REJECT_AFTER_TIME or counter past REJECT_AFTER_MESSAGES.
    KeyExpired = 15,
    /// The caller's output buffer (or batch slot) is too small.
    BufferTooSmall = 16,
    /// A Diffie-Hellman result was all zero (low-order point).
    BadKey = 17,
    /// Batch open got a message that is not a transport message.
    NotTransport = 18,
    /// No such peer id, or a peer with this public key already exists.
    BadPeer = 19,
    /// A cookie reply arrived although we have no outstanding mac1 to match it to.
    UnexpectedCookie = 20,
    /// The plaintext's transport message would exceed one UDP datagram
    /// (`wire::MAX_TRANSPORT_LEN`); refused before anything is sealed or queued.
    FrameTooLarge = 21,
}

impl Reason {
    /// Numeric code (stable).
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Inverse of [`Reason::code`].
    pub fn from_code(code: u8) -> Option<Reason> {
        use Reason::*;
        const ALL: [Reason; 21] = [
            Truncated,
            BadType,
            BadLength,
            BadMac1,
            NeedCookie,
            BadMac2,
            UnknownIndex,
            UnknownPeer,
            DecryptFailed,
            Replayed,
            TooOld,
            StaleTimestamp,
            Flood,
            NoSession,
            KeyExpired,
            BufferTooSmall,
            BadKey,
            NotTransport,
            BadPeer,
            UnexpectedCookie,
            FrameTooLarge,
        ];
        ALL.iter().copied().find(|r| r.code() == code)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for Reason {}
