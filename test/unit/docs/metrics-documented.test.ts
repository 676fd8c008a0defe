/**
 * docs/exploitation.md lists voix's metrics in a table: every metric that
 * /metrics serves has its row, and every row names a metric that exists,
 * so an operator's dashboard built from the page finds what it asks for.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VoixMetrics } from '../../../src/admin/voix-metrics.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The metric names in the first column of the table that starts with `| nom | type |`. */
function documentedMetrics(markdown: string): string[] {
  const lines = markdown.split('\n');
  const header = lines.findIndex((line) => /^\| nom \| type \|/.test(line));
  if (header === -1) throw new Error('docs/exploitation.md: no metrics table (a line starting "| nom | type |")');
  const names: string[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const firstCell = line.split('|')[1] ?? '';
    names.push(...(firstCell.match(/voix_[a-z_]+/g) ?? []));
  }
  return names;
}

function servedMetrics(): string[] {
  return new VoixMetrics(0)
    .render()
    .split('\n')
    .filter((line) => line.startsWith('# TYPE '))
    .map((line) => line.split(' ')[2] ?? '');
}

describe('the metrics table of docs/exploitation.md', () => {
  it('has a row for each metric voix serves, and no row for one it does not', () => {
    const documented = documentedMetrics(readFileSync(path.join(REPO, 'docs/exploitation.md'), 'utf8'));
    const served = servedMetrics();

    expect(served.length).toBeGreaterThan(30);
    expect(served.filter((name) => !documented.includes(name)), 'served, not documented').toEqual([]);
    expect(documented.filter((name) => !served.includes(name)), 'documented, not served').toEqual([]);
  });
});
