//! AF_UNIX datagram and seqpacket sockets (the `unixgramsock` / `unixpacketsock` interface
//! types), which Node cannot open by itself, plus two fd helpers for the `fd` type.
//!
//! Every socket is non-blocking. Reads go through `unix_read_batch`, an AsyncTask that waits on
//! libuv's thread pool with a poll() timeout, so a closing interface never leaves a thread stuck:
//! the JS side waits for the task in flight to return before it closes the fd (so the number is
//! never reused under a running read). The same task also accepts connections on a listening
//! seqpacket socket, so a server needs one pool thread, not two.
//!
//! Sends never block: they return 0 on success or the errno (EAGAIN when the socket queue is
//! full, ECONNREFUSED / ENOENT / EPIPE ... when there is no peer), and the JS side decides
//! whether that is a drop or a disconnect. Only misuse (bad arguments) throws.

use std::ffi::CString;
use std::io;
use std::mem;

use napi::bindgen_prelude::*;
use napi::{Env, Task};
use napi_derive::napi;

/// Byte offset of `sun_path` inside `struct sockaddr_un` (after the 2-byte family).
const SUN_PATH_OFFSET: usize = mem::size_of::<libc::sa_family_t>();

fn errno_err(what: &str, subject: &str) -> Error {
    Error::from_reason(format!("{what} {subject}: {}", io::Error::last_os_error()))
}

fn last_errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

/// Builds a `sockaddr_un` from raw `sun_path` bytes: a filesystem path (no NUL inside), or an
/// abstract name (first byte NUL, Linux only) as returned in `UnixBatch::from`.
fn sockaddr_un(path: &[u8]) -> Result<(libc::sockaddr_un, libc::socklen_t)> {
    // SAFETY: sockaddr_un is plain old data; all-zero is a valid value.
    let mut sa: libc::sockaddr_un = unsafe { mem::zeroed() };
    sa.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let abstract_name = path.first() == Some(&0);
    let room = sa.sun_path.len() - usize::from(!abstract_name);
    if path.is_empty() || path.len() > room {
        return Err(Error::from_reason(format!(
            "unix socket address {:?} must be 1 to {} bytes",
            String::from_utf8_lossy(path),
            sa.sun_path.len() - 1
        )));
    }
    if !abstract_name && path.contains(&0) {
        return Err(Error::from_reason(format!(
            "unix socket path {:?} contains a NUL byte",
            String::from_utf8_lossy(path)
        )));
    }
    for (d, s) in sa.sun_path.iter_mut().zip(path) {
        *d = *s as libc::c_char;
    }
    // Pathnames are passed with their terminating NUL (already zeroed); abstract names without.
    let len = SUN_PATH_OFFSET + path.len() + usize::from(!abstract_name);
    Ok((sa, len as libc::socklen_t))
}

/// The `sun_path` bytes of an address filled in by recvfrom/accept, or None for an unnamed
/// (unbound) peer.
fn sun_path_bytes(sa: &libc::sockaddr_un, len: libc::socklen_t) -> Option<Vec<u8>> {
    let len = len as usize;
    if len <= SUN_PATH_OFFSET {
        return None;
    }
    let n = (len - SUN_PATH_OFFSET).min(sa.sun_path.len());
    let mut v: Vec<u8> = sa.sun_path[..n].iter().map(|&c| c as u8).collect();
    if v.first() != Some(&0) {
        // A pathname: the kernel may or may not count the terminating NUL.
        if let Some(end) = v.iter().position(|&b| b == 0) {
            v.truncate(end);
        }
    }
    if v.is_empty() {
        None
    } else {
        Some(v)
    }
}

struct Fd(libc::c_int);
impl Fd {
    fn into_raw(self) -> i32 {
        let fd = self.0;
        mem::forget(self);
        fd
    }
}
impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: we own this fd until into_raw hands it to JS.
        unsafe { libc::close(self.0) };
    }
}

