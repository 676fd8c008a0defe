import { describe, expect, it } from 'vitest';
import {
  FRENCH_EMERGENCY_NUMBERS,
  FRENCH_NUMBERING_PLAN,
  classifyDialString,
  createNumberingPlan,
  type DialCategory,
  type DialClassification,
  type DialRejectCode,
  type NumberingPlan,
} from '../../../src/rules/numbering-plan.js';

const OFFICE = { internalNumbers: new Set(['100', '101', '200', '600', '9', '0123']) };

function planWith(config: Parameters<typeof createNumberingPlan>[0]): NumberingPlan {
  const r = createNumberingPlan(config);
  if (!r.ok) throw new Error(`expected a valid plan: ${r.errors.join('; ')}`);
  return r.plan;
}

const WITH_PREFIX_0 = planWith({ outsideLinePrefix: '0' });

type Accepted = Extract<DialClassification, { ok: true }>;

function accepted(dialled: string, plan: NumberingPlan = FRENCH_NUMBERING_PLAN): Accepted {
  const r = classifyDialString(dialled, plan, OFFICE);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(dialled)} to be accepted: ${r.reason}`);
  return r;
}

function rejected(dialled: string, plan: NumberingPlan = FRENCH_NUMBERING_PLAN): { code: DialRejectCode; reason: string } {
  const r = classifyDialString(dialled, plan, OFFICE);
  if (r.ok) throw new Error(`expected ${JSON.stringify(dialled)} to be refused, got ${r.category}`);
  return r;
}

describe('classifyDialString: French numbers dialled without an outside-line prefix', () => {
  it.each<[string, DialCategory, string, string]>([
    // dialled, category, e164, display
    ['0123456789', 'national', '+33123456789', '01 23 45 67 89'],
    ['0140205050', 'national', '+33140205050', '01 40 20 50 50'],
    ['0299887766', 'national', '+33299887766', '02 99 88 77 66'],
    ['0388123456', 'national', '+33388123456', '03 88 12 34 56'],
    ['0472101010', 'national', '+33472101010', '04 72 10 10 10'],
    ['0556781234', 'national', '+33556781234', '05 56 78 12 34'],
    ['0912345678', 'national', '+33912345678', '09 12 34 56 78'],
    ['0970123456', 'national', '+33970123456', '09 70 12 34 56'],
    ['0612345678', 'mobile', '+33612345678', '06 12 34 56 78'],
    ['0687654321', 'mobile', '+33687654321', '06 87 65 43 21'],
    ['0756123456', 'mobile', '+33756123456', '07 56 12 34 56'],
    ['0800123456', 'special', '+33800123456', '0 800 12 34 56'],
    ['0805040302', 'special', '+33805040302', '0 805 04 03 02'],
    ['0806123456', 'special', '+33806123456', '0 806 12 34 56'],
    ['0810123456', 'premium', '+33810123456', '0 810 12 34 56'],
    ['0820123456', 'premium', '+33820123456', '0 820 12 34 56'],
    ['0825000000', 'premium', '+33825000000', '0 825 00 00 00'],
    ['0891234567', 'premium', '+33891234567', '0 891 23 45 67'],
    ['0899123456', 'premium', '+33899123456', '0 899 12 34 56'],
    ['0892707070', 'premium', '+33892707070', '0 892 70 70 70'],
  ])('%s is %s, %s', (dialled, category, e164, display) => {
    const r = accepted(dialled);
    expect(r).toMatchObject({ category, e164, national: dialled, display });
  });

  it('gives overseas numbers of the French plan their own country code', () => {
    expect(accepted('0590271234')).toMatchObject({ category: 'national', e164: '+590590271234', national: '0590271234' });
    expect(accepted('0262161234')).toMatchObject({ category: 'national', e164: '+262262161234' });
    expect(accepted('0639012345')).toMatchObject({ category: 'mobile', e164: '+262639012345' });
    expect(accepted('0694201234')).toMatchObject({ category: 'mobile', e164: '+594694201234' });
    expect(accepted('0696201234')).toMatchObject({ category: 'mobile', e164: '+596696201234' });
  });

  it.each<[string, DialCategory]>([
    // PNN §2.4.9: free short numbers.
    ['3000', 'special'],
    ['3007', 'special'],
    ['3009', 'special'],
    ['3114', 'special'],
    ['3169', 'special'],
    ['3180', 'special'],
    ['3199', 'special'],
    // Other 3BPQ: tariff set number by number, counted as premium.
    ['3008', 'premium'],
    ['3170', 'premium'],
    ['3179', 'premium'],
    ['3646', 'premium'],
    ['3949', 'premium'],
    ['3237', 'premium'],
    // Directory enquiries and harmonised European numbers.
    ['118712', 'premium'],
    ['118218', 'premium'],
    ['116006', 'special'],
    ['116111', 'special'],
    ['116123', 'special'],
  ])('short number %s is %s, with no E.164 form', (dialled, category) => {
    const r = accepted(dialled);
    expect(r).toMatchObject({ category, national: dialled, display: dialled });
    expect(r.e164).toBeUndefined();
  });

  it.each([
    ['1014', 'operator assistance 10YZ'],
    ['1023', 'operator assistance 10YZ'],
    ['16990123456789', 'carrier selection 16XY before a number'],
    ['0124', 'too short for a national number'],
    ['01234567890', 'eleven digits'],
    ['012345678', 'nine digits'],
    ['0012', 'international prefix with too few digits'],
    ['0833123456', '083 has no voice range'],
    ['0860123456', 'dial-up internet access'],
    ['0884123456', '088 is not a voice range'],
    ['36', 'two digits'],
    ['31', 'two digits'],
    ['30000', 'five-digit 3 number'],
    ['1181', 'incomplete 118'],
    ['0', 'a single 0'],
    ['42', 'not an internal number'],
  ])('%s is unknown (%s)', (dialled) => {
    expect(accepted(dialled).category).toBe('unknown');
  });
});

describe('classifyDialString: emergency numbers', () => {
  it.each(FRENCH_EMERGENCY_NUMBERS.map((n) => [n]))('%s is an emergency number, with or without the outside-line prefix', (n) => {
    expect(accepted(n)).toMatchObject({ category: 'emergency', national: n, display: n });
    expect(accepted(n, WITH_PREFIX_0)).toMatchObject({ category: 'emergency', national: n });
    expect(accepted(`0${n}`, WITH_PREFIX_0)).toMatchObject({ category: 'emergency', national: n });
  });

  it('covers the numbers on Arcep list', () => {
    expect([...FRENCH_EMERGENCY_NUMBERS].sort()).toEqual(['112', '114', '115', '116000', '116117', '119', '15', '17', '18', '191', '196', '197']);
  });

  it.each(['+33112', '+3315', '+3317', '+3318', '0033112', '+33116000', '+112', '0112', '00112', '+4415'])(
    '%s is not an emergency number: +33 and 00 forms do not apply',
    (dialled) => {
      expect(accepted(dialled).category).not.toBe('emergency');
    },
  );

  it('wins over an internal number with the same digits', () => {
    const r = classifyDialString('112', FRENCH_NUMBERING_PLAN, { internalNumbers: new Set(['112']) });
    expect(r).toMatchObject({ ok: true, category: 'emergency' });
  });
});

describe('classifyDialString: internal numbers', () => {
  it.each(['100', '101', '200', '600', '9'])('%s is internal', (n) => {
    expect(accepted(n)).toEqual({ ok: true, category: 'internal', label: 'internal number', display: n });
  });

  it('matches the whole string only', () => {
    expect(accepted('1000').category).toBe('unknown');
    expect(accepted('10').category).toBe('unknown');
  });

  it('is matched before the outside-line prefix is taken off', () => {
    // "0123" is an extension of OFFICE; with prefix 0 it is not "123" outside.
    expect(accepted('0123', WITH_PREFIX_0).category).toBe('internal');
  });
});

describe('classifyDialString: +33 and 0033 forms', () => {
  it.each<[string, DialCategory, string]>([
    ['+33123456789', 'national', '0123456789'],
    ['0033123456789', 'national', '0123456789'],
    ['+33912345678', 'national', '0912345678'],
    ['+33612345678', 'mobile', '0612345678'],
    ['0033756123456', 'mobile', '0756123456'],
    ['+33800123456', 'special', '0800123456'],
    ['+33899123456', 'premium', '0899123456'],
    ['0033891234567', 'premium', '0891234567'],
    ['+33820123456', 'premium', '0820123456'],
    ['+590590271234', 'national', '0590271234'],
    ['+262639012345', 'mobile', '0639012345'],
  ])('%s is %s like %s', (dialled, category, national) => {
    const e164 = dialled.startsWith('+') ? dialled : `+${dialled.slice(2)}`;
    expect(accepted(dialled)).toMatchObject({ category, national, e164 });
  });

  it.each([
    ['+330123456789', 'national trunk 0 kept after +33'],
    ['00330612345678', 'same with 0033'],
    ['+3312345678', 'eight digits after +33'],
    ['+331234567890', 'ten digits after +33'],
    ['+333646', 'short numbers have no +33 form'],
    ['+33118712', 'directory enquiries have no +33 form'],
    ['+33833123456', 'no voice range'],
  ])('%s is unknown (%s)', (dialled) => {
    const r = accepted(dialled);
    expect(r.category).toBe('unknown');
    expect(r.e164).toBeUndefined();
  });
});

describe('classifyDialString: international numbers', () => {
  it.each<[string, string, string]>([
    ['00442079460018', '+442079460018', 'GB'],
    ['+442079460018', '+442079460018', 'GB'],
    ['004915123456789', '+4915123456789', 'DE'],
    ['+12025550123', '+12025550123', 'US'],
    ['0012025550123', '+12025550123', 'US'],
    ['+3225551234', '+3225551234', 'BE'],
    ['+41446681800', '+41446681800', 'CH'],
    ['+390612345678', '+390612345678', 'IT'],
    ['+34912345678', '+34912345678', 'ES'],
  ])('%s is international, sent as %s', (dialled, e164, country) => {
    const r = accepted(dialled);
    expect(r).toMatchObject({ category: 'international', e164, country });
    expect(r.national).toBeUndefined();
  });

  it.each<[string, string]>([
    ['+979123456789', 'International Premium Rate Service'],
    ['+881631234567', 'satellite'],
    ['+8821234567', 'international network'],
    ['+870773123456', 'Inmarsat'],
    ['+449012345678', 'UK premium rate'],
    ['00449012345678', 'UK premium rate through 00'],
  ])('%s is premium (%s)', (dialled) => {
    expect(accepted(dialled).category).toBe('premium');
  });

  it.each([
    ['+4407911123456', 'a national 0 after the code would be dropped by libphonenumber: refused, not repaired'],
    ['+999123456', 'no such calling code'],
    ['+0123456', 'no calling code'],
    ['000123456', '00 then 0'],
    ['00', 'nothing after 00'],
    ['+1234567890123456', 'sixteen digits'],
    ['+441', 'too short for the UK'],
  ])('%s is unknown (%s)', (dialled) => {
    const r = accepted(dialled);
    expect(r.category).toBe('unknown');
    expect(r.e164).toBeUndefined();
  });
});

describe('classifyDialString: malformed strings are refused, never repaired', () => {
  it.each<[string, DialRejectCode]>([
    ['', 'empty'],
    ['+', 'no-digits'],
    ['0123456789&0033612345678', 'too-long'],
    ['0123456789&00', 'invalid-character'],
    ['0123456789;user=phone', 'too-long'],
    ['0123456789;u', 'invalid-character'],
    ['01%323456789', 'invalid-character'],
    ['%30123456789', 'invalid-character'],
    ['+33 123456789', 'invalid-character'],
    ['01 23 45 67 89', 'invalid-character'],
    ['01.23.45.67.89', 'invalid-character'],
    ['01-23-45-67-89', 'invalid-character'],
    ['(01)23456789', 'invalid-character'],
    [' 0123456789', 'invalid-character'],
    ['0123456789 ', 'invalid-character'],
    ['0123456789\n', 'invalid-character'],
    ['0123456789\u0000', 'invalid-character'],
    ['1234567890123456789012345', 'too-long'],
    ['+123456789012345678901', 'too-long'],
    ['0'.repeat(10_000), 'too-long'],
    ['abc', 'invalid-character'],
    ['O123456789', 'invalid-character'],
    ['sip:0123456789', 'invalid-character'],
    ['0123@evil.example', 'invalid-character'],
    ['*69', 'invalid-character'],
    ['#31#0123456789', 'invalid-character'],
    ['112#', 'invalid-character'],
    ['0033+612345678', 'misplaced-plus'],
    ['++33612345678', 'misplaced-plus'],
    ['0+33612345678', 'misplaced-plus'],
    ['0612345678+', 'misplaced-plus'],
    ['０１２３４５６７８９', 'invalid-character'],
    ['٠١٢٣٤٥٦٧٨٩', 'invalid-character'],
    ['0123456789,1', 'invalid-character'],
    ['0123456789p1', 'invalid-character'],
  ])('%j is refused (%s)', (dialled, code) => {
    expect(rejected(dialled).code).toBe(code);
  });

  it('says why, without echoing control characters into logs', () => {
    expect(rejected('01%32').reason).toContain('percent-escapes are not decoded');
    expect(rejected('0123;user=phone').reason).toContain('URI parameters');
    expect(rejected('*69').reason).toContain('no feature codes');
    expect(rejected('0123 45').reason).toContain('U+0020');
    expect(rejected('0123\r\n').reason).toContain('U+000D');
    expect(rejected('0123\r\n').reason).not.toMatch(/[\r\n]/);
  });

  it('checks the length before anything else, at 20 characters by default', () => {
    expect(accepted('+1234567890123456789').category).toBe('unknown');
    expect(rejected('+12345678901234567890').code).toBe('too-long');
    expect(rejected(`${'0'.repeat(21)}`).code).toBe('too-long');
  });
});

describe('classifyDialString: outside-line prefix', () => {
  it.each<[string, DialCategory, string | undefined]>([
    ['00123456789', 'national', '0123456789'],
    ['00612345678', 'mobile', '0612345678'],
    ['00899123456', 'premium', '0899123456'],
    ['03646', 'premium', '3646'],
    ['0118712', 'premium', '118712'],
    ['000442079460018', 'international', undefined],
    ['00033612345678', 'mobile', '0612345678'],
  ])('with prefix 0, %s is %s', (dialled, category, national) => {
    const r = accepted(dialled, WITH_PREFIX_0);
    expect(r.category).toBe(category);
    expect(r.national).toBe(national);
  });

  it('needs the prefix for outside numbers once configured', () => {
    const r = accepted('0612345678', WITH_PREFIX_0);
    // Taken as prefix 0 then "612345678": not a number of the plan.
    expect(r.category).toBe('unknown');
    expect(accepted('3646', WITH_PREFIX_0)).toMatchObject({ category: 'unknown', label: expect.stringContaining('outside-line prefix 0') });
    expect(accepted('+33612345678', WITH_PREFIX_0).category).toBe('mobile');
  });

  it('keeps internal numbers and emergency numbers reachable', () => {
    expect(accepted('100', WITH_PREFIX_0).category).toBe('internal');
    expect(accepted('9', WITH_PREFIX_0).category).toBe('internal');
    expect(accepted('15', WITH_PREFIX_0).category).toBe('emergency');
    expect(accepted('015', WITH_PREFIX_0).category).toBe('emergency');
  });

  it('is off by default: 00123456789 is then an international prefix', () => {
    expect(accepted('00123456789').category).not.toBe('national');
    expect(accepted('0123456789').category).toBe('national');
  });

  it('works with another prefix', () => {
    const plan = planWith({ outsideLinePrefix: '9' });
    expect(accepted('90123456789', plan)).toMatchObject({ category: 'national', e164: '+33123456789' });
    expect(accepted('900442079460018', plan)).toMatchObject({ category: 'international', e164: '+442079460018' });
    expect(accepted('9', plan).category).toBe('internal');
    expect(accepted('0123456789', plan).category).toBe('unknown');
  });

  it('refuses a prefix dialled alone', () => {
    expect(accepted('0', WITH_PREFIX_0).category).toBe('unknown');
  });
});

describe('createNumberingPlan', () => {
  it('defaults to France', () => {
    expect(FRENCH_NUMBERING_PLAN.region).toBe('FR');
    expect(FRENCH_NUMBERING_PLAN.outsideLinePrefix).toBeUndefined();
    expect(FRENCH_NUMBERING_PLAN.maxLength).toBe(20);
  });

  it('takes its own tables', () => {
    const plan = planWith({
      emergencyNumbers: ['112'],
      ranges: [{ match: '0[1-9]XXXXXXXX', category: 'national', label: 'anything' }],
    });
    expect(accepted('0899123456', plan).category).toBe('national');
    expect(accepted('15', plan).category).toBe('unknown');
  });

  it('can read national forms for another region', () => {
    const plan = planWith({ region: 'BE', ranges: [{ match: '0[1-9]XXXXXXX', category: 'national', label: 'Belgian fixed line' }] });
    expect(accepted('022345678', plan)).toMatchObject({ category: 'national', e164: '+3222345678' });
    expect(accepted('+3222345678', plan)).toMatchObject({ category: 'national', national: '022345678' });
    expect(accepted('+33123456789', plan).category).toBe('international');
  });

  it.each<[Parameters<typeof createNumberingPlan>[0], string]>([
    [{ region: 'XX' }, 'region'],
    [{ region: 'BE' }, 'ranges: required'],
    [{ outsideLinePrefix: '+' }, 'outsideLinePrefix'],
    [{ outsideLinePrefix: '0000' }, 'outsideLinePrefix'],
    [{ maxLength: 2 }, 'maxLength'],
    [{ emergencyNumbers: ['1 12'] }, 'emergencyNumbers.0'],
    [{ ranges: [{ match: '0[1-5', category: 'national', label: 'x' }] }, 'ranges.0.match'],
    [{ ranges: [{ match: '+33X.', category: 'national', label: 'x' }] }, 'national form'],
    [{ nationalCallingCodes: ['0'] }, 'nationalCallingCodes.0'],
    [{ nationalRegions: ['ZZ'] }, 'nationalRegions.0'],
  ])('refuses %j', (config, message) => {
    const r = createNumberingPlan(config);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('\n')).toContain(message);
  });
});
