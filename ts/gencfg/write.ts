// Writing a generated set of configs all or nothing: every file goes to a temporary file in the
// output directory first (0600, fsync'ed); only when all of them are written are they renamed
// into place, so an existing config is never half-overwritten and a failed run leaves the old
// set untouched. Upstream (gencfg/types.go bulkFileWriter.Commit) checked and wrote file by file,
// so a run that stopped at the third file left two new configs beside old ones.
import { randomBytes } from 'node:crypto';
import { constants, existsSync, lstatSync, mkdirSync, statSync } from 'node:fs';
import { link, open, rename, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

export interface OutFile {
  /** File name inside the output directory (no slashes). */
  name: string;
  text: string;
}

/** Nothing (more) was written: targets exist, or the filesystem refused; the message says which. */
export class WriteRefused extends Error {}

/** `code: message` of a filesystem error (e.g. "EROFS: read-only file system"), for one-line reports. */
function fsReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const msg = String(err?.message ?? e);
  // Node's message repeats the syscall and path after the reason: keep the reason only.
  return err?.code ? `${msg.split(',')[0]}` : msg;
}

/**
 * Creates `dir` and its missing parents one level at a time (mode 0700). Not mkdirSync's
 * `recursive`: on Node 20 it loops forever when a parent exists but refuses children (e.g.
 * under /proc: mkdir gives ENOENT, mkdir of the parent EEXIST, again and again).
 */
function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d, { mode: 0o700 });
    } catch (e) {
      throw new WriteRefused(`cannot create the output directory ${dir} (at ${d}): ${fsReason(e)}; nothing written`);
    }
  }
}

/**
 * Creates `dir` (mode 0700, parents too) when missing, then writes `files` into it (mode 0600).
 * Without `overwrite`, refuses (WriteRefused, nothing written) when any target exists, and links
 * each file into place so a file that appears meanwhile is not replaced either. Returns the
 * written paths and warnings (an existing directory that others can read). A directory that
 * cannot be created or a write that fails throws WriteRefused naming the directory and the
 * filesystem's reason; temporary files are removed then.
 */
export async function writeAll(dir: string, files: readonly OutFile[], overwrite: boolean): Promise<{ paths: string[]; warnings: string[] }> {
  const warnings: string[] = [];
  if (!existsSync(dir)) {
    makeDirs(dir);
  } else if ((statSync(dir).mode & 0o077) !== 0) {
    warnings.push(`${dir} already exists with mode ${(statSync(dir).mode & 0o777).toString(8)}: other users may list it (the files themselves are 0600)`);
  }
  const targets = files.map((f) => join(dir, f.name));
  if (!overwrite) {
    const present = targets.filter((t) => existsSync(t) || isDanglingLink(t));
    if (present.length > 0) {
      throw new WriteRefused(`${present.length === 1 ? 'file exists' : 'files exist'}: ${present.join(', ')}; nothing written (set "Enable generated config overwrite: true" to replace them)`);
    }
  }
  const tmps: string[] = [];
  try {
    for (const f of files) {
      const tmp = join(dir, `.${f.name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      tmps.push(tmp);
      try {
        await fh.writeFile(f.text, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    for (let i = 0; i < files.length; i++) {
      if (overwrite) {
        await rename(tmps[i]!, targets[i]!);
      } else {
        await link(tmps[i]!, targets[i]!);
        await unlink(tmps[i]!);
      }
    }
  } catch (e) {
    for (const t of tmps) await unlink(t).catch(() => undefined);
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new WriteRefused(`a target file appeared while writing: ${(e as Error).message}`);
    throw new WriteRefused(`cannot write the configs into ${dir}: ${fsReason(e)}; nothing written (temporary files removed)`);
  }
  const dh = await open(dir, constants.O_RDONLY);
  try {
    await dh.sync().catch(() => undefined);
  } finally {
    await dh.close();
  }
  return { paths: targets, warnings };
}

function isDanglingLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