fn unix_socket(kind: libc::c_int, what: &str) -> Result<Fd> {
    // SAFETY: plain socket(2) call.
    let fd = unsafe { libc::socket(libc::AF_UNIX, kind | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(errno_err("socket(AF_UNIX)", what));
    }
    Ok(Fd(fd))
}

/// Removes `path` if it is a socket file (a stale one left by a previous run); anything else at
/// that path is left alone and makes the later bind fail with EADDRINUSE.
fn unlink_stale_socket(path: &str) -> Result<()> {
    let c = CString::new(path).map_err(|_| Error::from_reason(format!("unix socket path {path:?} contains a NUL byte")))?;
    // SAFETY: lstat into a zeroed stat buffer with a valid C string.
    let mut st: libc::stat = unsafe { mem::zeroed() };
    if unsafe { libc::lstat(c.as_ptr(), &mut st) } == 0 && st.st_mode & libc::S_IFMT == libc::S_IFSOCK {
        // SAFETY: unlink with a valid C string.
        if unsafe { libc::unlink(c.as_ptr()) } < 0 && last_errno() != libc::ENOENT {
            return Err(errno_err("unlink stale socket", path));
        }
    }
    Ok(())
}

fn bind_path(fd: &Fd, path: &str) -> Result<()> {
    unlink_stale_socket(path)?;
    let (sa, len) = sockaddr_un(path.as_bytes())?;
    // SAFETY: sa is a valid sockaddr_un of length len.
    if unsafe { libc::bind(fd.0, &sa as *const _ as *const libc::sockaddr, len) } < 0 {
        return Err(errno_err("bind", path));
    }
    Ok(())
}

/// Opens an AF_UNIX SOCK_DGRAM socket. With `bind_path` it is bound there (a stale socket file
/// is unlinked first); without, it is auto-bound to a kernel-chosen abstract name so that a
/// server can reply to it.
#[napi]
pub fn unix_dgram_open(bind_path: Option<String>) -> Result<i32> {
    let fd = unix_socket(libc::SOCK_DGRAM, bind_path.as_deref().unwrap_or("(autobind)"))?;
    match bind_path.as_deref() {
        Some(p) if !p.is_empty() => self::bind_path(&fd, p)?,
        _ => {
            // SAFETY: zeroed sockaddr_un; binding with only the family requests autobind.
            let mut sa: libc::sockaddr_un = unsafe { mem::zeroed() };
            sa.sun_family = libc::AF_UNIX as libc::sa_family_t;
            let len = SUN_PATH_OFFSET as libc::socklen_t;
            if unsafe { libc::bind(fd.0, &sa as *const _ as *const libc::sockaddr, len) } < 0 {
                return Err(errno_err("bind", "(autobind)"));
            }
        }
    }
    Ok(fd.into_raw())
}

/// Opens an AF_UNIX SOCK_SEQPACKET socket listening on `path` (a stale socket file is unlinked
/// first). Connections are accepted by `unix_read_batch`.
#[napi]
pub fn unix_seqpacket_listen(path: String, backlog: i32) -> Result<i32> {
    let fd = unix_socket(libc::SOCK_SEQPACKET, &path)?;
    bind_path(&fd, &path)?;
    // SAFETY: listen on a bound socket we own.
    if unsafe { libc::listen(fd.0, backlog.max(1)) } < 0 {
        return Err(errno_err("listen", &path));
    }
    Ok(fd.into_raw())
}

/// Connects an AF_UNIX SOCK_SEQPACKET socket to `path`. Throws if nobody listens there
/// (ENOENT / ECONNREFUSED) or the backlog is full (EAGAIN); the caller retries.
#[napi]
pub fn unix_seqpacket_connect(path: String) -> Result<i32> {
    let fd = unix_socket(libc::SOCK_SEQPACKET, &path)?;
    let (sa, len) = sockaddr_un(path.as_bytes())?;
    // SAFETY: sa is a valid sockaddr_un of length len.
    if unsafe { libc::connect(fd.0, &sa as *const _ as *const libc::sockaddr, len) } < 0 {
        return Err(errno_err("connect", &path));
    }
    Ok(fd.into_raw())
}

/// A connected pair of AF_UNIX sockets (SOCK_SEQPACKET if `seqpacket`, else SOCK_DGRAM),
/// non-blocking; for the `fd` interface type and its tests.
#[napi]
pub fn unix_socketpair(seqpacket: bool) -> Result<Vec<i32>> {
    let kind = if seqpacket { libc::SOCK_SEQPACKET } else { libc::SOCK_DGRAM };
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: socketpair fills two ints.
    if unsafe { libc::socketpair(libc::AF_UNIX, kind | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr()) } < 0 {
        return Err(errno_err("socketpair", "(AF_UNIX)"));
    }
    Ok(fds.to_vec())
}

/// The socket type of `fd` (SO_TYPE: 1 stream, 2 dgram, 5 seqpacket), or -1 if it is not a
/// socket.
#[napi]
pub fn fd_socket_type(fd: i32) -> Result<i32> {
    let mut v: libc::c_int = 0;
    let mut len = mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt into an int of the given length.
    let rc = unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_TYPE, &mut v as *mut _ as *mut libc::c_void, &mut len) };
    if rc < 0 {
        if last_errno() == libc::ENOTSOCK {
            return Ok(-1);
        }
        return Err(errno_err("getsockopt(SO_TYPE) on fd", &fd.to_string()));
    }
    Ok(v)
}

