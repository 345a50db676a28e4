//! IType `vpp`: a memif client ("slave") written against the memif 2.0 protocol (see proto.rs
//! for the control exchange, ring.rs for the shared memory), in the batched style of the TAP path
//! (io.rs): one worker thread per interface reads frames and hands them to JS in batches of
//! `[len u16 BE][frame]` records through a threadsafe function; writes go straight from the JS
//! thread into the client -> server ring, one index store and at most one interrupt per batch.
//!
//! Worker thread: connect to the server's socket (retried 100 ms -> 1 s while nobody listens),
//! run the handshake, then serve the connection until the server says DISCONNECT, closes the
//! socket (e.g. it was killed) or breaks a ring rule; then tear down and connect again. The
//! interface stays usable throughout: while disconnected, writes are refused and counted as
//! "not connected" drops.
//!
//! Receiving: interrupt mode waits in poll() on the S2C ring's eventfd (the server writes it
//! after filling slots, unless the ring's MASK_INT flag is set), the control socket and a wake
//! eventfd. A drain that finds `POLL_ENTER` frames or more switches to polling: MASK_INT is set
//! (the server stops signalling) and the ring is checked every `POLL_SLEEP_NS` (a ppoll on the
//! control socket, so a disconnect is still seen at once); `POLL_IDLE_EXIT` empty checks in a row
//! switch back (MASK_INT cleared, the ring checked once more for frames that raced the switch).
//!
//! JS callback `(kind, data)`: 0 a batch; 1 an error line; 2 frames dropped on the way in
//! (`[count u32 BE][reason UTF-8]`); 3 connected (a description); 4 disconnected (the reason);
//! 5 an info line (e.g. still waiting for the server).

mod proto;
mod ring;

use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use rustix::event::{EventfdFlags, PollFd, PollFlags, Timespec};
use rustix::fd::{AsFd, OwnedFd};
use rustix::net::{AddressFamily, RecvFlags, SendAncillaryBuffer, SendAncillaryMessage, SendFlags, SocketAddrUnix, SocketFlags, SocketType};

use proto::*;
use ring::{Geometry, Region, Ring};

/// Upstream's memif (etherguard-go tap/tap_vpp.go): 1024 slots, 2048-byte buffers, 1 queue pair.
pub const DEFAULT_LOG2_RING: u8 = 10;
pub const DEFAULT_BUFFER_SIZE: u32 = 2048;
/// Batches handed to JS and not yet taken by the event loop (as io.rs).
const MAX_INFLIGHT: usize = 2;
const BATCH_BYTES: usize = 256 << 10;
const BATCH_PACKETS: usize = 256;
/// A drain with at least this many frames switches the receive side to polling.
const POLL_ENTER: usize = 32;
/// Sleep between two ring checks while polling (a ppoll that also watches the control socket).
const POLL_SLEEP_NS: i64 = 50_000;
/// Empty checks in a row that end polling (~10 ms with the sleep above).
const POLL_IDLE_EXIT: u32 = 200;
/// Each handshake step must be answered within this time.
const HANDSHAKE_MS: u64 = 3000;
/// The server's HELLO, the first message after connect, within this time. A server creates its
/// socket before it is ready to serve it (dpdk-testpmd: during its EAL start, which takes
/// seconds on a busy machine), and a client that gives up and closes in that window makes a
/// DPDK memif server panic when it does answer ("sendmsg fail: Broken pipe", then "PANIC in
/// eal_intr_thread_main(): Error adding fd ... epoll_ctl"), so this wait is generous.
const HELLO_MS: u64 = 15_000;

const KIND_BATCH: u32 = 0;
const KIND_ERROR: u32 = 1;
const KIND_DROPS: u32 = 2;
const KIND_UP: u32 = 3;
const KIND_DOWN: u32 = 4;
const KIND_INFO: u32 = 5;

struct Msg {
    kind: u32,
    data: Vec<u8>,
}

type Tsfn = ThreadsafeFunction<Msg, (), FnArgs<(u32, Buffer)>, Status, false>;

