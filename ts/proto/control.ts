// Control messages carried inside Etherguard frames (kinds 5–8), and the HTTP bodies between
// edges and the supernode. Encoding: UTF-8 JSON objects with a version field `v` (currently 1),
// each validated by an ajv schema on receipt (unknown keys and wrong types are rejected), so a
// malformed or hostile message is dropped with a reason rather than half-applied.
// Reference: docs/control.md.
import AjvModule, { type JSONSchemaType, type ValidateFunction } from 'ajv';

const Ajv = AjvModule.default;
const ajv = new Ajv({ allErrors: false, strict: true, removeAdditional: false });

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

/** The measured one-way latency Src → Dst, reported by Dst. Seconds; may be negative (clock offset). */
export interface PongMsg {
  v: 1;
  Src: number;
  Dst: number;
  Timediff: number;
  TimeToAlive: number;
  /** ms; the measuring edge's own AdditionalCost (applied when its supernode entry says -1). */
  AdditionalCost: number;
}
const pongProps = {
  Src: u16,
  Dst: u16,
  Timediff: { type: 'number', minimum: -3600, maximum: 99999 },
  TimeToAlive: { type: 'number', minimum: 0, maximum: 1e6 },
  AdditionalCost: { type: 'number', minimum: -1, maximum: 1e6 },
} as const;
const pongSchema: JSONSchemaType<PongMsg> = {
  type: 'object',
  additionalProperties: false,
  required: ['v', 'Src', 'Dst', 'Timediff', 'TimeToAlive', 'AdditionalCost'],
  properties: { v: { type: 'integer', const: 1 }, ...pongProps },
};

// ---- HTTP bodies -----------------------------------------------------------------------------

export interface ReportPong {
  Src: number;
  Dst: number;
  Timediff: number;
  TimeToAlive: number;
  AdditionalCost: number;
}
/** POST {prefix}/edge/post/nodeinfo body (JSON). */
export interface NodeInfoReport {
  v: 1;
  Pongs: ReportPong[];
  /** "ip:port" → priority (100 auto-detected, 50 AdditionalLocalIP) */
  LocalV4s: Record<string, number>;
  LocalV6s: Record<string, number>;
}
const addrMap = { type: 'object', maxProperties: 64, additionalProperties: { type: 'number' }, required: [] } as const;
const nodeInfoSchema: JSONSchemaType<NodeInfoReport> = {
  type: 'object',
  additionalProperties: false,
  required: ['v', 'Pongs', 'LocalV4s', 'LocalV6s'],
  properties: {
    v: { type: 'integer', const: 1 },
    Pongs: {
      type: 'array',
      maxItems: 65536,
      items: { type: 'object', additionalProperties: false, required: ['Src', 'Dst', 'Timediff', 'TimeToAlive', 'AdditionalCost'], properties: pongProps },
    },
    LocalV4s: addrMap,
    LocalV6s: addrMap,
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
  peerInfo: peerInfoSchema,
  nhTable: nhTableSchema,
  superParams: superParamsSchema,
};

function decoder<T>(name: string, schema: JSONSchemaType<T>): (bytes: Uint8Array | string) => T {
  const v: ValidateFunction<T> = ajv.compile(schema);
  return (bytes) => {
    let obj: unknown;
    try {
      obj = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
    } catch {
      throw new ProtoError(`${name}: not valid JSON`);
    }
    if (!v(obj)) {
      const e = v.errors?.[0];
      throw new ProtoError(`${name}: ${e ? `${e.instancePath || '(root)'} ${e.message}` : 'invalid'}`);
    }
    return obj;
  };
}

export class ProtoError extends Error {}

export const decode = {
  register: decoder('Register', registerSchema),
  serverUpdate: decoder('ServerUpdate', serverUpdateSchema),
  ping: decoder('Ping', pingSchema),
  pong: decoder('Pong', pongSchema),
  nodeInfo: decoder('NodeInfo report', nodeInfoSchema),
  peerInfo: decoder('PeerInfo', peerInfoSchema),
  nhTable: decoder('NhTable', nhTableSchema),
  superParams: decoder('SuperParams', superParamsSchema),
};

export function encode(msg: object): Uint8Array {
  return Buffer.from(JSON.stringify(msg), 'utf8');
}
