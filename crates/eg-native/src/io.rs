//! Batched data-path I/O with persistent threads: a TAP device or a UDP socket owned by a
//! `NativeIo` object.
//!
//! - A reader thread per object loops on poll() + non-blocking reads (read(2) for TAP,
//!   recvmmsg(2) for UDP), fills one buffer with everything that is queued, and hands it to JS
//!   through a threadsafe function: one JS call per batch, no per-batch pool task. At most
//!   `MAX_INFLIGHT` batches wait for JS; beyond that the thread stops reading and the kernel
//!   queue (and its drop counters) takes the overload, as it did before.
//! - TAP writes: `writeBatch` queues a batch of frames for a writer thread, so the kernel's
//!   receive path (which runs inside write(2) on a TAP) overlaps with the main thread.
//! - UDP sends: `sendBatch` sends a batch of datagrams with sendmmsg(2) from one buffer.
//!
//! Batch layouts (all integers big-endian):
//! - TAP, both directions: `[len u16][frame]` repeated.
//! - UDP, both directions: `[len u16][port u16][addr 16 bytes][payload]` repeated; IPv4
//!   addresses take the first 4 address bytes.
//!
//! Every length in these layouts is a u16, so a frame or datagram longer than 65,535 bytes is
//! never put in a batch: the reader discards it and counts it. A TAP read copies what fits the
//! buffer and silently loses the rest of the frame, so reads get one byte more than a record can
//! describe: a read that long was, or may have been, cut. UDP datagrams are at most 65,527 bytes
//! (IPv6) and always fit.
//!
//! Offloads (options, off by default; docs/interfaces.md §Offloads):
//! - TAP opened with `tapOpen(name, { offloads: true })` and handed over with
//!   `NativeIo.tap(fd, cb, true)`: every record, read or written, is `[len u16][virtio_net_hdr
//!   10 bytes][frame]` with `len` counting both; frames read may be TSO/USO super-frames of up
//!   to 64 KiB for the core to segment (crates/eg-core/src/offload), and frames written may be
//!   coalesced super-frames.
//! - UDP with `{ gso: true }`: `sendBatch` sends each run of consecutive records to the same
//!   address with equal lengths (the last of a run may be shorter) as one message with
//!   `UDP_SEGMENT` (up to 64 datagrams, at most 64 KiB); the kernel cuts it. If the kernel
//!   refuses GSO with EIO (no checksum offload on the route's device) GSO is switched off and
//!   the datagrams go out one by one; `takeOffloadNote` has the one line to log.
//! - UDP with `{ gro: true }`: `UDP_GRO` is set on the socket, and a coalesced datagram received
//!   with its `UDP_GRO` control message (the segment size) is split back into the datagrams it
//!   was made of, so the records JS sees are the same as without GRO.
//!
//! Receive timestamps (UDP with `{ timestamps: true }`): `SO_TIMESTAMPNS` is set on the
//! socket, so the kernel stamps each datagram with CLOCK_REALTIME when it arrives (before any
//! socket queueing or JS event-loop delay; docs/routing.md §Wire timestamps). A batch then comes
//! as kind 3: the records as above, then one `f64` LE per record (milliseconds since the Unix
//! epoch, NaN when the datagram had no timestamp), then the record count as `u32` LE. A kernel
//! that refuses the option gives kind-0 batches (`rxTimestamps` is false).
//!
//! Idle links (crate::mainpoll): while a link is idle the fd is watched by the event loop itself
//! and read on the main thread, so a lone packet pays no thread hand-off; a read that finds
//! several packets hands reading to the reader thread, and the reader thread hands it back after
//! a wait followed by a small batch. `EG_MAIN_POLL=0`: reader threads only.
//!
//! JS callback: `(kind, data)`: kind 0 = a batch, 1 = an error (data = UTF-8 message), 2 = reads
//! discarded since the last report (data = `[count u32 BE][reason UTF-8]`), 3 = a batch with
//! receive timestamps (above).
//! Batch memory: by default a batch is handed over (JS owns it; the GC frees it). With
//! `borrowBatches(true)` batches are lent: a view of one of a few reused native buffers, valid
//! during the callback and detached afterwards, so a flood does not leave hundreds of batches for
//! the GC to find (the data path lends; callers that keep batches must not ask for it). Small
//! batches read on the main thread come as copies instead (crate::mainpoll::COPY_MAX_BYTES).
//! close() wakes the threads through an eventfd, joins them (they never block for long) and
//! then closes the fd, so the fd number is never reused under a running thread; batches still
//! queued for JS after close() are delivered and must be ignored by the caller.

use std::io;
use std::mem;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU64, AtomicU8, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use napi::bindgen_prelude::*;
use napi::sys;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::mainpoll::{self, MainReader, IDLE_WAIT};

/// Batches handed to JS and not yet taken by the event loop.
const MAX_INFLIGHT: usize = 2;
/// A reader stops filling a batch beyond this many bytes...
pub(crate) const BATCH_BYTES: usize = 256 << 10;
/// ...or this many packets.
pub(crate) const BATCH_PACKETS: usize = 256;
/// TAP write batches queued for the writer thread before writeBatch refuses more.
const WRITE_QUEUE: usize = 64;
/// recvmmsg / sendmmsg vector length.
const MMSG: usize = 32;
/// Receive slot size: more than the largest UDP payload (65,527) and than a u16 length, so a
/// read of SLOT bytes or more is always one that cannot be carried.
const SLOT: usize = 65536;
/// Largest frame or datagram a batch record describes (its length is a u16).
const MAX_RECORD: usize = u16::MAX as usize;
/// Callback kind for counted read drops.
pub(crate) const KIND_DROPS: u32 = 2;
/// Who reads the fd ([`Shared::mode`]): the main thread (idle link) or the reader thread.
pub(crate) const MODE_MAIN: u8 = 0;
pub(crate) const MODE_THREAD: u8 = 1;
/// Callback kind for a UDP batch followed by its receive timestamps (module docs).
pub(crate) const KIND_STAMPED: u32 = 3;
/// include/uapi/asm-generic/socket.h: SO_TIMESTAMPNS with a 64-bit `__kernel_timespec` on every
/// architecture (Linux 5.1+), and the original one (a `struct timespec`, 64-bit on 64-bit
/// arches); the control message type equals the option.
const SO_TIMESTAMPNS_NEW: libc::c_int = 64;
const SO_TIMESTAMPNS_OLD: libc::c_int = 35;
pub const UDP_HDR: usize = 20;
/// Linux include/uapi/linux/udp.h: the socket option / control message types.
const UDP_SEGMENT: libc::c_int = 103;
const UDP_GRO: libc::c_int = 104;
/// Datagrams per UDP_SEGMENT send: UDP_MAX_SEGMENTS was 64 before Linux 6.9 (128 since).
const GSO_MAX_SEGS: usize = 64;
/// Control buffer per message, in u64 words (8-byte aligned as cmsghdr needs): room for a
/// UDP_GRO message (16-byte cmsghdr + int, 24 aligned) and an SCM_TIMESTAMPNS one (16 + 16).
const CTL_WORDS: usize = 8;

struct Msg {
    kind: u32,
    data: Vec<u8>,
    /// A small batch read after an idle wait: the main thread takes reading back (mainpoll).
    idle: bool,
}

type Tsfn = ThreadsafeFunction<Msg, (), FnArgs<(u32, Buffer)>, Status, false>;

