// Control messages carried inside Etherguard frames (kinds 5–8), and the HTTP bodies between
// edges and the supernode. Encoding: UTF-8 JSON objects with a version field `v` (currently 1),
// each validated by an ajv schema on receipt (unknown keys and wrong types are rejected), so a
// malformed or hostile message is dropped with a reason rather than half-applied.
// Reference: docs/control.md.
import type { JSONSchemaType } from 'ajv';
import { validator, type AjvProfile } from '../shared/schema-check.js';

const CONTROL_AJV: AjvProfile = { name: 'control', options: { allErrors: false, strict: true, removeAdditional: false } };

export const PROTO_VERSION = 1;

const u16 = { type: 'integer', minimum: 0, maximum: 65535 } as const;
const finite = { type: 'number' } as const;
const hash = { type: 'string', maxLength: 128 } as const;

/** Edge → supernode, every SendPingInterval, on both supernode sessions. */
export interface RegisterMsg {
  v: 1;
  NodeID: number;
  Version: string;
  PeerStateHash: string;
  NhStateHash: string;
  SuperParamStateHash: string;
  /** Base64 of 32 random bytes per edge process: the HMAC key for signing HTTP reports. */
  JWTSecret: string;
  HttpPostCount: number;
}
const registerSchema: JSONSchemaType<RegisterMsg> = {
  type: 'object',
  additionalProperties: false,
  required: ['v', 'NodeID', 'Version', 'PeerStateHash', 'NhStateHash', 'SuperParamStateHash', 'JWTSecret', 'HttpPostCount'],
  properties: {
    v: { type: 'integer', const: 1 },
    NodeID: u16,
    Version: { type: 'string', maxLength: 64 },
    PeerStateHash: hash,
    NhStateHash: hash,
    SuperParamStateHash: hash,
    JWTSecret: { type: 'string', pattern: '^[A-Za-z0-9+/]{43}=$' },
    HttpPostCount: { type: 'integer', minimum: 0 },
  },
};

export const enum Action {
  NoAction = 0,
  Shutdown = 1,
  ThrowError = 2,
  Panic = 3,
  UpdatePeer = 4,
  UpdateNhTable = 5,
  UpdateSuperParams = 6,
}

/** Supernode → edge. For Update* actions Params is the state hash to pull; otherwise a message. */
export interface ServerUpdateMsg {
  v: 1;
  NodeID: number;
  Action: number;
  Code: number;
  Params: string;
}
const serverUpdateSchema: JSONSchemaType<ServerUpdateMsg> = {
  type: 'object',
  additionalProperties: false,
  required: ['v', 'NodeID', 'Action', 'Code', 'Params'],
  properties: {
    v: { type: 'integer', const: 1 },
    NodeID: u16,
    Action: { type: 'integer', minimum: 0, maximum: 6 },
    Code: { type: 'integer', minimum: 0, maximum: 255 },
    Params: { type: 'string', maxLength: 1024 },
  },
};

/** Edge → direct neighbour (dst 65534, TTL 0). Time = sender's wall clock, ms since the epoch. */
export interface PingMsg {
  v: 1;
  Src: number;
  Time: number;
  /** How many pings the receiver should send back (hole punching); 0 for the periodic ping. */
  RequestReply: number;
}
const pingSchema: JSONSchemaType<PingMsg> = {
  type: 'object',
  additionalProperties: false,
  required: ['v', 'Src', 'Time', 'RequestReply'],
  properties: { v: { type: 'integer', const: 1 }, Src: u16, Time: finite, RequestReply: { type: 'integer', minimum: 0, maximum: 16 } },
};

/**
 * Largest |Timediff| accepted, seconds: 1.728e13 = twice the ECMAScript time-value range
 * (±8.64e15 ms, 10^8 days, either side of 1970). A one-way measurement is the measurer's wall
 * clock minus the pinger's (`Ping.Time`), so it contains the clock offset between the two
 * nodes — hours for a wrong time zone, 56 years for a device whose clock starts at 1970 —
 * and any constant offset must route exactly like none (docs/routing.md). Every difference of
 * two clocks that a JavaScript `Date` can hold is accepted; a larger value cannot come from two
 * clocks and is refused as garbage. (Upstream accepted anything and treated values >= 99999
 * s, i.e. offsets beyond 27.8 h, as "no link"; this port refused < -3600 s.)
 */
