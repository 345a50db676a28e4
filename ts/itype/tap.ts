// tap: a Linux TAP device through the native addon. Configured at open: MAC, MTU (default
// 1404), IPv4 by ioctl, up; then IPv6 link-local (flushing the kernel's own first, as upstream)
// and IPv6 with the `ip` command. Frames are read in batches on libuv's pool (poll timeout
// 200 ms, so close() returns within that), written with one non-blocking write each.
// Up/down and MTU changes are found by polling the device once a second (upstream listened on
// netlink) and emitted as 'up' / 'down' / 'mtu'.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BaseInterface, Waker, errorOf } from './base.js';
import { MAX_FRAME, splitBatch } from './framing.js';
import { READ_MAX_BYTES, READ_TIMEOUT_MS } from './unixmsg.js';
import type { InterfaceOptions } from './types.js';
import { native, type Native } from '../native/index.js';

const run = promisify(execFile);

export const TAP_DEFAULT_MTU = 1404;
export const TAP_POLL_MS = 1000;

async function ip(args: string[]): Promise<void> {
  try {
    await run('ip', args, { timeout: 10_000 });
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`ip ${args.join(' ')}: ${(err.stderr || err.message).trim()}`);
  }
}

export class TapInterface extends BaseInterface {
  private curMtu: number;
  private isUp = true;
  private loop: Promise<void> | undefined;
  private readonly waker = new Waker();
  private poller: NodeJS.Timeout | undefined;
  private stateFailed = false;

  private constructor(
    o: InterfaceOptions,
    name: string,
    private readonly n: Native,
    private readonly fd: number,
    mtu: number,
  ) {
    super('tap', name, o.log ?? (() => {}));
    this.curMtu = mtu;
  }

  static async open(o: InterfaceOptions): Promise<TapInterface> {
    const n = native();
    const h = n.tapOpen(o.Name);
    const dev = h.name;
    try {
      n.ifSetMac(dev, Buffer.from(o.mac));
      n.ifSetMtu(dev, o.MTU ?? TAP_DEFAULT_MTU);
      if (o.ipv4) n.ifSetIpv4(dev, o.ipv4.addr, o.ipv4.prefixLen);
      n.ifSetUp(dev, true);
      if (o.ipv6ll) {
        // Replace the kernel's own link-local with ours, always as /64 (upstream does the same).
        await ip(['-6', 'addr', 'flush', 'dev', dev, 'scope', 'link']);
        await ip(['-6', 'addr', 'add', `${o.ipv6ll.addr}/64`, 'dev', dev]);
      }
      if (o.ipv6) await ip(['-6', 'addr', 'add', `${o.ipv6.addr}/${o.ipv6.prefixLen}`, 'dev', dev]);
    } catch (e) {
      try {
        n.tapClose(h.fd);
      } catch {
        /* the configuration error is the one to report */
      }
      throw new Error(`tap ${dev}: ${errorOf(e).message}`);
    }
    const st = n.ifState(dev);
    const itf = new TapInterface(o, dev, n, h.fd, st.mtu);
    itf.isUp = st.up;
    itf.poller = setInterval(() => itf.pollState(), TAP_POLL_MS);
    itf.poller.unref();
    itf.log(
      'info',
      `tap ${dev}: up, MTU ${st.mtu}${o.ipv4 ? `, ${o.ipv4.addr}/${o.ipv4.prefixLen}` : ''}${o.ipv6 ? `, ${o.ipv6.addr}/${o.ipv6.prefixLen}` : ''}${o.ipv6ll ? `, ${o.ipv6ll.addr}/64` : ''}`,
    );
    return itf;
  }

  override mtu(): number {
    return this.curMtu;
  }

  private pollState(): void {
    if (this.closed) return;
    let st;
    try {
      st = this.n.ifState(this.name);
    } catch (e) {
      if (!this.stateFailed) this.fail('reading device state', e);
      this.stateFailed = true;
      return;
    }
    this.stateFailed = false;
    if (st.mtu !== this.curMtu) {
      this.curMtu = st.mtu;
      this.log('info', `tap ${this.name}: MTU is now ${st.mtu}`);
      this.emit('mtu', st.mtu);
    }
    if (st.up !== this.isUp) {
      this.isUp = st.up;
      this.log('info', `tap ${this.name}: ${st.up ? 'up' : 'down'}`);
      this.emit(st.up ? 'up' : 'down');
    }
  }

  protected started(): void {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      let b: Buffer;
      try {
        b = (await this.n.tapReadBatch(this.fd, READ_TIMEOUT_MS, READ_MAX_BYTES)) as Buffer;
      } catch (e) {
        this.fail('read', e);
        await this.waker.sleep(1000);
        continue;
      }
      if (b.length > 0) this.deliver(splitBatch(b, []));
    }
  }

  write(frame: Uint8Array): boolean {
    if (this.closed || frame.length > MAX_FRAME) return false;
    try {
      return this.n.tapWrite(this.fd, frame);
    } catch (e) {
      this.log('debug', `tap ${this.name}: ${errorOf(e).message}`);
      return false;
    }
  }

  protected async shutdown(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    this.waker.wake();
    await this.loop; // returns within one read timeout; then no pool thread uses the fd
    this.n.tapClose(this.fd);
  }
}
