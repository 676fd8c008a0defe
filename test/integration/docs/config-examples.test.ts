/**
 * Every configuration the documentation shows as checked passes `voix check`:
 * the fenced ```yaml blocks of docs/ whose first line is
 * "# vérifié par voix check", each written to a file of its own and given to
 * the real CLI (src/cli/voix.ts run by tsx), as a reader would. Only
 * server.data_dir is pointed at a temp dir: `voix check` prepares the prompts
 * there, and a test must not write into /var/lib/voix. And the TLS
 * certificate and key a block names (/etc/voix/tls/… on the reader's
 * server) are a certificate and key made for the test: `voix check` reads
 * them.
 *
 * A page may also show parts of a checked file, one section at a time: a
 * block whose first line is "# extrait du fichier complet de cette page"
 * must appear, line for line (comments and indentation included), inside a
 * checked block of the same page, so that the parts a reader copies are the
 * ones voix check passed.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { markdownFiles } from '../../support/markdown.js';
import { ensureServerCertificate } from '../../../src/tls/certificates.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DOCS = path.join(REPO, 'docs');
const ENTRY = path.join(REPO, 'src/cli/voix.ts');
const TSX = path.join(REPO, 'node_modules/tsx/dist/cli.mjs');
const MARKER = '# vérifié par voix check';
const EXCERPT_MARKER = '# extrait du fichier complet de cette page';

interface ExampleBlock {
  readonly file: string;
  readonly line: number;
  readonly yaml: string;
}

/** The ```yaml blocks of docs/ whose first line is `marker`, from that line on. */
function markedBlocks(marker: string): ExampleBlock[] {
  const blocks: ExampleBlock[] = [];
  for (const file of markdownFiles(DOCS)) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, index) => {
      if (!/^```ya?ml\b/.test(line) || lines[index + 1]?.trim() !== marker) return;
      const end = lines.findIndex((l, i) => i > index && l.startsWith('```'));
      blocks.push({ file: path.relative(REPO, file), line: index + 1, yaml: lines.slice(index + 1, end).join('\n') });
    });
  }
  return blocks;
}

/** Whether `part` (lines) appears as consecutive lines of `whole`. */
function containsLines(whole: readonly string[], part: readonly string[]): boolean {
  for (let start = 0; start + part.length <= whole.length; start += 1) {
    if (part.every((line, i) => whole[start + i] === line)) return true;
  }
  return false;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'voix-docs-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A certificate and its key, made once, for the blocks that name their own. */
let testCertificate: { readonly certificate: string; readonly key: string } | undefined;
function certificateFiles(): { readonly certificate: string; readonly key: string } {
  if (testCertificate === undefined) {
    const made = ensureServerCertificate({ dir: path.join(dir, 'tls'), hostnames: ['voix.test'], ipAddresses: ['127.0.0.1'] });
    const certificate = path.join(dir, 'tls-server.crt');
    const key = path.join(dir, 'tls-server.key');
    writeFileSync(certificate, made.certPem);
    writeFileSync(key, made.keyPem);
    testCertificate = { certificate, key };
  }
  return testCertificate;
}

const blocks = markedBlocks(MARKER);
const excerpts = markedBlocks(EXCERPT_MARKER);

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
    const withFiles = /^\s+(certificate|key):/m.test(yaml)
      ? yaml.replace(/^(\s+certificate:).*$/m, `$1 ${certificateFiles().certificate}`).replace(/^(\s+key:).*$/m, `$1 ${certificateFiles().key}`)
      : yaml;
    writeFileSync(configPath, `${withFiles}\n`);
    const run = await promisify(execFile)(process.execPath, [TSX, ENTRY, 'check', '--config', configPath], { cwd: REPO }).catch(
      (error: { code?: number; stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: `${error.stderr ?? ''} (exit ${String(error.code)})` }),
    );
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/: OK \(/);
  });
});

describe('excerpts of the checked configuration examples', () => {
  it('includes the company of the installation page', () => {
    expect(excerpts.map((b) => b.file)).toContain('docs/installation/index.md');
  });

  it.each(excerpts.map((b) => [`${b.file}:${b.line}`, b] as const))('%s is part of a checked example of its page', (_, excerpt) => {
    const part = excerpt.yaml.split('\n').slice(1);
    while (part.length > 0 && part[part.length - 1]?.trim() === '') part.pop();
    expect(part.length).toBeGreaterThan(0);
    const wholes = blocks.filter((b) => b.file === excerpt.file).map((b) => b.yaml.split('\n'));
    expect(wholes.length, `no block marked "${MARKER}" in ${excerpt.file}`).toBeGreaterThan(0);
    // The first line missing from every checked block of the page says where the excerpt drifted.
    const missing = part.find((line) => !wholes.some((whole) => whole.includes(line)));
    expect(missing, 'a line of the excerpt found in no checked block of the page').toBeUndefined();
    expect(wholes.some((whole) => containsLines(whole, part))).toBe(true);
  });
});