export const TIMEDIFF_LIMIT_S = 1.728e13;

/** The measured one-way latency Src → Dst, reported by Dst. Seconds; may be negative (clock offset). */
export interface PongMsg {
  v: 1;
  Src: number;
  Dst: number;
  Timediff: number;
  TimeToAlive: number;
  /** ms; the measuring edge's own AdditionalCost (applied when its supernode entry says -1; negative = 0). */
  AdditionalCost: number;
}
const pongProps = {
  Src: u16,
  Dst: u16,
  Timediff: { type: 'number', minimum: -TIMEDIFF_LIMIT_S, maximum: TIMEDIFF_LIMIT_S },
  // Copies of config values (PeerAliveTimeout, the edge's AdditionalCost), which the config
  // does not bound above: any finite value (ajv's number type refuses Infinity/NaN). A negative
  // AdditionalCost counts as 0 (effectiveAcMs); a negative lifetime is garbage.
  TimeToAlive: { type: 'number', minimum: 0 },
  AdditionalCost: { type: 'number' },
} as const;
const pongSchema: JSONSchemaType<PongMsg> = {
  type: 'object',
  additionalProperties: false,
  required: ['v', 'Src', 'Dst', 'Timediff', 'TimeToAlive', 'AdditionalCost'],
  properties: { v: { type: 'integer', const: 1 }, ...pongProps },
};

/**
 * Edge → supernode (kind 8, the Pong kind; dst 65533, TTL 0), once per SendPingInterval: every
 * incoming link the edge currently measures, in place of one Pong per received ping (issue 11
 * part 3: control traffic O(N) per edge, not a message per pair and ping). `Links` items are
 * `[Src, Timediff (s, offset included, |x| <= TIMEDIFF_LIMIT_S), TimeToAlive (s, >= 0)]`;
 * `AdditionalCost` (ms) is the measuring edge's own value, as in PongMsg. A report larger than
 * one datagram is split into several self-contained messages (encodeLinkReports). The supernode
 * checks the frame (v, Dst, AdditionalCost, Links an array of at most LINK_REPORT_MAX items) and
 * then every item on its own (checkLinkItem): a bad item is refused and counted, the rest applied.
 */
export interface LinkReportMsg {
  v: 1;
  Dst: number;
  AdditionalCost: number;
  Links: Array<[number, number, number]>;
}
/** Most items one LinkReport message may carry (65536 NodeIDs would never fit a datagram anyway). */
export const LINK_REPORT_MAX = 4096;
export interface LinkReportIn {
  v: 1;
  Dst: number;
  AdditionalCost: number;
  Links: unknown[];
}
const linkReportSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['v', 'Dst', 'AdditionalCost', 'Links'],
  properties: {
    v: { type: 'integer', const: 1 },
    Dst: u16,
    AdditionalCost: { type: 'number' },
    Links: { type: 'array', maxItems: LINK_REPORT_MAX, items: true },
  },
} as unknown as JSONSchemaType<LinkReportIn>;

/**
 * One item of a LinkReport, checked by hand (it runs for every link of every edge each interval,
 * so no ajv call per item): `[Src, Timediff, TimeToAlive]` with the PongMsg rules for each field.
 * Returns the item typed, or why it is refused (the rule, without the value).
 */
export function checkLinkItem(x: unknown): [number, number, number] | string {
  if (!Array.isArray(x) || x.length !== 3) return 'Links item must be [Src, Timediff, TimeToAlive]';
  const [src, td, ttl] = x as unknown[];
  if (typeof src !== 'number' || !Number.isInteger(src) || src < 0 || src > 65535) return 'Links item Src must be an integer 0..65535';
  if (typeof td !== 'number' || !(Math.abs(td) <= TIMEDIFF_LIMIT_S)) return `Links item Timediff must be a number within ±${TIMEDIFF_LIMIT_S} s`;
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0) return 'Links item TimeToAlive must be a finite number >= 0';
  return [src, td, ttl];
}

