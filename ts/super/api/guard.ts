// The manage API's request plumbing shared by its route groups and the dashboard: the password
// guard, the GET+POST route pair of every endpoint, parameters from query and body, and the hint
// for base64 keys whose '+' arrived as a space.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Passwords } from '../../config/index.js';
import { fail } from '../../shared/http.js';
import { passwordMatches, presentedPassword } from '../auth.js';
import { manageErrors, paramSchema } from './manage-schema.js';
import type { Params, PasswordCheck } from './service.js';

const isObj = (x: unknown): x is Params => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The request's parameters: body fields, overridden by query fields of the same name. */
export const params = (req: FastifyRequest): Params => ({ ...(isObj(req.body) ? req.body : {}), ...(isObj(req.query) ? req.query : {}) });

/**
 * preValidation hook checking the `which` password (query/body `Password` or `Authorization:
 * Bearer`): 403 if that password is empty in the config, 401 if missing or wrong, 429 while the
 * client IP is blocked by the failure limiter. Also used by the dashboard (ts/dashboard/plugin.ts).
 */
export function guard(auth: PasswordCheck, which: keyof Passwords, privKeyAlternative = false) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const left = auth.limiter.blockedFor(req.ip);
    if (left > 0) {
      reply.header('retry-after', String(Math.ceil(left / 1000)));
      return fail(reply, 429, `too many failed attempts from ${req.ip}; retry in ${Math.ceil(left / 1000)} s`);
    }
    const p = params(req);
    const got = presentedPassword(req.headers.authorization, p.Password);
    // peer/del also accepts the edge's own private key instead of a password.
    if (privKeyAlternative && got === undefined && p.PrivKey !== undefined) return;
    const want = auth.cfg.Passwords[which];
    if (want === '') return fail(reply, 403, `the ${which} password is empty in the config, so this endpoint is disabled`);
    if (got === undefined) {
      auth.limiter.fail(req.ip);
      return fail(reply, 401, `Password required (parameter Password or header Authorization: Bearer)`);
    }
    if (!passwordMatches(got, want)) {
      auth.limiter.fail(req.ip);
      return fail(reply, 401, 'wrong password');
    }
  };
}

/** One manage endpoint: its password, its parameters (schema properties) and its 200 answer schema. */
export interface ManageRoute {
  url: string;
  password: keyof Passwords;
  props: Record<string, object>;
  ok: object;
  /** peer/del: the edge's own PrivKey may stand in for the password. */
  privKeyAlternative?: boolean;
  handler: (p: Params, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

/**
 * Registers `r` for GET (query) and POST (query plus a urlencoded or JSON body); upstream takes
 * any method. Unknown parameters are refused by the schema.
 */
export function manageRoute(app: FastifyInstance, auth: PasswordCheck, r: ManageRoute): void {
  const s = paramSchema(r.props);
  const response = { 200: r.ok, ...manageErrors };
  const guarded = guard(auth, r.password, r.privKeyAlternative);
  const known = Object.keys(s.properties);
  // The password check runs before schema validation, so without this a lowercase `password=`
  // would be answered "Password required" (401) instead of naming the misspelt parameter.
  const preValidation = async (req: FastifyRequest, reply: FastifyReply) => {
    const wrongCase = caseMismatches(Object.keys(params(req)), known);
    if (wrongCase) return fail(reply, 400, wrongCase);
    return guarded(req, reply);
  };
  const h = (req: FastifyRequest, reply: FastifyReply) => r.handler(params(req), req, reply);
  app.route({ method: 'GET', url: r.url, schema: { querystring: s, response }, preValidation, handler: h });
  // A POST with everything in the query (upstream's clients do that) has no body: validate it as {}.
  const emptyBody = async (req: FastifyRequest) => {
    if (req.body === undefined || req.body === null) req.body = {};
  };
  app.route({ method: 'POST', url: r.url, schema: { querystring: s, body: s, response }, preValidation: [emptyBody, preValidation], handler: h });
}

/**
 * `unknown parameter "password": parameter names are case-sensitive (did you mean "Password"?)`
 * for the first of `names` that is not in `known` but equals a known name ignoring case; else
 * undefined (other unknown names are left to the schema, which names them too).
 */
export function caseMismatches(names: readonly string[], known: readonly string[]): string | undefined {
  for (const n of names) {
    if (known.includes(n)) continue;
    const k = known.find((x) => x.toLowerCase() === n.toLowerCase());
    if (k) return `unknown parameter ${JSON.stringify(n)}: parameter names are case-sensitive (did you mean ${JSON.stringify(k)}?)`;
  }
  return undefined;
}

const KEY_PARAMS = ['PubKey', 'PSKey', 'PrivKey'];

/**
 * `message` with a hint appended when a key parameter (PubKey, PSKey, PrivKey) it names came in a
 * URL query or a urlencoded form body and holds a space: there `+` decodes to a space, and `+` is
 * a base64 character (RFC 4648 §4), so the key was most likely sent without URL-encoding.
 */
export function plusHint(req: FastifyRequest, message: string): string {
  const form = String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded') && isObj(req.body) ? req.body : {};
  const sources = [isObj(req.query) ? req.query : {}, form];
  const spaced = KEY_PARAMS.some((k) => message.includes(k) && sources.some((src) => typeof src[k] === 'string' && (src[k] as string).includes(' ')));
  return spaced ? `${message} (a '+' in a URL query must be sent as %2B: URL-encode the key, e.g. curl --data-urlencode)` : message;
}
