// The manage API (upstream's paths and parameter names, case-sensitive). Every endpoint takes
// GET or POST; parameters come from the query or a urlencoded / JSON body. Passwords: query or
// body `Password`, or `Authorization: Bearer <pw>`; compared in constant time; an empty
// configured password disables the endpoint (403); failures are rate-limited per client IP.
// Every endpoint that writes runs as one ConfigWriter.change(): the config with the change must
// load with the config loader before the running supernode changes or the file is written.
import { lookup } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { stringify } from 'yaml';
import { formatProblem, keyProblem, publicKeyOf, type NodeIdTable, type Passwords, type SuperConfig, type SuperPeerInfo } from '../config/index.js';
import { passwordMatches, presentedPassword } from './auth.js';
import {
  addPeerToDoc, delPeerFromDoc, edgeConfigProblems, edgeConfigYaml, Refused, setNextHopTable, setTopLevel, updatePeerInDoc, type EdgeFill,
} from './config-rewrite.js';
import { errorSchema, fail, parseListen } from '../shared/http.js';
import type { Supernode } from './supernode.js';

type Params = Record<string, unknown>;

const paramSchema = (props: Record<string, object>) =>
  ({ type: 'object', additionalProperties: false, required: [], properties: { Password: { type: 'string', maxLength: 1024 }, ...props } }) as const;

const NODE_ID = { type: 'integer', minimum: 0, maximum: 65531 };
const text = { type: 'string' } as const;
const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema, 429: errorSchema, 500: errorSchema, 503: errorSchema };

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
    // Our addition: clock offset and drift (ts/super/clockwatch.ts ClockView; docs/supernode.md).
    Clocks: {
      type: 'object',
      properties: {
        LimitPpm: { type: 'number' },
        Nodes: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            properties: { OffsetMs: { type: 'number' }, DriftPpm: { type: ['number', 'null'] }, Pairs: { type: 'integer' }, Flag: text },
          },
        },
        Pairs: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              A: { type: 'integer' },
              B: { type: 'integer' },
              OffsetMs: { type: 'number' },
              DriftPpm: { type: ['number', 'null'] },
              RttMs: { type: 'number' },
              Samples: { type: 'integer' },
              LastStep: { type: ['object', 'null'], properties: { Ms: { type: 'number' }, AgoS: { type: 'number' } } },
            },
          },
        },
      },
    },
  },
} as const;

const isObj = (x: unknown): x is Params => typeof x === 'object' && x !== null && !Array.isArray(x);
const params = (req: FastifyRequest): Params => ({ ...(isObj(req.body) ? req.body : {}), ...(isObj(req.query) ? req.query : {}) });

/**
 * preValidation hook checking the `which` password (query/body `Password` or `Authorization:
 * Bearer`): 403 if that password is empty in the config, 401 if missing or wrong, 429 while the
 * client IP is blocked by the failure limiter. Also used by the dashboard (ts/dashboard/plugin.ts).
 */
