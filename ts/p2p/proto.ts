// P2P control messages (docs/p2p.md): a latency report (kind Pong = 8) and a node's
// self-description (kind BroadcastPeer = 10; kind QueryPeer = 9 is the same body and asks every
// node to flood its own). All three travel on the flood channel (dst 65534, TTL DefaultTTL) and
// are signed by their origin with XEdDSA over its X25519 WireGuard key, so a message speaks only
// for its origin however many relays carried it.
//
// Wire form: the 64-byte signature, then the body as UTF-8 JSON. The signature covers
// `DOMAIN ‖ kind ‖ "\n" ‖ body` (the exact body bytes, never a re-serialisation), so a signature
// made for one kind cannot be replayed as another. Report links are `[Src, Timediff, TimeToAlive]`
// triples: a report is flooded to every node every ping interval, so its size matters.
import type { JSONSchemaType } from 'ajv';
import type { AjvProfile } from '../shared/schema-check.js';
import { Kind } from '../core/frame.js';
import { checker, ProtoError, TIMEDIFF_LIMIT_S } from '../proto/control.js';

const P2P_AJV: AjvProfile = { name: 'p2p', options: { allErrors: false, strict: true } };

/** Signature domain: the protocol name and version. */
export const DOMAIN = 'etherguard-p2p/1 kind=';
/** XEdDSA signature length (bytes), in front of every body. */
export const SIG_LEN = 64;

const nodeId = { type: 'integer', minimum: 0, maximum: 65531 } as const;
const seq = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

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
  /** `[Src, Timediff (s), TimeToAlive (s)]` per link Src → Origin (see ReportLink). */
  Links: [number, number, number][];
}
const reportSchema = {
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
        type: 'array',
        minItems: 3,
        maxItems: 3,
        items: [nodeId, { type: 'number', minimum: -TIMEDIFF_LIMIT_S, maximum: TIMEDIFF_LIMIT_S }, { type: 'number', minimum: 0 }],
      },
    },
  },
} as unknown as JSONSchemaType<ReportBody>;

/** A report's links as objects. */
export function reportLinks(b: ReportBody): ReportLink[] {
  return b.Links.map(([Src, Timediff, TimeToAlive]) => ({ Src, Timediff, TimeToAlive }));
}

/** Links → the report's wire triples; TimeToAlive to the ms (it is a lifetime, not a measurement). */
export function linkTriples(links: ReportLink[]): [number, number, number][] {
  return links.map((l) => [l.Src, l.Timediff, Math.round(l.TimeToAlive * 1000) / 1000]);
}

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

const parseJson = (name: string, text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    throw new ProtoError(`${name}: not valid JSON`);
  }
};

export const checkReport = checker('P2P report', reportSchema, P2P_AJV);
export const checkPeer = checker('P2P peer', peerSchema, P2P_AJV);

/** The bytes a signature covers for a body of `kind`. */
export function signedBytes(kind: number, body: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from(`${DOMAIN}${kind}\n`, 'utf8'), body]);
}

/** Serialises and signs `body` as a message of `kind` (sign: XEdDSA with the origin's private key). */
export function seal(kind: Kind, body: ReportBody | PeerBody, sign: (msg: Uint8Array) => Uint8Array): Uint8Array {
  const text = Buffer.from(JSON.stringify(body), 'utf8');
  const sig = sign(signedBytes(kind, text));
  if (sig.length !== SIG_LEN) throw new Error(`signer returned ${sig.length} bytes, not ${SIG_LEN}`);
  return Buffer.concat([sig, text]);
}

/** A received payload: its parsed body, the signature and the signed bytes. Throws ProtoError. */
export function open(kind: number, payload: Uint8Array): { body: unknown; sig: Uint8Array; signed: Uint8Array } {
  if (payload.length <= SIG_LEN) throw new ProtoError(`P2P message: ${payload.length} bytes, shorter than a signature and a body`);
  const body = payload.subarray(SIG_LEN);
  return { body: parseJson('P2P body', Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')), sig: payload.subarray(0, SIG_LEN), signed: signedBytes(kind, body) };
}
