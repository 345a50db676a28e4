// Precompiled schema validators (ts/shared/schema-check.ts, written by the build into
// dist/shared/precompiled/) must judge every input exactly as ajv compiling the same schema at run
// time does: same verdict, same errors, same defaults filled in. Inputs are made from each schema
// (a value for every property, then each property dropped, given a wrong type, and an unknown key
// added), plus the example configs through the whole loader. Needs the build (scripts/build.sh ts).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from '../ts/paths.js';

const req = createRequire(import.meta.url);
const DIST = join(ROOT, 'dist');

type Schema = Record<string, unknown>;

/** A value the schema describes, as far as a simple walk can tell (patterns are not honoured). */
function sample(s: Schema | undefined, depth = 0): unknown {
  if (!s || typeof s !== 'object' || depth > 8) return null;
  if ('default' in s) return s.default;
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum)) return s.enum[s.enum.length - 1];
  const t = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (t) {
    case 'object': {
      const o: Record<string, unknown> = {};
      for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) o[k] = sample(v, depth + 1);
      if (s.additionalProperties && typeof s.additionalProperties === 'object') o['7'] = sample(s.additionalProperties as Schema, depth + 1);
      return o;
    }
    case 'array':
      return [sample(s.items as Schema, depth + 1)];
    case 'integer':
      return typeof s.minimum === 'number' ? s.minimum : 1;
    case 'number':
      return typeof s.minimum === 'number' ? s.minimum + 0.5 : 1.5;
    case 'string':
      return 'a'.repeat(typeof s.minLength === 'number' ? s.minLength : 1);
    case 'boolean':
      return true;
    default:
      return null;
  }
}

/** The sample and its mutations: each top-level and nested property dropped or given a wrong type, an unknown key. */
function inputs(schema: Schema): unknown[] {
  const base = sample(schema);
  const out: unknown[] = [base, {}, [], 'x', 3, null];
  const walk = (v: unknown, path: string[]) => {
    if (!v || typeof v !== 'object' || Array.isArray(v) || path.length > 3) return;
    for (const k of Object.keys(v)) {
      const set = (f: (o: Record<string, unknown>) => void) => {
        const c = structuredClone(base) as Record<string, unknown>;
        let o = c;
        for (const p of path) o = o[p] as Record<string, unknown>;
        f(o);
        out.push(c);
      };
      set((o) => delete o[k]);
      set((o) => (o[k] = typeof o[k] === 'string' ? 12 : 'wrong'));
      set((o) => (o[k] = -1e9));
      walk((v as Record<string, unknown>)[k], [...path, k]);
    }
    const c = structuredClone(base) as Record<string, unknown>;
    let o = c;
    for (const p of path) o = o[p] as Record<string, unknown>;
    o.NotAKey = 1;
    out.push(c);
  };
  walk(base, []);
  return out;
}

const strip = (errs: unknown) => (errs as { instancePath: string; keyword: string; params: unknown; message?: string }[] | null | undefined)?.map((e) => ({ instancePath: e.instancePath, keyword: e.keyword, params: e.params, message: e.message })) ?? null;

describe('precompiled schema validators', () => {
  it('the build wrote one for every schema the config, control and P2P modules register, and they are used', async () => {
    const sc = (await import(join(DIST, 'shared/schema-check.js'))) as typeof import('../ts/shared/schema-check.js');
    for (const m of ['config/validate.js', 'proto/control.js', 'p2p/proto.js']) await import(join(DIST, m));
    const reg = sc.registeredValidators();
    assert.ok(reg.length >= 10, `${reg.length} validators registered`);
    for (const r of reg) assert.ok(existsSync(join(sc.PRECOMPILED_DIR, `${r.key}.cjs`)), `${r.name}: no precompiled file (run scripts/build.sh ts)`);
    assert.deepEqual([...sc.validatorSources().values()].filter((v) => v !== 'precompiled'), []);
  });

  it('each judges the schema-derived inputs exactly as ajv compiling the schema now does (verdict, errors, defaults)', async () => {
    const sc = (await import(join(DIST, 'shared/schema-check.js'))) as typeof import('../ts/shared/schema-check.js');
    for (const m of ['config/validate.js', 'proto/control.js', 'p2p/proto.js']) await import(join(DIST, m));
    const Ajv = (req('ajv') as { default: new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown }; addKeyword(k: string): void } }).default;
    let compared = 0;
    let refused = 0;
    for (const r of sc.registeredValidators()) {
      const pre = (req(join(sc.PRECOMPILED_DIR, `${r.key}.cjs`)) as { default: ((d: unknown) => boolean) & { errors?: unknown } }).default;
      const ajv = new Ajv(r.profile.options);
      for (const k of r.profile.keywords ?? []) ajv.addKeyword(k);
      const now = ajv.compile(r.schema);
      for (const input of inputs(r.schema as Schema)) {
        const a = structuredClone(input);
        const b = structuredClone(input);
        const va = pre(a);
        const vb = now(b);
        assert.equal(va, vb, `${r.name}: verdict differs for ${JSON.stringify(input).slice(0, 200)}`);
        assert.deepEqual(strip(pre.errors), strip(now.errors), `${r.name}: errors differ for ${JSON.stringify(input).slice(0, 200)}`);
        assert.deepEqual(a, b, `${r.name}: defaults differ for ${JSON.stringify(input).slice(0, 200)}`);
        compared++;
        if (!va) refused++;
      }
    }
    assert.ok(compared > 200 && refused > compared / 4, `${compared} inputs compared, ${refused} refused`);
  });

  it('the example configs load through the built loader (precompiled) exactly as through the sources (compiled now)', async () => {
    const built = (await import(join(DIST, 'config/index.js'))) as typeof import('../ts/config/index.js');
    const src = await import('../ts/config/index.js');
    for (const [what, text] of [['edge', src.exampleEdgeConfig()], ['super', src.exampleSuperConfig()]] as const) {
      const lines = text.split('\n');
      // The example, then each line with its value replaced by a wrong one.
      const variants = [text, ...lines.map((l, i) => (/^\s*[A-Za-z_]+:\s*\S/.test(l) ? [...lines.slice(0, i), l.replace(/:\s*.*$/, ': [oops]'), ...lines.slice(i + 1)].join('\n') : undefined)).filter((v): v is string => v !== undefined)];
      let loaded = 0;
      for (const v of variants) {
        const run = (m: typeof src) => {
          try {
            const c = what === 'edge' ? m.parseEdgeConfig(v, 'x.yaml', () => {}) : m.parseSuperConfig(v, 'x.yaml', () => {});
            return JSON.stringify(c);
          } catch (e) {
            return `error: ${(e as Error).message}`;
          }
        };
        const got = run(built as unknown as typeof src);
        assert.equal(got, run(src), `${what} config variant differs:\n${v.slice(0, 300)}`);
        if (!got.startsWith('error:')) loaded++;
      }
      assert.ok(loaded >= 1 && loaded < variants.length, `${what}: ${loaded} of ${variants.length} variants loaded (some must, some must not)`);
    }
  });
});
