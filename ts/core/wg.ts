// Typed wrapper over the WASM WireGuard transform (crates/eg-wasm/src/wg.rs, docs/wire.md).
// Keys are Uint8Array, verdicts and reasons are TS enums, tick records are parsed into objects,
// and WgBatch gives zero-copy access to the in-WASM batch buffer (views re-created whenever the
// module's memory grows, since growth detaches the old ArrayBuffer).
import { wasm } from './wasm.js';

type WasmModule = ReturnType<typeof wasm>;
type RawDevice = InstanceType<WasmModule['WgDevice']>;

/** Verdict of WgDevice.handle (the low codes of the WASM API; errors are folded into Error). */
export enum Verdict {
  Nothing = 0,
  WriteToNetwork = 1,
  CookieReply = 2,
  SessionReady = 3,
  Data = 4,
  Keepalive = 5,
  /** Rejected; the reason is in the result. The WASM code is 0x80 | reason. */
  Error = 0x80,
}

/** Reason codes (eg_core::noise::Reason; stable values, docs/wire.md §4). */
export enum Reason {
  Truncated = 1,
  BadType = 2,
  BadLength = 3,
  BadMac1 = 4,
  NeedCookie = 5,
  BadMac2 = 6,
  UnknownIndex = 7,
  UnknownPeer = 8,
  DecryptFailed = 9,
  Replayed = 10,
  TooOld = 11,
  StaleTimestamp = 12,
  Flood = 13,
  NoSession = 14,
  KeyExpired = 15,
  BufferTooSmall = 16,
  BadKey = 17,
  NotTransport = 18,
  BadPeer = 19,
  UnexpectedCookie = 20,
  FrameTooLarge = 21,
}

/** Kind of a timer record returned by WgDevice.tick. */
export enum TickKind {
  SendInitiation = 1,
  SendKeepalive = 2,
  HandshakeGaveUp = 3,
  KeysZeroed = 4,
}

export type TickAction =
  | { peer: number; kind: TickKind.SendInitiation | TickKind.SendKeepalive; packet: Uint8Array }
  | { peer: number; kind: TickKind.HandshakeGaveUp | TickKind.KeysZeroed };

/** Outcome of WgDevice.handle. `peer` is -1 when the datagram could not be tied to a peer. */
export type HandleResult =
  | { verdict: Verdict.Nothing; peer: number }
  | { verdict: Verdict.WriteToNetwork; peer: number; packet: Uint8Array }
  | { verdict: Verdict.CookieReply; peer: number; packet: Uint8Array; reason: Reason }
  | { verdict: Verdict.SessionReady; peer: number; packet: Uint8Array }
  | { verdict: Verdict.Data; peer: number; data: Uint8Array }
  | { verdict: Verdict.Keepalive; peer: number }
  | { verdict: Verdict.Error; peer: number; reason: Reason; reasonName: string };

/** Outcome of a seal (encapsulate / initiate). */
export type SealResult = { ok: true; packet: Uint8Array } | { ok: false; reason: Reason; reasonName: string };

/** Outcome of one batch slot on open. */
export type OpenResult =
  | { ok: true; peer: number; data: Uint8Array }
  | { ok: false; peer: number; reason: Reason; reasonName: string };

/** Timer overrides in seconds (tests shorten them); unset fields keep the protocol defaults. */
export interface WgTimers {
  rekeyAfterTime?: number;
  rejectAfterTime?: number;
  rekeyAttemptTime?: number;
  rekeyTimeout?: number;
  keepaliveTimeout?: number;
  cookieRefreshTime?: number;
}

export const DEFAULT_TIMERS: Required<WgTimers> = {
  rekeyAfterTime: 120,
  rejectAfterTime: 180,
  rekeyAttemptTime: 90,
  rekeyTimeout: 5,
  keepaliveTimeout: 10,
  cookieRefreshTime: 120,
};

/** Batch slot layout (docs/wire.md §3). */
export const BATCH = {
  LEN_OFFSET: 0,
  PEER_OFFSET: 4,
  MSG_OFFSET: 16,
  PLAINTEXT_OFFSET: 32,
  MIN_STRIDE: 48,
  STATUS_ERROR: 0x8000_0000,
  NO_PEER: 0xffff_ffff,
} as const;

export const TRANSPORT_HEADER_LEN = 16;
export const TAG_LEN = 16;

