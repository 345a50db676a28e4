// The UDP sockets of an edge: one IPv4 and one IPv6 socket on the same port (upstream's
// ListenPort semantics; 0 = random, and the v6 socket then takes the v4 one's port).
//
// With the native addon the sockets are native (NativeIo): a reader thread receives with
// recvmmsg and hands JS one batch of records per call (onBatch, passed on untouched to the data
// plane), and a batch the data plane sealed goes out from WASM memory with one sendmmsg
// (sendRecords). Odd sends (timers) are gathered into one buffer per socket and leave with
// one sendmmsg (flush(), or at the end of the event-loop turn). Both sockets get
// SOCKET_BUF_BYTES of buffer. Without the addon (or with EG_NATIVE_UDP=0) node:dgram is used,
// one datagram per call, each handed on as a batch of one record.
// Offloads (`offloads: true`): native sockets send runs of equal-sized datagrams to one address
// as one UDP_SEGMENT (GSO) message and receive with UDP_GRO (split back by the reader, so the
// records are the datagrams sent); what the kernel refuses, or later refuses (EIO), is reported
// once through onNote and stays off.
import { createSocket, Socket, RemoteInfo } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Endpoint } from './endpoint.js';
import { loadNative, type Native } from '../native/index.js';
import { limits } from '../core/wg.js';
import { REC as REC_LAYOUT } from '../core/generated.js';

type NativeIo = InstanceType<Native['NativeIo']>;

export interface TransportOptions {
  port: number;
  v4: boolean;
  v6: boolean;
  listenV4?: string;
  listenV6?: string;
  fwmark?: number;
  /**
   * A batch of received datagrams as records `[len u16 BE][port u16 BE][address 16][datagram]`
   * (IPv4: the first 4 address bytes), the layout the data plane takes (REC.UDP); only valid
   * during the call. `stamps`: the kernel receive time of each record (RxStamps), when the
   * native socket has them.
   */
  onBatch: (family: 4 | 6, records: Uint8Array, stamps?: RxStamps) => void;
  onError: (e: Error) => void;
  /** A datagram not sent or not received, with the reason (counted by the caller). */
  onDrop?: (reason: string, fields: Record<string, unknown>) => void;
  /** Ask for UDP GSO and GRO on native sockets (docs/interfaces.md §Offloads). Default off. */
  offloads?: boolean;
  /** One line about an offload the kernel refused (logged once by the caller). */
  onNote?: (msg: string) => void;
}

/** SO_RCVBUF / SO_SNDBUF of native sockets (forced past rmem_max/wmem_max when permitted). */
export const SOCKET_BUF_BYTES = 4 << 20;
/** Bytes gathered per socket before a send batch is flushed early. */
const SEND_BATCH_BYTES = 256 << 10;
/** Per-datagram record header in native batches: len u16, port u16, address 16 bytes. */
const REC = REC_LAYOUT.UDP;
/** NativeIo callback kind for reads the native side discarded: `[count u32 BE][reason]`. */
const NATIVE_DROPS = 2;
/** NativeIo callback kind for a batch followed by receive timestamps (crates/eg-native/src/io.rs). */
const NATIVE_STAMPED = 3;

/**
 * Kernel receive times of the records of one batch (SO_TIMESTAMPNS, CLOCK_REALTIME): record i's
 * time is `view.getFloat64(8 * i, true)` in ms since the Unix epoch (NaN: none); `count` records.
 * Valid only during the onBatch call.
 */
export interface RxStamps {
  view: DataView;
  count: number;
}

interface NSock {
  family: 4 | 6;
  io: NativeIo;
  /** GSO is on: a send may switch it off (EIO), which the native side notes once. */
  gso: boolean;
  buf: Buffer;
  used: number;
  count: number;
}

