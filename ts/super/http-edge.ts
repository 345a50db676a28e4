// The edge API (docs/control.md): state pulls keyed by the announced hash, and the signed
// latency report. 400 bad/missing parameter or body or JWT, 404 unknown NodeID / wrong PubKey /
// stale State, 409 replayed PostCount, 413 body too large. A report whose frame is valid is
// applied item by item: 200 {Applied, Refused: [{Item, Reason}]}.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { decode, ProtoError, schemas } from '../proto/control.js';
import { verifyReport } from '../proto/jwt.js';
import { errorSchema, fail } from '../shared/http.js';
import type { EdgeRec } from './state.js';
import type { Supernode } from './supernode.js';

const identProps = {
  NodeID: { type: 'integer', minimum: 0, maximum: 65531 },
  PubKey: { type: 'string', minLength: 1, maxLength: 64 },
} as const;

const pullQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['NodeID', 'PubKey', 'State'],
  properties: { ...identProps, State: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

const postQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['NodeID', 'PubKey'],
  properties: { ...identProps, JWTSig: { type: 'string', minLength: 1, maxLength: 4096 } },
} as const;

const errors = { 400: errorSchema, 404: errorSchema, 409: errorSchema, 413: errorSchema };

interface Ident {
  NodeID: number;
  PubKey: string;
}

function identify(sn: Supernode, q: Ident, reply: FastifyReply): EdgeRec | undefined {
  const rec = sn.edges.get(q.NodeID);
  if (!rec || rec.removing) {
    fail(reply, 404, `NodeID ${q.NodeID} is not a peer of this supernode`);
    return undefined;
  }
  if (rec.conf.PubKey !== q.PubKey) {
    fail(reply, 404, `PubKey does not match NodeID ${q.NodeID}`);
    return undefined;
  }
  return rec;
}

const stale = (reply: FastifyReply) => fail(reply, 404, 'State not correct (a newer state exists; wait for its notice)');

export function registerEdgeApi(app: FastifyInstance, prefix: string, sn: Supernode): void {
  app.get<{ Querystring: Ident & { State: string } }>(
    `${prefix}/edge/peerinfo`,
    { schema: { querystring: pullQuery, response: { 200: schemas.peerInfo, ...errors } } },
    async (req, reply) => {
      const rec = identify(sn, req.query, reply);
      if (!rec) return reply;
      const cur = sn.peerState();
      if (req.query.State !== cur.hash) return stale(reply);
      rec.acked.peer = cur.hash;
      return sn.peerInfoBody(rec, cur.edges);
    },
  );

  app.get<{ Querystring: Ident & { State: string } }>(
    `${prefix}/edge/nhtable`,
    { schema: { querystring: pullQuery, response: { 200: schemas.nhTable, ...errors } } },
    async (req, reply) => {
      const rec = identify(sn, req.query, reply);
      if (!rec) return reply;
      if (req.query.State !== sn.routes.hash) return stale(reply);
      rec.acked.nh = sn.routes.hash;
      return reply.type('application/json').send(sn.routes.nhJson);
    },
  );

  app.get<{ Querystring: Ident & { State: string } }>(
    `${prefix}/edge/superparams`,
    { schema: { querystring: pullQuery, response: { 200: schemas.superParams, ...errors } } },
    async (req, reply) => {
      const rec = identify(sn, req.query, reply);
      if (!rec) return reply;
      const p = sn.paramsState(rec);
      if (req.query.State !== p.hash) return stale(reply);
      rec.acked.params = p.hash;
      return p.body;
    },
  );

  app.post<{ Querystring: Ident & { JWTSig?: string } }>(
    `${prefix}/edge/post/nodeinfo`,
    { schema: { querystring: postQuery, body: schemas.nodeInfo, response: { 200: schemas.reportResult, ...errors } } },
    async (req, reply) => {
      const rec = identify(sn, req.query, reply);
      if (!rec) return reply;
      const auth = req.headers.authorization;
      const bearer = auth ? /^Bearer\s+(\S+)$/i.exec(auth.trim())?.[1] : undefined;
      const token = req.query.JWTSig ?? bearer;
      if (!token) return fail(reply, 400, 'JWTSig missing (query parameter or Authorization: Bearer)');
      if (!rec.secret) return fail(reply, 400, `NodeID ${rec.conf.NodeID} has not registered yet (no JWT secret)`);
      const raw = req.rawBody;
      if (!raw) return fail(reply, 400, 'body missing');
      const claims = verifyReport(rec.secret, token, raw);
      if (typeof claims === 'string') return fail(reply, 400, `JWTSig: ${claims}`);
      if (claims.PostCount < rec.postCount) return fail(reply, 409, `PostCount ${claims.PostCount} already used (next must be at least ${rec.postCount})`);
      let report;
      try {
        report = decode.nodeInfo(raw);
      } catch (e) {
        if (e instanceof ProtoError) return fail(reply, 400, e.message);
        throw e;
      }
      return sn.applyReport(rec, claims.PostCount, report);
    },
  );
}
