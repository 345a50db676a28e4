// A WireGuard node: one WgDevice (WASM core with its data plane), its UDP sockets, its peers, and
// the timer loop the core drives. Edges and the supernode both build on it. Every received batch
// of datagrams crosses into the core once (run()); what comes back is sent / written straight
// from WASM memory, and the events (control messages, handshakes, drops, log lines) are handled
// here or handed to the owner (onEvent, onTap; a supernode gets plaintexts through onPlaintext).
// Plaintexts from TS (control messages, queued packets) go through the same call (sendTo).
import { DROP_EXPECTED, DROP_TEMPLATES, Drop, EV, Ev, Hs, Mode, REC, SUMMARY } from '../core/generated.js';
import { keyFromBase64, Reason, TickKind, WgDevice, WgTimers } from '../core/wg.js';
import { UapiDevice, UapiPeer } from '../uapi/server.js';
import { Clock, pingTimeMs } from './clock.js';
import { Endpoint, formatEndpoint } from './endpoint.js';
import { Peer, PeerTable, QUEUE_LIMIT, peerAlive } from './peers.js';
import { Kind, readHeader } from '../core/frame.js';
import { endpointOfRecord, Transport, type RxStamps } from './transport.js';
import { afterSec, Timer } from '../timer.js';
import type { PeerSnapshot } from '../metrics/snapshot.js';
import { offloadsEnabled } from '../native/index.js';
import { AeadPool } from './aead-pool.js';

export interface HostLog {
  /** Default-level information (an offload the kernel refused); falls back to internal. */
  info?(msg: string, fields?: Record<string, unknown>): void;
  internal(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  /**
   * A counted drop. `expected` marks a reason that is part of normal operation (core
   * `Drop::expected`, e.g. a flood's later copies): count it, but do not report it as a fault.
   */
  drop(reason: string, fields?: Record<string, unknown>, expected?: boolean): void;
}

export interface HostOptions {
  privateKey: string; // base64
  port: number;
  v4: boolean;
  v6: boolean;
  listenV4?: string;
  listenV6?: string;
  fwmark?: number;
  clock: Clock;
  log: HostLog;
  /** Ask the kernel for UDP GSO/GRO (see Transport); default: offloadsEnabled() (EG_OFFLOADS). */
  offloads?: boolean;
  timers?: WgTimers;
  /**
   * Host mode (no edge configured): an authenticated, decrypted plaintext (padded); `plain` is
   * only valid during the call. `rxTimeMs`: when its datagram arrived (rxTimeMs()).
   */
  onPlaintext?(plain: Uint8Array, from: Peer, rxTimeMs: number): void;
  /**
   * Edge mode: an event the host does not handle itself (Control, LogSend, LogDeliver,
   * LogForward, Fib; layout EV in core/generated.ts) at `at` in `ev`, valid during the call.
   */
  onEvent?(type: Ev, ev: DataView, at: number): void;
  /** Edge mode: frames to write to the interface, `[len u16 BE][frame]` records (a view, valid during the call). */
  onTap?(records: Uint8Array, count: number): void;
  /** Called when a session with the peer becomes usable. */
  onSession?(p: Peer): void;
  /**
   * Seconds a plaintext may wait for a session before it is dropped instead of sent (default
   * QUEUE_MAX_AGE_S); pings wait at most pingQueueMaxAgeS (default PING_QUEUE_MAX_AGE_S), as
   * their timestamp is their content.
   */
  queueMaxAgeS?: number;
  pingQueueMaxAgeS?: number;
  /** Let worker threads seal and open large batches (./aead-pool.ts); default true, EG_AEAD_WORKERS=0 turns them off process-wide. */
  aeadWorkers?: boolean;
}

/** A transport error as logged: prefixed `udp: ` once (some transport messages already carry it). */
export function udpErrorText(e: Error): string {
  return e.message.startsWith('udp: ') ? e.message : `udp: ${e.message}`;
}

/** Unanswered handshake initiations to a peer before the host says what to check (noteUnanswered). */
const HANDSHAKE_HINT_AFTER = 3;

/**
 * How long (s) a plaintext may wait for a session. WireGuard keeps staged packets until the
 * handshake gives up (REKEY_ATTEMPT_TIME, 90 s, whitepaper §6.4); a frame of a Layer-2 VPN that
 * old only confuses its receiver (an ARP answer, a TCP segment long retransmitted), and a peer
 * whose endpoint is wrong can take minutes to start a session, so we stop at two REKEY_TIMEOUTs.
 */
export const QUEUE_MAX_AGE_S = 10;
/**
 * How long (s) a ping may wait: its Time is its measurement, so every second in the queue is a
 * second of false latency. A ping older than this is dropped; the next interval measures anew.
 */
export const PING_QUEUE_MAX_AGE_S = 1;

export class WgHost {
  readonly wg: WgDevice;
  readonly peers = new PeerTable();
  readonly transport: Transport;
  private tickTimer?: Timer;
  private tickAt = Infinity;
  private stopped = false;
  private opened = false;
  /** Events of the batch being handled, copied out of WASM memory (handlers may call into the core). */
  private evBuf = new Uint8Array(64 << 10);
  private depth = 0;
  /** Peers whose session just became usable: flush their queue, then tell the owner (onSession). */
  private readonly flushLater: Peer[] = [];
  /** Peers with a queue that an authenticated packet showed can now be sent (responder side). */
  private readonly flushOnly = new Set<Peer>();
  /** Worker threads for the AEAD of large batches (./aead-pool.ts; EG_AEAD_WORKERS). */
  private pool?: AeadPool;

