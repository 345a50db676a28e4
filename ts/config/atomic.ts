// Crash-safe config rewrite: readers see either the old file or the new one, never a torn write.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A config text written and synced to a temp file beside its target, not yet in place. */
export interface PreparedWrite {
  /** Renames the temp file over the target and syncs the directory (then readers see the new text). */
  commit(): Promise<void>;
  /** Removes the temp file; the target is untouched. */
  abort(): Promise<void>;
}

/**
 * The part of an atomic rewrite that can fail for lack of room or permission: writes `text` to a
 * temp file in `path`'s directory and fsyncs it. Throws (ENOSPC, EROFS, EACCES, EDQUOT, ...) with
 * the temp file removed and `path` untouched; on success the caller commits or aborts. So a
 * change can be refused, with nothing changed, before anything that is hard to undo happens.
 */
export async function prepareConfigWrite(path: string, text: string): Promise<PreparedWrite> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  // Configs hold private keys: keep an existing file's mode, otherwise owner-only.
  const mode = await stat(path).then((s) => s.mode & 0o777, () => 0o600);
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  let done = false;
  return {
    async commit() {
      if (done) return;
      done = true;
      try {
        await rename(tmp, path);
      } catch (e) {
        await unlink(tmp).catch(() => undefined);
        throw e;
      }
      // The rename is only durable once the directory entry is on disk.
      const dh = await open(dir, constants.O_RDONLY);
      try {
        await dh.sync();
      } catch (e) {
        // Some filesystems cannot fsync a directory; the rename has still happened.
        if (!['EINVAL', 'EISDIR', 'EPERM', 'ENOTSUP'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
      } finally {
        await dh.close();
      }
    },
    async abort() {
      if (done) return;
      done = true;
      await unlink(tmp).catch(() => undefined);
    },
  };
}

export async function writeConfigAtomic(path: string, text: string): Promise<void> {
  await (await prepareConfigWrite(path, text)).commit();
}
