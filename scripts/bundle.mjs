// Bundles the command line (dist/cli/entry.js, tsc's output) into dist/bundle/ with esbuild and
// points dist/main.js at it. Why: a process spent a third of its start loading modules one file
// at a time (resolving, reading and compiling ~300 files of ours and of yaml, fastify, ajv);
// from one bundle an edge starts in 0.17 s of CPU instead of 0.27 s, a supernode in 0.41 s
// instead of 0.61 s (docs/benchmarks.md, "Process start"), which is what a machine starting a
// whole mesh at once waits for.
//
// The modes stay lazy: each is a chunk imported when its mode runs (splitting). Native code
// and the WASM module are loaded by path at run time (createRequire with an absolute path), so
// they stay outside; so does etcd3, required the same way, and only when a supernode uses etcd.
// Code that finds files does it from the package root (ts/paths.ts ROOT), not from its own
// module's URL, which in the bundle is dist/bundle/.
//
// Run by scripts/build.sh after tsc. EG_NO_BUNDLE=1 leaves dist/main.js as tsc wrote it.
import { build } from 'esbuild';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'bundle');
const main = join(root, 'dist', 'main.js');
const shebang = '#!/usr/bin/env node\n';

rmSync(out, { recursive: true, force: true });
if (process.env.EG_NO_BUNDLE === '1') {
  writeFileSync(main, `${shebang}import './cli/entry.js';\n`);
  console.log('[bundle] EG_NO_BUNDLE=1: dist/main.js loads the unbundled modules');
  process.exit(0);
}
await build({
  entryPoints: { entry: join(root, 'dist', 'cli', 'entry.js') },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: out,
  // Addons are loaded by path at run time; listed so a static import of one fails the build loudly.
  external: ['*.node'],
  // CommonJS packages inside an ES module bundle call require() for Node's built-ins.
  banner: { js: "import { createRequire as __egCreateRequire } from 'node:module'; const require = __egCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
});
writeFileSync(main, `${shebang}// Written by scripts/bundle.mjs: the bundled program (EG_NO_BUNDLE=1 at build time: the modules).\nimport './bundle/entry.js';\n`);
chmodSync(main, 0o755);
