// The contract between the interface types (this directory) and the edge runtime.

export type IType =
  | 'dummy'
  | 'stdio'
  | 'udpsock'
  | 'tcpsock'
  | 'unixsock'
  | 'unixgramsock'
  | 'unixpacketsock'
  | 'fd'
  | 'tap'
  | 'vpp';

export const ITYPES: readonly IType[] = [
  'dummy',
  'stdio',
  'udpsock',
  'tcpsock',
  'unixsock',
  'unixgramsock',
  'unixpacketsock',
  'fd',
  'tap',
  'vpp',
];

export interface InterfaceEvents {
  up(): void;
  down(): void;
  mtu(mtu: number): void;
  error(e: Error): void;
  /**
   * `count` frames or messages were discarded on the way in, for `reason` (e.g. longer than the
   * 16-bit length of a batch record): the edge counts each one as a drop.
   */
  drop(reason: string, count: number, fields?: Record<string, unknown>): void;
  /**
   * The device no longer exists (tap: deleted with `ip link del`, or its namespace went away):
   * reads and writes can never work again. Emitted once; `why` names the device. The edge then
   * stops and exits with code 3 (docs/interfaces.md), so a supervisor restarts it and the device
   * is created again with its PostScript.
   */
  gone(why: string): void;
}

export interface L2Interface {
  readonly type: IType;
  readonly name: string;
  /** tap: the device MTU (kept current by polling); every other type: 1500. */
  mtu(): number;
  /**
   * Starts delivering frames read from the interface; a batch is an array of Ethernet frames
   * (views are fine if valid until the callback returns). Call once.
   */
  start(onFrames: (frames: Uint8Array[]) => void): void;
  /**
   * Writes one Ethernet frame to the interface; returns false (and never throws) if it had to
   * drop it (queue full / not connected); the caller logs drops. The frame is copied or
   * consumed before this returns, so the caller may reuse its buffer.
   */
  write(frame: Uint8Array): boolean;
  on<E extends keyof InterfaceEvents>(e: E, f: InterfaceEvents[E]): void;
  /** Idempotent; tap: device removed; sockets closed; unix socket files unlinked if we created them. */
  close(): Promise<void>;
}

export type LogFn = (level: 'error' | 'info' | 'debug', msg: string) => void;

/** Upstream key names from the YAML `Interface` section, already validated elsewhere. */
export interface InterfaceOptions {
  IType: IType;
  Name: string;
  MTU?: number;
  /** tap: ask for kernel offloads (vnet headers, TSO/USO, checksum; docs/interfaces.md §Offloads). */
  offloads?: boolean;
  RecvAddr?: string;
  SendAddr?: string;
  L2HeaderMode?: 'nochg' | 'kbdbg' | 'noL2';
  /** vpp: memif interface id (VPPIFaceID), bridge domain (VPPBridgeID), ring slots and buffer bytes (defaults 1024 / 2048). */
  vpp?: { ifaceId: number; bridgeId: number; ringSize?: number; bufferSize?: number };
  /** This node's MAC (prefix + NodeID), computed by the caller. */
  mac: Uint8Array;
  ipv4?: { addr: string; prefixLen: number };
  ipv6?: { addr: string; prefixLen: number };
  ipv6ll?: { addr: string; prefixLen: number };
  log?: LogFn;
  /** For stdio, injectable in tests. */
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
}
