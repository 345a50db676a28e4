//! Sliding anti-replay window for transport counters (RFC 6479 style ring of 64-bit
//! blocks). 64 blocks = 4096 bits, of which one block is always being recycled, so
//! counters up to [`WINDOW`] = 4032 behind the greatest seen are still accepted once.

use crate::noise::Reason;

const BLOCKS: usize = 64;
const BITS: u64 = 64;
/// How far behind the greatest accepted counter a counter may be.
pub const WINDOW: u64 = (BLOCKS as u64 - 1) * BITS;

/// Receive-side replay window.
#[derive(Clone)]
pub struct ReplayWindow {
    greatest: u64,
    any: bool,
    bitmap: [u64; BLOCKS],
}

impl Default for ReplayWindow {
    fn default() -> Self {
        ReplayWindow::new()
    }
}

impl ReplayWindow {
    /// Empty window.
    pub fn new() -> ReplayWindow {
        ReplayWindow {
            greatest: 0,
            any: false,
            bitmap: [0; BLOCKS],
        }
    }

    /// Greatest counter accepted so far (None before the first).
    pub fn greatest(&self) -> Option<u64> {
        self.any.then_some(self.greatest)
    }

    /// Would `counter` be accepted? Does not change state (use before decrypting).
    pub fn check(&self, counter: u64) -> Result<(), Reason> {
        if !self.any || counter > self.greatest {
            return Ok(());
        }
        if self.greatest - counter >= WINDOW {
            return Err(Reason::TooOld);
        }
        let block = ((counter / BITS) as usize) % BLOCKS;
        if self.bitmap[block] & (1u64 << (counter % BITS)) != 0 {
            return Err(Reason::Replayed);
        }
        Ok(())
    }

    /// Accept `counter` (after authentication) or reject it.
    pub fn update(&mut self, counter: u64) -> Result<(), Reason> {
        self.check(counter)?;
        if !self.any || counter > self.greatest {
            let cur = if self.any { self.greatest / BITS } else { 0 };
            let new = counter / BITS;
            if !self.any {
                self.bitmap = [0; BLOCKS];
            } else {
                let steps = (new - cur).min(BLOCKS as u64);
                for i in 1..=steps {
                    self.bitmap[((cur + i) % BLOCKS as u64) as usize] = 0;
                }
            }
            self.greatest = counter;
            self.any = true;
        }
        let block = ((counter / BITS) as usize) % BLOCKS;
        self.bitmap[block] |= 1u64 << (counter % BITS);
        Ok(())
    }
}