  constructor(private readonly o: HostOptions) {
    this.wg = new WgDevice(keyFromBase64(o.privateKey), { clock: o.clock.now, wallClock: o.clock.wallMs });
    if (o.aeadWorkers ?? true) this.pool = AeadPool.acquire((m) => (o.log.info ?? o.log.internal)(m));
    if (o.timers) this.wg.setTimers(o.timers);
    this.transport = new Transport({
      port: o.port,
      v4: o.v4,
      v6: o.v6,
      listenV4: o.listenV4,
      listenV6: o.listenV6,
      fwmark: o.fwmark,
      onBatch: (family, records, stamps) => this.onUdpBatch(family, records, stamps),
      onError: (e) => o.log.error(udpErrorText(e)),
      onDrop: (reason, f) => o.log.drop(`udp: ${reason}`, f),
      offloads: o.offloads ?? offloadsEnabled(),
      onNote: (m) => (o.log.info ?? o.log.internal)(m),
    });
  }

  async open(): Promise<void> {
    await this.transport.open();
    this.opened = true;
  }

  get port(): number {
    return this.transport.port;
  }

  addPeer(nodeId: number, publicKey: Uint8Array, psk: Uint8Array | undefined, o: { endpoint?: string; isStatic?: boolean; keepalive?: number; isSuper?: boolean } = {}): Peer {
    const wgId = this.wg.addPeer(publicKey, { psk, persistentKeepalive: o.keepalive ?? 0 });
    const p: Peer = {
      nodeId,
      wgId,
      publicKey,
      psk,
      configured: o.endpoint,
      isStatic: o.isStatic ?? false,
      isSuper: o.isSuper ?? false,
      keepalive: o.keepalive ?? 0,
      queue: [],
      rxBytes: 0,
      txBytes: 0,
      lastRx: -Infinity,
      lastHandshakeMs: 0,
    };
    // Every write of p.endpoint (configured, re-resolved, pushed by a supernode, roamed) reaches
    // the data plane, which addresses the send records itself.
    let ep: Endpoint | undefined;
    Object.defineProperty(p, 'endpoint', {
      enumerable: true,
      get: () => ep,
      set: (e: Endpoint | undefined) => {
        ep = e;
        this.syncEndpoint(p, e);
      },
    });
    this.wg.setPeerNode(wgId, nodeId, p.isSuper);
    this.peers.add(p);
    this.o.log.internal('peer added', { node: nodeId, endpoint: o.endpoint || undefined });
    // A persistent keepalive is due at once (wireguard-go sends one when such a peer is
    // configured); before open() the owner kicks once the sockets and endpoints are ready.
    if (p.keepalive > 0 && this.opened) this.kick();
    return p;
  }

