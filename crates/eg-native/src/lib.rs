//! OS bindings for Etherguard: TAP devices through /dev/net/tun and the ioctls that configure
//! them. This crate is the only place with `unsafe` (FFI to libc); every call checks its return
//! value and turns errno into a JS Error naming the operation and the interface.

mod tap;

use napi_derive::napi;

/// Lets `-version` tell whether the addon loaded, and which build it is.
#[napi]
pub fn native_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

mod unix;
