// The `-metrics HOST:PORT` endpoint: `GET /metrics` in the Prometheus text format, nothing else
// (any other path is 404). Plain HTTP; bind it to loopback or a management network
// (docs/observability.md). fastify, as the supernode's APIs.
import Fastify, { type FastifyInstance } from 'fastify';
import { isIP } from 'node:net';
import type { Registry } from 'prom-client';
import { limitRequests, type Listen } from '../shared/http.js';
import { parseMetricsListen } from './listen.js';

export { parseMetricsListen };

export interface MetricsServer {
  /** Base URL actually bound, e.g. http://127.0.0.1:9586 (port 0 resolved). */
  url: string;
  close(): Promise<void>;
}

/** Serves `reg` at GET /metrics on `l`; without a host, every address (IPv6 and IPv4 if it can). */
export async function startMetrics(reg: Registry, l: Listen, onError: (msg: string) => void): Promise<MetricsServer> {
  const app: FastifyInstance = Fastify({ logger: false });
  limitRequests(app);
  app.get('/metrics', async (_req, reply) => {
    try {
      const text = await reg.metrics();
      return reply.type(reg.contentType).send(text);
    } catch (e) {
      onError(`metrics: collecting failed: ${(e as Error).message}`);
      return reply.code(500).type('text/plain').send('collecting metrics failed\n');
    }
  });
  if (l.host !== undefined) await app.listen({ host: l.host, port: l.port });
  else {
    try {
      await app.listen({ host: '::', port: l.port });
    } catch {
      await app.listen({ host: '0.0.0.0', port: l.port });
    }
  }
  const a = app.server.address();
  let url = '';
  if (a && typeof a === 'object') {
    const host = a.address === '::' || a.address === '0.0.0.0' ? '127.0.0.1' : a.address;
    url = `http://${isIP(host) === 6 ? `[${host}]` : host}:${a.port}`;
  }
  return { url, close: () => app.close() };
}
