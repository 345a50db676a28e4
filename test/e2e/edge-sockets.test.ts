// Two real edge processes on loopback (no TAP, no root, -no-uapi), node 1 and node 2 with the
// table {1:{2:2},2:{1:1}}, for every socket interface type. The test plays the "local host" of
// each edge: it talks to the edge's interface socket as docs/interfaces.md describes (RecvAddr /
// SendAddr roles, the u16 length prefix on byte streams, one message = one frame on datagram
// and seqpacket sockets) and checks that Ethernet frames cross the mesh byte-identical in both
// directions, that MAC learning turns broadcasts into unicasts (dst=2 in the sender's log, not
// 65535), and that a 2000-frame burst arrives intact and in order.
//
// Burst rule: the edges talk WireGuard over loopback UDP, which may drop under a burst, and the
// unixgramsock receive queue is only net.unix.max_dgram_qlen (often 10) messages deep. So the
// burst is paced in chunks (the next chunk goes once the previous one arrived or stalled), and the
// test asserts: every received frame is byte-identical to the frame sent with that sequence
// number (never truncated, merged or corrupted), sequence numbers strictly increase (in order, no
// duplicates), and at least 99% arrive. In practice all 2000 arrive with chunks of 50 (8 for
// unixgramsock). Measured without pacing (chunks of 200): 5-10% of the frames are lost, all of
// them counted as UdpRcvbufErrors in /proc/net/snmp, i.e. the receiving edge's WireGuard UDP
// socket overflows its default receive buffer (the transport does not raise SO_RCVBUF).
import assert from 'node:assert/strict';
import { ChildProcess, spawn, StdioOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, Socket as UdpSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { buildConfigs } from '../helpers/mesh.js';
import { loadNative, type Native } from '../../ts/native/index.js';
import { ROOT } from '../../ts/paths.js';
import { freePort } from '../helpers/ports.js';
import { Unframer } from '../helpers/unframer.js';

// ---- processes --------------------------------------------------------------------------------

interface EdgeProc {
  child: ChildProcess;
  /** Log lines (stderr; stdout too unless it is the interface). */
  out: string[];
  exited: Promise<number | null>;
}

function lineCollector(out: string[]): (d: Buffer) => void {
  let partial = '';
  return (d) => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    out.push(...lines);
  };
}

/** Like startEdge, but with control over stdio (stdio interface, inherited fds 3/4). */
function spawnEdge(config: string, o: { stdio?: StdioOptions; env?: Record<string, string>; stdoutIsIface?: boolean } = {}): EdgeProc {
  const argv = [join(ROOT, 'dist/main.js'), 'edge', '-config', config, '-json', '-no-uapi'];
  const child = spawn(process.execPath, argv, { stdio: o.stdio ?? ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } });
  const out: string[] = [];
  const collect = lineCollector(out);
  if (!o.stdoutIsIface) child.stdout?.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  return { child, out, exited };
}

async function stopEdges(procs: EdgeProc[]): Promise<void> {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  const all = Promise.all(procs.map((p) => p.exited));
  await Promise.race([all, new Promise((r) => setTimeout(r, 3000))]);
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.race([all, new Promise((r) => setTimeout(r, 1000))]);
}

function logs(p: EdgeProc): Record<string, unknown>[] {
  const r: Record<string, unknown>[] = [];
  for (const l of p.out) {
    try {
      r.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      /* not a log line */
    }
  }
  return r;
}

