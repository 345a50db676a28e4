//! Main-thread reads for an idle link: a libuv poll handle on the edge's own event loop.
//!
//! A `NativeIo` reads with a reader thread, which overlaps the kernel's work with the main thread
//! under load but costs a lone packet a thread hand-off (the reader wakes, then wakes the event
//! loop through the threadsafe function's async handle: a futex and an eventfd round). While the
//! link is idle the fd is watched by the event loop itself instead (`uv_poll_t`, epoll): the
//! readable callback reads on the main thread and calls the JS callback directly, so a ping pays
//! no hand-off at either edge (issue 10 part 5).
//!
//! Switching (one mode at a time; [`Shared::mode`]):
//! - main → thread: a main-thread read that finds [`HANDOFF_PACKETS`] or more packets, or
//!   [`HANDOFF_BYTES`] or more, or an error, or the [`HANDOFF_FAST`]th read in a row that came
//!   less than [`FAST_GAP`] after the one before (a steady stream the main thread keeps up with
//!   one packet at a time), stops the poll handle and wakes the reader thread;
//! - thread → main: a reader batch of at most 2 packets that followed a wait of at least
//!   [`IDLE_WAIT`] is marked idle, and when the main thread takes it (threadsafe-function
//!   callback) it starts the poll handle again, but only if nothing waits behind it (no other
//!   batch queued for JS, nothing in the kernel queue): under a steady flood on a CPU-starved
//!   machine the sender pauses for a millisecond now and then too, and switching then would put
//!   the next burst's reads on the busy main thread (and flap back and forth).
//!
//! Order: both sides read with the same [`Fill`] behind one mutex, so their reads never
//! interleave; main → thread happens after the main thread's last read was handed to JS; thread →
//! main is taken under [`Shared::read_turn`], which the reader thread holds from its read until
//! the batch is queued, and only when nothing is queued for JS: so packets reach JS in the order
//! the kernel queued them (test/native-read-order.test.ts). `EG_MAIN_POLL=0` turns main-thread
//! reads off (reader threads only).
//!
//! libuv functions come from the node binary that loads the addon (Node exports libuv's API for
//! addons); everything here runs on the main thread.

use std::ffi::c_void;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use napi::sys;

use crate::io::{Fill, Shared, BATCH_BYTES, BATCH_PACKETS, KIND_DROPS, KIND_STAMPED, MODE_MAIN, MODE_THREAD};

/// A main-thread read of this many packets hands reading over to the thread...
pub(crate) const HANDOFF_PACKETS: usize = 4;
/// ...or of this many bytes (one TSO super-frame is enough: the link is busy).
pub(crate) const HANDOFF_BYTES: usize = 32 << 10;
/// Main-thread reads this close together...
pub(crate) const FAST_GAP: Duration = Duration::from_micros(300);
/// ...this many times in a row mean a busy link too.
pub(crate) const HANDOFF_FAST: u32 = 8;
/// Main-thread batches up to this size are handed to JS as copies, larger ones lent (see call()).
pub(crate) const COPY_MAX_BYTES: usize = 4 << 10;
/// A reader-thread wait this long before a small batch means the link went idle.
pub(crate) const IDLE_WAIT: Duration = Duration::from_millis(1);

const UV_READABLE: libc::c_int = 1;
/// `UV_POLL` in libuv's `uv_handle_type` (UV_HANDLE_TYPE_MAP order: ASYNC = 1 ... POLL = 8).
const UV_POLL: libc::c_int = 8;

extern "C" {
    fn uv_handle_size(t: libc::c_int) -> usize;
    fn uv_poll_init(lp: *mut sys::uv_loop_s, handle: *mut c_void, fd: libc::c_int) -> libc::c_int;
    fn uv_poll_start(handle: *mut c_void, events: libc::c_int, cb: extern "C" fn(*mut c_void, libc::c_int, libc::c_int)) -> libc::c_int;
    fn uv_poll_stop(handle: *mut c_void) -> libc::c_int;
    fn uv_close(handle: *mut c_void, cb: extern "C" fn(*mut c_void));
}

/// Whether main-thread reads are wanted (`EG_MAIN_POLL` is not `0`).
pub(crate) fn wanted() -> bool {
    std::env::var("EG_MAIN_POLL").map_or(true, |v| v != "0")
}

/// The poll handle of one `NativeIo`, with what its callback needs. Lives in a Box whose address
/// is the handle's `data` word and [`Shared::main`]; freed by libuv's close callback.
pub(crate) struct MainReader {
    /// `uv_poll_t` storage (u64 words for alignment); its first word is libuv's `data` pointer.
    handle: Box<[u64]>,
    env: sys::napi_env,
    cb: sys::napi_ref,
    actx: sys::napi_async_context,
    active: bool,
    closing: bool,
    sh: Arc<Shared>,
    fill: Arc<Mutex<dyn Fill + Send>>,
    drop_reason: &'static str,
    /// When the last main-thread read happened, and how many in a row came within FAST_GAP.
    last_read: Instant,
    fast: u32,
    /// The batch buffer of main-thread reads (reused: no allocation per read).
    buf: Vec<u8>,
}

