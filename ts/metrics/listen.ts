// The `-metrics` / MetricsListen value check, apart from ./server.ts so that a node checks it at
// start without loading fastify (which only a node that serves metrics needs).
import { isIP } from 'node:net';
import { parseListen, type Listen } from '../shared/listen.js';

/**
 * Checks a `-metrics` / MetricsListen value: "PORT", ":PORT", "HOST:PORT" or "[v6]:PORT" with a
 * port 0..65535. Returns the parsed form, or throws an Error naming `what` and the rule.
 */
export function parseMetricsListen(value: string, what: string): Listen {
  let l: Listen;
  try {
    l = parseListen(value);
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
  if (l.port > 65535) throw new Error(`${what}: port ${l.port} is above 65535`);
  if (l.host !== undefined && isIP(l.host) === 0 && l.host !== 'localhost') throw new Error(`${what}: host ${JSON.stringify(l.host)} is not an IP address (or localhost)`);
  return l;
}
