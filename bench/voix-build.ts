/**
 * Which voix a benchmark of dist/server.js measured: the commit dist/ was
 * built from (dist/build-info.json, written by `npm run build`), not the
 * tree's HEAD, which may have moved on since the build.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** "8985048", "8985048, modified tree", or "unknown build" (no build-info: dist/ from before it existed, or no git). */
export function builtVoix(root: string = ROOT): string {
  let info: { commit?: unknown; modified?: unknown };
  try {
    info = JSON.parse(readFileSync(path.join(root, 'dist/build-info.json'), 'utf8')) as { commit?: unknown; modified?: unknown };
  } catch {
    return 'unknown build';
  }
  const commit = typeof info.commit === 'string' && info.commit !== 'unknown' ? info.commit : 'unknown build';
  return info.modified === true ? `${commit}, modified tree` : commit;
}
