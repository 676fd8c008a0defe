// What a dialled string is: the first gate on the way to a trunk, and the one
// toll fraud aims at. The string is taken whole and never repaired: anything
// but digits with at most one leading '+' is refused with a reason, because a
// "cleaned" string is a string nobody checked (`0123456789;user=phone`,
// `01%32...`, `0123456789&0033...`).
//
// Defaults follow the French national numbering plan, Arcep décision
// n° 2018-0881 modifiée (annexe 1, version du 1er septembre 2022, décision
// n° 2022-1583), cited below as "PNN §x.y", and Arcep's list of emergency
// numbers (arcep.fr, « Je cherche la liste des numéros d'urgence »).
// E.164 forms come from libphonenumber-js (full metadata).

import {
  getCountryCallingCode,
  isSupportedCountry,
  parsePhoneNumberFromString,
  type CountryCode,
  type PhoneNumber,
} from 'libphonenumber-js/max';

import { matchesDialPattern, parseDialPattern, type DialPattern } from './dial-pattern.js';

/**
 * Where a dialled string goes, as far as permissions care.
 *
 * - `internal`: a local extension, group or IVR number (the caller's set).
 * - `emergency`: always allowed, whatever the permission class.
 * - `national`: geographic (01–05) and non-geographic (09) numbers.
 * - `mobile`: 06 and 07.
 * - `special`: numbers whose call costs no more than a geographic call by
 *   rule of the plan (free or "banalisé" 08 numbers, free short numbers).
 * - `premium`: surcharged ("tarification majorée") numbers, short numbers
 *   whose tariff cannot be told from the number, and international premium
 *   or satellite destinations.
 * - `international`: any other number outside the national plan.
 * - `unknown`: well-formed but in no range of the plan.
 */
export type DialCategory = 'internal' | 'emergency' | 'national' | 'mobile' | 'special' | 'premium' | 'international' | 'unknown';

export const DIAL_CATEGORIES: readonly DialCategory[] = ['internal', 'emergency', 'national', 'mobile', 'special', 'premium', 'international', 'unknown'];

/** Categories a range of the plan can map to (the others are decided before the table). */
export type RangeCategory = Exclude<DialCategory, 'internal' | 'emergency'>;

export interface NumberRangeConfig {
  /** A dial pattern over the national form, e.g. `0[1-5]XXXXXXXX` (see dial-pattern.ts). */
  readonly match: string;
  readonly category: RangeCategory;
  /** Short English description, shown in logs and refusal reasons. */
  readonly label: string;
}

export interface NumberingPlanConfig {
  /** Region for libphonenumber (national forms, display). Default FR. */
  readonly region?: string;
  /** Prefix a user dials to get an outside line ("0" on many PBXs). None by default. */
  readonly outsideLinePrefix?: string;
  /** Longest dialled string accepted, '+' included. Default 20. */
  readonly maxLength?: number;
  readonly emergencyNumbers?: readonly string[];
  /** Ordered: the first range whose pattern matches the national form wins. */
  readonly ranges?: readonly NumberRangeConfig[];
  /** Country calling codes whose numbers are dialled nationally as trunk prefix + national number. */
  readonly nationalCallingCodes?: readonly string[];
  /** Regions tried, in order, to give a national form its E.164 number. */
  readonly nationalRegions?: readonly string[];
  /** Calling codes that are premium whatever the number: satellite, international networks, IPRS. */
  readonly premiumCallingCodes?: readonly string[];
}

export interface NumberRange {
  readonly pattern: DialPattern;
  readonly category: RangeCategory;
  readonly label: string;
}

export interface NumberingPlan {
  readonly region: CountryCode;
  readonly outsideLinePrefix: string | undefined;
  readonly maxLength: number;
  readonly emergencyNumbers: ReadonlySet<string>;
  readonly ranges: readonly NumberRange[];
  readonly nationalCallingCodes: ReadonlySet<string>;
  readonly nationalRegions: readonly CountryCode[];
  readonly premiumCallingCodes: ReadonlySet<string>;
}

/**
 * Arcep's list of emergency numbers, which every operator must carry free
 * (CPCE, as quoted on that list): 15 SAMU, 17 police, 18 pompiers, 112 European, 114
 * deaf and hard of hearing, 115 urgence sociale, 116000 missing children,
 * 116117 permanence des soins, 119 child abuse, 191 air rescue, 196 sea
 * rescue, 197 alerte attentat/enlèvement. All of them, since refusing one
 * that Arcep lists is worse than the cost of a call.
 */