/// The send side of a live connection: what `write`/`writeBatch` need, under `Shared::tx`.
struct TxSide {
    region: Arc<Region>,
    ring: Ring,
    /// Our copy of the C2S ring's eventfd: written to wake a server that waits for interrupts.
    kick: Arc<OwnedFd>,
}

/// Write-side drops since the last takeWriteDrops().
#[derive(Default)]
struct WriteDrops {
    not_connected: u32,
    ring_full: u32,
    too_long: u32,
}

struct Shared {
    stop: AtomicBool,
    wake: OwnedFd,
    tx: Mutex<Option<TxSide>>,
    drops: Mutex<WriteDrops>,
    inflight: Mutex<usize>,
    cv: Condvar,
    /// Largest frame carried either way (MTU + Ethernet header + one VLAN tag).
    max_frame: usize,
    rx_frames: AtomicU64,
    tx_frames: AtomicU64,
    poll_entries: AtomicU64,
    interrupts: AtomicU64,
    connects: AtomicU64,
}

impl Shared {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

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

    fn release(&self) {
        let mut n = self.inflight.lock().unwrap();
        *n = n.saturating_sub(1);
        self.cv.notify_one();
    }

    /// Sleeps up to `ms` unless close() wakes us.
    fn nap(&self, ms: u64) {
        let mut p = [PollFd::new(&self.wake, PollFlags::IN)];
        let t = Timespec { tv_sec: (ms / 1000) as _, tv_nsec: ((ms % 1000) * 1_000_000) as _ };
        let _ = rustix::event::poll(&mut p, Some(&t));
    }
}

fn deliver(sh: &Shared, tsfn: &Tsfn, kind: u32, data: Vec<u8>) -> bool {
    if kind == KIND_BATCH && !sh.acquire() {
        return false;
    }
    if kind != KIND_BATCH {
        sh.inflight.lock().map(|mut n| *n += 1).ok();
    }
    if tsfn.call(Msg { kind, data }, ThreadsafeFunctionCallMode::NonBlocking) != Status::Ok {
        sh.release();
        return false;
    }
    true
}

fn drops_msg(n: u64, reason: &str) -> Vec<u8> {
    let mut m = (n.min(u32::MAX as u64) as u32).to_be_bytes().to_vec();
    m.extend_from_slice(reason.as_bytes());
    m
}

/// What the worker needs to (re)connect.
#[derive(Clone)]
struct Config {
    path: String,
    id: u32,
    if_name: String,
    secret: String,
    log2: u8,
    buf_size: u32,
}

/// A live connection as the worker holds it.
struct Conn {
    sock: OwnedFd,
    region: Arc<Region>,
    rx: Ring,
    rx_ev: OwnedFd,
    /// Our next S2C slot to read (the server's tail runs ahead of it).
    last_tail: u16,
}

type CResult<T> = std::result::Result<T, String>;

fn send_msg(sock: &OwnedFd, m: &[u8; MSG_LEN], fd: Option<&OwnedFd>) -> CResult<()> {
    let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut anc = SendAncillaryBuffer::new(&mut space);
    let fds;
    if let Some(f) = fd {
        fds = [f.as_fd()];
        anc.push(SendAncillaryMessage::ScmRights(&fds));
    }
    let n = rustix::net::sendmsg(sock, &[IoSlice::new(m)], &mut anc, SendFlags::NOSIGNAL)
        .map_err(|e| format!("sending {}: {e}", type_name(msg_type(m))))?;
    if n != MSG_LEN {
        return Err(format!("sending {}: short write ({n} bytes)", type_name(msg_type(m))));
    }
    Ok(())
}

