import { describe, expect, it } from 'vitest';
import { DTMF_DIGITS, dtmfDigitOfEvent, dtmfEventOfDigit, isDtmfDigit } from '../../../../src/media/dtmf/dtmf-digit.js';

describe('DTMF digits and RFC 4733 §3.2 event codes', () => {
  it('maps codes 0–15 to 0–9, *, #, A–D and back', () => {
    expect(DTMF_DIGITS.join('')).toBe('0123456789*#ABCD');
    for (let code = 0; code <= 15; code += 1) {
      const digit = dtmfDigitOfEvent(code);
      expect(digit).toBeDefined();
      expect(dtmfEventOfDigit(digit ?? '')).toBe(code);
    }
  });

  it('has no digit for other codes, and no code for other characters', () => {
    expect([16, 32, -1, 255].map(dtmfDigitOfEvent)).toEqual([undefined, undefined, undefined, undefined]);
    expect(dtmfEventOfDigit('d')).toBe(15);
    expect(['E', '', '12', '!'].map(dtmfEventOfDigit)).toEqual([-1, -1, -1, -1]);
    expect(isDtmfDigit('#')).toBe(true);
    expect(isDtmfDigit('a')).toBe(false);
  });
});
