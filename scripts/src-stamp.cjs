// Prints a hash of the Rust sources that go into the WASM module, so the runtime can tell a
// stale wasm-pkg/ from a current one. Used by scripts/build.sh and ts/core/wasm.ts.
'use strict';
const { createHash } = require('node:crypto');
const { readdirSync, readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');

function srcStamp(root) {
  const files = [];
  const walk = (d) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.rs')) files.push(p);
    }
  };
  for (const c of ['crates/eg-core/src', 'crates/eg-wasm/src']) walk(join(root, c));
  files.push(join(root, 'crates/eg-core/Cargo.toml'), join(root, 'crates/eg-wasm/Cargo.toml'));
  const h = createHash('sha256');
  for (const f of files) h.update(f.slice(root.length)).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex').slice(0, 16);
}

module.exports = { srcStamp };
if (require.main === module) process.stdout.write(srcStamp(join(__dirname, '..')) + '\n');
