//! OS bindings for Etherguard: TAP devices through /dev/net/tun and the ioctls that configure
//! them. This crate is the only place with `unsafe` (FFI to libc); every call checks its return
//! value and turns errno into a JS Error naming the operation and the interface.

mod clock;
mod io;
mod mainpoll;
mod memif;
mod tap;

use napi_derive::napi;

/// Lets `-version` tell whether the addon loaded, and which build it is.
#[napi]
pub fn native_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

mod unix;

/// Sets SO_MARK on a socket (FwMark): policy routing can then keep tunnel traffic out of the tunnel.
#[napi]
pub fn set_socket_mark(fd: i32, mark: u32) -> napi::Result<()> {
    let v = mark as libc::c_int;
    // SAFETY: setsockopt with a valid pointer to an int of the stated size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_MARK,
            &v as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(napi::Error::from_reason(format!(
            "setsockopt(SO_MARK={mark}) on fd {fd}: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}