/**
 * Encodes the links of one report as LinkReport payloads of at most `maxBytes` bytes each
 * (default 1200: one datagram after the Etherguard header, WireGuard's 32 bytes and IP/UDP on a
 * 1280-byte IPv6 path). Always at least one message, so an edge with no links still reports.
 */
export function encodeLinkReports(dst: number, additionalCost: number, links: ReadonlyArray<readonly [number, number, number]>, maxBytes = 1200): Uint8Array[] {
  const head = `{"v":1,"Dst":${dst},"AdditionalCost":${JSON.stringify(additionalCost)},"Links":[`;
  const out: Uint8Array[] = [];
  let parts: string[] = [];
  let size = head.length + 2;
  const flush = () => {
    out.push(Buffer.from(`${head}${parts.join(',')}]}`, 'utf8'));
    parts = [];
    size = head.length + 2;
  };
  for (const l of links) {
    const item = JSON.stringify(l);
    if (parts.length > 0 && (size + item.length + 1 > maxBytes || parts.length >= LINK_REPORT_MAX)) flush();
    parts.push(item);
    size += item.length + 1;
  }
  if (parts.length > 0 || out.length === 0) flush();
  return out;
}

// ---- binary LinkReport --------------------------------------------------------------------------

/**
 * First byte of a binary LinkReport payload (kind 8). A JSON payload (PongMsg, LinkReportMsg)
 * starts with `{`, so the two forms are told apart by this byte alone.
 */
export const LINK_REPORT_BIN_MAGIC = 0xeb;
/** Layout version of the binary LinkReport this build writes and reads (byte 1). */
export const LINK_REPORT_BIN_VERSION = 1;
/** Header bytes of a binary LinkReport. */
export const LINK_REPORT_BIN_HEAD = 16;
/** Bytes per link: Timediff (f64) + TimeToAlive (f64) + Src (u16). */
export const LINK_REPORT_BIN_ITEM = 18;

/**
 * A binary LinkReport as decoded: the same fields as LinkReportMsg, the links as three columns
 * (item k = `[srcs[k], timediffs[k], ttls[k]]`). Only the frame is checked by the decoder; each
 * item is checked on its own by the supernode (a bad item is refused and counted, the rest applied).
 */
export interface LinkReportBin {
  Dst: number;
  /** ms, the measuring edge's own AdditionalCost (finite). */
  AdditionalCost: number;
  srcs: Uint16Array;
  /** s, Timediff per link (unchecked: may be NaN, infinite or beyond TIMEDIFF_LIMIT_S). */
  timediffs: Float64Array;
  /** s, TimeToAlive per link (unchecked). */
  ttls: Float64Array;
}

/** A kind-8 LinkReport frame as the supernode receives it: JSON (older edges) or binary. */
export type LinkReportFrame = LinkReportIn | LinkReportBin;

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Encodes the links of one report as binary LinkReport payloads of at most `maxBytes` bytes
 * each (default 1200, as encodeLinkReports: 65 links per datagram where JSON held about 35).
 * Layout (little-endian; docs/control.md "LinkReport, binary form"):
 *
 *   0  u8  LINK_REPORT_BIN_MAGIC (0xeb)     1  u8  LINK_REPORT_BIN_VERSION (1)
 *   2  u16 Dst                              4  u16 count C (<= LINK_REPORT_MAX)
 *   6  u16 reserved, 0                      8  f64 AdditionalCost (ms)
 *   16 f64 Timediff[C] (s)   16+8C f64 TimeToAlive[C] (s)   16+16C u16 Src[C]
 *
 * Columns, so the receiver reads each as one typed array without a per-value parse. The total
 * length is exactly 16 + 18·C. Always at least one message, so an edge with no links still reports.
 */
