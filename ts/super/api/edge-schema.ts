// Schemas of the edge API routes (ts/super/api/edge.ts): querystrings, bodies and answers.
import { schemas } from '../../proto/control.js';
import { errorSchema } from '../../shared/http.js';

const identProps = {
  NodeID: { type: 'integer', minimum: 0, maximum: 65531 },
  PubKey: { type: 'string', minLength: 1, maxLength: 64 },
} as const;

/** GET peerinfo / nhtable / superparams: the edge and the state hash it was told about. */
export const pullQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['NodeID', 'PubKey', 'State'],
  properties: { ...identProps, State: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

/** POST post/nodeinfo: the edge, and its token unless it comes as `Authorization: Bearer`. */
export const postQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['NodeID', 'PubKey'],
  properties: { ...identProps, JWTSig: { type: 'string', minLength: 1, maxLength: 4096 } },
} as const;

const errors = { 400: errorSchema, 404: errorSchema, 409: errorSchema, 413: errorSchema };

export const peerInfoRoute = { querystring: pullQuery, response: { 200: schemas.peerInfo, ...errors } };
export const nhTableRoute = { querystring: pullQuery, response: { 200: schemas.nhTable, ...errors } };
export const superParamsRoute = { querystring: pullQuery, response: { 200: schemas.superParams, ...errors } };
export const reportRoute = { querystring: postQuery, body: schemas.nodeInfo, response: { 200: schemas.reportResult, ...errors } };
