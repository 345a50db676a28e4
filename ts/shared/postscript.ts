// PostScript: run once after start with upstream's EG_* variables; a non-zero exit aborts start.
// The command is split like a shell would (shell-quote) but run without a shell, as upstream does.
import { spawnSync } from 'node:child_process';
import { parse } from 'shell-quote';

export function postScriptEnv(mode: 'edge' | 'super', name: string, id: number, iface?: { name: string; type: string; macPrefix: string; mac: string }): Record<string, string> {
  const env: Record<string, string> = { EG_MODE: mode, EG_NODE_NAME: name };
  if (mode === 'edge') {
    Object.assign(env, {
      EG_NODE_ID_INT_DEC: String(id),
      EG_NODE_ID_BYTE0_DEC: String(id & 255),
      EG_NODE_ID_BYTE1_DEC: String(id >> 8),
      EG_NODE_ID_INT_HEX: id.toString(16),
      EG_NODE_ID_BYTE0_HEX: (id & 255).toString(16).toUpperCase(),
      EG_NODE_ID_BYTE1_HEX: (id >> 8).toString(16).toUpperCase(),
    });
  }
  if (iface) {
    Object.assign(env, {
      EG_INTERFACE_NAME: iface.name,
      EG_INTERFACE_TYPE: iface.type,
      EG_INTERFACE_MAC_PREFIX: iface.macPrefix,
      EG_INTERFACE_MAC_ADDR: iface.mac,
    });
  }
  return env;
}

export function runPostScript(cmd: string, env: Record<string, string>): void {
  // The loader refuses NUL in every value that gets here (ts/config/names.ts); checked again
  // because a NUL would make spawnSync throw a TypeError that names neither key nor rule.
  if (cmd.includes('\0')) throw new Error(`PostScript ${JSON.stringify(cmd)} contains a NUL character`);
  for (const [k, v] of Object.entries(env)) {
    if (v.includes('\0')) throw new Error(`PostScript: the value of ${k} contains a NUL character, which cannot be passed in the environment`);
  }
  const parts = parse(cmd);
  const argv: string[] = [];
  for (const p of parts) {
    if (typeof p !== 'string') throw new Error(`PostScript ${JSON.stringify(cmd)}: shell operators are not supported (run a script instead)`);
    argv.push(p);
  }
  if (argv.length === 0) return;
  const r = spawnSync(argv[0], argv.slice(1), { env: { ...process.env, ...env }, // Its output goes to our stderr: stdout may be the stdio interface's frame stream.
    stdio: ['ignore', 2, 2],
    timeout: 60_000, });
  if (r.error) throw new Error(`PostScript ${JSON.stringify(cmd)} failed to run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`PostScript ${JSON.stringify(cmd)} exited with ${r.status ?? r.signal}`);
}
