/**
 * What a test starts, a test stops: every harness helper that starts a
 * process, opens a socket or makes a temp dir registers how to undo it here,
 * and `useHarness()` runs those undo steps after each test and after the file,
 * whether the test passed or not.
 *
 * When a test fails, the tails of the outputs of the processes it started
 * are printed first (before they are stopped), so the failure report says
 * what the peers were doing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';

export type Cleanup = () => Promise<void> | void;

interface Entry {
  readonly label: string;
  readonly run: Cleanup;
}

/** Something whose recent output helps explain a failed test. */
export interface Diagnosable {
  readonly label: string;
  diagnostics(): string;
}

const entries: Entry[] = [];
const diagnosables = new Set<Diagnosable>();

/** Registers an undo step; returns a function that unregisters it (for things stopped early). */
export function registerCleanup(label: string, run: Cleanup): () => void {
  const entry: Entry = { label, run };
  entries.push(entry);
  return () => {
    const index = entries.indexOf(entry);
    if (index >= 0) entries.splice(index, 1);
  };
}

export function registerDiagnosable(item: Diagnosable): () => void {
  diagnosables.add(item);
  return () => {
    diagnosables.delete(item);
  };
}

/** Runs every registered undo step, last registered first; throws once all ran if any failed. */
export async function runCleanups(): Promise<void> {
  const errors: Error[] = [];
  while (entries.length > 0) {
    const entry = entries.pop();
    if (entry === undefined) break;
    try {
      await entry.run();
    } catch (error) {
      errors.push(new Error(`cleanup "${entry.label}" failed: ${error instanceof Error ? error.message : String(error)}`));
    }
  }
  diagnosables.clear();
  if (errors.length === 1 && errors[0] !== undefined) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} cleanups failed`);
}

function printDiagnostics(testName: string): void {
  for (const item of diagnosables) {
    const text = item.diagnostics();
    if (text.length === 0) continue;
    process.stderr.write(`\n----- ${item.label} (test "${testName}" failed) -----\n${text}\n----- end of ${item.label} -----\n`);
  }
}

/**
 * Installs the hooks in the calling test file: call it once at the top level
 * of every end-to-end test file that uses the harness.
 */
export function useHarness(): void {
  afterEach(async (context) => {
    const state = context.task.result?.state;
    if (state === 'fail') printDiagnostics(context.task.name);
    await runCleanups();
  });
  afterAll(async () => {
    await runCleanups();
  });
}

/** A fresh directory under the OS temp dir, removed by the cleanup. */
export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `voix-e2e-${prefix}-`));
  registerCleanup(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
  return dir;
}