/// Puts `fd` in non-blocking mode (the `fd` type with message sockets it did not open itself).
#[napi]
pub fn fd_set_nonblocking(fd: i32) -> Result<()> {
    // SAFETY: fcntl on an fd the caller owns.
    let fl = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if fl < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK) } < 0 {
        return Err(errno_err("fcntl(O_NONBLOCK) on fd", &fd.to_string()));
    }
    Ok(())
}

/// Closes an fd opened by this module (sockets, accepted connections, socketpair ends).
#[napi]
pub fn unix_close(fd: i32) -> Result<()> {
    // SAFETY: closing an fd the JS side got from this module.
    if unsafe { libc::close(fd) } < 0 {
        return Err(errno_err("close fd", &fd.to_string()));
    }
    Ok(())
}

/// Sends one message on a connected socket (seqpacket, socketpair). Returns 0, or the errno:
/// EAGAIN/ENOBUFS = queue full, EPIPE/ECONNRESET/ENOTCONN = peer gone. Never raises SIGPIPE.
#[napi]
pub fn unix_send(fd: i32, frame: &[u8]) -> u32 {
    // SAFETY: sending from a valid slice.
    let n = unsafe {
        libc::send(fd, frame.as_ptr() as *const libc::c_void, frame.len(), libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL)
    };
    if n < 0 {
        last_errno() as u32
    } else {
        0
    }
}

/// Sends one datagram to the unix socket address `addr` (raw `sun_path` bytes: a path, or an
/// abstract name starting with NUL as found in `UnixBatch::from`). Returns 0 or the errno
/// (EAGAIN = queue full, ENOENT/ECONNREFUSED = nobody bound there). Throws only on a malformed
/// address.
#[napi]
pub fn unix_send_to(fd: i32, frame: &[u8], addr: &[u8]) -> Result<u32> {
    let (sa, len) = sockaddr_un(addr)?;
    // SAFETY: sending from a valid slice to a valid sockaddr_un.
    let n = unsafe {
        libc::sendto(
            fd,
            frame.as_ptr() as *const libc::c_void,
            frame.len(),
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            &sa as *const _ as *const libc::sockaddr,
            len,
        )
    };
    Ok(if n < 0 { last_errno() as u32 } else { 0 })
}

/// What one `unix_read_batch` call found.
#[napi(object)]
pub struct UnixBatch {
    /// Messages back to back, each prefixed by its length as u16 big-endian (like tapReadBatch).
    pub data: Buffer,
    /// Datagram sockets: the sender of the last message in `data`, as raw `sun_path` bytes
    /// (for `unixSendTo`); absent if there was none or it was unnamed.
    pub from: Option<Buffer>,
    /// A newly accepted connection on `listenFd` (the newest one if several were pending; older
    /// ones are closed), or -1.
    pub accepted: i32,
    /// The connection on `fd` ended (EOF, reset or hang-up); the caller closes it.
    pub hup: bool,
    /// Messages discarded because they were longer than 65,535 bytes (the u16 length of a
    /// record in `data`); the caller counts them as drops.
    pub dropped: u32,
}

pub struct UnixRead {
    fd: i32,
    listen_fd: i32,
    timeout_ms: i32,
    max_bytes: usize,
}

pub struct UnixReadOut {
    data: Vec<u8>,
    from: Option<Vec<u8>>,
    accepted: i32,
    hup: bool,
    dropped: u32,
}

impl UnixRead {
    fn accept_newest(&self, out: &mut UnixReadOut) -> Result<()> {
        loop {
            // SAFETY: accept4 without peer address.
            let c = unsafe {
                libc::accept4(self.listen_fd, std::ptr::null_mut(), std::ptr::null_mut(), libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)
            };
            if c < 0 {
                let e = last_errno();
                if e == libc::EAGAIN || e == libc::EWOULDBLOCK || e == libc::EINTR || e == libc::ECONNABORTED {
                    return Ok(());
                }
                if out.accepted >= 0 {
                    return Ok(());
                }
                return Err(errno_err("accept on fd", &self.listen_fd.to_string()));
            }
            if out.accepted >= 0 {
                // SAFETY: an fd accepted just above and not handed out.
                unsafe { libc::close(out.accepted) };
            }
            out.accepted = c;
        }
    }