async function waitFor(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- framing (written independently of ts/itype/framing.ts on purpose) -----------------------

function framed(f: Buffer): Buffer {
  const b = Buffer.alloc(2 + f.length);
  b.writeUInt16BE(f.length, 0);
  f.copy(b, 2);
  return b;
}


/** The native addon's batch layout: u16 BE length + message, back to back. */
function splitNative(b: Buffer, out: Buffer[]): void {
  let off = 0;
  while (off + 2 <= b.length) {
    const len = b.readUInt16BE(off);
    out.push(Buffer.from(b.subarray(off + 2, off + 2 + len)));
    off += 2 + len;
  }
}

// ---- the test's side of each interface ---------------------------------------------------------

interface Host {
  /** Frames received from the edge (copies), in arrival order. */
  frames: Buffer[];
  /** True once frames can flow both ways (connection accepted, etc.). */
  ready(): boolean;
  send(f: Buffer): Promise<void>;
  close(): Promise<void>;
}

function streamHost(rx: Readable, tx: Writable | undefined, onClose: () => void = () => {}): Host & { setTx(w: Writable): void } {
  const frames: Buffer[] = [];
  const u = new Unframer();
  rx.on('data', (d: Buffer) => u.push(d, frames));
  rx.on('error', () => {});
  let w = tx;
  w?.on('error', () => {});
  return {
    frames,
    ready: () => w !== undefined,
    setTx(x) {
      w = x;
      w.on('error', () => {});
    },
    async send(f) {
      if (!w) throw new Error('not connected');
      if (!w.write(framed(f))) await new Promise((r) => w!.once('drain', r));
    },
    async close() {
      onClose();
    },
  };
}

/** A stream server the edge connects to (edge with SendAddr). */
async function streamServerHost(listen: { port: number; host: string } | { path: string }): Promise<Host> {
  const frames: Buffer[] = [];
  let conn: Socket | undefined;
  const srv: Server = createServer((s) => {
    conn?.destroy();
    conn = s;
    const u = new Unframer();
    s.on('data', (d: Buffer) => u.push(d, frames));
    s.on('error', () => {});
  });
  await new Promise<void>((r, j) => {
    srv.once('error', j);
    if ('path' in listen) srv.listen(listen.path, () => r());
    else srv.listen(listen.port, listen.host, () => r());
  });
  return {
    frames,
    ready: () => conn !== undefined && !conn.destroyed,
    async send(f) {
      if (!conn!.write(framed(f))) await new Promise((r) => conn!.once('drain', r));
    },
    async close() {
      conn?.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

/** A stream client that connects to the edge (edge with RecvAddr). */
async function streamClientHost(to: { port: number; host: string } | { path: string }): Promise<Host> {
  const s = 'path' in to ? connect(to.path) : connect({ port: to.port, host: to.host });
  await new Promise<void>((r, j) => {
    s.once('connect', () => r());
    s.once('error', j);
  });
  s.setNoDelay(true);
  return streamHost(s, s, () => s.destroy());
}

function udpHost(bindPort: number, edgePort: number): Promise<Host> {
  const frames: Buffer[] = [];
  const s: UdpSocket = createSocket('udp4');
  s.on('message', (m) => frames.push(Buffer.from(m)));
  return new Promise((resolve) =>
    s.bind(bindPort, '127.0.0.1', () =>
      resolve({
        frames,
        ready: () => true,
        send: (f) => new Promise<void>((r, j) => s.send(f, edgePort, '127.0.0.1', (e) => (e ? j(e) : r()))),
        close: () => new Promise<void>((r) => s.close(() => r())),
      }),
    ),
  );
}

const EAGAIN = 11;
const ENOBUFS = 105;

/**
 * A message socket driven through the native addon: a datagram socket (sending to `sendTo`),
 * a seqpacket client, a seqpacket listener, or one end of a socketpair.
 */
function nativeHost(n: Native, o: { fd?: number; listenFd?: number; sendTo?: string }): Host {
  const frames: Buffer[] = [];
  let conn = o.fd ?? -1;
  const listenFd = o.listenFd ?? -1;
  let closed = false;
  const loop = (async () => {
    while (!closed) {
      if (conn < 0 && listenFd < 0) return;
      const b = await n.unixReadBatch(conn, listenFd, 50, 1 << 20);
      splitNative(b.data, frames);
      if (b.accepted >= 0) {
        if (conn >= 0) n.unixClose(conn);
        conn = b.accepted;
      }
      if (b.hup && conn >= 0) {
        n.unixClose(conn);
        conn = -1;
        if (listenFd < 0) return;
      }
    }
  })();
  const to = o.sendTo ? Buffer.from(o.sendTo) : undefined;
  return {
    frames,
    ready: () => conn >= 0,
    async send(f) {
      for (let i = 0; ; i++) {
        const rc = to ? n.unixSendTo(conn, f, to) : n.unixSend(conn, f);
        if (rc === 0) return;
        if ((rc !== EAGAIN && rc !== ENOBUFS) || i > 2000) throw new Error(`send failed: errno ${rc}`);
        await sleep(1); // the edge's receive queue is full (max_dgram_qlen): wait for it to read
      }
    },
    async close() {
      closed = true;
      await loop.catch(() => {});
      for (const fd of new Set([conn, listenFd])) if (fd >= 0) n.unixClose(fd);
      conn = -1;
    },
  };
}

// ---- frames -----------------------------------------------------------------------------------

const MAC_H1 = Buffer.from('020000000101', 'hex');
const MAC_H2 = Buffer.from('020000000202', 'hex');
const BCAST = Buffer.alloc(6, 0xff);

function ethFrame(dst: Buffer, src: Buffer, len: number, tag: string): Buffer {
  const f = randomBytes(len);
  dst.copy(f, 0);
  src.copy(f, 6);
  f.writeUInt16BE(0x88b5, 12);
  Buffer.from(tag).copy(f, 14);
  return f;
}

// ---- cases ------------------------------------------------------------------------------------

interface Setup {
  /** Interface config for node `id`. */
  iface: Record<string, unknown>;
  /** Spawn options for node `id`. */
  spawn?: { stdio?: StdioOptions; env?: Record<string, string>; stdoutIsIface?: boolean };
  /** Host created before the edge starts (the edge connects or sends to it). */
  before?: () => Promise<Host>;
  /** Host created after the edge is up (it connects to the edge, or uses the process's pipes). */
  after?: (p: EdgeProc) => Promise<Host>;
  /** Called after the edge is up, e.g. to close the parent's copy of an inherited fd. */
  started?: () => void;
  /** The edge learns where to send only from the host's first datagram: send a runt to register. */
  hello?: boolean;
  /** Socket files the edge creates (and must remove when it stops). */
  edgeFiles?: string[];
}

interface Case {
  type: string;
  native?: boolean;
  /** Frames per burst chunk (the next chunk is sent once this one arrived or stalled). */
  chunk: number;
  setup(id: 1 | 2, dir: string): Promise<Setup>;
}

const CASES: Case[] = [
  {
    // Node 1: RecvAddr + SendAddr. Node 2: RecvAddr only, so it answers whoever sent last.
    type: 'udpsock',
    chunk: 50,
    async setup(id) {
      const edgePort = await freePort('udp');
      const hostPort = await freePort('udp');
      return {
        iface: { RecvAddr: `127.0.0.1:${edgePort}`, ...(id === 1 ? { SendAddr: `127.0.0.1:${hostPort}` } : {}) },
        before: () => udpHost(hostPort, edgePort),
        hello: id === 2,
      };
    },
  },
  {
    // Node 1 is a server (RecvAddr), node 2 a client (SendAddr).
    type: 'tcpsock',
    chunk: 50,
    async setup(id) {
      const port = await freePort('tcp');
      if (id === 1) return { iface: { RecvAddr: `127.0.0.1:${port}` }, after: () => streamClientHost({ host: '127.0.0.1', port }) };
      return { iface: { SendAddr: `127.0.0.1:${port}` }, before: () => streamServerHost({ host: '127.0.0.1', port }) };
    },
  },
  {
    type: 'unixsock',
    chunk: 50,
    async setup(id, dir) {
      const path = join(dir, `us${id}.sock`);
      if (id === 1) return { iface: { RecvAddr: path }, after: () => streamClientHost({ path }), edgeFiles: [path] };
      return { iface: { SendAddr: path }, before: () => streamServerHost({ path }) };
    },
  },
  {
    // Node 1: bound to RecvAddr, sends to SendAddr. Node 2: RecvAddr only, answers the sender.
    type: 'unixgramsock',
    native: true,
    chunk: 8,
    async setup(id, dir) {
      const n = loadNativeOrThrow();
      const edgePath = join(dir, `ug${id}e.sock`);
      const hostPath = join(dir, `ug${id}h.sock`);
      return {
        iface: id === 1 ? { RecvAddr: edgePath, SendAddr: hostPath } : { RecvAddr: edgePath },
        before: async () => nativeHost(n, { fd: n.unixDgramOpen(id === 1 ? hostPath : null), sendTo: edgePath }),
        hello: id === 2,
        edgeFiles: [edgePath],
      };
    },
  },
  {
    // Node 1 is a seqpacket server, node 2 a client.
    type: 'unixpacketsock',
    native: true,
    chunk: 100,
    async setup(id, dir) {
      const n = loadNativeOrThrow();
      const path = join(dir, `up${id}.sock`);
      if (id === 1) {
        return {
          iface: { RecvAddr: path },
          edgeFiles: [path],
          after: async () => {
            let fd = -1;
            await waitFor(
              () => {
                try {
                  fd = n.unixSeqpacketConnect(path);
                  return true;
                } catch {
                  return false;
                }
              },
              5000,
              () => `seqpacket connect to ${path}`,
            );
            return nativeHost(n, { fd });
          },
        };
      }
      return { iface: { SendAddr: path }, before: async () => nativeHost(n, { listenFd: n.unixSeqpacketListen(path, 4) }) };
    },
  },
  {
    // Node 1: fds 3 (rx) and 4 (tx) are the child ends of two spawn pipes (AF_UNIX stream
    // socketpairs): stream mode with the length prefix. Node 2: fds 3 and 4 are both the child
    // end of one SOCK_SEQPACKET socketpair: message mode.
    type: 'fd',
    native: true,
    chunk: 100,
    async setup(id) {
      if (id === 1) {
        return {
          iface: {},
          spawn: { stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'], env: { EG_FD_RX: '3', EG_FD_TX: '4' } },
          after: async (p) => {
            const tx = p.child.stdio[3] as Writable;
            const rx = p.child.stdio[4] as Readable;
            return streamHost(rx, tx, () => {
              (tx as Socket).destroy();
              (rx as Socket).destroy();
            });
          },
        };
      }
      const n = loadNativeOrThrow();
      const [mine, theirs] = n.unixSocketpair(true);
      return {
        iface: {},
        spawn: { stdio: ['ignore', 'pipe', 'pipe', theirs, theirs], env: { EG_FD_RX: '3', EG_FD_TX: '4' } },
        before: async () => nativeHost(n, { fd: mine }),
        started: () => n.unixClose(theirs),
      };
    },
  },
  {
    // nochg framing on the child's stdin / stdout; logs go to stderr.
    type: 'stdio',
    chunk: 50,
    async setup() {
      return {
        iface: { L2HeaderMode: 'nochg' },
        spawn: { stdio: ['pipe', 'pipe', 'pipe'], stdoutIsIface: true },
        after: async (p) => streamHost(p.child.stdout!, p.child.stdin!, () => p.child.stdin!.destroy()),
      };
    },
  },
];

function loadNativeOrThrow(): Native {
  const n = loadNative();
  if (!n.ok) throw new Error(`native addon: ${n.error}`);
  return n.mod;
}

// ---- the tests --------------------------------------------------------------------------------

describe('e2e: edges on loopback over every socket interface type', function () {
  this.timeout(60_000);

  for (const c of CASES) {
    describe(c.type, function () {
      let dir = '';
      let meshDir = '';
      const procs = new Map<number, EdgeProc>();
      const hosts = new Map<number, Host>();
      const edgeFiles: string[] = [];
      const host = (id: number) => hosts.get(id)!;
      const proc = (id: number) => procs.get(id)!;
      const sendLogs = (id: number) => logs(proc(id)).filter((l) => l.level === 'normal' && l.msg === 'send');
      const dump = () => [1, 2].map((id) => `--- edge ${id}:\n${procs.get(id)?.out.join('\n')}`).join('\n');

      before(async function () {
        if (c.native && !loadNative().ok) this.skip();
        dir = mkdtempSync(join(tmpdir(), `egsock-${c.type}-`));
        const setups = new Map<number, Setup>();
        for (const id of [1, 2] as const) setups.set(id, await c.setup(id, dir));
        for (const s of setups.values()) edgeFiles.push(...(s.edgeFiles ?? []));
        const ports = [await freePort('udp'), await freePort('udp')];
        const { files, dir: md } = buildConfigs({
          nodes: [1, 2].map((id) => ({
            id,
            host: '127.0.0.1',
            port: ports[id - 1],
            iface: { IType: c.type, ...setups.get(id)!.iface },
            extra: { NodeName: `egsk${id}` },
          })),
          links: [[1, 2]],
          table: { 1: { 2: 2 }, 2: { 1: 1 } },
          log: { LogLevel: 'debug', LogNormal: true }, // debug: every drop is logged (the runt check below)
        });
        meshDir = md;
        for (const id of [1, 2]) {
          const s = setups.get(id)!;
          if (s.before) hosts.set(id, await s.before());
        }
        for (const id of [1, 2]) procs.set(id, spawnEdge(files.get(id)!, setups.get(id)!.spawn));
        await Promise.all(
          [1, 2].map((id) =>
            waitFor(
              () => proc(id).out.some((l) => l.includes(' up: ')) || proc(id).child.exitCode !== null,
              15_000,
              () => `edge ${id} to start\n${dump()}`,
            ),
          ),
        );
        for (const id of [1, 2]) assert.equal(proc(id).child.exitCode, null, `edge ${id} exited at start:\n${dump()}`);
        for (const id of [1, 2]) {
          const s = setups.get(id)!;
          s.started?.();
          if (s.after) hosts.set(id, await s.after(proc(id)));
        }
        await waitFor(() => [1, 2].every((id) => host(id).ready()), 10_000, () => `both hosts connected\n${dump()}`);
        for (const id of [1, 2]) {
          if (!setups.get(id)!.hello) continue;
          // A runt datagram: the edge learns the host's address from it, then drops it (too short).
          await host(id).send(Buffer.from('hi'));
          await waitFor(
            () => logs(proc(id)).some((l) => l.level === 'drop' && String(l.msg).includes('shorter than an Ethernet header')),
            5000,
            () => `edge ${id} to drop the runt\n${dump()}`,
          );
        }
      });

      after(async () => {
        await Promise.all([...hosts.values()].map((h) => h.close().catch(() => {})));
        await stopEdges([...procs.values()]);
        for (const d of [dir, meshDir]) if (d) rmSync(d, { recursive: true, force: true });
      });

      /** Sends `f` from host `from` and waits for it at the other host; asserts it is the only frame. */
      async function across(from: 1 | 2, f: Buffer): Promise<void> {
        const to = host(3 - from);
        to.frames.length = 0;
        await host(from).send(f);
        await waitFor(() => to.frames.length > 0, 10_000, () => `frame from host ${from} to arrive\n${dump()}`);
        await sleep(50); // anything extra (duplicates) would show up now
        assert.equal(to.frames.length, 1, `exactly one frame arrives (got ${to.frames.length})`);
        assert.ok(to.frames[0].equals(f), `frame is byte-identical (sent ${f.length} bytes, got ${to.frames[0].length})`);
      }

      it('a broadcast frame crosses 1 → 2 and 2 → 1 byte-identical (sent with dst 65535)', async () => {
        await across(1, ethFrame(BCAST, MAC_H1, 101, 'bcast 1->2'));
        await across(2, ethFrame(BCAST, MAC_H2, 1203, 'bcast 2->1'));
        assert.ok(sendLogs(1).some((l) => l.dst === 65535 && l.len === 101), JSON.stringify(sendLogs(1)));
        assert.ok(sendLogs(2).some((l) => l.dst === 65535 && l.len === 1203), JSON.stringify(sendLogs(2)));
      });

      it('after MAC learning a unicast frame is sent to the node (dst=2 / dst=1, not 65535) and arrives intact', async () => {
        // The broadcast test taught edge 1 that MAC_H2 is behind node 2 and edge 2 that MAC_H1 is behind 1.
        await across(1, ethFrame(MAC_H2, MAC_H1, 777, 'ucast 1->2'));
        await across(2, ethFrame(MAC_H1, MAC_H2, 1399, 'ucast 2->1'));
        const s1 = sendLogs(1).filter((l) => l.len === 777);
        const s2 = sendLogs(2).filter((l) => l.len === 1399);
        assert.deepEqual(s1.map((l) => l.dst), [2], `edge 1 send log: ${JSON.stringify(s1)}`);
        assert.deepEqual(s2.map((l) => l.dst), [1], `edge 2 send log: ${JSON.stringify(s2)}`);
        const delivered = logs(proc(2)).filter((l) => l.level === 'normal' && l.msg === 'deliver' && l.len === 777);
        assert.deepEqual(delivered.map((l) => [l.src, l.dst]), [[1, 2]]);
      });

      it('a burst of 2000 frames (60..1400 bytes) 1 → 2 arrives intact and in order (≥ 99%, paced)', async () => {
        const N = 2000;
        const sent: Buffer[] = [];
        for (let i = 0; i < N; i++) {
          const f = ethFrame(MAC_H2, MAC_H1, 60 + Math.floor(Math.random() * 1341), '');
          f.writeUInt32BE(i, 14);
          sent.push(f);
        }
        const to = host(2);
        to.frames.length = 0;
        for (let i = 0; i < N; i += c.chunk) {
          for (const f of sent.slice(i, i + c.chunk)) await host(1).send(f);
          // Pace: wait until this chunk arrived, or nothing new came for 300 ms.
          const want = Math.min(N, i + c.chunk);
          let last = -1;
          let lastChange = Date.now();
          while (to.frames.length < want && Date.now() - lastChange < 300) {
            if (to.frames.length !== last) {
              last = to.frames.length;
              lastChange = Date.now();
            }
            await sleep(2);
          }
        }
        await sleep(100);
        const got = to.frames;
        let prev = -1;
        for (const [k, f] of got.entries()) {
          assert.ok(f.length >= 18, `received frame #${k} is ${f.length} bytes`);
          const seq = f.readUInt32BE(14);
          assert.ok(seq < N && seq > prev, `received frame #${k} has sequence ${seq} after ${prev} (out of order or duplicate)`);
          assert.ok(f.equals(sent[seq]), `frame ${seq} is not byte-identical (sent ${sent[seq].length} bytes, got ${f.length})`);
          prev = seq;
        }
        assert.ok(got.length >= N * 0.99, `only ${got.length} of ${N} frames arrived`);
        if (got.length < N) console.log(`      (${c.type}: ${got.length}/${N} frames arrived)`);
        for (const id of [1, 2]) assert.equal(proc(id).child.exitCode, null, `edge ${id} still running`);
      });

      it('SIGTERM stops both edges with exit code 0 (and they remove their unix socket files)', async () => {
        for (const f of edgeFiles) assert.ok(existsSync(f), `${f} exists while the edge runs`);
        for (const id of [1, 2]) proc(id).child.kill('SIGTERM');
        const codes = await Promise.race([Promise.all([1, 2].map((id) => proc(id).exited)), sleep(5000).then(() => 'timeout')]);
        assert.deepEqual(codes, [0, 0], dump());
        for (const f of edgeFiles) assert.ok(!existsSync(f), `${f} removed`);
      });
    });
  }
});

describe('e2e: stdio interface and PostScript output', function () {
  this.timeout(30_000);
  let meshDir = '';
  let p: EdgeProc | undefined;

  after(async () => {
    if (p) await stopEdges([p]);
    if (meshDir) rmSync(meshDir, { recursive: true, force: true });
  });

  // Regression: with IType stdio a PostScript's stdout used to land in the frame stream.
  it('a PostScript that prints does not write into the stdio frame stream', async () => {
    const { files, dir } = buildConfigs({
      nodes: [{ id: 1, host: '127.0.0.1', port: await freePort('udp'), iface: { IType: 'stdio' }, extra: { NodeName: 'egps1', PostScript: 'echo hello-from-postscript' } }],
      links: [],
      table: {},
    });
    meshDir = dir;
    p = spawnEdge(files.get(1)!, { stdio: ['pipe', 'pipe', 'pipe'], stdoutIsIface: true });
    const stdout: Buffer[] = [];
    p.child.stdout!.on('data', (d: Buffer) => stdout.push(d));
    await waitFor(() => p!.out.some((l) => l.includes(' up: ')) || p!.child.exitCode !== null, 15_000, () => p!.out.join('\n'));
    await sleep(200);
    assert.equal(Buffer.concat(stdout).toString(), '', 'nothing but frames may appear on the stdio interface');
  });
});
