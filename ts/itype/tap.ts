// tap: a Linux TAP device through the native addon. Configured at open: MAC, MTU (default
// 1404), IPv4 by ioctl, up; then IPv6 link-local (flushing the kernel's own first, as upstream)
// and IPv6 with the `ip` command. I/O goes through a native NativeIo: a persistent reader thread
// hands JS one batch of frames per call (no per-batch pool task). The edge takes that batch as
// it is (`[len u16][frame]` records, startRecords) into the WASM data plane, and writes what the
// plane delivers the same way (writeRecords): a batch goes to a writer thread (the kernel's
// receive path, which runs inside write() on a TAP, then overlaps with the main thread), a lone
// frame is written at once (no thread hand-off on an idle link). close() joins both threads.
// Up/down and MTU changes are found by polling the device once a second (upstream listened on
// netlink) and emitted as 'up' / 'down' / 'mtu'.
// Offloads (the edge asks with `offloads: true`, docs/interfaces.md §Offloads): the device is
// opened with IFF_VNET_HDR + TUNSETOFFLOAD, so every record read or written carries a 10-byte
// virtio_net_hdr (`vnetHdr`) and reads may be TSO/USO super-frames, which the core segments;
// what the kernel refuses is logged once and stays off.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { BaseInterface, errorOf } from './base.js';
import { MAX_FRAME, splitBatch } from './framing.js';
import type { InterfaceOptions } from './types.js';
import { native, type Native } from '../native/index.js';

type NativeIo = InstanceType<Native['NativeIo']>;

/** NativeIo callback kind: `[count u32 BE][reason UTF-8]`, frames the reader thread discarded. */
export const NATIVE_DROPS = 2;

/** Bytes of frames gathered for one writer-thread batch (flushed earlier when full). */
const WRITE_BATCH_BYTES = 256 << 10;

const run = promisify(execFile);

