import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { builtVoix } from '../../../bench/voix-build.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function rootWith(buildInfo: string | null): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'voix-build-'));
  dirs.push(root);
  mkdirSync(path.join(root, 'dist'));
  if (buildInfo !== null) writeFileSync(path.join(root, 'dist/build-info.json'), buildInfo);
  return root;
}

describe('builtVoix', () => {
  it('names the commit dist/ was built from, and says when the tree had changes', () => {
    expect(builtVoix(rootWith('{"commit":"8985048","modified":false}\n'))).toBe('8985048');
    expect(builtVoix(rootWith('{"commit":"8985048","modified":true}\n'))).toBe('8985048, modified tree');
  });

  it('says unknown when dist/ has no build information or it came from outside git', () => {
    expect(builtVoix(rootWith(null))).toBe('unknown build');
    expect(builtVoix(rootWith('{"commit":"unknown","modified":false}\n'))).toBe('unknown build');
    expect(builtVoix(rootWith('not json'))).toBe('unknown build');
  });
});