export const FRENCH_EMERGENCY_NUMBERS: readonly string[] = ['15', '17', '18', '112', '114', '115', '116000', '116117', '119', '191', '196', '197'];

/**
 * The French plan as ordered ranges over the national form (trunk prefix 0).
 * First match wins, so narrower ranges come before wider ones.
 */
export const FRENCH_NUMBER_RANGES: readonly NumberRangeConfig[] = [
  // PNN §2.4.9: free short numbers 3000–3007, 3009–3169, 3180–3199.
  { match: '300[0-7]', category: 'special', label: 'free short number (3BPQ)' },
  { match: '3009', category: 'special', label: 'free short number (3BPQ)' },
  { match: '30[1-9]X', category: 'special', label: 'free short number (3BPQ)' },
  { match: '31[0-6]X', category: 'special', label: 'free short number (3BPQ)' },
  { match: '31[89]X', category: 'special', label: 'free short number (3BPQ)' },
  // PNN §2.4.10: the other 3BPQ numbers carry a tariff chosen number by
  // number, up to "tarification majorée" (3646, 3949, ...). The number does
  // not tell which, so they count as premium: only a class that accepts
  // surcharges reaches them.
  { match: '3XXX', category: 'premium', label: 'short number with its own tariff (3BPQ)' },
  // Directory enquiries 118XYZ: surcharged, a classic target of toll fraud.
  { match: '118XXX', category: 'premium', label: 'directory enquiries (118XYZ)' },
  // Harmonised European numbers of social value 116XYZ: free for the
  // caller. 116000 and 116117 are emergency numbers and are matched before.
  { match: '116XXX', category: 'special', label: 'harmonised European number (116XYZ)' },
  // 10YZ (operator assistance, PNN §2.4.11) and 16XY carrier selection have
  // no range: they reach the services of whoever carries the call, and a
  // carrier selection code in front of a number would choose another carrier
  // than the trunk's. Unknown, hence refused unless a class lists `unknown`.
  //
  // PNN §2.3.3: geographic numbers 01–05, overseas departments included
  // (0262, 0269, 0590, 0594, 0596).
  { match: '0[1-5]XXXXXXXX', category: 'national', label: 'geographic number' },
  // PNN §2.3.4: mobile numbers 06 and 07 (overseas 0639, 069X included).
  { match: '0[67]XXXXXXXX', category: 'mobile', label: 'mobile number' },
  // PNN §2.3.6–2.3.9: 09 numbers ("polyvalents"), priced like geographic ones.
  { match: '09XXXXXXXX', category: 'national', label: 'non-geographic number (09)' },
  // PNN §2.4.3: free special numbers 0800–0805 ("numéros verts").
  { match: '080[0-5]XXXXXX', category: 'special', label: 'freephone (0800–0805)' },
  // PNN §2.4.4: 0806–0809, the price of an ordinary call ("banalisée").
  { match: '080[6-9]XXXXXX', category: 'special', label: 'ordinary-rate special number (0806–0809)' },
  // PNN §2.4.5: "tarification majorée", 081 and 082 (up to about €0.20 a
  // minute, once "shared cost") and 089 (up to €0.80 a minute or €3 a call).
  { match: '081XXXXXXX', category: 'premium', label: 'surcharged number (081)' },
  { match: '082XXXXXXX', category: 'premium', label: 'surcharged number (082)' },
  { match: '089XXXXXXX', category: 'premium', label: 'premium-rate number (089)' },
  // 083–088 (data, dial-up internet access, closed ranges) are not for
  // voice calls from an office: no range, unknown.
];

/**
 * Codes that bill like premium whatever the number (ITU-T E.164 shared codes):
 * 870 Inmarsat, 881 global mobile satellite, 882/883 international networks,
 * 979 International Premium Rate Service, 808 international shared cost.
 * They are the usual destinations of international revenue share fraud.
 */
export const PREMIUM_CALLING_CODES: readonly string[] = ['808', '870', '881', '882', '883', '979'];