impl MainReader {
    /// Sets up the poll handle on `env`'s loop for `sh.fd` (not started); `func` is the JS
    /// callback `(kind, data)`. Returns the raw box, owned from now on by libuv's close callback.
    pub(crate) fn create(
        env: sys::napi_env,
        func: sys::napi_value,
        sh: Arc<Shared>,
        fill: Arc<Mutex<dyn Fill + Send>>,
        drop_reason: &'static str,
    ) -> Result<*mut MainReader, String> {
        let mut lp: *mut sys::uv_loop_s = std::ptr::null_mut();
        // SAFETY: napi calls on the main thread with the env we were called with.
        unsafe {
            if sys::napi_get_uv_event_loop(env, &mut lp) != sys::Status::napi_ok || lp.is_null() {
                return Err("napi_get_uv_event_loop failed".into());
            }
            let words = uv_handle_size(UV_POLL).div_ceil(8).max(16);
            let mut cb: sys::napi_ref = std::ptr::null_mut();
            if sys::napi_create_reference(env, func, 1, &mut cb) != sys::Status::napi_ok {
                return Err("napi_create_reference failed".into());
            }
            let mut name: sys::napi_value = std::ptr::null_mut();
            let label = b"etherguard:io";
            sys::napi_create_string_utf8(env, label.as_ptr() as *const _, label.len() as isize, &mut name);
            let mut actx: sys::napi_async_context = std::ptr::null_mut();
            if sys::napi_async_init(env, std::ptr::null_mut(), name, &mut actx) != sys::Status::napi_ok {
                sys::napi_delete_reference(env, cb);
                return Err("napi_async_init failed".into());
            }
            let mr = Box::into_raw(Box::new(MainReader {
                handle: vec![0u64; words].into_boxed_slice(),
                env,
                cb,
                actx,
                active: false,
                closing: false,
                sh,
                fill,
                drop_reason,
                last_read: Instant::now(),
                fast: 0,
                buf: Vec::new(),
            }));
            let r = &mut *mr;
            let h = r.handle.as_mut_ptr() as *mut c_void;
            let rc = uv_poll_init(lp, h, r.sh.fd);
            if rc != 0 {
                sys::napi_delete_reference(env, cb);
                sys::napi_async_destroy(env, actx);
                drop(Box::from_raw(mr));
                return Err(format!("uv_poll_init: libuv error {rc}"));
            }
            *(h as *mut *mut MainReader) = mr;
            Ok(mr)
        }
    }

    fn h(&mut self) -> *mut c_void {
        self.handle.as_mut_ptr() as *mut c_void
    }

    /// Main-thread reads from now on (the reader thread parks). False if libuv refused.
    pub(crate) fn start(&mut self) -> bool {
        if self.closing {
            return false;
        }
        self.fast = 0;
        if !self.active {
            // SAFETY: an initialised poll handle, main thread.
            if unsafe { uv_poll_start(self.h(), UV_READABLE, on_poll) } != 0 {
                return false;
            }
            self.active = true;
        }
        self.sh.mode.store(MODE_MAIN, Ordering::Release);
        true
    }

    /// Hands reading back to the reader thread.
    pub(crate) fn to_thread(&mut self) {
        if self.active {
            // SAFETY: as above.
            unsafe { uv_poll_stop(self.h()) };
            self.active = false;
        }
        self.sh.mode.store(MODE_THREAD, Ordering::Release);
        self.sh.unpark();
    }

    /// Stops and closes the handle; the box is freed by libuv's close callback (the pointer must
    /// not be used afterwards).
    pub(crate) fn close(&mut self) {
        if self.closing {
            return;
        }
        self.to_thread();
        self.closing = true;
        // SAFETY: main thread; the reference and context were made by create().
        unsafe {
            sys::napi_delete_reference(self.env, self.cb);
            sys::napi_async_destroy(self.env, self.actx);
            uv_close(self.h(), on_close);
        }
    }

