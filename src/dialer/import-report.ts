/**
 * The report of a contact import, written next to the CSV file
 * (`<file>.import-report.txt`) while the import runs: one line per rejected
 * row or duplicate, as found, then the totals. Nothing is kept in memory,
 * however many rows are bad.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { ImportProblem, ImportSummary, ProblemListener } from './contact-import.js';

export function importReportPath(csvFile: string): string {
  return `${csvFile}.import-report.txt`;
}

export interface ImportReportWriter {
  readonly path: string;
  readonly onProblem: ProblemListener;
  /** Writes the totals and closes the file. */
  finish(summary: ImportSummary): Promise<void>;
}

export function createImportReport(csvFile: string): ImportReportWriter {
  const path = importReportPath(csvFile);
  const out: WriteStream = createWriteStream(path, { encoding: 'utf8' });
  out.write(`Import of ${csvFile}\n`);
  return {
    path,
    onProblem: (problem: ImportProblem & { kind: 'rejected' | 'duplicate' }) => {
      out.write(`line ${problem.line}: ${problem.kind}: ${problem.reason}\n`);
    },
    async finish(summary: ImportSummary): Promise<void> {
      const delimiter = summary.delimiter === '\t' ? 'tab' : summary.delimiter;
      out.write(
        `\n${summary.rows} rows read (${summary.encoding}, delimiter ${delimiter}): ${summary.imported} imported, ${summary.duplicates} duplicates, ${summary.rejected} rejected\n`,
      );
      out.end();
      await once(out, 'finish');
    },
  };
}
