// Idle links are read on the main thread (crates/eg-native/src/mainpoll.rs): a lone datagram or
// frame reaches JS without a reader-thread hand-off; a burst hands reading to the reader thread,
// and an idle link takes it back. Nothing is lost across the switches.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { spawnSync } from 'node:child_process';
import type { Native } from '../ts/native/index.js';
import { ids, nativeIoSuite, recordsOf, sleep } from './helpers/native-batches.js';

type Io = InstanceType<Native['NativeIo']>;

describe('native I/O: main-thread reads on an idle link', function () {
  this.timeout(20_000);
  const { mod: native, opened } = nativeIoSuite();

  function open(got: number[]): Io {
    const mod = native();
    const io = mod.NativeIo.udp(4, '127.0.0.1', 0, 4 << 20, (kind, data) => {
      if (kind === 0 || kind === 3) got.push(...ids(recordsOf(kind, data)));
    });
    opened.push(io);
    return io;
  }

  it('lone datagrams are read on the main thread; a burst goes to the reader thread; idle again, back to the main thread; none lost', async () => {
    const got: number[] = [];
    const io = open(got);
    const tx = createSocket('udp4');
    const send = (id: number) =>
      new Promise<void>((r) => {
        const b = Buffer.alloc(64);
        b.writeUInt32BE(id, 0);
        tx.send(b, io.port, '127.0.0.1', () => r());
      });
    let id = 0;
    for (let i = 0; i < 10; i++) {
      await send(id++);
      await sleep(5);
    }
    assert.equal(io.threadBatches, 0, 'no batch of an idle link went through the reader thread');
    assert.equal(io.mainBatches, 10);
    // A burst: many datagrams queued at once (sent from another process so that this event loop
    // does not see them one by one).
    const burst = 3000;
    const r = spawnSync(process.execPath, ['-e', `
      const s = require('node:dgram').createSocket('udp4');
      let i = 0; const b = Buffer.alloc(64);
      (function more() {
        for (let k = 0; k < 100 && i < ${burst}; k++, i++) { const c = Buffer.alloc(64); c.writeUInt32BE(${id} + i, 0); s.send(c, ${io.port}, '127.0.0.1'); }
        if (i < ${burst}) setImmediate(more); else setTimeout(() => s.close(), 50);
      })();`]);
    assert.equal(r.status, 0, r.stderr.toString());
    id += burst;
    const end = Date.now() + 5000;
    while (got.length < id && Date.now() < end) await sleep(10);
    assert.ok(io.threadBatches > 0, `the burst was handed to the reader thread (main ${io.mainBatches}, thread ${io.threadBatches})`);
    const threadAfterBurst = io.threadBatches;
    const mainAfterBurst = io.mainBatches;
    for (let i = 0; i < 10; i++) {
      await send(id++);
      await sleep(5);
    }
    const end2 = Date.now() + 2000;
    while (got.length < id && Date.now() < end2) await sleep(10);
    // The first lone datagrams after the burst may still come through the thread: it hands
    // reading back after a batch that followed a wait of 1 ms (on a loaded machine the tail of the
    // burst can keep its waits shorter for a datagram or two).
    assert.ok(io.threadBatches - threadAfterBurst <= 3, `idle again: at most three more thread batches (${io.threadBatches - threadAfterBurst})`);
    assert.ok(io.mainBatches - mainAfterBurst >= 7, `idle again: read on the main thread (${io.mainBatches - mainAfterBurst})`);
    tx.close();
    // Loopback does not lose datagrams with a 4 MiB buffer: every id arrives exactly once.
    assert.equal(got.length, id, 'nothing lost');
    assert.deepEqual([...got].sort((a, b) => a - b), Array.from({ length: id }, (_, i) => i));
  });

  it('with EG_MAIN_POLL=0 every batch comes from the reader thread', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', `
      import('./ts/native/index.js').then(async ({ native }) => {
        const mod = native();
        let got = 0;
        const io = mod.NativeIo.udp(4, '127.0.0.1', 0, 1 << 20, (k) => { if (k === 0 || k === 3) got++; });
        const s = require('node:dgram').createSocket('udp4');
        for (let i = 0; i < 5; i++) { s.send(Buffer.alloc(8), io.port, '127.0.0.1'); await new Promise((r) => setTimeout(r, 5)); }
        await new Promise((r) => setTimeout(r, 100));
        console.log(JSON.stringify({ got, main: io.mainBatches, thread: io.threadBatches }));
        io.close(); s.close();
      });`], { env: { ...process.env, EG_MAIN_POLL: '0' }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const o = JSON.parse(r.stdout.trim().split('\n').pop()!) as { got: number; main: number; thread: number };
    assert.equal(o.main, 0);
    assert.ok(o.thread >= 1 && o.got === 5, JSON.stringify(o));
  });
});