    /// Calls the JS callback with `(kind, data)`, as the threadsafe function would: a copy, or
    /// with `borrowBatches` a batch (kinds 0 and 3) of more than [`COPY_MAX_BYTES`] lent as a view
    /// that is revoked (detached) when the call returns. A throw becomes an uncaught exception, as it would from any other
    /// event-loop callback. Returns false when a lent view could not be revoked: `data` must then
    /// never be reused or freed.
    fn call(&mut self, kind: u32, data: &[u8]) -> bool {
        if self.closing {
            return true;
        }
        let env = self.env;
        // SAFETY: main thread, inside a libuv callback (no JS on the stack): a handle scope and
        // napi_make_callback (which runs the microtask and nextTick queues afterwards).
        unsafe {
            let mut scope: sys::napi_handle_scope = std::ptr::null_mut();
            sys::napi_open_handle_scope(env, &mut scope);
            let mut func: sys::napi_value = std::ptr::null_mut();
            let mut recv: sys::napi_value = std::ptr::null_mut();
            let mut k: sys::napi_value = std::ptr::null_mut();
            let mut buf: sys::napi_value = std::ptr::null_mut();
            let mut out: *mut c_void = std::ptr::null_mut();
            sys::napi_get_reference_value(env, self.cb, &mut func);
            // MakeCallback needs an object as the receiver.
            sys::napi_get_global(env, &mut recv);
            sys::napi_create_uint32(env, kind, &mut k);
            // A batch the reader thread lent before reading moved here is done with too.
            self.sh.revoke_lent(env);
            // A small batch (the idle link this path exists for: a ping, an ACK) is copied into a
            // buffer of V8's own instead of lent: revoking a lent view destroys an external
            // backing store, whose release Node defers with a threadsafe immediate, i.e. an
            // eventfd write and one more event-loop iteration after every lone packet. A copy is
            // never refilled under JS either, and the GC frees it with the young generation.
            let lend = (kind == 0 || kind == KIND_STAMPED) && data.len() > COPY_MAX_BYTES && self.sh.borrow.load(Ordering::Relaxed);
            let lent = if lend { crate::io::lend_buffer(env, data) } else { None };
            match lent {
                Some(v) => {
                    buf = v;
                    self.sh.lent_batches.fetch_add(1, Ordering::Relaxed);
                }
                None => {
                    sys::napi_create_buffer_copy(env, data.len(), data.as_ptr() as *const c_void, &mut out, &mut buf);
                }
            }
            let argv = [k, buf];
            let mut result: sys::napi_value = std::ptr::null_mut();
            let st = sys::napi_make_callback(env, self.actx, recv, func, 2, argv.as_ptr(), &mut result);
            let revoked = lent.is_none() || crate::io::revoke_buffer(env, buf);
            if !revoked {
                // The view keeps this memory: stop lending (the caller leaves the memory to it).
                self.sh.borrow.store(false, Ordering::Relaxed);
            }
            if st == sys::Status::napi_pending_exception {
                let mut e: sys::napi_value = std::ptr::null_mut();
                sys::napi_get_and_clear_last_exception(env, &mut e);
                sys::napi_fatal_exception(env, e);
            }
            sys::napi_close_handle_scope(env, scope);
            revoked
        }
    }
}

extern "C" fn on_close(handle: *mut c_void) {
    // SAFETY: the data word holds the box made by create(); libuv is done with the handle.
    unsafe {
        let mr = *(handle as *mut *mut MainReader);
        drop(Box::from_raw(mr));
    }
}

extern "C" fn on_poll(handle: *mut c_void, status: libc::c_int, _events: libc::c_int) {
    // SAFETY: the data word holds our live box (freed only by on_close, after uv_close).
    let mr = unsafe { &mut **(handle as *mut *mut MainReader) };
    if mr.closing || mr.sh.stopped() {
        return;
    }
    if status < 0 {
        // The reader thread reports errors (and backs off); let it.
        return mr.to_thread();
    }
    let mut out = std::mem::take(&mut mr.buf);
    out.clear();
    let mut count = 0usize;
    let mut failed: Option<io::Error> = None;
    let kind = {
        let mut f = mr.fill.lock().unwrap();
        loop {
            match f.fill(&mr.sh, &mut out, &mut count) {
                Ok(true) if out.len() < BATCH_BYTES && count < BATCH_PACKETS => continue,
                Ok(_) => break,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if out.is_empty() { 0 } else { f.finish(&mut out, count) }
    };
    let now = Instant::now();
    mr.fast = if now.duration_since(mr.last_read) < FAST_GAP { mr.fast + 1 } else { 0 };
    mr.last_read = now;
    if failed.is_some() || count >= HANDOFF_PACKETS || out.len() >= HANDOFF_BYTES || mr.fast >= HANDOFF_FAST {
        // Busy (or failing): batches from the reader thread from now on. The failed read is
        // repeated there and reported with its back-off.
        mr.to_thread();
    }
    let dropped = mr.sh.read_drops.swap(0, Ordering::Relaxed);
    if dropped > 0 {
        let mut m = (dropped.min(u32::MAX as u64) as u32).to_be_bytes().to_vec();
        m.extend_from_slice(mr.drop_reason.as_bytes());
        let _ = mr.call(KIND_DROPS, &m); // never lent
    }
    if !out.is_empty() {
        mr.sh.main_batches.fetch_add(1, Ordering::Relaxed);
        if mr.call(kind, &out) {
            mr.buf = out;
        } else {
            // A view of `out` could not be revoked: the memory is left to it.
            std::mem::forget(out);
        }
    } else {
        mr.buf = out;
    }
}
