// Worker threads for the ChaCha20-Poly1305 of large batches (issue "Data plane II" part 4;
// docs/architecture.md §Worker threads).
//
// The WASM core on the main thread keeps all session state: WgDevice.processDeferred takes the
// counters, checks the replay windows and makes every decision in batch order, and leaves the
// AEAD of each transport message as a job (key, counter, where the body lies). This pool runs a
// batch's jobs on the main thread and N workers at once, each worker with its own instance of
// the same WASM module: the jobs and the bytes they cover are copied into SharedArrayBuffers
// once, chunks of CHUNK_JOBS jobs are claimed by whoever is free (an atomic claim word), the
// main thread works on its chunks in place in WASM memory, and the workers' results are copied
// back before the batch goes on. A batch is done before the next one starts, so messages leave
// and frames reach the TAP in exactly the order of the direct path; nothing is reordered.
// A worker that does not get the CPU costs the main thread only the copies: it claims the
// chunks itself. Below EG_AEAD_MIN_BYTES (a lone ping, a small batch) everything stays on the
// main thread with no hand-off.
//
// Env: EG_AEAD_WORKERS (number of workers; default 0 = off), EG_AEAD_MIN_BYTES (smallest batch, in
// bytes, that uses the pool; default 16384).
//
// Off by default because it does not pay where it was measured: on the project's 2-core machine
// (docs/benchmarks.md §AEAD worker threads) the second core is busy with the kernel's TCP/UDP
// work and iperf3, and the copies into and out of shared memory and the workers' WASM memory,
// plus the hand-offs, cost more than the parallel AEAD saves: TCP 0.60-0.84x, CPU per Gbit
// 1.26-1.42x with 1 or 2 workers against none. It may pay on a machine with idle cores; measure
// with bench/aead-ab.bench.ts before turning it on.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { aeadJobLayout, type AeadJobLayout } from '../core/aead.js';
import { mem, type WgDevice } from '../core/wg.js';
import { ROOT } from '../paths.js';

/** Words of the control array. */
export const CTRL = {
  /** gen << 24 | chunks << 12 | next chunk (claimParts); STOP ends the workers. */
  CLAIM: 0,
  /** Chunks finished by workers in this round. */
  DONE: 1,
  /** 1: seal, 0: open. */
  SEAL: 2,
  /** Area offset of the first byte of the data copy. */
  BASE: 3,
  /** Jobs in the round. */
  NJOBS: 4,
  /** Workers that have loaded the module. */
  READY: 5,
  WORDS: 8,
} as const;
export const STOP = -1;
/** Jobs per claimed chunk (a few 1.4 KB messages: small enough to share a 64 KiB super-frame). */
export const CHUNK_JOBS = 4;
const MAX_CHUNKS = 4095;
const MAX_JOBS = 2048;
const MAX_DATA = 4 << 20;

/** The shared memory a worker is started with. */
export interface PoolShared {
  ctrl: SharedArrayBuffer;
  chunkDone: SharedArrayBuffer;
  jobs: SharedArrayBuffer;
  data: SharedArrayBuffer;
  chunkJobs: number;
}

/** The parts of a claim word. */
export function claimParts(v: number): { gen: number; total: number; idx: number } {
  return { gen: (v >>> 24) & 0x7f, total: (v >>> 12) & 0xfff, idx: v & 0xfff };
}

/** Pool settings from the environment (see the file header). */
export function aeadPoolSettings(env: NodeJS.ProcessEnv = process.env): { workers: number; minBytes: number } {
  const dflt = 0;
  const w = env.EG_AEAD_WORKERS === undefined || env.EG_AEAD_WORKERS === '' ? dflt : Number(env.EG_AEAD_WORKERS);
  const m = env.EG_AEAD_MIN_BYTES === undefined || env.EG_AEAD_MIN_BYTES === '' ? 16384 : Number(env.EG_AEAD_MIN_BYTES);
  return { workers: Number.isInteger(w) && w >= 0 ? Math.min(w, 16) : dflt, minBytes: Number.isFinite(m) && m >= 0 ? m : 16384 };
}

/**
 * A worker running aead-worker. Compiled code (dist/wgnode/, or the bundle in dist/bundle/) starts
 * tsc's dist/wgnode/aead-worker.js, found from the package root; under tsx (tests) this module is
 * ts/wgnode/aead-pool.ts, and the worker runs the .ts with tsx's loader registered first.
 */
