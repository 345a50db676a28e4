// Signal handling shared by `-mode edge` and `-mode super` (ts/cli/lifecycle.ts), in a child
// process so that real signals go through libuv's signal pipe.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const LIFECYCLE = join(import.meta.dirname, '..', 'ts', 'cli', 'lifecycle.ts');

/** Runs `body` (an ES module body with holdSignals/untilSignal imported) and returns its exit code and output. */
function run(body: string, timeoutMs = 10_000): Promise<{ code: number | null | 'timeout'; out: string }> {
  const src = `import { holdSignals, untilSignal } from ${JSON.stringify(LIFECYCLE)};\n${body}`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', src], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: 'timeout', out });
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

// Keeps the loop alive the way a running edge does, and busy-waits synchronously so a signal
// lands while start-up code (after the "up" line, before untilSignal) still runs.
const PRELUDE = `
const keep = setInterval(() => {}, 1000);
const busy = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
const log = { info: (m) => console.log(m), error: (m) => console.log('error: ' + m) };
`;

describe('lifecycle: SIGINT/SIGTERM during start-up and run', function () {
  this.timeout(30_000);

  it('a SIGTERM that arrives in the same tick as the switch to untilSignal stops cleanly (it was lost: CI edge -example hang)', async () => {
    const r = await run(`${PRELUDE}
holdSignals();
process.kill(process.pid, 'SIGTERM');
busy(50);
const code = await untilSignal(async () => { clearInterval(keep); console.log('stopped'); }, log);
console.log('code ' + code);
process.exit(code);`);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SIGTERM: stopping\nstopped\ncode 0/);
  });

  it('a signal during start-up is kept and handled once untilSignal runs', async () => {
    const r = await run(`${PRELUDE}
holdSignals();
process.kill(process.pid, 'SIGINT');
await new Promise((r) => setTimeout(r, 100));
console.log('still starting');
const code = await untilSignal(async () => { clearInterval(keep); console.log('stopped'); }, log);
process.exit(code);`);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /still starting\nSIGINT: stopping\nstopped/);
  });

  it('a second signal during start-up exits at once with 128+signal', async () => {
    const r = await run(`${PRELUDE}
holdSignals();
process.kill(process.pid, 'SIGTERM');
await new Promise((r) => setTimeout(r, 100));
process.kill(process.pid, 'SIGTERM');
await new Promise((r) => setTimeout(r, 5000));
console.log('not reached');`);
    assert.equal(r.code, 143, r.out);
    assert.doesNotMatch(r.out, /not reached/);
  });

  it('a second signal while stop hangs exits at once (130 for SIGINT); a failed stop gives 1', async () => {
    const hang = await run(`${PRELUDE}
holdSignals();
setTimeout(() => process.kill(process.pid, 'SIGTERM'), 50);
setTimeout(() => process.kill(process.pid, 'SIGINT'), 300);
await untilSignal(() => new Promise(() => {}), log);
console.log('not reached');`);
    assert.equal(hang.code, 130, hang.out);
    assert.match(hang.out, /SIGTERM: stopping/);
    const failed = await run(`${PRELUDE}
holdSignals();
setTimeout(() => process.kill(process.pid, 'SIGTERM'), 50);
const code = await untilSignal(async () => { clearInterval(keep); throw new Error('disk on fire'); }, log);
process.exit(code);`);
    assert.equal(failed.code, 1, failed.out);
    assert.match(failed.out, /error: stop failed: disk on fire/);
  });
});