  /**
   * Changes a peer's persistent keepalive interval (seconds, integer 0..65535, 0 = off), as
   * `wg set <dev> peer <key> persistent-keepalive <n>` does. Turning it on sends a keepalive (or
   * starts a handshake) at once.
   */
  setPersistentKeepalive(p: Peer, seconds: number): void {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 65535) {
      throw new RangeError(`persistent keepalive must be an integer number of seconds in 0..65535, got ${seconds}`);
    }
    this.wg.setPersistentKeepalive(p.wgId, seconds);
    p.keepalive = seconds;
    this.o.log.internal('persistent keepalive set', { node: p.nodeId, seconds });
    this.kick();
  }

  removePeer(p: Peer): void {
    this.unanswered.delete(p);
    this.wg.removePeer(p.wgId);
    this.peers.remove(p);
    this.o.log.internal('peer removed', { node: p.nodeId });
  }

  private syncEndpoint(p: Peer, e: Endpoint | undefined): void {
    if (!e) return this.wg.setEndpoint(p.wgId, 0, 0, new Uint8Array(16));
    let rec: Uint8Array;
    try {
      rec = this.transport.hdrOf(e);
    } catch (err) {
      this.o.log.error(`peer ${p.nodeId}: endpoint ${formatEndpoint(e)}: ${(err as Error).message}`);
      return this.wg.setEndpoint(p.wgId, 0, 0, new Uint8Array(16));
    }
    this.wg.setEndpoint(p.wgId, e.family, e.port, rec.subarray(2));
  }

  /** The UDP batch being handled: its records' kernel receive times, and when JS got it (fallback). */
  private rx?: { stamps?: RxStamps; arrivedMs: number };

  private onUdpBatch(family: 4 | 6, records: Uint8Array, stamps?: RxStamps): void {
    if (this.stopped) return;
    // Without kernel stamps the best receive time is the batch's arrival in JS, not the later
    // moment a handler runs (the batch's other records are processed in between).
    this.rx = { stamps, arrivedMs: stamps ? NaN : pingTimeMs(this.o.clock) };
    try {
      this.run(Mode.Udp, this.wg.stageBytes(records), family);
    } finally {
      this.rx = undefined;
    }
  }

  /**
   * The receive time, in the clock of ping timestamps (pingTimeMs: ms, test and NTP offsets
   * applied), of UDP record `index` of the batch being handled (a Control or Plain event's
   * EV.SIZE): the kernel's SO_TIMESTAMPNS time converted with Clock.fromRealtimeMs when the
   * socket has it, else when the batch reached JS, else (not in a UDP batch) now.
   * docs/routing.md §Wire timestamps.
   */
  rxTimeMs(index: number): number {
    const rx = this.rx;
    const c = this.o.clock;
    if (rx?.stamps && index < rx.stamps.count && c.fromRealtimeMs) {
      const t = rx.stamps.view.getFloat64(8 * index, true);
      if (Number.isFinite(t)) return c.fromRealtimeMs(t);
    }
    if (rx && Number.isFinite(rx.arrivedMs)) return rx.arrivedMs;
    return pingTimeMs(c);
  }

  /** Address of a staging area of `len` bytes in WASM memory (for run()). */
  stage(len: number): number {
    return this.wg.stage(len);
  }

  /** Frames taken from the interface and messages forwarded by the data plane, since start. */
  fromIface = 0;
  forwarded = 0;
  /** TAP offloads: super-frames read and segmented, and super-frames written (coalesced), since start. */
  superIn = 0;
  superOut = 0;

