// YAML text → plain data, keeping the Document so problems can point at a line and the file can
// later be rewritten with its comments and key order intact.
import { Document, isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { Problem, Segment } from './problems.js';

export interface Source {
  doc: Document.Parsed;
  data: unknown;
  lines: LineCounter;
}

export type ParseResult = { ok: true; source: Source } | { ok: false; problems: Problem[] };

export function parseYaml(text: string): ParseResult {
  const lines = new LineCounter();
  // uniqueKeys: a repeated key is almost always a merge mistake, and Go's yaml.v3 refuses it too.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        // prettyErrors appends " at line L, column C:" and a code excerpt; the position is kept
        // separately, so only the sentence is used.
        let msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        // yaml's "Map keys must be unique" does not say which key; the file does, at the error.
        if (e.code === 'DUPLICATE_KEY') {
          const key = /^\s*["']?([^"':\n]+?)["']?\s*:/.exec(text.slice(e.pos[0]))?.[1];
          if (key) msg = `the key ${JSON.stringify(key)} appears twice in the same mapping (usually a merge mistake; etherguard-go refuses it too)`;
        }
        return pos ? { path: '', message: `YAML syntax error: ${msg}`, line: pos.line, col: pos.col } : { path: '', message: `YAML syntax error: ${msg}` };
      }),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // toJS throws (a ReferenceError) for an alias with no anchor before it and for an alias bomb;
    // both are problems of the file, reported like syntax errors (found by bench/fuzz-ts.ts).
    const msg = (e as Error).message;
    const name = /: (\S+)$/.exec(msg)?.[1];
    const at = name !== undefined ? text.indexOf(`*${name}`) : -1;
    const pos = at >= 0 ? lines.linePos(at) : undefined;
    const message = `YAML alias error: ${msg} (an alias *name needs an anchor &name earlier in the file; at most 100 alias expansions)`;
    return { ok: false, problems: [pos ? { path: '', message, line: pos.line, col: pos.col } : { path: '', message }] };
  }
  return { ok: true, source: { doc, data, lines } };
}

/**
 * True when the value at `segs` is a plain (unquoted) scalar in the text, the only form a YAML 1.1
 * loader resolves to a boolean (`yes`); `"yes"` is a string to every YAML version.
 */
export function isPlainScalar(src: Source, segs: readonly Segment[]): boolean {
  let node: unknown = src.doc.contents;
  for (const seg of segs) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
      if (!pair) return false;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
    } else return false;
  }
  return isScalar(node) && node.type === 'PLAIN';
}

/** Position of the key (or item) named by `segs`, falling back to its nearest existing parent. */
export function locate(src: Source, segs: readonly Segment[]): { line: number; col: number } | undefined {
  let node: unknown = src.doc.contents;
  let at: Node | undefined = isNode(node) ? node : undefined;
  for (const seg of segs) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
      if (!pair) break;
      if (isNode(pair.key)) at = pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      if (isNode(node)) at = node;
      else break;
    } else break;
  }
  const off = at?.range?.[0];
  return off === undefined ? undefined : src.lines.linePos(off);
}

/** Removes keys whose value is null (`Key:` with nothing after it): upstream reads them as zero values, we as "use the default". */
export function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    // defineProperty so that a `__proto__` key stays an ordinary (and then unknown) key.
    for (const [k, x] of Object.entries(v)) {
      if (x !== null) Object.defineProperty(out, k, { value: dropNulls(x), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return v;
}
