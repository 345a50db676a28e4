// Stream sockets (tcpsock, unixsock) and stream fds: every frame is sent as a u16 big-endian
// length + the frame, and reassembled on the other side however the bytes were split or merged
// (upstream treated each read() as one frame, which breaks under load).
import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { BaseInterface, STREAM_QUEUE_LIMIT, Waker, errorOf } from './base.js';
import { parseHostPort } from './addr.js';
import { Deframer, MAX_FRAME, encodeFrame } from './framing.js';
import type { InterfaceOptions } from './types.js';

/** Client reconnect backoff: first retry after 100 ms, doubling up to 5 s. */
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5000;

/** Writes a framed frame to a stream, unless it is gone or its queue is over the limit. */
export function writeFramed(s: Socket | undefined, frame: Uint8Array): boolean {
  if (!s || s.destroyed || s.connecting || !s.writable) return false;
  if (frame.length > MAX_FRAME || s.writableLength > STREAM_QUEUE_LIMIT) return false;
  s.write(encodeFrame(frame));
  return true;
}

/** Removes a stale unix socket file at `path` (only a socket: other files are left alone). */
export function unlinkStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    /* nothing there */
  }
}

type Where = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

export class StreamSockInterface extends BaseInterface {
  private server: Server | undefined;
  private conn: Socket | undefined;
  private readonly deframer = new Deframer();
  private readonly waker = new Waker();
  private createdPath: string | undefined;
  private connecting: Promise<void> | undefined;
  private attempt: Socket | undefined;

  private readonly onData = (chunk: Buffer): void => {
    const frames: Uint8Array[] = [];
    this.deframer.push(chunk, frames);
    this.deliver(frames);
  };

  private constructor(
    o: InterfaceOptions,
    type: 'tcpsock' | 'unixsock',
    private readonly where: Where,
    private readonly serverMode: boolean,
  ) {
    super(type, o.Name, o.log ?? (() => {}));
  }

  static async open(o: InterfaceOptions & { IType: 'tcpsock' | 'unixsock' }): Promise<StreamSockInterface> {
    const serverMode = !!o.RecvAddr;
    const addr = serverMode ? o.RecvAddr! : o.SendAddr;
    if (!addr) throw new Error(`${o.IType} ${o.Name}: needs RecvAddr (server) or SendAddr (client)`);
    let where: Where;
    if (o.IType === 'tcpsock') {
      const hp = parseHostPort(addr, serverMode ? 'RecvAddr' : 'SendAddr');
      if (!serverMode && hp.port === 0) throw new Error(`tcpsock ${o.Name}: SendAddr needs a port`);
      where = { kind: 'tcp', host: hp.host, port: hp.port };
    } else {
      where = { kind: 'unix', path: addr };
    }
    const itf = new StreamSockInterface(o, o.IType, where, serverMode);
    if (serverMode && o.SendAddr) itf.log('info', `${o.IType} ${o.Name}: RecvAddr given, so acting as server; SendAddr ignored`);
    if (serverMode) await itf.listen();
    else itf.connecting = itf.connectLoop();
    return itf;
  }

  private describe(): string {
    return this.where.kind === 'tcp' ? `${this.where.host || '*'}:${this.where.port}` : this.where.path;
  }

  private listen(): Promise<void> {
    const server = createServer({ noDelay: true }, (s) => this.adopt(s, 'accepted'));
    this.server = server;
    const w = this.where;
    if (w.kind === 'unix') unlinkStaleSocket(w.path);
    return new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const ok = (): void => {
        server.off('error', reject);
        server.on('error', (e) => this.fail('server', e));
        if (w.kind === 'unix') this.createdPath = w.path;
        this.log('info', `${this.type} ${this.name}: listening on ${this.describe()}`);
        resolve();
      };
      if (w.kind === 'tcp') {
        if (w.host) server.listen(w.port, w.host, ok);
        else server.listen(w.port, ok);
      } else server.listen(w.path, ok);
    }).catch((e) => {
      server.close();
      throw new Error(`${this.type} ${this.name}: listen on ${this.describe()}: ${errorOf(e).message}`);
    });
  }

  /** The bound TCP address (useful when RecvAddr asked for port 0). */
  address(): { address: string; port: number } | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? { address: a.address, port: a.port } : undefined;
  }

  /** Makes `s` the connection (a newer one replaces the old) and reads frames from it. */
  private adopt(s: Socket, how: string): void {
    if (this.closed) {
      s.destroy();
      return;
    }
    if (this.conn) {
      this.log('info', `${this.type} ${this.name}: new connection replaces the old one`);
      this.conn.destroy();
    }
    this.conn = s;
    this.deframer.reset();
    s.setNoDelay?.(true);
    s.on('data', this.onData);
    s.on('error', (e) => this.log('info', `${this.type} ${this.name}: connection error: ${e.message}`));
    s.on('close', () => {
      if (this.conn === s) {
        this.conn = undefined;
        if (!this.closed) this.log('info', `${this.type} ${this.name}: connection closed`);
        if (!this.serverMode) this.waker.wake();
      }
    });
    this.log('info', `${this.type} ${this.name}: ${how} ${this.describe()}`);
  }

  private async connectLoop(): Promise<void> {
    let backoff = BACKOFF_MIN_MS;
    while (!this.closed) {
      const w = this.where;
      const s = w.kind === 'tcp' ? connect({ port: w.port, host: w.host || 'localhost', noDelay: true }) : connect(w.path);
      this.attempt = s;
      const ok = await new Promise<boolean>((resolve) => {
        s.once('close', () => resolve(false)); // destroyed by close()
        const onErr = (e: Error): void => {
          this.log('info', `${this.type} ${this.name}: connect ${this.describe()}: ${e.message}; retrying in ${backoff} ms`);
          resolve(false);
        };
        s.once('error', onErr);
        s.once('connect', () => {
          s.off('error', onErr);
          resolve(true);
        });
      });
      this.attempt = undefined;
      if (this.closed) {
        s.destroy();
        return;
      }
      if (!ok) {
        s.destroy();
        await this.waker.sleep(backoff);
        backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
        continue;
      }
      backoff = BACKOFF_MIN_MS;
      this.adopt(s, 'connected to');
      // Wait until the connection ends (the close handler wakes us), then reconnect.
      while (this.conn === s && !this.closed) await this.waker.sleep(60_000);
      if (!this.closed) await this.waker.sleep(BACKOFF_MIN_MS);
    }
  }

  protected started(): void {
    // Data handlers are attached per connection; frames before start() are not delivered.
  }

  write(frame: Uint8Array): boolean {
    if (this.closed) return false;
    return writeFramed(this.conn, frame);
  }

  protected async shutdown(): Promise<void> {
    this.waker.wake();
    this.attempt?.destroy();
    this.conn?.destroy();
    this.conn = undefined;
    await this.connecting;
    if (this.server) {
      const srv = this.server;
      await new Promise<void>((r) => srv.close(() => r()));
    }
    if (this.createdPath && existsSync(this.createdPath)) unlinkStaleSocket(this.createdPath);
  }
}
