// Answers of the route plugins: a Refused from a service becomes the JSON error reply.
import type { FastifyReply } from 'fastify';
import { fail } from '../../shared/http.js';
import { Refused } from '../config-rewrite.js';

/**
 * Sends `out`: a Refused as its error reply, anything else as the 200 body with content type
 * `type` (JSON when undefined).
 */
export function answer(reply: FastifyReply, out: unknown, type?: string): FastifyReply {
  if (out instanceof Refused) return fail(reply, out.status, out.message);
  if (type) void reply.type(type);
  return reply.send(out);
}