pub(crate) struct Shared {
    pub(crate) fd: i32,
    wake: i32,
    stop: AtomicBool,
    inflight: Mutex<usize>,
    cv: Condvar,
    write_drops: AtomicU64,
    write_errno: AtomicI32,
    /// Frames / datagrams the reader discarded since the last report to JS.
    pub(crate) read_drops: AtomicU64,
    /// UDP: received messages that carried a UDP_GRO control message (coalesced datagrams).
    gro_reads: AtomicU64,
    /// [`MODE_MAIN`] or [`MODE_THREAD`]: who reads the fd now.
    pub(crate) mode: AtomicU8,
    /// Held by the reader thread from its read until what it read is queued for JS (inflight), and
    /// by whoever switches reading to the main thread: a switch never lands between the two, so
    /// the main thread cannot read newer packets while older ones are still on the reader thread.
    pub(crate) read_turn: Mutex<()>,
    /// The reader thread parks here while the main thread reads.
    park: Mutex<()>,
    park_cv: Condvar,
    /// The main-thread reader (null: none, or closed); only dereferenced on the main thread.
    main: AtomicPtr<MainReader>,
    /// Batches read on the main thread / handed over by the reader thread.
    pub(crate) main_batches: AtomicU64,
    thread_batches: AtomicU64,
    /// `borrowBatches(true)`: batches are lent to JS (a view of native memory, valid during the
    /// call) instead of handed over; see [`lend_buffer`].
    pub(crate) borrow: AtomicBool,
    /// Batch buffers for the reader thread to fill again (at most [`POOL`]).
    pool: Mutex<Vec<Vec<u8>>>,
    /// The batch the reader thread lent to JS last and the `napi_ref` of its Buffer (as usize):
    /// revoked and recycled when the next one is lent (JS calls run one after another).
    lent: Mutex<Option<(Vec<u8>, usize)>>,
    /// Batches lent to JS so far (thread and main-thread reads).
    pub(crate) lent_batches: AtomicU64,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // A Buffer still viewing the last lent batch may outlive us (no env here to detach it):
        // its memory is left to it rather than freed under it.
        if let Some((v, _)) = self.lent.lock().unwrap().take() {
            std::mem::forget(v);
        }
    }
}

/// Batch buffers kept for reuse per object: the reader's, up to MAX_INFLIGHT queued, one lent.
const POOL: usize = MAX_INFLIGHT + 2;

/// A JS Buffer viewing `data` (no copy, no finalizer: the memory stays ours), or None when the
/// runtime refuses external buffers. The caller must revoke it ([`revoke_buffer`]) before the
/// memory is reused or freed. Main thread only.
pub(crate) unsafe fn lend_buffer(env: sys::napi_env, data: &[u8]) -> Option<sys::napi_value> {
    if data.is_empty() {
        return None;
    }
    let mut v: sys::napi_value = std::ptr::null_mut();
    let st = sys::napi_create_external_buffer(env, data.len(), data.as_ptr() as *mut std::ffi::c_void, None, std::ptr::null_mut(), &mut v);
    (st == sys::Status::napi_ok).then_some(v)
}

/// Detaches the ArrayBuffer behind a lent Buffer, so JS that kept it sees an empty buffer rather
/// than memory that is being refilled. False when the runtime refused (the memory must then
/// never be reused). Main thread only.
pub(crate) unsafe fn revoke_buffer(env: sys::napi_env, v: sys::napi_value) -> bool {
    let mut ty = 0;
    let mut len = 0usize;
    let mut data: *mut std::ffi::c_void = std::ptr::null_mut();
    let mut ab: sys::napi_value = std::ptr::null_mut();
    let mut off = 0usize;
    sys::napi_get_typedarray_info(env, v, &mut ty, &mut len, &mut data, &mut ab, &mut off) == sys::Status::napi_ok
        && !ab.is_null()
        && sys::napi_detach_arraybuffer(env, ab) == sys::Status::napi_ok
}

impl Shared {
    /// An empty batch buffer: a recycled one, or a new one.
    fn take_buf(&self) -> Vec<u8> {
        self.pool.lock().unwrap().pop().unwrap_or_else(|| Vec::with_capacity(64 << 10))
    }

    /// Revokes the batch lent last (thread path) and recycles its buffer. Main thread only.
    pub(crate) unsafe fn revoke_lent(&self, env: sys::napi_env) {
        let Some((mut v, r)) = self.lent.lock().unwrap().take() else { return };
        let r = r as sys::napi_ref;
        let mut val: sys::napi_value = std::ptr::null_mut();
        let ok = sys::napi_get_reference_value(env, r, &mut val) == sys::Status::napi_ok && !val.is_null() && revoke_buffer(env, val);
        sys::napi_delete_reference(env, r);
        if !ok {
            // A view we could not revoke keeps its memory; stop lending.
            self.borrow.store(false, Ordering::Relaxed);
            std::mem::forget(v);
            return;
        }
        v.clear();
        let mut p = self.pool.lock().unwrap();
        if p.len() < POOL {
            p.push(v);
        }
    }
}

impl Shared {
    pub(crate) fn stopped(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    fn main_reads(&self) -> bool {
        self.mode.load(Ordering::Acquire) == MODE_MAIN
    }

    /// Reader thread: waits up to `ms` while the main thread reads (woken by [`Shared::unpark`]).
    fn park(&self, ms: u64) {
        let g = self.park.lock().unwrap();
        if self.main_reads() && !self.stopped() {
            let _ = self.park_cv.wait_timeout(g, Duration::from_millis(ms)).unwrap();
        }
    }

    /// Wakes a parked reader thread (the mode changed, or stop).
    pub(crate) fn unpark(&self) {
        let _g = self.park.lock().unwrap();
        self.park_cv.notify_all();
    }

    /// Waits for fd readability or a stop request. Ok(true) = readable.
    fn wait_readable(&self, timeout_ms: i32) -> io::Result<bool> {
        let mut p = [
            libc::pollfd { fd: self.fd, events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: self.wake, events: libc::POLLIN, revents: 0 },
        ];
        // SAFETY: two valid pollfds.
        let rc = unsafe { libc::poll(p.as_mut_ptr(), 2, timeout_ms) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                return Ok(false);
            }
            return Err(e);
        }
        if self.stopped() || rc == 0 {
            return Ok(false);
        }
        let r = p[0].revents;
        if r & libc::POLLIN != 0 {
            return Ok(true);
        }
        if r & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
            return Err(io::Error::other(format!("fd {} closed or failed (poll revents {r:#x})", self.fd)));
        }
        Ok(false)
    }

    /// Sleeps up to ms unless stopped.
    fn nap(&self, ms: i32) {
        let mut p = libc::pollfd { fd: self.wake, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut p, 1, ms) };
    }

    /// Blocks while MAX_INFLIGHT batches wait for JS; false when stopped.
    fn acquire(&self) -> bool {
        let mut n = self.inflight.lock().unwrap();
        while *n >= MAX_INFLIGHT {
            if self.stopped() {
                return false;
            }
            n = self.cv.wait_timeout(n, Duration::from_millis(50)).unwrap().0;
        }
        if self.stopped() {
            return false;
        }
        *n += 1;
        true
    }

    /// Whether nothing waits to be read: no batch queued for JS behind the one being taken, and
    /// nothing in the kernel queue. A lone packet after a wait only means the link went idle when
    /// this holds: on a busy, CPU-starved machine the sender also pauses for a millisecond or more
    /// between bursts, and handing reading to the (busy) main thread then puts every read of the
    /// next burst on it, back and forth (UDP 1400 B floods lost a third of their rate that way).
    fn quiet(&self) -> bool {
        if *self.inflight.lock().unwrap() > 0 {
            return false;
        }
        let mut p = libc::pollfd { fd: self.fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd; timeout 0 never blocks.
        let rc = unsafe { libc::poll(&mut p, 1, 0) };
        !(rc > 0 && p.revents & libc::POLLIN != 0)
    }

    fn release(&self) {
        let mut n = self.inflight.lock().unwrap();
        *n = n.saturating_sub(1);
        self.cv.notify_one();
    }
}

