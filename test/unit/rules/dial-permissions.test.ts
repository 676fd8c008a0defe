import { describe, expect, it } from 'vitest';
import { DEFAULT_PERMISSION_CLASSES, definePermissionClass, mayCall, type PermissionClass } from '../../../src/rules/dial-permissions.js';
import { FRENCH_NUMBERING_PLAN, classifyDialString, type DialCategory } from '../../../src/rules/numbering-plan.js';

const OFFICE = { internalNumbers: new Set(['100', '200']) };

function cls(name: keyof typeof DEFAULT_PERMISSION_CLASSES): PermissionClass {
  const r = definePermissionClass(name, DEFAULT_PERMISSION_CLASSES[name]);
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.permissionClass;
}

/** One real-looking number per category. */
const SAMPLES: Readonly<Record<DialCategory, readonly string[]>> = {
  internal: ['100', '200'],
  emergency: ['112', '15', '17', '18', '114', '115', '119', '116000', '116117', '191', '196', '197'],
  national: ['0123456789', '0556781234', '0912345678', '+33140205050'],
  mobile: ['0612345678', '0756123456', '0033612345678'],
  special: ['0800123456', '0806123456', '3114', '116006'],
  premium: ['0899123456', '0810123456', '0820123456', '3646', '118712', '+979123456789', '+449012345678'],
  international: ['00442079460018', '+12025550123', '004915123456789'],
  unknown: ['1014', '0833123456', '42', '+330123456789'],
};

type ClassName = keyof typeof DEFAULT_PERMISSION_CLASSES;
const Y = true;
const n = false;
/** Expected permission matrix for the default classes. */
const MATRIX: Readonly<Record<ClassName, Readonly<Record<DialCategory, boolean>>>> = {
  internal: { internal: Y, emergency: Y, national: n, mobile: n, special: n, premium: n, international: n, unknown: n },
  national: { internal: Y, emergency: Y, national: Y, mobile: Y, special: Y, premium: n, international: n, unknown: n },
  international: { internal: Y, emergency: Y, national: Y, mobile: Y, special: Y, premium: n, international: Y, unknown: n },
  all: { internal: Y, emergency: Y, national: Y, mobile: Y, special: Y, premium: Y, international: Y, unknown: n },
};

const cases = (Object.keys(MATRIX) as ClassName[]).flatMap((c) =>
  (Object.keys(SAMPLES) as DialCategory[]).flatMap((category) =>
    (SAMPLES[category] ?? []).map((dialled) => [c, category, dialled, MATRIX[c][category]] as const),
  ),
);

describe('mayCall with the default classes', () => {
  it.each(cases)('class %s, %s number %s: allowed %s', (className, category, dialled, allowed) => {
    const classification = classifyDialString(dialled, FRENCH_NUMBERING_PLAN, OFFICE);
    expect(classification).toMatchObject({ ok: true, category });
    const r = mayCall(cls(className), classification);
    expect(r.allowed).toBe(allowed);
    if (!r.allowed) expect(r.reason).toContain(`may not call ${category}`);
  });

  it('defaults build up from the most restricted', () => {
    expect(DEFAULT_PERMISSION_CLASSES.internal).toEqual(['internal']);
    expect(DEFAULT_PERMISSION_CLASSES.all).not.toContain('unknown');
    for (const c of ['internal', 'national', 'international'] as const) expect(DEFAULT_PERMISSION_CLASSES[c]).not.toContain('premium');
  });
});

describe('mayCall rules that no configuration changes', () => {
  const empty = definePermissionClass('aucun', []);
  if (!empty.ok) throw new Error('an empty class is valid');

  it.each(SAMPLES.emergency)('emergency number %s is allowed even for a class with no category', (dialled) => {
    expect(mayCall(empty.permissionClass, classifyDialString(dialled, FRENCH_NUMBERING_PLAN, OFFICE))).toEqual({ allowed: true });
  });

  it('refuses everything else to that class, internal numbers included', () => {
    for (const dialled of ['100', '0123456789', '0800123456']) {
      expect(mayCall(empty.permissionClass, classifyDialString(dialled, FRENCH_NUMBERING_PLAN, OFFICE)).allowed).toBe(false);
    }
  });

  it('refuses premium unless the class names it', () => {
    const broad = definePermissionClass('large', ['internal', 'national', 'mobile', 'special', 'international', 'unknown']);
    if (!broad.ok) throw new Error('valid');
    const premium = classifyDialString('0899123456', FRENCH_NUMBERING_PLAN, OFFICE);
    expect(mayCall(broad.permissionClass, premium)).toEqual({ allowed: false, reason: 'class "large" may not call premium numbers (premium-rate number (089))' });
  });

  it('allows unknown numbers only to a class naming them', () => {
    const r = definePermissionClass('technique', ['internal', 'unknown']);
    if (!r.ok) throw new Error('valid');
    const operator = classifyDialString('1014', FRENCH_NUMBERING_PLAN, OFFICE);
    expect(mayCall(r.permissionClass, operator)).toEqual({ allowed: true });
    expect(mayCall(cls('all'), operator).allowed).toBe(false);
  });

  it.each(['0123456789;user=phone', '*69', '', '+', '01%32'])('refuses the malformed %j to every class', (dialled) => {
    const classification = classifyDialString(dialled, FRENCH_NUMBERING_PLAN, OFFICE);
    for (const c of ['internal', 'national', 'international', 'all'] as const) {
      const r = mayCall(cls(c), classification);
      expect(r.allowed).toBe(false);
      if (!r.allowed) expect(r.reason).toMatch(/^malformed number: /);
    }
  });
});

describe('definePermissionClass', () => {
  it('keeps the name the configuration gives', () => {
    const r = definePermissionClass('interne', ['internal']);
    expect(r).toEqual({ ok: true, permissionClass: { name: 'interne', allowed: new Set(['internal']) }, warnings: [] });
  });

  it.each([
    [['nationale'], '"nationale" is not a category'],
    [['internal', 'toll'], '1: "toll"'],
    [['PREMIUM'], '"PREMIUM"'],
    [['*'], '"*"'],
  ])('refuses %j', (categories, message) => {
    const r = definePermissionClass('x', categories);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('\n')).toContain(message);
  });

  it('refuses an empty name', () => {
    expect(definePermissionClass(' ', ['internal']).ok).toBe(false);
  });

  it('warns about premium, unknown and a redundant emergency', () => {
    const r = definePermissionClass('tout', ['premium', 'unknown', 'emergency']);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.warnings).toHaveLength(3);
      expect(r.warnings[0]).toContain('premium-rate');
    }
  });
});
