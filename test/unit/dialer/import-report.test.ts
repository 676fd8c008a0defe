/**
 * The import report on a real file system (a temporary directory): what it
 * says when an import stops, and a report that cannot be written, which
 * must reach the caller as a rejected promise, never as an uncaught
 * exception (vitest fails the run on one).
 */
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImportReportError, createImportReport, importReportPath } from '../../../src/dialer/import-report.js';
import type { ImportSummary } from '../../../src/dialer/contact-import.js';

const SUMMARY: ImportSummary = { encoding: 'utf-8', delimiter: ';', rows: 2, imported: 1, duplicates: 0, rejected: 1 };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'voix-import-report-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('import report', () => {
  it('abort: the problems found so far, then that the import stopped and why, and no totals', async () => {
    const csv = path.join(dir, 'broken.csv');
    const report = createImportReport(csv);
    await report.ready;

    report.onProblem({ kind: 'rejected', line: 3, reason: 'empty phone number' });
    await report.abort(`${csv}: Quote Not Closed at line 4`);

    expect(await readFile(report.path, 'utf8')).toBe([`Import of ${csv}`, 'line 3: rejected: empty phone number', '', `import stopped: ${csv}: Quote Not Closed at line 4`, ''].join('\n'));
  });

  it('is closed once: a second finish or abort writes nothing more', async () => {
    const csv = path.join(dir, 'twice.csv');
    const report = createImportReport(csv);

    await report.finish(SUMMARY);
    await report.abort('too late');

    expect(await readFile(report.path, 'utf8')).not.toContain('too late');
  });

  it('a report that cannot be created: ready, finish and abort reject with an error naming the report, nothing is thrown', async () => {
    const csv = path.join(dir, 'blocked.csv');
    // A directory where the report should be: EISDIR, even for root.
    await mkdir(importReportPath(csv));

    const report = createImportReport(csv);
    report.onProblem({ kind: 'rejected', line: 2, reason: 'empty phone number' });

    await expect(report.ready).rejects.toThrow(ImportReportError);
    await expect(report.ready).rejects.toThrow(`cannot write the import report ${importReportPath(csv)}: EISDIR`);
    await expect(report.finish(SUMMARY)).rejects.toMatchObject({ path: importReportPath(csv), code: 'EISDIR' });
    await expect(report.abort('stopped')).rejects.toThrow(ImportReportError);
  });

  it('a report that fails while written (a full disk): finish rejects with an error naming the report', async () => {
    const csv = path.join(dir, 'full.csv');
    // Every write to /dev/full fails with ENOSPC.
    await symlink('/dev/full', importReportPath(csv));
    const report = createImportReport(csv);
    await report.ready;

    report.onProblem({ kind: 'rejected', line: 2, reason: 'empty phone number' });
    report.onProblem({ kind: 'rejected', line: 3, reason: 'empty phone number' });

    await expect(report.finish(SUMMARY)).rejects.toThrow(`cannot write the import report ${importReportPath(csv)}: ENOSPC`);
  });
});