fn deliver(sh: &Shared, tsfn: &Tsfn, kind: u32, data: Vec<u8>) -> bool {
    deliver_msg(sh, tsfn, Msg { kind, data, idle: false })
}

fn deliver_msg(sh: &Shared, tsfn: &Tsfn, msg: Msg) -> bool {
    let kind = msg.kind;
    let batch = kind == 0 || kind == KIND_STAMPED;
    if batch && !sh.acquire() {
        return false;
    }
    if !batch {
        sh.inflight.lock().map(|mut n| *n += 1).ok();
    }
    let st = tsfn.call(msg, ThreadsafeFunctionCallMode::NonBlocking);
    if st != Status::Ok {
        sh.release();
        return false;
    }
    true
}

/// What a reader thread reads with: `fill` appends what is queued to the batch and returns
/// Ok(false) when the kernel queue is drained; `finish` completes a non-empty batch before it
/// is handed over and returns its callback kind (a plain closure: kind 0, nothing appended).
pub(crate) trait Fill {
    fn fill(&mut self, sh: &Shared, out: &mut Vec<u8>, count: &mut usize) -> io::Result<bool>;
    fn finish(&mut self, _out: &mut Vec<u8>, _count: usize) -> u32 {
        0
    }
}

impl<F: FnMut(&Shared, &mut Vec<u8>, &mut usize) -> io::Result<bool>> Fill for F {
    fn fill(&mut self, sh: &Shared, out: &mut Vec<u8>, count: &mut usize) -> io::Result<bool> {
        self(sh, out, count)
    }
}

/// The shared reader loop (see [`Fill`]).
/// `drop_reason` names what `read_drops` counts, for the kind-2 report.
/// The reader parks while the main thread reads (mainpoll); `fill` is shared with it, behind a
/// mutex held only while reading (never while waiting for JS).
fn reader_loop<F: Fill>(sh: Arc<Shared>, tsfn: Tsfn, what: &'static str, drop_reason: &'static str, fill: Arc<Mutex<F>>) {
    while !sh.stopped() {
        if sh.main_reads() {
            sh.park(200);
            continue;
        }
        let t0 = Instant::now();
        match sh.wait_readable(1000) {
            Ok(false) => continue,
            Ok(true) if sh.main_reads() => continue, // the main thread took over while we waited
            Ok(true) => {}
            Err(e) => {
                deliver(&sh, &tsfn, 1, format!("{what} fd {}: poll: {e}", sh.fd).into_bytes());
                sh.nap(1000);
                continue;
            }
        }
        let waited = t0.elapsed();
        let turn = sh.read_turn.lock().unwrap();
        if sh.main_reads() {
            continue; // switched while we waited for the turn
        }
        let mut out = sh.take_buf();
        let mut count = 0usize;
        let mut failed = None;
        let mut f = fill.lock().unwrap();
        loop {
            match f.fill(&sh, &mut out, &mut count) {
                Ok(true) if out.len() < BATCH_BYTES && count < BATCH_PACKETS => continue,
                Ok(_) => break,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let kind = if out.is_empty() { 0 } else { f.finish(&mut out, count) };
        drop(f);
        let dropped = sh.read_drops.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            let mut m = (dropped.min(u32::MAX as u64) as u32).to_be_bytes().to_vec();
            m.extend_from_slice(drop_reason.as_bytes());
            deliver(&sh, &tsfn, KIND_DROPS, m);
        }
        if !out.is_empty() {
            // A lone packet or two after a wait: the link is idle again.
            let idle = count <= 2 && waited >= IDLE_WAIT && !sh.main.load(Ordering::Acquire).is_null();
            sh.thread_batches.fetch_add(1, Ordering::Relaxed);
            if !deliver_msg(&sh, &tsfn, Msg { kind, data: out, idle }) {
                continue;
            }
        }
        drop(turn);
        if let Some(e) = failed {
            deliver(&sh, &tsfn, 1, format!("{what} fd {}: read: {e}", sh.fd).into_bytes());
            sh.nap(1000);
        }
    }
}

/// TAP: read frames until EAGAIN (one read per call to keep the batch bounded).
fn tap_fill(sh: &Shared, out: &mut Vec<u8>, count: &mut usize) -> io::Result<bool> {
    out.reserve(2 + SLOT);
    let at = out.len();
    // SAFETY: reading into reserved, uninitialised capacity; only the bytes read are exposed.
    let n = unsafe { libc::read(sh.fd, out.as_mut_ptr().add(at + 2) as *mut libc::c_void, SLOT) };
    if n < 0 {
        let e = io::Error::last_os_error();
        return match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(false),
            _ => Err(e),
        };
    }
    let n = n as usize;
    if n == 0 {
        return Ok(false);
    }
    if n > MAX_RECORD {
        // 65,536 bytes or more (a VLAN-tagged frame at MTU 65,521 is 65,539): possibly cut by the
        // read, and too long for the record's u16 either way.
        sh.read_drops.fetch_add(1, Ordering::Relaxed);
        return Ok(true);
    }
    // SAFETY: at..at+2+n is within capacity (n <= MAX_RECORD < SLOT); the length bytes are
    // written right below.
    unsafe { out.set_len(at + 2 + n) };
    out[at..at + 2].copy_from_slice(&(n as u16).to_be_bytes());
    *count += 1;
    Ok(true)
}

struct RecvArena {
    buf: Vec<u8>,
    iov: Vec<libc::iovec>,
    addrs: Vec<libc::sockaddr_storage>,
    hdrs: Vec<libc::mmsghdr>,
    /// UDP_GRO / SO_TIMESTAMPNS: control buffers, one per message.
    ctl: Vec<[u64; CTL_WORDS]>,
    gro: bool,
    /// The SCM_TIMESTAMPNS control message type to read (0: timestamps off).
    ts_type: libc::c_int,
    /// Receive time of each record of the batch being filled (ms since the epoch, or NaN).
    stamps: Vec<f64>,
}

// SAFETY: the raw pointers in the iovecs / headers are re-pointed into `buf`, `addrs` and `ctl`
// (owned here) at the start of every fill(), and only one thread fills at a time (the mutex of
// the reader loop), so the arena may move between the reader thread and the main thread.
unsafe impl Send for RecvArena {}

/// The receive time (CLOCK_REALTIME, ms since the Unix epoch) from an SCM_TIMESTAMPNS control
/// message of type `ty` in `h`, if there is one.
fn rx_stamp(h: &libc::msghdr, ty: libc::c_int) -> Option<f64> {
    // SAFETY: the kernel filled msg_control up to msg_controllen; CMSG_* walk inside it, and the
    // payload is read unaligned with the layout the type names.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(h);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == ty {
                let d = libc::CMSG_DATA(c);
                let (sec, nsec) = if ty == SO_TIMESTAMPNS_NEW {
                    (std::ptr::read_unaligned(d as *const i64), std::ptr::read_unaligned((d as *const i64).add(1)))
                } else {
                    let t = std::ptr::read_unaligned(d as *const libc::timespec);
                    (t.tv_sec as i64, t.tv_nsec as i64)
                };
                return Some(sec as f64 * 1e3 + nsec as f64 / 1e6);
            }
            c = libc::CMSG_NXTHDR(h, c);
        }
    }
    None
}

