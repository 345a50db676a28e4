// `node dist/webserve/main.js [PORT]`: serves the route playground on http://127.0.0.1:PORT/
// (default 8080; 0 = any free port) until interrupted.
import Fastify from 'fastify';
import { servePlayground } from './serve.js';

async function main(): Promise<void> {
  const arg = process.argv[2] ?? '8080';
  const port = Number(arg);
  if (!/^\d+$/u.test(arg) || port > 65535) {
    console.error(`usage: node dist/webserve/main.js [PORT]  (bad port '${arg}')`);
    process.exit(2);
  }
  const app = Fastify({ logger: false });
  await servePlayground(app, '');
  await app.listen({ host: '127.0.0.1', port });
  const addr = app.server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  console.log(`Etherguard route playground: http://127.0.0.1:${bound}/`);
  const stop = (): void => {
    void app.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
