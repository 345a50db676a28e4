// udpsock: one UDP socket. Bound to RecvAddr (empty = ":0", an ephemeral port on all
// addresses); frames go to SendAddr, or, without one, to whoever sent the last datagram.
// One datagram = one frame.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { BaseInterface, errorOf } from './base.js';
import { parseHostPort, resolveHost } from './addr.js';
import { limits } from '../core/wg.js';
import type { InterfaceOptions } from './types.js';

/** Bytes the socket may have queued in the kernel-bound send queue before write() drops. */
const UDP_QUEUE_LIMIT = 4 << 20;

export class UdpInterface extends BaseInterface {
  private family: 4 | 6 = 4;
  private peerAddr = '';
  private peerPort = 0;
  private batch: Uint8Array[] = [];
  private flushQueued = false;
  private readonly flush = (): void => {
    this.flushQueued = false;
    const b = this.batch;
    this.batch = [];
    this.deliver(b);
  };
  private readonly onMessage = (msg: Buffer, r: RemoteInfo): void => {
    if (!this.fixedPeer) {
      this.peerAddr = r.address;
      this.peerPort = r.port;
    }
    if (msg.length === 0 || !this.onFrames) return;
    // Datagrams read in one poll phase are handed over as one batch.
    this.batch.push(msg);
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(this.flush);
    }
  };

  private constructor(
    o: InterfaceOptions,
    private readonly sock: Socket,
    private readonly fixedPeer: boolean,
  ) {
    super('udpsock', o.Name, o.log ?? (() => {}));
  }

  static async open(o: InterfaceOptions): Promise<UdpInterface> {
    const recv = parseHostPort(o.RecvAddr, 'RecvAddr');
    const sendHp = o.SendAddr ? parseHostPort(o.SendAddr, 'SendAddr') : undefined;
    const send = sendHp ? { ...(await resolveHost(sendHp.host || 'localhost')), port: sendHp.port } : undefined;
    const bind = recv.host ? await resolveHost(recv.host) : undefined;
    const family = bind?.family ?? send?.family ?? 4;
    const sock = createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(recv.port, bind?.address, () => {
        sock.off('error', reject);
        resolve();
      });
    }).catch((e) => {
      sock.close();
      throw new Error(`udpsock ${o.Name}: bind ${o.RecvAddr || ':0'}: ${errorOf(e).message}`);
    });
    const itf = new UdpInterface(o, sock, send !== undefined);
    itf.family = family === 6 ? 6 : 4;
    if (send) {
      itf.peerAddr = send.address;
      itf.peerPort = send.port;
    }
    sock.on('error', (e) => itf.fail('socket', e));
    // Listening before start() too, so a server learns its peer from the first datagram.
    sock.on('message', itf.onMessage);
    const a = sock.address();
    itf.log('info', `udpsock ${o.Name}: listening on ${a.address}:${a.port}${send ? `, sending to ${send.address}:${send.port}` : ''}`);
    return itf;
  }

  /** The bound address (useful when RecvAddr asked for port 0). */
  address(): { address: string; port: number } {
    return this.sock.address();
  }

  protected started(): void {}

  write(frame: Uint8Array): boolean {
    // One datagram = one frame, so the family's UDP limit (65,507 / 65,527) is the frame limit;
    // node:dgram would only fail later, asynchronously, as a socket error.
    const l = limits();
    const max = this.family === 6 ? l.maxUdpPayloadV6 : l.maxUdpPayloadV4;
    if (this.closed || this.peerPort === 0 || frame.length > max) return false;
    if (this.sock.getSendQueueSize() > UDP_QUEUE_LIMIT) return false;
    try {
      // dgram keeps the buffer until the send completes: send a copy.
      this.sock.send(Buffer.from(frame), this.peerPort, this.peerAddr);
      return true;
    } catch (e) {
      this.log('debug', `udpsock ${this.name}: send: ${errorOf(e).message}`);
      return false;
    }
  }

  protected async shutdown(): Promise<void> {
    this.sock.off('message', this.onMessage);
    await new Promise<void>((r) => this.sock.close(() => r()));
  }
}
