/**
 * The sixteen DTMF digits and their RFC 4733 §3.2 event codes: 0–9 are the
 * digits, 10 is *, 11 is #, 12–15 are A–D. The same table orders the keypad
 * for in-band detection (ITU-T Q.23), so every DTMF source reports the same
 * `DtmfDigit` values.
 */

export type DtmfDigit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D';

/** Indexed by RFC 4733 event code. */
export const DTMF_DIGITS: readonly DtmfDigit[] = [
  '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D',
];

/** RFC 4733 §3.2: event codes above 15 (flash, tones, line events) are not DTMF digits. */
export const DTMF_EVENT_CODE_MAX = 15;

/** The digit for an RFC 4733 event code, or undefined for codes that are not DTMF digits. */
export function dtmfDigitOfEvent(eventCode: number): DtmfDigit | undefined {
  return eventCode >= 0 && eventCode <= DTMF_EVENT_CODE_MAX ? DTMF_DIGITS[eventCode] : undefined;
}

/** The RFC 4733 event code of a digit (lower-case a–d accepted). -1 when the character is not a DTMF digit. */
export function dtmfEventOfDigit(digit: string): number {
  if (digit.length !== 1) return -1;
  return DTMF_DIGITS.indexOf(digit.toUpperCase() as DtmfDigit);
}

export function isDtmfDigit(value: string): value is DtmfDigit {
  return value.length === 1 && (DTMF_DIGITS as readonly string[]).includes(value);
}