impl Fill for RecvArena {
    fn fill(&mut self, sh: &Shared, out: &mut Vec<u8>, count: &mut usize) -> io::Result<bool> {
        RecvArena::fill(self, sh, out, count)
    }

    /// Appends the receive timestamps (module docs) when they are on.
    fn finish(&mut self, out: &mut Vec<u8>, count: usize) -> u32 {
        if self.ts_type == 0 {
            return 0;
        }
        // Every record got exactly one stamp; anything else would misalign JS's reading.
        self.stamps.resize(count, f64::NAN);
        for t in &self.stamps {
            out.extend_from_slice(&t.to_le_bytes());
        }
        out.extend_from_slice(&(count as u32).to_le_bytes());
        self.stamps.clear();
        KIND_STAMPED
    }
}

/// The segment size from a UDP_GRO control message, if `h` carries one.
fn gro_size(h: &libc::msghdr) -> Option<usize> {
    // SAFETY: the kernel filled msg_control up to msg_controllen; CMSG_* walk inside it.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(h);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_UDP && (*c).cmsg_type == UDP_GRO {
                let v = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::c_int);
                return if v > 0 { Some(v as usize) } else { None };
            }
            c = libc::CMSG_NXTHDR(h, c);
        }
    }
    None
}

impl RecvArena {
    fn new(gro: bool, ts_type: libc::c_int) -> Self {
        RecvArena {
            ctl: vec![[0u64; CTL_WORDS]; MMSG],
            gro,
            ts_type,
            stamps: Vec::new(),
            buf: vec![0u8; SLOT * MMSG],
            // SAFETY: plain-old-data structs; zero is valid.
            iov: vec![unsafe { mem::zeroed() }; MMSG],
            addrs: vec![unsafe { mem::zeroed() }; MMSG],
            hdrs: vec![unsafe { mem::zeroed() }; MMSG],
        }
    }

    /// UDP: one recvmmsg of up to MMSG datagrams, appended as records.
    fn fill(&mut self, sh: &Shared, out: &mut Vec<u8>, count: &mut usize) -> io::Result<bool> {
        for i in 0..MMSG {
            self.iov[i] = libc::iovec { iov_base: self.buf[i * SLOT..].as_mut_ptr() as *mut libc::c_void, iov_len: SLOT };
            // SAFETY: zeroed msghdr is valid; pointers set below stay valid during the call.
            let h: &mut libc::mmsghdr = &mut self.hdrs[i];
            *h = unsafe { mem::zeroed() };
            h.msg_hdr.msg_name = &mut self.addrs[i] as *mut libc::sockaddr_storage as *mut libc::c_void;
            h.msg_hdr.msg_namelen = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_hdr.msg_iov = &mut self.iov[i];
            h.msg_hdr.msg_iovlen = 1;
            if self.gro || self.ts_type != 0 {
                h.msg_hdr.msg_control = self.ctl[i].as_mut_ptr() as *mut libc::c_void;
                h.msg_hdr.msg_controllen = mem::size_of::<[u64; CTL_WORDS]>() as _;
            }
        }
        // With GRO one message may carry 64 KiB (up to 64 datagrams): ask for no more messages than
        // the batch has room for, or one call would make a batch of 2 MiB (and the WASM staging
        // and TAP areas, which never shrink, as large).
        let vlen = if self.gro { (BATCH_BYTES.saturating_sub(out.len()) / SLOT).clamp(1, MMSG) } else { MMSG };
        // SAFETY: hdrs/iov/addrs/buf/ctl are valid for MMSG >= vlen entries.
        let n = unsafe { libc::recvmmsg(sh.fd, self.hdrs.as_mut_ptr(), vlen as libc::c_uint, libc::MSG_DONTWAIT, std::ptr::null_mut()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(false),
                // ICMP errors reported on the socket (e.g. ECONNREFUSED) are not fatal.
                _ if matches!(e.raw_os_error(), Some(libc::ECONNREFUSED) | Some(libc::EHOSTUNREACH) | Some(libc::ENETUNREACH)) => Ok(true),
                _ => Err(e),
            };
        }
        let n = n as usize;
        for i in 0..n {
            let h = &self.hdrs[i];
            let len = h.msg_len as usize;
            if h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 || len > MAX_RECORD {
                sh.read_drops.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let (port, addr) = match sockaddr_to(&self.addrs[i]) {
                Some(x) => x,
                None => continue,
            };
            let data = &self.buf[i * SLOT..i * SLOT + len];
            // A coalesced datagram: the datagrams it was made of, each gso bytes (the last
            // may be shorter), back as separate records.
            let seg = if self.gro { gro_size(&h.msg_hdr).filter(|&g| g < len) } else { None };
            if seg.is_some() {
                sh.gro_reads.fetch_add(1, Ordering::Relaxed);
            }
            let before = *count;
            for d in data.chunks(seg.unwrap_or(len.max(1))) {
                out.extend_from_slice(&(d.len() as u16).to_be_bytes());
                out.extend_from_slice(&port.to_be_bytes());
                out.extend_from_slice(&addr);
                out.extend_from_slice(d);
                *count += 1;
            }
            if len == 0 {
                out.extend_from_slice(&0u16.to_be_bytes());
                out.extend_from_slice(&port.to_be_bytes());
                out.extend_from_slice(&addr);
                *count += 1;
            }
            if self.ts_type != 0 {
                // Every datagram of a coalesced one arrived with it: one stamp for all.
                let t = rx_stamp(&h.msg_hdr, self.ts_type).unwrap_or(f64::NAN);
                self.stamps.resize(before, f64::NAN);
                self.stamps.resize(*count, t);
            }
        }
        Ok(n == vlen)
    }
}

fn sockaddr_to(sa: &libc::sockaddr_storage) -> Option<(u16, [u8; 16])> {
    let mut a = [0u8; 16];
    match sa.ss_family as i32 {
        libc::AF_INET => {
            // SAFETY: family says this is a sockaddr_in.
            let s: &libc::sockaddr_in = unsafe { &*(sa as *const _ as *const libc::sockaddr_in) };
            a[..4].copy_from_slice(&s.sin_addr.s_addr.to_ne_bytes());
            Some((u16::from_be(s.sin_port), a))
        }
        libc::AF_INET6 => {
            // SAFETY: family says this is a sockaddr_in6.
            let s: &libc::sockaddr_in6 = unsafe { &*(sa as *const _ as *const libc::sockaddr_in6) };
            a.copy_from_slice(&s.sin6_addr.s6_addr);
            Some((u16::from_be(s.sin6_port), a))
        }
        _ => None,
    }
}

fn sockaddr_from(family: i32, port: u16, addr: &[u8]) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: zeroed sockaddr_storage is valid.
    let mut ss: libc::sockaddr_storage = unsafe { mem::zeroed() };
    if family == libc::AF_INET {
        // SAFETY: sockaddr_storage is large enough for sockaddr_in.
        let s: &mut libc::sockaddr_in = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in) };
        s.sin_family = libc::AF_INET as libc::sa_family_t;
        s.sin_port = port.to_be();
        s.sin_addr.s_addr = u32::from_ne_bytes([addr[0], addr[1], addr[2], addr[3]]);
        (ss, mem::size_of::<libc::sockaddr_in>() as libc::socklen_t)
    } else {
        // SAFETY: sockaddr_storage is large enough for sockaddr_in6.
        let s: &mut libc::sockaddr_in6 = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in6) };
        s.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        s.sin6_port = port.to_be();
        s.sin6_addr.s6_addr.copy_from_slice(&addr[..16]);
        (ss, mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t)
    }
}

