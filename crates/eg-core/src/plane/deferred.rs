//! The data plane with its ChaCha20-Poly1305 left to worker threads (docs/architecture.md
//! §Worker threads; crate::session::aead has the job format).
//!
//! * Sending: every decision, header and counter is made as without deferral, in batch order;
//!   each sealed record gets a job in [`Jobs::seal`] (one table per send area) and must not be
//!   sent before its job ran.
//! * Receiving: [`Plane::udp_prepare`] checks every transport message of the batch (index,
//!   keypair age, counter limit, replay window) without changing anything and makes a job per
//!   message; after the jobs ran, [`Plane::finish_open`] walks the batch again in its order:
//!   replay window update (a duplicate inside the batch fails there), then exactly what the
//!   direct path does with the plaintext. A batch holding anything but transport data (a
//!   handshake message may change keypairs for the records behind it) is not deferred.

use super::{le32, Output, Plane, UdpRecord};
use crate::noise::wire::{TRANSPORT_HEADER_LEN, TRANSPORT_MIN_LEN, TYPE_TRANSPORT};
use crate::noise::Reason;
use crate::session::aead::{self, job};
use crate::session::{batch, BatchStats, Device, PeerId};

/// The switch and the state between [`Plane::udp_prepare`] and [`Plane::finish_open`].
#[derive(Default)]
pub(super) struct Defer {
    pub(super) on: bool,
    /// The family of the UDP batch whose opens are pending.
    pub(super) pending: Option<u8>,
}

/// Job tables of one batch (crate::session::aead::job).
#[derive(Default)]
pub struct Jobs {
    /// Seal jobs per send area (`[0]` IPv4, `[1]` IPv6); offsets into that area.
    pub seal: [Vec<u8>; 2],
    /// Open jobs, one per UDP record of the batch; offsets into the batch.
    pub open: Vec<u8>,
}

impl Jobs {
    pub(super) fn clear(&mut self) {
        for t in &mut self.seal {
            t.clear();
        }
        self.open.clear();
    }
}

/// Seals the batch slot `slot` without its AEAD (Device::seal_slot_deferred), recording the job
/// with its body at area offset `body`; the slot's status word is written as
/// [`Device::seal_batch`] writes it.
pub(super) fn seal_slot(dev: &mut Device, slot: &mut [u8], now: f64, jobs: &mut Vec<u8>, body: usize) -> Result<BatchStats, Reason> {
    let r = dev.seal_slot_deferred(slot, now);
    let word = match &r {
        Ok((n, w)) => {
            aead::push_job(jobs, body, w, le32(slot, batch::PEER_OFFSET), job::TODO);
            *n as u32
        }
        Err(e) => batch::STATUS_ERROR | e.code() as u32,
    };
    slot[batch::LEN_OFFSET..batch::LEN_OFFSET + 4].copy_from_slice(&word.to_le_bytes());
    Ok(BatchStats { ok: r.is_ok() as usize, failed: r.is_err() as usize })
}

impl Plane {
    /// Switches deferred AEAD on or off for the following batches (see the module docs).
    pub fn set_defer_aead(&mut self, on: bool) {
        self.defer.on = on;
    }

    /// Whether a UDP batch waits for [`Plane::finish_open`].
    pub fn open_pending(&self) -> bool {
        self.defer.pending.is_some()
    }

    /// First pass over a UDP batch: one open job per record in `out.jobs.open`. Returns false
    /// (nothing done) for a batch with a record that is not transport data.
    pub(super) fn udp_prepare(&mut self, dev: &Device, input: &[u8], family: u8, now: f64, out: &mut Output) -> bool {
        let jobs = &mut out.jobs.open;
        let mut off = 0;
        while let Some(r) = UdpRecord::at(input, off) {
            let UdpRecord { at, len, .. } = r;
            off = r.next();
            if len < TRANSPORT_MIN_LEN || le32(input, at) != TYPE_TRANSPORT {
                jobs.clear();
                return false;
            }
            match dev.open_prepare(&input[at..at + len], now) {
                (p, Ok(w)) => aead::push_job(jobs, at + TRANSPORT_HEADER_LEN, &w, p.map_or(batch::NO_PEER, |p| p as u32), job::TODO),
                (p, Err(r)) => aead::push_failed(jobs, p.map_or(batch::NO_PEER, |p| p as u32), r),
            }
        }
        self.defer.pending = Some(family);
        true
    }

    /// Second pass over the UDP batch `input` that [`Plane::udp_prepare`] took, after its open
    /// jobs ran: every record as the direct path handles it, in order, then GRO and the peer
    /// counters. Does nothing when no batch is pending.
    pub fn finish_open(&mut self, dev: &mut Device, input: &mut [u8], now: f64, out: &mut Output) {
        let Some(family) = self.defer.pending.take() else { return };
        self.rx_rec = u32::MAX;
        let mut off = 0;
        let mut k = 0;
        while let Some(r) = UdpRecord::at(input, off) {
            let UdpRecord { at, len, .. } = r;
            self.rx_rec = self.rx_rec.wrapping_add(1);
            off = r.next();
            let src = r.source(input, family);
            // A job that never ran counts as not authenticated.
            let st = aead::status(&out.jobs.open, k).unwrap_or(job::FAILED | Reason::BufferTooSmall.code() as u32);
            let st = if st == job::TODO { job::FAILED | Reason::DecryptFailed.code() as u32 } else { st };
            let jpeer = out.jobs.open.get(k * job::LEN..(k + 1) * job::LEN).map_or(batch::NO_PEER, |j| le32(j, job::PEER));
            k += 1;
            if st & job::FAILED != 0 {
                self.wire_drop(out, Reason::from_code(st as u8), jpeer, &src, len);
                continue;
            }
            let (p, r) = dev.open_commit(&input[at..at + len], now);
            match (p, r) {
                (Some(id), Ok(n)) => {
                    let id: PeerId = id;
                    self.received(out, id, &src, len);
                    if n > 0 {
                        let pt = at + TRANSPORT_HEADER_LEN;
                        self.plaintext(dev, out, id, &input[pt..pt + n], now);
                    }
                }
                (p, Err(e)) => self.wire_drop(out, Some(e), p.map_or(batch::NO_PEER, |p| p as u32), &src, len),
                (None, Ok(_)) => self.wire_drop(out, Some(Reason::UnknownIndex), batch::NO_PEER, &src, len),
            }
        }
        self.rx_rec = u32::MAX;
        if self.offload.vnet {
            self.coalesce_tap(out);
        }
        self.report_peers(out);
    }
}
