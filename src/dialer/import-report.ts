/**
 * The report of a contact import, written next to the CSV file
 * (`<file>.import-report.txt`) while the import runs: one line per rejected
 * row or duplicate, as found, then the totals, or the reason the import
 * stopped. Nothing is kept in memory, however many rows are bad.
 *
 * A report that cannot be written (a folder without write permission, a
 * full disk) never throws out of the stream, which would end the process:
 * the failure is kept, problems found after it are dropped, and `ready`,
 * `finish` and `abort` reject with an ImportReportError naming the report.
 */
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { ImportProblem, ImportSummary, ProblemListener } from './contact-import.js';

export function importReportPath(csvFile: string): string {
  return `${csvFile}.import-report.txt`;
}

export class ImportReportError extends Error {
  override readonly name = 'ImportReportError';
  /** The file system's code (EACCES, ENOSPC…), when there is one. */
  readonly code: string | undefined;

  constructor(
    readonly path: string,
    cause: Error,
  ) {
    super(`cannot write the import report ${path}: ${cause.message}`, { cause });
    this.code = (cause as NodeJS.ErrnoException).code;
  }
}

export interface ImportReportWriter {
  readonly path: string;
  /** Resolves once the report file is open for writing; rejects (ImportReportError) when it cannot be. */
  readonly ready: Promise<void>;
  readonly onProblem: ProblemListener;
  /** Writes the totals and closes the file. */
  finish(summary: ImportSummary): Promise<void>;
  /** Writes that the import stopped, and `reason`, and closes the file: an import that failed has no totals. */
  abort(reason: string): Promise<void>;
}

/** Creates (or empties) the report of the import of `csvFile`. */
export function createImportReport(csvFile: string): ImportReportWriter {
  const path = importReportPath(csvFile);
  const out = createWriteStream(path, { encoding: 'utf8' });
  let failure: ImportReportError | null = null;
  // Without this listener an error of the stream is an uncaught exception.
  out.on('error', (error) => {
    failure ??= new ImportReportError(path, error);
  });
  const ready = new Promise<void>((resolve, reject) => {
    out.once('ready', () => resolve());
    // A stream that failed is closed after its 'error'.
    out.once('close', () => (failure === null ? resolve() : reject(failure)));
  });
  // A caller that never looks at `ready` still hears of the failure from finish() or abort().
  ready.catch(() => undefined);
  let closed: Promise<void> | null = null;

  const write = (text: string): void => {
    if (failure === null && !out.destroyed) out.write(text);
  };
  const close = (last: string): Promise<void> => {
    closed ??= (async () => {
      write(last);
      if (!out.destroyed) out.end();
      try {
        await finished(out);
      } catch (error) {
        failure ??= new ImportReportError(path, error instanceof Error ? error : new Error(String(error)));
      }
      if (failure !== null) throw failure;
    })();
    return closed;
  };

  write(`Import of ${csvFile}\n`);
  return {
    path,
    ready,
    onProblem: (problem: ImportProblem & { kind: 'rejected' | 'duplicate' }) => {
      write(`line ${problem.line}: ${problem.kind}: ${problem.reason}\n`);
    },
    finish(summary: ImportSummary): Promise<void> {
      const delimiter = summary.delimiter === '\t' ? 'tab' : summary.delimiter;
      return close(`\n${summary.rows} rows read (${summary.encoding}, delimiter ${delimiter}): ${summary.imported} imported, ${summary.duplicates} duplicates, ${summary.rejected} rejected\n`);
    },
    abort(reason: string): Promise<void> {
      return close(`\nimport stopped: ${reason}\n`);
    },
  };
}
