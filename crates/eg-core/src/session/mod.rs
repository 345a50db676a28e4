//! WireGuard sessions: keypairs with counters and replay windows, the timer state
//! machine, per-peer state, and the device/tunnel that route datagrams to peers.
//!
//! Time is the caller's monotonic clock in seconds (`now: f64`); wall-clock time for
//! initiation timestamps is passed as a [`Tai64N`](crate::noise::Tai64N).

pub mod aead;
pub mod device;
pub mod keypair;
pub mod peer;
pub mod ratelimit;
pub mod replay;
pub mod timers;

pub use crate::noise::Reason;
pub use device::{batch, BatchStats, Device, Tunnel};
pub use keypair::{AeadWork, Keypair};
pub use peer::{Action, Peer, PeerId, PeerStats, Verdict};
pub use ratelimit::{HandshakeLimiter, LoadStats};
pub use replay::ReplayWindow;
pub use timers::{Config, TimerState};