fn writer_loop(sh: Arc<Shared>, rx: Receiver<Vec<u8>>) {
    while let Ok(b) = rx.recv() {
        let mut off = 0;
        while off + 2 <= b.len() {
            let len = u16::from_be_bytes([b[off], b[off + 1]]) as usize;
            let end = (off + 2 + len).min(b.len());
            if len > 0 && !sh.stopped() {
                let f = &b[off + 2..end];
                // SAFETY: writing from a valid slice to an fd that outlives this thread.
                let n = unsafe { libc::write(sh.fd, f.as_ptr() as *const libc::c_void, f.len()) };
                if n < 0 {
                    sh.write_drops.fetch_add(1, Ordering::Relaxed);
                    sh.write_errno.store(io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO), Ordering::Relaxed);
                }
            }
            off = end;
        }
    }
}

fn make_tsfn(cb: Function<FnArgs<(u32, Buffer)>, ()>, sh: &Arc<Shared>) -> Result<Tsfn> {
    let s2 = sh.clone();
    cb.build_threadsafe_function::<Msg>().callee_handled::<false>().build_callback(move |ctx| {
        s2.release();
        // try_lock: the main thread never waits for the reader; busy means a read is under way
        // (a batch is coming), so the link is not idle after all.
        if ctx.value.idle && !s2.stopped() {
            if let Ok(_turn) = s2.read_turn.try_lock() {
                let m = s2.main.load(Ordering::Acquire);
                if !m.is_null() && s2.quiet() {
                    // SAFETY: on the main thread; `main` is cleared before the reader is closed.
                    unsafe { (*m).start() };
                }
            }
        }
        let env = ctx.env.raw();
        let Msg { kind, data, .. } = ctx.value;
        // SAFETY: main thread; the previous JS call has returned, so its batch may be revoked.
        unsafe { s2.revoke_lent(env) };
        if (kind == 0 || kind == KIND_STAMPED) && s2.borrow.load(Ordering::Relaxed) {
            // SAFETY: main thread; `data` is kept in `lent` (its heap block does not move) until
            // the view is revoked.
            if let Some(v) = unsafe { lend_buffer(env, &data) } {
                let mut r: sys::napi_ref = std::ptr::null_mut();
                // SAFETY: as above.
                if unsafe { sys::napi_create_reference(env, v, 1, &mut r) } == sys::Status::napi_ok {
                    *s2.lent.lock().unwrap() = Some((data, r as usize));
                    s2.lent_batches.fetch_add(1, Ordering::Relaxed);
                    // SAFETY: v is a Buffer made above.
                    return Ok(FnArgs::from((kind, unsafe { Buffer::from_napi_value(env, v)? })));
                }
                // Without a reference it cannot be revoked: hand over a copy instead.
                return Ok(FnArgs::from((kind, Buffer::from(data.to_vec()))));
            }
        }
        // Handed over: JS owns it, and the GC frees it when JS drops it.
        Ok(FnArgs::from((kind, Buffer::from(data))))
    })
}

fn new_shared(fd: i32) -> Result<Arc<Shared>> {
    // SAFETY: plain eventfd(2).
    let wake = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    if wake < 0 {
        return Err(Error::from_reason(format!("eventfd: {}", io::Error::last_os_error())));
    }
    Ok(Arc::new(Shared {
        fd,
        wake,
        stop: AtomicBool::new(false),
        inflight: Mutex::new(0),
        cv: Condvar::new(),
        write_drops: AtomicU64::new(0),
        write_errno: AtomicI32::new(0),
        read_drops: AtomicU64::new(0),
        gro_reads: AtomicU64::new(0),
        mode: AtomicU8::new(MODE_THREAD),
        read_turn: Mutex::new(()),
        park: Mutex::new(()),
        park_cv: Condvar::new(),
        main: AtomicPtr::new(std::ptr::null_mut()),
        main_batches: AtomicU64::new(0),
        thread_batches: AtomicU64::new(0),
        borrow: AtomicBool::new(false),
        pool: Mutex::new(Vec::new()),
        lent: Mutex::new(None),
        lent_batches: AtomicU64::new(0),
    }))
}

fn errno_str(e: i32) -> String {
    io::Error::from_raw_os_error(e).to_string()
}

/// UDP offload options of `NativeIo.udp` (both default false).
#[napi(object)]
pub struct UdpOffloads {
    /// Send runs of equal-sized datagrams to one address as one `UDP_SEGMENT` message.
    pub gso: Option<bool>,
    /// Receive coalesced datagrams (`UDP_GRO`) and split them back.
    pub gro: Option<bool>,
    /// Kernel receive timestamps (`SO_TIMESTAMPNS`, kind-3 batches); default false.
    pub timestamps: Option<bool>,
}

/// One message of a sendBatch: `n` iovecs (= datagrams) from index `iov`, `seg` > 0 when it is
/// a UDP_SEGMENT message of that segment size.
#[derive(Clone, Copy, Default)]
struct SendMsg {
    iov: usize,
    n: usize,
    seg: usize,
}

/// A TAP device or UDP socket with its reader (and for TAP, writer) thread.
#[napi]
pub struct NativeIo {
    sh: Arc<Shared>,
    family: i32,
    port: u32,
    tx: Option<SyncSender<Vec<u8>>>,
    threads: Vec<JoinHandle<()>>,
    closed: bool,
    last_send_errno: i32,
    /// Reused sendmmsg vectors.
    send_addrs: Vec<(libc::sockaddr_storage, libc::socklen_t)>,
    /// TAP: records carry a virtio_net_hdr.
    vnet: bool,
    /// UDP: GSO in use / GRO set on the socket.
    gso: bool,
    gro: bool,
    /// UDP: kernel receive timestamps are on (batches are kind 3).
    rx_ts: bool,
    /// UDP: CLOCK_REALTIME (ms) right before the last sendBatch's first sendmmsg; NaN if none.
    last_send_ms: f64,
    /// UDP: UDP_SEGMENT messages the kernel took.
    gso_sends: u64,
    /// A fallback the caller has not logged yet.
    note: Option<String>,
    /// The main-thread reader (mainpoll), null when off.
    main: *mut MainReader,
}

/// Sets up main-thread reads for `sh` (started at once: a new link is idle). None when turned off
/// (`EG_MAIN_POLL=0`) or when libuv refuses: reader threads only.
fn main_reader<F: Fill + Send + 'static>(func: sys::napi_value, env: sys::napi_env, sh: &Arc<Shared>, fill: &Arc<Mutex<F>>, drop_reason: &'static str) -> *mut MainReader {
    if !mainpoll::wanted() {
        return std::ptr::null_mut();
    }
    let f: Arc<Mutex<dyn Fill + Send>> = fill.clone();
    match MainReader::create(env, func, sh.clone(), f, drop_reason) {
        Ok(m) => {
            sh.main.store(m, Ordering::Release);
            let _turn = sh.read_turn.lock().unwrap();
            // SAFETY: just made, main thread.
            unsafe { (*m).start() };
            m
        }
        Err(_) => std::ptr::null_mut(),
    }
}

