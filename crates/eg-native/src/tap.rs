//! TAP device: open, configure (MTU, MAC, IPv4, up/down) and batched non-blocking I/O.
//!
//! Reads happen on libuv's thread pool (napi AsyncTask) with a poll() timeout, so a closing
//! device never leaves a thread stuck in read(): the task returns an empty batch and the
//! JS loop notices the device is gone.

use std::ffi::CString;
use std::io;

use napi::bindgen_prelude::*;
use napi::{Env, Task};
use napi_derive::napi;

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const IFF_TAP: libc::c_short = 0x0002;
const IFF_NO_PI: libc::c_short = 0x1000;
const IFNAMSIZ: usize = 16;

// Offloads, from Linux include/uapi/linux/if_tun.h: _IOW('T', 208, unsigned int) and
// _IOW('T', 216, int); the IFF_VNET_HDR open flag; the TUN_F_* bits of TUNSETOFFLOAD.
const TUNSETOFFLOAD: libc::c_ulong = 0x4004_54d0;
const TUNSETVNETHDRSZ: libc::c_ulong = 0x4004_54d8;
const IFF_VNET_HDR: libc::c_short = 0x4000;
const TUN_F_CSUM: libc::c_uint = 0x01;
const TUN_F_TSO4: libc::c_uint = 0x02;
const TUN_F_TSO6: libc::c_uint = 0x04;
const TUN_F_USO4: libc::c_uint = 0x20;
const TUN_F_USO6: libc::c_uint = 0x40;
/// `sizeof(struct virtio_net_hdr)`: the header in front of every frame with IFF_VNET_HDR
/// (layout in crates/eg-core/src/offload/vnet.rs).
pub const VNET_HDR_LEN: i32 = 10;

/// `struct ifreq` is 40 bytes on Linux: a 16-byte name and a 24-byte union.
#[repr(C)]
struct IfReq {
    name: [u8; IFNAMSIZ],
    data: [u8; 24],
}

impl IfReq {
    fn new(name: &str) -> Result<Self> {
        let bytes = name.as_bytes();
        if bytes.is_empty() || bytes.len() >= IFNAMSIZ || bytes.contains(&0) {
            return Err(Error::from_reason(format!(
                "interface name {name:?} must be 1 to {} bytes without NUL",
                IFNAMSIZ - 1
            )));
        }
        let mut r = IfReq { name: [0; IFNAMSIZ], data: [0; 24] };
        r.name[..bytes.len()].copy_from_slice(bytes);
        Ok(r)
    }
    fn name(&self) -> String {
        let end = self.name.iter().position(|&b| b == 0).unwrap_or(IFNAMSIZ);
        String::from_utf8_lossy(&self.name[..end]).into_owned()
    }
}

fn os_err(what: &str, name: &str) -> Error {
    let e = io::Error::last_os_error();
    // Creating or configuring a TAP device is privileged: say what is missing, not only EPERM.
    let hint = if e.raw_os_error() == Some(libc::EPERM) || e.raw_os_error() == Some(libc::EACCES) {
        " (TAP devices need root or the CAP_NET_ADMIN capability)"
    } else {
        ""
    };
    Error::from_reason(format!("{what} on {name}: {e}{hint}"))
}

/// A throw-away AF_INET datagram socket: the handle the interface ioctls are issued on.
struct CtlSock(libc::c_int);
impl CtlSock {
    fn open() -> Result<Self> {
        // SAFETY: plain socket(2) call; the fd is owned by CtlSock and closed on drop.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(os_err("socket(AF_INET)", "-"));
        }
        Ok(CtlSock(fd))
    }
    fn ioctl(&self, req: libc::c_ulong, ifr: &mut IfReq, what: &str) -> Result<()> {
        // SAFETY: ifr is a valid, properly sized struct ifreq for all requests used here.
        let rc = unsafe { libc::ioctl(self.0, req as _, ifr as *mut IfReq) };
        if rc < 0 {
            return Err(os_err(what, &ifr.name()));
        }
        Ok(())
    }
}
impl Drop for CtlSock {
    fn drop(&mut self) {
        // SAFETY: we own this fd.
        unsafe { libc::close(self.0) };
    }
}