/// Waits for one message (or close() / timeout). Ok(None) = stopped.
fn recv_msg(sh: &Shared, sock: &OwnedFd, wait: Duration, what: &str) -> CResult<Option<[u8; MSG_LEN]>> {
    let end = Instant::now() + wait;
    loop {
        if sh.stopped() {
            return Ok(None);
        }
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("no {what} from the server within {} ms", wait.as_millis()));
        }
        let t = Timespec { tv_sec: left.as_secs() as _, tv_nsec: left.subsec_nanos() as _ };
        let mut p = [PollFd::new(sock, PollFlags::IN), PollFd::new(&sh.wake, PollFlags::IN)];
        match rustix::event::poll(&mut p, Some(&t)) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(format!("poll: {e}")),
        }
        let r = p[0].revents();
        if r.is_empty() {
            continue;
        }
        let mut m = [0u8; MSG_LEN];
        match rustix::net::recv(sock, &mut m[..], RecvFlags::DONTWAIT) {
            Ok((_, 0)) => return Err("the server closed the socket".into()),
            Ok((_, n)) if n != MSG_LEN => return Err(format!("control message of {n} bytes (must be {MSG_LEN})")),
            Ok(_) => return Ok(Some(m)),
            Err(rustix::io::Errno::AGAIN) | Err(rustix::io::Errno::INTR) => {
                if r.intersects(PollFlags::HUP | PollFlags::ERR) {
                    return Err("the server closed the socket".into());
                }
            }
            Err(e) => return Err(format!("receiving: {e}")),
        }
    }
}

/// Expects `want`; a DISCONNECT is turned into an error with the server's reason.
fn expect(sh: &Shared, sock: &OwnedFd, want: u16, after: &str) -> CResult<Option<[u8; MSG_LEN]>> {
    let Some(m) = recv_msg(sh, sock, Duration::from_millis(HANDSHAKE_MS), type_name(want))? else { return Ok(None) };
    let t = msg_type(&m);
    if t == T_DISCONNECT {
        let (code, why) = parse_disconnect(&m);
        return Err(format!("the server refused {after}: {why} (code {code})"));
    }
    if t != want {
        return Err(format!("expected {} after {after}, got {} ({t})", type_name(want), type_name(t)));
    }
    Ok(Some(m))
}

/// A connection (receive side, send side, description), None when stopped meanwhile, or
/// (reason, transient) where transient marks "nobody listens yet" (logged once, not as an error).
type Connected = std::result::Result<Option<(Conn, TxSide, String)>, (String, bool)>;