#[napi]
impl NativeIo {
    /// Takes over a TAP fd from tapOpen (non-blocking): close() closes it.
    /// `vnetHdr`: the fd was opened with offloads (`tapOpen(name, { offloads: true })` said
    /// `vnetHdr: true`), so records carry a virtio_net_hdr in both directions.
    #[napi(factory, ts_args_type = "fd: number, onBatch: (kind: number, data: Buffer) => void, vnetHdr?: boolean")]
    pub fn tap(fd: i32, on_batch: Function<FnArgs<(u32, Buffer)>, ()>, vnet_hdr: Option<bool>) -> Result<NativeIo> {
        let sh = new_shared(fd)?;
        let (func, env) = (on_batch.value().value, on_batch.value().env);
        let tsfn = make_tsfn(on_batch, &sh)?;
        let (tx, rx) = sync_channel::<Vec<u8>>(WRITE_QUEUE);
        let s1 = sh.clone();
        // The reason names what was measured: with offloads the 10-byte vnet header counts too.
        let too_long = if vnet_hdr.unwrap_or(false) { "frame from the TAP longer than 65535 bytes (vnet header included)" } else { "frame from the TAP longer than 65535 bytes" };
        let fill = Arc::new(Mutex::new(tap_fill));
        let main = main_reader(func, env, &sh, &fill, too_long);
        let r = std::thread::Builder::new()
            .name("eg-tap-read".into())
            .spawn(move || reader_loop(s1, tsfn, "tap", too_long, fill))
            .map_err(|e| Error::from_reason(format!("spawn tap reader: {e}")))?;
        let s2 = sh.clone();
        let w = std::thread::Builder::new()
            .name("eg-tap-write".into())
            .spawn(move || writer_loop(s2, rx))
            .map_err(|e| Error::from_reason(format!("spawn tap writer: {e}")))?;
        Ok(NativeIo {
            sh,
            family: 0,
            port: 0,
            tx: Some(tx),
            threads: vec![r, w],
            closed: false,
            last_send_errno: 0,
            send_addrs: Vec::new(),
            vnet: vnet_hdr.unwrap_or(false),
            gso: false,
            gro: false,
            rx_ts: false,
            last_send_ms: f64::NAN,
            gso_sends: 0,
            note: None,
            main,
        })
    }

    /// Opens a non-blocking UDP socket (family 4 or 6; IPv6 sockets are v6-only), sets the
    /// buffer sizes (forced when permitted), binds it and starts its reader thread.
    /// `offloads`: GSO for sendBatch and GRO on receive (see the module docs); what the kernel
    /// refuses stays off, with the reason in `takeOffloadNote()`.
    #[napi(factory, ts_args_type = "family: number, addr: string, port: number, bufBytes: number, onBatch: (kind: number, data: Buffer) => void, offloads?: UdpOffloads")]
    pub fn udp(
        family: u32,
        addr: String,
        port: u32,
        buf_bytes: u32,
        on_batch: Function<FnArgs<(u32, Buffer)>, ()>,
        offloads: Option<UdpOffloads>,
    ) -> Result<NativeIo> {
        let fam = if family == 6 { libc::AF_INET6 } else { libc::AF_INET };
        let ip: IpAddr = if addr.is_empty() {
            if fam == libc::AF_INET6 { IpAddr::V6(Ipv6Addr::UNSPECIFIED) } else { IpAddr::V4(Ipv4Addr::UNSPECIFIED) }
        } else {
            addr.parse().map_err(|_| Error::from_reason(format!("listen address {addr:?} is not a numeric IP address")))?
        };
        let mut ab = [0u8; 16];
        match (ip, fam) {
            (IpAddr::V4(a), libc::AF_INET) => ab[..4].copy_from_slice(&a.octets()),
            (IpAddr::V6(a), libc::AF_INET6) => ab.copy_from_slice(&a.octets()),
            _ => return Err(Error::from_reason(format!("listen address {addr} is not IPv{family}"))),
        }
        if port > 65535 {
            return Err(Error::from_reason(format!("port {port} out of range")));
        }
        // SAFETY: socket(2).
        let fd = unsafe { libc::socket(fam, libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(Error::from_reason(format!("socket(IPv{family}): {}", io::Error::last_os_error())));
        }
        let fail = |what: String| {
            let e = io::Error::last_os_error();
            // SAFETY: our fd.
            unsafe { libc::close(fd) };
            Error::from_reason(format!("{what}: {e}"))
        };
        let setopt = |level: i32, name: i32, v: i32| -> i32 {
            // SAFETY: setsockopt with a valid int.
            unsafe { libc::setsockopt(fd, level, name, &v as *const i32 as *const libc::c_void, mem::size_of::<i32>() as libc::socklen_t) }
        };
        if fam == libc::AF_INET6 && setopt(libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 1) < 0 {
            return Err(fail("setsockopt(IPV6_V6ONLY)".into()));
        }
        if buf_bytes > 0 {
            let b = buf_bytes.min(i32::MAX as u32) as i32;
            if setopt(libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, b) < 0 {
                setopt(libc::SOL_SOCKET, libc::SO_RCVBUF, b);
            }
            if setopt(libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, b) < 0 {
                setopt(libc::SOL_SOCKET, libc::SO_SNDBUF, b);
            }
        }
        let (sa, sl) = sockaddr_from(fam, port as u16, &ab);
        // SAFETY: bind with a valid sockaddr of length sl.
        if unsafe { libc::bind(fd, &sa as *const _ as *const libc::sockaddr, sl) } < 0 {
            return Err(fail(format!("bind {addr}:{port}")));
        }
        // SAFETY: zeroed storage, getsockname fills it.
        let mut got: libc::sockaddr_storage = unsafe { mem::zeroed() };
        let mut gl = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        if unsafe { libc::getsockname(fd, &mut got as *mut _ as *mut libc::sockaddr, &mut gl) } < 0 {
            return Err(fail("getsockname".into()));
        }
        let bound = sockaddr_to(&got).map(|x| x.0).unwrap_or(0) as u32;
        let want_ts = offloads.as_ref().and_then(|o| o.timestamps).unwrap_or(false);
        let (want_gso, want_gro) = offloads.map(|o| (o.gso.unwrap_or(false), o.gro.unwrap_or(false))).unwrap_or((false, false));
        // Kernel receive timestamps: the 64-bit layout where the kernel has it, else the old one.
        let mut ts_type = 0;
        if want_ts {
            for ty in [SO_TIMESTAMPNS_NEW, SO_TIMESTAMPNS_OLD] {
                if setopt(libc::SOL_SOCKET, ty, 1) == 0 {
                    ts_type = ty;
                    break;
                }
            }
        }
        let mut notes: Vec<String> = Vec::new();
        let mut gro = false;
        if want_gro {
            if setopt(libc::SOL_UDP, UDP_GRO, 1) < 0 {
                notes.push(format!("UDP_GRO refused ({})", io::Error::last_os_error()));
            } else {
                gro = true;
            }
        }
        let mut gso = false;
        if want_gso {
            // Probe as wireguard-go does: a kernel with UDP GSO answers getsockopt(UDP_SEGMENT).
            let mut v: libc::c_int = 0;
            let mut l = mem::size_of::<libc::c_int>() as libc::socklen_t;
            // SAFETY: getsockopt into an int of the given length.
            if unsafe { libc::getsockopt(fd, libc::SOL_UDP, UDP_SEGMENT, &mut v as *mut _ as *mut libc::c_void, &mut l) } < 0 {
                notes.push(format!("UDP_SEGMENT refused ({})", io::Error::last_os_error()));
            } else {
                gso = true;
            }
        }
        let note = if notes.is_empty() {
            None
        } else {
            Some(format!("udp {addr}:{bound}: {}; sending/receiving datagrams one by one", notes.join(", ")))
        };
        let sh = match new_shared(fd) {
            Ok(s) => s,
            Err(e) => {
                // SAFETY: our fd.
                unsafe { libc::close(fd) };
                return Err(e);
            }
        };
        let (func, env) = (on_batch.value().value, on_batch.value().env);
        let tsfn = make_tsfn(on_batch, &sh)?;
        let s1 = sh.clone();
        const TRUNCATED: &str = "UDP datagram truncated (longer than the receive slot)";
        let fill = Arc::new(Mutex::new(RecvArena::new(gro, ts_type)));
        let main = main_reader(func, env, &sh, &fill, TRUNCATED);
        let r = std::thread::Builder::new()
            .name("eg-udp-read".into())
            .spawn(move || reader_loop(s1, tsfn, "udp", TRUNCATED, fill))
            .map_err(|e| Error::from_reason(format!("spawn udp reader: {e}")))?;
        Ok(NativeIo {
            sh,
            family: fam,
            port: bound,
            tx: None,
            threads: vec![r],
            closed: false,
            last_send_errno: 0,
            send_addrs: Vec::new(),
            vnet: false,
            gso,
            gro,
            rx_ts: ts_type != 0,
            last_send_ms: f64::NAN,
            gso_sends: 0,
            note,
            main,
        })
    }

    #[napi(getter)]
    pub fn fd(&self) -> i32 {
        if self.closed { -1 } else { self.sh.fd }
    }

    #[napi(getter)]
    pub fn port(&self) -> u32 {
        self.port
    }

    /// TAP: records carry a 10-byte virtio_net_hdr in front of each frame.
    #[napi(getter)]
    pub fn vnet_hdr(&self) -> bool {
        self.vnet
    }

    /// UDP: sendBatch uses UDP_SEGMENT (false when not asked for, refused, or switched off
    /// after the kernel returned EIO).
    #[napi(getter)]
    pub fn udp_gso(&self) -> bool {
        self.gso
    }

    /// UDP: CLOCK_REALTIME in ms since the epoch read right before the last `sendBatch` called
    /// sendmmsg (NaN if it sent nothing): how long a ping took from its stamp to the syscall.
    #[napi(getter)]
    pub fn last_send_ms(&self) -> f64 {
        self.last_send_ms
    }

    /// UDP: the kernel stamps received datagrams (SO_TIMESTAMPNS); batches are kind 3.
    #[napi(getter)]
    pub fn rx_timestamps(&self) -> bool {
        self.rx_ts
    }

    /// UDP: UDP_GRO is set on the socket.
    #[napi(getter)]
    pub fn udp_gro(&self) -> bool {
        self.gro
    }

    /// UDP: UDP_SEGMENT messages sent so far (each carried several datagrams).
    #[napi(getter)]
    pub fn gso_sends(&self) -> f64 {
        self.gso_sends as f64
    }

    /// Batches read on the main thread (idle link, no hand-off) and batches handed over by the
    /// reader thread, so far (crate::mainpoll).
    #[napi(getter)]
    pub fn main_batches(&self) -> f64 {
        self.sh.main_batches.load(Ordering::Relaxed) as f64
    }

    #[napi(getter)]
    pub fn thread_batches(&self) -> f64 {
        self.sh.thread_batches.load(Ordering::Relaxed) as f64
    }

    /// Lend batches instead of handing them over (default false). Lent, a batch's Buffer views
    /// native memory that is reused for a later batch: it is valid only during the callback, and
    /// afterwards its ArrayBuffer is detached (length 0). This keeps the memory of a busy link to a
    /// few batch buffers; handed over, every batch is a new allocation that lives until the GC
    /// finds it (hundreds of MiB under a flood). Only batches (kinds 0 and 3) are lent, and of
    /// those read on the main thread (an idle link, crate::mainpoll) only batches larger than
    /// 4 KiB: smaller ones come as copies, which are never refilled either.
    #[napi]
    pub fn borrow_batches(&self, on: bool) {
        self.sh.borrow.store(on, Ordering::Relaxed);
    }

    /// Batches lent to JS so far (`borrowBatches`), from the reader thread and main-thread reads.
    #[napi(getter)]
    pub fn lent_batches(&self) -> f64 {
        self.sh.lent_batches.load(Ordering::Relaxed) as f64
    }

    /// UDP: coalesced datagrams received so far (each split back into several records).
    #[napi(getter)]
    pub fn gro_reads(&self) -> f64 {
        self.sh.gro_reads.load(Ordering::Relaxed) as f64
    }

    /// The one log line about an offload that was refused or switched off since the last
    /// call, or an empty string.
    #[napi]
    pub fn take_offload_note(&mut self) -> String {
        self.note.take().unwrap_or_default()
    }

    /// TAP: writes one frame now. False when the kernel refused it (EAGAIN) or after close.
    #[napi]
    pub fn write(&self, frame: &[u8]) -> Result<bool> {
        if self.closed {
            return Ok(false);
        }
        // SAFETY: writing from a valid slice to our open fd.
        let n = unsafe { libc::write(self.sh.fd, frame.as_ptr() as *const libc::c_void, frame.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::WouldBlock {
                return Ok(false);
            }
            return Err(Error::from_reason(format!("write to tap fd {}: {e}", self.sh.fd)));
        }
        Ok(true)
    }

    /// TAP: queues `[len u16][frame]...` for the writer thread (copied). False when the queue
    /// is full or the device is closed: the caller counts the whole batch as dropped.
    #[napi]
    pub fn write_batch(&self, batch: &[u8]) -> bool {
        match &self.tx {
            Some(tx) if !self.closed => !matches!(tx.try_send(batch.to_vec()), Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_))),
            _ => false,
        }
    }

