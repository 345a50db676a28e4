// The native addon's UDP batch format, for tests (crates/eg-native/src/io.rs; docs/native.md):
// a batch is records `[len u16 BE][port u16 BE][addr 16 bytes][payload len bytes]`; a kind-3
// batch (receive timestamps on) appends `[f64 LE x count][count u32 LE]` after the records.
import { loadNative, type Native } from '../../ts/native/index.js';

/** Waits `ms` milliseconds (timer, the event loop runs meanwhile). */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Keeps the main thread (and so every JS handler) busy for `ms` milliseconds. */
export function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* busy */
  }
}

/** Polls `cond` every 10 ms until it holds or `ms` milliseconds have passed (no error on timeout). */
export async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(10);
}

/** The records of a received batch: all of a kind-0 batch, a kind-3 batch without its stamps. */
export function recordsOf(kind: number, data: Buffer): Buffer {
  return kind === 3 ? data.subarray(0, data.length - 4 - 8 * data.readUInt32LE(data.length - 4)) : data;
}

/** The u32 BE ids at the start of each record's payload (records with a payload under 4 bytes are skipped). */
export function ids(records: Buffer): number[] {
  const out: number[] = [];
  for (let off = 0; off + 20 <= records.length; ) {
    const len = records.readUInt16BE(off);
    if (len >= 4) out.push(records.readUInt32BE(off + 20));
    off += 20 + len;
  }
  return out;
}

/** Source port and payload (copied) of each record. */
export function datagrams(records: Buffer): { port: number; payload: Buffer }[] {
  const out: { port: number; payload: Buffer }[] = [];
  for (let off = 0; off + 20 <= records.length; ) {
    const len = records.readUInt16BE(off);
    out.push({ port: records.readUInt16BE(off + 2), payload: Buffer.from(records.subarray(off + 20, off + 20 + len)) });
    off += 20 + len;
  }
  return out;
}

/** Records for `sendBatch`, one per payload, to `dst` (`addr`: 4 bytes for IPv4, 16 for IPv6). */
export function udpRecords(dst: { port: number; addr: number[] }, payloads: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const p of payloads) {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(p.length, 0);
    h.writeUInt16BE(dst.port, 2);
    Buffer.from(dst.addr).copy(h, 4);
    parts.push(h, p);
  }
  return Buffer.concat(parts);
}

/** Records for `sendBatch` to 127.0.0.1:`port`. */
export function records(port: number, payloads: Buffer[]): Buffer {
  return udpRecords({ port, addr: [127, 0, 0, 1] }, payloads);
}

type Io = InstanceType<Native['NativeIo']>;

/**
 * The hooks every native I/O suite needs; call inside `describe`. Skips the suite when the addon
 * does not load (or `skipIf()` holds) and closes, after each test, every NativeIo pushed to
 * `opened`. `mod()` is the loaded addon (only valid inside tests that were not skipped).
 */
export function nativeIoSuite(skipIf: () => boolean = () => false): { mod: () => Native; opened: Io[] } {
  const n = loadNative();
  const opened: Io[] = [];
  before(function () {
    if (!n.ok || skipIf()) this.skip();
  });
  afterEach(() => {
    for (const io of opened.splice(0)) io.close();
  });
  return { mod: () => (n as { ok: true; mod: Native }).mod, opened };
}
