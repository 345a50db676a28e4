// A WireGuard node: one WgDevice (WASM core), its UDP sockets, its peers, and the timer loop the
// core drives. Edges and the supernode both build on it; they get authenticated plaintexts
// (views into WASM memory) through onPlaintext and send plaintexts with sendTo.
import { addrKey, keyFromBase64, Reason, TickKind, Verdict, WgDevice, WgTimers } from '../core/wg.js';
import { UapiDevice, UapiPeer } from '../uapi/server.js';
import { Clock } from './clock.js';
import { Endpoint, formatEndpoint } from './endpoint.js';
import { Peer, PeerTable, QUEUE_LIMIT } from './peers.js';
import { Transport } from './transport.js';
import { afterSec, Timer } from '../timer.js';
import type { PeerSnapshot } from '../metrics/snapshot.js';

export interface HostLog {
  internal(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  drop(reason: string, fields?: Record<string, unknown>): void;
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
  timers?: WgTimers;
  /** An authenticated, decrypted plaintext; `plain` is only valid during the call. */
  onPlaintext(plain: Uint8Array, from: Peer): void;
  /** Called when a session with the peer becomes usable. */
  onSession?(p: Peer): void;
}

export class WgHost {
  readonly wg: WgDevice;
  readonly peers = new PeerTable();
  readonly transport: Transport;
  private tickTimer?: Timer;
  private tickAt = Infinity;
  private stopped = false;
  private opened = false;
  /** addrKey bytes per Endpoint object (the transport reuses one object per sender). */
  private readonly keys = new WeakMap<Endpoint, Uint8Array>();

  constructor(private readonly o: HostOptions) {
    this.wg = new WgDevice(keyFromBase64(o.privateKey), { clock: o.clock.now, wallClock: o.clock.wallMs });
    if (o.timers) this.wg.setTimers(o.timers);
    this.transport = new Transport({
      port: o.port,
      v4: o.v4,
      v6: o.v6,
      listenV4: o.listenV4,
      listenV6: o.listenV6,
      fwmark: o.fwmark,
      onMessage: (m, from) => this.onDatagram(m, from),
      onBatchEnd: () => this.kick(),
      onError: (e) => o.log.error(`udp: ${e.message}`),
      onDrop: (reason, f) => o.log.drop(`udp: ${reason}`, f),
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
    this.peers.add(p);
    this.o.log.internal('peer added', { node: nodeId, endpoint: o.endpoint ?? '' });
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
    this.wg.removePeer(p.wgId);
    this.peers.remove(p);
    this.o.log.internal('peer removed', { node: p.nodeId });
  }

  private onDatagram(msg: Buffer, from: Endpoint): void {
    if (this.stopped) return;
    const wg = this.wg;
    let key = this.keys.get(from);
    if (!key) {
      key = addrKey(from.address, from.port);
      this.keys.set(from, key);
    }
    const code = wg.handleRaw(msg, key, this.o.clock.now(), false);
    const peer = this.peers.wg(wg.raw.lastPeer());
    switch (code) {
      case Verdict.Data:
        if (!peer) {
          this.o.log.drop('data from an unknown peer', { from: formatEndpoint(from) });
          break;
        }
        this.touch(peer, from, msg.length);
        this.o.onPlaintext(wg.outputView(), peer);
        break;
      case Verdict.Keepalive:
      case Verdict.Nothing:
        if (peer) this.touch(peer, from, msg.length);
        break;
      case Verdict.WriteToNetwork:
      case Verdict.CookieReply:
      case Verdict.SessionReady: {
        const out = wg.outputView();
        if (peer) {
          this.touch(peer, from, msg.length);
          if (code !== Verdict.CookieReply) peer.lastHandshakeMs = this.o.clock.wallMs();
        }
        const len = out.length;
        this.transport.send(out, from); // copies out of WASM memory
        if (peer) peer.txBytes += len;
        if (code === Verdict.SessionReady && peer) {
          this.flush(peer);
          this.o.onSession?.(peer);
        }
        break;
      }
      default:
        this.o.log.drop(`wireguard: ${Reason[code & 0x7f] ?? code & 0x7f}`, { from: formatEndpoint(from), len: msg.length });
    }
    // kick() and the send flush follow once per received batch (onBatchEnd).
  }

  private touch(p: Peer, from: Endpoint, bytes: number): void {
    p.rxBytes += bytes;
    p.lastRx = this.o.clock.now();
    // Roaming: the live endpoint follows the peer (static peers too; only their configured
    // address is never rewritten).
    const ep = p.endpoint;
    if (!ep || ep.address !== from.address || ep.port !== from.port) {
      if (ep) this.o.log.internal('peer roamed', { node: p.nodeId, from: formatEndpoint(ep), to: formatEndpoint(from) });
      p.endpoint = from;
    }
  }

  /** Seals and sends; queues while a handshake is under way. `plain` may be reused afterwards. */
  sendTo(p: Peer, plain: Uint8Array): void {
    if (!p.endpoint) return this.o.log.drop(`peer ${p.nodeId} has no endpoint`, { node: p.nodeId });
    const r = this.wg.raw.encapsulate(p.wgId, plain, this.o.clock.now());
    if (r === 0) {
      const out = this.wg.outputView();
      const len = out.length;
      this.transport.send(out, p.endpoint); // copies out of WASM memory
      p.txBytes += len;
      return;
    }
    if ((r & 0x7f) === Reason.NoSession) {
      if (p.queue.length >= QUEUE_LIMIT) return this.o.log.drop(`queue for peer ${p.nodeId} full while handshaking`, { node: p.nodeId });
      p.queue.push(plain.slice());
      this.kick();
      return;
    }
    this.o.log.drop(`seal for peer ${p.nodeId} failed: ${Reason[r & 0x7f] ?? r}`, { node: p.nodeId });
  }

  private flush(p: Peer): void {
    const q = p.queue;
    p.queue = [];
    for (const plain of q) this.sendTo(p, plain);
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
            if (a.kind === TickKind.SendInitiation) this.o.log.internal('handshake initiation sent', { node: p.nodeId, to: formatEndpoint(p.endpoint) });
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
  peerCounters(): PeerSnapshot[] {
    return [...this.peers.every()].map((p) => ({
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
  }
}