export function guard(sn: Supernode, which: keyof Passwords, privKeyAlternative = false) {
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

/** The running config as YAML: what a change is checked against when there is no config file. */
const snapshot = (cfg: SuperConfig) => () => stringify(cfg);

/** A StaticMode NextHopTable parameter: JSON text → value for the loader to check, or the problem. */
function tableParam(v: unknown): { table: unknown } | string {
  try {
    return { table: JSON.parse(v as string) as unknown };
  } catch {
    return 'NextHopTable is not valid JSON (expected {"src": {"dst": next}, ...})';
  }
}

/** The StaticMode table without node `id` (its row and its column). */
function withoutNode(t: NodeIdTable, id: number): NodeIdTable {
  const out: NodeIdTable = {};
  for (const [s, row] of Object.entries(t)) {
    if (Number(s) !== id) out[s] = Object.fromEntries(Object.entries(row).filter(([d]) => Number(d) !== id));
  }
  return out;
}

const KEY_PARAMS = ['PubKey', 'PSKey', 'PrivKey'];

/**
 * `message` with a hint appended when a key parameter (PubKey, PSKey, PrivKey) it names came in a
 * URL query or a urlencoded form body and holds a space: there `+` decodes to a space, and `+` is
 * a base64 character (RFC 4648 §4), so the key was most likely sent without URL-encoding.
 */
function plusHint(req: FastifyRequest, message: string): string {
  const form = String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded') && isObj(req.body) ? req.body : {};
  const sources = [isObj(req.query) ? req.query : {}, form];
  const spaced = KEY_PARAMS.some((k) => message.includes(k) && sources.some((src) => typeof src[k] === 'string' && (src[k] as string).includes(' ')));
  return spaced ? `${message} (a '+' in a URL query must be sent as %2B: URL-encode the key, e.g. curl --data-urlencode)` : message;
}

function answer<T>(reply: FastifyReply, out: T | Refused): out is T {
  if (out instanceof Refused) {
    void fail(reply, out.status, out.message);
    return false;
  }
  return true;
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
      const clash = (): Refused | null => {
        for (const q of cfg.Peers) {
          if (q.NodeID === id) return new Refused(409, `NodeID ${id} already exists`);
          if (q.Name === name) return new Refused(409, `Name ${name} already exists`);
          if (q.PubKey === pub) return new Refused(409, `PubKey already exists (NodeID ${q.NodeID})`);
        }
        return null;
      };
      const early = clash();
      if (early) return fail(reply, early.status, early.message);
      let nh: unknown;
      if (sn.routes.staticMode) {
        if (p.NextHopTable === undefined) return fail(reply, 400, 'NextHopTable is required in StaticMode (JSON covering every ordered pair of peers)');
        const t = tableParam(p.NextHopTable);
        if (typeof t === 'string') return fail(reply, 400, t);
        nh = t.table;
      }
      let template: string | undefined;
      try {
        template = cfg.EdgeTemplate ? await readFile(cfg.EdgeTemplate, 'utf8') : undefined;
      } catch (e) {
        return fail(reply, 500, `cannot read EdgeTemplate ${cfg.EdgeTemplate}: ${(e as Error).message}`);
      }
      const addrs = await edgeEndpoints(sn, req);
      const own = sn.publicKeys();
      // Written as given; the loader decides (schema, key format, own key, uniqueness, static table).
      const entry = { NodeID: id, Name: name, PubKey: pub, PSKey: p.PSKey ?? '', AdditionalCost: p.AdditionalCost, SkipLocalIP: p.SkipLocalIP ?? false, EndPoint: '', ExternalIP: '' };
      const out = await sn.writer.change(
        'peer/add',
        (doc) => {
          addPeerToDoc(doc, entry as SuperPeerInfo);
          if (nh !== undefined) setNextHopTable(doc, nh);
        },
        snapshot(cfg),
        async (next) => {
          const late = clash();
          if (late) return late;
          const conf = next.Peers.find((q) => q.NodeID === id)!;
          const fill: EdgeFill = { ...addrs, NodeID: id, NodeName: conf.Name, PSKey: conf.PSKey, PubKeyV4: own[4], PubKeyV6: own[6], AdditionalCost: conf.AdditionalCost, SkipLocalIP: conf.SkipLocalIP };
          const bad = edgeConfigProblems(template, fill);
          if (bad.length > 0) {
            const from = cfg.EdgeTemplate ? `EdgeTemplate ${cfg.EdgeTemplate}` : 'the example edge config';
            return new Refused(500, `the edge config built from ${from} would not load, so nothing changed: ${bad.map((x) => formatProblem('edge config', x)).join('; ')}`);
          }
          const yaml = edgeConfigYaml(template, fill);
          cfg.Peers.push(conf);
          const added = sn.addEdge(conf);
          if (nh !== undefined) {
            cfg.NextHopTable = next.NextHopTable;
            sn.routes.setStatic(next.NextHopTable);
          }
          await added;
          return yaml;
        },
      );
      if (out instanceof Refused) return fail(reply, out.status, plusHint(req, out.message));
      sn.log.info(`peer added: NodeID ${id} (${name})`);
      sn.paramsChanged();
      return reply.type('application/yaml').send(out);
    },
  );

  route(
    app,
    `${prefix}/manage/peer/del`,
    sn,
    'DelPeer',
    { NodeID: NODE_ID, PrivKey: text, NextHopTable: text },
    text,
    async (p, req, reply) => {
      let id = p.NodeID as number | undefined;
      const byKey = presentedPassword(req.headers.authorization, p.Password) === undefined;
      if (byKey || id === undefined) {
        const priv = p.PrivKey as string | undefined;
        if (priv === undefined) return fail(reply, 400, 'NodeID is required (or PrivKey, the edge\'s own private key)');
        if (keyProblem(priv)) return fail(reply, 400, plusHint(req, `PrivKey ${keyProblem(priv)}`));
        const pub = publicKeyOf(priv);
        const q = cfg.Peers.find((x) => x.PubKey === pub);
        if (!q) {
          sn.limiter.fail(req.ip);
          return fail(reply, 404, 'no peer has the public key of this PrivKey');
        }
        id = q.NodeID;
      }
      const gone = sn.edges.get(id);
      if (!gone || gone.removing) return fail(reply, 404, `NodeID ${id} not found`);
      let nh: unknown;
      if (sn.routes.staticMode) {
        if (p.NextHopTable !== undefined) {
          const t = tableParam(p.NextHopTable);
          if (typeof t === 'string') return fail(reply, 400, t);
          nh = t.table;
        } else nh = withoutNode(sn.routes.nhTable, id);
      }
      const del = id;
      const out = await sn.writer.change(
        'peer/del',
        (doc) => {
          delPeerFromDoc(doc, del);
          if (nh !== undefined) setNextHopTable(doc, nh);
        },
        snapshot(cfg),
        async (next) => {
          if (!(await sn.removeEdge(del))) return new Refused(404, `NodeID ${del} not found`);
          if (nh !== undefined) {
            cfg.NextHopTable = next.NextHopTable;
            sn.routes.setStatic(next.NextHopTable);
          }
          return true;
        },
      );
      if (out instanceof Refused && out.status === 400 && nh !== undefined && p.NextHopTable === undefined) {
        return fail(reply, 400, `${out.message}; NodeID ${del} is a next hop in the StaticMode NextHopTable, so pass NextHopTable (the full table without it)`);
      }
      if (!answer(reply, out)) return reply;
      sn.log.info(`peer deleted: NodeID ${del}`);
      return reply.type('text/plain').send(`NodeID: ${del} deleted.`);
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
      const keys = (['AdditionalCost', 'SkipLocalIP'] as const).filter((k) => p[k] !== undefined);
      if (keys.length === 0) return reply.type('text/plain').send(`NodeID: ${id}: no parameter updated`);
      const upd = Object.fromEntries(keys.map((k) => [k, p[k]])) as Partial<SuperPeerInfo>;
      let inFile = true;
      const out = await sn.writer.change(
        'peer/update',
        (doc) => {
          inFile = updatePeerInDoc(doc, id, upd);
        },
        snapshot(cfg),
        (next) => {
          if (!inFile) return new Refused(409, `NodeID ${id} runs but is not in the config file (removed by hand?); nothing changed`);
          if (rec.removing) return new Refused(404, `NodeID ${id} not found`);
          const q = next.Peers.find((x) => x.NodeID === id)!;
          for (const k of keys) (rec.conf as unknown as Record<string, unknown>)[k] = q[k];
          return keys.map((k) => `${k}=${String(q[k])}`);
        },
      );
      if (!answer(reply, out)) return reply;
      sn.paramsChanged();
      return reply.type('text/plain').send(`NodeID: ${id} updated: ${out.join(', ')}`);
    },
  );

  route(
    app,
    `${prefix}/manage/super/update`,
    sn,
    'UpdateSuper',
    { PeerAliveTimeout: { type: 'number' }, DampingFilterRadius: { type: 'number' }, SendPingInterval: { type: 'number' }, HttpPostInterval: { type: 'number' } },
    text,
    async (p, _req, reply) => {
      const upd = superUpdate(p);
      const keys = Object.keys(upd) as SuperParamsKey[];
      if (keys.length === 0) return reply.type('text/plain').send('no parameter updated');
      const out = await sn.writer.change('super/update', (doc) => setTopLevel(doc, upd), snapshot(cfg), (next) => {
        for (const k of keys) cfg[k] = next[k];
        return keys.map((k) => `${k}=${next[k]}`);
      });
      if (!answer(reply, out)) return reply;
      sn.paramsChanged();
      return reply.type('text/plain').send(`updated: ${out.join(', ')}`);
    },
  );
}

