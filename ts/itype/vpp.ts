// vpp: a memif client ("slave") in the native addon (crates/eg-native/src/memif), connected to
// the memif server (VPP, or any memif 2.0 server such as DPDK's net_memif PMD) on the socket file
// `$VPP_MEMIF_SOCKET_DIR/<Name>.sock` (default directory /var/run/eggo-vpp, as upstream). The
// native worker thread connects, reconnects after the server goes away, and hands frames to JS in
// batches of `[len u16 BE][frame]` records, like the TAP path: the edge stages them into the WASM
// data plane as they are (startRecords), and what the plane delivers goes into the ring as one
// batch (writeRecords: one index store, at most one interrupt).
//
// While no server is connected the interface stays up (the edge keeps routing); frames for it are
// dropped and counted as `memif peer not connected`. A full ring and frames longer than the MTU
// allows (MTU + 14 Ethernet + 4 VLAN tag) are counted the same way, never queued without bound.
//
// VPP's binary API (VPP_API_SOCKET_PATH, default /run/vpp/api.sock) is not spoken: upstream used it
// to create the memif in VPP and attach it to bridge domain VPPBridgeID; here the operator does
// that once with vppctl (docs/interfaces.md §vpp), and the open logs one line saying which case
// applies.
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BaseInterface, errorOf } from './base.js';
import { splitBatch } from './framing.js';
import type { InterfaceOptions } from './types.js';
import { native, type Native } from '../native/index.js';

type Memif = InstanceType<Native['Memif']>;

/** Upstream's default memif socket directory (etherguard-go tap/tap_vpp.go). */
export const VPP_MEMIF_SOCKET_DIR_DEFAULT = '/var/run/eggo-vpp';
/** govpp's default binary API socket, which upstream used when VPP_API_SOCKET_PATH is unset. */
export const VPP_API_SOCKET_DEFAULT = '/run/vpp/api.sock';
/** Upstream's memif: 1024 slots each way, 2048-byte buffers, one queue pair. */
export const VPP_DEFAULT_RING_SIZE = 1024;
export const VPP_DEFAULT_BUFFER_SIZE = 2048;
export const VPP_DEFAULT_MTU = 1404;
/** Bytes a frame may have beyond the MTU: the Ethernet header and one 802.1Q tag. */
export const VPP_FRAME_OVERHEAD = 18;

/** Drop reasons (counted by the edge, `etherguard_drops_total{reason=...}`). */
export const VPP_DROP_NOT_CONNECTED = 'memif peer not connected';
export const VPP_DROP_RING_FULL = 'memif ring full';
export const vppDropTooLong = (max: number): string => `frame longer than the memif MTU allows (${max} bytes)`;

/** Callback kinds of the native Memif (crates/eg-native/src/memif/mod.rs). */
const K_BATCH = 0;
const K_ERROR = 1;
const K_DROPS = 2;
const K_UP = 3;
const K_DOWN = 4;
const K_INFO = 5;

/** The memif socket path for an interface name: `$VPP_MEMIF_SOCKET_DIR/<Name>.sock`. */
export function memifSocketPath(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(env.VPP_MEMIF_SOCKET_DIR || VPP_MEMIF_SOCKET_DIR_DEFAULT, `${name}.sock`);
}

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

export class VppInterface extends BaseInterface {
  private memif: Memif | undefined;
  private onRecords: ((records: Uint8Array) => void) | undefined;
  private readonly maxFrame: number;
  private peerUp = false;
  /** Frames refused while disconnected since the last log line (logged once per outage). */
  private downDrops = 0;
  /** The edge counts write drops itself unless an interface does (this one names the reason). */
  readonly countsWriteDrops = true;

  private constructor(
    o: InterfaceOptions,
    readonly socketPath: string,
    private readonly mtuValue: number,
  ) {
    super('vpp', o.Name, o.log ?? (() => {}));
    this.maxFrame = Math.min(mtuValue + VPP_FRAME_OVERHEAD, 0xffff);
  }

