// Datagrams reach JS in the order the kernel queued them, also while reading moves between the
// reader thread and the main thread (crates/eg-native/src/mainpoll.rs). A thread → main switch
// used to be decided on the main thread while the reader thread could be in the middle of a read:
// the main thread then read newer datagrams at once and the thread's batch arrived after them
// (an e2e burst saw frame 103 after 146). Asserts order, not timing.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { loadNative, type Native } from '../ts/native/index.js';
import { ids, recordsOf, sleep } from './helpers/native-batches.js';

type Io = InstanceType<Native['NativeIo']>;

describe('native I/O: read order across reader-thread and main-thread reads', function () {
  this.timeout(60_000);
  const n = loadNative();
  const opened: Io[] = [];
  before(function () {
    if (!n.ok || process.env.EG_MAIN_POLL === '0') this.skip();
  });
  after(() => {
    for (const io of opened.splice(0)) io.close();
  });

  it('bursts and pauses of every size, with a main thread that is now and then busy, arrive in order', async () => {
    const mod = (n as { ok: true; mod: Native }).mod;
    const got: number[] = [];
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const io = mod.NativeIo.udp(4, '127.0.0.1', 0, 8 << 20, (kind, data) => {
      if (kind !== 0 && kind !== 3) return;
      got.push(...ids(recordsOf(kind, data)));
      // A busy main thread now and then (a WASM batch, a GC): widens the moment of a switch.
      if (rnd() < 0.3) {
        const end = performance.now() + rnd() * 1.5;
        while (performance.now() < end);
      }
    });
    opened.push(io);
    // CPU contention (more runnable threads than cores): the reader thread is then preempted
    // at any point, also between its read and handing the batch over, as on a loaded host.
    const hogs = Array.from({ length: 4 }, () => spawn(process.execPath, ['-e', 'for (;;);'], { stdio: 'ignore' }));
    after(() => hogs.forEach((h) => h.kill('SIGKILL')));
    const total = 40_000;
    // The sender, another process: bursts of 1..24 datagrams, then pauses of 0..2.5 ms.
    const child = spawn(process.execPath, ['-e', `
      const s = require('node:dgram').createSocket('udp4');
      let i = 0, seed = 777;
      const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
      const spin = (ms) => { const e = performance.now() + ms; while (performance.now() < e); };
      s.connect(${io.port}, '127.0.0.1', () => {
        (function more() {
          const n = 1 + Math.floor(rnd() * 24);
          for (let k = 0; k < n && i < ${total}; k++, i++) { const c = Buffer.alloc(64); c.writeUInt32BE(i, 0); s.send(c); }
          if (i >= ${total}) return setTimeout(() => s.close(), 100);
          spin(rnd() * 2.5);
          setImmediate(more);
        })();
      });`], { stdio: ['ignore', 'ignore', 'inherit'] });
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    const end = Date.now() + 50_000;
    while (got.length < total && Date.now() < end) {
      await sleep(20);
      if (child.exitCode !== null && got.length < total) {
        await sleep(300);
        break;
      }
    }
    assert.equal(await exited, 0);
    hogs.forEach((h) => h.kill('SIGKILL'));
    let outOfOrder = 0;
    let first = '';
    for (let i = 1; i < got.length; i++) {
      if (got[i]! <= got[i - 1]!) {
        outOfOrder++;
        first ||= `#${i}: ${got[i]} after ${got[i - 1]}`;
      }
    }
    assert.ok(got.length >= total * 0.95, `received ${got.length} of ${total}`);
    assert.ok(io.mainBatches > 0 && io.threadBatches > 0, `both readers took part (main ${io.mainBatches}, thread ${io.threadBatches})`);
    assert.equal(outOfOrder, 0, `${outOfOrder} datagrams out of order, first ${first} (main ${io.mainBatches}, thread ${io.threadBatches} batches)`);
  });
});