    /// TAP: frames the writer thread failed to write since the last call, and the last errno
    /// text (empty when none).
    #[napi]
    pub fn take_write_drops(&self) -> (u32, String) {
        let n = self.sh.write_drops.swap(0, Ordering::Relaxed);
        let e = self.sh.write_errno.load(Ordering::Relaxed);
        (n.min(u32::MAX as u64) as u32, if n > 0 && e != 0 { errno_str(e) } else { String::new() })
    }

    /// UDP: sends `[len u16][port u16][addr 16][payload]...` (the first `count` records) with
    /// sendmmsg; with GSO on, runs of records to one address with equal lengths go out as one
    /// UDP_SEGMENT message each. Returns the number of datagrams the kernel did not take
    /// (0 = all sent); see lastSendError for why.
    #[napi]
    pub fn send_batch(&mut self, batch: &[u8], count: u32) -> u32 {
        self.last_send_ms = f64::NAN;
        if self.closed || self.family == 0 {
            return count;
        }
        if self.send_addrs.len() < MMSG {
            // SAFETY: zeroed sockaddr_storage is valid.
            self.send_addrs.resize(MMSG, (unsafe { mem::zeroed() }, 0));
        }
        // Largest UDP payload of one message: the IP length field bounds the whole datagram.
        let max_gso_bytes = if self.family == libc::AF_INET6 { 65535 - 8 } else { 65535 - 20 - 8 };
        // A record at `off`: (payload length, payload offset), or None when it is missing or
        // runs past the buffer.
        let record = |off: usize| -> Option<(usize, usize)> {
            if off + UDP_HDR > batch.len() {
                return None;
            }
            let len = u16::from_be_bytes([batch[off], batch[off + 1]]) as usize;
            let p = off + UDP_HDR;
            (p + len <= batch.len()).then_some((len, p))
        };
        // SAFETY: zeroed iovec / mmsghdr are valid; every used entry is filled below.
        let mut iov: [libc::iovec; MMSG * GSO_MAX_SEGS] = unsafe { mem::zeroed() };
        let mut hdrs: [libc::mmsghdr; MMSG] = unsafe { mem::zeroed() };
        let mut ctl = [[0u64; CTL_WORDS]; MMSG];
        let mut msgs = [SendMsg::default(); MMSG];
        let mut off = 0usize;
        let mut left = count as usize;
        let mut failed = 0u32;
        while left > 0 {
            let mut k = 0usize;
            let mut nio = 0usize;
            while k < MMSG && left > 0 {
                let Some((len, p)) = record(off) else {
                    if off + UDP_HDR <= batch.len() {
                        // A record running past the buffer: it and the rest are not sent.
                        failed += left as u32;
                        left = 0;
                    }
                    break;
                };
                let port = u16::from_be_bytes([batch[off + 2], batch[off + 3]]);
                let dest = off + 2..off + UDP_HDR;
                self.send_addrs[k] = sockaddr_from(self.family, port, &batch[off + 4..off + 20]);
                msgs[k] = SendMsg { iov: nio, n: 1, seg: 0 };
                iov[nio] = libc::iovec { iov_base: batch[p..].as_ptr() as *mut libc::c_void, iov_len: len };
                nio += 1;
                left -= 1;
                off = p + len;
                if self.gso && len > 0 {
                    let mut total = len;
                    while left > 0 && msgs[k].n < GSO_MAX_SEGS {
                        let Some((len2, p2)) = record(off) else { break };
                        if len2 == 0 || len2 > len || total + len2 > max_gso_bytes || batch[off + 2..off + UDP_HDR] != batch[dest.clone()] {
                            break;
                        }
                        iov[nio] = libc::iovec { iov_base: batch[p2..].as_ptr() as *mut libc::c_void, iov_len: len2 };
                        nio += 1;
                        msgs[k].n += 1;
                        total += len2;
                        left -= 1;
                        off = p2 + len2;
                        if len2 < len {
                            break; // only the last datagram of a GSO message may be shorter
                        }
                    }
                    if msgs[k].n > 1 {
                        msgs[k].seg = len;
                    }
                }
                k += 1;
            }
            if k == 0 {
                break;
            }
            for i in 0..k {
                let h = &mut hdrs[i].msg_hdr;
                h.msg_name = &mut self.send_addrs[i].0 as *mut _ as *mut libc::c_void;
                h.msg_namelen = self.send_addrs[i].1;
                h.msg_iov = &mut iov[msgs[i].iov];
                h.msg_iovlen = msgs[i].n as _;
                h.msg_control = std::ptr::null_mut();
                h.msg_controllen = 0;
                if msgs[i].seg > 0 {
                    h.msg_control = ctl[i].as_mut_ptr() as *mut libc::c_void;
                    // SAFETY: ctl[i] is 32 aligned bytes, room for CMSG_SPACE(2) = 24; CMSG_*
                    // stay inside it.
                    unsafe {
                        h.msg_controllen = libc::CMSG_SPACE(2) as _;
                        let c = libc::CMSG_FIRSTHDR(h);
                        (*c).cmsg_level = libc::SOL_UDP;
                        (*c).cmsg_type = UDP_SEGMENT;
                        (*c).cmsg_len = libc::CMSG_LEN(2) as _;
                        std::ptr::write_unaligned(libc::CMSG_DATA(c) as *mut u16, msgs[i].seg as u16);
                    }
                }
            }
            let mut at = 0usize;
            if self.last_send_ms.is_nan() {
                // The send stamp of this sendBatch: read as close to the syscall as it gets.
                self.last_send_ms = crate::clock::realtime_ms();
            }
            while at < k {
                // SAFETY: hdrs[at..k] point at live iovecs, addresses, control buffers and the
                // borrowed batch.
                let n = unsafe { libc::sendmmsg(self.sh.fd, hdrs[at..].as_mut_ptr(), (k - at) as libc::c_uint, 0) };
                if n < 0 {
                    let e = io::Error::last_os_error();
                    if e.kind() == io::ErrorKind::Interrupted {
                        continue;
                    }
                    let errno = e.raw_os_error().unwrap_or(libc::EIO);
                    self.last_send_errno = errno;
                    if e.kind() == io::ErrorKind::WouldBlock {
                        // The send buffer is full: the rest of this batch is dropped.
                        failed += msgs[at..k].iter().map(|m| m.n as u32).sum::<u32>() + left as u32;
                        return failed;
                    }
                    if msgs[at].seg > 0 && matches!(errno, libc::EIO | libc::EINVAL | libc::EMSGSIZE) {
                        // EIO: the route's device cannot checksum a GSO send, for good (as
                        // wireguard-go concludes). EMSGSIZE (EINVAL before Linux 5.x): this run
                        // does not fit GSO, e.g. datagrams over the path MTU, which a plain send
                        // may still fragment. Either way, these go one by one.
                        if errno == libc::EIO && self.gso {
                            self.gso = false;
                            self.note = Some(format!("udp port {}: the kernel refused UDP GSO ({e}); sending datagrams one by one", self.port));
                        }
                        let m = msgs[at];
                        failed += self.send_singly(&hdrs[at].msg_hdr, &iov[m.iov..m.iov + m.n]);
                        at += 1;
                        continue;
                    }
                    // This message failed (e.g. unreachable); carry on with the next.
                    failed += msgs[at].n as u32;
                    at += 1;
                    continue;
                }
                let n = n as usize;
                self.gso_sends += msgs[at..at + n].iter().filter(|m| m.seg > 0).count() as u64;
                at += n;
            }
        }
        // Records announced by `count` but missing from the buffer are not sent either.
        failed + left as u32
    }