/** Length limits of the data path in bytes (docs/wire.md §5), read from the core. */
export interface Limits {
  /** 65,507: IPv4 total length (16 bits) − 20 IPv4 header − 8 UDP header. */
  maxUdpPayloadV4: number;
  /** 65,527: IPv6 payload length (16 bits) − 8 UDP header (no jumbograms). */
  maxUdpPayloadV6: number;
  /** Largest transport message ever sealed: one datagram over either family (= the IPv4 limit). */
  maxTransport: number;
  /** Largest plaintext whose padded transport message fits maxTransport (65,472). */
  maxPlaintext: number;
  /** Etherguard header (8). */
  headerLen: number;
  /** Largest Etherguard payload (Ethernet frame or control message) that is sent: 65,464. */
  maxFrame: number;
}

let limitsCache: Limits | undefined;

/** The core's length limits (docs/wire.md §5); larger plaintexts are refused with FrameTooLarge. */
export function limits(): Limits {
  if (!limitsCache) {
    const [maxUdpPayloadV4, maxUdpPayloadV6, maxTransport, maxPlaintext, headerLen, maxFrame] = wasm().wgLimits();
    limitsCache = { maxUdpPayloadV4, maxUdpPayloadV6, maxTransport, maxPlaintext, headerLen, maxFrame };
  }
  return limitsCache;
}

export function padded(len: number): number {
  return (len + 15) & ~15;
}

/** Transport message length for a plaintext of `len` bytes. */
export function transportLen(len: number): number {
  return TRANSPORT_HEADER_LEN + padded(len) + TAG_LEN;
}

// ----- keys -----

export function generatePrivateKey(): Uint8Array {
  return wasm().wgGeneratePrivateKey();
}

export function publicKey(privateKey: Uint8Array): Uint8Array {
  return wasm().wgPublicKey(privateKey);
}

export function keyToBase64(key: Uint8Array): string {
  return wasm().wgKeyToBase64(key);
}

export function keyFromBase64(s: string): Uint8Array {
  return wasm().wgKeyFromBase64(s);
}

/** Name of a reason (or of a 0x80|reason / 0x8000_0000|reason status), e.g. "Replayed". */
export function reasonName(code: number): string {
  return wasm().wgReasonName(code & 0x7f);
}

function isReason(code: number): code is Reason {
  return typeof Reason[code] === 'string';
}

function toReason(code: number): Reason {
  const r = code & 0x7f;
  if (!isReason(r)) throw new Error(`unknown reason code ${r}`);
  return r;
}

/** Monotonic seconds; the device clock unless the caller passes `now`. */
export function monotonicSeconds(): number {
  return performance.now() / 1000;
}

/** The module's linear memory. */
export function wgMemory(): WebAssembly.Memory {
  return wasm().wgMemory() as WebAssembly.Memory;
}

/** Byte view of linear memory, cached and re-created when memory grows (old buffer detached). */
class MemView {
  private mem = wgMemory();
  private u8 = new Uint8Array(this.mem.buffer);
  private dv = new DataView(this.mem.buffer);

  bytes(): Uint8Array {
    if (this.u8.buffer !== this.mem.buffer) this.refresh();
    return this.u8;
  }

  data(): DataView {
    if (this.dv.buffer !== this.mem.buffer) this.refresh();
    return this.dv;
  }

  private refresh(): void {
    this.u8 = new Uint8Array(this.mem.buffer);
    this.dv = new DataView(this.mem.buffer);
  }
}

let memView: MemView | undefined;
function mem(): MemView {
  return (memView ??= new MemView());
}

export interface WgDeviceOptions {
  /** Monotonic clock in seconds used when a call gets no explicit `now`. */
  clock?: () => number;
  /** Wall clock in ms for initiation timestamps (default Date.now). */
  wallClock?: () => number;
}

/** A WireGuard interface with its peers (wraps the WASM WgDevice). */
export class WgDevice {
  readonly raw: RawDevice;
  private readonly clock: () => number;
  private readonly wall: () => number;
  private batchObj: WgBatch | undefined;

  constructor(privateKey: Uint8Array, opts: WgDeviceOptions = {}) {
    this.raw = new (wasm().WgDevice)(privateKey);
    this.clock = opts.clock ?? monotonicSeconds;
    this.wall = opts.wallClock ?? Date.now;
  }

  now(): number {
    return this.clock();
  }

  get publicKey(): Uint8Array {
    return this.raw.publicKey();
  }

  setTimers(t: WgTimers): void {
    const c = { ...DEFAULT_TIMERS, ...t };
    this.raw.setTimers(
      c.rekeyAfterTime,
      c.rejectAfterTime,
      c.rekeyAttemptTime,
      c.rekeyTimeout,
      c.keepaliveTimeout,
      c.cookieRefreshTime,
    );
  }