/** Calling codes of the French plan: metropolitan France and the overseas departments. */
const FRENCH_NATIONAL_CALLING_CODES: readonly string[] = ['33', '262', '590', '594', '596'];
/** Regions whose numbers share the French plan's national form, tried in order. */
const FRENCH_NATIONAL_REGIONS: readonly string[] = ['FR', 'GP', 'GF', 'MQ', 'RE', 'YT'];

/** libphonenumber types that cost the caller more than an ordinary call. */
const PREMIUM_NUMBER_TYPES: ReadonlySet<string> = new Set(['PREMIUM_RATE', 'SHARED_COST', 'PERSONAL_NUMBER']);

const DEFAULT_MAX_LENGTH = 20;
/** ITU-T E.164 §6: at most 15 digits after the '+'. */
const E164_MAX_DIGITS = 15;
const TRUNK_PREFIX = '0';
const INTERNATIONAL_PREFIX = '00';

export type NumberingPlanResult =
  | { readonly ok: true; readonly plan: NumberingPlan }
  | { readonly ok: false; readonly errors: readonly string[] };

export function createNumberingPlan(config: NumberingPlanConfig = {}): NumberingPlanResult {
  const errors: string[] = [];
  const regionText = config.region ?? 'FR';
  const region = isSupportedCountry(regionText) ? regionText : undefined;
  if (region === undefined) errors.push(`region: "${regionText}" is not a region libphonenumber knows`);
  const french = regionText === 'FR';

  const outsideLinePrefix = config.outsideLinePrefix === '' ? undefined : config.outsideLinePrefix;
  if (outsideLinePrefix !== undefined && !/^[0-9]{1,3}$/.test(outsideLinePrefix)) {
    errors.push('outsideLinePrefix: must be 1 to 3 digits');
  }
  const maxLength = config.maxLength ?? DEFAULT_MAX_LENGTH;
  if (!Number.isInteger(maxLength) || maxLength < 3 || maxLength > 32) errors.push('maxLength: must be an integer from 3 to 32');

  const emergencyList = config.emergencyNumbers ?? (french ? FRENCH_EMERGENCY_NUMBERS : []);
  emergencyList.forEach((n, i) => {
    if (!/^[0-9]{2,8}$/.test(n)) errors.push(`emergencyNumbers.${i}: "${n}" must be 2 to 8 digits`);
  });

  if (config.ranges === undefined && !french) errors.push('ranges: required for a region other than FR');
  const ranges: NumberRange[] = [];
  (config.ranges ?? FRENCH_NUMBER_RANGES).forEach((r, i) => {
    const parsed = parseDialPattern(r.match);
    if (!parsed.ok) errors.push(`ranges.${i}.match: ${parsed.reason}`);
    else if (parsed.pattern.form !== 'national') errors.push(`ranges.${i}.match: ranges are written over the national form, without '+'`);
    else ranges.push({ pattern: parsed.pattern, category: r.category, label: r.label });
  });

  const nationalCallingCodes = config.nationalCallingCodes ?? (french ? FRENCH_NATIONAL_CALLING_CODES : region ? [getCountryCallingCode(region)] : []);
  nationalCallingCodes.forEach((c, i) => {
    if (!/^[1-9][0-9]{0,2}$/.test(c)) errors.push(`nationalCallingCodes.${i}: "${c}" is not a calling code`);
  });
  const premiumCallingCodes = config.premiumCallingCodes ?? PREMIUM_CALLING_CODES;
  premiumCallingCodes.forEach((c, i) => {
    if (!/^[1-9][0-9]{0,2}$/.test(c)) errors.push(`premiumCallingCodes.${i}: "${c}" is not a calling code`);
  });
  const nationalRegions: CountryCode[] = [];
  (config.nationalRegions ?? (french ? FRENCH_NATIONAL_REGIONS : [regionText])).forEach((r, i) => {
    if (isSupportedCountry(r)) nationalRegions.push(r);
    else errors.push(`nationalRegions.${i}: "${r}" is not a region libphonenumber knows`);
  });

  if (errors.length > 0 || region === undefined) return { ok: false, errors };
  return {
    ok: true,
    plan: {
      region,
      outsideLinePrefix,
      maxLength,
      emergencyNumbers: new Set(emergencyList),
      ranges,
      nationalCallingCodes: new Set(nationalCallingCodes),
      nationalRegions,
      premiumCallingCodes: new Set(premiumCallingCodes),
    },
  };
}