function startWorker(workerData: PoolShared, name: string): Worker {
  const js = join(ROOT, 'dist', 'wgnode', 'aead-worker.js');
  if (!import.meta.url.endsWith('.ts') && existsSync(js)) return new Worker(pathToFileURL(js), { workerData, name });
  const ts = new URL('./aead-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(ts)}); });`;
  return new Worker(boot, { eval: true, workerData, name });
}

/** What a pool has done since it started (for tests and the benchmark). */
export interface AeadPoolStats {
  /** Batches (job tables) run with the workers' help offered. */
  rounds: number;
  /** Chunks run by the main thread / by workers. */
  mainChunks: number;
  workerChunks: number;
  /** Tables run on the main thread alone (too small, too large, or the pool broken). */
  inline: number;
}

export class AeadPool {
  readonly minBytes: number;
  readonly stats: AeadPoolStats = { rounds: 0, mainChunks: 0, workerChunks: 0, inline: 0 };
  private readonly sh: PoolShared;
  private readonly ctrl: Int32Array;
  private readonly chunkDone: Int32Array;
  private readonly jobs: Uint8Array;
  private readonly jobsDv: DataView;
  private readonly data: Uint8Array;
  private readonly workers: Worker[] = [];
  private readonly L: AeadJobLayout = aeadJobLayout();
  private gen = 0;
  private users = 0;
  private broken?: string;
  private exited: Promise<void>[] = [];

  private static shared?: AeadPool;

  /**
   * The process's pool, started on first use and shared by every WgHost (each call must be
   * matched by release()); undefined when EG_AEAD_WORKERS is 0 or worker threads are missing.
   */
  static acquire(onNote?: (m: string) => void): AeadPool | undefined {
    const s = aeadPoolSettings();
    if (s.workers === 0) return undefined;
    if (!AeadPool.shared) {
      try {
        AeadPool.shared = new AeadPool(s.workers, s.minBytes);
        onNote?.(`aead: ${s.workers} worker thread(s) for batches of ${s.minBytes} bytes or more (EG_AEAD_WORKERS=0 turns them off)`);
      } catch (e) {
        onNote?.(`aead: no worker threads (${(e as Error).message}); sealing and opening stay on the main thread`);
        return undefined;
      }
    }
    AeadPool.shared.users++;
    return AeadPool.shared;
  }

  /**
   * `workers` threads; batches of `minBytes` or more use them (WgHost's rule). `mainClaims`
   * false leaves every chunk to the workers (tests: the worker path must be taken).
   */
  constructor(workers: number, minBytes: number, private readonly mainClaims = true) {
    this.minBytes = minBytes;
    this.sh = {
      ctrl: new SharedArrayBuffer(4 * CTRL.WORDS),
      chunkDone: new SharedArrayBuffer(4 * (MAX_CHUNKS + 1)),
      jobs: new SharedArrayBuffer(MAX_JOBS * this.L.LEN),
      data: new SharedArrayBuffer(MAX_DATA),
      chunkJobs: CHUNK_JOBS,
    };
    this.ctrl = new Int32Array(this.sh.ctrl);
    this.chunkDone = new Int32Array(this.sh.chunkDone);
    this.jobs = new Uint8Array(this.sh.jobs);
    this.jobsDv = new DataView(this.sh.jobs);
    this.data = new Uint8Array(this.sh.data);
    this.want = workers;
  }

  private readonly want: number;

  /**
   * Starts the workers (run() does on the first batch that needs them, so a process that never
   * moves a large batch, like most tests or an idle edge, starts none). They take chunks once
   * they have loaded the module (`ready`); until then the main thread runs everything.
   */
  start(): void {
    for (let i = this.workers.length; i < this.want; i++) {
      const w = startWorker(this.sh, `eg-aead-${i}`);
      // Never what keeps a process alive; a worker that dies leaves the pool to the main thread.
      w.unref();
      w.on('error', (e) => (this.broken ??= `worker ${i}: ${e.message}`));
      this.exited.push(new Promise((res) => w.once('exit', () => res())));
      this.workers.push(w);
    }
  }

  /** Workers that have loaded the WASM module. */
  get ready(): number {
    return Atomics.load(this.ctrl, CTRL.READY);
  }

  /** Why the pool stopped using its workers, if it did. */
  get failure(): string | undefined {
    return this.broken;
  }

  /**
   * Ends one acquire(); the last one stops the workers. Resolves true when this call stopped
   * them (all have exited), false while other users remain.
   */
  async release(): Promise<boolean> {
    if (--this.users > 0) return false;
    if (AeadPool.shared === this) AeadPool.shared = undefined;
    await this.stop();
    return true;
  }

  /**
   * Stops the workers: they leave their loop at once (a chunk in hand is finished first); one
   * that has not exited within 1 s is terminated. The timer keeps the process alive until they
   * are gone, so a stopping process ends with its workers stopped, not cut off. Later run()
   * calls stay on the main thread.
   */
  async stop(): Promise<void> {
    this.broken ??= 'stopped';
    if (this.workers.length === 0) return;
    Atomics.store(this.ctrl, CTRL.CLAIM, STOP);
    Atomics.notify(this.ctrl, CTRL.CLAIM);
    const t = setTimeout(() => this.workers.forEach((w) => void w.terminate()), 1000);
    await Promise.all(this.exited);
    clearTimeout(t);
  }

  /**
   * Runs every job still to do in table `which` of `wg`'s last processDeferred (seal for
   * tables 0/1, open for 2). Returns when all are done, with the results in WASM memory.
   */
  run(wg: WgDevice, which: 0 | 1 | 2): void {
    const { ptr, count, area } = wg.aeadJobs(which);
    if (count === 0) return;
    if (this.workers.length < this.want && !this.broken) this.start();
    const K = CHUNK_JOBS;
    const chunks = Math.ceil(count / K);
    if (this.broken || chunks < 2 || count > MAX_JOBS || this.ready === 0) {
      this.stats.inline++;
      wg.runAeadJobs(which, 0, count);
      return;
    }
    const L = this.L;
    let dv = mem().data();
    let lo = -1;
    let hi = 0;
    for (let j = 0; j < count; j++) {
      const r = ptr + j * L.LEN;
      if (dv.getUint32(r + L.STATUS, true) !== L.TODO) continue;
      const off = dv.getUint32(r + L.OFF, true);
      if (lo < 0) lo = off;
      hi = off + dv.getUint32(r + L.BODY, true) + 16;
    }
    if (lo < 0) return;
    if (hi - lo > MAX_DATA) {
      this.stats.inline++;
      wg.runAeadJobs(which, 0, count);
      return;
    }
    let u8 = mem().bytes();
    this.data.set(u8.subarray(area + lo, area + hi), 0);
    this.jobs.set(u8.subarray(ptr, ptr + count * L.LEN), 0);
    const ctrl = this.ctrl;
    Atomics.store(ctrl, CTRL.SEAL, which === 2 ? 0 : 1);
    Atomics.store(ctrl, CTRL.BASE, lo);
    Atomics.store(ctrl, CTRL.NJOBS, count);
    Atomics.store(ctrl, CTRL.DONE, 0);
    this.chunkDone.fill(0, 0, chunks);
    this.gen = (this.gen % 127) + 1;
    const gen = this.gen;
    Atomics.store(ctrl, CTRL.CLAIM, (gen << 24) | (chunks << 12));
    Atomics.notify(ctrl, CTRL.CLAIM);
    this.stats.rounds++;
    // Claim chunks like any worker, and run them in place in WASM memory.
    const mine = new Uint8Array(chunks);
    let mineCount = 0;
    for (; this.mainClaims; ) {
      const v = Atomics.load(ctrl, CTRL.CLAIM);
      const { idx } = claimParts(v);
      if (idx >= chunks) break;
      if (Atomics.compareExchange(ctrl, CTRL.CLAIM, v, v + 1) !== v) continue;
      mine[idx] = 1;
      mineCount++;
      wg.runAeadJobs(which, idx * K, Math.min(count, idx * K + K));
    }
    this.stats.mainChunks += mineCount;
    // Wait for the chunks workers took (each is a few microseconds of work once it runs).
    const theirs = chunks - mineCount;
    const t0 = performance.now();
    for (let d = Atomics.load(ctrl, CTRL.DONE); d < theirs; d = Atomics.load(ctrl, CTRL.DONE)) {
      if (Atomics.wait(ctrl, CTRL.DONE, d, 50) === 'timed-out' && performance.now() - t0 > 2000) {
        // A worker holds a chunk for seconds: stop relying on the pool (its late writes only
        // reach the shared copies, which are never read again).
        this.broken = 'a worker did not finish its chunk within 2 s';
        break;
      }
    }
    // Results of the workers' chunks back into WASM memory; a chunk not finished is run here.
    u8 = mem().bytes();
    dv = mem().data();
    for (let c = 0; c < chunks; c++) {
      if (mine[c]) continue;
      const a = c * K;
      const b = Math.min(count, a + K);
      if (this.broken || Atomics.load(this.chunkDone, c) !== gen) {
        wg.runAeadJobs(which, a, b);
        continue;
      }
      this.stats.workerChunks++;
      let fo = -1;
      let fe = 0;
      for (let j = a; j < b; j++) {
        const r = ptr + j * L.LEN;
        if (dv.getUint32(r + L.STATUS, true) !== L.TODO) continue;
        const off = dv.getUint32(r + L.OFF, true);
        if (fo < 0) fo = off;
        fe = off + dv.getUint32(r + L.BODY, true) + 16;
        dv.setUint32(r + L.STATUS, this.jobsDv.getUint32(j * L.LEN + L.STATUS, true), true);
      }
      if (fo >= 0) u8.set(this.data.subarray(fo - lo, fe - lo), area + fo);
    }
  }
}
