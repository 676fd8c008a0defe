/**
 * The nftables rule sets the documentation shows for a reader to copy
 * (fenced blocks whose second line is "# vérifié par nft -c -f", after the
 * #!/usr/sbin/nft -f line) are valid for the nft of this Debian: each is
 * written to a file and given to `nft -c -f`, which parses and checks it
 * against the kernel without applying anything.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { markdownFiles } from '../../support/markdown.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DOCS = path.join(REPO, 'docs');
const MARKER = '# vérifié par nft -c -f';

function rulesetBlocks(): Array<{ readonly where: string; readonly text: string }> {
  const blocks: Array<{ where: string; text: string }> = [];
  for (const file of markdownFiles(DOCS)) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, index) => {
      if (!line.startsWith('```') || lines[index + 2]?.trim() !== MARKER) return;
      const end = lines.findIndex((l, i) => i > index && l.startsWith('```'));
      blocks.push({ where: `${path.relative(REPO, file)}:${index + 1}`, text: `${lines.slice(index + 1, end).join('\n')}\n` });
    });
  }
  return blocks;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'voix-docs-nft-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('nftables rule sets shown in docs/', () => {
  const blocks = rulesetBlocks();

  it('include the machine firewall of the installation page', () => {
    expect(blocks.map((b) => b.where.split(':')[0])).toContain('docs/installation/index.md');
  });

  it.each(blocks.map((b) => [b.where, b.text] as const))('%s passes nft -c -f', async (where, text) => {
    const file = path.join(dir, `${where.replace(/[/:]/g, '_')}.nft`);
    writeFileSync(file, text);
    const result = await promisify(execFile)('nft', ['-c', '-f', file]).then(
      () => ({ ok: true, stderr: '' }),
      (err: { stderr?: string; message: string }) => ({ ok: false, stderr: err.stderr ?? err.message }),
    );
    expect(result, `${where}: nft -c -f`).toEqual({ ok: true, stderr: '' });
  });
});
