// stdio: frames on stdin/stdout, in one of three L2HeaderMode encodings.
//
// nochg  Raw Ethernet frames, each preceded by its length as u16 big-endian (upstream wrote
//        frames to the stream with no delimiting; see docs/interfaces.md).
// kbdbg  Keyboard debugging, one line per frame. Input: 1st char = dst, 2nd = src, the rest of
//        the line (newline included) = payload. 'b' is ff:ff:ff:ff:ff:ff, a digit d is
//        AA:BB:CC:DD:EE:0d. Output: the same line built back from a frame.
// noL2   Input: each line is a payload; the frame is dst broadcast + src own MAC + the line
//        (no EtherType, as upstream). Output: the frame without its 12 MAC bytes.
import { BaseInterface, STREAM_QUEUE_LIMIT } from './base.js';
import { Deframer, MAX_FRAME, encodeFrame } from './framing.js';
import type { InterfaceOptions } from './types.js';

const NL = 0x0a;
const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const KBDBG_PREFIX = [0xaa, 0xbb, 0xcc, 0xdd, 0xee];

/** kbdbg: the MAC one typed character stands for, or null for an unknown character. */
export function kbdbgCharToMac(c: number): Uint8Array | null {
  if (c === 0x62 /* b */) return BROADCAST;
  if (c >= 0x30 && c <= 0x39) return new Uint8Array([...KBDBG_PREFIX, c - 0x30]);
  return null;
}

/** kbdbg: the character for a MAC ('b', a digit, or '?' for a MAC outside the debug set). */
export function kbdbgMacToChar(m: Uint8Array): number {
  if (m.length >= 6 && m[0] === 0xff && m[1] === 0xff && m[2] === 0xff && m[3] === 0xff && m[4] === 0xff && m[5] === 0xff) return 0x62;
  if (m.length >= 6 && KBDBG_PREFIX.every((b, i) => m[i] === b) && m[5] <= 9) return 0x30 + m[5];
  return 0x3f;
}

/** kbdbg: one input line (newline included) to a frame, or null if it does not start with two valid characters. */
export function kbdbgParse(line: Uint8Array): Uint8Array | null {
  if (line.length < 2) return null;
  const dst = kbdbgCharToMac(line[0]);
  const src = kbdbgCharToMac(line[1]);
  if (!dst || !src) return null;
  const f = new Uint8Array(12 + line.length - 2);
  f.set(dst, 0);
  f.set(src, 6);
  f.set(line.subarray(2), 12);
  return f;
}

/** kbdbg: a frame back to its line: two characters + payload, with a newline added if missing. */
export function kbdbgFormat(frame: Uint8Array): Buffer {
  const payload = frame.subarray(Math.min(12, frame.length));
  const nl = payload.length > 0 && payload[payload.length - 1] === NL ? 0 : 1;
  const out = Buffer.allocUnsafe(2 + payload.length + nl);
  out[0] = kbdbgMacToChar(frame.subarray(0, 6));
  out[1] = kbdbgMacToChar(frame.subarray(6, 12));
  out.set(payload, 2);
  if (nl) out[out.length - 1] = NL;
  return out;
}

/** noL2: a payload line to a broadcast frame from `mac` (payload right after the 12 MAC bytes). */
export function noL2Parse(line: Uint8Array, mac: Uint8Array): Uint8Array {
  const f = new Uint8Array(12 + line.length);
  f.set(BROADCAST, 0);
  f.set(mac.subarray(0, 6), 6);
  f.set(line, 12);
  return f;
}

/** Splits stream chunks into lines (each keeping its newline); a line longer than MAX_FRAME is dropped. */
class LineSplitter {
  private pending: Buffer | null = null;
  push(chunk: Uint8Array, out: Uint8Array[]): number {
    let buf: Uint8Array = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    let dropped = 0;
    let start = 0;
    for (let i = buf.indexOf(NL); i >= 0; i = buf.indexOf(NL, start)) {
      if (i + 1 - start <= MAX_FRAME) out.push(buf.subarray(start, i + 1));
      else dropped++;
      start = i + 1;
    }
    if (start < buf.length) {
      if (buf.length - start > MAX_FRAME) dropped++;
      else this.pending = Buffer.from(buf.subarray(start));
    }
    return dropped;
  }
}

type Mode = 'nochg' | 'kbdbg' | 'noL2';

export class StdioInterface extends BaseInterface {
  private readonly mode: Mode;
  private readonly stdin: NodeJS.ReadableStream;
  private readonly stdout: NodeJS.WritableStream;
  private readonly mac: Uint8Array;
  private readonly deframer = new Deframer();
  private readonly lines = new LineSplitter();
  private readonly onData = (chunk: Buffer | string): void => this.read(chunk);
  private readonly onEnd = (): void => this.log('info', `stdio ${this.name}: input ended`);
  private readonly onErr = (e: Error): void => this.fail('read', e);

  constructor(o: InterfaceOptions) {
    super('stdio', o.Name, o.log ?? (() => {}));
    this.mode = o.L2HeaderMode ?? 'nochg';
    this.stdin = o.stdin ?? process.stdin;
    this.stdout = o.stdout ?? process.stdout;
    this.mac = o.mac;
  }

  protected started(): void {
    this.stdin.on('data', this.onData);
    this.stdin.on('end', this.onEnd);
    this.stdin.on('error', this.onErr);
    this.stdin.resume();
  }

  private read(chunk: Buffer | string): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const frames: Uint8Array[] = [];
    if (this.mode === 'nochg') {
      this.deframer.push(bytes, frames);
    } else {
      const lines: Uint8Array[] = [];
      const dropped = this.lines.push(bytes, lines);
      this.dropped(`line longer than ${MAX_FRAME} bytes`, dropped);
      for (const l of lines) {
        if (this.mode === 'noL2') {
          frames.push(noL2Parse(l, this.mac));
        } else {
          const f = kbdbgParse(l);
          if (f) frames.push(f);
          else this.log('debug', `stdio ${this.name}: kbdbg line needs two address characters ('b' or 0-9)`);
        }
      }
    }
    this.deliver(frames);
  }

  write(frame: Uint8Array): boolean {
    if (this.closed) return false;
    if (frame.length > MAX_FRAME) return false;
    const queued = (this.stdout as { writableLength?: number }).writableLength ?? 0;
    if (queued > STREAM_QUEUE_LIMIT) return false;
    let out: Uint8Array;
    if (this.mode === 'nochg') out = encodeFrame(frame);
    else if (this.mode === 'kbdbg') out = kbdbgFormat(frame);
    else out = Buffer.from(frame.subarray(Math.min(12, frame.length)));
    try {
      this.stdout.write(out);
      return true;
    } catch (e) {
      this.fail('write', e);
      return false;
    }
  }

  protected async shutdown(): Promise<void> {
    // stdin/stdout belong to the process (or the test): stop listening, leave them open.
    this.stdin.off('data', this.onData);
    this.stdin.off('end', this.onEnd);
    this.stdin.off('error', this.onErr);
    this.stdin.pause();
  }
}
