// Lengths at the interface and UDP edges of the data path: what does not fit a 16-bit length
// (a native batch record, a stream prefix) or a UDP datagram is never cut or wrapped to fit; it
// is refused (write() → false) or discarded and reported as a counted 'drop' event / drop.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { openInterface, type L2Interface } from '../ts/itype/index.js';
import { loadNative } from '../ts/native/index.js';
import { Transport } from '../ts/wgnode/transport.js';
import { isRoot, netnsAdd, netnsDel, runIn } from './helpers/netns.js';

const mac = new Uint8Array([0x02, 0, 0, 0, 0, 1]);

async function waitFor(cond: () => boolean, what: () => string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('data-path lengths at the interfaces and the UDP transport', function () {
  this.timeout(30_000);

  it('fd on a seqpacket socket: messages of 65,534/65,535 bytes arrive whole, 65,536/65,537 are counted drops', async function () {
    const n = loadNative();
    if (!n.ok) this.skip();
    const [mine, theirs] = n.mod.unixSocketpair(true);
    const env = { rx: process.env.EG_FD_RX, tx: process.env.EG_FD_TX };
    process.env.EG_FD_RX = process.env.EG_FD_TX = String(theirs);
    let itf: L2Interface | undefined;
    try {
      itf = await openInterface({ IType: 'fd', Name: 'big', mac });
      const got: number[] = [];
      const drops: { reason: string; count: number }[] = [];
      itf.on('drop', (reason, count) => drops.push({ reason, count }));
      itf.start((fs) => got.push(...fs.map((f) => f.length)));
      const sizes = [65_534, 65_535, 65_536, 65_537];
      for (const s of sizes) assert.equal(n.mod.unixSend(mine, randomBytes(s)), 0, `send ${s}`);
      const dropped = () => drops.reduce((a, d) => a + d.count, 0);
      await waitFor(() => got.length + dropped() >= sizes.length, () => `4 outcomes (frames ${got}, drops ${JSON.stringify(drops)})`);
      assert.deepEqual(got, [65_534, 65_535]);
      assert.equal(dropped(), 2);
      assert.ok(drops.every((d) => d.reason === 'message longer than 65535 bytes'), JSON.stringify(drops));
    } finally {
      await itf?.close();
      n.mod.unixClose(mine);
      for (const [k, v] of [['EG_FD_RX', env.rx], ['EG_FD_TX', env.tx]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('udpsock refuses a frame longer than one IPv4 UDP datagram (65,507) instead of failing later', async () => {
    const host = createSocket('udp4');
    await new Promise<void>((r) => host.bind(0, '127.0.0.1', () => r()));
    const got: number[] = [];
    host.on('message', (m) => got.push(m.length));
    const itf = await openInterface({ IType: 'udpsock', Name: 'big', mac, RecvAddr: '127.0.0.1:0', SendAddr: `127.0.0.1:${host.address().port}` });
    const errors: Error[] = [];
    itf.on('error', (e) => errors.push(e));
    try {
      assert.equal(itf.write(randomBytes(65_507)), true);
      assert.equal(itf.write(randomBytes(65_508)), false);
      await waitFor(() => got.length >= 1, () => 'the 65,507-byte datagram');
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(got, [65_507]);
      assert.deepEqual(errors.map((e) => e.message), []);
    } finally {
      await itf.close();
      host.close();
    }
  });

  it('the UDP transport refuses a datagram over the family limit by name; none is wrapped into a 0/16-byte one', async function () {
    if (!loadNative().ok) this.skip();
    const rx = createSocket('udp4');
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
    const got: number[] = [];
    rx.on('message', (m) => got.push(m.length));
    const drops: { reason: string; fields: Record<string, unknown> }[] = [];
    const errors: Error[] = [];
    const t = new Transport({
      port: 0,
      v4: true,
      v6: false,
      listenV4: '127.0.0.1',
      onBatch: () => {},
      onError: (e) => errors.push(e),
      onDrop: (reason, fields) => drops.push({ reason, fields }),
    });
    await t.open();
    try {
      const to = { address: '127.0.0.1', port: rx.address().port, family: 4 as const };
      for (const len of [65_507, 65_508, 65_536, 65_552]) t.send(new Uint8Array(len), to);
      t.flush();
      await waitFor(() => got.length >= 1, () => 'the 65,507-byte datagram');
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(got, [65_507], 'only the datagram that fits is sent, whole');
      assert.deepEqual(
        drops.map((d) => [d.reason, d.fields.len, d.fields.max]),
        [65_508, 65_536, 65_552].map((len) => ['datagram too large', len, 65_507]),
      );
      assert.deepEqual(errors.map((e) => e.message), []);
    } finally {
      t.close();
      rx.close();
    }
  });

  describe('tap (in a network namespace)', function () {
    let ns = '';
    before(function () {
      if (!isRoot() || !loadNative().ok) this.skip();
      ns = netnsAdd('egtapbig');
    });
    after(() => ns && netnsDel(ns));

    it('MTU 65,521: a 65,535-byte frame is read whole, a 65,539-byte VLAN frame is a counted drop, never cut or wrapped', async () => {
      const r = await runIn(ns, process.execPath, ['--import', 'tsx', 'test/fixtures/itype/tap-big.ts']);
      const last = r.stdout.trim().split('\n').pop() ?? '';
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const out = JSON.parse(last) as { frames: number[]; drops: { reason: string; count: number }[] };
      assert.deepEqual(out.frames, [65_535], JSON.stringify(out));
      assert.deepEqual(out.drops, [{ reason: 'frame from the TAP longer than 65535 bytes', count: 1 }]);
    });
  });
});
