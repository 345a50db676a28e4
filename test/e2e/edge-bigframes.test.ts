// Two real edge processes on loopback (node 1 and node 2, table {1:{2:2},2:{1:1}}) and frames
// near 64 KiB through a socket interface. The largest frame one WireGuard transport message can
// carry in one UDP datagram is 65,464 bytes (docs/wire.md §5: 65,507 max IPv4 UDP payload − 16
// transport header − 16 tag, rounded down to the 16-byte padding, − 8 Etherguard header). The
// number is written here as a literal on purpose: the test checks the derivation, not a constant.
//
// Every frame of MAX−2 … MAX+2 and 65,470 … 65,510 bytes must either arrive byte-identical at the
// other host, or be dropped by the sending edge with the counted reason "frame too large" (logged
// with its length) — never become a 0- or 16-byte datagram (a sealed length wrapped modulo 65,536)
// and never vanish without a counted reason. Over udpsock the test host itself cannot send more
// than 65,507 bytes (IPv4): its own socket refuses those with EMSGSIZE, which the test checks too.
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, Socket as UdpSocket } from 'node:dgram';
import { rmSync } from 'node:fs';
import { connect, createServer, Server, Socket } from 'node:net';
import { join } from 'node:path';
import { buildConfigs } from '../helpers/mesh.js';
import { ROOT } from '../../ts/paths.js';
import { freePort } from '../helpers/ports.js';
import { Unframer } from '../helpers/unframer.js';

const MAX_FRAME = 65_464;
const SIZES = [
  ...Array.from({ length: 5 }, (_, i) => MAX_FRAME - 2 + i),
  ...Array.from({ length: 41 }, (_, i) => 65_470 + i),
];

interface EdgeProc {
  child: ChildProcess;
  out: string[];
  exited: Promise<number | null>;
}

