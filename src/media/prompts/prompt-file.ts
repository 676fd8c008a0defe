/**
 * The checks an audio prompt file must pass before ffmpeg sees it, and its
 * content hash (what the cache is keyed by, so a file edited in place is
 * converted again and two paths to the same recording share one entry).
 */
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import type { PromptError } from './prompt-error.js';

export type PromptFileInspection =
  | {
      readonly ok: true;
      readonly size: number;
      /** Changes whenever the file may have changed: device, inode, size, mtime and ctime to the nanosecond. */
      readonly identity: string;
    }
  | { readonly ok: false; readonly error: PromptError };

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

/** An error value for a failed file system call on `file`. */
export function fileAccessError(file: string, error: unknown): PromptError {
  const code = errorCode(error);
  if (code === 'ENOENT' || code === 'ENOTDIR') return { reason: 'file-missing', message: `prompt file ${file} does not exist` };
  if (code === 'EACCES' || code === 'EPERM') {
    return { reason: 'file-unreadable', message: `prompt file ${file} cannot be read by this user (${code}): check its permissions and those of its directories` };
  }
  if (code === 'EISDIR') return { reason: 'not-a-file', message: `prompt file ${file} is a directory, not an audio file` };
  const detail = error instanceof Error ? error.message : String(error);
  return { reason: 'file-unreadable', message: `prompt file ${file} cannot be read: ${detail}` };
}

/** `file` must be absolute. */
export async function inspectPromptFile(file: string): Promise<PromptFileInspection> {
  try {
    const info = await stat(file, { bigint: true });
    if (!info.isFile()) return { ok: false, error: { reason: 'not-a-file', message: `prompt file ${file} is ${info.isDirectory() ? 'a directory' : 'not a regular file'}, not an audio file` } };
    await access(file, constants.R_OK);
    return { ok: true, size: Number(info.size), identity: `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}` };
  } catch (error) {
    return { ok: false, error: fileAccessError(file, error) };
  }
}

/** SHA-256 of the file's bytes, hex. */
export function hashPromptFile(file: string): Promise<{ readonly ok: true; readonly sha256: string } | { readonly ok: false; readonly error: PromptError }> {
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    const stream = createReadStream(file);
    stream.on('data', (chunk) => hash.update(chunk));
    stream.on('error', (error) => resolve({ ok: false, error: fileAccessError(file, error) }));
    stream.on('end', () => resolve({ ok: true, sha256: hash.digest('hex') }));
  });
}
