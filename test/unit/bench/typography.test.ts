import { describe, expect, it } from 'vitest';
import { frenchApostrophes } from '../../../bench/report/typography.js';

describe('frenchApostrophes', () => {
  it('sets the typographic apostrophe in prose, not in code', () => {
    const markdown = ["Le banc d'essai n'a rien d'autre : `voix's` reste", '```sh', "echo 'a'b", '```', "l'appel"].join('\n');
    expect(frenchApostrophes(markdown)).toBe(["Le banc d’essai n’a rien d’autre : `voix's` reste", '```sh', "echo 'a'b", '```', 'l’appel'].join('\n'));
  });
});
