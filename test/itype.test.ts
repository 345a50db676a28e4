import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { openInterface, type InterfaceOptions, type L2Interface } from '../ts/itype/index.js';
import { Deframer, encodeFrame } from '../ts/itype/framing.js';
import { loadNative } from '../ts/native/index.js';
import { isRoot, netnsAdd, netnsDel, sh } from './helpers/netns.js';

const MAC_A = new Uint8Array([0xaa, 0xbb, 0xcc, 0xdd, 0x00, 0x01]);
const MAC_B = new Uint8Array([0xaa, 0xbb, 0xcc, 0xdd, 0x00, 0x02]);
const PROBE = Buffer.from('\x02probe-probe-probe');

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

/** Collects copies of every delivered frame except connection probes. */
class Sink {
  frames: Buffer[] = [];
  probes = 0;
  batches = 0;
  constructor(itf: L2Interface) {
    itf.start((fs) => {
      this.batches++;
      for (const f of fs) {
        const b = Buffer.from(f); // copy: views are only valid during the callback
        if (b.equals(PROBE)) this.probes++;
        else this.frames.push(b);
      }
    });
  }
}

async function waitFor(cond: () => boolean, what: string, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Sends probes until each side has heard the other (connections established, peers learnt). */
async function link(a: L2Interface, sa: Sink, b: L2Interface, sb: Sink): Promise<void> {
  const end = Date.now() + 10000;
  while (sa.probes === 0 || sb.probes === 0) {
    if (Date.now() > end) throw new Error(`${a.type} pair never linked (a heard ${sa.probes}, b heard ${sb.probes})`);
    if (sb.probes === 0) a.write(PROBE);
    else if (sa.probes === 0) b.write(PROBE);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function randomFrame(len: number, seq: number): Buffer {
  const f = randomBytes(len);
  f.writeUInt32BE(seq, 12); // a sequence number where the EtherType would be
  f[0] = 0x02; // never equal to a probe's length
  return f;
}

function randomSizes(n: number, min = 60, max = 1514): number[] {
  return Array.from({ length: n }, () => min + Math.floor(Math.random() * (max - min + 1)));
}

async function exchange(a: L2Interface, sa: Sink, b: L2Interface, sb: Sink, n = 40): Promise<void> {
  const toB = randomSizes(n).map(randomFrame);
  const toA = randomSizes(n).map(randomFrame);
  for (let i = 0; i < n; i++) {
    assert.equal(a.write(toB[i]), true, `a.write #${i}`);
    assert.equal(b.write(toA[i]), true, `b.write #${i}`);
    if (i % 8 === 7) await new Promise((r) => setTimeout(r, 5)); // datagram queues are short
  }
  await waitFor(() => sb.frames.length >= n && sa.frames.length >= n, `${n} frames each way (${sa.frames.length}, ${sb.frames.length})`);
  assert.deepEqual(sb.frames.map(hex), toB.map(hex), 'a → b frames intact and in order');
  assert.deepEqual(sa.frames.map(hex), toA.map(hex), 'b → a frames intact and in order');
}

async function burst(from: L2Interface, to: Sink, n = 5000): Promise<void> {
  const frames = randomSizes(n).map(randomFrame);
  let accepted = 0;
  for (const f of frames) if (from.write(f)) accepted++;
  assert.equal(accepted, n, 'the queue absorbs the whole burst');
  await waitFor(() => to.frames.length >= n, `${n} frames (got ${to.frames.length})`, 20000);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(to.frames.length, n, 'no extra (split or merged) frames');
  for (let i = 0; i < n; i++) {
    if (!to.frames[i].equals(frames[i])) {
      assert.fail(`frame #${i}: got ${to.frames[i].length} bytes, expected ${frames[i].length}`);
    }
  }
}

const opts = (o: Partial<InterfaceOptions> & Pick<InterfaceOptions, 'IType'>): InterfaceOptions => ({
  Name: `${o.IType}-test`,
  mac: MAC_A,
  log: process.env.EG_TEST_LOG ? (l, m) => console.error(`[${l}] ${m}`) : undefined,
  ...o,
});

describe('itype', function () {
  let dir = '';
  const open: L2Interface[] = [];
  async function openItf(o: InterfaceOptions): Promise<L2Interface> {
    const i = await openInterface(o);
    open.push(i);
    return i;
  }

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'egitype-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await Promise.all(open.splice(0).map((i) => i.close()));
  });

  describe('itype framing', () => {
    it('reassembles frames split at every byte and merged across chunks', () => {
      const frames = randomSizes(50, 16, 1600).map(randomFrame);
      const stream = Buffer.concat(frames.map(encodeFrame));
      for (const step of [1, 2, 3, 7, 1000, stream.length]) {
        const d = new Deframer();
        const got: Uint8Array[] = [];
        for (let off = 0; off < stream.length; off += step) d.push(stream.subarray(off, off + step), got);
        assert.deepEqual(got.map(hex), frames.map(hex), `chunk size ${step}`);
        assert.equal(d.buffered, 0);
      }
    });
  });

  describe('itype dummy and vpp', () => {
    it('dummy discards writes and never delivers', async () => {
      const d = await openItf(opts({ IType: 'dummy' }));
      const s = new Sink(d);
      assert.equal(d.write(randomFrame(100, 1)), true);
      assert.equal(d.mtu(), 1500);
      assert.equal(d.type, 'dummy');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(s.batches, 0);
    });

    it('vpp opens without a memif server and refuses writes until one connects', async function () {
      if (!loadNative().ok) this.skip();
      // The memif client itself is tested against a real server in test/itype-vpp.test.ts.
      const before = process.env.VPP_MEMIF_SOCKET_DIR;
      process.env.VPP_MEMIF_SOCKET_DIR = join(dir, 'memif');
      try {
        const v = await openItf(opts({ IType: 'vpp' }));
        assert.equal(v.type, 'vpp');
        assert.equal(v.mtu(), 1404);
        assert.equal(v.write(randomFrame(100, 1)), false);
      } finally {
        if (before === undefined) delete process.env.VPP_MEMIF_SOCKET_DIR;
        else process.env.VPP_MEMIF_SOCKET_DIR = before;
      }
    });
  });

  describe('itype stdio', () => {
    function stdio(mode: 'nochg' | 'kbdbg' | 'noL2') {
      const stdin = new PassThrough();
      const stdout = new PassThrough();
      const written: Buffer[] = [];
      stdout.on('data', (c: Buffer) => written.push(c));
      return { stdin, stdout, written, o: opts({ IType: 'stdio', L2HeaderMode: mode, stdin, stdout, mac: MAC_A }) };
    }

    it('kbdbg parses typed lines into frames and formats frames back', async () => {
      const t = stdio('kbdbg');
      const itf = await openItf(t.o);
      const s = new Sink(itf);
      t.stdin.write('b1message\n');
      t.stdin.write('32hel'); // a line split over two reads
      t.stdin.write('lo\nx1ignored\n1'); // an invalid line, and an unfinished one
      await waitFor(() => s.frames.length >= 2, 'two kbdbg frames');
      const [f1, f2] = s.frames;
      assert.equal(f1.subarray(0, 6).toString('hex'), 'ffffffffffff');
      assert.equal(f1.subarray(6, 12).toString('hex'), 'aabbccddee01');
      assert.equal(f1.subarray(12).toString(), 'message\n');
      assert.equal(f2.subarray(0, 6).toString('hex'), 'aabbccddee03');
      assert.equal(f2.subarray(6, 12).toString('hex'), 'aabbccddee02');
      assert.equal(f2.subarray(12).toString(), 'hello\n');
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(s.frames.length, 2, 'the invalid and unfinished lines make no frame');

      assert.equal(itf.write(f1), true);
      assert.equal(itf.write(f2), true);
      const frame = Buffer.concat([Buffer.from('aabbccddee07', 'hex'), Buffer.from('ffffffffffff', 'hex'), Buffer.from('no newline')]);
      assert.equal(itf.write(frame), true);
      await waitFor(() => Buffer.concat(t.written).toString().split('\n').length >= 4, 'three lines');
      assert.equal(Buffer.concat(t.written).toString(), 'b1message\n32hello\n7bno newline\n');
    });

    it('nochg reads and writes u16-length-prefixed raw frames', async () => {
      const t = stdio('nochg');
      const itf = await openItf(t.o);
      const s = new Sink(itf);
      const frames = [randomFrame(60, 1), randomFrame(1514, 2), randomFrame(300, 3)];
      const bytes = Buffer.concat(frames.map(encodeFrame));
      t.stdin.write(bytes.subarray(0, 1));
      t.stdin.write(bytes.subarray(1, 100));
      t.stdin.write(bytes.subarray(100));
      await waitFor(() => s.frames.length >= 3, 'three frames');
      assert.deepEqual(s.frames.map(hex), frames.map(hex));
      assert.equal(itf.write(frames[1]), true);
      await waitFor(() => Buffer.concat(t.written).length >= 1516, 'one framed write');
      const w = Buffer.concat(t.written);
      assert.equal(w.readUInt16BE(0), 1514);
      assert.equal(w.length, 1516);
      assert.ok(w.subarray(2).equals(frames[1]));
    });

    it('noL2 turns payload lines into broadcast frames from our MAC and strips MACs on output', async () => {
      const t = stdio('noL2');
      const itf = await openItf(t.o);
      const s = new Sink(itf);
      t.stdin.write('hello world\n');
      await waitFor(() => s.frames.length >= 1, 'a frame');
      const f = s.frames[0];
      assert.equal(f.subarray(0, 6).toString('hex'), 'ffffffffffff');
      assert.equal(f.subarray(6, 12).toString('hex'), hex(MAC_A));
      assert.equal(f.subarray(12).toString(), 'hello world\n');
      const frame = Buffer.concat([Buffer.from(MAC_A), Buffer.from(MAC_B), Buffer.from('payload only\n')]);
      assert.equal(itf.write(frame), true);
      await waitFor(() => t.written.length > 0, 'output');
      assert.equal(Buffer.concat(t.written).toString(), 'payload only\n');
    });

    it('close detaches from stdin', async () => {
      const t = stdio('kbdbg');
      const itf = await openItf(t.o);
      const s = new Sink(itf);
      await itf.close();
      await itf.close();
      t.stdin.write('b1late\n');
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(s.frames.length, 0);
      assert.equal(t.stdin.listenerCount('data'), 0);
      assert.equal(itf.write(randomFrame(60, 1)), false);
    });
  });

  describe('itype udpsock', () => {
    it('carries frames both ways; the server replies to the last sender', async () => {
      const srv = await openItf(opts({ IType: 'udpsock', RecvAddr: '127.0.0.1:0' }));
      const port = (srv as unknown as { address(): { port: number } }).address().port;
      assert.ok(port > 0);
      const ss = new Sink(srv);
      assert.equal(srv.write(randomFrame(60, 0)), false, 'no peer known yet: dropped');
      const cli = await openItf(opts({ IType: 'udpsock', SendAddr: `127.0.0.1:${port}`, mac: MAC_B }));
      const cs = new Sink(cli);
      await link(cli, cs, srv, ss);
      await exchange(srv, ss, cli, cs);
      assert.equal(srv.mtu(), 1500);
    });
  });

  for (const type of ['tcpsock', 'unixsock'] as const) {
    describe(`itype ${type}`, () => {
      const addr = (name: string) => (type === 'tcpsock' ? '127.0.0.1:0' : join(dir, `${name}.sock`));
      async function pair(name: string): Promise<{ srv: L2Interface; cli: L2Interface; ss: Sink; cs: Sink; recv: string }> {
        const srv = await openItf(opts({ IType: type, RecvAddr: addr(name) }));
        const recv =
          type === 'tcpsock' ? `127.0.0.1:${(srv as unknown as { address(): { port: number } }).address().port}` : addr(name);
        const cli = await openItf(opts({ IType: type, SendAddr: recv, mac: MAC_B }));
        const ss = new Sink(srv);
        const cs = new Sink(cli);
        await link(cli, cs, srv, ss);
        return { srv, cli, ss, cs, recv };
      }

      it('carries frames both ways', async () => {
        const p = await pair('both');
        await exchange(p.srv, p.ss, p.cli, p.cs);
      });

      it('keeps frame boundaries in a 5000-frame burst, each direction', async () => {
        const p = await pair('burst');
        await burst(p.cli, p.ss);
        await burst(p.srv, p.cs);
      });

      it('the newest connection replaces the old one', async () => {
        const p = await pair('newest');
        const cli2 = await openItf(opts({ IType: type, SendAddr: p.recv }));
        const cs2 = new Sink(cli2);
        await link(cli2, cs2, p.srv, p.ss);
        const f = randomFrame(100, 7);
        assert.equal(p.srv.write(f), true);
        await waitFor(() => cs2.frames.length === 1, 'frame on the new connection');
        assert.ok(cs2.frames[0].equals(f));
        assert.equal(p.cs.frames.length, 0, 'the old connection got nothing');
        await cli2.close();
      });

      it('a client started before its server connects when the server appears', async () => {
        let recv = addr('late');
        if (type === 'tcpsock') {
          // find a free port, then release it
          const tmp = await openInterface(opts({ IType: type, RecvAddr: '127.0.0.1:0' }));
          recv = `127.0.0.1:${(tmp as unknown as { address(): { port: number } }).address().port}`;
          await tmp.close();
        }
        const cli = await openItf(opts({ IType: type, SendAddr: recv, mac: MAC_B }));
        const cs = new Sink(cli);
        assert.equal(cli.write(randomFrame(60, 1)), false, 'not connected: dropped, no throw');
        await new Promise((r) => setTimeout(r, 300)); // a few failed attempts
        const srv = await openItf(opts({ IType: type, RecvAddr: recv }));
        const ss = new Sink(srv);
        await link(cli, cs, srv, ss);
        await exchange(srv, ss, cli, cs, 5);
      });

      if (type === 'unixsock') {
        it('unlinks its socket file on close, and replaces a stale one on open', async () => {
          const path = addr('stale');
          const first = await openInterface(opts({ IType: type, RecvAddr: path }));
          assert.ok(existsSync(path));
          // Simulate a crash: the file stays behind while nothing listens.
          const p2 = join(dir, 'stale2.sock');
          const srv = await openInterface(opts({ IType: type, RecvAddr: p2 }));
          await first.close();
          assert.equal(existsSync(path), false, 'socket file removed on close');
          await srv.close();
          assert.equal(existsSync(p2), false);
          writeFileSync(join(dir, 'notasocket'), 'x');
          await assert.rejects(openInterface(opts({ IType: type, RecvAddr: join(dir, 'notasocket') })), /EADDRINUSE/);
        });
      }
    });
  }

  describe('itype unix message sockets (native)', function () {
    before(function () {
      if (!loadNative().ok) this.skip();
    });

    it('unixgramsock: both ways, server replies to the last sender; close unlinks', async () => {
      const path = join(dir, 'gram.sock');
      writeFileSync(join(dir, 'keep'), '');
      const srv = await openItf(opts({ IType: 'unixgramsock', RecvAddr: path }));
      assert.ok(existsSync(path));
      const ss = new Sink(srv);
      assert.equal(srv.write(randomFrame(60, 0)), false, 'no sender yet: dropped');
      const cli = await openItf(opts({ IType: 'unixgramsock', SendAddr: path, mac: MAC_B }));
      const cs = new Sink(cli);
      await link(cli, cs, srv, ss);
      await exchange(srv, ss, cli, cs);
      await srv.close();
      assert.equal(existsSync(path), false, 'socket file unlinked');
      assert.equal(cli.write(randomFrame(60, 1)), false, 'peer gone: dropped, no throw');
    });

    it('unixgramsock: a stale socket file is replaced; both sides bound with RecvAddr and SendAddr', async () => {
      const a = join(dir, 'ga.sock');
      const b = join(dir, 'gb.sock');
      const stale = await openInterface(opts({ IType: 'unixgramsock', RecvAddr: a }));
      (stale as unknown as { createdPath: undefined }).createdPath = undefined; // "crash": leave the file
      await stale.close();
      assert.ok(existsSync(a));
      const ia = await openItf(opts({ IType: 'unixgramsock', RecvAddr: a, SendAddr: b }));
      const ib = await openItf(opts({ IType: 'unixgramsock', RecvAddr: b, SendAddr: a }));
      const sa = new Sink(ia);
      const sb = new Sink(ib);
      await link(ia, sa, ib, sb);
      await exchange(ia, sa, ib, sb);
    });

    it('unixpacketsock: both ways with boundaries, newest connection wins, reconnect, close unlinks', async () => {
      const path = join(dir, 'packet.sock');
      const cli = await openItf(opts({ IType: 'unixpacketsock', SendAddr: path, mac: MAC_B }));
      const cs = new Sink(cli);
      await new Promise((r) => setTimeout(r, 250)); // the client retries while there is no server
      const srv = await openItf(opts({ IType: 'unixpacketsock', RecvAddr: path }));
      const ss = new Sink(srv);
      await link(cli, cs, srv, ss);
      await exchange(srv, ss, cli, cs, 100);

      const cli2 = await openItf(opts({ IType: 'unixpacketsock', SendAddr: path }));
      const cs2 = new Sink(cli2);
      await link(cli2, cs2, srv, ss);
      const f = randomFrame(1514, 9);
      // Only the new connection receives from now on (the old client is hung up on and retries,
      // and may in turn replace cli2, so check the first frame right away).
      assert.equal(srv.write(f), true);
      await waitFor(() => cs2.frames.length >= 1, 'frame on the newest connection');
      assert.ok(cs2.frames[0].equals(f));
      assert.equal(cs.frames.length, 100, 'old client got nothing new');

      await cli2.close();
      await cli.close();
      const t0 = Date.now();
      await srv.close();
      assert.ok(Date.now() - t0 < 1000, 'close returns within a read timeout');
      assert.equal(existsSync(path), false);
    });
  });

  describe('itype fd', function () {
    const envBackup = { rx: process.env.EG_FD_RX, tx: process.env.EG_FD_TX };
    afterEach(() => {
      for (const [k, v] of [
        ['EG_FD_RX', envBackup.rx],
        ['EG_FD_TX', envBackup.tx],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });
    async function openFd(rx: number, tx: number, mac: Uint8Array): Promise<L2Interface> {
      process.env.EG_FD_RX = String(rx);
      process.env.EG_FD_TX = String(tx);
      return openItf(opts({ IType: 'fd', mac }));
    }

    it('rejects without EG_FD_RX / EG_FD_TX', async () => {
      delete process.env.EG_FD_RX;
      await assert.rejects(openInterface(opts({ IType: 'fd' })), /EG_FD_RX/);
    });

    it('FIFOs (streams): length-prefixed frames both ways, boundaries kept in a 5000-frame burst', async () => {
      const f1 = join(dir, 'fifo1');
      const f2 = join(dir, 'fifo2');
      execFileSync('mkfifo', [f1, f2]);
      // O_RDWR on a FIFO never blocks on Linux.
      const a = await openFd(openSync(f1, 'r+'), openSync(f2, 'r+'), MAC_A);
      const b = await openFd(openSync(f2, 'r+'), openSync(f1, 'r+'), MAC_B);
      const sa = new Sink(a);
      const sb = new Sink(b);
      await exchange(a, sa, b, sb);
      sa.frames = [];
      sb.frames = [];
      await burst(a, sb);
      await burst(b, sa);
      assert.equal(a.mtu(), 1500);
    });

    it('a seqpacket socketpair: one message = one frame', async function () {
      const n = loadNative();
      if (!n.ok) this.skip();
      const [x, y] = n.mod.unixSocketpair(true);
      const a = await openFd(x, x, MAC_A);
      const b = await openFd(y, y, MAC_B);
      const sa = new Sink(a);
      const sb = new Sink(b);
      await exchange(a, sa, b, sb, 100);
    });

    it('a child process speaks the framing on its stdin/stdout', async () => {
      // The child echoes every frame it reads on EG_FD_RX back on EG_FD_TX, reversed.
      const script = `
        const { openInterface } = await import(${JSON.stringify(new URL('../ts/itype/index.js', import.meta.url).href)});
        const itf = await openInterface({ IType: 'fd', Name: 'child', mac: new Uint8Array(6) });
        itf.start((fs) => { for (const f of fs) itf.write(Uint8Array.from(f).reverse()); });
      `;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        env: { ...process.env, EG_FD_RX: '0', EG_FD_TX: '1' },
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      try {
        const d = new Deframer();
        const got: Buffer[] = [];
        child.stdout!.on('data', (c: Buffer) => {
          const fs: Uint8Array[] = [];
          d.push(c, fs);
          for (const f of fs) got.push(Buffer.from(f));
        });
        const frames = randomSizes(200).map(randomFrame);
        child.stdin!.write(Buffer.concat(frames.map(encodeFrame)));
        await waitFor(() => got.length >= 200, `200 echoed frames (got ${got.length})`, 15000);
        assert.deepEqual(
          got.map(hex),
          frames.map((f) => hex(Buffer.from(f).reverse())),
        );
      } finally {
        child.kill('SIGKILL');
      }
    });
  });

  describe('itype tap (in a network namespace)', function () {
    let ns = '';
    before(function () {
      if (!isRoot() || !loadNative().ok) this.skip();
      ns = netnsAdd('egitap');
    });
    after(() => ns && netnsDel(ns));

    it('a TAP device already held by another process is refused with a hint, not a bare EBUSY', async () => {
      // Two opens in one process stand for two edges in one namespace (TUNSETIFF gives EBUSY).
      const name = `egbusy${process.pid % 100000}`;
      const first = await openInterface(opts({ IType: 'tap', Name: name }));
      try {
        await assert.rejects(openInterface(opts({ IType: 'tap', Name: name })), new RegExp(`tap ${name}: the device is in use by another process \\(is an edge with Interface.Name ${name} already running`));
      } finally {
        await first.close();
      }
    });

    it('configures addresses and MTU, answers ARP through the API, reports MTU/down, close removes the device', async () => {
      const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', 'test/fixtures/itype/tap-ns.ts'], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const events: Record<string, unknown>[] = [];
      createInterface({ input: child.stdout! }).on('line', (l) => events.push(JSON.parse(l) as Record<string, unknown>));
      const ev = async (name: string) => {
        await waitFor(() => events.some((e) => e.event === name || e.event === 'error'), `event ${name}; stderr: ${stderr}`, 15000);
        const err = events.find((e) => e.event === 'error');
        if (err) assert.fail(`fixture error: ${String(err.message)}; stderr: ${stderr}`);
        return events.find((e) => e.event === name)!;
      };
      try {
        assert.equal((await ev('wrote')).ok, true);
        const arp = await ev('arp');
        assert.deepEqual(arp, {
          event: 'arp',
          type: 'tap',
          name: 'egit0',
          mtu: 1404,
          dst: '02ee00000002',
          senderMac: '02ee00000001',
          senderIp: '10.98.0.1',
          targetIp: '10.98.0.2',
        });

        const addrs = sh('ip', ['-n', ns, 'addr', 'show', 'dev', 'egit0']);
        assert.match(addrs, /mtu 1404/);
        assert.match(addrs, /link\/ether 02:ee:00:00:00:01/);
        assert.match(addrs, /inet 10\.98\.0\.1\/24/);
        assert.match(addrs, /inet6 fd00:98::1\/64/);
        assert.match(addrs, /inet6 fe80::98:1\/64 scope link/);
        const ll = addrs.match(/inet6 fe80:[^ ]+/g) ?? [];
        assert.deepEqual(ll, ['inet6 fe80::98:1/64'], "the kernel's own link-local was flushed");

        sh('ip', ['-n', ns, 'link', 'set', 'dev', 'egit0', 'mtu', '1280']);
        assert.deepEqual(await ev('mtu'), { event: 'mtu', mtu: 1280, now: 1280 });
        sh('ip', ['-n', ns, 'link', 'set', 'dev', 'egit0', 'down']);
        await ev('down');
        sh('ip', ['-n', ns, 'link', 'set', 'dev', 'egit0', 'up']);
        await ev('up');

        child.stdin!.write('close\n');
        const closed = await ev('closed');
        assert.equal(closed.writeAfterClose, false);
        assert.ok((closed.ms as number) < 1000, `close took ${String(closed.ms)} ms`);
        assert.doesNotMatch(sh('ip', ['-n', ns, 'link', 'show']), /egit0/, 'device removed');
      } finally {
        child.kill('SIGKILL');
      }
    });
  });
});
