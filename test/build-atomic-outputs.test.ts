// A build running while a node starts must not make that node refuse to start: every file the
// build writes and something else reads (wasm-pkg/stamp.txt, which the runtime compares with the
// Rust sources; wasm-pkg/node/package.json, which makes the WASM glue CommonJS) must at all times
// hold either its old or its new contents. `cmd > file` truncates the file before cmd starts, so
// a reader saw an empty stamp ("built from Rust sources , the tree has …").
//
// The real scripts/build.sh runs here, `build.sh wasm` in a scratch copy of the tree's layout,
// with a stand-in for wasm-pack (the compiler is not what is tested, the writing of the outputs
// is), again and again while this process reads the outputs as fast as it can.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../ts/paths.js';

describe('build outputs read at start are replaced atomically', function () {
  this.timeout(120_000);
  let dir = '';

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'eg-build-atomic-'));
    mkdirSync(join(dir, 'scripts'));
    for (const f of ['build.sh', 'src-stamp.cjs']) copyFileSync(join(ROOT, 'scripts', f), join(dir, 'scripts', f));
    for (const c of ['eg-core', 'eg-wasm']) {
      mkdirSync(join(dir, 'crates', c, 'src'), { recursive: true });
      writeFileSync(join(dir, 'crates', c, 'src', 'lib.rs'), `// ${c}\n`);
      writeFileSync(join(dir, 'crates', c, 'Cargo.toml'), `[package]\nname = "${c}"\n`);
    }
    mkdirSync(join(dir, 'wasm-pkg', 'node'), { recursive: true });
    writeFileSync(join(dir, '.wasm-toolchain'), 'stable\n');
    // build.sh puts $HOME/.cargo/bin first in PATH, so that is where the stand-in goes.
    mkdirSync(join(dir, 'home', '.cargo', 'bin'), { recursive: true });
    writeFileSync(join(dir, 'home', '.cargo', 'bin', 'wasm-pack'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(dir, 'home', '.cargo', 'bin', 'wasm-pack'), 0o755);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a reader polling wasm-pkg/stamp.txt and wasm-pkg/node/package.json during repeated `build.sh wasm` never sees them empty or partial', async () => {
    const stampFile = join(dir, 'wasm-pkg', 'stamp.txt');
    const pkgFile = join(dir, 'wasm-pkg', 'node', 'package.json');
    // A first build, so both files exist before the reader starts.
    const once = () =>
      new Promise<number | null>((resolve) => {
        const c = spawn('bash', [join(dir, 'scripts', 'build.sh'), 'wasm'], { env: { ...process.env, HOME: join(dir, 'home') }, stdio: 'ignore' });
        c.on('close', resolve);
      });
    assert.equal(await once(), 0, 'build.sh wasm (with the wasm-pack stand-in) succeeds');
    const stamp = readFileSync(stampFile, 'utf8');
    assert.match(stamp, /^[0-9a-f]{16}\n$/);
    const pkg = readFileSync(pkgFile, 'utf8');
    assert.deepEqual(JSON.parse(pkg), { type: 'commonjs' });

    const bad: string[] = [];
    let reads = 0;
    const runs = 12;
    const builds = spawn('bash', ['-c', `for i in $(seq ${runs}); do bash "$1" wasm || exit 1; done`, 'loop', join(dir, 'scripts', 'build.sh')], {
      env: { ...process.env, HOME: join(dir, 'home') },
      stdio: 'ignore',
    });
    let done = false;
    const exit = new Promise<number | null>((resolve) => builds.on('close', (code) => ((done = true), resolve(code))));
    while (!done) {
      for (const [f, want] of [[stampFile, stamp], [pkgFile, pkg]] as const) {
        let got: string;
        try {
          got = readFileSync(f, 'utf8');
        } catch (e) {
          got = `(unreadable: ${(e as Error).message})`;
        }
        reads++;
        if (got !== want && bad.length < 5) bad.push(`${f.slice(dir.length + 1)}: ${JSON.stringify(got)}`);
      }
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(await exit, 0, 'the repeated builds succeed');
    assert.ok(reads > 100, `the reader ran during the builds (${reads} reads)`);
    assert.deepEqual(bad, [], `a reader saw a file other than whole (${reads} reads)`);
  });
});
