// The edge API route group (docs/control.md), registered with prefix `{API_Prefix}/edge`: state
// pulls keyed by the announced hash, and the signed latency report. 400 bad/missing parameter or
// body or JWT, 404 unknown NodeID / wrong PubKey / stale State, 409 replayed PostCount, 413 body
// too large. The work is EdgeApi's (ts/super/edge-api.ts).
import type { FastifyPluginAsync } from 'fastify';
import { nhTableRoute, peerInfoRoute, reportRoute, superParamsRoute } from './edge-schema.js';
import { answer } from './reply.js';
import type { EdgeApi, EdgeIdent } from './service.js';

type Pull = { Querystring: EdgeIdent & { State: string } };

export const edgeRoutes: FastifyPluginAsync<{ api: EdgeApi }> = async (app, { api }) => {
  app.get<Pull>('/peerinfo', { schema: peerInfoRoute }, async (req, reply) => answer(reply, api.peerInfo(req.query, req.query.State)));
  app.get<Pull>('/nhtable', { schema: nhTableRoute }, async (req, reply) => answer(reply, api.nhTable(req.query, req.query.State), 'application/json'));
  app.get<Pull>('/superparams', { schema: superParamsRoute }, async (req, reply) => answer(reply, api.superParams(req.query, req.query.State)));
  app.post<{ Querystring: EdgeIdent & { JWTSig?: string } }>('/post/nodeinfo', { schema: reportRoute }, async (req, reply) => {
    const auth = req.headers.authorization;
    const bearer = auth ? /^Bearer\s+(\S+)$/i.exec(auth.trim())?.[1] : undefined;
    return answer(reply, api.report(req.query, req.query.JWTSig ?? bearer, req.rawBody));
  });
};
