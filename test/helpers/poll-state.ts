// Polling a supernode's (or any) state until a condition holds, for the e2e tests.

/**
 * Reads `read()` every `intervalMs` until `cond` holds for a read, for at most `ms` milliseconds.
 * A read that throws (the supernode not up yet, a half-written answer) counts as not yet.
 *
 * @returns the state that satisfied `cond` and the seconds it took.
 * @throws Error `timed out after <ms> ms waiting for <what>; last <detail(last read)>`.
 */
export async function pollState<S>(
  read: () => Promise<S>,
  what: string,
  ms: number,
  cond: (s: S) => boolean,
  opts: { intervalMs: number; detail: (last: S | undefined) => string },
): Promise<{ state: S; seconds: number }> {
  const t0 = Date.now();
  let last: S | undefined;
  while (Date.now() - t0 < ms) {
    try {
      last = await read();
      if (cond(last)) return { state: last, seconds: (Date.now() - t0) / 1000 };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}; last ${opts.detail(last)}`);
}
