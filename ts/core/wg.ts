// Typed wrapper over the WASM WireGuard transform and data plane (crates/eg-wasm/src/wg.rs,
// docs/wire.md, docs/architecture.md). Keys are Uint8Array, verdicts and reasons are enums of the
// generated module (one source: the Rust core), tick records are parsed into objects. The data
// path is WgDevice.stage/process: one call per batch, results read in place from WASM memory
// (views re-created whenever the module's memory grows, since growth detaches the old buffer).
import { LIMITS, Reason, SUMMARY, TickKind, Verdict } from './generated.js';
import { wasm } from './wasm.js';

export { Reason, SUMMARY, TickKind, Verdict };

type WasmModule = ReturnType<typeof wasm>;
type RawDevice = InstanceType<WasmModule['WgDevice']>;

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

export const TRANSPORT_HEADER_LEN = LIMITS.transportHeader;
export const TAG_LEN = LIMITS.tag;

/** Length limits of the data path in bytes (docs/wire.md §5), generated from the core. */
export type Limits = typeof LIMITS;

/** The core's length limits (docs/wire.md §5); larger plaintexts are refused with FrameTooLarge. */
export function limits(): Limits {
  return LIMITS;
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
export class MemView {
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
/** The shared view of WASM memory (bytes() / data() are re-created after growth). */
export function mem(): MemView {
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
  private readonly raw: RawDevice;
  private readonly clock: () => number;
  private readonly wall: () => number;
  private stagePtr = 0;
  private stageCap = 0;
  private readonly summaryAt: number;

  constructor(privateKey: Uint8Array, opts: WgDeviceOptions = {}) {
    this.raw = new (wasm().WgDevice)(privateKey);
    this.clock = opts.clock ?? monotonicSeconds;
    this.wall = opts.wallClock ?? Date.now;
    this.summaryAt = this.raw.summaryPtr();
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

  /** Runs due timers; returns what to send / report. */
  tick(now = this.clock(), wallMs = this.wall()): TickAction[] {
    return parseTickRecords(this.raw.tick(now, wallMs));
  }

  /**
   * Counters of the core's under-load defence (crates/eg-core/src/session/ratelimit.rs; WireGuard
   * whitepaper §5.4.7), all counts since the device was made: handshake messages that passed mac1,
   * how many of them arrived under load, cookie replies sent, messages refused by their source
   * address's bucket, and how often the device went under load.
   */
  loadStats(): { handshakes: number; underLoad: number; cookieReplies: number; rateLimited: number; episodes: number } {
    const [handshakes, underLoad, cookieReplies, rateLimited, episodes] = this.raw.loadStats();
    return { handshakes, underLoad, cookieReplies, rateLimited, episodes };
  }

  /**
   * Sets the under-load limits: `budget` handshake messages per second before cookies are
   * demanded (default 100), and under load `sourceRate` messages per second per source address
   * with a burst of `sourceBurst` (defaults 20 and 5).
   */
  setHandshakeLimits(budget: number, sourceRate: number, sourceBurst: number): void {
    this.raw.setHandshakeLimits(budget, sourceRate, sourceBurst);
  }

  /** Monotonic time at which tick() next has work (<= now: now), or undefined. */
  nextDeadline(): number | undefined {
    return this.raw.nextDeadline();
  }

  // ----- data plane (crates/eg-core/src/plane; layouts in ./generated.ts) -----

  /**
   * Edge mode: this node's NodeID, DefaultTTL, L2FIBTimeout and DupCheckTimeout (seconds), and
   * whether the `normal` / `transit` log events are wanted. Without it the device runs in host
   * mode (every authenticated plaintext is a Plain event).
   */
  configureEdge(me: number, defaultTtl: number, fibTimeoutS: number, dedupTimeoutS: number, logNormal: boolean, logTransit: boolean): void {
    this.raw.configureEdge(me, defaultTtl, fibTimeoutS, dedupTimeoutS, logNormal, logTransit);
  }

  /**
   * TAP offloads: `vnet` = the TAP carries 10-byte virtio_net_hdrs (opened with IFF_VNET_HDR);
   * super-frames are cut to IP packets of at most `mtu` bytes (the interface MTU) before sealing
   * and delivered TCP segments are coalesced (crates/eg-core/src/offload; docs/architecture.md).
   */
  setTapOffload(vnet: boolean, mtu: number): void {
    this.raw.setTapOffload(vnet, mtu);
  }

  /** Replaces the plane's next-hop table ([src, dst, next] triples); throws naming the problem. */
  setRoutes(triples: Uint16Array): void {
    this.raw.setRoutes(triples);
  }

  /** Next hop from `src` to `dst` in the plane's table, or undefined. */
  nextHop(src: number, dst: number): number | undefined {
    const n = this.raw.nextHop(src, dst);
    return n >= 65532 ? undefined : n;
  }

  /** Ties a WireGuard peer to its NodeID (`isSuper`: a supernode session, never a next hop). */
  setPeerNode(peer: number, node: number, isSuper: boolean): void {
    this.raw.setPeerNode(peer, node, isSuper);
  }

  /** Where the plane sends datagrams for `peer` (family 0 = unknown: sends are dropped, counted). */
  setEndpoint(peer: number, family: 0 | 4 | 6, port: number, addr: Uint8Array): void {
    this.raw.setEndpoint(peer, family, port, addr);
  }

  /** L2FIB / flood-filter housekeeping; returns the L2FIB entries expired. */
  sweep(now = this.clock()): number {
    return this.raw.sweep(now);
  }

  /** Address in WASM memory of a staging area of at least `len` bytes (write the batch there). */
  stage(len: number): number {
    if (len > this.stageCap) {
      this.stagePtr = this.raw.stage(Math.max(len, 2 * this.stageCap, 64 << 10));
      this.stageCap = Math.max(len, 2 * this.stageCap, 64 << 10);
    }
    return this.stagePtr;
  }

  /** Copies `data` to the staging area; returns its length. `data` may itself be a view into WASM memory. */
  stageBytes(data: Uint8Array): number {
    const inWasm = data.buffer === mem().bytes().buffer;
    const off = data.byteOffset;
    const n = data.length;
    const at = this.stage(n); // may grow memory, detaching a view of it
    const u8 = mem().bytes();
    if (inWasm) u8.copyWithin(at, off, off + n);
    else u8.set(data, at);
    return n;
  }

  /**
   * Processes the first `len` staged bytes as one batch of `mode` records (Mode in ./generated.ts;
   * `family` 4/6 for UDP). Afterwards summary(i) gives the output areas. Throws on a bad mode.
   */
  process(mode: number, len: number, family: number, now = this.clock()): void {
    if (this.raw.process(mode, len, family, now) !== 0) throw new Error(`WgDevice.process: bad batch (mode ${mode}, family ${family}, ${len} bytes)`);
  }

  /**
   * process() with the batch's ChaCha20-Poly1305 left as AEAD jobs (ts/core/aead.ts): counters,
   * replay checks and decisions are made now, in batch order. Then every job of tables 0 and 1
   * must run before the send areas go out; a UDP batch with openPending() needs table 2 run and
   * finishOpen(). docs/architecture.md §Worker threads.
   */
  processDeferred(mode: number, len: number, family: number, now = this.clock()): void {
    if (this.raw.processDeferred(mode, len, family, now) !== 0) throw new Error(`WgDevice.processDeferred: bad batch (mode ${mode}, family ${family}, ${len} bytes)`);
  }

  /** Whether the last processDeferred() left a UDP batch for finishOpen(). */
  openPending(): boolean {
    return this.raw.openPending();
  }

  /** AEAD job table `which` (0/1: seals of the IPv4/IPv6 send area, 2: opens of the staged batch): address, job count, and the address its offsets count from. */
  aeadJobs(which: 0 | 1 | 2): { ptr: number; count: number; area: number } {
    return { ptr: this.raw.aeadJobsPtr(which), count: this.raw.aeadJobCount(which), area: this.raw.aeadAreaPtr(which) };
  }

  /** Runs jobs `from..to` of table `which` on this thread; returns how many failed. */
  runAeadJobs(which: 0 | 1 | 2, from: number, to: number): number {
    return this.raw.runAeadJobs(which, from, to);
  }

  /** Finishes the pending UDP batch once its open jobs ran; summary() then reads as after process(). */
  finishOpen(now = this.clock()): void {
    if (this.raw.finishOpen(now) !== 0) throw new Error('WgDevice.finishOpen: no batch pending');
  }

  /** Summary word `i` (SUMMARY in ./generated.ts) of the last process(). */
  summary(i: number): number {
    return mem().data().getUint32(this.summaryAt + 4 * i, true);
  }

  /** A view of `len` bytes of WASM memory at `ptr` (valid until the next call into the module). */
  view(ptr: number, len: number): Uint8Array {
    return mem().bytes().subarray(ptr, ptr + len);
  }

  free(): void {
    this.raw.free();
  }

  private outputCopy(): Uint8Array {
    return this.raw.output();
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
