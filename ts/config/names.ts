// Rules for config values that end up in file names, interface names or a child's environment,
// checked at load time (so the user sees the key and the rule) and again where they are used
// (so no value can make a file appear outside its directory).

/** UAPI names that `wg show NAME` reads as a subcommand instead of an interface. */
const WG_SHOW_WORDS = new Set(['all', 'interfaces', 'help', '-h', '--help']);

/** Linux `sockaddr_un.sun_path` holds 108 bytes including the final NUL. */
export const SUN_PATH_MAX = 107;

function controlChar(s: string): { index: number; code: number } | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return { index: i, code: c };
  }
  return undefined;
}

/**
 * Why `name` cannot name a UAPI socket `<dir>/<name>.sock` that `wg show <name>` can reach, or
 * null. wg-tools (ipc-uapi-unix.h) refuses any name with '/', and the name must stay one file
 * in the socket directory; a control character (a newline, a NUL) would break the socket
 * listing, the logs and the environment of PostScript.
 */
export function uapiNameProblem(name: string): string | null {
  if (name === '') return 'must not be empty';
  if (name.includes('/')) return `"${name}" contains '/': it names the UAPI socket file <EG_UAPI_DIR>/<name>.sock, which must stay in that directory (and wg show refuses such names)`;
  if (name === '.' || name === '..') return `"${name}" is not a usable file name for the UAPI socket`;
  const cc = controlChar(name);
  if (cc) return `contains a control character (code ${cc.code}) at position ${cc.index + 1}; it names the UAPI socket file and appears in logs`;
  return null;
}

/** A warning for names that load but that `wg show NAME` cannot address, or null. */
export function uapiNameWarning(name: string): string | null {
  if (WG_SHOW_WORDS.has(name) || name.startsWith('-')) return `"${name}" is read by \`wg show ${name}\` as an option or subcommand, not as this node's interface; \`wg show all\` still lists it`;
  return null;
}

/**
 * Why `name` cannot be a Linux network interface name, or null: the kernel's dev_valid_name()
 * rule (net/core/dev.c): 1..15 bytes (IFNAMSIZ 16 with the NUL), not "." or "..", no '/', ':'
 * or whitespace. `%d` is allowed: the kernel replaces it with the first free number.
 */
export function ifNameProblem(name: string): string | null {
  if (name === '') return 'must not be empty';
  const bytes = Buffer.byteLength(name);
  if (bytes > 15) return `"${name}" is ${bytes} bytes; Linux interface names are at most 15 bytes`;
  if (name === '.' || name === '..') return `"${name}" is not allowed as a Linux interface name`;
  const bad = /[\s/:]/.exec(name);
  if (bad) {
    const what = bad[0] === '/' ? "'/'" : bad[0] === ':' ? "':'" : 'whitespace';
    return `"${name}" contains ${what} at position ${bad.index + 1}, which Linux interface names cannot`;
  }
  const cc = controlChar(name);
  if (cc) return `contains a control character (code ${cc.code}) at position ${cc.index + 1}`;
  return null;
}

/** Why `value` cannot be passed to PostScript as an environment variable, or null (a NUL cannot be). */
export function envValueProblem(value: string): string | null {
  const i = value.indexOf('\0');
  return i < 0 ? null : `contains a NUL character at position ${i + 1}, which cannot be passed to PostScript in its environment`;
}

/** Why `path` cannot be a unix socket address (the *sock ITypes), or null. */
export function unixPathProblem(path: string): string | null {
  if (path.includes('\0')) return 'contains a NUL character, which a socket path cannot';
  const bytes = Buffer.byteLength(path);
  if (bytes > SUN_PATH_MAX) return `is ${bytes} bytes; a unix socket path holds at most ${SUN_PATH_MAX}`;
  return null;
}
