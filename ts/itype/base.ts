// What every interface type shares: event handlers, logging, the frame callback, and guarded
// delivery (a throwing handler is logged, never allowed to stop a read loop).
import type { IType, InterfaceEvents, L2Interface, LogFn } from './types.js';

export const noLog: LogFn = () => {};

export const DEFAULT_MTU = 1500;

/** Bytes a stream interface may queue in user space before write() starts dropping. */
export const STREAM_QUEUE_LIMIT = 8 << 20;

type Handlers = { [K in keyof InterfaceEvents]: InterfaceEvents[K][] };

export function errorOf(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A sleep that close() can cut short. */
export class Waker {
  private timer: NodeJS.Timeout | undefined;
  private resolve: (() => void) | undefined;
  sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      this.resolve = r;
      this.timer = setTimeout(() => this.wake(), ms);
    });
  }
  wake(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const r = this.resolve;
    this.resolve = undefined;
    r?.();
  }
}

export abstract class BaseInterface implements L2Interface {
  private readonly handlers: Handlers = { up: [], down: [], mtu: [], error: [], drop: [], gone: [] };
  protected onFrames: ((frames: Uint8Array[]) => void) | undefined;
  protected closed = false;
  private closing: Promise<void> | undefined;

  constructor(
    readonly type: IType,
    readonly name: string,
    protected readonly log: LogFn,
  ) {}

  mtu(): number {
    return DEFAULT_MTU;
  }

  start(onFrames: (frames: Uint8Array[]) => void): void {
    if (this.onFrames) throw new Error(`interface ${this.name}: start() called twice`);
    this.onFrames = onFrames;
    if (!this.closed) this.started();
  }

  /** Called once by start(); begins reading. */
  protected abstract started(): void;

  abstract write(frame: Uint8Array): boolean;

  on<E extends keyof InterfaceEvents>(e: E, f: InterfaceEvents[E]): void {
    (this.handlers[e] as InterfaceEvents[E][]).push(f);
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.closing = this.shutdown().catch((e) => this.log('error', `${this.type} ${this.name}: close: ${errorOf(e).message}`));
    }
    return this.closing;
  }

  /** Releases everything; called once. */
  protected abstract shutdown(): Promise<void>;

  protected emit<E extends keyof InterfaceEvents>(e: E, ...args: Parameters<InterfaceEvents[E]>): void {
    for (const f of this.handlers[e]) {
      try {
        (f as (...a: unknown[]) => void)(...args);
      } catch (err) {
        this.log('error', `${this.type} ${this.name}: '${e}' handler threw: ${errorOf(err).message}`);
      }
    }
  }

  /** Logs a failure and emits 'error'; never throws. */
  protected fail(what: string, e: unknown): void {
    const err = errorOf(e);
    const wrapped = new Error(`${this.type} ${this.name}: ${what}: ${err.message}`, { cause: err });
    this.log('error', wrapped.message);
    this.emit('error', wrapped);
  }

  /** Reports frames discarded on the way in (counted by the edge); logged at debug here. */
  protected dropped(reason: string, count: number, fields?: Record<string, unknown>): void {
    if (count <= 0) return;
    this.log('debug', `${this.type} ${this.name}: ${count} dropped: ${reason}`);
    this.emit('drop', reason, count, fields);
  }

  protected deliver(frames: Uint8Array[]): void {
    if (frames.length === 0 || !this.onFrames || this.closed) return;
    try {
      this.onFrames(frames);
    } catch (e) {
      this.log('error', `${this.type} ${this.name}: frame handler threw: ${errorOf(e).message}`);
    }
  }
}