export function encodeLinkReportsBin(dst: number, additionalCost: number, links: ReadonlyArray<readonly [number, number, number]>, maxBytes = 1200): Uint8Array[] {
  const per = Math.max(1, Math.min(LINK_REPORT_MAX, Math.floor((maxBytes - LINK_REPORT_BIN_HEAD) / LINK_REPORT_BIN_ITEM)));
  const out: Uint8Array[] = [];
  for (let start = 0; start < links.length || out.length === 0; start += per) {
    const c = Math.min(per, links.length - start);
    const buf = new ArrayBuffer(LINK_REPORT_BIN_HEAD + LINK_REPORT_BIN_ITEM * c);
    const v = new DataView(buf);
    v.setUint8(0, LINK_REPORT_BIN_MAGIC);
    v.setUint8(1, LINK_REPORT_BIN_VERSION);
    v.setUint16(2, dst, true);
    v.setUint16(4, c, true);
    v.setUint16(6, 0, true);
    v.setFloat64(8, additionalCost, true);
    for (let k = 0; k < c; k++) {
      const l = links[start + k];
      v.setFloat64(LINK_REPORT_BIN_HEAD + 8 * k, l[1], true);
      v.setFloat64(LINK_REPORT_BIN_HEAD + 8 * c + 8 * k, l[2], true);
      v.setUint16(LINK_REPORT_BIN_HEAD + 16 * c + 2 * k, l[0], true);
    }
    out.push(new Uint8Array(buf));
    if (c <= 0) break;
  }
  return out;
}

/**
 * Decodes a binary LinkReport payload (its first byte LINK_REPORT_BIN_MAGIC). Throws ProtoError
 * naming the rule for a frame that cannot be read item by item: shorter than the header, another
 * layout version (an edge of a different build: the reason names both versions), reserved bytes
 * not 0, more than LINK_REPORT_MAX items, a length other than 16 + 18·count (truncated or
 * padded), a non-finite AdditionalCost. The items are not checked here (checkLinkItemValues).
 * The columns are views of `bytes` when it is 8-byte aligned (a fresh datagram copy is), else copies.
 */
export function decodeLinkReportBin(bytes: Uint8Array): LinkReportBin {
  const name = 'LinkReport (binary)';
  if (bytes.length < LINK_REPORT_BIN_HEAD) throw new ProtoError(`${name}: truncated: ${bytes.length} bytes, the header alone is ${LINK_REPORT_BIN_HEAD}`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint8(0) !== LINK_REPORT_BIN_MAGIC) throw new ProtoError(`${name}: first byte must be 0x${LINK_REPORT_BIN_MAGIC.toString(16)}`);
  const ver = v.getUint8(1);
  if (ver !== LINK_REPORT_BIN_VERSION) throw new ProtoError(`${name}: layout version ${ver} is not supported (this build reads version ${LINK_REPORT_BIN_VERSION}; edge and supernode are of different builds)`);
  const dst = v.getUint16(2, true);
  const c = v.getUint16(4, true);
  if (v.getUint16(6, true) !== 0) throw new ProtoError(`${name}: reserved bytes 6..7 must be 0`);
  if (c > LINK_REPORT_MAX) throw new ProtoError(`${name}: count ${c} is above ${LINK_REPORT_MAX}`);
  const need = LINK_REPORT_BIN_HEAD + LINK_REPORT_BIN_ITEM * c;
  if (bytes.length !== need) throw new ProtoError(`${name}: length ${bytes.length} does not match count ${c} (16 + 18 x count = ${need} bytes)`);
  const ac = v.getFloat64(8, true);
  if (!Number.isFinite(ac)) throw new ProtoError(`${name}: AdditionalCost must be a finite number`);
  let src = bytes;
  if (!littleEndian || bytes.byteOffset % 8 !== 0) {
    if (!littleEndian) return decodeBinSlow(v, dst, c, ac);
    src = new Uint8Array(bytes); // aligned copy
  }
  const o = src.byteOffset + LINK_REPORT_BIN_HEAD;
  return {
    Dst: dst,
    AdditionalCost: ac,
    timediffs: new Float64Array(src.buffer, o, c),
    ttls: new Float64Array(src.buffer, o + 8 * c, c),
    srcs: new Uint16Array(src.buffer, o + 16 * c, c),
  };
}

