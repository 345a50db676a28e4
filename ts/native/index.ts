// The napi-rs addon, loaded lazily: only TAP (and later memif) need it, so every other mode
// keeps working on a machine where it failed to build, and -version can say why.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { NATIVE_DIR } from '../paths.js';

export type Native = typeof import('../../native-pkg/index.js');

let cached: { ok: true; mod: Native } | { ok: false; error: string } | undefined;

export function loadNative(): { ok: true; mod: Native } | { ok: false; error: string } {
  if (cached) return cached;
  const entry = join(NATIVE_DIR, 'index.js');
  if (!existsSync(entry)) {
    cached = { ok: false, error: `${entry} is missing; build it with \`npx just build-native\`` };
    return cached;
  }
  try {
    // The generated loader is ESM but resolves the .node file with require; loading it through
    // createRequire keeps this synchronous.
    const require = createRequire(import.meta.url);
    const abi = process.platform === 'linux' ? '-gnu' : '';
    const file = join(NATIVE_DIR, `etherguard-native.${process.platform}-${process.arch}${abi}.node`);
    cached = { ok: true, mod: require(file) as Native };
  } catch (e) {
    cached = { ok: false, error: (e as Error).message };
  }
  return cached;
}

/** The addon, or an Error that says why it is unavailable. */
export function native(): Native {
  const n = loadNative();
  if (!n.ok) throw new Error(`the native addon (TAP support) is not available: ${n.error}`);
  return n.mod;
}

/**
 * Whether the data path asks the kernel for offloads: TAP vnet headers with TSO/USO and
 * checksum offload, UDP GSO and GRO (docs/interfaces.md §Offloads). On unless the environment
 * says `EG_OFFLOADS=0`; what the kernel refuses falls back by itself, with one log line.
 */
export function offloadsEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.EG_OFFLOADS !== '0';
}