type SuperParamsKey = 'PeerAliveTimeout' | 'DampingFilterRadius' | 'SendPingInterval' | 'HttpPostInterval';

/**
 * The super/update parameters that were given (nothing checked: the change is checked as a whole
 * by the config loader, against the values after the update, so upstream bug #12 cannot recur).
 */
export function superUpdate(p: Params): Partial<Record<SuperParamsKey, number>> {
  const upd: Partial<Record<SuperParamsKey, number>> = {};
  for (const k of ['PeerAliveTimeout', 'DampingFilterRadius', 'SendPingInterval', 'HttpPostInterval'] as const) {
    if (p[k] !== undefined) upd[k] = p[k] as number;
  }
  return upd;
}

// ---- the supernode's addresses in the edge config peer/add returns ------------------------------

/** An address as endpoints and URLs write it: IPv4-mapped IPv6 as IPv4, no zone index. */
function plainAddress(a: string | undefined): string {
  const s = (a ?? '').replace(/%.*$/, '');
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s);
  return m ? m[1]! : s;
}

const UNSPECIFIED = new Set(['', '0.0.0.0', '::']);
const hostPart = (h: string) => (isIP(h) === 6 ? `[${h}]` : h);

/**
 * An address of family `fam` on this host, taken from the interface that holds `near` (so the
 * loopback IPv4 address for ::1, the LAN address for a LAN address), else from any interface,
 * non-loopback first. IPv6 link-local addresses are skipped (they need a zone to be usable).
 * `ifs` is os.networkInterfaces()'s shape. undefined when the host has none.
 */
