// HTTP plumbing shared by the supernode's edge and manage APIs, the dashboard and the `-metrics`
// endpoint (edge and supernode): fastify instances (optional TLS, body limit, raw body kept for
// the report signature, urlencoded forms), the per-client request limit, listen-address parsing
// and error replies.
import { readFileSync } from 'node:fs';
import { parse as parseQuery } from 'node:querystring';
import rateLimit from '@fastify/rate-limit';
import { MonotonicRateStore } from './rate-store.js';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { HttpTLS } from '../config/index.js';
import { parseListen, sameListen, type Listen } from './listen.js';

export { parseListen, sameListen, type Listen };

export const BODY_LIMIT = 1024 * 1024;

/**
 * The address `app` is bound to, for logs: `http://*:3000` when it listens on every address
 * (`::` or `0.0.0.0`), else `http://host:port` (IPv6 in brackets). Not a URL to dial: use the
 * supernode's httpAddress() for that. "" when the server is not listening.
 */
export function boundUrl(app: FastifyInstance, tls: boolean): string {
  const a = app.server.address();
  if (!a || typeof a !== 'object') return '';
  const host = a.address === '::' || a.address === '0.0.0.0' ? '*' : a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return `${tls ? 'https' : 'http'}://${host}:${a.port}`;
}

/** Throws on bytes that are not UTF-8 instead of replacing them with U+FFFD. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

declare module 'fastify' {
  interface FastifyRequest {
    /** The exact request body bytes (JSON bodies), for the report's BodyHash. */
    rawBody?: Buffer;
  }
}

/** API_Prefix with a leading "/" and no trailing one ("" for the root). */
export function normPrefix(p: string): string {
  const s = p.replace(/\/+$/, '');
  if (s === '') return '';
  return s.startsWith('/') ? s : `/${s}`;
}

export const errorSchema = {
  type: 'object',
  properties: { statusCode: { type: 'integer' }, code: { type: 'string' }, error: { type: 'string' }, message: { type: 'string' } },
} as const;

const STATUS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function fail(reply: FastifyReply, code: number, message: string): FastifyReply {
  return reply.code(code).send({ statusCode: code, error: STATUS[code] ?? 'Error', message });
}

/** The part of an ajv error a parameter message needs. */
interface ParamError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/**
 * A route-schema failure as a sentence naming the parameter: `unknown parameter "Foo"` (fastify's
 * own text, "querystring must NOT have additional properties", names none), `AdditionalCost must
 * be number`.
 */
export function validationMessage(errs: readonly ParamError[], where = 'request'): string {
  return errs
    .map((e) => {
      if (e.keyword === 'additionalProperties') return `unknown parameter ${JSON.stringify(e.params.additionalProperty)} (in the ${where})`;
      const name = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
      return `${name || where} ${e.message ?? `fails ${e.keyword}`}`;
    })
    .join('; ');
}

