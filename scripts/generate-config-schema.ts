/**
 * Writes schema/voix-config.schema.json from the zod schema in
 * src/config/schema.ts. Run after changing the schema:
 *   npx tsx scripts/generate-config-schema.ts
 * test/unit/config/json-schema.test.ts fails while the committed copy differs.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigJsonSchema } from '../src/config/schema.js';

const target = fileURLToPath(new URL('../schema/voix-config.schema.json', import.meta.url));
writeFileSync(target, renderConfigJsonSchema());
console.log(`wrote ${target}`);
