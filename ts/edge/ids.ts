// Reserved NodeIDs and message kinds (docs/wire.md §2). Kinds keep upstream's "usage" numbers.
export const NODE_INVALID = 65532;
export const NODE_SUPER = 65533;
export const NODE_SPREAD = 65534;
export const NODE_BROADCAST = 65535;
export const isSpecial = (id: number): boolean => id >= NODE_INVALID;

export const enum Kind {
  Normal = 4,
  Register = 5,
  ServerUpdate = 6,
  Ping = 7,
  Pong = 8,
  QueryPeer = 9,
  BroadcastPeer = 10,
}

export const HEADER_LEN = 8;

export interface Header {
  kind: number;
  ttl: number;
  dst: number;
  src: number;
  len: number;
}

export function readHeader(b: Uint8Array): Header | undefined {
  if (b.length < HEADER_LEN) return undefined;
  const len = (b[6] << 8) | b[7];
  if (HEADER_LEN + len > b.length) return undefined;
  return { kind: b[0], ttl: b[1], dst: (b[2] << 8) | b[3], src: (b[4] << 8) | b[5], len };
}

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