export function makeApp(tls: HttpTLS | undefined, onInternal: (e: Error) => void): FastifyInstance {
  const https = tls ? { cert: readFileSync(tls.CertFile), key: readFileSync(tls.KeyFile) } : null;
  const app = Fastify({
    ...(https ? { https } : {}),
    bodyLimit: BODY_LIMIT,
    logger: false,
    // Unknown parameters are refused, not silently removed; form strings become numbers/booleans.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  }) as unknown as FastifyInstance;
  // ajv's coercion turns "1e400" into Infinity after its type check (and JSON.parse does the same
  // for a body), so "number" and even "integer" parameters could be infinite.
  app.addHook('preHandler', async (req, reply) => {
    // The query parser leaves an escape that is not UTF-8 (%FF) as it is, so "Name=%FF" would
    // become the literal name "%FF"; refuse it instead, naming the parameter.
    const qs = req.url.indexOf('?');
    if (qs >= 0) {
      for (const part of req.url.slice(qs + 1).split('&')) {
        const eq = part.indexOf('=');
        try {
          decodeURIComponent(part.replace(/\+/g, ' '));
        } catch {
          return fail(reply, 400, `${(eq >= 0 ? part.slice(0, eq) : part).slice(0, 64)} is not valid UTF-8 (in the querystring)`);
        }
      }
    }
    for (const [where, v] of [['querystring', req.query], ['body', req.body]] as const) {
      if (v === null || typeof v !== 'object') continue;
      for (const [k, x] of Object.entries(v)) {
        if (typeof x === 'number' && !Number.isFinite(x)) return fail(reply, 400, `${k} must be a finite number, got ${x} (in the ${where})`);
        // Percent-escapes that are not UTF-8 (%FF) are decoded to U+FFFD by the parsers; a name
        // or key holding one was never what the client meant.
        if (typeof x === 'string' && x.includes('\uFFFD')) return fail(reply, 400, `${k} is not valid UTF-8 (in the ${where})`);
      }
    }
  });
  app.decorateRequest('rawBody', undefined);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const buf = body as Buffer;
    req.rawBody = buf;
    if (buf.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(strictUtf8.decode(buf)));
    } catch {
      const e = new Error('body is not valid JSON (in UTF-8)') as Error & { statusCode: number };
      e.statusCode = 400;
      done(e, undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (_req, body, done) => {
    let text: string;
    try {
      text = strictUtf8.decode(body as Buffer);
    } catch {
      const e = new Error('form body is not valid UTF-8') as Error & { statusCode: number };
      e.statusCode = 400;
      return done(e, undefined);
    }
    const q = parseQuery(text);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(q)) out[k] = Array.isArray(v) ? (v[v.length - 1] ?? '') : (v ?? '');
    done(null, out);
  });
  limitRequests(app);
  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown; validationContext?: string; code?: string }, _req, reply) => {
    const code = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (code === 500) onInternal(err);
    const message = code === 500 ? 'internal error' : Array.isArray(err.validation) ? validationMessage(err.validation as ParamError[], err.validationContext) : err.message;
    void reply.code(code).send({ statusCode: code, code: err.code, error: STATUS[code] ?? 'Error', message });
  });
  return app;
}

/**
 * Requests one client IP may make to one HTTP server per window, before any authentication is
 * looked at: 1000 per 10 s (100/s sustained). Far above what edges (a few pulls and one report
 * per HttpPostInterval each, even hundreds behind one NAT) or an admin need, low enough that one
 * address cannot keep the event loop busy with JSON parsing, ajv checks and password hashing.
 * Tests may lower it: `EG_TEST=1 EG_TEST_HTTP_RATE=<max>/<window ms>`.
 */
export function httpRateLimit(): { max: number; windowMs: number } {
  const t = process.env.EG_TEST === '1' ? /^(\d+)\/(\d+)$/.exec(process.env.EG_TEST_HTTP_RATE ?? '') : null;
  return t ? { max: Number(t[1]), windowMs: Number(t[2]) } : { max: 1000, windowMs: 10_000 };
}

/**
 * Puts every request to `app` (known route or not) under the per-client-IP request limit of
 * httpRateLimit() (@fastify/rate-limit, in-memory store, least recently seen clients forgotten
 * first): over it, 429 with
 * `Retry-After` and a JSON error body naming the limit. Applied to both supernode APIs (and
 * the dashboard and playground they serve) and to the `-metrics` endpoint.
 */
export function limitRequests(app: FastifyInstance): void {
  const { max, windowMs } = httpRateLimit();
  // The store times windows on the monotonic clock: a wall-clock step must not stretch them.
  void app.register(rateLimit, { global: false, store: MonotonicRateStore as never });
  // The check runs as the first onRequest hook of every request, the 404 handler's included
  // (a route option would miss unknown paths). `app.rateLimit` exists once the plugin has
  // loaded, which happens before the server listens.
  let check: ((this: FastifyInstance, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>) | undefined;
  void app.after(() => {
    check = app.rateLimit({
      max,
      timeWindow: windowMs,
      errorResponseBuilder: (req, ctx) => ({
        statusCode: 429,
        error: 'Too Many Requests',
        message: `rate limit: more than ${ctx.max} requests in ${windowMs / 1000} s from ${req.ip}; retry in ${ctx.after}`,
      }),
    });
  });
  app.addHook('onRequest', async function (req, reply) {
    if (check) return check.call(this, req, reply);
  });
}
