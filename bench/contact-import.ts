/**
 * Contact import rate and peak memory (issue 6): a CSV of --rows rows
 * (default 1 000 000; French header, `;`, a few columns, 1 % of bad rows
 * and 1 % of duplicates) imported by src/dialer/contact-import.ts into a
 * sink that only counts, so the figures are the import's own: rows per
 * second and the process's peak resident memory during the import (VmHWM,
 * reset through /proc/self/clear_refs) against its resident memory before.
 *
 *   npx tsx bench/contact-import.ts [--rows 1000000] [--cli]
 *
 * With --cli, the same file goes through the operator's command, `voix
 * campaign import` (dist/cli/voix.js, after `npm run build`), into a
 * campaign's SQLite store in a temporary data directory: the rate and the
 * command's peak resident memory (VmHWM of the child, read until it exits)
 * are then those of the whole import, storage included.
 *
 * No peer here: the comparison with Asterisk call files fed from the same
 * CSV belongs to the benchmark harness (issue 7).
 */
import { spawn } from 'node:child_process';
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
const throughCli = process.argv.includes('--cli');
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

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

/** `voix campaign import` on `file`, in a data directory of its own: seconds, and the command's peak resident memory (KiB). */
async function importThroughCli(dir: string, file: string): Promise<{ seconds: number; peakKib: number; output: string }> {
  const config = path.join(dir, 'voix.yaml');
  writeFileSync(
    config,
    [
      'server: { domain: voix.bench, data_dir: ./data }',
      'trunks:',
      '  - { name: bench, host: 127.0.0.1, transport: udp, username: voix, password: bench-secret, register: false }',
      'campaigns:',
      '  - { name: bench, purpose: customer, trunk: bench, message: { text: "Bonjour." } }',
      '',
    ].join('\n'),
  );
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/cli/voix.js'), 'campaign', 'import', 'bench', file, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let peakKib = 0;
  const poll = setInterval(() => {
    try {
      const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      peakKib = Math.max(peakKib, Number(match?.[1] ?? 0));
    } catch {
      // The child has just exited.
    }
  }, 20);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearInterval(poll);
  if (code !== 0) throw new Error(`voix campaign import exited with ${code}:\n${output}`);
  return { seconds: (performance.now() - started) / 1000, peakKib, output };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'voix-bench-import-'));
try {
  const file = path.join(dir, 'contacts.csv');
  await writeCsv(file);
  if (throughCli) {
    const { seconds, peakKib, output } = await importThroughCli(dir, file);
    console.log(`command: npx tsx bench/contact-import.ts --rows ${rows} --cli`);
    console.log(`machine: ${machineLine()}`);
    console.log(`file: ${rows} rows, ${(statSync(file).size / 2 ** 20).toFixed(1)} MiB`);
    console.log(output.trim());
    console.log(`rate: ${Math.round(rows / seconds)} rows/s (${seconds.toFixed(1)} s, voix campaign import from start to exit, into SQLite)`);
    console.log(`memory: peak ${(peakKib / 1024).toFixed(0)} MiB resident for the command (VmHWM)`);
  } else {
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
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
