/**
 * What a campaign's called party hears. A message without contact fields is
 * prepared with the configuration (`campaign/<name>/message`); one that
 * names fields in braces ("Bonjour {prenom}") is written out for each
 * contact and spoken by the same prompt store (espeak-ng, cached by text)
 * just before the call, under its own id, and unloaded after it.
 */
import type { CampaignConfig, PromptSpec } from '../config/types.js';

const FIELD = /\{([^{}]+)\}/g;

export function campaignMessageId(campaign: string): string {
  return `campaign/${campaign}/message`;
}

export function campaignOptOutId(campaign: string): string {
  return `campaign/${campaign}/opt-out`;
}

/** Whether a message is the same for every contact (prepared once with the configuration). */
export function isFixedMessage(spec: PromptSpec): boolean {
  return spec.kind === 'file' || spec.text.match(FIELD) === null;
}

/** The prompts a configuration's campaigns need ready before any call. */
export function campaignPromptDefinitions(campaigns: readonly CampaignConfig[]): Map<string, PromptSpec> {
  const definitions = new Map<string, PromptSpec>();
  for (const c of campaigns) {
    if (isFixedMessage(c.message)) definitions.set(campaignMessageId(c.name), c.message);
    definitions.set(campaignOptOutId(c.name), c.optOutConfirmation);
  }
  return definitions;
}

/** Field names as written in braces or in a CSV header: lower case, without accents, spaces or dashes. */
export function fieldKey(name: string): string {
  return name
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[\s_-]+/g, '');
}

export interface ContactFields {
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly variables: Readonly<Record<string, string>>;
}

/**
 * The message text for one contact: each {field} replaced by the contact's
 * value (prenom / first_name, nom / last_name, or any column of the file).
 * Returns the fields the contact has no value for, so the dialer can say so.
 */
export function personalText(template: string, contact: ContactFields): { readonly text: string; readonly missing: readonly string[] } {
  const values = new Map<string, string>();
  for (const [name, value] of Object.entries(contact.variables)) values.set(fieldKey(name), value);
  if (contact.firstName !== null) for (const k of ['prenom', 'firstname']) values.set(k, contact.firstName);
  if (contact.lastName !== null) for (const k of ['nom', 'lastname']) values.set(k, contact.lastName);
  const missing: string[] = [];
  const text = template.replace(FIELD, (_all, name: string) => {
    const value = values.get(fieldKey(name));
    if (value === undefined || value.trim() === '') {
      missing.push(name);
      return '';
    }
    return value;
  });
  return { text: text.replace(/\s+([,.!?])/g, '$1').replace(/\s{2,}/g, ' ').trim(), missing };
}
