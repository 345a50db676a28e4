// Latency matrices on the page side: reading the values of an already validated matrix text,
// the clock-offset skew, random graphs and text/number formatting. No DOM and no WASM here, so
// the functions can also be exercised from Node.
//
// The authoritative parser is the Rust one (`solveMatrixJson` throws its "line L, column C: ..."
// errors). The WASM module does not hand back the parsed edges, so `readMatrix` re-reads the
// values itself; the page only calls it on text the Rust parser accepted, and it follows the
// same rules (docs/routing.md, "Latency matrix"): `#` comments, any whitespace, `Inf` in any
// case, values >= 99999 and the diagonal mean "no edge", missing rows have no outgoing edges.

/** Upstream's infinity: any latency at or above it means "no edge". */
export const UPSTREAM_INF = 99999;

/** A square latency matrix in seconds: `w[i * n + j]` is `ids[i] -> ids[j]`, Infinity = no edge. */
export interface Matrix {
  ids: number[];
  w: Float64Array;
}

function fields(line: string): string[] {
  const hash = line.indexOf('#');
  const body = hash >= 0 ? line.slice(0, hash) : line;
  return body.split(/\s+/u).filter((t) => t !== '');
}

function readValue(tok: string): number {
  const lower = tok.toLowerCase();
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') return Infinity;
  const v = Number(tok);
  if (!Number.isFinite(v)) throw new Error(`unexpected value '${tok}' (the Rust parser should have refused it)`);
  return v >= UPSTREAM_INF ? Infinity : v;
}

/**
 * Reads the values of a matrix text that the Rust parser has accepted. Throws (with a plain
 * message, no position) only if the text is not valid after all.
 */
export function readMatrix(text: string): Matrix {
  let ids: number[] | null = null;
  let index = new Map<number, number>();
  let w = new Float64Array(0);
  for (const raw of text.split('\n')) {
    const toks = fields(raw);
    if (toks.length === 0) continue;
    if (ids === null) {
      ids = toks.slice(1).map(Number);
      index = new Map(ids.map((id, i) => [id, i]));
      w = new Float64Array(ids.length * ids.length).fill(Infinity);
      continue;
    }
    const n = ids.length;
    const i = index.get(Number(toks[0]));
    if (i === undefined || toks.length !== n + 1) throw new Error(`unexpected row '${raw.trim()}'`);
    for (let j = 0; j < n; j++) {
      if (j !== i) w[i * n + j] = readValue(toks[j + 1]!);
    }
  }
  if (ids === null) throw new Error('empty matrix');
  return { ids, w };
}

/**
 * The matrix the nodes would measure: `m(u->v) = true(u->v) + off(v) - off(u)`, offsets in ms
 * (missing = 0), latencies in seconds. Missing edges stay missing.
 */
export function measuredMatrix(m: Matrix, offsetMs: ReadonlyMap<number, number>): Matrix {
  const n = m.ids.length;
  const off = m.ids.map((id) => (offsetMs.get(id) ?? 0) / 1000);
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const t = m.w[i * n + j]!;
      w[i * n + j] = Number.isFinite(t) ? t + off[j]! - off[i]! : Infinity;
    }
  }
  return { ids: m.ids.slice(), w };
}

/** Shortest decimal form of a float, rounded to 9 significant digits (0.5 + 0.3 -> "0.8"). */
export function fmtNum(v: number): string {
  if (v === Infinity) return 'Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  const r = Number(v.toPrecision(9));
  return Object.is(r, -0) ? '0' : String(r);
}

/** A value in seconds shown in milliseconds (3 decimals at most). */
export function fmtMs(seconds: number): string {
  if (!Number.isFinite(seconds)) return seconds > 0 ? '∞' : '-∞';
  const ms = Math.round(seconds * 1e6) / 1e3;
  return Object.is(ms, -0) ? '0' : String(ms);
}

/** The matrix in upstream's text format (seconds), columns aligned. */
export function matrixText(m: Matrix): string {
  const n = m.ids.length;
  const rows: string[][] = [['X', ...m.ids.map(String)]];
  for (let i = 0; i < n; i++) {
    const row = [String(m.ids[i])];
    for (let j = 0; j < n; j++) row.push(i === j ? '0' : fmtNum(m.w[i * n + j]!));
    rows.push(row);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((s, c) => s.padEnd(widths[c]!)).join(' ').trimEnd()).join('\n') + '\n';
}

/** mulberry32: a small deterministic PRNG so a seed reproduces a random graph. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A random connected graph on nodes 1..n: a random spanning tree plus every other pair with
 * probability `density`. Each link gets a base latency of 1-80 ms and each direction deviates
 * from it by up to ±25 % (asymmetric), rounded to 0.1 ms.
 */
export function randomMatrix(n: number, density: number, seed: number): Matrix {
  const rand = rng(seed);
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  const w = new Float64Array(n * n).fill(Infinity);
  const link = (i: number, j: number): void => {
    const base = 1 + rand() * 79;
    const oneWay = (): number => Math.round(base * (0.75 + rand() * 0.5) * 10) / 1e4;
    w[i * n + j] = oneWay();
    w[j * n + i] = oneWay();
  };
  for (let i = 1; i < n; i++) link(i, Math.floor(rand() * i));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (!Number.isFinite(w[i * n + j]!) && rand() < density) link(i, j);
    }
  }
  return { ids, w };
}

/** Parses "line L, column C: ..." out of a parser error message. */
export function errorPosition(message: string): { line: number; column: number } | null {
  const m = /line (\d+), column (\d+)/u.exec(message);
  return m ? { line: Number(m[1]), column: Number(m[2]) } : null;
}

/** Character offset of a 1-based line and column (columns in characters) in `text`. */
export function offsetOf(text: string, line: number, column: number): number {
  const lines = text.split('\n');
  let off = 0;
  for (let l = 0; l < line - 1 && l < lines.length; l++) off += lines[l]!.length + 1;
  // Columns count characters (code points), JS strings count UTF-16 units.
  const cur = lines[line - 1] ?? '';
  const head = Array.from(cur).slice(0, Math.max(0, column - 1)).join('');
  return Math.min(text.length, off + head.length);
}
