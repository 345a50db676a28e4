//! cargo-fuzz entry: every parser/decapsulation path of eg_core on arbitrary input.
//! The same harness runs deterministically in `tests/wg_fuzz.rs`.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;

#[path = "../harness.rs"]
mod harness;

thread_local! {
    static H: RefCell<harness::Harness> = RefCell::new(harness::Harness::new());
}

fuzz_target!(|data: &[u8]| {
    H.with(|h| h.borrow_mut().run(data));
});