function defaultPlan(): NumberingPlan {
  const result = createNumberingPlan();
  if (!result.ok) throw new Error(`built-in French numbering plan is invalid: ${result.errors.join('; ')}`);
  return result.plan;
}

/** French defaults, no outside-line prefix. */
export const FRENCH_NUMBERING_PLAN: NumberingPlan = defaultPlan();

export type DialRejectCode = 'empty' | 'too-long' | 'invalid-character' | 'misplaced-plus' | 'no-digits';

export type DialClassification =
  | {
      readonly ok: true;
      readonly category: DialCategory;
      /** Which range or rule decided, for logs and refusal messages. */
      readonly label: string;
      /** +CC..., when the number has one (not for internal, emergency or short numbers). */
      readonly e164?: string;
      /** The number as dialled inside the plan, without outside-line prefix: 0123456789, 3646, 112. */
      readonly national?: string;
      /** Region libphonenumber attributes an international number to, when it can. */
      readonly country?: string;
      /** For people: "01 23 45 67 89", "+44 20 7946 0018", "112". */
      readonly display: string;
    }
  | { readonly ok: false; readonly code: DialRejectCode; readonly reason: string };

export interface DialContext {
  /** Local extensions, groups and IVR numbers, exactly as dialled. */
  readonly internalNumbers: ReadonlySet<string>;
}

/**
 * Classify a dialled string (the user part of a Request-URI, as received:
 * the caller must not unescape or trim it first).
 *
 * Order: syntax; emergency numbers (with or without the outside-line
 * prefix, so a panicking user is never refused); internal numbers (exact
 * match); then numbers outside, which need the outside-line prefix when one
 * is configured, except '+' forms which cannot carry one.
 */
export function classifyDialString(dialled: string, plan: NumberingPlan, context: DialContext): DialClassification {
  const syntax = checkSyntax(dialled, plan.maxLength);
  if (syntax !== undefined) return syntax;

  const prefix = plan.outsideLinePrefix;
  if (plan.emergencyNumbers.has(dialled)) return emergency(dialled);
  if (prefix !== undefined && dialled.startsWith(prefix) && plan.emergencyNumbers.has(dialled.slice(prefix.length))) {
    return emergency(dialled.slice(prefix.length));
  }
  if (context.internalNumbers.has(dialled)) return { ok: true, category: 'internal', label: 'internal number', display: dialled };

  let outside: string;
  if (dialled.startsWith('+') || prefix === undefined) {
    outside = dialled;
  } else if (dialled.startsWith(prefix) && dialled.length > prefix.length) {
    outside = dialled.slice(prefix.length);
  } else {
    return unknown(dialled, `not an internal number, and outside numbers start with the outside-line prefix ${prefix}`);
  }

  if (outside.startsWith('+')) return classifyE164(outside.slice(1), plan);
  if (outside.startsWith(INTERNATIONAL_PREFIX)) return classifyE164(outside.slice(INTERNATIONAL_PREFIX.length), plan);
  return classifyNational(outside, plan);
}

function emergency(number: string): DialClassification {
  return { ok: true, category: 'emergency', label: 'emergency number', national: number, display: number };
}

function unknown(number: string, label: string, national?: string): DialClassification {
  return national === undefined
    ? { ok: true, category: 'unknown', label, display: number }
    : { ok: true, category: 'unknown', label, national, display: number };
}

function checkSyntax(dialled: string, maxLength: number): DialClassification | undefined {
  if (dialled.length === 0) return { ok: false, code: 'empty', reason: 'empty number' };
  // Checked before the characters so that a huge string costs nothing more.
  if (dialled.length > maxLength) return { ok: false, code: 'too-long', reason: `longer than ${maxLength} characters` };
  for (let i = 0; i < dialled.length; i += 1) {
    const c = dialled.charAt(i);
    if (c >= '0' && c <= '9') continue;
    if (c === '+') {
      if (i !== 0) return { ok: false, code: 'misplaced-plus', reason: `'+' at position ${i}: only allowed first` };
      continue;
    }
    return { ok: false, code: 'invalid-character', reason: `${describeCharacter(c)} at position ${i}: only digits and a leading '+' are accepted${hint(c)}` };
  }
  if (dialled === '+') return { ok: false, code: 'no-digits', reason: "'+' without digits" };
  return undefined;
}

