//! The shared-memory region the client creates (one memfd, mapped here and by the server) and
//! the two rings in it. Layout, chosen like DPDK's client so that either side's assumptions hold:
//!
//! ```text
//! [C2S ring: header + N descriptors][S2C ring: same][N C2S buffers][N S2C buffers]
//! ```
//!
//! Every descriptor slot owns one fixed buffer (`offset` never changes); a frame longer than one
//! buffer takes consecutive slots chained with `DESC_FLAG_NEXT`.
//!
//! Index rules of memif 2.0 (from the client's side; head and tail are free-running u16s):
//! - C2S (we send): we fill slots from `head` and publish them by storing `head`; the server
//!   consumes and stores `tail`. Free slots: `N - (head - tail)`.
//! - S2C (we receive): we give the server empty slots by advancing `head` (length = buffer
//!   size); it fills them and stores `tail`. Frames are the slots from our `last_tail` to `tail`.

use std::sync::atomic::{AtomicU16, Ordering};

use rustix::fd::OwnedFd;
use rustix::fs::{MemfdFlags, SealFlags};
use rustix::mm::{MapFlags, ProtFlags};

use super::proto::*;

/// A mapped memfd; unmapped on drop (the fd is closed with it).
pub struct Region {
    ptr: *mut u8,
    len: usize,
    pub fd: OwnedFd,
}

// SAFETY: the mapping is plain shared memory; every access goes through raw pointers with
// atomics for the indices that two processes (and two of our threads) race on.
unsafe impl Send for Region {}
unsafe impl Sync for Region {}

impl Region {
    /// memfd_create + SEAL_SHRINK (the server may rely on the size not shrinking under it, as
    /// DPDK's client promises) + ftruncate + mmap(MAP_SHARED).
    pub fn create(len: usize) -> std::io::Result<Region> {
        let fd = rustix::fs::memfd_create("etherguard-memif", MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)?;
        rustix::fs::ftruncate(&fd, len as u64)?;
        rustix::fs::fcntl_add_seals(&fd, SealFlags::SHRINK)?;
        // SAFETY: a fresh shared mapping of a file of exactly `len` bytes.
        let ptr = unsafe { rustix::mm::mmap(std::ptr::null_mut(), len, ProtFlags::READ | ProtFlags::WRITE, MapFlags::SHARED, &fd, 0)? };
        Ok(Region { ptr: ptr as *mut u8, len, fd })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn base(&self) -> *mut u8 {
        self.ptr
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: our own mapping, no ring or buffer pointer outlives the Region (they borrow it
        // through Arc<Region>).
        unsafe {
            let _ = rustix::mm::munmap(self.ptr as *mut std::ffi::c_void, self.len);
        }
    }
}

/// Sizes fixed for one connection.
#[derive(Clone, Copy, Debug)]
pub struct Geometry {
    pub log2: u8,
    pub buf_size: u32,
}

impl Geometry {
    pub fn slots(&self) -> usize {
        1 << self.log2
    }
    pub fn mask(&self) -> u16 {
        (self.slots() - 1) as u16
    }
    /// Offset of the C2S ring (0) or the S2C ring (1).
    pub fn ring_off(&self, which: usize) -> usize {
        which * ring_bytes(self.log2)
    }
    /// Offset of the buffer that slot `slot` of ring `which` owns.
    pub fn buf_off(&self, which: usize, slot: u16) -> usize {
        2 * ring_bytes(self.log2) + (which * self.slots() + (slot & self.mask()) as usize) * self.buf_size as usize
    }
    pub fn region_len(&self) -> usize {
        2 * ring_bytes(self.log2) + 2 * self.slots() * self.buf_size as usize
    }
}

/// One ring inside a Region (borrowed by pointer; the owner keeps the Region alive).
#[derive(Clone, Copy)]
pub struct Ring {
    base: *mut u8,
    pub which: usize,
    pub g: Geometry,
}

// SAFETY: see Region.
unsafe impl Send for Ring {}

impl Ring {
    /// # Safety
    /// `region` must be at least `g.region_len()` bytes and outlive the Ring.
    pub unsafe fn new(region: &Region, which: usize, g: Geometry) -> Ring {
        Ring { base: region.base().add(g.ring_off(which)), which, g }
    }

    fn atomic(&self, off: usize) -> &AtomicU16 {
        // SAFETY: 2-aligned u16 fields inside the mapped ring header.
        unsafe { &*(self.base.add(off) as *const AtomicU16) }
    }
    pub fn head(&self) -> &AtomicU16 {
        self.atomic(RING_HEAD_OFF)
    }
    pub fn tail(&self) -> &AtomicU16 {
        self.atomic(RING_TAIL_OFF)
    }
    pub fn flags(&self) -> &AtomicU16 {
        self.atomic(RING_FLAGS_OFF)
    }

    fn desc(&self, slot: u16) -> *mut u8 {
        // SAFETY: slot is masked into the ring's descriptor array.
        unsafe { self.base.add(RING_DESC_OFF + DESC_LEN * (slot & self.g.mask()) as usize) }
    }

    /// Writes a whole descriptor: flags, region 0, length, this slot's own buffer offset.
    pub fn set_desc(&self, slot: u16, flags: u16, length: u32) {
        let d = self.desc(slot);
        let off = self.g.buf_off(self.which, slot) as u32;
        // SAFETY: 16 bytes inside the mapping; the peer reads them only after the index store
        // (release) that publishes the slot.
        unsafe {
            std::ptr::write_volatile(d as *mut u16, flags.to_le());
            std::ptr::write_volatile(d.add(2) as *mut u16, 0u16);
            std::ptr::write_unaligned(d.add(4) as *mut u32, length.to_le());
            std::ptr::write_unaligned(d.add(8) as *mut u32, off.to_le());
            std::ptr::write_unaligned(d.add(12) as *mut u32, 0u32);
        }
    }

    /// (flags, length) of a descriptor the peer filled.
    pub fn get_desc(&self, slot: u16) -> (u16, u32) {
        let d = self.desc(slot);
        // SAFETY: as above; read after the acquire load of the index that covers the slot.
        unsafe {
            (
                u16::from_le(std::ptr::read_volatile(d as *const u16)),
                u32::from_le(std::ptr::read_unaligned(d.add(4) as *const u32)),
            )
        }
    }

    /// The buffer of a slot, as a raw pointer to `buf_size` bytes.
    pub fn buf(&self, region: &Region, slot: u16) -> *mut u8 {
        // SAFETY: buf_off + buf_size <= region_len by construction.
        unsafe { region.base().add(self.g.buf_off(self.which, slot)) }
    }

    /// Fresh ring: cookie, no flags, indices 0, every descriptor pointing at its buffer.
    pub fn init(&self) {
        // SAFETY: header words inside the mapping, before the server maps it.
        unsafe {
            std::ptr::write_unaligned(self.base as *mut u32, COOKIE.to_le());
        }
        self.flags().store(0, Ordering::Relaxed);
        self.head().store(0, Ordering::Relaxed);
        self.tail().store(0, Ordering::Relaxed);
        for s in 0..self.g.slots() as u16 {
            self.set_desc(s, 0, self.g.buf_size);
        }
    }
}
