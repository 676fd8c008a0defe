import { chmodSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConcurrentEditError, replaceFileAtomically } from '../../../src/util/atomic-file.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'voix-atomic-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('replaceFileAtomically', () => {
  it('replaces the content, keeps the mode and leaves no temporary file', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'voix.yaml');
    writeFileSync(file, 'old\n');
    chmodSync(file, 0o640);

    await replaceFileAtomically(file, 'new\n', 'old\n');

    expect(readFileSync(file, 'utf8')).toBe('new\n');
    expect(statSync(file).mode & 0o7777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(['voix.yaml']);
  });

  it('follows a symbolic link: the target is replaced, the link stays', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'real.yaml'), 'old\n');
    symlinkSync('real.yaml', path.join(dir, 'voix.yaml'));

    await replaceFileAtomically(path.join(dir, 'voix.yaml'), 'new\n', 'old\n');

    expect(lstatSync(path.join(dir, 'voix.yaml')).isSymbolicLink()).toBe(true);
    expect(readFileSync(path.join(dir, 'real.yaml'), 'utf8')).toBe('new\n');
  });

  it('writes nothing when the file changed since it was read', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'voix.yaml');
    writeFileSync(file, 'edited by someone else\n');

    await expect(replaceFileAtomically(file, 'new\n', 'old\n')).rejects.toBeInstanceOf(ConcurrentEditError);
    expect(readFileSync(file, 'utf8')).toBe('edited by someone else\n');
  });
});
