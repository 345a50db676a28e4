//! cargo-fuzz entry: the data plane's batch decoder (eg_core::plane) on arbitrary batches, with the
//! output-layout invariants checked after each. The same harness runs deterministically in
//! `tests/plane_fuzz.rs`.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;

#[path = "../plane_harness.rs"]
mod plane_harness;

thread_local! {
    static H: RefCell<plane_harness::PlaneHarness> = RefCell::new(plane_harness::PlaneHarness::new());
}

fuzz_target!(|data: &[u8]| {
    H.with(|h| h.borrow_mut().run(data));
});
