// The supernode's live dashboard (docs/observability.md): `{API_Prefix}/dashboard/` is the page,
// `{API_Prefix}/dashboard/data` the document it polls once a second, both behind the ShowState
// password like GET {API_Prefix}/manage/super/state. The page's scripts, styles and the web build
// of the WASM core are under `{API_Prefix}/dashboard/assets/` without a password: they are the
// same public files for everyone and carry no data (a module script's relative URL cannot carry
// the query's Password).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ROOT } from '../paths.js';
import { errorSchema } from '../shared/http.js';
import { guard } from '../super/api/guard.js';
import type { RouteHistory } from '../metrics/routelog.js';
import type { PasswordCheck } from '../super/api/service.js';
import type { HttpState } from '../super/types.js';
import type { DashboardData } from '../web/dashboard/data.js';

/** Where scripts/build-web.mjs puts the page (index.html) and its assets/. */
export const DASHBOARD_DIR = join(ROOT, 'dist', 'web', 'dashboard');

export type { DashboardData };

/** What the dashboard reads of the supernode: its passwords (guard), the state document and the route history. */
export interface DashboardSource extends PasswordCheck {
  state(): HttpState;
  readonly routes: { readonly hash: string; readonly history: RouteHistory };
}

const querySchema = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: { Password: { type: 'string', maxLength: 1024 }, since: { type: 'integer', minimum: 0, default: 0 } },
} as const;

const cell = { type: ['number', 'null'] } as const;
const dataSchema = {
  type: 'object',
  required: ['nowMs', 'ids', 'names', 'alive', 'lastSeenAgo', 'lat', 'w', 'nh', 'nhHash', 'history', 'lastSeq'],
  properties: {
    nowMs: { type: 'number' },
    ids: { type: 'array', items: { type: 'integer' } },
    names: { type: 'array', items: { type: 'string' } },
    alive: { type: 'array', items: { type: 'boolean' } },
    lastSeenAgo: { type: 'array', items: { type: 'number' } },
    lat: { type: 'array', items: cell },
    w: { type: 'array', items: cell },
    nh: { type: 'array', items: cell },
    nhHash: { type: 'string' },
    history: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          seq: { type: 'integer' },
          atMs: { type: 'number' },
          src: { type: 'integer' },
          dst: { type: 'integer' },
          oldNh: { type: ['integer', 'null'] },
          newNh: { type: ['integer', 'null'] },
          path: { type: 'array', items: { type: 'integer' } },
          newCostS: cell,
          oldCostS: cell,
          why: { type: 'string' },
        },
      },
    },
    lastSeq: { type: 'integer' },
  },
} as const;

const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 429: errorSchema };

/** The n×n arrays of one state document (cached with it: the state is cached for 1 s). */
function matrices(st: HttpState): Pick<DashboardData, 'ids' | 'names' | 'alive' | 'lastSeenAgo' | 'lat' | 'w' | 'nh'> {
  const ids = Object.keys(st.PeerInfo).map(Number).sort((a, b) => a - b);
  const n = ids.length;
  const lat: Array<number | null> = new Array(n * n).fill(null);
  const w: Array<number | null> = new Array(n * n).fill(null);
  const nh: Array<number | null> = new Array(n * n).fill(null);
  // Microsecond resolution is all a dashboard needs, and it keeps a 100-edge document small.
  const v = (x: number | undefined) => (x === undefined || !Number.isFinite(x) || x >= st.Infinity ? null : Math.round(x * 1e6) / 1e6);
  ids.forEach((s, i) => {
    ids.forEach((d, j) => {
      if (i === j) return;
      lat[i * n + j] = v(st.Edges[s]?.[d]);
      w[i * n + j] = v(st.Edges_Nh[s]?.[d]);
      nh[i * n + j] = st.NhTable[s]?.[d] ?? null;
    });
  });
  return {
    ids,
    names: ids.map((id) => st.PeerInfo[id]?.Name ?? ''),
    alive: ids.map((id) => st.Status[id]?.Alive ?? false),
    lastSeenAgo: ids.map((id) => st.Status[id]?.LastSeenAgo ?? -1),
    lat,
    w,
    nh,
  };
}

/**
 * Registers the dashboard routes on `app` (the manage API's server) under `prefix` (API_Prefix,
 * normalised). Throws if the page is not built (scripts/build-web.mjs), and the supernode then
 * runs without it.
 */
export async function registerDashboard(app: FastifyInstance, prefix: string, sn: DashboardSource, dir: string = DASHBOARD_DIR): Promise<void> {
  const indexFile = join(dir, 'index.html');
  if (!existsSync(indexFile) || !existsSync(join(dir, 'assets'))) throw new Error(`the dashboard is not built (${dir}): run \`bash scripts/build.sh ts\``);
  const html = readFileSync(indexFile, 'utf8');
  const base = `${prefix}/dashboard`;
  const preValidation = guard(sn, 'ShowState');
  let cache: { st: HttpState; m: ReturnType<typeof matrices> } | undefined;

  app.get(base, (req, reply) => {
    const q = req.url.indexOf('?');
    return reply.redirect(`${base}/${q >= 0 ? req.url.slice(q) : ''}`);
  });
  app.route({
    method: 'GET',
    url: `${base}/`,
    schema: { querystring: querySchema, response: errors },
    preValidation,
    handler: (_req: FastifyRequest, reply: FastifyReply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html),
  });
  app.route({
    method: 'GET',
    url: `${base}/data`,
    schema: { querystring: querySchema, response: { 200: dataSchema, ...errors } },
    preValidation,
    handler: async (req: FastifyRequest, reply: FastifyReply): Promise<DashboardData> => {
      const since = (req.query as { since?: number }).since ?? 0;
      const st = sn.state();
      if (cache?.st !== st) cache = { st, m: matrices(st) };
      void reply.header('cache-control', 'no-store');
      return { nowMs: Date.now(), ...cache.m, nhHash: sn.routes.hash, history: sn.routes.history.since(since), lastSeq: sn.routes.history.lastSeq };
    },
  });
  await app.register(
    async (child) => {
      await child.register(fastifyStatic, { root: join(dir, 'assets'), prefix: '/', decorateReply: false, index: false, cacheControl: true, maxAge: 0 });
    },
    { prefix: `${base}/assets` },
  );
}
