//! AEAD jobs: the ChaCha20-Poly1305 part of sealing and opening transport messages, taken out of
//! a batch so it can run elsewhere (worker threads, each with its own instance of this core;
//! docs/architecture.md §Worker threads).
//!
//! The session state never leaves the device: counters are assigned, replay windows checked
//! and keypairs chosen by the device in batch order ([`super::Device::seal_slot_deferred`],
//! [`super::Device::open_prepare`]); what a job carries is only the key, the counter (nonce) and
//! where the body lies. [`run_jobs`] does the AEAD and writes each job's status; an open is
//! then finished by [`super::Device::open_commit`] (replay window update, rotation, timers).
//!
//! Job record (little-endian, [`job::LEN`] bytes, in a table the runtime can copy as it is):
//!
//! ```text
//!   +0   u32  offset of the body in the data area (the tag follows the body)
//!   +4   u32  body length (padded plaintext to seal / ciphertext to open)
//!   +8   u64  counter (nonce)
//!   +16  u32  status: 0 to do, 1 done, 0x8000_0000 | reason code failed
//!   +20  u32  peer id (open jobs; informational)
//!   +24  8 bytes reserved
//!   +32  32   key
//! ```

use zeroize::Zeroize;

use super::keypair::AeadWork;
use crate::noise::kdf;
use crate::noise::wire::TAG_LEN;
use crate::noise::Reason;

/// Byte layout of a job record.
pub mod job {
    /// Record length.
    pub const LEN: usize = 64;
    /// u32 body offset in the data area.
    pub const OFF: usize = 0;
    /// u32 body length.
    pub const BODY: usize = 4;
    /// u64 counter.
    pub const COUNTER: usize = 8;
    /// u32 status.
    pub const STATUS: usize = 16;
    /// u32 peer id.
    pub const PEER: usize = 20;
    /// 32-byte key.
    pub const KEY: usize = 32;
    /// Status: not run yet.
    pub const TODO: u32 = 0;
    /// Status: sealed / opened and authenticated.
    pub const DONE: u32 = 1;
    /// Status bit: failed; the low byte is the reason code.
    pub const FAILED: u32 = 0x8000_0000;
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Appends a job for `w` with its body at `off` to `table`.
pub fn push_job(table: &mut Vec<u8>, off: usize, w: &AeadWork, peer: u32, status: u32) {
    let at = table.len();
    table.resize(at + job::LEN, 0);
    let j = &mut table[at..];
    j[job::OFF..job::OFF + 4].copy_from_slice(&(off as u32).to_le_bytes());
    j[job::BODY..job::BODY + 4].copy_from_slice(&(w.len as u32).to_le_bytes());
    j[job::COUNTER..job::COUNTER + 8].copy_from_slice(&w.counter.to_le_bytes());
    j[job::STATUS..job::STATUS + 4].copy_from_slice(&status.to_le_bytes());
    j[job::PEER..job::PEER + 4].copy_from_slice(&peer.to_le_bytes());
    j[job::KEY..job::KEY + 32].copy_from_slice(&w.key);
}

/// Appends a job that already failed (an open refused before the AEAD), so that a batch's open
/// jobs stay one per transport message, in order.
pub fn push_failed(table: &mut Vec<u8>, peer: u32, r: Reason) {
    let at = table.len();
    table.resize(at + job::LEN, 0);
    let j = &mut table[at..];
    j[job::STATUS..job::STATUS + 4].copy_from_slice(&(job::FAILED | r.code() as u32).to_le_bytes());
    j[job::PEER..job::PEER + 4].copy_from_slice(&peer.to_le_bytes());
}

/// Status of job `i` of `table` (`None` past the end).
pub fn status(table: &[u8], i: usize) -> Option<u32> {
    let at = i.checked_mul(job::LEN)?;
    (at + job::LEN <= table.len()).then(|| le32(table, at + job::STATUS))
}

/// Runs the jobs in `table` whose status is [`job::TODO`] on `data`, the slice of the data area
/// that starts at area offset `base` (so a worker can be handed only its part). Seals write the
/// tag behind the body; opens authenticate and decrypt in place. A job whose body and tag do not
/// lie inside `data` fails with `BufferTooSmall`, an open that does not authenticate with
/// `DecryptFailed`; nothing panics on a bad table. Keys are erased from the table afterwards.
/// Returns the number of jobs that failed here. Source: RFC 8439 (AEAD), WireGuard §5.4.6.
pub fn run_jobs(data: &mut [u8], base: usize, table: &mut [u8], seal: bool) -> usize {
    let mut failed = 0;
    for j in table.chunks_exact_mut(job::LEN) {
        if le32(j, job::STATUS) != job::TODO {
            continue;
        }
        let off = le32(j, job::OFF) as usize;
        let len = le32(j, job::BODY) as usize;
        let mut key = [0u8; 32];
        key.copy_from_slice(&j[job::KEY..job::KEY + 32]);
        let counter = u64::from_le_bytes(
            j[job::COUNTER..job::COUNTER + 8]
                .try_into()
                .expect("8 bytes"),
        );
        let range = off
            .checked_sub(base)
            .and_then(|s| Some((s, s.checked_add(len)?.checked_add(TAG_LEN)?)))
            .filter(|&(_, e)| e <= data.len());
        let r = match range {
            None => Err(Reason::BufferTooSmall),
            Some((s, e)) => {
                let (body, tag) = data[s..e].split_at_mut(len);
                if seal {
                    tag.copy_from_slice(&kdf::seal(&key, counter, &[], body));
                    Ok(())
                } else {
                    kdf::open(&key, counter, &[], body, tag)
                }
            }
        };
        key.zeroize();
        j[job::KEY..job::KEY + 32].fill(0);
        let st = match r {
            Ok(()) => job::DONE,
            Err(e) => {
                failed += 1;
                job::FAILED | e.code() as u32
            }
        };
        j[job::STATUS..job::STATUS + 4].copy_from_slice(&st.to_le_bytes());
    }
    failed
}