    fn read_messages(&self, out: &mut UnixReadOut) -> Result<()> {
        let mut ty: libc::c_int = 0;
        let mut tylen = mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: getsockopt into an int.
        unsafe { libc::getsockopt(self.fd, libc::SOL_SOCKET, libc::SO_TYPE, &mut ty as *mut _ as *mut libc::c_void, &mut tylen) };
        let connected = ty != libc::SOCK_DGRAM;
        let mut buf = vec![0u8; 65536];
        while out.data.len() + 2 + 1514 <= self.max_bytes {
            // SAFETY: zeroed sockaddr_un for recvfrom to fill.
            let mut sa: libc::sockaddr_un = unsafe { mem::zeroed() };
            let mut salen = mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
            // SAFETY: receiving into a heap buffer of the given size.
            let n = unsafe {
                libc::recvfrom(
                    self.fd,
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                    libc::MSG_DONTWAIT | libc::MSG_TRUNC,
                    &mut sa as *mut _ as *mut libc::sockaddr,
                    &mut salen,
                )
            };
            if n < 0 {
                let e = last_errno();
                if e == libc::EAGAIN || e == libc::EWOULDBLOCK || e == libc::EINTR {
                    break;
                }
                if connected && (e == libc::ECONNRESET || e == libc::ENOTCONN || e == libc::EPIPE) {
                    out.hup = true;
                    break;
                }
                if out.data.is_empty() {
                    return Err(errno_err("recv on fd", &self.fd.to_string()));
                }
                break;
            }
            let n = n as usize;
            if n == 0 {
                if connected {
                    // Seqpacket: a zero-length read is the peer's orderly shutdown.
                    out.hup = true;
                    break;
                }
                continue; // an empty datagram carries no frame
            }
            if n > u16::MAX as usize {
                // Too long for a record (MSG_TRUNC makes n the real size even when the buffer
                // held less): not a frame we can carry, and counted rather than cut.
                out.dropped = out.dropped.saturating_add(1);
                continue;
            }
            out.data.extend_from_slice(&(n as u16).to_be_bytes());
            out.data.extend_from_slice(&buf[..n]);
            if !connected {
                out.from = sun_path_bytes(&sa, salen);
            }
        }
        Ok(())
    }
}

impl Task for UnixRead {
    type Output = UnixReadOut;
    type JsValue = UnixBatch;

    /// Waits up to timeout_ms for `fd` to be readable (or `listen_fd` to have a connection),
    /// then drains what is queued, up to about max_bytes.
    fn compute(&mut self) -> Result<UnixReadOut> {
        let mut out = UnixReadOut { data: Vec::new(), from: None, accepted: -1, hup: false, dropped: 0 };
        // poll() ignores entries with a negative fd, so either may be -1.
        let mut pfds = [
            libc::pollfd { fd: self.fd, events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: self.listen_fd, events: libc::POLLIN, revents: 0 },
        ];
        // SAFETY: two valid pollfds.
        let rc = unsafe { libc::poll(pfds.as_mut_ptr(), 2, self.timeout_ms) };
        if rc < 0 {
            if last_errno() == libc::EINTR {
                return Ok(out);
            }
            return Err(errno_err("poll fd", &self.fd.to_string()));
        }
        if rc == 0 {
            return Ok(out);
        }
        if pfds[1].revents & libc::POLLNVAL != 0 {
            return Err(Error::from_reason(format!("listening fd {} is not open", self.listen_fd)));
        }
        if pfds[1].revents & libc::POLLIN != 0 {
            self.accept_newest(&mut out)?;
        }
        let r = pfds[0].revents;
        if r & libc::POLLNVAL != 0 {
            return Err(Error::from_reason(format!("fd {} is not open", self.fd)));
        }
        if r & libc::POLLIN != 0 {
            out.data.reserve(self.max_bytes.min(1 << 20));
            self.read_messages(&mut out)?;
        } else if r & (libc::POLLHUP | libc::POLLERR) != 0 {
            out.hup = true;
        }
        Ok(out)
    }

    fn resolve(&mut self, _env: Env, o: UnixReadOut) -> Result<UnixBatch> {
        Ok(UnixBatch { data: o.data.into(), from: o.from.map(Into::into), accepted: o.accepted, hup: o.hup, dropped: o.dropped })
    }
}

/// Reads a batch of messages from `fd` and/or accepts on `listenFd` (either may be -1); see
/// `UnixBatch`. Resolves with empty `data` on timeout.
#[napi(ts_return_type = "Promise<UnixBatch>")]
pub fn unix_read_batch(fd: i32, listen_fd: i32, timeout_ms: i32, max_bytes: u32) -> AsyncTask<UnixRead> {
    AsyncTask::new(UnixRead { fd, listen_fd, timeout_ms, max_bytes: max_bytes.max(2 + 1514) as usize })
}
