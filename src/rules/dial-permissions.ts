// Who may call what: a permission class is the set of destination categories
// (numbering-plan.ts) its users may reach. Two rules hold whatever the
// configuration says, because they are where toll fraud and safety meet:
//
// - emergency numbers are always allowed (the CPCE has operators carry
//   emergency calls free, as Arcep's list of emergency numbers recalls; a
//   PBX that blocks them defeats that);
// - nothing is allowed that is not listed: there is no wildcard, so
//   `premium` and `unknown` are reachable only from a class naming them.
//
// The caller is authenticated before any of this: an unauthenticated
// request has no class and never reaches mayCall.

import { DIAL_CATEGORIES, type DialCategory, type DialClassification } from './numbering-plan.js';

export interface PermissionClass {
  /** The name the configuration gives it ("interne", "national", ...). */
  readonly name: string;
  readonly allowed: ReadonlySet<DialCategory>;
}

/**
 * Defaults, from the most restricted up; each includes the one before.
 * `special` (free or ordinary-rate 08 numbers, free short numbers) sits with
 * `national`: by rule of the plan such a call costs no more than a
 * geographic one. `unknown` is in none of them.
 */
export const DEFAULT_PERMISSION_CLASSES: Readonly<Record<'internal' | 'national' | 'international' | 'all', readonly DialCategory[]>> = {
  internal: ['internal'],
  national: ['internal', 'national', 'mobile', 'special'],
  international: ['internal', 'national', 'mobile', 'special', 'international'],
  all: ['internal', 'national', 'mobile', 'special', 'international', 'premium'],
};

export type PermissionClassResult =
  | { readonly ok: true; readonly permissionClass: PermissionClass; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly errors: readonly string[] };

/** Build a class from configuration text; the config layer prefixes messages with its own path. */
export function definePermissionClass(name: string, categories: readonly string[]): PermissionClassResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  const allowed = new Set<DialCategory>();
  if (name.trim() === '') errors.push('name: must not be empty');
  categories.forEach((c, i) => {
    const category = DIAL_CATEGORIES.find((known) => known === c);
    if (category === undefined) errors.push(`${i}: "${c}" is not a category (${DIAL_CATEGORIES.join(', ')})`);
    else allowed.add(category);
  });
  if (allowed.has('premium')) warnings.push(`class "${name}" may call premium-rate numbers: keep it for the few users who need them`);
  if (allowed.has('unknown')) warnings.push(`class "${name}" may call numbers outside the numbering plan`);
  if (allowed.has('emergency')) warnings.push(`class "${name}" lists "emergency", which every class has anyway`);
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, permissionClass: { name, allowed }, warnings };
}

export type CallPermission = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

export function mayCall(permissionClass: PermissionClass, classification: DialClassification): CallPermission {
  if (!classification.ok) return { allowed: false, reason: `malformed number: ${classification.reason}` };
  if (classification.category === 'emergency') return { allowed: true };
  if (permissionClass.allowed.has(classification.category)) return { allowed: true };
  return {
    allowed: false,
    reason: `class "${permissionClass.name}" may not call ${classification.category} numbers (${classification.label})`,
  };
}
