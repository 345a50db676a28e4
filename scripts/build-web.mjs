// Builds the route playground into dist/web/static/: compiles ts/web (its own tsconfig, browser
// target), copies index.html / style.css and the web build of the WASM module next to it.
// Called by scripts/build.sh after the main tsc; needs wasm-pkg/web (scripts/build.sh wasm).
// EG_WASM_WEB_DIR=/some/dir takes the web build of the WASM module from elsewhere.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'ts', 'web');
const wasm = process.env.EG_WASM_WEB_DIR || join(root, 'wasm-pkg', 'web');
const out = join(root, 'dist', 'web', 'static');

if (!existsSync(join(wasm, 'etherguard_wasm.js'))) {
  console.error(`[build-web] ${wasm}/etherguard_wasm.js is missing: run \`bash scripts/build.sh wasm\` first`);
  process.exit(1);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
try {
  execFileSync('npx', ['tsc', '-p', join(web, 'tsconfig.json')], { cwd: root, stdio: 'inherit' });
} catch {
  console.error('[build-web] tsc -p ts/web/tsconfig.json failed');
  process.exit(1);
}
for (const f of ['index.html', 'style.css']) copyFileSync(join(web, f), join(out, f));
for (const f of readdirSync(wasm)) {
  if (f.endsWith('.js') || f.endsWith('.wasm')) copyFileSync(join(wasm, f), join(out, f));
}
console.error(`[build-web] playground -> ${out}`);

// The supernode dashboard (ts/web/dashboard, docs/observability.md): index.html at the top, its
// scripts (with the playground's drawing code), styles and the WASM web build under assets/.
const dash = join(root, 'dist', 'web', 'dashboard');
const assets = join(dash, 'assets');
rmSync(dash, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });
try {
  execFileSync('npx', ['tsc', '-p', join(web, 'dashboard', 'tsconfig.json')], { cwd: root, stdio: 'inherit' });
} catch {
  console.error('[build-web] tsc -p ts/web/dashboard/tsconfig.json failed');
  process.exit(1);
}
copyFileSync(join(web, 'dashboard', 'index.html'), join(dash, 'index.html'));
copyFileSync(join(web, 'dashboard', 'dashboard.css'), join(assets, 'dashboard.css'));
copyFileSync(join(web, 'style.css'), join(assets, 'style.css'));
for (const f of readdirSync(wasm)) {
  if (f.endsWith('.js') || f.endsWith('.wasm')) copyFileSync(join(wasm, f), join(assets, f));
}
console.error(`[build-web] dashboard -> ${dash}`);
