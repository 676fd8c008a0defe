import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { userLines } from '../../support/config.js';

const BASE = `server:
  domain: voix.test
users:
${userLines([{ extension: '1001' }, { extension: '1002' }])}
`;

describe('messages (announcements)', () => {
  it('loads a spoken message and one from a file, reachable as destinations', () => {
    const result = parseConfig(
      `${BASE}messages:
  - number: "8000"
    name: Fermeture
    prompt: { text: "Nos bureaux sont fermés." }
  - number: "8001"
    name: Musique
    prompt: { file: load.test.ts }
    repeat: 2
groups:
  - number: "2000"
    name: Accueil
    members: ["1001"]
    fallback: "8000"
`,
      new URL('./x.yaml', import.meta.url).pathname,
    );

    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.config.messages).toEqual([
      { number: '8000', name: 'Fermeture', prompt: { kind: 'text', text: 'Nos bureaux sont fermés.', voice: 'fr' }, repeat: 1 },
      { number: '8001', name: 'Musique', prompt: { kind: 'file', path: new URL('./load.test.ts', import.meta.url).pathname }, repeat: 2 },
    ]);
    expect(result.config.groups[0]?.fallback).toBe('8000');
  });

  it('refuses a message number that is already an extension, and a prompt file that does not exist, with their lines', () => {
    const result = parseConfig(
      `${BASE}messages:
  - number: "1002"
    name: Doublon
    prompt: { text: "x" }
  - number: "8001"
    name: Absent
    prompt: { file: /nonexistent/ferme.wav }
`,
      'x.yaml',
    );

    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors;
    expect(errors).toContainEqual(expect.objectContaining({ path: 'messages[0].number', message: '"1002" is already a user\'s extension' }));
    expect(errors).toContainEqual(expect.objectContaining({ path: 'messages[1].prompt.file', message: 'no such file: /nonexistent/ferme.wav' }));
    const fileError = errors.find((e) => e.path === 'messages[1].prompt.file');
    expect(fileError?.line).toBe(BASE.split('\n').length + 6);
  });

  it('refuses a prompt that is neither text nor a file', () => {
    const result = parseConfig(`${BASE}messages:\n  - number: "8000"\n    name: Vide\n    prompt: { sound: x.wav }\n`, 'x.yaml');

    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.errors.map((e) => e.path)).toContain('messages[0].prompt');
  });
});