export class Transport {
  private s4?: Socket;
  private s6?: Socket;
  private n4?: NSock;
  private n6?: NSock;
  private closed = false;
  private flushQueued = false;
  private readonly hdrs = new WeakMap<Endpoint, Uint8Array>();
  private readonly flushNow = () => {
    this.flushQueued = false;
    this.flush();
  };
  port = 0;

  constructor(private readonly o: TransportOptions) {}

  async open(): Promise<void> {
    const n = loadNative();
    if (n.ok && typeof n.mod.NativeIo?.udp === 'function' && process.env.EG_NATIVE_UDP !== '0') return this.openNative(n.mod);
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

  private async openNative(mod: Native): Promise<void> {
    const numeric = async (a: string | undefined, family: 4 | 6): Promise<string> => {
      if (!a) return '';
      if (isIP(a)) return a;
      return (await lookup(a, { family })).address;
    };
    const mk = (family: 4 | 6, addr: string, port: number): NSock => {
      const s: NSock = { family, io: undefined as unknown as NativeIo, gso: false, buf: Buffer.allocUnsafe(SEND_BATCH_BYTES), used: 0, count: 0 };
      const off = this.o.offloads === true;
      s.io = mod.NativeIo.udp(family, addr, port, SOCKET_BUF_BYTES, (kind, data) => this.onBatch(s, kind, data), { gso: off, gro: off, timestamps: true });
      // onBatch consumes a batch during the call (docs above): lent, not handed over, so a
      // flood reuses a few native buffers instead of allocating one per batch for the GC.
      s.io.borrowBatches?.(true);
      s.gso = s.io.udpGso;
      this.note(s);
      return s;
    };
    let port = this.o.port;
    try {
      if (this.o.v4) {
        this.n4 = mk(4, await numeric(this.o.listenV4, 4), port);
        port = this.n4.io.port;
      }
      if (this.o.v6) {
        this.n6 = mk(6, await numeric(this.o.listenV6, 6), port);
        port = this.n6.io.port;
      }
      this.port = port;
      if (this.o.fwmark) this.applyMark(this.o.fwmark);
    } catch (e) {
      this.close();
      throw e;
    }
  }

  private wire(s: Socket, family: 4 | 6): Socket {
    s.on('message', (msg: Buffer, r: RemoteInfo) => {
      // Fallback path: one record per datagram (allocates; the native path does not).
      const rec = Buffer.allocUnsafe(REC + msg.length);
      rec.writeUInt16BE(msg.length, 0);
      rec.writeUInt16BE(r.port, 2);
      rec.fill(0, 4, REC);
      rec.set(family === 6 ? parseV6(r.address) : parseV4(r.address), 4);
      rec.set(msg, REC);
      this.o.onBatch(family, rec);
    });
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
    for (const s of [this.n4, this.n6]) if (s) n.mod.setSocketMark(s.io.fd, mark);
  }

  private onBatch(s: NSock, kind: number, data: Buffer): void {
    if (this.closed) return;
    if (kind === NATIVE_DROPS) {
      for (let i = data.readUInt32BE(0); i > 0; i--) this.drop(data.toString('utf8', 4), {});
      return;
    }
    if (kind === NATIVE_STAMPED) {
      // [records][f64 LE x count][count u32 LE]: split without copying.
      const count = data.length >= 4 ? data.readUInt32LE(data.length - 4) : -1;
      const end = data.length - 4 - 8 * count;
      if (count < 0 || end < 0) return this.o.onError(new Error(`udp: malformed timestamped batch (${data.length} bytes)`));
      return this.o.onBatch(s.family, data.subarray(0, end), { view: new DataView(data.buffer, data.byteOffset + end, 8 * count), count });
    }
    if (kind !== 0) return this.o.onError(new Error(data.toString()));
    this.o.onBatch(s.family, data);
  }

  /**
   * Sends `count` records `[len u16 BE][port u16 BE][address 16][datagram]` (a send area of the
   * data plane, a view into WASM memory) on the family's socket: with the native addon straight
   * from `records` with sendmmsg. What was gathered by send() leaves first, keeping the order.
   */
  sendRecords(family: 4 | 6, records: Uint8Array, count: number): void {
    if (this.closed || count === 0) return;
    const ns = family === 6 ? this.n6 : this.n4;
    if (ns) {
      if (ns.count) this.flushSock(ns);
      const failed = ns.io.sendBatch(records, count);
      if (ns.gso && !ns.io.udpGso) this.note(ns);
      if (failed > 0 && !this.closed) this.o.onError(new Error(`udp: ${failed} of ${count} datagram(s) not sent (dropped): ${ns.io.lastSendError()}`));
      return;
    }
    let off = 0;
    for (let i = 0; i < count && off + REC <= records.length; i++) {
      const len = (records[off] << 8) | records[off + 1];
      const port = (records[off + 2] << 8) | records[off + 3];
      const a = records.subarray(off + 4, off + REC);
      const address = family === 4 ? `${a[0]}.${a[1]}.${a[2]}.${a[3]}` : formatV6(a);
      this.send(records.subarray(off + REC, off + REC + len), { address, port, family });
      off += REC + len;
    }
  }

  /** Port + address bytes of a send record for `to` (cached per Endpoint object); throws for a non-numeric address. */
  hdrOf(to: Endpoint): Uint8Array {
    let h = this.hdrs.get(to);
    if (!h) {
      h = new Uint8Array(18);
      h[0] = to.port >>> 8;
      h[1] = to.port & 0xff;
      h.set(to.family === 6 ? parseV6(to.address) : parseV4(to.address), 2);
      this.hdrs.set(to, h);
    }
    return h;
  }

  /** Sends (native: gathers; the batch leaves at flush() or at the end of this turn). `data` may be reused afterwards. */
  send(data: Uint8Array, to: Endpoint): void {
    if (this.closed) return;
    // The native record's length is a u16 and the kernel's limit is below it: a longer datagram
    // would wrap (65,536 → 0) rather than fail, so it is refused here, by name.
    const max = to.family === 6 ? limits().maxUdpPayloadV6 : limits().maxUdpPayloadV4;
    if (data.length > max) return this.drop('datagram too large', { len: data.length, max, to: to.address });
    const ns = to.family === 6 ? this.n6 : this.n4;
    if (ns) {
      let h: Uint8Array;
      try {
        h = this.hdrOf(to);
      } catch (e) {
        return this.o.onError(new Error(`udp: cannot send to ${to.address}: ${(e as Error).message}`));
      }
      if (REC + data.length > ns.buf.length) return this.o.onError(new Error(`udp: datagram of ${data.length} bytes to ${to.address} is too large`));
      if (ns.used + REC + data.length > ns.buf.length) this.flushSock(ns);
      const b = ns.buf;
      const at = ns.used;
      b[at] = data.length >>> 8;
      b[at + 1] = data.length & 0xff;
      b.set(h, at + 2);
      b.set(data, at + REC);
      ns.used = at + REC + data.length;
      ns.count++;
      if (!this.flushQueued) {
        this.flushQueued = true;
        setImmediate(this.flushNow);
      }
      return;
    }
    const s = to.family === 6 ? this.s6 : this.s4;
    if (!s) {
      this.o.onError(new Error(`no IPv${to.family} socket (address family disabled) for ${to.address}`));
      return;
    }
    s.send(data.slice(), to.port, to.address);
  }

  /** Passes on the native side's one line about a refused offload, if there is one. */
  private note(s: NSock): void {
    s.gso = s.io.udpGso;
    const m = s.io.takeOffloadNote();
    if (m) (this.o.onNote ?? ((x: string) => this.o.onError(new Error(x))))(m);
  }

  private drop(reason: string, fields: Record<string, unknown>): void {
    if (this.o.onDrop) this.o.onDrop(reason, fields);
    else this.o.onError(new Error(`${reason} ${JSON.stringify(fields)}`));
  }

  /**
   * CLOCK_REALTIME (ms) read right before the family's last native sendmmsg batch (NaN: none, or
   * node:dgram); ts/edge/txstamp.ts.
   */
  lastSendMs(family: 4 | 6): number {
    const ns = family === 6 ? this.n6 : this.n4;
    const v = ns ? (ns.io as unknown as { lastSendMs?: number }).lastSendMs : undefined;
    return typeof v === 'number' ? v : NaN;
  }

  /** Whether received datagrams carry kernel receive timestamps (native sockets with SO_TIMESTAMPNS). */
  get rxTimestamps(): boolean {
    const ns = this.n4 ?? this.n6;
    return ns !== undefined && (ns.io as unknown as { rxTimestamps?: boolean }).rxTimestamps === true;
  }

  /** Sends what send() gathered. */
  flush(): void {
    if (this.n4?.count) this.flushSock(this.n4);
    if (this.n6?.count) this.flushSock(this.n6);
  }

  private flushSock(s: NSock): void {
    if (s.count === 0) return;
    const count = s.count;
    const failed = s.io.sendBatch(s.buf.subarray(0, s.used), count);
    s.used = 0;
    s.count = 0;
    if (failed > 0 && !this.closed) this.o.onError(new Error(`udp: ${failed} of ${count} datagram(s) not sent (dropped): ${s.io.lastSendError()}`));
  }

  close(): void {
    if (!this.closed) this.flush();
    this.closed = true;
    this.s4?.close();
    this.s6?.close();
    this.s4 = this.s6 = undefined;
    this.n4?.io.close();
    this.n6?.io.close();
    this.n4 = this.n6 = undefined;
  }
}

/** The Endpoint of the 18 record bytes `[port u16 BE][address 16]` at `at`. */
export function endpointOfRecord(family: 4 | 6, b: Uint8Array, at: number): Endpoint {
  const a = b.subarray(at + 2, at + 18);
  return { address: family === 4 ? `${a[0]}.${a[1]}.${a[2]}.${a[3]}` : formatV6(a), port: (b[at] << 8) | b[at + 1], family };
}

function parseV4(a: string): Uint8Array {
  const p = a.split('.');
  const out = new Uint8Array(16);
  if (p.length !== 4) throw new Error(`${a} is not an IPv4 address`);
  for (let i = 0; i < 4; i++) {
    const v = Number(p[i]);
    if (!(v >= 0 && v <= 255) || p[i] === '') throw new Error(`${a} is not an IPv4 address`);
    out[i] = v;
  }
  return out;
}

/** 16 bytes of a numeric IPv6 address (with `::`, an embedded IPv4 tail; a %zone is ignored). */
export function parseV6(addr: string): Uint8Array {
  const a = addr.replace(/%.*$/, '');
  const bad = () => new Error(`${addr} is not an IPv6 address`);
  const groups = (s: string): number[] => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    parts.forEach((g, i) => {
      if (i === parts.length - 1 && g.includes('.')) {
        const v4 = parseV4(g);
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw bad();
        out.push(parseInt(g, 16));
      }
    });
    return out;
  };
  const dbl = a.indexOf('::');
  let g: number[];
  if (dbl >= 0) {
    const head = groups(a.slice(0, dbl));
    const tail = groups(a.slice(dbl + 2));
    if (head.length + tail.length > 7) throw bad();
    g = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    g = groups(a);
  }
  if (g.length !== 8) throw bad();
  const out = new Uint8Array(16);
  g.forEach((v, i) => {
    out[2 * i] = v >>> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

/** The canonical (RFC 5952) text of 16 address bytes, as node:dgram reports it. */
export function formatV6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i] << 8) | b[i + 1]);
  // IPv4-mapped (::ffff:a.b.c.d) is printed with a dotted tail, as inet_ntop does.
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}