    /// Sends each iovec of a refused GSO message as its own datagram to the message's address;
    /// returns how many were not sent.
    fn send_singly(&mut self, h: &libc::msghdr, iov: &[libc::iovec]) -> u32 {
        let mut failed = 0;
        for v in iov {
            let mut one = *v;
            // SAFETY: zeroed msghdr is valid; name and iovec point at live memory.
            let mut m: libc::msghdr = unsafe { mem::zeroed() };
            m.msg_name = h.msg_name;
            m.msg_namelen = h.msg_namelen;
            m.msg_iov = &mut one;
            m.msg_iovlen = 1;
            loop {
                // SAFETY: as above.
                let n = unsafe { libc::sendmsg(self.sh.fd, &m, 0) };
                if n >= 0 {
                    break;
                }
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                self.last_send_errno = e.raw_os_error().unwrap_or(libc::EIO);
                failed += 1;
                break;
            }
        }
        failed
    }

    /// Text of the errno behind the last failed sendBatch datagram.
    #[napi]
    pub fn last_send_error(&self) -> String {
        if self.last_send_errno == 0 { String::new() } else { errno_str(self.last_send_errno) }
    }

    /// Stops the threads and closes the fd (idempotent). Returns within a few ms.
    #[napi]
    pub fn close(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        if !self.main.is_null() {
            self.sh.main.store(std::ptr::null_mut(), Ordering::Release);
            // SAFETY: main thread (close is called from JS or a finalizer); freed by libuv later.
            unsafe { (*self.main).close() };
            self.main = std::ptr::null_mut();
        }
        self.tx = None; // the writer drains what is queued and exits
        self.sh.stop.store(true, Ordering::Release);
        self.sh.unpark();
        let one: u64 = 1;
        // SAFETY: eventfd write of 8 bytes.
        unsafe { libc::write(self.sh.wake, &one as *const u64 as *const libc::c_void, 8) };
        {
            let _g = self.sh.inflight.lock().unwrap();
            self.sh.cv.notify_all();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        // SAFETY: both fds are ours and no thread uses them any more.
        unsafe {
            libc::close(self.sh.fd);
            libc::close(self.sh.wake);
        }
    }
}

impl Drop for NativeIo {
    fn drop(&mut self) {
        self.close();
    }
}
