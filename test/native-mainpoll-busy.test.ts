// Main-thread reads (crates/eg-native/src/mainpoll.rs) under load: a lone datagram after a pause
// hands reading back to the main thread only when nothing waits behind it. On a CPU-starved
// machine a steady flood's sender pauses for a millisecond now and then, and the reader thread's
// next batch is then a lone datagram after a wait; handing reading to the (busy) main thread at
// that moment put every read of the next burst on it, back and forth (UDP 1400 B floods lost a
// third of their rate). Asserts which thread read, not how fast.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ids, nativeIoSuite, records, recordsOf, sleep, spin } from './helpers/native-batches.js';

/** Records of 64-byte datagrams to 127.0.0.1:port with ids from..from+n-1. */
function idRecords(port: number, from: number, n: number): Buffer {
  return records(
    port,
    Array.from({ length: n }, (_, i) => {
      const p = Buffer.alloc(64);
      p.writeUInt32BE(from + i, 0);
      return p;
    }),
  );
}

describe('native I/O: main-thread reads on a busy link', function () {
  this.timeout(20_000);
  const { mod: native, opened } = nativeIoSuite(() => process.env.EG_MAIN_POLL === '0');

  it('a lone datagram after a pause, with more queued behind it, leaves reading on the reader thread', async () => {
    const mod = native();
    const got: number[] = [];
    const io = mod.NativeIo.udp(4, '127.0.0.1', 0, 4 << 20, (kind, data) => {
      if (kind === 0 || kind === 3) got.push(...ids(recordsOf(kind, data)));
    });
    opened.push(io);
    const tx = mod.NativeIo.udp(4, '127.0.0.1', 0, 4 << 20, () => {});
    opened.push(tx);
    // A burst from another process hands reading to the reader thread.
    const burst = 2000;
    const r = spawnSync(process.execPath, ['-e', `
      const s = require('node:dgram').createSocket('udp4');
      let i = 0;
      (function more() {
        for (let k = 0; k < 100 && i < ${burst}; k++, i++) { const c = Buffer.alloc(64); c.writeUInt32BE(i, 0); s.send(c, ${io.port}, '127.0.0.1'); }
        if (i < ${burst}) setImmediate(more); else setTimeout(() => s.close(), 50);
      })();`]);
    assert.equal(r.status, 0, r.stderr.toString());
    let id = burst;
    const until = async (ms: number) => {
      const end = Date.now() + ms;
      while (got.length < id && Date.now() < end) await sleep(5);
    };
    await until(5000);
    assert.ok(io.threadBatches > 0, `the burst went to the reader thread (main ${io.mainBatches}, thread ${io.threadBatches})`);
    const main0 = io.mainBatches;
    for (let episode = 0; episode < 6; episode++) {
      await sleep(5); // the reader waits more than 1 ms
      assert.equal(tx.sendBatch(idRecords(io.port, id, 1), 1), 0);
      id += 1;
      // The reader reads the lone datagram and queues it as an idle batch; this thread is busy
      // (as with a flood to seal) and more datagrams queue behind it before it is taken.
      spin(30);
      assert.equal(tx.sendBatch(idRecords(io.port, id, 20), 20), 0);
      id += 20;
      await until(3000);
    }
    // Before the fix 3 main-thread batches came in every run (a switch, then the next reads on the
    // main thread), after it none. A reader that is mid-read when the idle batch is taken could
    // still let one switch through (and its next read hands reading straight back).
    assert.ok(io.mainBatches - main0 <= 1, `main-thread batches during the episodes: ${io.mainBatches - main0} (thread ${io.threadBatches})`);
    assert.equal(got.length, id, 'nothing lost');
    assert.deepEqual([...got].sort((a, b) => a - b), Array.from({ length: id }, (_, i) => i));
  });
});
