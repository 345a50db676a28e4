// A worker thread of the AEAD pool (./aead-pool.ts): its own instance of the WASM core, claiming
// chunks of a batch's AEAD jobs from shared memory and running them (docs/architecture.md
// §Worker threads). It never sees session state: only keys, counters and bodies of one batch.
import { workerData } from 'node:worker_threads';
import { aeadJobLayout, aeadRunJobs } from '../core/aead.js';
import { CTRL, STOP, claimParts, type PoolShared } from './aead-pool.js';

const w = workerData as PoolShared;
const ctrl = new Int32Array(w.ctrl);
const chunkDone = new Int32Array(w.chunkDone);
const jobs = new Uint8Array(w.jobs);
const jobsDv = new DataView(w.jobs);
const data = new Uint8Array(w.data);
const L = aeadJobLayout();

/** Runs chunk `idx` of the current round (jobs idx*K ..) on the shared copies. */
function runChunk(idx: number): void {
  const n = Atomics.load(ctrl, CTRL.NJOBS);
  const a = idx * w.chunkJobs;
  const b = Math.min(n, a + w.chunkJobs);
  let fo = -1;
  let fe = 0;
  for (let j = a; j < b; j++) {
    const r = j * L.LEN;
    if (jobsDv.getUint32(r + L.STATUS, true) !== L.TODO) continue;
    const off = jobsDv.getUint32(r + L.OFF, true);
    if (fo < 0) fo = off;
    fe = off + jobsDv.getUint32(r + L.BODY, true) + 16;
  }
  if (fo < 0) return;
  const base = Atomics.load(ctrl, CTRL.BASE);
  aeadRunJobs(data.subarray(fo - base, fe - base), fo, jobs.subarray(a * L.LEN, b * L.LEN), Atomics.load(ctrl, CTRL.SEAL) === 1);
}

Atomics.add(ctrl, CTRL.READY, 1);
for (;;) {
  const v = Atomics.load(ctrl, CTRL.CLAIM);
  if (v === STOP) break;
  const { gen, total, idx } = claimParts(v);
  if (idx >= total) {
    Atomics.wait(ctrl, CTRL.CLAIM, v);
    continue;
  }
  if (Atomics.compareExchange(ctrl, CTRL.CLAIM, v, v + 1) !== v) continue;
  try {
    runChunk(idx);
    Atomics.store(chunkDone, idx, gen);
  } catch {
    // Left undone: the main thread finds the chunk's flag unset and runs it itself.
  } finally {
    Atomics.add(ctrl, CTRL.DONE, 1);
    Atomics.notify(ctrl, CTRL.DONE);
  }
}
