// AEAD jobs of the WASM core (eg_core::session::aead): the job record layout, read from the core
// itself (one source), and the entry a worker thread's own instance of the module runs jobs with.
// Used by ts/wgnode/aead-pool.ts; docs/architecture.md §Worker threads.
import { wasm } from './wasm.js';

/** Byte layout of one job record (offsets in bytes; status codes). */
export interface AeadJobLayout {
  /** Record length. */
  LEN: number;
  /** u32 LE: body offset in the data area (the 16-byte tag follows the body). */
  OFF: number;
  /** u32 LE: body length. */
  BODY: number;
  /** u32 LE: status (TODO, DONE, or FAILED | reason code). */
  STATUS: number;
  TODO: number;
  DONE: number;
  FAILED: number;
}

let layout: AeadJobLayout | undefined;

/** The job layout compiled into the WASM core. */
export function aeadJobLayout(): AeadJobLayout {
  if (layout) return layout;
  const [LEN, OFF, BODY, STATUS, TODO, DONE, FAILED] = wasm().aeadJobLayout();
  return (layout = { LEN, OFF, BODY, STATUS, TODO, DONE, FAILED });
}

/**
 * Runs the jobs of `jobs` (whole records, a slice of a table) on `data`, the bytes of the area
 * from offset `base` on, in this thread's instance of the module. Both arrays are copied into
 * WASM memory and back (they may live in a SharedArrayBuffer). Seal: tags written; open: bodies
 * decrypted in place and each job's status says whether it authenticated. Returns how many
 * jobs failed.
 */
export function aeadRunJobs(data: Uint8Array, base: number, jobs: Uint8Array, seal: boolean): number {
  return wasm().aeadRunJobs(data, base, jobs, seal);
}
