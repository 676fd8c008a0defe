/**
 * Every configuration the documentation shows as checked passes `voix check`:
 * the fenced ```yaml blocks of docs/ whose first line is
 * "# vérifié par voix check", each written to a file of its own and given to
 * the real CLI (src/cli/voix.ts run by tsx), as a reader would. Only
 * server.data_dir is pointed at a temp dir: `voix check` prepares the prompts
 * there, and a test must not write into /var/lib/voix.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DOCS = path.join(REPO, 'docs');
const ENTRY = path.join(REPO, 'src/cli/voix.ts');
const TSX = path.join(REPO, 'node_modules/tsx/dist/cli.mjs');
const MARKER = '# vérifié par voix check';

interface ExampleBlock {
  readonly file: string;
  readonly line: number;
  readonly yaml: string;
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith('.')) return [];
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? markdownFiles(full) : entry.name.endsWith('.md') ? [full] : [];
  });
}

function checkedBlocks(): ExampleBlock[] {
  const blocks: ExampleBlock[] = [];
  for (const file of markdownFiles(DOCS)) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, index) => {
      if (!/^```ya?ml\b/.test(line) || lines[index + 1]?.trim() !== MARKER) return;
      const end = lines.findIndex((l, i) => i > index && l.startsWith('```'));
      blocks.push({ file: path.relative(REPO, file), line: index + 1, yaml: lines.slice(index + 1, end).join('\n') });
    });
  }
  return blocks;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'voix-docs-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const blocks = checkedBlocks();

describe('configuration examples of the documentation', () => {
  it('includes the company of the Asterisk page', () => {
    expect(blocks.map((b) => b.file)).toContain('docs/asterisk.md');
  });

  it.each(blocks.map((b) => [`${b.file}:${b.line}`, b] as const))('%s passes voix check', async (_, block) => {
    const configPath = path.join(dir, `${block.file.replace(/[^\w]+/g, '-')}-${block.line}.yaml`);
    const dataDir = path.join(dir, `data-${block.line}`);
    const yaml = /^\s+data_dir:/m.test(block.yaml)
      ? block.yaml.replace(/^(\s+data_dir:).*$/m, `$1 ${dataDir}`)
      : block.yaml.replace(/^server:\n/m, `server:\n  data_dir: ${dataDir}\n`);
    expect(yaml).toContain(dataDir);
    writeFileSync(configPath, `${yaml}\n`);
    const run = await promisify(execFile)(process.execPath, [TSX, ENTRY, 'check', '--config', configPath], { cwd: REPO }).catch(
      (error: { code?: number; stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: `${error.stderr ?? ''} (exit ${String(error.code)})` }),
    );
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/: OK \(/);
  });
});
