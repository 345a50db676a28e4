// The UDP sockets of an edge: one IPv4 and one IPv6 socket on the same port (upstream's
// ListenPort semantics; 0 = random, and the v6 socket then takes the v4 one's port).
import { createSocket, Socket, RemoteInfo } from 'node:dgram';
import { Endpoint } from './endpoint.js';
import { loadNative } from '../native/index.js';

export interface TransportOptions {
  port: number;
  v4: boolean;
  v6: boolean;
  listenV4?: string;
  listenV6?: string;
  fwmark?: number;
  onMessage: (msg: Buffer, from: Endpoint) => void;
  onError: (e: Error) => void;
}

export class Transport {
  private s4?: Socket;
  private s6?: Socket;
  port = 0;

  constructor(private readonly o: TransportOptions) {}

  async open(): Promise<void> {
    const bind = (s: Socket, port: number, addr: string) =>
      new Promise<number>((res, rej) => {
        s.once('error', rej);
        s.bind(port, addr, () => {
          s.off('error', rej);
          res(s.address().port);
        });
      });
    let port = this.o.port;
    if (this.o.v4) {
      this.s4 = this.wire(createSocket({ type: 'udp4', reuseAddr: false }), 4);
      port = await bind(this.s4, port, this.o.listenV4 || '0.0.0.0');
    }
    if (this.o.v6) {
      this.s6 = this.wire(createSocket({ type: 'udp6', ipv6Only: true }), 6);
      port = await bind(this.s6, port, this.o.listenV6 || '::');
    }
    this.port = port;
    if (this.o.fwmark) this.applyMark(this.o.fwmark);
  }

  private wire(s: Socket, family: 4 | 6): Socket {
    s.on('message', (msg: Buffer, r: RemoteInfo) => this.o.onMessage(msg, { address: r.address, port: r.port, family }));
    s.on('error', (e) => this.o.onError(e));
    return s;
  }

  private applyMark(mark: number): void {
    const n = loadNative();
    if (!n.ok) throw new Error(`FwMark ${mark} needs the native addon: ${n.error}`);
    for (const s of [this.s4, this.s6]) {
      // node:dgram has no SO_MARK option; its handle's fd is the socket's own.
      const fd = (s as unknown as { _handle?: { fd?: number } } | undefined)?._handle?.fd;
      if (s && typeof fd === 'number' && fd >= 0) n.mod.setSocketMark(fd, mark);
    }
  }

  send(data: Uint8Array, to: Endpoint): void {
    const s = to.family === 6 ? this.s6 : this.s4;
    if (!s) {
      this.o.onError(new Error(`no IPv${to.family} socket (address family disabled) for ${to.address}`));
      return;
    }
    s.send(data, to.port, to.address);
  }

  close(): void {
    this.s4?.close();
    this.s6?.close();
    this.s4 = this.s6 = undefined;
  }
}