  /**
   * Processes `len` staged bytes of `mode` records in one call into the core, then sends, writes
   * and handles what it produced (docs/architecture.md). `family`: the UDP socket's (Mode.Udp).
   */
  run(mode: Mode, len: number, family = 0): void {
    if (this.stopped) return;
    const wg = this.wg;
    const pool = this.pool;
    if (pool && len >= pool.minBytes && mode !== Mode.Plain) {
      // Decisions and counters here, in order; the AEAD of the batch on the pool; results as
      // after process() (docs/architecture.md §Worker threads).
      wg.processDeferred(mode, len, family);
      if (wg.openPending()) {
        pool.run(wg, 2);
        wg.finishOpen();
      }
      pool.run(wg, 0);
      pool.run(wg, 1);
    } else {
      wg.process(mode, len, family);
    }
    const n4 = wg.summary(SUMMARY.SEND4_COUNT);
    if (n4) this.transport.sendRecords(4, wg.view(wg.summary(SUMMARY.SEND4_PTR), wg.summary(SUMMARY.SEND4_LEN)), n4);
    const n6 = wg.summary(SUMMARY.SEND6_COUNT);
    if (n6) this.transport.sendRecords(6, wg.view(wg.summary(SUMMARY.SEND6_PTR), wg.summary(SUMMARY.SEND6_LEN)), n6);
    const nt = wg.summary(SUMMARY.TAP_COUNT);
    if (nt) this.o.onTap?.(wg.view(wg.summary(SUMMARY.TAP_PTR), wg.summary(SUMMARY.TAP_LEN)), nt);
    this.fromIface += wg.summary(SUMMARY.FROM_IFACE);
    this.forwarded += wg.summary(SUMMARY.FORWARDED);
    this.superIn += wg.summary(SUMMARY.SUPER_IN);
    this.superOut += wg.summary(SUMMARY.SUPER_OUT);
    const bytes = wg.summary(SUMMARY.EV_BYTES);
    if (bytes) {
      // Copied out: a handler may call into the core again (sendTo), which reuses the areas.
      let ev = this.evBuf;
      if (this.depth > 0) ev = new Uint8Array(bytes);
      else if (ev.length < bytes) ev = this.evBuf = new Uint8Array(Math.max(bytes, 2 * ev.length));
      ev.set(wg.view(wg.summary(SUMMARY.EV_PTR), bytes));
      this.depth++;
      try {
        this.events(ev, bytes);
      } finally {
        this.depth--;
      }
    }
    if (this.depth === 0) {
      while (this.flushLater.length) {
        const p = this.flushLater.shift()!;
        this.flushOnly.delete(p);
        this.flush(p);
        this.o.onSession?.(p);
      }
      for (const p of this.flushOnly) this.flush(p);
      this.flushOnly.clear();
      this.kick();
    }
  }

