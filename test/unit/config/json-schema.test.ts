import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderConfigJsonSchema } from '../../../src/config/schema.js';

const COMMITTED = fileURLToPath(new URL('../../../schema/voix-config.schema.json', import.meta.url));

interface JsonSchemaNode {
  description?: string;
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
}

/** Key paths of the properties that have no description. */
function undescribed(node: JsonSchemaNode, path: string, out: string[]): string[] {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    if (child.description === undefined || child.description === '') out.push(`${path}${key}`);
    undescribed(child, `${path}${key}.`, out);
  }
  if (node.items !== undefined) undescribed(node.items, `${path.replace(/\.$/, '')}[].`, out);
  for (const branch of node.anyOf ?? []) undescribed(branch, path, out);
  return out;
}

describe('schema/voix-config.schema.json', () => {
  it('is what scripts/generate-config-schema.ts generates (run `npx tsx scripts/generate-config-schema.ts` after changing the schema)', () => {
    expect(readFileSync(COMMITTED, 'utf8')).toBe(renderConfigJsonSchema());
  });

  it('describes every property, for editors', () => {
    const schema = JSON.parse(renderConfigJsonSchema()) as JsonSchemaNode;

    expect(schema.description).toBeTruthy();
    expect(undescribed(schema, '', [])).toEqual([]);
  });
});
