//! cargo-fuzz entry: mutated WireGuard Initiation messages must never be accepted unless only
//! unauthenticated bytes changed, and forgeries must leave the receiver's state untouched
//! (harness and invariants: ../wg_invariants.rs).
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;

#[path = "../wg_invariants.rs"]
mod wg_invariants;

thread_local! {
    static H: RefCell<wg_invariants::WgInvariants> = RefCell::new(wg_invariants::WgInvariants::new(wg_invariants::Kind::Initiation));
}

fuzz_target!(|data: &[u8]| {
    H.with(|h| h.borrow_mut().run(data));
});