/// Connects and runs the handshake.
fn connect_once(sh: &Shared, cfg: &Config) -> Connected {
    let sock = rustix::net::socket_with(AddressFamily::UNIX, SocketType::SEQPACKET, SocketFlags::CLOEXEC, None)
        .map_err(|e| (format!("socket(AF_UNIX, SOCK_SEQPACKET): {e}"), false))?;
    let addr = SocketAddrUnix::new(cfg.path.as_str()).map_err(|e| (format!("socket path {:?}: {e}", cfg.path), false))?;
    if let Err(e) = rustix::net::connect(&sock, &addr) {
        let transient = matches!(e, rustix::io::Errno::NOENT | rustix::io::Errno::CONNREFUSED | rustix::io::Errno::AGAIN);
        return Err((format!("connect {}: {e}", cfg.path), transient));
    }
    let hs = |r: CResult<Option<[u8; MSG_LEN]>>| r.map_err(|e| (e, false));
    let Some(h) = hs(recv_msg(sh, &sock, Duration::from_millis(HELLO_MS), "HELLO"))? else { return Ok(None) };
    if msg_type(&h) == T_DISCONNECT {
        let (_, why) = parse_disconnect(&h);
        return Err((format!("the server disconnected at once: {why}"), false));
    }
    if msg_type(&h) != T_HELLO {
        return Err((format!("expected HELLO, got {}", type_name(msg_type(&h))), false));
    }
    let hello = parse_hello(&h);
    if hello.min_version > VERSION || hello.max_version < VERSION {
        let _ = send_msg(&sock, &disconnect(0, "Incompatible memif version"), None);
        return Err((format!("the server speaks memif {:#06x}..{:#06x}, we speak {VERSION:#06x}", hello.min_version, hello.max_version), false));
    }
    // The server's limit wins, as DPDK's client does (a smaller ring than configured).
    let log2 = cfg.log2.min(hello.max_log2_ring.max(1));
    let g = Geometry { log2, buf_size: cfg.buf_size };
    let io = |what: &str, e: std::io::Error| (format!("{what}: {e}"), false);
    let region = Arc::new(Region::create(g.region_len()).map_err(|e| io("shared memory (memfd)", e))?);
    // SAFETY: the region is g.region_len() bytes and lives in the Arc the rings travel with.
    let (tx_ring, rx_ring) = unsafe { (Ring::new(&region, 0, g), Ring::new(&region, 1, g)) };
    tx_ring.init();
    rx_ring.init();
    let ev = || rustix::event::eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK).map_err(|e| (format!("eventfd: {e}"), false));
    let (tx_ev, rx_ev) = (ev()?, ev()?);
    let step = |m: [u8; MSG_LEN], fd: Option<&OwnedFd>, want: u16, what: &str| -> std::result::Result<Option<[u8; MSG_LEN]>, (String, bool)> {
        send_msg(&sock, &m, fd).map_err(|e| (e, false))?;
        hs(expect(sh, &sock, want, what))
    };
    if step(init(cfg.id, &cfg.secret, "etherguard"), None, T_ACK, &format!("INIT (interface id {})", cfg.id))?.is_none() {
        return Ok(None);
    }
    if step(add_region(0, region.len() as u64), Some(&region.fd), T_ACK, "ADD_REGION")?.is_none() {
        return Ok(None);
    }
    if step(add_ring(true, 0, 0, g.ring_off(0) as u32, log2), Some(&tx_ev), T_ACK, "ADD_RING (client to server)")?.is_none() {
        return Ok(None);
    }
    if step(add_ring(false, 0, 0, g.ring_off(1) as u32, log2), Some(&rx_ev), T_ACK, "ADD_RING (server to client)")?.is_none() {
        return Ok(None);
    }
    let Some(c) = step(connect(&cfg.if_name), None, T_CONNECTED, "CONNECT")? else { return Ok(None) };
    // The server reset every index to 0 on CONNECT: hand it all S2C slots now.
    let mut conn = Conn { sock, region: region.clone(), rx: rx_ring, rx_ev, last_tail: 0 };
    refill(&mut conn);
    let desc = format!(
        "connected to {:?} (interface {:?}) at {}: interface id {}, {} slots of {} bytes each way",
        hello.name,
        parse_connected(&c),
        cfg.path,
        cfg.id,
        g.slots(),
        g.buf_size
    );
    let tx = TxSide { region, ring: tx_ring, kick: Arc::new(tx_ev) };
    Ok(Some((conn, tx, desc)))
}

/// Gives the server every S2C slot we are not holding: length = buffer size, no flags.
fn refill(c: &mut Conn) {
    let r = c.rx;
    let n = r.g.slots() as u16;
    let mut head = r.head().load(Ordering::Relaxed);
    let give = n.wrapping_sub(head.wrapping_sub(c.last_tail));
    for _ in 0..give {
        r.set_desc(head, 0, r.g.buf_size);
        head = head.wrapping_add(1);
    }
    r.head().store(head, Ordering::Release);
}