export const TAP_DEFAULT_MTU = 1404;
/** A lone frame up to this size (record included) is written on the main thread, at once. */
const LONE_WRITE_BYTES = 4096;
/** Bytes of the virtio_net_hdr in front of each frame on a TAP opened with offloads. */
export const VNET_HDR = 10;
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
  private io: NativeIo | undefined;
  private wbuf: Buffer = Buffer.allocUnsafe(WRITE_BATCH_BYTES);
  private wused = 0;
  private wframes = 0;
  private flushQueued = false;
  private readonly flushNow = () => {
    this.flushQueued = false;
    this.flush();
  };
  private poller: NodeJS.Timeout | undefined;
  private stateFailed = false;
  private onRecords: ((records: Uint8Array) => void) | undefined;
  /** Records in both directions carry a virtio_net_hdr (the device was opened with offloads). */
  readonly vnetHdr: boolean;
  /** The TUNSETOFFLOAD bits in force (csum, tso4, tso6, uso4, uso6). */
  readonly offloads: readonly string[];

  private constructor(
    o: InterfaceOptions,
    name: string,
    private readonly n: Native,
    private readonly fd: number,
    mtu: number,
    vnet: { vnetHdr: boolean; offloads: string[] },
  ) {
    super('tap', name, o.log ?? (() => {}));
    this.curMtu = mtu;
    this.vnetHdr = vnet.vnetHdr;
    this.offloads = vnet.offloads;
  }

  static async open(o: InterfaceOptions): Promise<TapInterface> {
    const n = native();
    let h: ReturnType<Native['tapOpen']>;
    try {
      h = n.tapOpen(o.Name, { offloads: (o as InterfaceOptions & { offloads?: boolean }).offloads === true });
    } catch (e) {
      // EBUSY from TUNSETIFF: another process holds the device (a second start of one edge).
      if (/os error 16\b|Device or resource busy/.test(errorOf(e).message)) {
        throw new Error(`tap ${o.Name}: the device is in use by another process (is an edge with Interface.Name ${o.Name} already running in this network namespace?)`);
      }
      throw e;
    }
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
    const itf = new TapInterface(o, dev, n, h.fd, st.mtu, h);
    if (h.offloadNote) itf.log('info', h.offloadNote);
    itf.isUp = st.up;
    itf.poller = setInterval(() => itf.pollState(), TAP_POLL_MS);
    itf.poller.unref();
    itf.log(
      'info',
      `tap ${dev}: up, MTU ${st.mtu}${o.ipv4 ? `, ${o.ipv4.addr}/${o.ipv4.prefixLen}` : ''}${o.ipv6 ? `, ${o.ipv6.addr}/${o.ipv6.prefixLen}` : ''}${o.ipv6ll ? `, ${o.ipv6ll.addr}/64` : ''}${h.vnetHdr ? `, offloads: ${h.offloads.join(' ') || 'none (vnet headers only)'}` : ''}`,
    );
    return itf;
  }

  override mtu(): number {
    return this.curMtu;
  }

  private pollState(): void {
    if (this.closed) return;
    this.reportWriteDrops();
    let st;
    try {
      st = this.n.ifState(this.name);
    } catch (e) {
      if (this.checkGone()) return;
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

  private goneSeen = false;

  /**
   * After a read or state error: whether the device was deleted (its name is gone from
   * /sys/class/net of our namespace). Then every read fails at once for ever (POLLERR), so
   * instead of an error line a second the interface reports 'gone' once and stays quiet.
   */
  private checkGone(): boolean {
    if (this.goneSeen) return true;
    if (existsSync(`/sys/class/net/${this.name}`)) return false;
    this.goneSeen = true;
    this.emit('gone', `TAP device ${this.name} was deleted`);
    return true;
  }

  protected started(): void {
    this.io = this.n.NativeIo.tap(this.fd, (kind, data) => this.onBatch(kind, data), this.vnetHdr);
    // The record path consumes each batch during the call (the core copies it into WASM memory),
    // so batches are lent, not handed over: a few reused buffers instead of one allocation per
    // batch that lives until the GC finds it (the edge's RSS under a flood). start()'s frame
    // consumers may keep frames, so they get batches of their own.
    if (this.onRecords) this.io.borrowBatches?.(true);
  }

  private onBatch(kind: number, data: Buffer): void {
    if (this.closed) return;
    if (kind === NATIVE_DROPS) return this.dropped(data.toString('utf8', 4), data.readUInt32BE(0));
    if (kind !== 0) {
      if (this.checkGone()) return;
      return this.fail('read', new Error(data.toString()));
    }
    if (!this.onRecords) return this.deliver(this.vnetHdr ? this.plainFrames(data) : splitBatch(data, []));
    try {
      this.onRecords(data);
    } catch (e) {
      this.log('error', `tap ${this.name}: frame handler threw: ${errorOf(e).message}`);
    }
  }

  /**
   * The frames of a vnet batch for start()'s per-frame consumers: headers stripped; a super-frame
   * (or a frame whose checksum the kernel left partial) needs the core's segmenter, which only the
   * record path (startRecords) has, so it is a counted drop here.
   */
  private plainFrames(data: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let bad = 0;
    for (let off = 0; off + 2 <= data.length; ) {
      const n = (data[off] << 8) | data[off + 1];
      const r = data.subarray(off + 2, off + 2 + n);
      off += 2 + n;
      if (n < VNET_HDR || r[0] !== 0 || r[1] !== 0) bad++;
      else out.push(r.subarray(VNET_HDR));
    }
    if (bad) this.dropped('super-frame or partial-checksum frame on a vnet TAP read without the core (use startRecords)', bad);
    return out;
  }

  /**
   * Like start(), but each batch is handed on as the native reader filled it: `[len u16 BE][frame]`
   * records (valid during the call), with no per-frame views; with `vnetHdr` each record is
   * `[len u16 BE][virtio_net_hdr][frame]` and the frame may be a super-frame.
   */
  startRecords(onRecords: (records: Uint8Array) => void): void {
    this.onRecords = onRecords;
    this.start(() => {});
  }

  /**
   * Writes `count` frames given as `[len u16 BE][frame]` records (e.g. a view into WASM memory,
   * consumed before this returns); with `vnetHdr`, `[len u16 BE][virtio_net_hdr][frame]` (the
   * core's TAP area in offload mode). Returns how many were taken; the caller counts the rest.
   */
  writeRecords(records: Uint8Array, count: number): number {
    if (this.closed || count === 0) return 0;
    if (!this.io) {
      let ok = 0;
      for (let off = 0; off + 2 <= records.length; ) {
        const n = (records[off] << 8) | records[off + 1];
        if (this.writeRaw(records.subarray(off + 2, off + 2 + n))) ok++;
        off += 2 + n;
      }
      return ok;
    }
    this.flush(); // frames queued by write() go first
    // A lone small frame (a ping, an ACK) is written now; a coalesced super-frame is not: its
    // write runs the kernel's TCP receive path for 64 KiB, which belongs on the writer thread.
    if (count === 1 && records.length <= LONE_WRITE_BYTES) {
      try {
        return this.io.write(records.subarray(2)) ? 1 : 0;
      } catch (e) {
        this.log('debug', `tap ${this.name}: ${errorOf(e).message}`);
        return 0;
      }
    }
    return this.io.writeBatch(records) ? count : 0;
  }

  /** Queues the frame for the writer thread (sent at the end of this event-loop turn). */
  write(frame: Uint8Array): boolean {
    if (this.closed || frame.length > MAX_FRAME) return false;
    const v = this.vnetHdr ? VNET_HDR : 0;
    if (!this.io) return this.writeNow(frame);
    if (this.wused + 2 + v + frame.length > this.wbuf.length) this.flush();
    const b = this.wbuf;
    const at = this.wused;
    b[at] = (v + frame.length) >>> 8;
    b[at + 1] = (v + frame.length) & 0xff;
    // A zero vnet header: an ordinary frame, checksums complete.
    if (v) b.fill(0, at + 2, at + 2 + v);
    b.set(frame, at + 2 + v);
    this.wused = at + 2 + v + frame.length;
    this.wframes++;
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(this.flushNow);
    }
    return true;
  }

  private writeNow(frame: Uint8Array): boolean {
    if (!this.vnetHdr) return this.writeRaw(frame);
    const b = Buffer.alloc(VNET_HDR + frame.length);
    b.set(frame, VNET_HDR);
    return this.writeRaw(b);
  }

  /** One record's bytes as they are (with its vnet header when the device has them). */
  private writeRaw(frame: Uint8Array): boolean {
    try {
      return this.n.tapWrite(this.fd, frame);
    } catch (e) {
      this.log('debug', `tap ${this.name}: ${errorOf(e).message}`);
      return false;
    }
  }

  /** Hands the gathered frames to the writer thread. */
  flush(): void {
    if (this.wused === 0 || !this.io) return;
    const n = this.wframes;
    if (n === 1 && this.wused <= LONE_WRITE_BYTES) {
      // A lone frame (light traffic, pings): write it now rather than wake the writer thread.
      const frame = this.wbuf.subarray(2, this.wused);
      this.wused = 0;
      this.wframes = 0;
      try {
        if (!this.io.write(frame)) this.log('error', `tap ${this.name}: 1 frame dropped: the device queue is full`);
      } catch (e) {
        this.log('error', `tap ${this.name}: 1 frame dropped: ${errorOf(e).message}`);
      }
      return;
    }
    const ok = this.io.writeBatch(this.wbuf.subarray(0, this.wused));
    this.wused = 0;
    this.wframes = 0;
    if (!ok && !this.closed) this.log('error', `tap ${this.name}: ${n} frame(s) dropped: the writer queue is full`);
  }

  private reportWriteDrops(): void {
    if (!this.io) return;
    const [n, err] = this.io.takeWriteDrops();
    if (n > 0) this.log('error', `tap ${this.name}: ${n} frame(s) dropped: write failed: ${err}`);
  }

  protected async shutdown(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    if (this.io) {
      this.flush();
      this.io.close(); // joins the reader and writer threads (they wake at once), closes the fd
      this.reportWriteDrops();
      this.io = undefined;
    } else {
      this.n.tapClose(this.fd);
    }
  }
}