  private events(buf: Uint8Array, bytes: number): void {
    const dv = new DataView(buf.buffer, buf.byteOffset, bytes);
    for (let at = 0; at + EV.HEADER <= bytes; at += EV.HEADER + dv.getUint32(at + EV.LEN, true)) {
      const type = buf[at + EV.TYPE] as Ev;
      const peerId = dv.getUint32(at + EV.PEER, true);
      const len = dv.getUint32(at + EV.LEN, true);
      const pl = at + EV.HEADER;
      switch (type) {
        case Ev.Peer: {
          const p = this.peers.wg(peerId);
          if (!p) break;
          p.rxBytes += dv.getUint32(pl, true);
          p.txBytes += dv.getUint32(pl + 4, true);
          if (buf[at + EV.KIND] & 1) {
            p.lastRx = this.o.clock.now();
            // The responder's keys become usable when the initiator's first transport message
            // arrives (whitepaper §5.4.6); nothing else tells this side that its queue can go,
            // so an authenticated packet from a peer with a queue flushes it (wireguard-go:
            // SendStagedPackets after the receiving keypair is confirmed).
            if (p.queue.length) this.flushOnly.add(p);
          }
          break;
        }
        case Ev.Drop:
          this.dropEvent(buf, dv, at);
          break;
        case Ev.Queue: {
          const p = this.peers.wg(peerId);
          if (!p) break;
          // Full: the oldest goes, as in wireguard-go's staged queue. Keeping the oldest kept
          // what would be stale by the time a session forms and refused what was current.
          if (p.queue.length >= QUEUE_LIMIT) {
            p.queue.shift();
            this.o.log.drop(dropName(Drop.QueueFull, { node: p.nodeId }), { node: p.nodeId });
          }
          p.queue.push({ plain: buf.slice(pl, pl + len), at: this.o.clock.now() });
          break;
        }
        case Ev.Handshake: {
          const p = this.peers.wg(peerId);
          const sub = buf[at + EV.KIND] as Hs;
          if (p && (sub === Hs.Response || sub === Hs.SessionReady)) {
            p.lastHandshakeMs = this.o.clock.wallMs();
            this.unanswered.delete(p);
          }
          if (p && sub === Hs.SessionReady) this.flushLater.push(p);
          break;
        }
        case Ev.Roam: {
          const p = this.peers.wg(peerId);
          if (!p) break;
          const to = endpointOfRecord(buf[at + EV.KIND] === 6 ? 6 : 4, buf, pl);
          // Roaming: the live endpoint follows the peer (static peers too; only their configured
          // address is never rewritten).
          if (p.endpoint) this.o.log.internal('peer roamed', { node: p.nodeId, from: formatEndpoint(p.endpoint), to: formatEndpoint(to) });
          p.endpoint = to;
          break;
        }
        case Ev.Plain: {
          const p = this.peers.wg(peerId);
          if (!p) this.o.log.drop(dropName(Drop.UnknownPeerData, {}), {});
          else this.o.onPlaintext?.(buf.subarray(pl, pl + len), p, this.rxTimeMs(dv.getUint32(at + EV.SIZE, true)));
          break;
        }
        default:
          this.o.onEvent?.(type, dv, at);
      }
    }
  }

  private dropEvent(buf: Uint8Array, dv: DataView, at: number): void {
    const code = dv.getUint16(at + EV.REASON, true) as Drop;
    const size = dv.getUint32(at + EV.SIZE, true);
    const node = dv.getUint16(at + EV.NODE, true);
    const kind = buf[at + EV.KIND];
    const src = dv.getUint16(at + EV.SRC, true);
    const dst = dv.getUint16(at + EV.DST, true);
    const from = dv.getUint16(at + EV.FROM, true);
    const aux = dv.getUint16(at + EV.AUX, true);
    const wg = Reason[aux] ?? String(aux);
    let fields: Record<string, unknown>;
    switch (code) {
      case Drop.Wireguard: {
        fields = { from: formatEndpoint(endpointOfRecord(kind === 6 ? 6 : 4, buf, at + EV.HEADER)), len: size };
        const p = aux === Reason.DecryptFailed ? this.peers.wg(dv.getUint32(at + EV.PEER, true)) : undefined;
        if (p) p.decryptFailedAt = this.o.clock.now();
        break;
      }
      case Drop.FrameTooLarge:
        fields = { len: size, max: dv.getUint16(at + EV.MAX, true), ...(src || dst ? { src, dst, from } : {}) };
        break;
      case Drop.InterfaceRunt:
        fields = { len: size };
        break;
      case Drop.OffloadRefused:
        fields = { len: size, why: new TextDecoder().decode(buf.subarray(at + EV.HEADER, at + EV.HEADER + dv.getUint32(at + EV.LEN, true))) };
        break;
      case Drop.NotAPeer:
      case Drop.NoEndpoint:
      case Drop.SealFailed:
        fields = { node };
        break;
      default:
        fields = { src, dst, kind, from };
    }
    const expected = DROP_EXPECTED.has(code) || (code === Drop.Wireguard && aux === Reason.UnknownPeer && this.unknownPeerExpected?.() === true);
    this.o.log.drop(dropName(code, { me: this.me, node, kind, src, dst, from, wg }), fields, expected);
  }