/// Reads what the server put in the S2C ring into `out` as records (counting frames, frames
/// too long and empty ones), then refills it; Err on a ring rule broken by the server.
fn drain_rx(sh: &Shared, c: &mut Conn, out: &mut Vec<u8>, count: &mut usize, too_long: &mut u64, empty: &mut u64) -> CResult<()> {
    let r = c.rx;
    let n = r.g.slots() as u16;
    let tail = r.tail().load(Ordering::Acquire);
    let avail = tail.wrapping_sub(c.last_tail);
    if avail > n {
        return Err(format!("the server moved the S2C tail to {tail}, {avail} slots past ours ({}), more than the ring holds", c.last_tail));
    }
    let mut cur = c.last_tail;
    'frames: while cur != tail && out.len() < BATCH_BYTES && *count < BATCH_PACKETS {
        // One frame: a chain of descriptors ending in one without NEXT.
        let start = out.len();
        out.extend_from_slice(&[0, 0]);
        let mut len = 0usize;
        let mut s = cur;
        loop {
            if s == tail {
                // The chain is not complete yet: leave it for the next drain.
                out.truncate(start);
                break 'frames;
            }
            let (flags, dlen) = r.get_desc(s);
            if dlen > r.g.buf_size {
                return Err(format!("S2C descriptor {s}: length {dlen} above the buffer size {}", r.g.buf_size));
            }
            let dlen = dlen as usize;
            if len + dlen <= sh.max_frame {
                // SAFETY: dlen <= buf_size bytes of this slot's own buffer inside the region.
                let src = unsafe { std::slice::from_raw_parts(r.buf(&c.region, s), dlen) };
                out.extend_from_slice(src);
            }
            len += dlen;
            s = s.wrapping_add(1);
            if flags & DESC_FLAG_NEXT == 0 {
                break;
            }
            if s.wrapping_sub(cur) > n {
                return Err("S2C descriptor chain longer than the ring".into());
            }
        }
        cur = s;
        if len > sh.max_frame || len == 0 {
            out.truncate(start);
            if len > 0 {
                *too_long += 1;
            } else {
                *empty += 1;
            }
            continue;
        }
        out[start..start + 2].copy_from_slice(&(len as u16).to_be_bytes());
        *count += 1;
    }
    c.last_tail = cur;
    refill(c);
    Ok(())
}

/// Serves one connection; returns why it ended.
fn serve(sh: &Shared, tsfn: &Tsfn, c: &mut Conn) -> String {
    let mut polling = false;
    let mut idle = 0u32;
    let too_long_reason = format!("frame from memif longer than the MTU allows ({} bytes)", sh.max_frame);
    loop {
        if sh.stopped() {
            let _ = send_msg(&c.sock, &disconnect(0, "etherguard interface closed"), None);
            return "closed".into();
        }
        // Wait: for an interrupt (or anything) in interrupt mode, POLL_SLEEP_NS when polling.
        let t = if polling { Timespec { tv_sec: 0, tv_nsec: POLL_SLEEP_NS as _ } } else { Timespec { tv_sec: 1, tv_nsec: 0 } };
        let (ctl, irq) = {
            let mut p = [PollFd::new(&c.sock, PollFlags::IN), PollFd::new(&c.rx_ev, PollFlags::IN), PollFd::new(&sh.wake, PollFlags::IN)];
            match rustix::event::poll(&mut p, Some(&t)) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => return format!("poll: {e}"),
            }
            (p[0].revents(), !p[1].revents().is_empty())
        };
        if !ctl.is_empty() {
            let mut m = [0u8; MSG_LEN];
            match rustix::net::recv(&c.sock, &mut m[..], RecvFlags::DONTWAIT) {
                Ok((_, 0)) => return "the server closed the socket".into(),
                Ok((_, n)) if n != MSG_LEN => return format!("control message of {n} bytes (must be {MSG_LEN})"),
                Ok(_) => {
                    if msg_type(&m) == T_DISCONNECT {
                        let (code, why) = parse_disconnect(&m);
                        return format!("the server disconnected: {why} (code {code})");
                    }
                    // Nothing else is expected once connected; ignore rather than fail.
                }
                Err(rustix::io::Errno::AGAIN) | Err(rustix::io::Errno::INTR) => {
                    if ctl.intersects(PollFlags::HUP | PollFlags::ERR) {
                        return "the server closed the socket".into();
                    }
                }
                Err(e) => return format!("control socket: {e}"),
            }
        }
        if irq {
            let mut b = [0u8; 8];
            let _ = rustix::io::read(&c.rx_ev, &mut b);
            sh.interrupts.fetch_add(1, Ordering::Relaxed);
        }
        let mut out = Vec::with_capacity(64 << 10);
        let mut count = 0usize;
        let mut too_long = 0u64;
        let mut empty = 0u64;
        loop {
            let before = count;
            if let Err(e) = drain_rx(sh, c, &mut out, &mut count, &mut too_long, &mut empty) {
                let _ = send_msg(&c.sock, &disconnect(1, "ring rule broken"), None);
                return e;
            }
            if count == before || out.len() >= BATCH_BYTES || count >= BATCH_PACKETS {
                break;
            }
        }
        if too_long > 0 {
            deliver(sh, tsfn, KIND_DROPS, drops_msg(too_long, &too_long_reason));
        }
        if empty > 0 {
            deliver(sh, tsfn, KIND_DROPS, drops_msg(empty, "empty frame from memif (0 bytes)"));
        }
        if count > 0 {
            sh.rx_frames.fetch_add(count as u64, Ordering::Relaxed);
            deliver(sh, tsfn, KIND_BATCH, out);
        }
        if count >= POLL_ENTER && !polling {
            polling = true;
            idle = 0;
            sh.poll_entries.fetch_add(1, Ordering::Relaxed);
            c.rx.flags().fetch_or(RING_FLAG_MASK_INT, Ordering::Release);
        } else if polling {
            if count == 0 {
                idle += 1;
                if idle >= POLL_IDLE_EXIT {
                    polling = false;
                    c.rx.flags().fetch_and(!RING_FLAG_MASK_INT, Ordering::Release);
                    // Frames that landed between the last check and the unmask raised no
                    // interrupt: signal our own S2C eventfd so the next poll looks once more.
                    let _ = rustix::io::write(&c.rx_ev, &1u64.to_ne_bytes());
                }
            } else {
                idle = 0;
            }
        }
    }
}

