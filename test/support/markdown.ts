/**
 * The Markdown pages under a folder (docs/), hidden folders left out: what
 * the documentation tests read.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';

export function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith('.')) return [];
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? markdownFiles(full) : entry.name.endsWith('.md') ? [full] : [];
  });
}