/** decodeLinkReportBin's columns on a big-endian host (value by value). */
function decodeBinSlow(v: DataView, dst: number, c: number, ac: number): LinkReportBin {
  const r: LinkReportBin = { Dst: dst, AdditionalCost: ac, srcs: new Uint16Array(c), timediffs: new Float64Array(c), ttls: new Float64Array(c) };
  for (let k = 0; k < c; k++) {
    r.timediffs[k] = v.getFloat64(LINK_REPORT_BIN_HEAD + 8 * k, true);
    r.ttls[k] = v.getFloat64(LINK_REPORT_BIN_HEAD + 8 * c + 8 * k, true);
    r.srcs[k] = v.getUint16(LINK_REPORT_BIN_HEAD + 16 * c + 2 * k, true);
  }
  return r;
}

/**
 * checkLinkItem's rules for one item of a binary LinkReport (Src is a u16 by construction):
 * null, or why it is refused (the rule, without the value).
 */
export function checkLinkItemValues(timediff: number, ttl: number): string | null {
  if (!(Math.abs(timediff) <= TIMEDIFF_LIMIT_S)) return `Links item Timediff must be a number within ±${TIMEDIFF_LIMIT_S} s`;
  if (!Number.isFinite(ttl) || ttl < 0) return 'Links item TimeToAlive must be a finite number >= 0';
  return null;
}

// ---- HTTP bodies -----------------------------------------------------------------------------

/** One measurement in a report: Src → Dst latency (s), measured by Dst, the reporting edge. */
export interface ReportPong {
  Src: number;
  Dst: number;
  Timediff: number;
  TimeToAlive: number;
  AdditionalCost: number;
}
const reportPongSchema: JSONSchemaType<ReportPong> = {
  type: 'object',
  additionalProperties: false,
  required: ['Src', 'Dst', 'Timediff', 'TimeToAlive', 'AdditionalCost'],
  properties: pongProps,
};
/** POST {prefix}/edge/post/nodeinfo body (JSON), as an edge builds it. */
export interface NodeInfoReport {
  v: 1;
  Pongs: ReportPong[];
  /** "ip:port" → priority (100 auto-detected, 50 AdditionalLocalIP) */
  LocalV4s: Record<string, number>;
  LocalV6s: Record<string, number>;
}
/**
 * The same body as the supernode decodes it: only the frame is checked here (version, the three
 * containers, their sizes). Each pong and each address is an *item* checked on its own
 * (`decode.reportPong`, `splitLocalMap` in ts/super/state.ts), so one bad item is refused
 * with its reason while the good ones are applied (docs/control.md).
 */
export interface NodeInfoReportIn {
  v: 1;
  Pongs: unknown[];
  LocalV4s: Record<string, unknown>;
  LocalV6s: Record<string, unknown>;
}
const addrMap = { type: 'object', maxProperties: 64, additionalProperties: { type: 'number' }, required: [] } as const;
const anyMap = { type: 'object', maxProperties: 64, required: [] } as const;
const nodeInfoSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['v', 'Pongs', 'LocalV4s', 'LocalV6s'],
  properties: {
    v: { type: 'integer', const: 1 },
    Pongs: { type: 'array', maxItems: 65536, items: true },
    LocalV4s: anyMap,
    LocalV6s: anyMap,
  },
} as unknown as JSONSchemaType<NodeInfoReportIn>;

/** One refused item of a report: where it is (`Pongs/3`, `LocalV4s/<key>`) and why. */
export interface RefusedItem {
  Item: string;
  Reason: string;
}
/**
 * 200 answer to an accepted report: how many pongs were applied and every refused item.
 * An edge logs the refused ones (the rest of its report is in effect).
 */