fn worker(sh: Arc<Shared>, cfg: Config, tsfn: Tsfn) {
    let mut backoff = 100u64;
    let mut last_wait_msg = String::new();
    while !sh.stopped() {
        match connect_once(&sh, &cfg) {
            Ok(None) => break,
            Ok(Some((mut conn, tx, desc))) => {
                backoff = 100;
                last_wait_msg.clear();
                *sh.tx.lock().unwrap() = Some(tx);
                sh.connects.fetch_add(1, Ordering::Relaxed);
                deliver(&sh, &tsfn, KIND_UP, desc.into_bytes());
                let why = serve(&sh, &tsfn, &mut conn);
                // Writers stop touching the region before it is unmapped (it lives on in the
                // Arc until both sides have let go).
                *sh.tx.lock().unwrap() = None;
                drop(conn);
                deliver(&sh, &tsfn, KIND_DOWN, why.into_bytes());
                sh.nap(100);
            }
            Err((e, transient)) => {
                // Said once per distinct reason; a server that is not there yet is not an error.
                if e != last_wait_msg {
                    let kind = if transient { KIND_INFO } else { KIND_ERROR };
                    let text = if transient { format!("waiting for the memif server: {e}") } else { format!("memif handshake failed: {e}") };
                    deliver(&sh, &tsfn, kind, text.into_bytes());
                    last_wait_msg = e;
                }
                sh.nap(backoff);
                backoff = (backoff * 2).min(1000);
            }
        }
    }
}

/// Options of `Memif.open`.
#[napi(object)]
pub struct MemifOptions {
    /// The server's socket file (`$VPP_MEMIF_SOCKET_DIR/<Name>.sock`).
    pub socket_path: String,
    /// Interface id (`VPPIFaceID`): must match the server's memif id.
    pub id: u32,
    /// Our interface name, sent in CONNECT (`Interface.Name`).
    pub if_name: String,
    /// Largest frame either way in bytes (the caller passes MTU + 14 + 4); longer ones are
    /// dropped and counted. At most 65535.
    pub max_frame: u32,
    /// Ring slots each way, a power of two from 2 to 32768 (default 1024, upstream's); the
    /// server may lower it in HELLO.
    pub ring_size: Option<u32>,
    /// Bytes per buffer (default 2048, upstream's); longer frames use chained descriptors.
    pub buffer_size: Option<u32>,
    /// Shared secret (at most 23 bytes), empty by default as with DPDK's and VPP's defaults.
    pub secret: Option<String>,
}

