/**
 * The `campaigns` section: defaults that follow French law, the checks that
 * need the rest of the file (the trunk exists, names are unique, calling
 * hours parse), each error at its file, line and key.
 */
import { describe, expect, it } from 'vitest';
import { formatConfigIssue, parseConfig } from '../../../src/config/load.js';

const FILE = 'campagnes.yaml';
const BASE = `server:
  domain: voix.test
trunks:
  - name: operateur
    host: 192.0.2.50
    transport: udp
    username: compte
    password: secret-du-compte
    register: false
`;

describe('campaigns configuration', () => {
  it('applies the legal defaults: 4 attempts per 30 days, 60 days after a refusal, legal hours, opt-out on 9', () => {
    const result = parseConfig(`${BASE}campaigns:\n  - name: relance\n    purpose: prospecting\n    trunk: operateur\n    message: { text: "Bonjour {prenom}" }\n`, FILE);
    if (!result.ok) throw new Error(result.errors.map(formatConfigIssue).join('\n'));
    expect(result.config.campaigns).toEqual([
      {
        name: 'relance',
        purpose: 'prospecting',
        trunk: 'operateur',
        callerId: null,
        callsPerSecond: 1,
        maxCalls: 10,
        ringSeconds: 25,
        message: { kind: 'text', text: 'Bonjour {prenom}', voice: 'fr' },
        optOutKey: '9',
        optOutConfirmation: { kind: 'text', text: 'Votre numéro a été retiré de nos listes d’appel. Au revoir.', voice: 'fr' },
        connect: null,
        progressive: false,
        answeringMachine: null,
        hours: null,
        maxAttempts: 4,
        attemptPeriodDays: 30,
        quietDaysAfterRefusal: 60,
        consentRequired: null,
        retry: {
          busy: { afterSeconds: 900, maxRetries: 3 },
          'no-answer': { afterSeconds: 7200, maxRetries: 2 },
          failed: { afterSeconds: 1800, maxRetries: 2 },
          congestion: { afterSeconds: 300, maxRetries: 5 },
          unknown: { afterSeconds: 1800, maxRetries: 2 },
        },
      },
    ]);
    expect(result.config.trunks[0]?.callsPerSecond).toBe(5);
  });

  it('names file, line and key of an unknown trunk, a duplicate name and bad calling hours', () => {
    const text = `${BASE}campaigns:
  - name: relance
    purpose: customer
    trunk: inconnu
    message: { text: "Bonjour" }
  - name: relance
    purpose: customer
    trunk: operateur
    message: { text: "Bonjour" }
    hours:
      weekly: { "mon-fri": ["25:00-26:00"] }
`;
    const result = parseConfig(text, FILE);
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors.map(formatConfigIssue);
    expect(errors).toEqual([
      expect.stringMatching(/^campagnes\.yaml:13:\d+ campaigns\[0\]\.trunk: no trunk named "inconnu"$/),
      expect.stringMatching(/^campagnes\.yaml:15:\d+ campaigns\[1\]\.name: duplicate campaign name "relance" \(first at campaigns\[0\]\)$/),
      expect.stringMatching(/^campagnes\.yaml:20:\d+ campaigns\[1\]\.hours\.weekly\.mon-fri(\[0\])?: /),
    ]);
  });
});
