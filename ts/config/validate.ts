// The pipeline shared by both config kinds: YAML → drop nulls → ajv (types, ranges, unknown keys,
// defaults) → cross-field rules → located problems or a typed config.
import type { Document } from 'yaml';
import { compile, translate, type RawProblem } from './ajv.js';
import { ConfigError, formatPath, type Problem } from './problems.js';
import { Ctx } from './rules/ctx.js';
import { edgeRules } from './rules/edge.js';
import { superRules } from './rules/super.js';
import { edgeSchema, type EdgeConfig } from './schema/edge.js';
import { superSchema, type SuperConfig } from './schema/super.js';
import { dropNulls, locate, parseYaml, type Source } from './source.js';

export interface Parsed<T> {
  config: T;
  /** The YAML document as written (no defaults added), for rewriting with comments kept. */
  doc: Document.Parsed;
}

interface Kind<T> {
  validate: ReturnType<typeof compile<T>>;
  /** Upstream quirks accepted on input, applied before the schema sees the data. */
  normalize?: (data: Record<string, unknown>) => void;
  rules: (ctx: Ctx, config: T) => void;
}

const EDGE: Kind<EdgeConfig> = { validate: compile(edgeSchema), rules: edgeRules };
const SUPER: Kind<SuperConfig> = {
  validate: compile(superSchema),
  // Upstream writes these ports as strings ("3000") but a hand-written `3000` is the same thing.
  normalize: (d) => {
    for (const k of ['ListenPort_EdgeAPI', 'ListenPort_ManageAPI']) if (typeof d[k] === 'number') d[k] = String(d[k]);
  },
  rules: superRules,
};

function located(src: Source, raw: readonly RawProblem[]): Problem[] {
  const out: Problem[] = raw.map((r) => ({ path: formatPath(r.segs), message: r.message, ...locate(src, r.segs) }));
  // File order reads best; Array.prototype.sort is stable, so same-line problems keep rule order.
  return out.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

function run<T>(kind: Kind<T>, text: string, name: string): Parsed<T> {
  const parsed = parseYaml(text);
  if (!parsed.ok) throw new ConfigError(name, parsed.problems);
  const src = parsed.source;
  const data = dropNulls(src.data);
  if (data === null || data === undefined || typeof data !== 'object' || Array.isArray(data)) {
    const what = data === null || data === undefined ? 'the file is empty' : 'the top level is not a mapping of keys';
    throw new ConfigError(name, [{ path: '', message: `${what}; expected a YAML mapping like "NodeID: 1"` }]);
  }
  kind.normalize?.(data as Record<string, unknown>);
  const valid = kind.validate(data);
  const ajvProblems = valid ? [] : translate(kind.validate.errors ?? [], data);
  const ctx = new Ctx(ajvProblems);
  // The rules guard every access with ctx.ok(), so they are safe on data ajv rejected.
  kind.rules(ctx, data as T);
  const all = [...ajvProblems, ...ctx.problems];
  if (all.length > 0) throw new ConfigError(name, located(src, all));
  return { config: data as T, doc: src.doc };
}

export const parseEdge = (text: string, name: string): Parsed<EdgeConfig> => run(EDGE, text, name);
export const parseSuper = (text: string, name: string): Parsed<SuperConfig> => run(SUPER, text, name);
