// Entry point logic: parse flags, dispatch to the mode, map failures to exit codes.
import { PACKAGE_VERSION } from '../paths.js';
import { coreSimd128, coreVersion, WasmNotBuiltError } from '../core/wasm.js';
import { loadNative } from '../native/index.js';
import { CliArgs, parseArgs, USAGE, UsageError } from './args.js';

import { CliError, cliErrorJson } from './errors.js';
export { CliError };

function versionText(): string {
  const lines = [`etherguard ${PACKAGE_VERSION}`, `${process.platform}-${process.arch}, node ${process.version}`];
  try {
    lines.push(`wasm core ${coreVersion()} (simd128 ${coreSimd128() ? 'on' : 'off'})`);
  } catch (e) {
    lines.push(`wasm core: not loaded (${(e as Error).message.split('\n')[0]})`);
  }
  const n = loadNative();
  lines.push(n.ok ? `native addon ${n.mod.nativeVersion()}: loaded` : `native addon: not loaded (${n.error})`);
  // Upstream's third line said "VPP support enabled|disabled" (its vpp build tag). Here IType vpp
  // is the addon's memif client; VPP's binary API (creating the memif in VPP) is not built.
  lines.push(
    n.ok && typeof (n.mod as { Memif?: unknown }).Memif === 'function'
      ? 'VPP support enabled (IType vpp: memif client; VPP binary API integration not built)'
      : 'VPP support disabled (IType vpp needs the native addon)',
  );
  lines.push('', 'A full-mesh Layer-2 VPN routed on one-way latencies (Floyd-Warshall per direction).');
  return lines.join('\n') + '\n';
}

const NOT_YET: Record<string, string> = {
  edge: 'the edge runtime (issue area: edge runtime and static mode)',
  super: 'the supernode (issue area: super mode)',
  solve: 'the route solver (issue area: route engine and solve mode)',
  gencfg: 'the config generator (issue area: gencfg)',
};

async function runMode(args: CliArgs): Promise<number> {
  const mode = args.mode!;
  const impl = modes[mode];
  if (!impl) throw new CliError(`mode ${mode} is not implemented yet: ${NOT_YET[mode]}`);
  return impl(args);
}

/** Mode implementations register here as they are built. */
export const modes: Partial<Record<string, (a: CliArgs) => Promise<number>>> = {};

export async function main(argv: string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`etherguard: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.version) {
    process.stdout.write(versionText());
    return 0;
  }
  if (!args.mode) {
    process.stderr.write(`etherguard: no mode given\n\n${USAGE}`);
    return 2;
  }
  try {
    return await runMode(args);
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(args.json ? cliErrorJson(e) : `etherguard: ${e.message}\n`);
      return e.exitCode;
    }
    if (e instanceof WasmNotBuiltError) {
      process.stderr.write(`etherguard: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
