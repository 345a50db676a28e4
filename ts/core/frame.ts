// The Etherguard header (docs/wire.md §2) for the control plane: the data plane parses and writes
// it in the core (crates/eg-core/src/plane); control messages are framed here. Kinds, reserved
// NodeIDs and the header length come from the generated module (one source: the Rust core).
import { HEADER_LEN, Kind, NODE_BROADCAST, NODE_INVALID, NODE_SPREAD, NODE_SUPER } from './generated.js';

export { HEADER_LEN, Kind, NODE_BROADCAST, NODE_INVALID, NODE_SPREAD, NODE_SUPER };

/** Whether `id` is a reserved NodeID (65532..65535). */
export const isSpecial = (id: number): boolean => id >= NODE_INVALID;

/** The header fields; `len` is the payload length in bytes. */
export interface Header {
  kind: number;
  ttl: number;
  dst: number;
  src: number;
  len: number;
}

/** The header of a plaintext, or undefined if it is shorter than the header or its length field. */
export function readHeader(b: Uint8Array): Header | undefined {
  if (b.length < HEADER_LEN) return undefined;
  const len = (b[6] << 8) | b[7];
  if (HEADER_LEN + len > b.length) return undefined;
  return { kind: b[0], ttl: b[1], dst: (b[2] << 8) | b[3], src: (b[4] << 8) | b[5], len };
}

/** Writes the 8 header bytes at the start of `b` (big-endian fields). */
export function writeHeader(b: Uint8Array, h: Header): void {
  b[0] = h.kind;
  b[1] = h.ttl;
  b[2] = h.dst >> 8;
  b[3] = h.dst & 255;
  b[4] = h.src >> 8;
  b[5] = h.src & 255;
  b[6] = h.len >> 8;
  b[7] = h.len & 255;
}
