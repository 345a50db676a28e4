// The one typed doorway to the WASM core. Everything else in ts/ imports from here, never from
// wasm-pkg/ directly, so the module is loaded (and checked for staleness) exactly once.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT, WASM_NODE_DIR } from '../paths.js';

type WasmModule = typeof import('../../wasm-pkg/node/etherguard_wasm.js');

export class WasmNotBuiltError extends Error {
  constructor(detail: string) {
    super(`${detail}\nBuild it with \`npx just build-wasm\` (or \`bash scripts/bootstrap.sh\` on a fresh machine).`);
    this.name = 'WasmNotBuiltError';
  }
}

let mod: WasmModule | undefined;

function currentSrcStamp(): string | undefined {
  // Only a source checkout can be stale; an installed package has no crates/ to compare with.
  if (!existsSync(join(ROOT, 'crates', 'eg-core', 'src'))) return undefined;
  const require = createRequire(import.meta.url);
  const { srcStamp } = require(join(ROOT, 'scripts', 'src-stamp.cjs')) as { srcStamp(root: string): string };
  return srcStamp(ROOT);
}

/** Loads the Node build of the WASM core, or throws WasmNotBuiltError saying how to build it. */
export function wasm(): WasmModule {
  if (mod) return mod;
  const entry = join(WASM_NODE_DIR, 'etherguard_wasm.js');
  if (!existsSync(entry)) throw new WasmNotBuiltError(`The WASM core is not built: ${entry} is missing.`);
  const stampFile = join(ROOT, 'wasm-pkg', 'stamp.txt');
  const want = currentSrcStamp();
  if (want !== undefined && process.env.EG_ALLOW_STALE_WASM !== '1') {
    const have = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : '(none)';
    if (have !== want) {
      throw new WasmNotBuiltError(
        `The WASM core in wasm-pkg/ is stale: it was built from Rust sources ${have}, the tree has ${want}.`,
      );
    }
  }
  const require = createRequire(import.meta.url);
  mod = require(entry) as WasmModule;
  return mod;
}

export function coreVersion(): string {
  return wasm().coreVersion();
}

export function coreSimd128(): boolean {
  return wasm().simd128();
}