  /**
   * Adds a peer, returns its id. Throws on a bad key or a duplicate peer. A nonzero
   * `persistentKeepalive` (seconds) makes the first keepalive due at the next tick(): with no
   * traffic at all, that starts the handshake.
   */
  addPeer(publicKey: Uint8Array, opts: { psk?: Uint8Array; persistentKeepalive?: number } = {}): number {
    return this.raw.addPeer(publicKey, opts.psk, opts.persistentKeepalive ?? 0);
  }

  removePeer(peer: number): boolean {
    return this.raw.removePeer(peer);
  }

  /**
   * Sets a peer's persistent keepalive interval in seconds (0 = off). Turning it on (0 → n)
   * makes a keepalive — a handshake initiation if there is no session — due at the next tick(),
   * as wireguard-go does; re-read nextDeadline() afterwards. Throws for an unknown peer.
   */
  setPersistentKeepalive(peer: number, seconds: number): void {
    this.raw.setPersistentKeepalive(peer, seconds);
  }

  /** Peer id of a public key, or -1. */
  peerByKey(publicKey: Uint8Array): number {
    return this.raw.peerByKey(publicKey);
  }

  hasSession(peer: number, now = this.clock()): boolean {
    return this.raw.hasSession(peer, now);
  }

  /** A handshake initiation (148 bytes) to send to the peer. */
  initiate(peer: number, now = this.clock(), wallMs = this.wall()): SealResult {
    return this.sealResult(this.raw.initiate(peer, now, wallMs));
  }

  /**
   * Seals any plaintext (an Etherguard frame, or a raw IP packet when talking to a stock
   * WireGuard peer) into a transport message. NoSession means: queue it, a handshake was
   * requested and the next tick() will produce the initiation.
   */
  encapsulate(peer: number, plaintext: Uint8Array, now = this.clock()): SealResult {
    return this.sealResult(this.raw.encapsulate(peer, plaintext, now));
  }

  /**
   * Processes one received datagram. `src` is any stable encoding of the sender address
   * (see addrKey). Returned bytes are copies; Data is the padded plaintext.
   */
  handle(datagram: Uint8Array, src: Uint8Array, now = this.clock(), underLoad = false): HandleResult {
    const code = this.raw.handle(datagram, src, now, underLoad);
    const peer = this.raw.lastPeer();
    switch (code) {
      case Verdict.Nothing:
        return { verdict: Verdict.Nothing, peer };
      case Verdict.WriteToNetwork:
        return { verdict: Verdict.WriteToNetwork, peer, packet: this.outputCopy() };
      case Verdict.CookieReply:
        return { verdict: Verdict.CookieReply, peer, packet: this.outputCopy(), reason: toReason(this.raw.lastReason()) };
      case Verdict.SessionReady:
        return { verdict: Verdict.SessionReady, peer, packet: this.outputCopy() };
      case Verdict.Data:
        return { verdict: Verdict.Data, peer, data: this.outputCopy() };
      case Verdict.Keepalive:
        return { verdict: Verdict.Keepalive, peer };
      default: {
        if ((code & 0x80) === 0) throw new Error(`unknown verdict code ${code}`);
        const reason = toReason(code);
        return { verdict: Verdict.Error, peer, reason, reasonName: reasonName(reason) };
      }
    }
  }

  /** The raw verdict code of WASM `handle` without copying the output (see outputView). */
  handleRaw(datagram: Uint8Array, src: Uint8Array, now = this.clock(), underLoad = false): number {
    return this.raw.handle(datagram, src, now, underLoad);
  }

  /** View of the last output in WASM memory: valid until the next call into the module. */
  outputView(): Uint8Array {
    const ptr = this.raw.outputPtr();
    const len = this.raw.outputLen();
    return mem().bytes().subarray(ptr, ptr + len);
  }

  /** Runs due timers; returns what to send / report. */
  tick(now = this.clock(), wallMs = this.wall()): TickAction[] {
    return parseTickRecords(this.raw.tick(now, wallMs));
  }

  /** Monotonic time at which tick() next has work (<= now: now), or undefined. */
  nextDeadline(): number | undefined {
    return this.raw.nextDeadline();
  }