export interface ReportResult {
  Applied: number;
  Refused: RefusedItem[];
}
const reportResultSchema: JSONSchemaType<ReportResult> = {
  type: 'object',
  additionalProperties: false,
  required: ['Applied', 'Refused'],
  properties: {
    Applied: { type: 'integer', minimum: 0 },
    Refused: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['Item', 'Reason'], properties: { Item: { type: 'string' }, Reason: { type: 'string' } } },
    },
  },
};

/** "ip:port" → priority. Empty maps where upstream sent null. */
export interface Connurl {
  ExternalV4: Record<string, number>;
  ExternalV6: Record<string, number>;
  LocalV4: Record<string, number>;
  LocalV6: Record<string, number>;
}
export interface PeerInfoEntry {
  NodeID: number;
  PSKey: string;
  Connurl: Connurl;
}
/** GET {prefix}/edge/peerinfo response: public key (base64) → entry. */
export type PeerInfoBody = Record<string, PeerInfoEntry>;
const peerInfoSchema: JSONSchemaType<PeerInfoBody> = {
  type: 'object',
  required: [],
  additionalProperties: {
    type: 'object',
    additionalProperties: false,
    required: ['NodeID', 'PSKey', 'Connurl'],
    properties: {
      NodeID: u16,
      PSKey: { type: 'string', maxLength: 64 },
      Connurl: {
        type: 'object',
        additionalProperties: false,
        required: ['ExternalV4', 'ExternalV6', 'LocalV4', 'LocalV6'],
        properties: { ExternalV4: addrMap, ExternalV6: addrMap, LocalV4: addrMap, LocalV6: addrMap },
      },
    },
  },
};

/** GET {prefix}/edge/nhtable response: {"src": {"dst": next}} */
export type NhTableBody = Record<string, Record<string, number>>;
const nhTableSchema: JSONSchemaType<NhTableBody> = {
  type: 'object',
  required: [],
  additionalProperties: { type: 'object', required: [], additionalProperties: u16 },
};

/** GET {prefix}/edge/superparams response. */
export interface SuperParamsBody {
  SendPingInterval: number;
  HttpPostInterval: number;
  PeerAliveTimeout: number;
  DampingFilterRadius: number;
  AdditionalCost: number;
}
const superParamsSchema: JSONSchemaType<SuperParamsBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['SendPingInterval', 'HttpPostInterval', 'PeerAliveTimeout', 'DampingFilterRadius', 'AdditionalCost'],
  properties: {
    SendPingInterval: { type: 'number', exclusiveMinimum: 0 },
    HttpPostInterval: { type: 'number', minimum: 0 },
    PeerAliveTimeout: { type: 'number', exclusiveMinimum: 0 },
    DampingFilterRadius: { type: 'integer', minimum: 0, maximum: 64 },
    AdditionalCost: { type: 'number', minimum: -1 },
  },
};

export const schemas = {
  register: registerSchema,
  serverUpdate: serverUpdateSchema,
  ping: pingSchema,
  pong: pongSchema,
  nodeInfo: nodeInfoSchema,
  reportPong: reportPongSchema,
  reportResult: reportResultSchema,
  peerInfo: peerInfoSchema,
  nhTable: nhTableSchema,
  superParams: superParamsSchema,
};

/**
 * Validates an already parsed value against `schema` (compiled once, on first use, under
 * `profile`: the control messages' unless given); throws ProtoError naming the message, the path
 * and the rule. Also used by P2P's messages (ts/p2p/proto.ts).
 */
export function checker<T>(name: string, schema: JSONSchemaType<T>, profile: AjvProfile = CONTROL_AJV): (obj: unknown) => T {
  const get = validator(profile, name, schema);
  return (obj) => {
    const v = get();
    if (!v(obj)) {
      const e = v.errors?.[0];
      throw new ProtoError(`${name}: ${e ? `${e.instancePath || '(root)'} ${e.message}` : 'invalid'}`);
    }
    return obj;
  };
}