#[napi(object)]
pub struct TapHandle {
    pub fd: i32,
    /// The name the kernel gave the device (equal to the request unless it had a `%d`).
    pub name: String,
    /// Every frame read from / written to `fd` starts with a 10-byte `virtio_net_hdr`
    /// (`IFF_VNET_HDR`); false unless `offloads` was asked for and the kernel accepted it.
    pub vnet_hdr: bool,
    /// The `TUNSETOFFLOAD` bits in force, by name: `csum`, `tso4`, `tso6`, `uso4`, `uso6`.
    pub offloads: Vec<String>,
    /// One line for the log when an asked-for offload was refused (which one, and the errno);
    /// absent when everything asked for is in force. The caller logs it once.
    pub offload_note: Option<String>,
}

/// Options of `tapOpen`.
#[napi(object)]
pub struct TapOpenOptions {
    /// Open with `IFF_VNET_HDR` and enable checksum offload, TSO4/TSO6 and, where the kernel
    /// has them (Linux 6.2+), USO4/USO6: the kernel then hands out super-frames of up to
    /// 64 KiB that the reader must segment (crates/eg-core/src/offload). Default false.
    pub offloads: Option<bool>,
}

fn open_tun(name: &str, flags: libc::c_short) -> Result<(i32, IfReq)> {
    let path = CString::new("/dev/net/tun").unwrap();
    // SAFETY: open(2) with a valid C string.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(os_err("open(/dev/net/tun)", name));
    }
    let mut ifr = IfReq::new(name)?;
    ifr.data[..2].copy_from_slice(&flags.to_ne_bytes());
    // SAFETY: TUNSETIFF takes a struct ifreq.
    let rc = unsafe { libc::ioctl(fd, TUNSETIFF as _, &mut ifr as *mut IfReq) };
    if rc < 0 {
        let e = os_err("TUNSETIFF", name);
        // SAFETY: fd is ours.
        unsafe { libc::close(fd) };
        return Err(e);
    }
    Ok((fd, ifr))
}

