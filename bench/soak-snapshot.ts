// A private copy of the built artefacts (dist/, wasm-pkg/, native-pkg/, package.json) for the
// soak benchmarks: their processes are restarted for an hour, and other work rebuilding dist/ or
// wasm-pkg/ in the shared tree (or editing crates/, which makes the tree's WASM core "stale" and
// refused at start) must not break a restart half-way. The copy has no crates/, so the
// staleness check (ts/core/wasm.ts) does not apply to it: it runs exactly what was built.
import { cpSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../ts/paths.js';

const ARTEFACTS = ['package.json', 'dist', 'wasm-pkg', 'native-pkg'];

/** path:size(:mtime ms) of every file under the artefacts of `root`, sorted, one per line. */
function listing(root: string, mtime = true): string {
  return ARTEFACTS.flatMap((d) => {
    const p = join(root, d);
    const files = statSync(p).isDirectory() ? readdirSync(p, { recursive: true, encoding: 'utf8' }).map((f) => join(d, f)) : [d];
    return files.map((f) => {
      const st = statSync(join(root, f));
      return st.isFile() ? `${f}:${st.size}${mtime ? `:${st.mtimeMs}` : ''}` : f;
    });
  })
    .sort()
    .join('\n');
}

/**
 * Copies the artefacts into `<dir>/root` (node_modules linked) and returns the path of its
 * dist/main.js. A build running in the tree during the copy would give a half-written copy, so
 * it copies again (every 10 s, at most 30 times, else throws) until the tree stayed unchanged
 * across a copy.
 */
export async function snapshotArtefacts(dir: string): Promise<string> {
  const snap = join(dir, 'root');
  for (let i = 0; ; i++) {
    const before = listing(ROOT);
    rmSync(snap, { recursive: true, force: true });
    for (const d of ARTEFACTS) cpSync(join(ROOT, d), join(snap, d), { recursive: true });
    if (listing(ROOT) === before && listing(snap, false) === listing(ROOT, false)) break;
    if (i === 30) throw new Error('soak: dist/ or wasm-pkg/ kept changing while copied');
    await new Promise((r) => setTimeout(r, 10_000));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(snap, 'node_modules'));
  return join(snap, 'dist', 'main.js');
}
