// The manage API (upstream's paths and parameter names, case-sensitive). Every endpoint takes
// GET or POST; parameters come from the query or a urlencoded / JSON body. Passwords: query or
// body `Password`, or `Authorization: Bearer <pw>`; compared in constant time; an empty
// configured password disables the endpoint (403); failures are rate-limited per client IP.
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { keyProblem, publicKeyOf, type NodeIdTable, type Passwords, type SuperPeerInfo } from '../config/index.js';
import { passwordMatches, presentedPassword } from './auth.js';
import { addPeerToDoc, delPeerFromDoc, edgeConfigYaml, setNextHopTable, setTopLevel, updatePeerInDoc } from './config-rewrite.js';
import { errorSchema, fail } from './http.js';
import type { Supernode } from './supernode.js';

type Params = Record<string, unknown>;

const paramSchema = (props: Record<string, object>) =>
  ({ type: 'object', additionalProperties: false, required: [], properties: { Password: { type: 'string', maxLength: 1024 }, ...props } }) as const;

const NODE_ID = { type: 'integer', minimum: 0, maximum: 65531 };
const text = { type: 'string' } as const;
const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema, 429: errorSchema, 500: errorSchema };

const table = { type: 'object', additionalProperties: { type: 'object', additionalProperties: { type: 'number' } } } as const;
const addrMap = { type: 'object', additionalProperties: { type: 'number' } } as const;
export const httpStateSchema = {
  type: 'object',
  required: ['PeerInfo', 'Infinity', 'Edges', 'Edges_Nh', 'NhTable', 'Dist', 'Dist_noAC', 'Status'],
  properties: {
    PeerInfo: {
      type: 'object',
      additionalProperties: { type: 'object', required: ['Name', 'LastSeen'], properties: { Name: text, LastSeen: text } },
    },
    Infinity: { type: 'number' },
    Edges: table,
    Edges_Nh: table,
    NhTable: table,
    Dist: table,
    Dist_noAC: table,
    Status: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: {
          Alive: { type: 'boolean' },
          LastSeenAgo: { type: 'number' },
          ExternalV4: text,
          ExternalV6: text,
          LocalV4s: addrMap,
          LocalV6s: addrMap,
          Synced: { type: 'object', properties: { PeerInfo: { type: 'boolean' }, NhTable: { type: 'boolean' }, SuperParams: { type: 'boolean' } } },
        },
      },
    },
  },
} as const;

const isObj = (x: unknown): x is Params => typeof x === 'object' && x !== null && !Array.isArray(x);
const params = (req: FastifyRequest): Params => ({ ...(isObj(req.body) ? req.body : {}), ...(isObj(req.query) ? req.query : {}) });

function guard(sn: Supernode, which: keyof Passwords, privKeyAlternative = false) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const left = sn.limiter.blockedFor(req.ip);
    if (left > 0) {
      reply.header('retry-after', String(Math.ceil(left / 1000)));
      return fail(reply, 429, `too many failed attempts from ${req.ip}; retry in ${Math.ceil(left / 1000)} s`);
    }
    const p = params(req);
    const got = presentedPassword(req.headers.authorization, p.Password);
    // peer/del also accepts the edge's own private key instead of a password.
    if (privKeyAlternative && got === undefined && p.PrivKey !== undefined) return;
    const want = sn.cfg.Passwords[which];
    if (want === '') return fail(reply, 403, `the ${which} password is empty in the config, so this endpoint is disabled`);
    if (got === undefined) {
      sn.limiter.fail(req.ip);
      return fail(reply, 401, `Password required (parameter Password or header Authorization: Bearer)`);
    }
    if (!passwordMatches(got, want)) {
      sn.limiter.fail(req.ip);
      return fail(reply, 401, 'wrong password');
    }
  };
}

