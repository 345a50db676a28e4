// Shared HTTP plumbing of the supernode: fastify instances (optional TLS, body limit, raw body
// kept for the report signature, urlencoded forms), listen-address parsing and error replies.
import { readFileSync } from 'node:fs';
import { parse as parseQuery } from 'node:querystring';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { HttpTLS } from '../config/index.js';

export const BODY_LIMIT = 1024 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    /** The exact request body bytes (JSON bodies), for the report's BodyHash. */
    rawBody?: Buffer;
  }
}

export interface Listen {
  /** undefined = every address */
  host?: string;
  port: number;
}

/** "3000", ":3000" (upstream's forms) or "host:3000" / "[v6]:3000" (ours). */
export function parseListen(v: string): Listen {
  const bare = /^:?(\d{1,5})$/.exec(v);
  if (bare) return { port: Number(bare[1]) };
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(v) ?? /^([^:]*):(\d{1,5})$/.exec(v);
  if (!m) throw new Error(`listen address ${JSON.stringify(v)} is not "port", ":port" or "host:port"`);
  return { host: m[1] || undefined, port: Number(m[2]) };
}

export const sameListen = (a: string, b: string): boolean => {
  const x = parseListen(a);
  const y = parseListen(b);
  return x.port === y.port && (x.host ?? '') === (y.host ?? '');
};

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
    for (const [where, v] of [['querystring', req.query], ['body', req.body]] as const) {
      if (v === null || typeof v !== 'object') continue;
      for (const [k, x] of Object.entries(v)) {
        if (typeof x === 'number' && !Number.isFinite(x)) return fail(reply, 400, `${k} must be a finite number, got ${x} (in the ${where})`);
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
      done(null, JSON.parse(buf.toString('utf8')));
    } catch {
      const e = new Error('body is not valid JSON') as Error & { statusCode: number };
      e.statusCode = 400;
      done(e, undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    const q = parseQuery(body as string);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(q)) out[k] = Array.isArray(v) ? (v[v.length - 1] ?? '') : (v ?? '');
    done(null, out);
  });
  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown; validationContext?: string; code?: string }, _req, reply) => {
    const code = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (code === 500) onInternal(err);
    const message = code === 500 ? 'internal error' : Array.isArray(err.validation) ? validationMessage(err.validation as ParamError[], err.validationContext) : err.message;
    void reply.code(code).send({ statusCode: code, code: err.code, error: STATUS[code] ?? 'Error', message });
  });
  return app;
}