  /**
   * Creates the socket directory (as upstream, mode 0755), logs the VPP API situation, and starts
   * the native client. Resolves at once: the server may come later (writes are dropped and
   * counted until it does). Rejects on bad options or a directory that cannot be created.
   */
  static async open(o: InterfaceOptions, env: NodeJS.ProcessEnv = process.env): Promise<VppInterface> {
    const n = native();
    const log = o.log ?? (() => {});
    const path = memifSocketPath(o.Name, env);
    const dir = env.VPP_MEMIF_SOCKET_DIR || VPP_MEMIF_SOCKET_DIR_DEFAULT;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
    } catch (e) {
      throw new Error(`vpp ${o.Name}: cannot create the memif socket directory ${dir} (VPP_MEMIF_SOCKET_DIR): ${errorOf(e).message}`);
    }
    const api = env.VPP_API_SOCKET_PATH || VPP_API_SOCKET_DEFAULT;
    const bd = o.vpp?.bridgeId ?? 0;
    if (isSocket(api)) {
      log(
        'info',
        `vpp ${o.Name}: VPP API socket ${api} found, but VPP binary API integration is not built: create the memif server in VPP yourself (socket ${path}, id ${o.vpp?.ifaceId ?? 0}${bd ? `, bridge domain ${bd}` : ''}; docs/interfaces.md) — connecting as a plain memif client`,
      );
    } else {
      log('info', `vpp ${o.Name}: no VPP API socket at ${api}: acting as a plain memif client of ${path}`);
    }
    const mtu = o.MTU ?? VPP_DEFAULT_MTU;
    const itf = new VppInterface(o, path, mtu);
    itf.memif = n.Memif.open(
      {
        socketPath: path,
        id: o.vpp?.ifaceId ?? 0,
        ifName: o.Name,
        maxFrame: itf.maxFrame,
        ringSize: o.vpp?.ringSize ?? VPP_DEFAULT_RING_SIZE,
        bufferSize: o.vpp?.bufferSize ?? VPP_DEFAULT_BUFFER_SIZE,
      },
      (kind, data) => itf.onEvent(kind, data),
    );
    log('info', `vpp ${o.Name}: memif client of ${path}, MTU ${mtu}`);
    return itf;
  }

  override mtu(): number {
    return this.mtuValue;
  }

  /** True while a memif server is connected. */
  get connected(): boolean {
    return this.peerUp;
  }

  /** Counters of the native client (frames, interrupts, switches to polling, connects). */
  stats(): ReturnType<Memif['stats']> | undefined {
    return this.memif?.stats();
  }

  private onEvent(kind: number, data: Buffer): void {
    if (this.closed) return;
    switch (kind) {
      case K_BATCH:
        if (!this.onFrames) return; // before start(): discarded, as the socket types do
        if (!this.onRecords) return this.deliver(splitBatch(data, []));
        try {
          this.onRecords(data);
        } catch (e) {
          this.log('error', `vpp ${this.name}: frame handler threw: ${errorOf(e).message}`);
        }
        return;
      case K_DROPS:
        return this.dropped(data.toString('utf8', 4), data.readUInt32BE(0));
      case K_UP:
        this.peerUp = true;
        this.downDrops = 0;
        return this.log('info', `vpp ${this.name}: memif ${data.toString()}`);
      case K_DOWN:
        this.peerUp = false;
        if (data.toString() === 'closed') return;
        return this.log('info', `vpp ${this.name}: memif disconnected: ${data.toString()}; reconnecting (frames for it are dropped and counted meanwhile)`);
      case K_INFO:
        return this.log('info', `vpp ${this.name}: ${data.toString()}`);
      case K_ERROR:
      default:
        return this.fail('memif', new Error(data.toString()));
    }
  }

  protected started(): void {
    /* the native worker already runs; batches flow to onFrames / onRecords from now on */
  }

  /** Like start(), but each batch is handed on as `[len u16 BE][frame]` records (valid during the call). */
  startRecords(onRecords: (records: Uint8Array) => void): void {
    this.onRecords = onRecords;
    this.start(() => {});
  }

  /**
   * Writes `count` frames given as `[len u16 BE][frame]` records into the ring (copied before
   * this returns). Returns how many were taken; the rest are reported as `drop` events with their
   * reason, so the caller does not count them again (`countsWriteDrops`).
   */
  writeRecords(records: Uint8Array, count: number): number {
    if (this.closed || count === 0 || !this.memif) return 0;
    const ok = this.memif.writeBatch(records, count);
    if (ok < count) this.reportWriteDrops();
    return ok;
  }

  /** One frame; false = dropped (the caller counts it). */
  write(frame: Uint8Array): boolean {
    if (this.closed || !this.memif) return false;
    const ok = this.memif.write(frame);
    if (!ok) this.memif.takeWriteDrops(); // the caller counts this one; keep the tallies clean
    return ok;
  }

  private reportWriteDrops(): void {
    const [down, full, long] = this.memif!.takeWriteDrops();
    if (down > 0) {
      if (this.downDrops === 0) this.log('info', `vpp ${this.name}: dropping frames until the memif server is back (${VPP_DROP_NOT_CONNECTED})`);
      this.downDrops += down;
      this.dropped(VPP_DROP_NOT_CONNECTED, down);
    }
    if (full > 0) this.dropped(VPP_DROP_RING_FULL, full);
    if (long > 0) this.dropped(vppDropTooLong(this.maxFrame), long, { max: this.maxFrame });
  }

  protected async shutdown(): Promise<void> {
    this.memif?.close(); // sends DISCONNECT to a connected server, joins the worker
    this.memif = undefined;
  }
}