  /**
   * The batch helper over this device's in-WASM batch buffer. A device has one batch buffer:
   * asking for a different geometry reallocates it and invalidates the previous WgBatch.
   */
  batch(capacity: number, maxPlaintext = 1500): WgBatch {
    const stride = BATCH.MIN_STRIDE + padded(maxPlaintext);
    const b = this.batchObj;
    if (b && b.valid && b.capacity === capacity && b.stride === stride) return b;
    b?.invalidate();
    this.batchObj = new WgBatch(this.raw, capacity, stride, this.clock);
    return this.batchObj;
  }

  free(): void {
    this.batchObj?.invalidate();
    this.raw.free();
  }

  private outputCopy(): Uint8Array {
    return this.outputView().slice();
  }

  private sealResult(code: number): SealResult {
    if (code === 0) return { ok: true, packet: this.outputCopy() };
    const reason = toReason(code);
    return { ok: false, reason, reasonName: reasonName(reason) };
  }
}

/** Parses `[peer u32 LE][kind u8][len u32 LE][len bytes]` records of WgDevice.tick. */
export function parseTickRecords(rec: Uint8Array): TickAction[] {
  const out: TickAction[] = [];
  const dv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
  let off = 0;
  while (off < rec.length) {
    if (off + 9 > rec.length) throw new Error('truncated tick record');
    const peer = dv.getUint32(off, true);
    const kind = rec[off + 4];
    const len = dv.getUint32(off + 5, true);
    off += 9;
    if (off + len > rec.length) throw new Error('truncated tick record');
    const packet = rec.slice(off, off + len);
    off += len;
    switch (kind) {
      case TickKind.SendInitiation:
      case TickKind.SendKeepalive:
        out.push({ peer, kind, packet });
        break;
      case TickKind.HandshakeGaveUp:
      case TickKind.KeysZeroed:
        out.push({ peer, kind });
        break;
      default:
        throw new Error(`unknown tick record kind ${kind}`);
    }
  }
  return out;
}

/** A stable byte key for a UDP source address (for handle's `src`, which keys cookies). */
export function addrKey(address: string, port: number): Uint8Array {
  return new TextEncoder().encode(`${address}|${port}`);
}

/**
 * Zero-copy access to a device's batch buffer, `capacity` slots of `stride` bytes in WASM
 * memory (layout in docs/wire.md §3). Low level: write slots, call sealSlots/openSlots, read
 * slots (views valid until the next call into the module). High level: seal()/open() on arrays.
 */
export class WgBatch {
  readonly ptr: number;
  private live = true;

  constructor(
    private readonly raw: RawDevice,
    readonly capacity: number,
    readonly stride: number,
    private readonly clock: () => number = monotonicSeconds,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    if (stride < BATCH.MIN_STRIDE || stride % 16 !== 0) throw new RangeError(`bad stride ${stride}`);
    this.ptr = raw.batchAlloc(capacity, stride);
  }

  get valid(): boolean {
    return this.live;
  }

  /** @internal */
  invalidate(): void {
    this.live = false;
  }

  /** Largest plaintext a slot holds. */
  get maxPlaintext(): number {
    return (this.stride - BATCH.MIN_STRIDE) & ~15;
  }

  /** Largest datagram a slot holds. */
  get maxDatagram(): number {
    return this.stride - BATCH.MSG_OFFSET;
  }

  private check(i: number): number {
    if (!this.live) throw new Error('this WgBatch was replaced by another batch() geometry');
    if (i < 0 || i >= this.capacity) throw new RangeError(`slot ${i} out of 0..${this.capacity - 1}`);
    return this.ptr + i * this.stride;
  }

  /** The whole batch buffer as a view (valid until the next call into the module). */
  bytes(): Uint8Array {
    const u8 = mem().bytes();
    return u8.subarray(this.ptr, this.ptr + this.capacity * this.stride);
  }

  /** Slot i: plaintext for `peer`, ready for sealSlots. */
  setPlaintext(i: number, peer: number, plaintext: Uint8Array): void {
    const base = this.check(i);
    if (plaintext.length > this.maxPlaintext) throw new RangeError(`plaintext of ${plaintext.length} > ${this.maxPlaintext}`);
    const dv = mem().data();
    dv.setUint32(base + BATCH.LEN_OFFSET, plaintext.length, true);
    dv.setUint32(base + BATCH.PEER_OFFSET, peer, true);
    mem().bytes().set(plaintext, base + BATCH.PLAINTEXT_OFFSET);
  }

  /** Slot i: plaintext length and peer only; the caller fills plaintextView(i) itself. */
  setPlaintextHeader(i: number, peer: number, len: number): void {
    const base = this.check(i);
    if (len > this.maxPlaintext) throw new RangeError(`plaintext of ${len} > ${this.maxPlaintext}`);
    const dv = mem().data();
    dv.setUint32(base + BATCH.LEN_OFFSET, len, true);
    dv.setUint32(base + BATCH.PEER_OFFSET, peer, true);
  }

