// Where the project's artefacts live, found from this file rather than the cwd so the CLI works
// from any directory and from both dist/ (compiled) and ts/ (tests run through tsx).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(d, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'etherguard') return d;
      } catch {
        /* keep walking */
      }
    }
    const up = dirname(d);
    if (up === d) throw new Error('cannot find the etherguard package root above ' + fileURLToPath(import.meta.url));
    d = up;
  }
}

export const ROOT = findRoot();
export const WASM_NODE_DIR = join(ROOT, 'wasm-pkg', 'node');
export const WASM_WEB_DIR = join(ROOT, 'wasm-pkg', 'web');
export const NATIVE_DIR = join(ROOT, 'native-pkg');
export const PACKAGE_VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