function spawnEdge(config: string): EdgeProc {
  const child = spawn(process.execPath, [join(ROOT, 'dist/main.js'), 'edge', '-config', config, '-json', '-no-uapi'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  let partial = '';
  const collect = (d: Buffer): void => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    out.push(...lines);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  return { child, out, exited: new Promise((res) => child.on('exit', (c) => res(c))) };
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

async function stopEdges(procs: EdgeProc[]): Promise<void> {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  const all = Promise.all(procs.map((p) => p.exited));
  await Promise.race([all, new Promise((r) => setTimeout(r, 3000))]);
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await sleep(5);
  }
}

/** The test's side of an edge's interface. `send` rejects when the host's own socket refuses. */
interface Host {
  frames: Buffer[];
  ready(): boolean;
  send(f: Buffer): Promise<void>;
  close(): Promise<void>;
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

function framed(f: Buffer): Buffer {
  const b = Buffer.alloc(2 + f.length);
  b.writeUInt16BE(f.length, 0);
  f.copy(b, 2);
  return b;
}

function streamFrames(s: Socket, frames: Buffer[]): void {
  const u = new Unframer();
  s.on('data', (d: Buffer) => u.push(d, frames));
  s.on('error', () => {});
}

/** tcpsock: node 1's edge listens (the host connects), node 2's edge connects to the host. */
async function tcpClientHost(port: number): Promise<Host> {
  const frames: Buffer[] = [];
  const s = connect({ port, host: '127.0.0.1' });
  await new Promise<void>((r, j) => {
    s.once('connect', () => r());
    s.once('error', j);
  });
  streamFrames(s, frames);
  return {
    frames,
    ready: () => !s.destroyed,
    async send(f) {
      if (!s.write(framed(f))) await new Promise((r) => s.once('drain', r));
    },
    async close() {
      s.destroy();
    },
  };
}

async function tcpServerHost(port: number): Promise<Host> {
  const frames: Buffer[] = [];
  let conn: Socket | undefined;
  const srv: Server = createServer((s) => {
    conn = s;
    streamFrames(s, frames);
  });
  await new Promise<void>((r) => srv.listen(port, '127.0.0.1', () => r()));
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

interface Case {
  type: 'udpsock' | 'tcpsock';
  /** Largest frame the host side can hand to the edge at all. */
  hostMax: number;
  setup(): Promise<{ iface: Map<number, Record<string, unknown>>; before: Map<number, () => Promise<Host>>; after: Map<number, () => Promise<Host>> }>;
}

const CASES: Case[] = [
  {
    type: 'udpsock',
    hostMax: 65_507,
    async setup() {
      const iface = new Map<number, Record<string, unknown>>();
      const before = new Map<number, () => Promise<Host>>();
      for (const id of [1, 2]) {
        const edgePort = await freePort('udp');
        const hostPort = await freePort('udp');
        iface.set(id, { RecvAddr: `127.0.0.1:${edgePort}`, SendAddr: `127.0.0.1:${hostPort}` });
        before.set(id, () => udpHost(hostPort, edgePort));
      }
      return { iface, before, after: new Map() };
    },
  },
  {
    type: 'tcpsock',
    hostMax: 65_535,
    async setup() {
      const p1 = await freePort('tcp');
      const p2 = await freePort('tcp');
      return {
        iface: new Map([
          [1, { RecvAddr: `127.0.0.1:${p1}` }],
          [2, { SendAddr: `127.0.0.1:${p2}` }],
        ]),
        before: new Map([[2, () => tcpServerHost(p2)]]),
        after: new Map([[1, () => tcpClientHost(p1)]]),
      };
    },
  },
];

describe('e2e: frames near 64 KiB through a socket interface arrive intact or are dropped with a counted reason', function () {
  this.timeout(120_000);

  for (const c of CASES) {
    describe(c.type, function () {
      let meshDir = '';
      const procs = new Map<number, EdgeProc>();
      const hosts = new Map<number, Host>();
      const dump = () => [1, 2].map((id) => `--- edge ${id}:\n${procs.get(id)?.out.slice(-40).join('\n')}`).join('\n');

      before(async function () {
        const s = await c.setup();
        const ports = [await freePort('udp'), await freePort('udp')];
        const { files, dir } = buildConfigs({
          nodes: [1, 2].map((id) => ({
            id,
            host: '127.0.0.1',
            port: ports[id - 1],
            iface: { IType: c.type, ...s.iface.get(id)! },
            extra: { NodeName: `egbig${id}` },
          })),
          links: [[1, 2]],
          table: { 1: { 2: 2 }, 2: { 1: 1 } },
          log: { LogLevel: 'debug', LogNormal: true }, // debug: every drop is logged with its reason
        });
        meshDir = dir;
        for (const [id, mk] of s.before) hosts.set(id, await mk());
        for (const id of [1, 2]) procs.set(id, spawnEdge(files.get(id)!));
        await Promise.all(
          [1, 2].map((id) =>
            waitFor(() => procs.get(id)!.out.some((l) => l.includes(' up: ')) || procs.get(id)!.child.exitCode !== null, 15_000, () => `edge ${id} to start\n${dump()}`),
          ),
        );
        for (const id of [1, 2]) assert.equal(procs.get(id)!.child.exitCode, null, `edge ${id} exited at start:\n${dump()}`);
        for (const [id, mk] of s.after) hosts.set(id, await mk());
        await waitFor(() => [1, 2].every((id) => hosts.get(id)?.ready()), 10_000, () => `hosts connected\n${dump()}`);
      });

      after(async () => {
        await Promise.all([...hosts.values()].map((h) => h.close().catch(() => {})));
        await stopEdges([...procs.values()]);
        if (meshDir) rmSync(meshDir, { recursive: true, force: true });
      });

      it(`frames of ${SIZES[0]}..${SIZES[SIZES.length - 1]} bytes 1 → 2: each arrives byte-identical or is dropped as "frame too large", never wrapped`, async () => {
        const from = hosts.get(1)!;
        const to = hosts.get(2)!;
        const e1 = procs.get(1)!;
        const tooLarge = () => logs(e1).filter((l) => l.level === 'drop' && l.msg === 'frame too large');
        const outcome: string[] = [];
        let expectDrops = 0;
        for (const size of SIZES) {
          const f = randomBytes(size);
          Buffer.alloc(6, 0xff).copy(f, 0); // broadcast: no MAC learning needed
          Buffer.from('020000000101', 'hex').copy(f, 6);
          f.writeUInt16BE(0x88b5, 12);
          to.frames.length = 0;
          const dropsBefore = tooLarge().length;
          if (size > c.hostMax) {
            await assert.rejects(from.send(f), /EMSGSIZE/, `the host's own socket refuses ${size} bytes`);
            outcome.push(`${size}:host-refused`);
            continue;
          }
          await from.send(f);
          if (size <= MAX_FRAME) {
            await waitFor(() => to.frames.length > 0, 10_000, () => `the ${size}-byte frame to arrive\n${dump()}`);
            await sleep(30);
            assert.equal(to.frames.length, 1, `exactly one frame for ${size}`);
            assert.equal(to.frames[0].length, size, `the ${size}-byte frame arrives whole`);
            assert.ok(to.frames[0].equals(f), `the ${size}-byte frame is byte-identical`);
            outcome.push(`${size}:ok`);
          } else {
            expectDrops++;
            await waitFor(() => tooLarge().length > dropsBefore, 5000, () => `edge 1 to drop the ${size}-byte frame as "frame too large"\n${dump()}`);
            const d = tooLarge().at(-1)!;
            assert.equal(d.len, size, `the drop names the frame length: ${JSON.stringify(d)}`);
            assert.equal(d.max, MAX_FRAME, `the drop names the limit: ${JSON.stringify(d)}`);
            await sleep(30);
            assert.deepEqual(to.frames.map((x) => x.length), [], `nothing arrives for a dropped ${size}-byte frame`);
            outcome.push(`${size}:dropped`);
          }
        }
        // Counted, not only logged: one drop per oversize frame, nothing else on the wire.
        assert.equal(tooLarge().length, expectDrops, outcome.join(' '));
        const e2drops = logs(procs.get(2)!).filter((l) => l.level === 'drop');
        assert.deepEqual(e2drops.map((l) => l.msg), [], `edge 2 dropped nothing (a wrapped length shows up as "wireguard: Truncated")\n${dump()}`);
        const errors = [1, 2].flatMap((id) => logs(procs.get(id)!).filter((l) => l.level === 'error'));
        assert.deepEqual(errors.map((l) => l.msg), [], 'no send errors (EMSGSIZE) on the WireGuard socket');
        for (const id of [1, 2]) assert.equal(procs.get(id)!.child.exitCode, null, `edge ${id} still running`);
      });
    });
  }
});