  /** Slot i: a received datagram, ready for openSlots. */
  setDatagram(i: number, datagram: Uint8Array): void {
    const base = this.check(i);
    if (datagram.length > this.maxDatagram) throw new RangeError(`datagram of ${datagram.length} > ${this.maxDatagram}`);
    mem().data().setUint32(base + BATCH.LEN_OFFSET, datagram.length, true);
    mem().bytes().set(datagram, base + BATCH.MSG_OFFSET);
  }

  /** Seals slots 0..count-1 in place; returns how many succeeded. */
  sealSlots(count: number, now = this.clock()): number {
    this.check(count - 1);
    const r = this.raw.sealBatch(count, this.stride, now);
    if (r >= BATCH.STATUS_ERROR) throw new Error(`sealBatch: ${reasonName(r)}`);
    return r;
  }

  /** Opens slots 0..count-1 in place; returns how many succeeded. */
  openSlots(count: number, now = this.clock()): number {
    this.check(count - 1);
    const r = this.raw.openBatch(count, this.stride, now);
    if (r >= BATCH.STATUS_ERROR) throw new Error(`openBatch: ${reasonName(r)}`);
    return r;
  }

  /** Raw status word of slot i (a length, or 0x8000_0000 | reason). */
  status(i: number): number {
    return mem().data().getUint32(this.check(i) + BATCH.LEN_OFFSET, true);
  }

  /** Reason of a failed slot, or undefined if it succeeded. */
  reason(i: number): Reason | undefined {
    const s = this.status(i);
    return s >= BATCH.STATUS_ERROR ? toReason(s) : undefined;
  }

  /** Peer word of slot i (after open: the sender, -1 if unknown). */
  peer(i: number): number {
    const p = mem().data().getUint32(this.check(i) + BATCH.PEER_OFFSET, true);
    return p === BATCH.NO_PEER ? -1 : p;
  }

  /** After sealSlots: view of slot i's transport message. */
  messageView(i: number): Uint8Array {
    const base = this.check(i);
    const s = this.status(i);
    const len = s >= BATCH.STATUS_ERROR ? 0 : s;
    return mem().bytes().subarray(base + BATCH.MSG_OFFSET, base + BATCH.MSG_OFFSET + len);
  }

  /** View of slot i's plaintext area: `len` bytes (default: the slot's status length after open). */
  plaintextView(i: number, len?: number): Uint8Array {
    const base = this.check(i);
    let n = len;
    if (n === undefined) {
      const s = this.status(i);
      n = s >= BATCH.STATUS_ERROR ? 0 : s;
    }
    return mem().bytes().subarray(base + BATCH.PLAINTEXT_OFFSET, base + BATCH.PLAINTEXT_OFFSET + n);
  }

  /** Seals many packets (chunked by capacity); results are copies, in order. */
  seal(items: ReadonlyArray<{ peer: number; data: Uint8Array }>, now = this.clock()): SealResult[] {
    const out: SealResult[] = [];
    for (let at = 0; at < items.length; at += this.capacity) {
      const n = Math.min(this.capacity, items.length - at);
      for (let i = 0; i < n; i++) this.setPlaintext(i, items[at + i].peer, items[at + i].data);
      this.sealSlots(n, now);
      for (let i = 0; i < n; i++) {
        const r = this.reason(i);
        out.push(r === undefined ? { ok: true, packet: this.messageView(i).slice() } : { ok: false, reason: r, reasonName: reasonName(r) });
      }
    }
    return out;
  }

  /** Opens many datagrams (chunked by capacity); plaintexts are copies (padded), in order. */
  open(datagrams: ReadonlyArray<Uint8Array>, now = this.clock()): OpenResult[] {
    const out: OpenResult[] = [];
    for (let at = 0; at < datagrams.length; at += this.capacity) {
      const n = Math.min(this.capacity, datagrams.length - at);
      for (let i = 0; i < n; i++) this.setDatagram(i, datagrams[at + i]);
      this.openSlots(n, now);
      for (let i = 0; i < n; i++) {
        const r = this.reason(i);
        const peer = this.peer(i);
        out.push(r === undefined ? { ok: true, peer, data: this.plaintextView(i).slice() } : { ok: false, peer, reason: r, reasonName: reasonName(r) });
      }
    }
    return out;
  }
}
