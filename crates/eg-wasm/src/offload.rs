//! Offload building blocks (crates/eg-core/src/offload) for JavaScript: segmentation of a TAP
//! super-frame and coalescing of frames into super-frames. A test path for now (the namespace
//! test in test/native-offload.test.ts drives real TAP devices through it); the data path will
//! call the core directly once its batch rewrite lands. Allocates per call.

use eg_core::offload::{CoalesceOpts, Coalescer, CsumMode, SegmentOpts, Segmenter, VnetHdr};
use wasm_bindgen::prelude::*;

/// Segments one frame read from a TAP with vnet headers.
/// `vnet`: its 10-byte virtio_net_hdr; `frame`: the Ethernet frame after it; `mtu`: largest IP
/// packet of an output frame (bytes); `vnet_out`: put a vnet header in front of each output
/// frame; `partial`: leave L4 checksums partial (NEEDS_CSUM, needs `vnet_out`).
/// Returns `[len u16 BE][vnet?][frame]` records; throws with the reason for a bad header/frame.
#[wasm_bindgen(js_name = offloadSegment)]
pub fn offload_segment(vnet: &[u8], frame: &[u8], mtu: u32, vnet_out: bool, partial: bool) -> Result<Vec<u8>, JsError> {
    let h = VnetHdr::parse(vnet).map_err(|e| JsError::new(&e.to_string()))?;
    let csum = if partial { CsumMode::Partial } else { CsumMode::Full };
    let s = Segmenter::new(&h, frame, SegmentOpts { mtu: mtu as usize, csum, vnet: vnet_out }).map_err(|e| JsError::new(&e.to_string()))?;
    let mut out = vec![0u8; s.total_len() + 2 * s.count()];
    let n = s.write_records(&mut out).map_err(|e| JsError::new(&e.to_string()))?;
    out.truncate(n);
    Ok(out)
}

/// Coalesces `[len u16 BE][frame]` records into `[len u16 BE][vnet header][frame]` records for a
/// TAP with vnet headers; `full_csum`: complete checksums on super-frames instead of partial.
#[wasm_bindgen(js_name = offloadCoalesce)]
pub fn offload_coalesce(records: &[u8], full_csum: bool) -> Result<Vec<u8>, JsError> {
    let csum = if full_csum { CsumMode::Full } else { CsumMode::Partial };
    let mut c = Coalescer::new(CoalesceOpts { csum, ..CoalesceOpts::default() });
    let mut out = vec![0u8; records.len() + 5 * records.len() + 64];
    let r = c.coalesce_records(records, &mut out).map_err(|e| JsError::new(&e.to_string()))?;
    out.truncate(r.bytes);
    Ok(out)
}