export function localAddressOfFamily(near: string, fam: 4 | 6, ifs: ReturnType<typeof networkInterfaces> = networkInterfaces()): string | undefined {
  const usable = (a: { address: string; family: string | number }) =>
    (a.family === `IPv${fam}` || a.family === fam) && !(fam === 6 && /^fe[89ab]/i.test(a.address));
  const lists = Object.keys(ifs).sort().map((n) => ifs[n] ?? []);
  const own = lists.find((l) => l.some((a) => plainAddress(a.address) === near));
  const pick = own?.find(usable) ?? lists.flat().filter(usable).sort((a, b) => Number(a.internal) - Number(b.internal))[0];
  return pick ? plainAddress(pick.address) : undefined;
}

/** Whether the name the admin used resolves to the address the request arrived on (then it reaches us too). */
async function nameReaches(name: string, local: string): Promise<boolean> {
  if (name === '' || isIP(name) !== 0) return false;
  try {
    const found = await Promise.race([lookup(name, { all: true }), new Promise<never>((_, no) => setTimeout(() => no(new Error('timeout')), 2000).unref())]);
    return found.some((a) => plainAddress(a.address) === local);
  } catch {
    return false;
  }
}

/**
 * The supernode's UDP endpoints and edge API URL for the edge config peer/add returns, from
 * where the supernode really listens: a bound address (DisabledAf.ListenIPv4/6, the host of
 * ListenPort_EdgeAPI) as it is; for a wildcard bind, the local address the admin's request
 * arrived on when it has that family, else an address of the other family on the same
 * interface (127.0.0.1 for a request to [::1]). The Host name the admin used is kept only when
 * it resolves to that local address. A family whose UDP socket is off stays empty.
 */
async function edgeEndpoints(sn: Supernode, req: FastifyRequest): Promise<{ EndpointV4: string; EndpointV6: string; EndpointEdgeAPIUrl: string }> {
  const local = plainAddress(req.socket.localAddress);
  const localFam = isIP(local);
  const name = req.hostname.replace(/^\[(.*)\]$/, '$1');
  const named = await nameReaches(name, local);
  const show = (a: string) => hostPart(named && a === local ? name : a);
  const udp = (fam: 4 | 6): string => {
    if (!sn.famEnabled(fam)) return '';
    const bound = plainAddress(sn.cfg.DisabledAf[`ListenIPv${fam}`]);
    const a = !UNSPECIFIED.has(bound) ? bound : localFam === fam ? local : localAddressOfFamily(local, fam);
    return a ? `${show(a)}:${sn.udpPort}` : '';
  };
  const edge = new URL(sn.httpAddress());
  const bound = plainAddress(parseListen(sn.cfg.ListenPort_EdgeAPI).host);
  // "3000" binds "::" (both families) unless the host has no IPv6; "0.0.0.0:3000" binds IPv4 only.
  const accepts = bound === '0.0.0.0' ? [4] : [4, 6];
  const api = !UNSPECIFIED.has(bound) ? bound : accepts.includes(localFam) ? local : (localAddressOfFamily(local, 4) ?? '127.0.0.1');
  return { EndpointV4: udp(4), EndpointV6: udp(6), EndpointEdgeAPIUrl: `${edge.protocol}//${show(api)}:${edge.port}${sn.prefix}` };
}
