// Config problems: every one names the key path it is about, and ConfigError carries all of them
// so the user can fix a file in one pass.

export type Segment = string | number;

export interface Problem {
  /** Dotted key path with array indexes, e.g. `Peers[2].PubKey`; "" for the file as a whole. */
  path: string;
  message: string;
  /** 1-based position in the YAML text, when known. */
  line?: number;
  col?: number;
}

export function formatPath(segs: readonly Segment[]): string {
  let out = '';
  for (const s of segs) out += typeof s === 'number' ? `[${s}]` : out === '' ? s : `.${s}`;
  return out;
}

export function formatProblem(file: string, p: Problem): string {
  const where = p.line !== undefined ? `${file}:${p.line}:${p.col ?? 1}` : file;
  return p.path === '' ? `${where}: ${p.message}` : `${where}: ${p.path}: ${p.message}`;
}

/** `file:line:col: warning: path: message`, the form compilers use for warnings. */
export function formatWarning(file: string, p: Problem): string {
  const where = p.line !== undefined ? `${file}:${p.line}:${p.col ?? 1}` : file;
  return p.path === '' ? `${where}: warning: ${p.message}` : `${where}: warning: ${p.path}: ${p.message}`;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly problems: readonly Problem[],
    /** Warnings found in the same pass (not part of the message). */
    readonly warnings: readonly Problem[] = [],
  ) {
    super(problems.map((p) => formatProblem(file, p)).join('\n'));
  }
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

/** The closest known key, for "did you mean" hints on typos (case differences count as close). */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = k.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, k);
    if (d < bestD) { best = k; bestD = d; }
  }
  return bestD <= Math.max(2, Math.floor(key.length / 4)) ? best : undefined;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}
