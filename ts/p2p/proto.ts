// P2P control messages (docs/p2p.md): a latency report (kind Pong = 8) and a node's
// self-description (kind BroadcastPeer = 10; kind QueryPeer = 9 is the same body and asks every
// node to flood its own). All three travel on the flood channel (dst 65534, TTL DefaultTTL) and
// are signed by their origin with XEdDSA over its X25519 WireGuard key, so a message speaks only
// for its origin however many relays carried it.
//
// Wire form: UTF-8 JSON `{"v":1,"Body":"<JSON text>","Sig":"<base64, 64 bytes>"}`. The signature
// covers `DOMAIN ‖ kind ‖ "\n" ‖ Body` (the exact Body bytes, never a re-serialisation), so a
// signature made for one kind cannot be replayed as another.
import AjvModule, { type JSONSchemaType } from 'ajv';
import { Kind } from '../core/frame.js';
import { ProtoError, TIMEDIFF_LIMIT_S } from '../proto/control.js';

const Ajv = AjvModule.default;
const ajv = new Ajv({ allErrors: false, strict: true });

/** Signature domain: the protocol name and version. */
export const DOMAIN = 'etherguard-p2p/1 kind=';

const nodeId = { type: 'integer', minimum: 0, maximum: 65531 } as const;
const seq = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

export interface Envelope {
  v: 1;
  Body: string;
  Sig: string;
}
const envelopeSchema: JSONSchemaType<Envelope> = {
  type: 'object',
  additionalProperties: false,
  required: ['v', 'Body', 'Sig'],
  properties: { v: { type: 'integer', const: 1 }, Body: { type: 'string', maxLength: 60000 }, Sig: { type: 'string', pattern: '^[A-Za-z0-9+/]{86}==$' } },
};

/** One measured link Src → Origin: one-way latency (s, with the clock offset) and how long it stays valid (s). */
export interface ReportLink {
  Src: number;
  Timediff: number;
  TimeToAlive: number;
}
/** Origin's filtered incoming one-way latencies, one per live peer, flooded every SendPingInterval. */
export interface ReportBody {
  v: 1;
  Origin: number;
  Seq: number;
  /** ms, Origin's AdditionalCost (negative counts as 0). */
  AdditionalCost: number;
  Links: ReportLink[];
}
const reportSchema: JSONSchemaType<ReportBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['v', 'Origin', 'Seq', 'AdditionalCost', 'Links'],
  properties: {
    v: { type: 'integer', const: 1 },
    Origin: nodeId,
    Seq: seq,
    AdditionalCost: { type: 'number' },
    Links: {
      type: 'array',
      maxItems: 4096,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['Src', 'Timediff', 'TimeToAlive'],
        properties: { Src: nodeId, Timediff: { type: 'number', minimum: -TIMEDIFF_LIMIT_S, maximum: TIMEDIFF_LIMIT_S }, TimeToAlive: { type: 'number', minimum: 0 } },
      },
    },
  },
};

/**
 * A node's own description: its NodeID, X25519 public key, PSK policy and the underlay
 * endpoints ("ip:port", "[v6]:port") it listens on. `PSK: "none"`: P2P sessions to discovered
 * peers use no pre-shared key (as upstream, which disables edge-to-edge PSKs in P2P mode).
 */
export interface PeerBody {
  v: 1;
  Origin: number;
  Seq: number;
  PubKey: string;
  PSK: 'none';
  Endpoints: string[];
}
const peerSchema: JSONSchemaType<PeerBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['v', 'Origin', 'Seq', 'PubKey', 'PSK', 'Endpoints'],
  properties: {
    v: { type: 'integer', const: 1 },
    Origin: nodeId,
    Seq: seq,
    PubKey: { type: 'string', pattern: '^[A-Za-z0-9+/]{43}=$' },
    PSK: { type: 'string', const: 'none' },
    Endpoints: { type: 'array', maxItems: 64, items: { type: 'string', maxLength: 64 } },
  },
};

function checker<T>(name: string, schema: JSONSchemaType<T>): (obj: unknown) => T {
  const v = ajv.compile(schema);
  return (obj) => {
    if (!v(obj)) {
      const e = v.errors?.[0];
      throw new ProtoError(`${name}: ${e ? `${e.instancePath || '(root)'} ${e.message}` : 'invalid'}`);
    }
    return obj;
  };
}
const parseJson = (name: string, text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    throw new ProtoError(`${name}: not valid JSON`);
  }
};

const checkEnvelope = checker('P2P envelope', envelopeSchema);
export const checkReport = checker('P2P report', reportSchema);
export const checkPeer = checker('P2P peer', peerSchema);

/** The bytes a signature covers for a Body of `kind`. */
export function signedBytes(kind: number, body: string): Uint8Array {
  return Buffer.from(`${DOMAIN}${kind}\n${body}`, 'utf8');
}

/** Serialises and signs `body` as a message of `kind` (sign: XEdDSA with the origin's private key). */
export function seal(kind: Kind, body: ReportBody | PeerBody, sign: (msg: Uint8Array) => Uint8Array): Uint8Array {
  const text = JSON.stringify(body);
  const sig = Buffer.from(sign(signedBytes(kind, text))).toString('base64');
  return Buffer.from(JSON.stringify({ v: 1, Body: text, Sig: sig } satisfies Envelope), 'utf8');
}

/** The envelope of a received payload: its Body text, the signature and the signed bytes. Throws ProtoError. */
export function open(kind: number, payload: Uint8Array): { body: unknown; sig: Uint8Array; signed: Uint8Array } {
  const env = checkEnvelope(parseJson('P2P envelope', Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8')));
  return { body: parseJson('P2P body', env.Body), sig: Buffer.from(env.Sig, 'base64'), signed: signedBytes(kind, env.Body) };
}
