// The narrow interfaces the HTTP route plugins call (ts/super/api/*.ts). A handler parses and
// answers; what a request does lives behind these: the edge API in ts/super/edge-api.ts, the
// manage API in ts/super/manage.ts. A refusal is a Refused {status, message}, sent as the JSON
// error body {statusCode, error, message}.
import type { Passwords } from '../../config/index.js';
import type { PeerInfoBody, ReportResult, SuperParamsBody } from '../../proto/control.js';
import type { AuthLimiter } from '../auth.js';
import type { Refused } from '../config-rewrite.js';
import type { HttpState } from '../types.js';

/** What the password guard needs: the configured passwords and the per-IP failure limiter. */
export interface PasswordCheck {
  readonly limiter: AuthLimiter;
  readonly cfg: { readonly Passwords: Passwords };
}

/** An edge's identity on every edge API call (query NodeID, PubKey). */
export interface EdgeIdent {
  NodeID: number;
  PubKey: string;
}

/**
 * The edge API (docs/control.md). Each pull is keyed by the hash the edge was told about: a
 * different current hash is a 404 `State not correct`; an answered pull records the hash as the
 * edge's ack. 404 also for an unknown NodeID or a PubKey that does not match it.
 */
export interface EdgeApi {
  peerInfo(q: EdgeIdent, state: string): PeerInfoBody | Refused;
  /** The published next-hop table as JSON text. */
  nhTable(q: EdgeIdent, state: string): string | Refused;
  superParams(q: EdgeIdent, state: string): SuperParamsBody | Refused;
  /**
   * A signed report: `token` from the query JWTSig or `Authorization: Bearer`, `raw` the exact
   * body bytes. 400 bad token / body / not registered, 409 replayed PostCount.
   */
  report(q: EdgeIdent, token: string | undefined, raw: Buffer | undefined): ReportResult | Refused;
}

/** Where the admin's request arrived: the supernode's addresses in the edge YAML peer/add returns come from it. */
export interface RequestOrigin {
  /** The local address of the connection (req.socket.localAddress). */
  localAddress: string | undefined;
  /** The host name the admin used (Host, without port). */
  hostname: string;
}

/** Request parameters (query and body merged), as the route schemas let them through. */
export type Params = Record<string, unknown>;

/**
 * The manage API (upstream's endpoints; docs/supernode.md "Manage API"). Every write is one
 * transaction of the peer store (ts/super/store.ts). `hint` turns a refusal naming a key
 * parameter into one saying how to send `+` (the HTTP layer knows how the parameter arrived).
 */
export interface ManageApi {
  state(): HttpState;
  /** The edge YAML of the new peer. */
  addPeer(p: Params, origin: RequestOrigin, hint: (message: string) => string): Promise<string | Refused>;
  /** `byKey`: no password was presented, so PrivKey identifies the peer. The answer text. */
  delPeer(p: Params, byKey: boolean, ip: string, hint: (message: string) => string): Promise<string | Refused>;
  updatePeer(p: Params): Promise<string | Refused>;
  updateSuper(p: Params): Promise<string | Refused>;
}