function describeCharacter(c: string): string {
  const code = c.charCodeAt(0);
  // Never echo control or non-ASCII characters as they are: the reason ends up in logs.
  if (code < 0x21 || code > 0x7e) return `character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return `'${c}'`;
}

function hint(c: string): string {
  switch (c) {
    case '%':
      return ' (percent-escapes are not decoded)';
    case ';':
      return ' (URI parameters are not part of a number)';
    case '*':
    case '#':
      return ' (no feature codes are defined)';
    case ' ':
    case '.':
    case '-':
    case '(':
    case ')':
      return ' (separators are not removed)';
    default:
      return '';
  }
}

function classifyNational(national: string, plan: NumberingPlan): DialClassification {
  const range = plan.ranges.find((r) => matchesDialPattern(r.pattern, national));
  if (range === undefined) return unknown(national, 'in no range of the numbering plan', national);
  if (range.category === 'unknown') return unknown(national, range.label, national);
  if (!national.startsWith(TRUNK_PREFIX)) {
    // A short number: it has no E.164 form and is only meaningful nationally.
    return { ok: true, category: range.category, label: range.label, national, display: national };
  }
  const phone = nationalToPhoneNumber(national, plan);
  if (phone === undefined) return unknown(national, 'not a number libphonenumber can read', national);
  return { ok: true, category: range.category, label: range.label, e164: phone.number, national, display: phone.formatNational() };
}

/** The first plan region where the number is valid (0590… is Guadeloupe's), else the plan's own region. */
function nationalToPhoneNumber(national: string, plan: NumberingPlan): PhoneNumber | undefined {
  for (const region of plan.nationalRegions) {
    const phone = parsePhoneNumberFromString(national, region);
    if (phone?.isValid() === true) return phone;
  }
  return parsePhoneNumberFromString(national, plan.region);
}

function classifyE164(digits: string, plan: NumberingPlan): DialClassification {
  const e164 = `+${digits}`;
  if (digits.length === 0 || digits.startsWith('0')) return unknown(e164, 'no country calling code after the international prefix');
  if (digits.length > E164_MAX_DIGITS) return unknown(e164, `more than ${E164_MAX_DIGITS} digits after the country code`);
  const phone = parsePhoneNumberFromString(e164);
  if (phone === undefined) return unknown(e164, 'no such country calling code');
  const callingCode = phone.countryCallingCode;

  if (plan.nationalCallingCodes.has(callingCode)) {
    // +33 1 23 45 67 89 is 01 23 45 67 89. The national number is the dialled
    // digits themselves, so "+33 0 1..." stays wrong instead of being fixed.
    const national = TRUNK_PREFIX + digits.slice(callingCode.length);
    if (!national.startsWith(TRUNK_PREFIX + TRUNK_PREFIX)) {
      const range = plan.ranges.find((r) => matchesDialPattern(r.pattern, national));
      if (range !== undefined && range.category !== 'unknown') {
        const display = phone.number === e164 ? phone.formatNational() : national;
        return { ok: true, category: range.category, label: range.label, e164, national, display };
      }
    }
    return unknown(e164, 'in no range of the numbering plan');
  }

  // libphonenumber drops a national trunk prefix written after the code
  // (+44 0 7911... becomes +44 7911...). That is a repair; refuse instead.
  if (phone.number !== e164) return unknown(e164, `not in E.164 form (libphonenumber reads ${phone.number})`);
  if (!phone.isPossible()) return unknown(e164, `not a possible length for +${callingCode}`);
  const country = phone.country;
  const base = { e164, display: phone.formatInternational(), ...(country === undefined ? {} : { country }) };
  if (plan.premiumCallingCodes.has(callingCode)) {
    return { ok: true, category: 'premium', label: `satellite, international network or premium code (+${callingCode})`, ...base };
  }
  const type = phone.getType();
  if (type !== undefined && PREMIUM_NUMBER_TYPES.has(type)) {
    return { ok: true, category: 'premium', label: `international ${type.toLowerCase().replace(/_/g, '-')} number`, ...base };
  }
  return { ok: true, category: 'international', label: 'international number', ...base };
}
