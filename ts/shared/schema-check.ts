// JSON-schema validators (ajv) that cost nothing at process start.
//
// Compiling a schema with ajv takes tens of milliseconds of CPU, and loading ajv's compiler about
// 100 ms more; a node compiled every schema it might need at start (config, control messages, P2P
// messages), and a machine that starts many edges at once paid that many times. So:
//   - `validator(profile, name, schema)` only registers the schema; the validator is made on first
//     use;
//   - the build (scripts/precompile-validators.mjs, run by scripts/build.sh after tsc) writes every
//     registered schema as ajv "standalone" code to dist/shared/precompiled/<profile>-<hash>.cjs,
//     named by a hash of the profile and the schema it was made from;
//   - on first use the file for the schema in hand is loaded if it exists (so a stale build never
//     validates with an old schema: a changed schema has another name), else the schema is
//     compiled with ajv, as before (e.g. tests under tsx before a build, or a schema changed since).
// Both are ajv's own code for the same schema and options; test/schema-check.test.ts checks that
// they agree on the config samples and control messages.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from '../paths.js';
import type { JSONSchemaType, Options, ValidateFunction } from 'ajv';

/** ajv settings shared by a family of schemas (the generator compiles with the same). */
export interface AjvProfile {
  /** File-name prefix: letters and digits. */
  name: string;
  options: Options;
  /** Names of metadata-only keywords the schemas carry (e.g. the config's reasons). */
  keywords?: readonly string[];
}

interface Entry {
  profile: AjvProfile;
  name: string;
  schema: object;
}

const registry = new Map<string, Entry>();
const req = createRequire(import.meta.url);
/**
 * Where the build puts the precompiled validators (dist/shared/precompiled), found from the
 * package root: this module may run from dist/shared/, from the bundle (dist/bundle/) or from
 * ts/ under tsx. A file is used only when its name carries the hash of the schema asked for.
 */
export const PRECOMPILED_DIR = join(ROOT, 'dist', 'shared', 'precompiled');

/** Hash of what a validator is made from (its precompiled file's name). */
export function schemaHash(profile: AjvProfile, schema: object): string {
  return createHash('sha256')
    .update(JSON.stringify({ options: profile.options, keywords: profile.keywords ?? [], schema }))
    .digest('hex')
    .slice(0, 32);
}

const instances = new Map<string, { compile<T>(s: JSONSchemaType<T>): ValidateFunction<T> }>();

/** An ajv instance for `profile` (ajv is loaded here, on the first compile, not at start). */
function ajvFor(profile: AjvProfile, forSource = false): { compile<T>(s: JSONSchemaType<T>): ValidateFunction<T> } {
  const key = `${profile.name}${forSource ? ':source' : ''}`;
  let a = instances.get(key);
  if (!a) {
    // ajv ships CommonJS; the class is its default export.
    const Ajv = (req('ajv') as { default: new (o: Options) => { compile<T>(s: JSONSchemaType<T>): ValidateFunction<T>; addKeyword(k: string): void } }).default;
    const inst = new Ajv(forSource ? { ...profile.options, code: { source: true } } : profile.options);
    for (const k of profile.keywords ?? []) inst.addKeyword(k);
    instances.set(key, inst);
    a = inst;
  }
  return a;
}

/**
 * A validator for `schema` under `profile`, made on the first call of the returned function:
 * the build's precompiled module if it was made from this schema, else compiled now. `name`
 * labels it in the generated file.
 */
export function validator<T>(profile: AjvProfile, name: string, schema: JSONSchemaType<T>): () => ValidateFunction<T> {
  const key = `${profile.name}-${schemaHash(profile, schema)}`;
  // The same schema under the same profile (two message names for one shape) shares one entry.
  if (!registry.has(key)) registry.set(key, { profile, name, schema });
  let v: ValidateFunction<T> | undefined;
  return () => (v ??= precompiled<T>(key) ?? ajvFor(profile).compile(schema));
}

function precompiled<T>(key: string): ValidateFunction<T> | undefined {
  const file = join(PRECOMPILED_DIR, `${key}.cjs`);
  if (!existsSync(file)) return undefined;
  try {
    return (req(file) as { default: ValidateFunction<T> }).default;
  } catch {
    return undefined;
  }
}

/** Every registered validator: its file key, label, profile and schema (for tests and the build). */
export function registeredValidators(): { key: string; name: string; profile: AjvProfile; schema: object }[] {
  return [...registry].map(([key, e]) => ({ key, ...e }));
}

/** Which validators exist and whether each came precompiled (for tests; made on demand). */
export function validatorSources(): Map<string, 'precompiled' | 'compiled'> {
  const out = new Map<string, 'precompiled' | 'compiled'>();
  for (const [key, e] of registry) out.set(`${key} (${e.name})`, precompiled(key) ? 'precompiled' : 'compiled');
  return out;
}

/**
 * Writes every registered validator as ajv standalone code (CommonJS) to `dir`, each named by
 * the hash of what it was made from. Build time only (scripts/precompile-validators.mjs). Returns the
 * files written.
 */
export async function writePrecompiled(dir: string): Promise<string[]> {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const standalone = (req('ajv/dist/standalone') as { default: (ajv: unknown, v: unknown) => string }).default;
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const [key, e] of registry) {
    const ajv = ajvFor(e.profile, true);
    const code = standalone(ajv, ajv.compile(e.schema as JSONSchemaType<unknown>));
    const file = `${dir}/${key}.cjs`;
    writeFileSync(file, `// ${e.name}: ajv standalone code, generated by scripts/precompile-validators.mjs; do not edit.\n${code}\n`);
    written.push(file);
  }
  return written;
}