/**
 * JSON.parse for network input; throws ProtoError for text that is not JSON and for a number
 * beyond double range (1e309 parses to Infinity, which `type: number` accepts and JSON.stringify
 * would pass on as null), naming the field.
 */
/**
 * Whether a parsed JSON value holds a non-finite number (a literal beyond double range).
 * Iterative: a datagram can nest arrays tens of thousands deep, past the call stack.
 */
function hasNonFinite(root: unknown): boolean {
  const todo: unknown[] = [root];
  while (todo.length > 0) {
    const v = todo.pop();
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return true;
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) todo.push(v[i]);
    } else if (typeof v === 'object' && v !== null) {
      for (const k in v) todo.push((v as Record<string, unknown>)[k]);
    }
  }
  return false;
}

function parseJson(name: string, bytes: Uint8Array | string): unknown {
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  let nonFinite: string | undefined;
  let obj: unknown;
  // Parsed without a reviver first (a reviver is a JS call per value, several times slower, and
  // the supernode parses a million LinkReport items a second at N = 1000); only a text that
  // holds a number beyond double range is parsed again with it, to name the first such field.
  try {
    obj = JSON.parse(text);
  } catch {
    throw new ProtoError(`${name}: not valid JSON`);
  }
  if (!hasNonFinite(obj)) return obj;
  try {
    obj = JSON.parse(text, (key, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v)) nonFinite ??= key;
      return v;
    });
  } catch {
    throw new ProtoError(`${name}: not valid JSON`);
  }
  if (nonFinite !== undefined) throw new ProtoError(`${name}: ${nonFinite || '(root)'} must be a finite number (it is beyond double range)`);
  return obj;
}

function decoder<T>(name: string, schema: JSONSchemaType<T>): (bytes: Uint8Array | string) => T {
  const check = checker(name, schema);
  return (bytes) => check(parseJson(name, bytes));
}

export class ProtoError extends Error {}

const checkPong = checker('Pong', pongSchema);
const checkLinkReport = checker('LinkReport', linkReportSchema);

export const decode = {
  register: decoder('Register', registerSchema),
  serverUpdate: decoder('ServerUpdate', serverUpdateSchema),
  ping: decoder('Ping', pingSchema),
  pong: decoder('Pong', pongSchema),
  /**
   * A kind-8 payload: a single PongMsg (older edges, tests), a JSON LinkReportMsg (its frame
   * only; check each item with checkLinkItem), or a binary LinkReport (first byte
   * LINK_REPORT_BIN_MAGIC; decodeLinkReportBin, items checked with checkLinkItemValues).
   * Parsed once; throws ProtoError naming the rule.
   */
  pongOrReport: (bytes: Uint8Array | string): { pong: PongMsg } | { report: LinkReportFrame } => {
    // The binary form (newer edges) by its first byte; JSON from older edges and tests.
    if (typeof bytes !== 'string' && bytes[0] === LINK_REPORT_BIN_MAGIC) return { report: decodeLinkReportBin(bytes) };
    const obj = parseJson('Pong', bytes);
    if (typeof obj === 'object' && obj !== null && 'Links' in obj) return { report: checkLinkReport(obj) };
    return { pong: checkPong(obj) };
  },
  nodeInfo: decoder('NodeInfo report', nodeInfoSchema),
  peerInfo: decoder('PeerInfo', peerInfoSchema),
  nhTable: decoder('NhTable', nhTableSchema),
  superParams: decoder('SuperParams', superParamsSchema),
};

/** One element of a decoded report's Pongs (parsed JSON); throws ProtoError naming the field and rule. */
export const checkReportPong = checker('Pong', reportPongSchema);
/** The supernode's answer to a report (edge side). */
export const decodeReportResult = decoder('Report result', reportResultSchema);

export function encode(msg: object): Uint8Array {
  return Buffer.from(JSON.stringify(msg), 'utf8');
}
