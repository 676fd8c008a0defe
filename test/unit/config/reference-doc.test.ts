import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderConfigReference } from '../../../scripts/generate-config-reference.js';
import { formatConfigIssue, parseConfig } from '../../../src/config/load.js';
import { renderConfigJsonSchema } from '../../../src/config/schema.js';

const COMMITTED = fileURLToPath(new URL('../../../docs/reference-configuration.md', import.meta.url));
/** Examples that start like this are whole files; the others are excerpts of one. */
const WHOLE_FILE_MARK = '# yaml-language-server: $schema=';

function yamlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
}

/** Every key path of the JSON Schema, written as the reference writes them (`users[].forward.busy`). */
function schemaKeyPaths(node: unknown, path: string, out: string[]): string[] {
  if (typeof node !== 'object' || node === null) return out;
  const n = node as { properties?: Record<string, unknown>; items?: unknown; anyOf?: unknown[]; additionalProperties?: unknown };
  for (const [key, child] of Object.entries(n.properties ?? {})) {
    const childPath = path === '' ? key : `${path}.${key}`;
    out.push(childPath);
    schemaKeyPaths(child, childPath, out);
  }
  if (n.items !== undefined) schemaKeyPaths(n.items, `${path}[]`, out);
  for (const branch of n.anyOf ?? []) schemaKeyPaths(branch, path, out);
  if (typeof n.additionalProperties === 'object') schemaKeyPaths(n.additionalProperties, `${path}.<nom>`, out);
  return out;
}

describe('docs/reference-configuration.md', () => {
  const committed = readFileSync(COMMITTED, 'utf8');

  it('is what scripts/generate-config-reference.ts generates', () => {
    expect(committed, 'docs/reference-configuration.md is stale: run `npm run docs:config` after changing the schema').toBe(renderConfigReference());
  });

  it('is generated the same way twice (no date, no unordered input)', () => {
    expect(renderConfigReference()).toBe(renderConfigReference());
  });

  it('has a row for every key of the JSON Schema editors use', () => {
    const paths = schemaKeyPaths(JSON.parse(renderConfigJsonSchema()), '', []);
    const topLevel = paths.filter((p) => !/[.[]/.test(p));

    for (const path of topLevel) expect(committed).toContain(`## \`${path}\``);
    const missing = paths.filter((p) => !topLevel.includes(p) && !committed.includes(`| \`${p}\` |`));
    expect(missing).toEqual([]);
  });

  it('has whole-file examples that load without errors or warnings', () => {
    const wholeFiles = yamlBlocks(committed).filter((block) => block.startsWith(WHOLE_FILE_MARK));

    expect(wholeFiles.length).toBeGreaterThanOrEqual(2);
    for (const text of wholeFiles) {
      const result = parseConfig(text, 'examples/voix.yaml');
      const problems = [...(result.ok ? [] : result.errors), ...result.warnings].map(formatConfigIssue);
      expect(problems, text).toEqual([]);
    }
  });

  it('has only section examples that are excerpts of a whole-file example, so they are checked too', () => {
    const blocks = yamlBlocks(committed);
    const wholeFiles = blocks.filter((block) => block.startsWith(WHOLE_FILE_MARK));
    const excerpts = blocks.filter((block) => !block.startsWith(WHOLE_FILE_MARK));

    expect(excerpts.length).toBeGreaterThan(0);
    const orphans = excerpts.filter((excerpt) => !wholeFiles.some((file) => file.includes(excerpt)));
    expect(orphans).toEqual([]);
  });
});
