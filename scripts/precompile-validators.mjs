// Build step (scripts/build.sh, after tsc): writes every JSON-schema validator the runtime
// registers (config, control messages, P2P messages) as ajv standalone code to
// dist/shared/precompiled/, so a process start loads small generated modules instead of loading
// ajv's compiler and compiling each schema (ts/shared/schema-check.ts). The modules that register
// schemas are imported here; a schema not registered at import time is simply compiled at run time.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const { writePrecompiled, PRECOMPILED_DIR } = await import(join(dist, 'shared/schema-check.js'));
for (const m of ['config/validate.js', 'proto/control.js', 'p2p/proto.js']) await import(join(dist, m));
rmSync(PRECOMPILED_DIR, { recursive: true, force: true });
const files = await writePrecompiled(PRECOMPILED_DIR);
console.log(`[build] ${files.length} precompiled schema validators -> ${PRECOMPILED_DIR.replace(root + '/', '')}`);
