// The module graph of ts/: no import cycles (type-only imports included: a cycle through types
// still ties two modules' designs together), and the supernode does not reach into the edge's
// modules (what both use lives in ts/shared/).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const TS = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'ts');

/** Every static relative import/export-from of every .ts file under ts/ (resolved to files). */
function graph(): Map<string, string[]> {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) files.push(p);
    }
  };
  walk(TS);
  const g = new Map<string, string[]>();
  for (const f of files) {
    const deps: string[] = [];
    for (const m of readFileSync(f, 'utf8').matchAll(/^\s*(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\sfrom\s+)?['"](\.[^'"]+)['"]/gm)) {
      const full = resolve(dirname(f), m[1]!.replace(/\.js$/, '.ts'));
      if (existsSync(full)) deps.push(full);
    }
    g.set(f, deps);
  }
  return g;
}

describe('module graph of ts/', () => {
  const g = graph();

  it('has no import cycles (type-only imports included)', () => {
    const state = new Map<string, 1 | 2>();
    const stack: string[] = [];
    const cycles: string[] = [];
    const dfs = (v: string) => {
      state.set(v, 1);
      stack.push(v);
      for (const w of g.get(v) ?? []) {
        if (state.get(w) === 1) cycles.push([...stack.slice(stack.indexOf(w)), w].map((x) => relative(TS, x)).join(' -> '));
        else if (!state.get(w)) dfs(w);
      }
      stack.pop();
      state.set(v, 2);
    };
    for (const f of g.keys()) if (!state.get(f)) dfs(f);
    assert.deepEqual(cycles, []);
  });

  it('the supernode (ts/super/) imports nothing from the edge (ts/edge/)', () => {
    const bad = [...g].flatMap(([f, deps]) =>
      relative(TS, f).startsWith('super/') ? deps.filter((d) => relative(TS, d).startsWith('edge/')).map((d) => `${relative(TS, f)} -> ${relative(TS, d)}`) : [],
    );
    assert.deepEqual(bad, []);
  });
});
