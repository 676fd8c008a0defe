/**
 * Where a page of docs/ names a test case (SEC-ENUM-01, DEPLOI-03, …), the
 * name is a link to that case in the test plan, so a reader goes from a
 * claim to its proof and latest result in one click. Names inside code
 * (fenced blocks, inline code) are left alone. Whether the linked anchor
 * exists is checked on the built site (test/integration/docs/site.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DOCS = path.join(REPO, 'docs');
const PLAN = path.join(DOCS, 'plan-de-test.md');

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') return [];
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(full, keep);
    return keep(entry.name) ? [full] : [];
  });
}

function caseIds(): string[] {
  return filesUnder(path.join(REPO, 'test/e2e'), (name) => name === 'case.yaml').flatMap((file) => {
    const id = /^id:\s*(\S+)/m.exec(readFileSync(file, 'utf8'))?.[1];
    return id === undefined ? [] : [id];
  });
}

/** `file:line: ID` for each case named in prose but not as a link to the plan. */
function unlinkedCaseNames(markdown: string, file: string, ids: readonly string[]): string[] {
  const escaped = [...ids].sort((a, b) => b.length - a.length).map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const name = new RegExp(`(?<![\\w#/-])(${escaped.join('|')})(?![\\w-])`, 'g');
  const found: string[] = [];
  let fenced = false;
  markdown.split('\n').forEach((line, index) => {
    if (line.trimStart().startsWith('```')) {
      fenced = !fenced;
      return;
    }
    if (fenced) return;
    // Inline code, and links whose text is the case and whose target is its anchor in the plan, are fine.
    const prose = line.replace(/`[^`]*`/g, '').replace(/\[([^\]]*)\]\(([^)]*)\)/g, (link, text: string, target: string) =>
      target.replace(/^.*#/, '') === text.toLowerCase() && /plan-de-test\.md#/.test(target) ? '' : text,
    );
    for (const match of prose.matchAll(name)) found.push(`${path.relative(REPO, file)}:${index + 1}: ${match[1]}`);
  });
  return found;
}

describe('test case names in the documentation', () => {
  it('finds the cases, and tells a bare name from a link to the plan', () => {
    const ids = caseIds();
    expect(ids.length).toBeGreaterThan(50);
    expect(ids).toContain('SEC-ENUM-01');
    const sample = [
      'Vérifié par SEC-ENUM-01.',
      'Vérifié par [SEC-ENUM-01](./plan-de-test.md#sec-enum-01).',
      'Un lien ailleurs : [SEC-ENUM-01](./securite.md#sec-enum-01).',
      'En code : `SEC-ENUM-01`.',
      '```',
      'SEC-ENUM-01',
      '```',
    ].join('\n');
    expect(unlinkedCaseNames(sample, path.join(DOCS, 'x.md'), ids)).toEqual(['docs/x.md:1: SEC-ENUM-01', 'docs/x.md:3: SEC-ENUM-01']);
  });

  it('links every case a page names to that case in the test plan', () => {
    const ids = caseIds();
    const pages = filesUnder(DOCS, (name) => name.endsWith('.md')).filter((file) => file !== PLAN);
    expect(pages.length).toBeGreaterThan(10);
    expect(pages.flatMap((file) => unlinkedCaseNames(readFileSync(file, 'utf8'), file, ids))).toEqual([]);
  });
});
