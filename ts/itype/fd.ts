// fd: frames on two inherited file descriptors, EG_FD_RX (read) and EG_FD_TX (write), given as
// integers in the environment (they may be the same fd).
//
// A descriptor that is a datagram or seqpacket socket keeps message boundaries: one message =
// one frame, read through the native addon. Anything else (pipe, FIFO, stream socket, tty) is
// a byte stream, so frames carry a u16 big-endian length prefix, as on tcpsock/unixsock
// (upstream wrote raw frames with no delimiting). close() closes both descriptors.
import { Socket } from 'node:net';
import { BaseInterface, Waker, errorOf } from './base.js';
import { Deframer, MAX_FRAME, splitBatch } from './framing.js';
import { writeFramed } from './stream.js';
import { READ_MAX_BYTES, READ_TIMEOUT_MS, isQueueFull } from './unixmsg.js';
import type { InterfaceOptions } from './types.js';
import { loadNative, type Native } from '../native/index.js';

const SOCK_DGRAM = 2;
const SOCK_SEQPACKET = 5;

function envFd(key: string): number {
  const v = process.env[key];
  if (v === undefined || !/^\d+$/.test(v.trim())) throw new Error(`IType fd needs ${key} set to a file descriptor number (got ${JSON.stringify(v)})`);
  return Number(v.trim());
}

function isMessageFd(n: Native | undefined, fd: number): boolean {
  if (!n) return false; // without the addon every fd is treated as a stream
  const t = n.fdSocketType(fd);
  return t === SOCK_DGRAM || t === SOCK_SEQPACKET;
}

export class FdInterface extends BaseInterface {
  private rxStream: Socket | undefined;
  private txStream: Socket | undefined;
  private rxMsg = -1;
  private txMsg = -1;
  private loop: Promise<void> | undefined;
  private readonly waker = new Waker();
  private readonly deframer = new Deframer();
  private readonly onData = (chunk: Buffer): void => {
    const frames: Uint8Array[] = [];
    this.deframer.push(chunk, frames);
    this.deliver(frames);
  };

  private constructor(
    o: InterfaceOptions,
    private readonly n: Native | undefined,
  ) {
    super('fd', o.Name, o.log ?? (() => {}));
  }

  static async open(o: InterfaceOptions): Promise<FdInterface> {
    const rx = envFd('EG_FD_RX');
    const tx = envFd('EG_FD_TX');
    const nl = loadNative();
    const n = nl.ok ? nl.mod : undefined;
    const itf = new FdInterface(o, n);
    try {
      const rxIsMsg = isMessageFd(n, rx);
      const txIsMsg = isMessageFd(n, tx);
      if (rxIsMsg) {
        n!.fdSetNonblocking(rx);
        itf.rxMsg = rx;
      }
      if (txIsMsg) {
        n!.fdSetNonblocking(tx);
        itf.txMsg = tx;
      }
      if (!rxIsMsg && !txIsMsg && rx === tx) {
        itf.rxStream = itf.txStream = new Socket({ fd: rx, readable: true, writable: true });
      } else {
        if (!rxIsMsg) itf.rxStream = new Socket({ fd: rx, readable: true, writable: false });
        if (!txIsMsg) itf.txStream = new Socket({ fd: tx, readable: false, writable: true });
      }
    } catch (e) {
      itf.rxStream?.destroy();
      itf.txStream?.destroy();
      throw new Error(`fd ${o.Name}: EG_FD_RX=${rx} EG_FD_TX=${tx}: ${errorOf(e).message}`);
    }
    for (const s of new Set([itf.rxStream, itf.txStream])) s?.on('error', (e) => itf.fail('stream', e));
    itf.rxStream?.on('end', () => itf.log('info', `fd ${o.Name}: EG_FD_RX reached end of file`));
    itf.log('info', `fd ${o.Name}: rx fd ${rx} (${kindText(itf.rxMsg)}), tx fd ${tx} (${kindText(itf.txMsg)})`);
    return itf;
  }

  protected started(): void {
    if (this.rxStream) this.rxStream.on('data', this.onData);
    if (this.rxMsg >= 0) this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      let b;
      try {
        b = await this.n!.unixReadBatch(this.rxMsg, -1, READ_TIMEOUT_MS, READ_MAX_BYTES);
      } catch (e) {
        this.fail('read', e);
        await this.waker.sleep(1000);
        continue;
      }
      this.dropped(`message longer than ${MAX_FRAME} bytes`, b.dropped);
      this.deliver(splitBatch(b.data, []));
      if (b.hup) {
        this.log('info', `fd ${this.name}: EG_FD_RX was closed by the peer`);
        return;
      }
    }
  }

  write(frame: Uint8Array): boolean {
    if (this.closed || frame.length > MAX_FRAME) return false;
    if (this.txMsg >= 0) {
      const rc = this.n!.unixSend(this.txMsg, frame);
      if (rc !== 0 && !isQueueFull(rc)) this.log('debug', `fd ${this.name}: send failed with errno ${rc}`);
      return rc === 0;
    }
    return writeFramed(this.txStream, frame);
  }

  protected async shutdown(): Promise<void> {
    this.waker.wake();
    await this.loop;
    this.rxStream?.destroy();
    this.txStream?.destroy();
    for (const fd of new Set([this.rxMsg, this.txMsg])) {
      if (fd < 0) continue;
      try {
        this.n!.unixClose(fd);
      } catch (e) {
        this.log('error', `fd ${this.name}: ${errorOf(e).message}`);
      }
    }
    this.rxMsg = this.txMsg = -1;
  }
}

function kindText(fd: number): string {
  return fd >= 0 ? 'message socket' : 'stream, u16 length-prefixed';
}