/// ioctl with an int argument passed by pointer (TUNSETVNETHDRSZ) or by value (TUNSETOFFLOAD).
fn ioctl_int(fd: i32, req: libc::c_ulong, v: libc::c_uint, by_pointer: bool) -> std::result::Result<(), io::Error> {
    let iv = v as libc::c_int;
    // SAFETY: both requests take an int; TUNSETVNETHDRSZ reads it through the pointer,
    // TUNSETOFFLOAD takes the value itself as the argument.
    let rc = unsafe {
        if by_pointer {
            libc::ioctl(fd, req as _, &iv as *const libc::c_int)
        } else {
            libc::ioctl(fd, req as _, v as libc::c_ulong)
        }
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn offload_names(bits: libc::c_uint) -> Vec<String> {
    [(TUN_F_CSUM, "csum"), (TUN_F_TSO4, "tso4"), (TUN_F_TSO6, "tso6"), (TUN_F_USO4, "uso4"), (TUN_F_USO6, "uso6")]
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| n.to_string())
        .collect()
}

/// Opens (creating if needed) a TAP device without packet-info header, non-blocking.
/// With `{ offloads: true }` also `IFF_VNET_HDR`, `TUNSETVNETHDRSZ` 10 and `TUNSETOFFLOAD`
/// (CSUM|TSO4|TSO6|USO4|USO6, then without USO, then CSUM alone, then none), falling back as
/// far as the kernel requires; `offloadNote` then says what was refused. Throws only when the
/// device cannot be opened at all.
#[napi]
pub fn tap_open(name: String, options: Option<TapOpenOptions>) -> Result<TapHandle> {
    let want = options.and_then(|o| o.offloads).unwrap_or(false);
    if !want {
        let (fd, ifr) = open_tun(&name, IFF_TAP | IFF_NO_PI)?;
        return Ok(TapHandle { fd, name: ifr.name(), vnet_hdr: false, offloads: vec![], offload_note: None });
    }
    if cfg!(target_endian = "big") {
        // The vnet header's fields are host-endian for TUN, the core reads them little-endian.
        let (fd, ifr) = open_tun(&name, IFF_TAP | IFF_NO_PI)?;
        let note = format!("tap {}: offloads off: vnet headers are only used on little-endian hosts", ifr.name());
        return Ok(TapHandle { fd, name: ifr.name(), vnet_hdr: false, offloads: vec![], offload_note: Some(note) });
    }
    let (fd, ifr) = match open_tun(&name, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR) {
        Ok(x) => x,
        Err(e) => {
            let (fd, ifr) = open_tun(&name, IFF_TAP | IFF_NO_PI)?;
            let note = format!("tap {}: offloads off: IFF_VNET_HDR refused ({e})", ifr.name());
            return Ok(TapHandle { fd, name: ifr.name(), vnet_hdr: false, offloads: vec![], offload_note: Some(note) });
        }
    };
    let dev = ifr.name();
    if let Err(e) = ioctl_int(fd, TUNSETVNETHDRSZ, VNET_HDR_LEN as libc::c_uint, true) {
        // SAFETY: fd is ours; reopen without vnet headers rather than guess the header size.
        unsafe { libc::close(fd) };
        let (fd, ifr) = open_tun(&name, IFF_TAP | IFF_NO_PI)?;
        let note = format!("tap {dev}: offloads off: TUNSETVNETHDRSZ {VNET_HDR_LEN} refused ({e})");
        return Ok(TapHandle { fd, name: ifr.name(), vnet_hdr: false, offloads: vec![], offload_note: Some(note) });
    }
    let all = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6;
    let mut first_err: Option<io::Error> = None;
    let mut got = 0;
    for bits in [all, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6, TUN_F_CSUM, 0] {
        match ioctl_int(fd, TUNSETOFFLOAD, bits, false) {
            Ok(()) => {
                got = bits;
                break;
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    let note = first_err.map(|e| {
        let refused = offload_names(all & !got).join(", ");
        let kept = offload_names(got);
        format!(
            "tap {dev}: TUNSETOFFLOAD refused {refused} ({e}); using {}",
            if kept.is_empty() { "no offloads (vnet headers only)".to_string() } else { kept.join(", ") }
        )
    });
    Ok(TapHandle { fd, name: dev, vnet_hdr: true, offloads: offload_names(got), offload_note: note })
}

#[napi]
pub fn tap_close(fd: i32) -> Result<()> {
    // SAFETY: closing an fd the JS side got from tap_open.
    if unsafe { libc::close(fd) } < 0 {
        return Err(os_err("close", &fd.to_string()));
    }
    Ok(())
}

#[napi]
pub fn if_set_mtu(name: String, mtu: u32) -> Result<()> {
    let s = CtlSock::open()?;
    let mut ifr = IfReq::new(&name)?;
    ifr.data[..4].copy_from_slice(&(mtu as libc::c_int).to_ne_bytes());
    s.ioctl(libc::SIOCSIFMTU, &mut ifr, "SIOCSIFMTU")
}

#[napi]
pub fn if_get_mtu(name: String) -> Result<u32> {
    let s = CtlSock::open()?;
    let mut ifr = IfReq::new(&name)?;
    s.ioctl(libc::SIOCGIFMTU, &mut ifr, "SIOCGIFMTU")?;
    Ok(libc::c_int::from_ne_bytes(ifr.data[..4].try_into().unwrap()) as u32)
}

/// Sets the Ethernet address; `mac` must be 6 bytes.
#[napi]
pub fn if_set_mac(name: String, mac: Buffer) -> Result<()> {
    if mac.len() != 6 {
        return Err(Error::from_reason(format!("MAC for {name} must be 6 bytes, got {}", mac.len())));
    }
    let s = CtlSock::open()?;
    let mut ifr = IfReq::new(&name)?;
    // struct sockaddr { sa_family_t family; char data[14]; }
    ifr.data[..2].copy_from_slice(&(libc::ARPHRD_ETHER as libc::sa_family_t).to_ne_bytes());
    ifr.data[2..8].copy_from_slice(&mac);
    s.ioctl(libc::SIOCSIFHWADDR, &mut ifr, "SIOCSIFHWADDR")
}

fn get_flags(s: &CtlSock, name: &str) -> Result<libc::c_short> {
    let mut ifr = IfReq::new(name)?;
    s.ioctl(libc::SIOCGIFFLAGS, &mut ifr, "SIOCGIFFLAGS")?;
    Ok(libc::c_short::from_ne_bytes(ifr.data[..2].try_into().unwrap()))
}

#[napi]
pub fn if_set_up(name: String, up: bool) -> Result<()> {
    let s = CtlSock::open()?;
    let mut flags = get_flags(&s, &name)?;
    if up {
        flags |= libc::IFF_UP as libc::c_short;
    } else {
        flags &= !(libc::IFF_UP as libc::c_short);
    }
    let mut ifr = IfReq::new(&name)?;
    ifr.data[..2].copy_from_slice(&flags.to_ne_bytes());
    s.ioctl(libc::SIOCSIFFLAGS, &mut ifr, "SIOCSIFFLAGS")
}

/// Whether the interface is administratively up and has a carrier-ready link (IFF_RUNNING).
#[napi(object)]
pub struct IfState {
    pub up: bool,
    pub running: bool,
    pub mtu: u32,
}

#[napi]
pub fn if_state(name: String) -> Result<IfState> {
    let s = CtlSock::open()?;
    let flags = get_flags(&s, &name)?;
    let mtu = if_get_mtu(name)?;
    Ok(IfState {
        up: flags & libc::IFF_UP as libc::c_short != 0,
        running: flags & libc::IFF_RUNNING as libc::c_short != 0,
        mtu,
    })
}

/// Assigns an IPv4 address and prefix length (replacing the interface's primary address).
#[napi]
pub fn if_set_ipv4(name: String, addr: String, prefix_len: u32) -> Result<()> {
    let ip: std::net::Ipv4Addr = addr
        .parse()
        .map_err(|_| Error::from_reason(format!("IPv4 address {addr:?} for {name} is not valid")))?;
    if prefix_len > 32 {
        return Err(Error::from_reason(format!("IPv4 prefix length {prefix_len} for {name} exceeds 32")));
    }
    let s = CtlSock::open()?;
    let sockaddr = |a: std::net::Ipv4Addr| {
        let mut d = [0u8; 24];
        d[..2].copy_from_slice(&(libc::AF_INET as libc::sa_family_t).to_ne_bytes());
        d[4..8].copy_from_slice(&a.octets());
        d
    };
    let mut ifr = IfReq::new(&name)?;
    ifr.data = sockaddr(ip);
    s.ioctl(libc::SIOCSIFADDR, &mut ifr, "SIOCSIFADDR")?;
    let mask = if prefix_len == 0 { 0 } else { u32::MAX << (32 - prefix_len) };
    let mut ifr = IfReq::new(&name)?;
    ifr.data = sockaddr(std::net::Ipv4Addr::from(mask));
    s.ioctl(libc::SIOCSIFNETMASK, &mut ifr, "SIOCSIFNETMASK")
}

/// Writes one frame. Returns false when the kernel queue is full (EAGAIN), so the caller can
/// count and log the drop instead of blocking the event loop.
#[napi]
pub fn tap_write(fd: i32, frame: &[u8]) -> Result<bool> {
    // SAFETY: writing from a valid slice to an fd.
    let n = unsafe { libc::write(fd, frame.as_ptr() as *const libc::c_void, frame.len()) };
    if n < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::WouldBlock {
            return Ok(false);
        }
        return Err(Error::from_reason(format!("write to tap fd {fd}: {e}")));
    }
    Ok(true)
}

pub struct ReadBatch {
    fd: i32,
    timeout_ms: i32,
    max_bytes: usize,
}

impl Task for ReadBatch {
    type Output = Vec<u8>;
    type JsValue = Buffer;

    /// Waits up to timeout_ms for the first frame, then drains whatever else is queued.
    /// Output: frames back to back, each prefixed by its length as u16 big-endian.
    fn compute(&mut self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.max_bytes.min(1 << 20));
        let mut pfd = libc::pollfd { fd: self.fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut pfd, 1, self.timeout_ms) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                return Ok(out);
            }
            return Err(Error::from_reason(format!("poll tap fd {}: {e}", self.fd)));
        }
        if rc == 0 {
            return Ok(out);
        }
        if pfd.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 && pfd.revents & libc::POLLIN == 0 {
            return Err(Error::from_reason(format!("tap fd {} closed or failed", self.fd)));
        }
        let mut buf = [0u8; 65536];
        while out.len() + 2 + 1514 <= self.max_bytes {
            // SAFETY: reading into a stack buffer of the given size.
            let n = unsafe { libc::read(self.fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::Interrupted {
                    break;
                }
                if out.is_empty() {
                    return Err(Error::from_reason(format!("read tap fd {}: {e}", self.fd)));
                }
                break;
            }
            let n = n as usize;
            if n == 0 || n > u16::MAX as usize {
                break;
            }
            out.extend_from_slice(&(n as u16).to_be_bytes());
            out.extend_from_slice(&buf[..n]);
        }
        Ok(out)
    }

    fn resolve(&mut self, _env: Env, output: Vec<u8>) -> Result<Buffer> {
        Ok(output.into())
    }
}

/// Reads a batch of frames (see ReadBatch::compute for the layout); resolves to an empty
/// buffer on timeout.
#[napi(ts_return_type = "Promise<Buffer>")]
pub fn tap_read_batch(fd: i32, timeout_ms: i32, max_bytes: u32) -> AsyncTask<ReadBatch> {
    AsyncTask::new(ReadBatch { fd, timeout_ms, max_bytes: max_bytes.max(2 + 1514) as usize })
}
