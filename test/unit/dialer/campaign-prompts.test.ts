/**
 * Personal messages: contact fields named in braces, written out per
 * contact; a missing field is left out and reported, never spoken as
 * "{prenom}".
 */
import { describe, expect, it } from 'vitest';
import { campaignPromptDefinitions, isFixedMessage, personalText } from '../../../src/dialer/campaign-prompts.js';

const CONTACT = { firstName: 'Élodie', lastName: 'Martin', variables: { 'Ville de résidence': 'Besançon', agence: '' } };

describe('personalText', () => {
  it('fills first and last name (French or English names) and any column, without accents or case mattering', () => {
    expect(personalText('Bonjour {Prénom} {nom}, votre agence de {ville de residence} vous appelle.', CONTACT)).toEqual({
      text: 'Bonjour Élodie Martin, votre agence de Besançon vous appelle.',
      missing: [],
    });
    expect(personalText('Hello {first_name} {LAST-NAME}', CONTACT).text).toBe('Hello Élodie Martin');
  });

  it('leaves out a field the contact has no value for, and says which', () => {
    expect(personalText('Bonjour {prenom} {surnom}, l’agence {agence} vous appelle.', CONTACT)).toEqual({
      text: 'Bonjour Élodie, l’agence vous appelle.',
      missing: ['surnom', 'agence'],
    });
  });

  it('a message without fields is fixed: prepared once with the configuration, with the opt-out confirmation', () => {
    expect(isFixedMessage({ kind: 'text', text: 'Bonjour, ici voix.', voice: 'fr' })).toBe(true);
    expect(isFixedMessage({ kind: 'text', text: 'Bonjour {prenom}', voice: 'fr' })).toBe(false);
    expect(isFixedMessage({ kind: 'file', path: '/x.wav' })).toBe(true);
    const base = { optOutConfirmation: { kind: 'text', text: 'Au revoir', voice: 'fr' } } as const;
    const defs = campaignPromptDefinitions([
      { ...base, name: 'fixe', message: { kind: 'text', text: 'Bonjour', voice: 'fr' } },
      { ...base, name: 'perso', message: { kind: 'text', text: 'Bonjour {prenom}', voice: 'fr' } },
    ] as never);
    expect([...defs.keys()]).toEqual(['campaign/fixe/message', 'campaign/fixe/opt-out', 'campaign/perso/opt-out']);
  });
});