  /**
   * Whether a handshake from an unknown key is normal operation right now (counted, logged at
   * debug only): set by a super-mode edge while its peer list is not pulled yet or a newer one
   * is announced and on its way, when a peer that already has the list may reach it first.
   */
  unknownPeerExpected?: () => boolean;

  /** This node's NodeID for drop names (set by an edge). */
  me = 0;

  /**
   * Seals and sends a plaintext (a control message; the supernode's messages); it is queued while
   * a handshake is under way. `plain` may be reused afterwards.
   */
  sendTo(p: Peer, plain: Uint8Array): void {
    this.sendMany(p, [plain]);
  }

  /** The plaintexts to `p` in one batch (Mode.Plain records). */
  private sendMany(p: Peer, plains: readonly Uint8Array[]): void {
    let len = 0;
    for (const x of plains) len += REC.PLAIN + x.length;
    const at = this.wg.stage(len);
    const u8 = this.wg.view(at, len);
    const dv = new DataView(u8.buffer, u8.byteOffset, len);
    let off = 0;
    for (const x of plains) {
      dv.setUint32(off, p.wgId, true);
      dv.setUint32(off + 4, x.length, true);
      u8.set(x, off + REC.PLAIN);
      off += REC.PLAIN + x.length;
    }
    this.run(Mode.Plain, len);
  }

  /** Initiations sent to each peer since its last completed handshake (noteUnanswered). */
  private readonly unanswered = new Map<Peer, number>();

  /**
   * Counts an initiation to `p`; after HANDSHAKE_HINT_AFTER without an answer, says once at the
   * default level what to check. A responder that does not have our key, or whose key we have
   * wrong, drops initiations without a word, so the misconfigured node otherwise logs nothing.
   * Supernode sessions are left to SuperClient's silence report.
   */
  private noteUnanswered(p: Peer): void {
    if (p.isSuper) return;
    const n = (this.unanswered.get(p) ?? 0) + 1;
    this.unanswered.set(p, n);
    if (n === HANDSHAKE_HINT_AFTER) {
      const say = this.o.log.info ?? this.o.log.internal;
      const at = p.endpoint ? formatEndpoint(p.endpoint) : '(no endpoint)';
      say.call(this.o.log, `no handshake with peer ${p.nodeId} at ${at} after ${n} attempts: check its PubKey and that it runs`);
    }
  }

  /**
   * Sends a new handshake initiation to `p` now (replacing any pending one), outside the core's
   * REKEY_TIMEOUT schedule. For a session whose first initiation may have been dropped by a
   * responder that did not know us yet (an edge's supernode sessions). Returns whether one was
   * sent (false without an endpoint or when the core refuses).
   */
  initiateNow(p: Peer): boolean {
    if (this.stopped || !p.endpoint) return false;
    const r = this.wg.initiate(p.wgId);
    if (!r.ok) return false;
    this.transport.send(r.packet, p.endpoint);
    p.txBytes += r.packet.length;
    this.o.log.internal('handshake initiation sent', { node: p.nodeId, to: formatEndpoint(p.endpoint), early: true });
    this.kick();
    return true;
  }

