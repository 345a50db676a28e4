// Frame boundaries on byte streams: every frame travels as a 2-byte big-endian length followed
// by the frame (the fix for upstream's unframed stream sockets). The same layout is what the
// native read tasks return for a batch, so one parser serves both.

/** Largest frame a 2-byte length can carry. */
export const MAX_FRAME = 0xffff;

/** Returns `[len_hi, len_lo, ...frame]` as a fresh buffer (the caller's frame may be reused). */
export function encodeFrame(frame: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(2 + frame.length);
  out[0] = frame.length >>> 8;
  out[1] = frame.length & 0xff;
  out.set(frame, 2);
  return out;
}

/** Splits a native batch (length-prefixed frames back to back) into views of `buf`. */
export function splitBatch(buf: Uint8Array, out: Uint8Array[]): Uint8Array[] {
  let off = 0;
  while (off + 2 <= buf.length) {
    const len = (buf[off] << 8) | buf[off + 1];
    if (off + 2 + len > buf.length) break;
    if (len > 0) out.push(buf.subarray(off + 2, off + 2 + len));
    off += 2 + len;
  }
  return out;
}

/**
 * Reassembles length-prefixed frames from arbitrary stream chunks: a frame (or its length) may
 * be split across any number of chunks, and one chunk may hold many frames. Zero-length frames
 * are skipped.
 */
export class Deframer {
  private pending: Buffer | null = null;

  /** Appends the complete frames found so far to `out` (views, valid as long as `chunk`). */
  push(chunk: Uint8Array, out: Uint8Array[]): void {
    let buf: Uint8Array = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    let off = 0;
    while (off + 2 <= buf.length) {
      const len = (buf[off] << 8) | buf[off + 1];
      if (off + 2 + len > buf.length) break;
      if (len > 0) out.push(buf.subarray(off + 2, off + 2 + len));
      off += 2 + len;
    }
    // Keep a copy of the incomplete tail, so `chunk` is not pinned by a few bytes.
    if (off < buf.length) this.pending = Buffer.from(buf.subarray(off));
  }

  /** Bytes held back waiting for the rest of a frame. */
  get buffered(): number {
    return this.pending ? this.pending.length : 0;
  }

  reset(): void {
    this.pending = null;
  }
}
