// What a process start loads: `-version`, `-help` and an edge must not load the packages only
// the supernode or a metrics endpoint needs (fastify, prom-client, the etcd client and its gRPC
// stack). Each costs CPU at every start, and a machine that starts many edges at once (a boot, a
// test mesh) pays it many times over. Counted in packages loaded, not in time.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../ts/paths.js';
import { isRoot, netnsAdd, netnsDel } from './helpers/netns.js';

const HEAVY = ['fastify', 'prom-client', 'etcd3', '@grpc', 'protobufjs'];

/** Packages under node_modules that `script` (run with -e as an ES module import) has loaded. */
function loadedPackages(importPath: string, call: string): Set<string> {
  const code = `import(${JSON.stringify(importPath)}).then(async (m) => { ${call}; const ks = Object.keys(require.cache).filter((k) => k.includes('/node_modules/')).map((k) => { const rest = k.split('/node_modules/').pop(); const parts = rest.split('/'); return parts[0].startsWith('@') ? parts[0] : parts[0]; }); process.stderr.write('\\nLOADED ' + JSON.stringify([...new Set(ks)]) + '\\n'); })`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', cwd: ROOT });
  const line = r.stderr.split('\n').find((l) => l.startsWith('LOADED '));
  assert.ok(line, `no package list: ${r.stderr.slice(-500)}`);
  return new Set(JSON.parse(line.slice(7)) as string[]);
}

describe('process start: what each mode loads', () => {
  it('-version loads none of the supernode, metrics or etcd packages', () => {
    const got = loadedPackages(join(ROOT, 'dist/cli/main.js'), `await import(${JSON.stringify(join(ROOT, 'dist/cli/modes.js'))}); const out = process.stdout.write.bind(process.stdout); process.stdout.write = () => true; await m.main(['-version']); process.stdout.write = out`);
    const heavy = HEAVY.filter((p) => got.has(p));
    assert.deepEqual(heavy, [], `-version loaded ${heavy.join(', ')}`);
  });

  it("loading an edge config and decoding control messages with the built code does not load ajv's compiler (precompiled validators)", () => {
    const code = `import(${JSON.stringify(join(ROOT, 'dist/config/index.js'))}).then(async (c) => { const p = await import(${JSON.stringify(join(ROOT, 'dist/proto/control.js'))}); c.parseEdgeConfig(c.exampleEdgeConfig(), 'x.yaml', () => {}); try { p.decode.ping('{}'); } catch {} const ks = Object.keys(require.cache).filter((k) => k.includes('/node_modules/ajv/')); process.stderr.write('AJV ' + JSON.stringify(ks.map((k) => k.split('/node_modules/ajv/')[1])) + '\\n'); })`;
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', cwd: ROOT });
    const line = r.stderr.split('\n').find((l) => l.startsWith('AJV '));
    assert.ok(line, r.stderr.slice(-400));
    const files = JSON.parse(line.slice(4)) as string[];
    assert.ok(files.some((f) => f.startsWith('dist/runtime/')), `the precompiled code's runtime helpers are used: ${files.join(', ')}`);
    assert.deepEqual(files.filter((f) => f.startsWith('dist/compile/') || f === 'dist/ajv.js' || f === 'dist/core.js'), [], "ajv's compiler was loaded");
  });

  it('the supernode mode module does not load the etcd client (only a supernode with an etcd store does)', () => {
    const got = loadedPackages(join(ROOT, 'dist/super/mode.js'), 'void m');
    const heavy = ['etcd3', '@grpc', 'protobufjs'].filter((p) => got.has(p));
    assert.deepEqual(heavy, [], `the supernode loaded ${heavy.join(', ')}`);
    assert.ok(got.has('fastify'), 'the supernode still loads its HTTP server (the list is real)');
  });

  it('the edge mode module loads none of them either (metrics load only when served)', () => {
    const got = loadedPackages(join(ROOT, 'dist/edge/mode.js'), 'void m');
    const heavy = HEAVY.filter((p) => got.has(p));
    assert.deepEqual(heavy, [], `the edge loaded ${heavy.join(', ')}`);
    assert.ok(got.has('yaml'), 'the edge still loads its config parser (the list is real)');
  });

  // dist/main.js runs the bundle (scripts/bundle.mjs), whose files live in dist/bundle/: code
  // there that found its files from its own URL would miss them (the precompiled validators
  // did, in the first bundle: every start compiled its schemas again). CommonJS loads show under
  // NODE_DEBUG=module; the bundle itself is ES modules, so anything listed was loaded by path.
  it('the built program (dist/main.js, the bundle) starts an edge from the bundle, with the precompiled validators and none of the heavy packages', async function () {
    if (!isRoot()) this.skip();
    this.timeout(30_000);
    assert.match(readFileSync(join(ROOT, 'dist/main.js'), 'utf8'), /import '\.\/bundle\/entry\.js'/, 'dist/main.js loads the bundle (scripts/bundle.mjs ran)');
    const dir = mkdtempSync(join(tmpdir(), 'egbundle-'));
    const ns = netnsAdd('egbundle');
    try {
      spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      const cfg = join(dir, 'edge.yaml');
      writeFileSync(cfg, spawnSync(process.execPath, [join(ROOT, 'dist/main.js'), 'edge', '-example'], { encoding: 'utf8' }).stdout);
      const child = spawn('ip', ['netns', 'exec', ns, process.execPath, join(ROOT, 'dist/main.js'), 'edge', '-config', cfg, '-no-uapi'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_DEBUG: 'module' } });
      let out = '';
      await new Promise<void>((resolve, reject) => {
        const to = setTimeout(() => reject(new Error(`no "up" line: ${out.slice(-600)}`)), 25_000);
        const on = (d: Buffer) => {
          out += d.toString();
          if (/ up[:,]/.test(out)) {
            clearTimeout(to);
            resolve();
          }
        };
        child.stdout!.on('data', on);
        child.stderr!.on('data', on);
        child.on('exit', (c) => reject(new Error(`edge exited ${c}: ${out.slice(-600)}`)));
      });
      child.removeAllListeners('exit');
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      const loads = out.split('\n').filter((l) => /^MODULE \d+: load /.test(l));
      assert.ok(loads.some((l) => l.includes('/dist/shared/precompiled/')), `a precompiled validator was loaded:\n${loads.join('\n')}`);
      assert.deepEqual(loads.filter((l) => /node_modules\/ajv\/dist\/(compile|ajv\.js|core\.js)/.test(l)), [], "ajv's compiler was loaded");
      assert.deepEqual(loads.filter((l) => HEAVY.some((p) => l.includes(`/node_modules/${p}/`))), [], 'a heavy package was loaded');
      assert.deepEqual(loads.filter((l) => /\/dist\/(cli|config|edge|core|wgnode)\//.test(l)), [], 'unbundled modules of ours were loaded');
    } finally {
      netnsDel(ns);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