  /**
   * Sends the plaintexts queued for `p`, except those that waited too long (counted and logged:
   * pings after pingQueueMaxAgeS, anything after queueMaxAgeS). Nothing happens while the core
   * has no session keys to send with.
   */
  private flush(p: Peer): void {
    // Without a sending keypair the core would queue them again with a new queue time, and a
    // queue retried on every packet would never age out.
    if (!p.queue.length || !this.wg.hasSession(p.wgId)) return;
    const q = p.queue;
    p.queue = [];
    const now = this.o.clock.now();
    const maxAge = this.o.queueMaxAgeS ?? QUEUE_MAX_AGE_S;
    const pingMaxAge = this.o.pingQueueMaxAgeS ?? PING_QUEUE_MAX_AGE_S;
    const send: Uint8Array[] = [];
    let stale = 0;
    let stalePings = 0;
    for (const x of q) {
      const age = now - x.at;
      if (readHeader(x.plain)?.kind === Kind.Ping && age > pingMaxAge) stalePings++;
      else if (age > maxAge) stale++;
      else send.push(x.plain);
    }
    if (stalePings) this.o.log.drop(`${stalePings} ping(s) to peer ${p.nodeId} waited over ${pingMaxAge} s for a session; not sent (their time would read as latency)`, { node: p.nodeId }, true);
    if (stale) this.o.log.drop(`${stale} packet(s) to peer ${p.nodeId} waited over ${maxAge} s for a session; not sent`, { node: p.nodeId });
    if (send.length) this.sendMany(p, send);
  }

  /** Re-arms the timer at the core's next deadline (the core decides when, we only wait). */
  kick(): void {
    if (this.stopped) return;
    this.transport.flush(); // the datagrams of this batch leave together
    const d = this.wg.nextDeadline();
    if (d === undefined) return;
    if (d >= this.tickAt && this.tickTimer) return;
    this.tickTimer?.cancel();
    this.tickAt = d;
    this.tickTimer = afterSec(Math.max(0, d - this.o.clock.now()), () => this.tick(), { keepAlive: true });
  }

  private tick(): void {
    this.tickTimer = undefined;
    this.tickAt = Infinity;
    if (this.stopped) return;
    for (const a of this.wg.tick()) {
      const p = this.peers.wg(a.peer);
      switch (a.kind) {
        case TickKind.SendInitiation:
        case TickKind.SendKeepalive:
          if (p?.endpoint) {
            this.transport.send(a.packet, p.endpoint);
            p.txBytes += a.packet.length;
            if (a.kind === TickKind.SendInitiation) {
              this.o.log.internal('handshake initiation sent', { node: p.nodeId, to: formatEndpoint(p.endpoint) });
              this.noteUnanswered(p);
            }
          } else if (p) {
            this.o.log.debug('timer wants to send but the peer has no endpoint', { node: p.nodeId });
          }
          break;
        case TickKind.HandshakeGaveUp:
          if (p) {
            if (p.queue.length) this.o.log.drop(`handshake with peer ${p.nodeId} gave up; ${p.queue.length} queued packet(s) dropped`, { node: p.nodeId });
            p.queue = [];
          }
          break;
        case TickKind.KeysZeroed:
          this.o.log.internal('session keys expired and zeroed', { node: p?.nodeId });
          // Like wireguard-go's ZeroAndFlushAll: nothing may wait for keys that are gone.
          if (p?.queue.length) {
            this.o.log.drop(`keys of peer ${p.nodeId} zeroed; ${p.queue.length} queued packet(s) dropped`, { node: p.nodeId });
            p.queue = [];
          }
          break;
      }
    }
    this.kick();
  }

  /**
   * Counters of every peer (supernode sessions included) for observers (ts/metrics/snapshot.ts):
   * read at scrape time from fields the data path already updates; no per-packet cost.
   */
  /** Counters per peer; with `aliveTimeoutS` (PeerAliveTimeout, s) also `alive` (peerAlive). */
  peerCounters(aliveTimeoutS?: number): PeerSnapshot[] {
    const now = this.o.clock.now();
    return [...this.peers.every()].map((p) => ({
      ...(aliveTimeoutS !== undefined ? { alive: peerAlive(p, now, aliveTimeoutS) } : {}),
      nodeId: p.nodeId,
      endpoint: p.endpoint ? formatEndpoint(p.endpoint) : '',
      lastHandshakeMs: p.lastHandshakeMs,
      rxBytes: p.rxBytes,
      txBytes: p.txBytes,
      isSuper: p.isSuper,
    }));
  }

