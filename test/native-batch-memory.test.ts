// Memory of the native batch path (crates/eg-native/src/io.rs, mainpoll.rs): batches lent to JS
// (borrowBatches) are views of a few reused native buffers, revoked after their callback, instead
// of one new allocation per batch that lives until the GC finds it; and a UDP_GRO flood arrives in
// batches of bounded size (one recvmmsg of coalesced datagrams could otherwise make a 2 MiB batch,
// and the WASM staging and TAP areas, which never shrink, as large).
import assert from 'node:assert/strict';
import { datagrams, nativeIoSuite, records, recordsOf, until } from './helpers/native-batches.js';

/** Payloads of the records of a batch (copied). */
const payloads = (b: Buffer): Buffer[] => datagrams(b).map((d) => d.payload);

function payload(i: number, len: number): Buffer {
  const b = Buffer.alloc(len, i & 0xff);
  b.writeUInt32BE(i, 0);
  return b;
}

describe('native batches: lent buffers and bounded GRO batches', function () {
  this.timeout(15000);
  const { mod, opened } = nativeIoSuite();

  it('a lent batch is readable during its callback and empty afterwards (or a copy that never changes); many batches reuse the same native buffers', async () => {
    const kept: Buffer[] = [];
    const seen: Buffer[] = [];
    const got: Buffer[] = [];
    const rx = mod().NativeIo.udp(4, '127.0.0.1', 0, 1 << 20, (kind, data) => {
      if (kind !== 0 && kind !== 3) return;
      kept.push(data);
      seen.push(Buffer.from(data));
      got.push(...payloads(recordsOf(kind, data)));
    });
    opened.push(rx);
    rx.borrowBatches(true);
    const tx = mod().NativeIo.udp(4, '127.0.0.1', 0, 1 << 20, () => {});
    opened.push(tx);
    const sent: Buffer[] = [];
    for (let round = 0; round < 20; round++) {
      const batch = Array.from({ length: 5 }, (_, i) => payload(round * 5 + i, 300));
      sent.push(...batch);
      assert.equal(tx.sendBatch(records(rx.port, batch), batch.length), 0, tx.lastSendError());
      // Each round is read on its own (a batch per round, on the main thread or the reader's).
      await until(() => got.length >= sent.length, 3000);
    }
    // Contents as sent (read during the callback, so never a refilled buffer). The order may
    // differ once where reading moves between the reader thread and the main thread (mainpoll).
    const id = (b: Buffer) => b.readUInt32BE(0);
    assert.deepEqual(got.map(id).sort((x, y) => x - y), sent.map(id), 'every datagram once');
    const byId = new Map(got.map((b) => [id(b), b]));
    assert.ok(sent.every((s) => byId.get(id(s))!.equals(s)), 'contents as sent');
    assert.ok(kept.length >= 2, `${kept.length} batches`);
    // Lent: the reader thread's batches; small main-thread batches come as copies.
    assert.ok(rx.lentBatches >= 1 && rx.lentBatches <= kept.length, `${rx.lentBatches} batches lent of ${kept.length}`);
    // Every lent batch but the newest was revoked once its callback returned: JS cannot keep the
    // memory alive nor see it refilled (the newest is revoked when the next one is lent). A copy
    // stays as it was.
    const stale = kept.slice(0, -1).filter((b, i) => b.length !== 0 && !b.equals(seen[i]));
    assert.equal(stale.length, 0, `${stale.length} batch(es) refilled after their callback`);
    assert.ok(kept.slice(0, -1).filter((b) => b.length === 0).length >= rx.lentBatches - 1, 'the lent batches were revoked');
  });

  it('a lone small datagram read on the main thread (an idle link) comes as a copy that stays valid, not a lent view', async () => {
    // Revoking a lent view frees an external backing store, which Node finishes in a threadsafe
    // immediate: an eventfd write and an extra event-loop iteration after every lone packet.
    const kept: Buffer[] = [];
    const rx = mod().NativeIo.udp(4, '127.0.0.1', 0, 1 << 20, (kind, data) => {
      if (kind === 0 || kind === 3) kept.push(data);
    });
    opened.push(rx);
    rx.borrowBatches(true);
    const tx = mod().NativeIo.udp(4, '127.0.0.1', 0, 1 << 20, () => {});
    opened.push(tx);
    for (let i = 0; i < 5; i++) {
      assert.equal(tx.sendBatch(records(rx.port, [payload(i, 200)]), 1), 0);
      await until(() => kept.length > i, 3000);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(rx.mainBatches >= 3, `read on the main thread: ${rx.mainBatches} of ${kept.length}`);
    assert.deepEqual(kept.flatMap(payloads).map((p) => p.readUInt32BE(0)), [0, 1, 2, 3, 4], 'each batch still holds its datagram');
    assert.ok(rx.lentBatches <= kept.length - rx.mainBatches, `lent ${rx.lentBatches}, main-thread ${rx.mainBatches}`);
  });

  it('batches handed over (the default) stay valid after the callback', async () => {
    const kept: Buffer[] = [];
    const rx = mod().NativeIo.udp(4, '127.0.0.1', 0, 1 << 20, (kind, data) => {
      if (kind === 0 || kind === 3) kept.push(data);
    });
    opened.push(rx);
    const tx = mod().NativeIo.udp(4, '127.0.0.1', 0, 1 << 20, () => {});
    opened.push(tx);
    for (let i = 0; i < 5; i++) {
      assert.equal(tx.sendBatch(records(rx.port, [payload(i, 200)]), 1), 0);
      await until(() => kept.length > i, 3000);
    }
    assert.deepEqual(kept.flatMap(payloads).map((p) => p.readUInt32BE(0)), [0, 1, 2, 3, 4]);
    assert.equal(rx.lentBatches, 0);
  });

  it('a UDP_GRO flood queued at once arrives complete in batches of at most about 256 KiB', async () => {
    const sizes: number[] = [];
    let count = 0;
    const rx = mod().NativeIo.udp(4, '127.0.0.1', 0, 8 << 20, (kind, data) => {
      if (kind !== 0 && kind !== 3) return;
      sizes.push(data.length);
      count += payloads(recordsOf(kind, data)).length;
    }, { gro: true });
    opened.push(rx);
    const tx = mod().NativeIo.udp(4, '127.0.0.1', 0, 8 << 20, () => {}, { gso: true });
    opened.push(tx);
    assert.equal(rx.udpGro, true, rx.takeOffloadNote());
    assert.equal(tx.udpGso, true, tx.takeOffloadNote());
    // 16 GSO messages of 45 x 1400 bytes, sent while this thread does not read: an idle socket is
    // read by the main thread, so they wait in the kernel queue, coalesced, until the loop runs.
    const per = 45;
    let total = 0;
    for (let m = 0; m < 16; m++) {
      const batch = Array.from({ length: per }, (_, i) => payload(m * per + i, 1400));
      assert.equal(tx.sendBatch(records(rx.port, batch), per), 0, tx.lastSendError());
      total += per;
    }
    await until(() => count >= total, 5000);
    assert.equal(count, total, 'every datagram arrived');
    // A batch stops growing at 256 KiB; the last read may add one coalesced message (64 KiB of
    // datagrams, each with its 20-byte record header) and the receive stamps (8 bytes each).
    const bound = (256 << 10) + (64 << 10) + per * (20 + 8) + 4;
    const max = Math.max(...sizes);
    assert.ok(max <= bound, `largest batch ${max} bytes (bound ${bound}); sizes ${sizes.join(' ')}`);
  });
});
