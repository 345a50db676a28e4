// The pipeline shared by both config kinds: YAML → drop nulls → ajv (types, ranges, defaults) →
// unknown keys dropped and YAML 1.1 booleans read, with warnings → ajv again → cross-field rules →
// located problems or a typed config.
import type { Document } from 'yaml';
import type { ValidateFunction } from 'ajv';
import { validator } from '../shared/schema-check.js';
import { applyLeniency, CONFIG_AJV, keyPlaces, olderNameOf, translate, type RawProblem } from './ajv.js';
import { cleanKey } from './keys.js';
import { wrongKind, type ConfigKind } from './kind.js';
import { ConfigError, formatPath, type Problem } from './problems.js';
import { Ctx } from './rules/ctx.js';
import { edgeRules } from './rules/edge.js';
import { superRules } from './rules/super.js';
import { edgeSchema, type EdgeConfig } from './schema/edge.js';
import { superSchema, type SuperConfig } from './schema/super.js';
import { dropNulls, isPlainScalar, locate, parseYaml, type Source } from './source.js';

export interface Parsed<T> {
  config: T;
  /** The YAML document as written (no defaults added), for rewriting with comments kept. */
  doc: Document.Parsed;
  /** Values that load but are not used (or not as written), located like errors; see docs/config.md. */
  warnings: Problem[];
}

type Data = Record<string, unknown>;

/** Applies `f` to the string at `path` (`*` = every item of a list) where it exists. */
function mapStrings(d: unknown, path: readonly string[], f: (s: string) => string): void {
  if (d === null || typeof d !== 'object') return;
  const [head, ...rest] = path;
  if (head === '*') {
    if (Array.isArray(d)) for (const item of d) mapStrings(item, rest, f);
    return;
  }
  if (Array.isArray(d) || head === undefined || !Object.hasOwn(d, head)) return;
  const o = d as Data;
  if (rest.length > 0) mapStrings(o[head], rest, f);
  else if (typeof o[head] === 'string') o[head] = f(o[head]);
}

// Key fields get the whitespace clean-up wg and upstream apply (keys.ts cleanKey), so a key in a
// YAML block scalar or with a trailing space loads; what remains wrong is then named precisely.
const EDGE_KEYS = [['PrivKey'], ['Peers', '*', 'PubKey'], ['Peers', '*', 'PSKey'], ...['PSKey', 'PubKeyV4', 'PubKeyV6'].map((k) => ['DynamicRoute', 'SuperNode', k])];
const SUPER_KEYS = [['PrivKeyV4'], ['PrivKeyV6'], ['Peers', '*', 'PubKey'], ['Peers', '*', 'PSKey']];

function cleanKeys(d: Data, paths: readonly (readonly string[])[]): void {
  for (const p of paths) mapStrings(d, p, cleanKey);
}

/** `make()` on the first call, its result afterwards. */
function once<R>(make: () => R): () => R {
  let r: R | undefined;
  return () => (r ??= make());
}

interface Kind<T> {
  kind: ConfigKind;
  /** The schema validator, made on first use (ts/shared/schema-check.ts). */
  validate: () => ValidateFunction<T>;
  /** Where each key name belongs (keyPlaces), for hints on keys at the wrong level; made on first use. */
  places: () => Map<string, string[]>;
  /** Upstream quirks accepted on input, applied before the schema sees the data. */
  normalize?: (data: Record<string, unknown>) => void;
  rules: (ctx: Ctx, config: T) => void;
}

const EDGE: Kind<EdgeConfig> = { kind: 'edge', validate: validator(CONFIG_AJV, 'edge config', edgeSchema), places: once(() => keyPlaces(edgeSchema)), normalize: (d) => cleanKeys(d, EDGE_KEYS), rules: edgeRules };
const SUPER: Kind<SuperConfig> = {
  kind: 'super',
  validate: validator(CONFIG_AJV, 'supernode config', superSchema),
  places: once(() => keyPlaces(superSchema)),
  // Upstream writes these ports as strings ("3000") but a hand-written `3000` is the same thing.
  normalize: (d) => {
    cleanKeys(d, SUPER_KEYS);
    for (const k of ['ListenPort_EdgeAPI', 'ListenPort_ManageAPI']) if (typeof d[k] === 'number') d[k] = String(d[k]);
  },
  rules: superRules,
};

function located(src: Source, raw: readonly RawProblem[]): Problem[] {
  const out: Problem[] = raw.map((r) => ({ path: formatPath(r.segs), message: r.message, ...locate(src, r.at ?? r.segs) }));
  // File order reads best; Array.prototype.sort is stable, so same-line problems keep rule order.
  return out.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

/**
 * A rule's error about a key (say EndpointV4 empty) whose value was written under upstream's older
 * name (ConnURLV4, dropped as unknown from the same mapping) says so: the warning on the old name
 * alone is easy to miss next to an error that names only the new one.
 */
function withOlderNames(problems: readonly RawProblem[], unknownIn: ReadonlyMap<string, readonly string[]> | undefined): RawProblem[] {
  if (unknownIn === undefined || unknownIn.size === 0) return [...problems];
  return problems.map((p) => {
    const key = p.segs[p.segs.length - 1];
    if (typeof key !== 'string') return p;
    const older = olderNameOf(key, unknownIn.get(formatPath(p.segs.slice(0, -1))) ?? []);
    return older === undefined ? p : { ...p, message: `${p.message} (${older.written}, written here, is upstream's older name of ${key}: rename it)` };
  });
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
  // A file of the other kind (or a gencfg input) is said to be one, alone: the errors of loading
  // it as this kind (its missing keys, its every key unknown) would only bury that.
  const wrong = wrongKind(data as Record<string, unknown>, kind.kind);
  if (wrong !== undefined) throw new ConfigError(name, [{ path: '', message: wrong.message, ...locate(src, [wrong.key]) }]);
  kind.normalize?.(data as Record<string, unknown>);
  const validate = kind.validate();
  let valid = validate(data);
  // etherguard-go loads with non-strict yaml.v2: unknown keys are ignored and yes/no are booleans.
  // Those are applied here with a warning each, then the cleaned data is validated again so the
  // defaults and every other check see what will run.
  const lenient = valid ? undefined : applyLeniency(validate.errors ?? [], data, (segs) => isPlainScalar(src, segs), kind.places());
  if (lenient?.changed) valid = validate(data);
  const ajvProblems = valid ? [] : translate(validate.errors ?? [], data, lenient?.unknownIn);
  const ctx = new Ctx(ajvProblems);
  // The rules guard every access with ctx.ok(), so they are safe on data ajv rejected.
  kind.rules(ctx, data as T);
  const all = [...ajvProblems, ...withOlderNames(ctx.problems, lenient?.unknownIn)];
  const warnings = located(src, [...(lenient?.warnings ?? []), ...ctx.warnings]);
  if (all.length > 0) throw new ConfigError(name, located(src, all), warnings);
  return { config: data as T, doc: src.doc, warnings };
}

export const parseEdge = (text: string, name: string): Parsed<EdgeConfig> => run(EDGE, text, name);
export const parseSuper = (text: string, name: string): Parsed<SuperConfig> => run(SUPER, text, name);