  uapiDevice(fwmark: number): UapiDevice {
    return {
      privateKey: () => keyFromBase64(this.o.privateKey),
      listenPort: () => this.transport.port,
      fwmark: () => fwmark,
      peers: (): UapiPeer[] =>
        [...this.peers.every()].map((p) => ({
          publicKey: p.publicKey,
          presharedKey: p.psk,
          endpoint: p.endpoint ? formatEndpoint(p.endpoint) : undefined,
          lastHandshake: p.lastHandshakeMs ? { sec: Math.floor(p.lastHandshakeMs / 1000), nsec: (p.lastHandshakeMs % 1000) * 1e6 } : undefined,
          rxBytes: p.rxBytes,
          txBytes: p.txBytes,
          persistentKeepalive: p.keepalive,
        })),
      set: (ops) => this.uapiSet(ops),
    };
  }

  /**
   * `wg set` on an edge: only a peer's persistent keepalive may change at run time (peers,
   * keys and endpoints come from the config and the supernode). All-or-nothing: changes
   * nothing unless every line is acceptable. Returns the value of the reply's `errno=` line
   * the way wireguard-go writes it (device/uapi.go, ipc.IpcError*): 0, or a *negated* errno —
   * -EINVAL for a malformed value, -EPERM for anything else or an unknown peer — so that wg(8)
   * prints "Invalid argument" / "Operation not permitted".
   */
  private uapiSet(ops: [string, string][]): number {
    const EPERM = -1;
    const EINVAL = -22;
    const changes: [Peer, number][] = [];
    let peer: Peer | undefined;
    for (const [k, v] of ops) {
      if (k === 'public_key') {
        if (!/^[0-9a-f]{64}$/i.test(v)) return EINVAL;
        const key = Buffer.from(v, 'hex');
        peer = [...this.peers.every()].find((p) => Buffer.from(p.publicKey).equals(key));
        if (!peer) {
          this.o.log.error(`uapi: peer ${key.toString('base64')} is not configured; peers cannot be added at run time`);
          return EPERM;
        }
      } else if (k === 'persistent_keepalive_interval' && peer) {
        // wireguard-go: strconv.ParseUint(value, 10, 16)
        if (!/^[0-9]{1,5}$/.test(v) || Number(v) > 65535) return EINVAL;
        changes.push([peer, Number(v)]);
      } else {
        this.o.log.error(`uapi: '${k}' cannot be changed at run time (only a peer's persistent_keepalive_interval)`);
        return EPERM;
      }
    }
    for (const [p, n] of changes) this.setPersistentKeepalive(p, n);
    return 0;
  }

  close(): void {
    this.stopped = true;
    this.tickTimer?.cancel();
    this.transport.close();
    const pool = this.pool;
    this.pool = undefined;
    if (pool) {
      const { rounds, mainChunks, workerChunks, inline } = pool.stats;
      void pool.release().then((stopped) => stopped && (this.o.log.info ?? this.o.log.internal)('aead: worker threads stopped', { rounds, mainChunks, workerChunks, inline }));
    }
  }

  /** The AEAD worker pool this host uses, if any (tests, benchmarks). */
  get aeadPool(): AeadPool | undefined {
    return this.pool;
  }
}

/** The name of a data-plane drop reason with its placeholders filled (core/generated.ts DROP_TEMPLATES). */
export function dropName(code: Drop, v: Partial<Record<'me' | 'src' | 'dst' | 'from' | 'node' | 'kind' | 'wg', number | string>>): string {
  const t = DROP_TEMPLATES[code] ?? `drop reason ${code}`;
  return t.indexOf('{') < 0 ? t : t.replace(/\{(\w+)\}/g, (_, k: string) => String(v[k as keyof typeof v] ?? `{${k}}`));
}