/// Counters of one interface (totals since open).
#[napi(object)]
pub struct MemifStats {
    pub connected: bool,
    pub connects: f64,
    pub rx_frames: f64,
    pub tx_frames: f64,
    /// Switches from interrupt mode to polling on the receive side.
    pub poll_entries: f64,
    /// Interrupts (eventfd wake-ups) taken on the receive side.
    pub interrupts: f64,
}

/// A memif client interface with its worker thread.
#[napi]
pub struct Memif {
    sh: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    closed: bool,
}

#[napi]
impl Memif {
    /// Validates the options and starts the worker (which connects, and reconnects, on its
    /// own). Throws on bad options only; a missing server is reported through the callback.
    #[napi(factory, ts_args_type = "options: MemifOptions, onEvent: (kind: number, data: Buffer) => void")]
    pub fn open(options: MemifOptions, on_event: Function<FnArgs<(u32, Buffer)>, ()>) -> Result<Memif> {
        let rs = options.ring_size.unwrap_or(1 << DEFAULT_LOG2_RING);
        if !(2..=32768).contains(&rs) || !rs.is_power_of_two() {
            return Err(Error::from_reason(format!("memif ring size {rs} must be a power of two from 2 to 32768")));
        }
        let bs = options.buffer_size.unwrap_or(DEFAULT_BUFFER_SIZE);
        if !(64..=65535).contains(&bs) {
            return Err(Error::from_reason(format!("memif buffer size {bs} must be 64 to 65535 bytes")));
        }
        if options.max_frame < 64 || options.max_frame > 65535 {
            return Err(Error::from_reason(format!("memif largest frame {} must be 64 to 65535 bytes", options.max_frame)));
        }
        let secret = options.secret.unwrap_or_default();
        if secret.len() >= SECRET_LEN {
            return Err(Error::from_reason(format!("memif secret must be at most {} bytes", SECRET_LEN - 1)));
        }
        let cfg = Config {
            path: options.socket_path,
            id: options.id,
            if_name: options.if_name,
            secret,
            log2: rs.trailing_zeros() as u8,
            buf_size: bs,
        };
        let wake = rustix::event::eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK).map_err(|e| Error::from_reason(format!("eventfd: {e}")))?;
        let sh = Arc::new(Shared {
            stop: AtomicBool::new(false),
            wake,
            tx: Mutex::new(None),
            drops: Mutex::new(WriteDrops::default()),
            inflight: Mutex::new(0),
            cv: Condvar::new(),
            max_frame: options.max_frame as usize,
            rx_frames: AtomicU64::new(0),
            tx_frames: AtomicU64::new(0),
            poll_entries: AtomicU64::new(0),
            interrupts: AtomicU64::new(0),
            connects: AtomicU64::new(0),
        });
        let s2 = sh.clone();
        let tsfn: Tsfn = on_event.build_threadsafe_function::<Msg>().callee_handled::<false>().build_callback(move |ctx| {
            s2.release();
            Ok(FnArgs::from((ctx.value.kind, Buffer::from(ctx.value.data))))
        })?;
        let s1 = sh.clone();
        let t = std::thread::Builder::new()
            .name("eg-memif".into())
            .spawn(move || worker(s1, cfg, tsfn))
            .map_err(|e| Error::from_reason(format!("spawn memif worker: {e}")))?;
        Ok(Memif { sh, thread: Some(t), closed: false })
    }

    /// Writes `count` frames given as `[len u16 BE][frame]` records into the client -> server
    /// ring: one head store and at most one interrupt for the batch. Returns how many were
    /// taken; the others are counted by reason (takeWriteDrops).
    #[napi]
    pub fn write_batch(&self, records: &[u8], count: u32) -> u32 {
        self.write_records(records, count as usize) as u32
    }

    /// Writes one frame; false = dropped (counted by reason, see takeWriteDrops).
    #[napi]
    pub fn write(&self, frame: &[u8]) -> bool {
        if frame.len() > u16::MAX as usize {
            self.sh.drops.lock().unwrap().too_long += 1;
            return false;
        }
        let mut rec = Vec::with_capacity(2 + frame.len());
        rec.extend_from_slice(&(frame.len() as u16).to_be_bytes());
        rec.extend_from_slice(frame);
        self.write_records(&rec, 1) == 1
    }

    fn write_records(&self, records: &[u8], count: usize) -> usize {
        let mut d = WriteDrops::default();
        let mut taken = 0usize;
        {
            let g = self.sh.tx.lock().unwrap();
            match g.as_ref() {
                None => d.not_connected = count as u32,
                Some(tx) if !self.closed => {
                    let r = tx.ring;
                    let n = r.g.slots() as u16;
                    let bs = r.g.buf_size as usize;
                    let mut head = r.head().load(Ordering::Relaxed);
                    let tail = r.tail().load(Ordering::Acquire);
                    let used = head.wrapping_sub(tail);
                    let mut free = n.saturating_sub(used);
                    let mut off = 0usize;
                    for _ in 0..count {
                        if off + 2 > records.len() {
                            break;
                        }
                        let len = u16::from_be_bytes([records[off], records[off + 1]]) as usize;
                        let f = &records[off + 2..(off + 2 + len).min(records.len())];
                        off += 2 + len;
                        if f.len() != len || len == 0 || len > self.sh.max_frame {
                            d.too_long += 1;
                            continue;
                        }
                        let need = len.div_ceil(bs);
                        if need > free as usize {
                            d.ring_full += 1;
                            continue;
                        }
                        for (k, chunk) in f.chunks(bs).enumerate() {
                            let s = head.wrapping_add(k as u16);
                            // SAFETY: chunk.len() <= buf_size bytes into this slot's buffer.
                            unsafe { std::ptr::copy_nonoverlapping(chunk.as_ptr(), r.buf(&tx.region, s), chunk.len()) };
                            r.set_desc(s, if k + 1 < need { DESC_FLAG_NEXT } else { 0 }, chunk.len() as u32);
                        }
                        head = head.wrapping_add(need as u16);
                        free -= need as u16;
                        taken += 1;
                    }
                    if taken > 0 {
                        r.head().store(head, Ordering::Release);
                        if r.flags().load(Ordering::Acquire) & RING_FLAG_MASK_INT == 0 {
                            let _ = rustix::io::write(&*tx.kick, &1u64.to_ne_bytes());
                        }
                        self.sh.tx_frames.fetch_add(taken as u64, Ordering::Relaxed);
                    }
                }
                Some(_) => d.not_connected = count as u32,
            }
        }
        if d.not_connected + d.ring_full + d.too_long > 0 {
            let mut t = self.sh.drops.lock().unwrap();
            t.not_connected += d.not_connected;
            t.ring_full += d.ring_full;
            t.too_long += d.too_long;
        }
        taken
    }

    /// Frames refused since the last call: `[not connected, ring full, too long]`.
    #[napi]
    pub fn take_write_drops(&self) -> Vec<u32> {
        let mut t = self.sh.drops.lock().unwrap();
        let r = vec![t.not_connected, t.ring_full, t.too_long];
        *t = WriteDrops::default();
        r
    }

    #[napi(getter)]
    pub fn connected(&self) -> bool {
        self.sh.tx.lock().unwrap().is_some()
    }

    #[napi]
    pub fn stats(&self) -> MemifStats {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
        MemifStats {
            connected: self.connected(),
            connects: l(&self.sh.connects),
            rx_frames: l(&self.sh.rx_frames),
            tx_frames: l(&self.sh.tx_frames),
            poll_entries: l(&self.sh.poll_entries),
            interrupts: l(&self.sh.interrupts),
        }
    }

    /// Sends DISCONNECT to a connected server, stops and joins the worker (within a few ms),
    /// unmaps the region. Idempotent.
    #[napi]
    pub fn close(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.sh.stop.store(true, Ordering::Release);
        let _ = rustix::io::write(&self.sh.wake, &1u64.to_ne_bytes());
        {
            let _g = self.sh.inflight.lock().unwrap();
            self.sh.cv.notify_all();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        *self.sh.tx.lock().unwrap() = None;
    }
}

impl Drop for Memif {
    fn drop(&mut self) {
        self.close();
    }
}
