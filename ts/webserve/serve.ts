// Serves the route playground (dist/web/static, built by scripts/build-web.mjs) on a fastify
// instance under a URL prefix. Used by the `just playground` CLI (main.ts) and meant to be
// mounted by the supernode's HTTP server as well.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { ROOT } from '../paths.js';

/** Where scripts/build-web.mjs puts the page, its scripts and the web build of the WASM core. */
export const PLAYGROUND_DIR = join(ROOT, 'dist', 'web', 'static');

/** `''` for the root, else `/a/b` (leading slash, no trailing one). */
export function normalizePrefix(prefix: string): string {
  const p = prefix.trim().replace(/\/+$/u, '');
  if (p === '') return '';
  return p.startsWith('/') ? p : `/${p}`;
}

/**
 * Mounts the playground at `prefix` (e.g. `''` or `'/playground'`): `GET <prefix>/` is the
 * page, `<prefix>` without the slash redirects there (the page uses relative URLs). The
 * static files are registered in an encapsulated child context (`decorateReply: false`), so
 * the host may use @fastify/static for its own files too. Throws if the page is not built.
 */
export async function servePlayground(app: FastifyInstance, prefix: string, dir: string = PLAYGROUND_DIR): Promise<void> {
  if (!existsSync(join(dir, 'index.html')) || !existsSync(join(dir, 'main.js'))) {
    throw new Error(`the playground is not built (${dir}): run \`bash scripts/build.sh ts\``);
  }
  const p = normalizePrefix(prefix);
  await app.register(
    async (child) => {
      await child.register(fastifyStatic, {
        root: dir,
        prefix: '/',
        decorateReply: false,
        index: ['index.html'],
        // Revalidate every time (ETag), so a rebuild shows up on reload.
        cacheControl: true,
        maxAge: 0,
      });
    },
    { prefix: p },
  );
  if (p !== '') {
    app.get(p, (_req, reply) => reply.redirect(`${p}/`));
  }
}
