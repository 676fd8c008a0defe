/**
 * Replaces a text file so that a reader (voix on SIGHUP, an editor, a crash)
 * sees the old content or the new one, never half of it: write a temporary
 * file beside it with the same mode and owner, flush it, rename it over.
 */
import { randomBytes } from 'node:crypto';
import { chmod, chown, open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

/** The file changed between the read and the write: someone else edited it. */
export class ConcurrentEditError extends Error {
  override readonly name = 'ConcurrentEditError';
  constructor(readonly file: string) {
    super(`${file} changed while it was being edited: nothing was written, run the command again`);
  }
}

/**
 * Writes `text` to `file` atomically, when the file still holds `expected`
 * (what the edit was made from). A symbolic link is followed: the file it
 * points to is replaced, the link stays.
 */
export async function replaceFileAtomically(file: string, text: string, expected: string): Promise<void> {
  const target = await realpath(file);
  const info = await stat(target);
  if ((await readFile(target, 'utf8')) !== expected) throw new ConcurrentEditError(file);
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', info.mode & 0o7777);
  try {
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    // open() is subject to the umask: set the mode (and owner, when allowed) explicitly.
    await chmod(temporary, info.mode & 0o7777);
    if (process.getuid?.() === 0) await chown(temporary, info.uid, info.gid);
    await rename(temporary, target);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  // The rename itself is durable once the directory is flushed.
  const dir = await open(path.dirname(target), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
