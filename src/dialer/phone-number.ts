/**
 * A phone number as people write it (06 12 34 56 78, 06.12.34.56.78,
 * +33 6 12 34 56 78, 0033 6…, 612345678 once Excel dropped the 0) to
 * E.164, with libphonenumber-js: the one normalisation of the dialer, used
 * by the contact import and by `voix dnc`, so a number on the do-not-call
 * list and the same number in a contact file always meet.
 *
 * Numbers written nationally are read in a region, FR by default. The
 * French numbering plan (ARCEP) gives the overseas departments ten-digit
 * national numbers too (0262 / 0692 La Réunion, 0590 / 0690 Guadeloupe,
 * 0594 / 0694 Guyane, 0696 / 0697 Martinique…), but they have their own
 * country codes (+262, +590, +594, +596). The default metadata checks
 * little more than a number's length, and takes 0692 12 34 56 for
 * +33 6 92 12 34 56, a number that does not exist: the full metadata
 * (`/max`, as the numbering plan and the router use) tells which region a
 * national number really belongs to. Which numbers are valid is still the
 * default metadata's call, as before: the full one would also refuse
 * numbers of ranges not allocated yet (07 00…, 07 12…), a change of its own.
 */
import { isSupportedCountry, parsePhoneNumberFromString, validatePhoneNumberLength, type CountryCode, type PhoneNumber } from 'libphonenumber-js';
import { parsePhoneNumberFromString as parseWithFullMetadata } from 'libphonenumber-js/max';

/** Region of the numbers written nationally, when nothing says otherwise. */
export const DEFAULT_PHONE_REGION: CountryCode = 'FR';

/** Regions whose numbers a French file writes nationally, with a 0, like metropolitan ones. */
const FRENCH_OVERSEAS_REGIONS: readonly CountryCode[] = ['RE', 'YT', 'GP', 'BL', 'MF', 'GF', 'MQ'];

/**
 * How the overseas ranges of the French plan begin, after the 0 (02 62-69,
 * 05 9x, 06 39, 06 9x): only these numbers are looked up in the full
 * metadata, which costs as much again as the parse itself.
 */
const FRENCH_OVERSEAS_LEADING_DIGITS = /^(?:2[6-9]|59|6[39])/;

export type PhoneNumberRejection = 'empty' | 'unknown-region' | 'not-a-number' | 'too-short' | 'too-long' | 'invalid';

export type PhoneNumberResult =
  | { readonly ok: true; readonly e164: string }
  | {
      readonly ok: false;
      readonly rejection: PhoneNumberRejection;
      /** One line of English naming the number, for a user: `invalid phone number "12345" (region FR)`. */
      readonly message: string;
    };

function parsedValid(parser: typeof parsePhoneNumberFromString, raw: string, region: CountryCode): PhoneNumber | null {
  try {
    const number = parser(raw, region);
    return number !== undefined && number.isValid() ? number : null;
  } catch {
    return null;
  }
}

/** E.164 of the overseas number `written` is, when the full metadata says it is not a metropolitan French one. */
function frenchOverseas(written: string): string | null {
  if (parsedValid(parseWithFullMetadata, written, 'FR') !== null) return null;
  for (const overseas of FRENCH_OVERSEAS_REGIONS) {
    const found = parsedValid(parseWithFullMetadata, written, overseas);
    if (found !== null) return found.number;
  }
  return null;
}

/**
 * E.164 for `raw` (`+33612345678`), reading a number written nationally in
 * `region` (a two-letter ISO code, FR by default); else why not.
 */
export function normalisePhoneNumber(raw: string, region: string = DEFAULT_PHONE_REGION): PhoneNumberResult {
  const text = raw.trim();
  if (text === '') return { ok: false, rejection: 'empty', message: 'empty phone number' };
  if (!isSupportedCountry(region)) {
    return { ok: false, rejection: 'unknown-region', message: `phone number ${JSON.stringify(text)}: unknown region ${JSON.stringify(region)} (a two-letter ISO code such as FR, BE, CH)` };
  }
  const number = parsedValid(parsePhoneNumberFromString, text, region);
  if (number !== null) {
    // Written with +33 or 0033, a number is taken as written.
    const national = region === 'FR' && number.countryCallingCode === '33' && !/^(\+|00)/.test(text);
    const overseas = national && FRENCH_OVERSEAS_LEADING_DIGITS.test(number.nationalNumber) ? frenchOverseas(text) : null;
    return { ok: true, e164: overseas ?? number.number };
  }
  const length = validatePhoneNumberLength(text, region);
  if (length === 'NOT_A_NUMBER') return { ok: false, rejection: 'not-a-number', message: `${JSON.stringify(text)} is not a phone number` };
  const rejection = length === 'TOO_SHORT' ? 'too-short' : length === 'TOO_LONG' ? 'too-long' : 'invalid';
  return { ok: false, rejection, message: `invalid phone number ${JSON.stringify(text)} (region ${region})` };
}
