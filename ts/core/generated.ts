// GENERATED from crates/eg-core (src/plane/gen_ts.rs) — do not edit. Regenerate with
// `EG_REGEN=1 cargo test -p etherguard-core --test plane_ts`; that test fails while this file is stale.

/** WireGuard reason codes (eg_core::noise::Reason; docs/wire.md §4). */
export enum Reason {
  Truncated = 1,
  BadType = 2,
  BadLength = 3,
  BadMac1 = 4,
  NeedCookie = 5,
  BadMac2 = 6,
  UnknownIndex = 7,
  UnknownPeer = 8,
  DecryptFailed = 9,
  Replayed = 10,
  TooOld = 11,
  StaleTimestamp = 12,
  Flood = 13,
  NoSession = 14,
  KeyExpired = 15,
  BufferTooSmall = 16,
  BadKey = 17,
  NotTransport = 18,
  BadPeer = 19,
  UnexpectedCookie = 20,
  FrameTooLarge = 21,
}

/** Verdict codes of WgDevice.handle (errors are 0x80 | reason). */
export enum Verdict {
  Nothing = 0,
  WriteToNetwork = 1,
  CookieReply = 2,
  SessionReady = 3,
  Data = 4,
  Keepalive = 5,
  Error = 128,
}

/** Kinds of the records WgDevice.tick returns. */
export enum TickKind {
  SendInitiation = 1,
  SendKeepalive = 2,
  HandshakeGaveUp = 3,
  KeysZeroed = 4,
}

/** Etherguard message kinds (header byte 0; docs/wire.md §2). */
export enum Kind {
  Normal = 4,
  Register = 5,
  ServerUpdate = 6,
  Ping = 7,
  Pong = 8,
  QueryPeer = 9,
  BroadcastPeer = 10,
}

/** Etherguard header length (docs/wire.md §2). */
export const HEADER_LEN = 8;
/** Reserved NodeIDs (docs/wire.md §2). */
export const NODE_INVALID = 65532;
export const NODE_SUPER = 65533;
export const NODE_SPREAD = 65534;
export const NODE_BROADCAST = 65535;

/** Length limits of the data path in bytes (docs/wire.md §5). */
export const LIMITS = {
  maxUdpPayloadV4: 65507,
  maxUdpPayloadV6: 65527,
  maxTransport: 65507,
  maxPlaintext: 65472,
  headerLen: 8,
  maxFrame: 65464,
  transportHeader: 16,
  tag: 16,
} as const;

/** Input record layouts of a data-plane batch (eg_core::plane::layout). */
export enum Mode {
  Tap = 1,
  Udp = 2,
  Plain = 3,
}

/** Record header lengths: TAP `[len u16 BE]`, UDP `[len u16 BE][port u16 BE][addr 16]`, plaintext `[peer u32 LE][len u32 LE]`. */
export const REC = {
  TAP: 2,
  UDP: 20,
  PLAIN: 8,
} as const;

/** Data-plane event types (eg_core::plane::layout::Ev). */
export enum Ev {
  Drop = 1,
  Control = 2,
  Plain = 3,
  Queue = 4,
  Handshake = 5,
  Roam = 6,
  Peer = 7,
  LogSend = 8,
  LogDeliver = 9,
  LogForward = 10,
  Fib = 11,
}

/** Sub-kinds of a Handshake event. */
export enum Hs {
  Consumed = 0,
  Response = 1,
  CookieReply = 2,
  SessionReady = 3,
}

/** Event header field offsets (little-endian) and the header length. */
export const EV = {
  TYPE: 0,
  KIND: 1,
  REASON: 2,
  PEER: 4,
  SRC: 8,
  DST: 10,
  FROM: 12,
  NODE: 14,
  LEN: 16,
  AUX: 20,
  MAX: 22,
  SIZE: 24,
  HEADER: 28,
} as const;

/** Peer id meaning none. */
export const NO_PEER = 0xffffffff;

/** Indices of the u32 summary words a batch call leaves. */
export const SUMMARY = {
  SEND4_PTR: 0,
  SEND4_LEN: 1,
  SEND4_COUNT: 2,
  SEND6_PTR: 3,
  SEND6_LEN: 4,
  SEND6_COUNT: 5,
  TAP_PTR: 6,
  TAP_LEN: 7,
  TAP_COUNT: 8,
  EV_PTR: 9,
  EV_BYTES: 10,
  EV_COUNT: 11,
  FROM_IFACE: 12,
  FORWARDED: 13,
  SUPER_IN: 14,
  SUPER_OUT: 15,
  WORDS: 16,
} as const;

/** Data-plane drop reasons (eg_core::plane::Drop). */
export enum Drop {
  OwnMessage = 1,
  ServerUpdateNotSuper = 2,
  ServerUpdateOther = 3,
  RegisterToEdge = 4,
  KindFromSuper = 5,
  UnknownKind = 6,
  ReservedDestination = 7,
  TtlExpired = 8,
  NoRoute = 9,
  RouteBack = 10,
  Malformed = 11,
  Duplicate = 12,
  FrameTooShort = 13,
  FrameTooLarge = 14,
  InterfaceRunt = 15,
  NotAPeer = 16,
  NoEndpoint = 17,
  SealFailed = 18,
  Wireguard = 19,
  UnknownPeerData = 20,
  ControlInStaticMode = 21,
  QueueFull = 22,
  InterfaceRefused = 23,
  OffloadRefused = 24,
  SpoofedSource = 25,
  SpoofedDataSource = 26,
}

/** Name templates of the drop reasons, by code ({me} {src} {dst} {from} {node} {kind} {wg}). */
export const DROP_TEMPLATES: readonly string[] = [
  '',
  "message from this node (NodeID {me}) came back: a routing loop, or another node uses the same NodeID",
  "server update from a non-supernode peer",
  "server update for node {dst}",
  "register message sent to an edge",
  "kind {kind} from the supernode",
  "unknown message kind {kind}",
  "message for reserved node {dst}",
  "TTL expired",
  "no route from {me} to {dst}",
  "route to {dst} points back to the sender {from} (routing loop)",
  "malformed Etherguard header",
  "duplicate flood message",
  "frame too short",
  "frame too large",
  "frame from interface shorter than an Ethernet header",
  "next hop {node} is not a peer",
  "peer {node} has no endpoint",
  "seal for peer {node} failed: {wg}",
  "wireguard: {wg}",
  "data from an unknown peer",
  "control message kind {kind} in static mode",
  "queue for peer {node} full while handshaking",
  "interface refused the frame",
  "TAP frame with a bad vnet header or super-frame",
  "ping from {from} claims source NodeID {src} (a ping is one hop: spoofed)",
  "data frame from {from} claims source NodeID {src}, but {from} is not the last hop from {src} to {me} in the next-hop table (spoofed, or the tables disagree)",
];
/** Drop reasons that are part of normal operation (eg_core::plane::Drop::expected): counted, logged at debug only. */
export const DROP_EXPECTED: ReadonlySet<number> = new Set([12]);
