// unixgramsock (AF_UNIX SOCK_DGRAM) and unixpacketsock (AF_UNIX SOCK_SEQPACKET), through the
// native addon: Node has neither. The kernel keeps message boundaries, so one message = one
// frame with no extra framing.
//
// unixgramsock:   bound to RecvAddr if given (else to a kernel-chosen abstract name, so the
//                 other side can answer); sends to SendAddr, or, without one, to the sender of
//                 the last datagram.
// unixpacketsock: RecvAddr = server (listen; the newest accepted connection replaces the old),
//                 otherwise SendAddr = client (reconnect with backoff).
//
// One read loop per interface: an AsyncTask polls the fd(s) on libuv's pool with a 200 ms
// timeout. Every fd change (accept, hang-up, reconnect, close) happens in that loop between two
// tasks, so an fd is never closed while a pool thread is polling it.
import { BaseInterface, Waker, errorOf } from './base.js';
import { MAX_FRAME, splitBatch } from './framing.js';
import { unlinkStaleSocket } from './stream.js';
import type { InterfaceOptions } from './types.js';
import { native, type Native } from '../native/index.js';

export const READ_TIMEOUT_MS = 200;
export const READ_MAX_BYTES = 256 << 10;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5000;

const EAGAIN = 11;
const ENOBUFS = 105;

/** Whether a send errno means "queue full" (as opposed to "no peer"). */
export function isQueueFull(errno: number): boolean {
  return errno === EAGAIN || errno === ENOBUFS;
}

export class UnixMsgInterface extends BaseInterface {
  private conn = -1;
  private listenFd = -1;
  private loop: Promise<void> | undefined;
  private readonly waker = new Waker();
  private lastFrom: Buffer | undefined;
  private readonly sendTo: Buffer | undefined;
  private createdPath: string | undefined;
  private sendErrno = 0;

  private constructor(
    o: InterfaceOptions,
    type: 'unixgramsock' | 'unixpacketsock',
    private readonly n: Native,
    private readonly sendPath: string | undefined,
  ) {
    super(type, o.Name, o.log ?? (() => {}));
    this.sendTo = type === 'unixgramsock' && sendPath ? Buffer.from(sendPath) : undefined;
  }

  static async open(o: InterfaceOptions & { IType: 'unixgramsock' | 'unixpacketsock' }): Promise<UnixMsgInterface> {
    const n = native();
    const recv = o.RecvAddr || undefined;
    const send = o.SendAddr || undefined;
    if (!recv && !send) throw new Error(`${o.IType} ${o.Name}: needs RecvAddr and/or SendAddr`);
    const itf = new UnixMsgInterface(o, o.IType, n, send);
    try {
      if (o.IType === 'unixgramsock') {
        itf.conn = n.unixDgramOpen(recv ?? null);
        if (recv) itf.createdPath = recv;
        itf.log('info', `unixgramsock ${o.Name}: bound to ${recv ?? '(autobind)'}${send ? `, sending to ${send}` : ''}`);
      } else if (recv) {
        if (send) itf.log('info', `unixpacketsock ${o.Name}: RecvAddr given, so acting as server; SendAddr ignored`);
        itf.listenFd = n.unixSeqpacketListen(recv, 16);
        itf.createdPath = recv;
        itf.log('info', `unixpacketsock ${o.Name}: listening on ${recv}`);
      }
    } catch (e) {
      throw new Error(`${o.IType} ${o.Name}: ${errorOf(e).message}`);
    }
    // Accepting and connecting start right away (only delivery waits for start()).
    itf.loop = itf.run();
    return itf;
  }

  private async run(): Promise<void> {
    const n = this.n;
    let backoff = BACKOFF_MIN_MS;
    while (!this.closed) {
      if (this.conn < 0 && this.listenFd < 0) {
        // seqpacket client without a connection
        try {
          this.conn = n.unixSeqpacketConnect(this.sendPath!);
          backoff = BACKOFF_MIN_MS;
          this.log('info', `unixpacketsock ${this.name}: connected to ${this.sendPath}`);
        } catch (e) {
          this.log('info', `unixpacketsock ${this.name}: ${errorOf(e).message}; retrying in ${backoff} ms`);
          await this.waker.sleep(backoff);
          backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
          continue;
        }
      }
      let b;
      try {
        b = await n.unixReadBatch(this.conn, this.listenFd, READ_TIMEOUT_MS, READ_MAX_BYTES);
      } catch (e) {
        this.fail('read', e);
        await this.waker.sleep(1000);
        continue;
      }
      this.dropped(`message longer than ${MAX_FRAME} bytes`, b.dropped);
      if (b.data.length > 0) {
        if (b.from) this.lastFrom = b.from;
        // Views into the batch buffer, which is fresh for every task.
        this.deliver(splitBatch(b.data, []));
      }
      if (b.hup && this.conn >= 0) {
        this.log('info', `${this.type} ${this.name}: connection closed by peer`);
        this.closeFd(this.conn);
        this.conn = -1;
        if (this.listenFd < 0 && !this.closed) await this.waker.sleep(BACKOFF_MIN_MS);
      }
      if (b.accepted >= 0) {
        if (this.closed) {
          this.closeFd(b.accepted);
        } else {
          if (this.conn >= 0) {
            this.log('info', `${this.type} ${this.name}: new connection replaces the old one`);
            this.closeFd(this.conn);
          } else this.log('info', `${this.type} ${this.name}: accepted a connection`);
          this.conn = b.accepted;
        }
      }
    }
  }

  private closeFd(fd: number): void {
    try {
      this.n.unixClose(fd);
    } catch (e) {
      this.log('error', `${this.type} ${this.name}: ${errorOf(e).message}`);
    }
  }

  protected started(): void {}

  write(frame: Uint8Array): boolean {
    if (this.closed || this.conn < 0 || frame.length > MAX_FRAME) return false;
    let rc: number;
    try {
      if (this.type === 'unixgramsock') {
        const to = this.sendTo ?? this.lastFrom;
        if (!to) return false;
        rc = this.n.unixSendTo(this.conn, frame, to);
      } else {
        rc = this.n.unixSend(this.conn, frame);
      }
    } catch (e) {
      this.log('debug', `${this.type} ${this.name}: send: ${errorOf(e).message}`);
      return false;
    }
    if (rc !== 0 && !isQueueFull(rc) && rc !== this.sendErrno) {
      // Logged once per distinct errno, not per frame (e.g. the peer is not there yet).
      this.log('debug', `${this.type} ${this.name}: send failed with errno ${rc}`);
    }
    this.sendErrno = rc;
    return rc === 0;
  }

  protected async shutdown(): Promise<void> {
    this.waker.wake();
    await this.loop; // returns within one read timeout
    if (this.conn >= 0) this.closeFd(this.conn);
    if (this.listenFd >= 0) this.closeFd(this.listenFd);
    this.conn = this.listenFd = -1;
    if (this.createdPath) unlinkStaleSocket(this.createdPath);
  }
}
