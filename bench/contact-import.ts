/**
 * Contact import rate and peak memory (issue 6): a CSV of --rows rows
 * (default 1 000 000; French header, `;`, a few columns, 1 % of bad rows
 * and 1 % of duplicates) imported by src/dialer/contact-import.ts into a
 * sink that only counts, so the figures are the import's own: rows per
 * second and the process's peak resident memory during the import (VmHWM,
 * reset through /proc/self/clear_refs) against its resident memory before.
 *
 *   npx tsx bench/contact-import.ts [--rows 1000000]
 *
 * No peer here: the comparison with Asterisk call files fed from the same
 * CSV belongs to the benchmark harness (issue 7).
 */
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { importContacts, type ContactSink } from '../src/dialer/contact-import.js';
import { machineLine } from './relay-machine.js';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}
const rows = Number(option('rows') ?? 1_000_000);

function kibStatus(field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(match?.[1] ?? Number.NaN);
}

async function writeCsv(file: string): Promise<void> {
  const out = createWriteStream(file);
  out.write('Prénom;Nom;Téléphone;Ville;Consentement;Référence\n');
  for (let i = 0; i < rows; i++) {
    const phone = i % 100 === 7 ? '12345' : `06${String(10_000_000 + (i % 100 === 9 ? i - 1 : i)).padStart(8, '0')}`;
    if (!out.write(`Prénom${i};Nom${i};${phone};Ville ${i % 500};oui;REF-${i}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Counts; a duplicate is the row right after its original (how the file is made), so no set of numbers is kept. */
class CountingSink implements ContactSink {
  added = 0;
  private lastPhone = '';
  private lastLine = 0;
  add(contact: { line: number; phone: string }): Promise<'added' | { duplicateOfLine: number }> {
    if (contact.phone === this.lastPhone) return Promise.resolve({ duplicateOfLine: this.lastLine });
    this.lastPhone = contact.phone;
    this.lastLine = contact.line;
    this.added++;
    return Promise.resolve('added');
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'voix-bench-import-'));
try {
  const file = path.join(dir, 'contacts.csv');
  await writeCsv(file);
  global.gc?.();
  // Linux: writing 5 to clear_refs resets the peak (VmHWM) to the current resident size, so the peak is the import's.
  writeFileSync('/proc/self/clear_refs', '5');
  const rssBefore = kibStatus('VmRSS');
  let problems = 0;
  const started = performance.now();
  const summary = await importContacts(file, new CountingSink(), { onProblem: () => problems++ });
  const seconds = (performance.now() - started) / 1000;
  const peak = kibStatus('VmHWM');
  console.log(`command: npx tsx bench/contact-import.ts --rows ${rows}`);
  console.log(`machine: ${machineLine()}`);
  console.log(`file: ${rows} rows, ${(statSync(file).size / 2 ** 20).toFixed(1)} MiB, ${summary.encoding}, delimiter ${summary.delimiter}`);
  console.log(`imported ${summary.imported}, duplicates ${summary.duplicates}, rejected ${summary.rejected} (problems reported: ${problems})`);
  console.log(`rate: ${Math.round(summary.rows / seconds)} rows/s (${seconds.toFixed(1)} s)`);
  console.log(`memory: resident ${(rssBefore / 1024).toFixed(0)} MiB before the import, peak ${(peak / 1024).toFixed(0)} MiB during it (VmHWM, reset before the import)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