function route(
  app: FastifyInstance,
  url: string,
  sn: Supernode,
  which: keyof Passwords,
  props: Record<string, object>,
  ok: object,
  handler: (p: Params, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
  privKeyAlternative = false,
): void {
  const s = paramSchema(props);
  const response = { 200: ok, ...errors };
  const preValidation = guard(sn, which, privKeyAlternative);
  const h = (req: FastifyRequest, reply: FastifyReply) => handler(params(req), req, reply);
  // Upstream takes any method; GET (query) and POST (query and/or form / JSON body) here.
  app.route({ method: 'GET', url, schema: { querystring: s, response }, preValidation, handler: h });
  // A POST with everything in the query (upstream's clients do that) has no body: validate it as {}.
  const emptyBody = async (req: FastifyRequest) => {
    if (req.body === undefined || req.body === null) req.body = {};
  };
  app.route({ method: 'POST', url, schema: { querystring: s, body: s, response }, preValidation: [emptyBody, preValidation], handler: h });
}

/** -1 (the edge's own) or >= 0; returns the problem. */
const acProblem = (ac: number): string | null => (ac === -1 || ac >= 0 ? null : `AdditionalCost must be -1 (the edge's own value) or at least 0, got ${ac}`);

/** StaticMode tables must give a next hop for every ordered pair, via configured peers. */
export function staticTableProblem(t: unknown, ids: number[]): string | null {
  if (!isObj(t)) return 'NextHopTable must be a JSON object {"src": {"dst": next}}';
  const known = new Set(ids);
  for (const [s, row] of Object.entries(t)) {
    if (!isObj(row)) return `NextHopTable["${s}"] must be an object`;
    for (const [d, h] of Object.entries(row)) {
      if (!Number.isInteger(h) || !known.has(h as number)) return `NextHopTable["${s}"]["${d}"]: next hop ${JSON.stringify(h)} is not a configured peer`;
    }
  }
  for (const a of ids) for (const b of ids) if (a !== b && (t[a] as Params | undefined)?.[b] === undefined) return `NextHopTable is missing ${a}->${b}`;
  return null;
}

export function registerManageApi(app: FastifyInstance, prefix: string, sn: Supernode): void {
  const cfg = sn.cfg;

  route(app, `${prefix}/manage/super/state`, sn, 'ShowState', {}, httpStateSchema, async () => sn.state());

  route(
    app,
    `${prefix}/manage/peer/add`,
    sn,
    'AddPeer',
    {
      NodeID: NODE_ID,
      Name: { type: 'string', minLength: 1, maxLength: 32 },
      AdditionalCost: { type: 'number' },
      PubKey: text,
      SkipLocalIP: { type: 'boolean' },
      PSKey: text,
      NextHopTable: text,
    },
    text,
    async (p, req, reply) => {
      for (const k of ['NodeID', 'Name', 'AdditionalCost', 'PubKey']) if (p[k] === undefined) return fail(reply, 400, `${k} is required`);
      const id = p.NodeID as number;
      const name = p.Name as string;
      const pub = p.PubKey as string;
      const psk = (p.PSKey as string | undefined) ?? '';
      const ac = p.AdditionalCost as number;
      const why = acProblem(ac) ?? (keyProblem(pub) ? `PubKey ${keyProblem(pub)}` : null) ?? (psk && keyProblem(psk) ? `PSKey ${keyProblem(psk)}` : null);
      if (why) return fail(reply, 400, why);
      const own = sn.publicKeys();
      if (pub === own[4] || pub === own[6]) return fail(reply, 400, "PubKey is the supernode's own public key");
      for (const q of cfg.Peers) {
        if (q.NodeID === id) return fail(reply, 409, `NodeID ${id} already exists`);
        if (q.Name === name) return fail(reply, 409, `Name ${name} already exists`);
        if (q.PubKey === pub) return fail(reply, 409, `PubKey already exists (NodeID ${q.NodeID})`);
      }
      let nh: NodeIdTable | undefined;
      if (sn.routes.staticMode) {
        if (p.NextHopTable === undefined) return fail(reply, 400, 'NextHopTable is required in StaticMode (JSON covering every ordered pair of peers)');
        let t: unknown;
        try {
          t = JSON.parse(p.NextHopTable as string);
        } catch {
          return fail(reply, 400, 'NextHopTable is not valid JSON');
        }
        const tp = staticTableProblem(t, [...cfg.Peers.map((q) => q.NodeID), id]);
        if (tp) return fail(reply, 400, tp);
        nh = t as NodeIdTable;
      }
      const conf: SuperPeerInfo = { NodeID: id, Name: name, PubKey: pub, PSKey: psk, AdditionalCost: ac, SkipLocalIP: (p.SkipLocalIP as boolean | undefined) ?? false, EndPoint: '', ExternalIP: '' };
      const template = cfg.EdgeTemplate ? await readFile(cfg.EdgeTemplate, 'utf8') : undefined;
      const yaml = edgeConfigYaml(template, { ...edgeEndpoints(sn, req), NodeID: id, NodeName: name, PSKey: psk, PubKeyV4: own[4], PubKeyV6: own[6], AdditionalCost: ac, SkipLocalIP: conf.SkipLocalIP });
      // Checked and built: now mutate (nothing above changed any state).
      if (cfg.Peers.some((q) => q.NodeID === id || q.Name === name || q.PubKey === pub)) return fail(reply, 409, 'a peer with this NodeID, Name or PubKey was added meanwhile');
      cfg.Peers.push(conf);
      const added = sn.addEdge(conf);
      if (nh) {
        cfg.NextHopTable = nh;
        sn.routes.setStatic(nh);
      }
      await added;
      await sn.writer.update('peer/add', (doc) => {
        addPeerToDoc(doc, conf);
        if (nh) setNextHopTable(doc, nh);
      });
      sn.log.info(`peer added: NodeID ${id} (${name})`);
      sn.paramsChanged();
      return reply.type('application/yaml').send(yaml);
    },
  );

  route(
    app,
    `${prefix}/manage/peer/del`,
    sn,
    'DelPeer',
    { NodeID: NODE_ID, PrivKey: text },
    text,
    async (p, req, reply) => {
      let id = p.NodeID as number | undefined;
      const byKey = presentedPassword(req.headers.authorization, p.Password) === undefined;
      if (byKey || id === undefined) {
        const priv = p.PrivKey as string | undefined;
        if (priv === undefined) return fail(reply, 400, 'NodeID is required (or PrivKey, the edge\'s own private key)');
        if (keyProblem(priv)) return fail(reply, 400, `PrivKey ${keyProblem(priv)}`);
        const pub = publicKeyOf(priv);
        const q = cfg.Peers.find((x) => x.PubKey === pub);
        if (!q) {
          sn.limiter.fail(req.ip);
          return fail(reply, 404, 'no peer has the public key of this PrivKey');
        }
        id = q.NodeID;
      }
      if (!(await sn.removeEdge(id))) return fail(reply, 404, `NodeID ${id} not found`);
      const nh = sn.routes.staticMode ? sn.routes.nhTable : undefined;
      if (nh) cfg.NextHopTable = nh;
      await sn.writer.update('peer/del', (doc) => {
        delPeerFromDoc(doc, id);
        if (nh) setNextHopTable(doc, nh);
      });
      sn.log.info(`peer deleted: NodeID ${id}`);
      return reply.type('text/plain').send(`NodeID: ${id} deleted.`);
    },
    true,
  );

  route(
    app,
    `${prefix}/manage/peer/update`,
    sn,
    'UpdatePeer',
    { NodeID: NODE_ID, AdditionalCost: { type: 'number' }, SkipLocalIP: { type: 'boolean' } },
    text,
    async (p, _req, reply) => {
      if (p.NodeID === undefined) return fail(reply, 400, 'NodeID is required');
      const id = p.NodeID as number;
      const rec = sn.edges.get(id);
      if (!rec || rec.removing) return fail(reply, 404, `NodeID ${id} not found`);
      const upd: Partial<SuperPeerInfo> = {};
      if (p.AdditionalCost !== undefined) {
        const why = acProblem(p.AdditionalCost as number);
        if (why) return fail(reply, 400, why);
        upd.AdditionalCost = p.AdditionalCost as number;
      }
      if (p.SkipLocalIP !== undefined) upd.SkipLocalIP = p.SkipLocalIP as boolean;
      const keys = Object.keys(upd);
      if (keys.length === 0) return reply.type('text/plain').send(`NodeID: ${id}: no parameter updated`);
      Object.assign(rec.conf, upd);
      await sn.writer.update('peer/update', (doc) => updatePeerInDoc(doc, id, upd));
      sn.paramsChanged();
      return reply.type('text/plain').send(`NodeID: ${id} updated: ${keys.map((k) => `${k}=${String(upd[k as keyof SuperPeerInfo])}`).join(', ')}`);
    },
  );

  route(
    app,
    `${prefix}/manage/super/update`,
    sn,
    'UpdateSuper',
    { PeerAliveTimeout: { type: 'number' }, DampingFilterRadius: { type: 'integer' }, SendPingInterval: { type: 'number' }, HttpPostInterval: { type: 'number' } },
    text,
    async (p, _req, reply) => {
      const upd = superUpdate(cfg, p);
      if (typeof upd === 'string') return fail(reply, 400, upd);
      const keys = Object.keys(upd);
      if (keys.length === 0) return reply.type('text/plain').send('no parameter updated');
      Object.assign(cfg, upd);
      await sn.writer.update('super/update', (doc) => setTopLevel(doc, upd));
      sn.paramsChanged();
      return reply.type('text/plain').send(`updated: ${keys.map((k) => `${k}=${upd[k as keyof typeof upd]}`).join(', ')}`);
    },
  );
}

type SuperParamsKeys = 'PeerAliveTimeout' | 'DampingFilterRadius' | 'SendPingInterval' | 'HttpPostInterval';

/** Validates every given parameter by its own rule (against the values after the update); nothing mutated. */
export function superUpdate(cur: Record<SuperParamsKeys, number>, p: Params): Partial<Record<SuperParamsKeys, number>> | string {
  const upd: Partial<Record<SuperParamsKeys, number>> = {};
  for (const k of ['PeerAliveTimeout', 'DampingFilterRadius', 'SendPingInterval', 'HttpPostInterval'] as const) {
    if (p[k] !== undefined) upd[k] = p[k] as number;
  }
  const next = { ...cur, ...upd };
  const problems: string[] = [];
  if (!(next.PeerAliveTimeout > 0)) problems.push(`PeerAliveTimeout must be > 0, got ${next.PeerAliveTimeout}`);
  if (!(Number.isInteger(next.DampingFilterRadius) && next.DampingFilterRadius >= 0 && next.DampingFilterRadius <= 1000)) {
    problems.push(`DampingFilterRadius must be an integer in 0..1000, got ${next.DampingFilterRadius}`);
  }
  if (!(next.SendPingInterval > 0 && next.SendPingInterval < next.PeerAliveTimeout)) {
    problems.push(`SendPingInterval must be > 0 and < PeerAliveTimeout (${next.PeerAliveTimeout}), got ${next.SendPingInterval}`);
  }
  if (!(next.HttpPostInterval >= 0 && next.HttpPostInterval <= next.PeerAliveTimeout)) {
    problems.push(`HttpPostInterval must be in 0..PeerAliveTimeout (${next.PeerAliveTimeout}), got ${next.HttpPostInterval}`);
  }
  return problems.length ? problems.join('; ') : upd;
}

/** Endpoints for the edge config peer/add returns, from the address the admin reached us at. */
function edgeEndpoints(sn: Supernode, req: FastifyRequest): { EndpointV4: string; EndpointV6: string; EndpointEdgeAPIUrl: string } {
  const host = req.hostname.replace(/^\[(.*)\]$/, '$1');
  const fam = isIP(host);
  const port = sn.udpPort;
  const bracket = fam === 6 ? `[${host}]` : host;
  const edge = new URL(sn.httpAddress());
  const sameServer = sn.httpAddress() === sn.manageAddress();
  const api = sameServer ? `${edge.protocol}//${req.host}${sn.prefix}` : `${edge.protocol}//${bracket}:${edge.port}${sn.prefix}`;
  return {
    EndpointV4: fam === 6 ? '' : `${host}:${port}`,
    EndpointV6: fam === 4 ? '' : `${bracket}:${port}`,
    EndpointEdgeAPIUrl: api,
  };
}
