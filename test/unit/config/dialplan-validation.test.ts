/**
 * Each validation rule of the dial plan part of the configuration (schema
 * and dialplan-checks.ts), with a fixture that breaks that rule alone: a
 * valid base file with one section changed. The line an issue must point at
 * is marked in the fixture with `# <-`, so the expected line is read from the
 * fixture, not from the parser under test.
 */
import { describe, expect, it } from 'vitest';
import { formatConfigIssue, parseConfig } from '../../../src/config/load.js';
import type { ConfigIssue, VoixConfig } from '../../../src/config/types.js';

const FILE = 'x.yaml';
const STRONG = 'correct-horse-battery';
const MARK = '# <-';

type Section =
  | 'server'
  | 'users'
  | 'permission_classes'
  | 'numbering_plan'
  | 'groups'
  | 'time_conditions'
  | 'inbound_routes'
  | 'outbound_routes'
  | 'trunks';

const ORDER: readonly Section[] = ['server', 'users', 'permission_classes', 'numbering_plan', 'groups', 'time_conditions', 'inbound_routes', 'outbound_routes', 'trunks'];

/** A valid file: three users (1001 may call national numbers), one TLS trunk, one route for French numbers. */
const BASE: Readonly<Partial<Record<Section, readonly string[]>>> = {
  server: ['  domain: pbx.example.com'],
  users: [
    '  - extension: "1001"',
    `    password: "${STRONG}"`,
    '    permission: national',
    '  - extension: "1002"',
    `    password: "${STRONG}"`,
    '  - extension: "1003"',
    `    password: "${STRONG}"`,
  ],
  outbound_routes: ['  - name: france', '    match: "0[1-9]XXXXXXXX"', '    trunk: operator'],
  trunks: ['  - name: operator', '    host: sip.operator.example', '    username: "0123456789"', '    password: "provider-secret"'],
};

/** The base file with some sections replaced (or added); sections are written under their key. */
function fixture(sections: Partial<Record<Section, readonly string[]>> = {}): string {
  const merged = { ...BASE, ...sections };
  return `${ORDER.flatMap((key) => {
    const lines = merged[key];
    return lines === undefined ? [] : [`${key}:`, ...lines];
  }).join('\n')}\n`;
}

/** 1-based numbers of the lines marked `# <-`. */
function markedLines(text: string): number[] {
  return text.split('\n').flatMap((line, index) => (line.includes(MARK) ? [index + 1] : []));
}

function markedLine(text: string): number {
  const lines = markedLines(text);
  if (lines.length !== 1) throw new Error(`the fixture must mark exactly one line with "${MARK}", found ${lines.length}`);
  return lines[0] ?? 0;
}

function errorsOf(text: string): readonly ConfigIssue[] {
  const result = parseConfig(text, FILE);
  if (result.ok) throw new Error('expected the configuration to be refused, it was accepted');
  return result.errors;
}

/** The one error the fixture must produce. */
function onlyError(text: string): ConfigIssue {
  const errors = errorsOf(text);
  expect(errors.map(formatConfigIssue)).toHaveLength(1);
  return errors[0] as ConfigIssue;
}

function accepted(text: string): { config: VoixConfig; warnings: readonly ConfigIssue[] } {
  const result = parseConfig(text, FILE);
  if (!result.ok) throw new Error(`expected a valid configuration, got:\n${result.errors.map(formatConfigIssue).join('\n')}`);
  return result;
}

function expectIssue(issue: ConfigIssue, text: string, path: string, message: RegExp): void {
  expect({ file: issue.file, path: issue.path, line: issue.line }).toEqual({ file: FILE, path, line: markedLine(text) });
  expect(issue.message).toMatch(message);
}

const USER_1002 = ['  - extension: "1002"', `    password: "${STRONG}"`];
const USER_1003 = ['  - extension: "1003"', `    password: "${STRONG}"`];

describe('the base fixture', () => {
  it('is valid and raises no warning, so each failure below comes from its one change', () => {
    const { warnings } = accepted(fixture());

    expect(warnings.map(formatConfigIssue)).toEqual([]);
  });
});

describe('users: passwords and permission classes', () => {
  it('refuses a password shorter than 12 characters, without quoting it', () => {
    const text = fixture({ users: ['  - extension: "1001"', '    password: "short-pass"  # <-', ...USER_1002] });

    const error = onlyError(text);

    expectIssue(error, text, 'users[0].password', /too weak: use at least 12 characters/);
    expect(error.message).not.toContain('short-pass');
  });

  it('refuses a permission class that is neither predefined nor defined in the file, and lists the known ones', () => {
    const text = fixture({ users: ['  - extension: "1001"', `    password: "${STRONG}"`, '    permission: nationale  # <-', ...USER_1002] });

    expectIssue(onlyError(text), text, 'users[0].permission', /no permission class "nationale" \(known: internal, national, international, all\)/);
  });

  it('knows a class defined in permission_classes', () => {
    const text = fixture({
      users: ['  - extension: "1001"', `    password: "${STRONG}"`, '    permission: sales', ...USER_1002],
      permission_classes: ['  sales: [internal, national, mobile]'],
    });

    expect(accepted(text).config.permissionClasses.get('sales')?.allowed).toEqual(new Set(['internal', 'national', 'mobile']));
  });

  it('refuses a permission class listing a category that does not exist', () => {
    const text = fixture({ permission_classes: ['  sales: [national, premiums]  # <-'] });

    expectIssue(onlyError(text), text, 'permission_classes.sales[1]', /must be one of: internal, emergency, national/);
  });

  it('warns about a class that may call premium-rate numbers', () => {
    const text = fixture({ permission_classes: ['  sales: [national, premium]  # <-'] });

    const { warnings } = accepted(text);

    expect(warnings).toHaveLength(1);
    expectIssue(warnings[0] as ConfigIssue, text, 'permission_classes.sales', /may call premium-rate numbers/);
  });
});

describe('users: forwards', () => {
  it('refuses a forward to a number the user’s class may not call (default class: internal)', () => {
    const text = fixture({ users: ['  - extension: "1001"', `    password: "${STRONG}"`, ...USER_1002, '    forward:', '      busy: "0612345678"  # <-'] });

    expectIssue(onlyError(text), text, 'users[1].forward.busy', /"0612345678" is refused to this user: class "internal" may not call mobile numbers/);
  });

  it('refuses a forward to a number the class allows but no outbound route carries', () => {
    const text = fixture({
      users: ['  - extension: "1001"', `    password: "${STRONG}"`, '    permission: international', '    forward:', '      no_answer: "+4930123456"  # <-', ...USER_1002],
    });

    expectIssue(onlyError(text), text, 'users[0].forward.no_answer', /"\+4930123456" cannot be called: no outbound route for \+49 30 123456 \(international\)/);
  });

  it('accepts a forward to an outside number the class allows and a route carries', () => {
    const text = fixture({ users: ['  - extension: "1001"', `    password: "${STRONG}"`, '    permission: national', '    forward:', '      no_answer: "0612345678"', ...USER_1002] });

    expect(accepted(text).config.users[0]?.forward).toEqual({ always: null, busy: null, noAnswer: '0612345678', noAnswerSeconds: 20 });
  });

  it('reads a forward as dialled by the user: with an outside-line prefix, the prefix is part of it', () => {
    const withPrefix = (number: string): string =>
      fixture({
        users: ['  - extension: "1001"', `    password: "${STRONG}"`, '    permission: national', '    forward:', `      busy: "${number}"  # <-`, ...USER_1002],
        numbering_plan: ['  outside_line_prefix: "0"'],
      });

    expect(accepted(withPrefix('00612345678')).config.users[0]?.forward.busy).toBe('00612345678');
    const text = withPrefix('0612345678');
    expectIssue(onlyError(text), text, 'users[0].forward.busy', /"0612345678" is refused to this user: class "national" may not call unknown numbers/);
  });

  it('refuses a forward to an emergency number', () => {
    const text = fixture({ users: ['  - extension: "1001"', `    password: "${STRONG}"`, '    forward:', '      always: "112"  # <-', ...USER_1002] });

    expectIssue(onlyError(text), text, 'users[0].forward.always', /"112" is an emergency number: calls are not forwarded to one/);
  });

  it('refuses a busy forward of a user to itself', () => {
    const text = fixture({ users: ['  - extension: "1001"', `    password: "${STRONG}"`, '    forward:', '      busy: "1001"  # <-', ...USER_1002] });

    expectIssue(onlyError(text), text, 'users[0].forward.busy', /forwards the user to itself/);
  });

  it('refuses unconditional forwards that loop, on every user of the loop', () => {
    const text = fixture({
      users: [
        '  - extension: "1001"',
        `    password: "${STRONG}"`,
        '    forward:',
        '      always: "1002"  # <-',
        '  - extension: "1002"',
        `    password: "${STRONG}"`,
        '    forward:',
        '      always: "1003"',
        '  - extension: "1003"',
        `    password: "${STRONG}"`,
        '    forward:',
        '      always: "1001"',
      ],
    });

    const errors = errorsOf(text);

    expect(errors.map((e) => e.path)).toEqual(['users[0].forward.always', 'users[1].forward.always', 'users[2].forward.always']);
    expect(errors[0]?.line).toBe(markedLine(text));
    expect(errors[0]?.message).toBe('unconditional forwards loop back to 1001 (1001 → 1002 → 1003 → 1001)');
  });

  it('accepts a chain of unconditional forwards that ends', () => {
    const text = fixture({ users: ['  - extension: "1001"', `    password: "${STRONG}"`, '    forward:', '      always: "1002"', ...USER_1002, '    forward:', '      always: "1003"', ...USER_1003] });

    expect(accepted(text).config.users.map((u) => u.forward.always)).toEqual(['1002', '1003', null]);
  });
});

describe('groups', () => {
  it('refuses a member that is not a user', () => {
    const text = fixture({ groups: ['  - number: "2000"', '    name: Accueil', '    members: ["1001", "1009"]  # <-'] });

    expectIssue(onlyError(text), text, 'groups[0].members[1]', /no user with extension "1009"/);
  });

  it('refuses a member listed twice', () => {
    const text = fixture({ groups: ['  - number: "2000"', '    name: Accueil', '    members: ["1001", "1002", "1001"]  # <-'] });

    expectIssue(onlyError(text), text, 'groups[0].members[2]', /"1001" is listed twice/);
  });

  it('refuses a group number that is already an extension', () => {
    const text = fixture({ groups: ['  - number: "1002"  # <-', '    name: Accueil', '    members: ["1001"]'] });

    expectIssue(onlyError(text), text, 'groups[0].number', /"1002" is already a user's extension/);
  });

  it('refuses two groups with the same number, on the second', () => {
    const text = fixture({
      groups: ['  - number: "2000"', '    name: Accueil', '    members: ["1001"]', '  - number: "2000"  # <-', '    name: Ventes', '    members: ["1002"]'],
    });

    expectIssue(onlyError(text), text, 'groups[1].number', /duplicate group number "2000" \(first at groups\[0\]\)/);
  });

  it('refuses a fallback that is not an extension, a group, a message or a menu', () => {
    const text = fixture({ groups: ['  - number: "2000"', '    name: Accueil', '    members: ["1001"]', '    fallback: "0612345678"  # <-'] });

    expectIssue(onlyError(text), text, 'groups[0].fallback', /"0612345678" is not an extension, a group, a message or a menu: group fallbacks lead to one of them/);
  });

  it('refuses a group that falls back to itself', () => {
    const text = fixture({ groups: ['  - number: "2000"', '    name: Accueil', '    members: ["1001"]', '    fallback: "2000"  # <-'] });

    expectIssue(onlyError(text), text, 'groups[0].fallback', /falls back to the group itself/);
  });
});

describe('inbound routes', () => {
  it('refuses a destination that is not an extension, a group, a message or a menu', () => {
    const text = fixture({ inbound_routes: ['  - did: "0123456789"', '    destination: "3000"  # <-'] });

    expectIssue(onlyError(text), text, 'inbound_routes[0].destination', /"3000" is not an extension, a group, a message or a menu: inbound routes lead to one of them/);
  });

  it('refuses an open or closed destination that does not exist', () => {
    const text = fixture({
      time_conditions: ['  office:', '    weekly:', '      mon-fri: ["09:00-17:00"]'],
      inbound_routes: ['  - did: "0123456789"', '    time_condition: office', '    open: "1001"', '    closed: "1999"  # <-'],
    });

    expectIssue(onlyError(text), text, 'inbound_routes[0].closed', /"1999" is not an extension, a group, a message or a menu/);
  });

  it('refuses an unknown trunk', () => {
    const text = fixture({ inbound_routes: ['  - did: "0123456789"', '    trunk: other  # <-', '    destination: "1001"'] });

    expectIssue(onlyError(text), text, 'inbound_routes[0].trunk', /no trunk named "other"/);
  });

  it('refuses an unknown time condition', () => {
    const text = fixture({ inbound_routes: ['  - did: "0123456789"', '    time_condition: office  # <-', '    open: "1001"', '    closed: "1002"'] });

    expectIssue(onlyError(text), text, 'inbound_routes[0].time_condition', /no time condition named "office"/);
  });

  it('refuses the same DID twice, even written once nationally and once in E.164', () => {
    const text = fixture({ inbound_routes: ['  - did: "0123456789"', '    destination: "1001"', '  - did: "+33123456789"  # <-', '    destination: "1002"'] });

    expectIssue(onlyError(text), text, 'inbound_routes[1].did', /\+33123456789 is already routed by inbound_routes\[0\]/);
  });

  it('refuses a DID that is not a phone number of the region', () => {
    const text = fixture({ inbound_routes: ['  - did: "0123"  # <-', '    destination: "1001"'] });

    expectIssue(onlyError(text), text, 'inbound_routes[0].did', /"0123" is not a phone number of region FR or in E.164 form/);
  });

  it('refuses a destination given with a time condition (schema rule)', () => {
    const text = fixture({
      time_conditions: ['  office:', '    weekly:', '      mon-fri: ["09:00-17:00"]'],
      inbound_routes: ['  - did: "0123456789"', '    time_condition: office', '    destination: "1001"  # <-', '    open: "1001"', '    closed: "1002"'],
    });

    expectIssue(onlyError(text), text, 'inbound_routes[0].destination', /with time_condition, give open and closed instead/);
  });
});

describe('outbound routes', () => {
  it('refuses an unknown trunk', () => {
    const text = fixture({ outbound_routes: ['  - name: france', '    match: "0[1-9]XXXXXXXX"', '    trunk: operatorr  # <-'] });

    expectIssue(onlyError(text), text, 'outbound_routes[0].trunk', /no trunk named "operatorr"/);
  });

  it('refuses a route with the same numbers as an earlier one, written differently', () => {
    const text = fixture({
      outbound_routes: ['  - name: france', '    match: "0[1-9]XXXXXXXX"', '    trunk: operator', '  - name: again', '    match: "0ZXXXXXXXX"  # <-', '    trunk: operator'],
    });

    expectIssue(onlyError(text), text, 'outbound_routes[1].match', /"again" \(0ZXXXXXXXX\) matches the same numbers as "france" \(0\[1-9\]XXXXXXXX\) before it, so it is never used/);
  });

  it('refuses a route that an earlier, wider one makes unreachable', () => {
    const text = fixture({
      outbound_routes: ['  - name: france', '    match: "0[1-9]XXXXXXXX"', '    trunk: operator', '  - name: mobiles', '    match: "0[67]XXXXXXXX"  # <-', '    trunk: operator'],
    });

    expectIssue(onlyError(text), text, 'outbound_routes[1].match', /"mobiles" \(0\[67\]XXXXXXXX\) is never used: "france" \(0\[1-9\]XXXXXXXX\) before it matches every number it would/);
  });

  it('accepts a narrower route before a wider one (the exception, then the rule) without warning', () => {
    const text = fixture({
      outbound_routes: ['  - name: mobiles', '    match: "0[67]XXXXXXXX"', '    trunk: operator', '  - name: france', '    match: "0[1-9]XXXXXXXX"', '    trunk: operator'],
    });

    expect(accepted(text).warnings).toEqual([]);
  });

  it('warns, but accepts, two routes that share only some numbers', () => {
    const text = fixture({
      outbound_routes: ['  - name: low', '    match: "0[1-6]XXXXXXXX"', '    trunk: operator', '  - name: high', '    match: "0[5-9]XXXXXXXX"  # <-', '    trunk: operator'],
    });

    const { warnings } = accepted(text);

    expect(warnings).toHaveLength(1);
    expectIssue(warnings[0] as ConfigIssue, text, 'outbound_routes[1].match', /"low" \(0\[1-6\]XXXXXXXX\) and "high" \(0\[5-9\]XXXXXXXX\) both match some numbers \(e\.g\. 05\d{8}\); the first wins/);
  });

  it('refuses two routes with the same name', () => {
    const text = fixture({
      outbound_routes: ['  - name: france', '    match: "0[1-5]XXXXXXXX"', '    trunk: operator', '  - name: france  # <-', '    match: "0[67]XXXXXXXX"', '    trunk: operator'],
    });

    expectIssue(onlyError(text), text, 'outbound_routes[1].name', /"france" is used by an earlier route/);
  });

  it('refuses a pattern that does not parse', () => {
    const text = fixture({ outbound_routes: ['  - name: france', '    match: "0[1-9XXXXXXXX"  # <-', '    trunk: operator'] });

    expectIssue(onlyError(text), text, 'outbound_routes[0].match', /unclosed '\[' in "0\[1-9XXXXXXXX"/);
  });
});

describe('trunks', () => {
  it('refuses a trunk without username and password, at the trunk', () => {
    const text = fixture({ trunks: ['  - name: operator  # <-', '    host: sip.operator.example'] });

    expectIssue(onlyError(text), text, 'trunks[0]', /needs username and password/);
  });

  it('refuses a trunk with a username but no password', () => {
    const text = fixture({ trunks: ['  - name: operator  # <-', '    host: sip.operator.example', '    username: "0123456789"'] });

    expectIssue(onlyError(text), text, 'trunks[0]', /needs a password/);
  });

  it('refuses two trunks with the same name, on the second', () => {
    const text = fixture({
      trunks: [
        ...(BASE.trunks ?? []),
        '  - name: operator  # <-',
        '    host: sip2.operator.example',
        '    username: "0123456780"',
        '    password: "provider-secret"',
      ],
    });

    expectIssue(onlyError(text), text, 'trunks[1].name', /duplicate trunk name "operator" \(first at trunks\[0\]\)/);
  });

  it('warns, but accepts, SRTP required over a UDP trunk: the keys would travel in clear', () => {
    const text = fixture({
      trunks: ['  - name: operator', '    host: sip.operator.example', '    transport: udp', '    srtp: required  # <-', '    username: "0123456789"', '    password: "provider-secret"'],
    });

    const { warnings, config } = accepted(text);

    expect(warnings).toHaveLength(1);
    expectIssue(warnings[0] as ConfigIssue, text, 'trunks[0].srtp', /SRTP keys \(SDES\) would travel in clear over UDP: use transport tls/);
    expect(config.trunks[0]?.srtp).toBe('required');
  });
});

describe('numbering plan', () => {
  it('refuses a range whose pattern does not parse', () => {
    const text = fixture({ numbering_plan: ['  ranges:', '    - match: "0[1-5XXXXXXXX"  # <-', '      category: national', '      label: geographic'] });

    expectIssue(onlyError(text), text, 'numbering_plan.ranges[0].match', /unclosed '\[' in "0\[1-5XXXXXXXX"/);
  });

  it('refuses a range written in E.164 form', () => {
    const text = fixture({ numbering_plan: ['  ranges:', '    - match: "+331XXXXXXXX"  # <-', '      category: national', '      label: geographic'] });

    expectIssue(onlyError(text), text, 'numbering_plan.ranges[0].match', /ranges are written over the national form, without '\+'/);
  });

  it('refuses an unknown region, without an error about a key the file cannot have', () => {
    const text = fixture({ numbering_plan: ['  region: ZZ  # <-'] });

    const errors = errorsOf(text);

    expect(errors.map((e) => e.path)).toEqual(['numbering_plan.ranges', 'numbering_plan.region']);
    expectIssue(errors[1] as ConfigIssue, text, 'numbering_plan.region', /"ZZ" is not a region libphonenumber knows/);
  });
});

describe('time conditions', () => {
  const routeTo = (name: string): string[] => ['  - did: "0123456789"', `    time_condition: ${name}`, '    open: "1001"', '    closed: "1002"'];

  it('refuses a time range that does not parse, at the range', () => {
    const text = fixture({
      time_conditions: ['  office:', '    weekly:', '      mon-fri: ["08:30-12:00", "14:00-25:00"]  # <-'],
      inbound_routes: routeTo('office'),
    });

    expectIssue(onlyError(text), text, 'time_conditions.office.weekly.mon-fri[1]', /"25:00" in "14:00-25:00" is not an end time/);
  });

  it('refuses an unknown day', () => {
    const text = fixture({ time_conditions: ['  office:', '    weekly:', '      mon-fry: ["08:30-12:00"]  # <-'], inbound_routes: routeTo('office') });

    expectIssue(onlyError(text), text, 'time_conditions.office.weekly.mon-fry', /unknown day "fry"/);
  });

  it('refuses an unknown time zone', () => {
    const text = fixture({
      time_conditions: ['  office:', '    timezone: Europe/Pariss  # <-', '    weekly:', '      mon-fri: ["08:30-12:00"]'],
      inbound_routes: routeTo('office'),
    });

    expectIssue(onlyError(text), text, 'time_conditions.office.timezone', /unknown time zone "Europe\/Pariss"/);
  });

  it('refuses a dated exception that does not parse', () => {
    const text = fixture({
      time_conditions: ['  office:', '    weekly:', '      mon-fri: ["08:30-12:00"]', '    closed: ["2026-02-30"]  # <-'],
      inbound_routes: routeTo('office'),
    });

    expectIssue(onlyError(text), text, 'time_conditions.office.closed[0]', /2026-02-30/);
  });
});

describe('a complete valid file', () => {
  const text = [
    'server:',
    '  domain: PBX.example.com',
    'users:',
    '  - extension: "1001"',
    '    name: Alice Martin',
    `    password: "${STRONG}"`,
    '    permission: sales',
    '    forward:',
    '      no_answer: "0612345678"',
    '      no_answer_after: 30',
    '    caller_id:',
    '      name: Example SA',
    '      number: "+33123456789"',
    '  - extension: "1002"',
    `    password: "${STRONG}"`,
    '    dnd: true',
    '    forward:',
    '      busy: "2000"',
    '  - extension: "1003"',
    `    password: "${STRONG}"`,
    'permission_classes:',
    '  sales: [internal, national, mobile, special]',
    'numbering_plan:',
    '  region: FR',
    '  emergency_numbers: ["15", "17", "18", "112"]',
    'groups:',
    '  - number: "2000"',
    '    name: Accueil',
    '    strategy: in_order',
    '    members: ["1002", "1003"]',
    '    ring_time: 15',
    '    fallback: "1001"',
    'time_conditions:',
    '  office:',
    '    weekly:',
    '      mon-fri: ["08:30-12:00", "14:00-18:00"]',
    '    closed: ["2026-12-24"]',
    'inbound_routes:',
    '  - did: "0123456789"',
    '    time_condition: office',
    '    open: "2000"',
    '    closed: "1001"',
    '  - did: "+33987654321"',
    '    trunk: backup',
    '    destination: "1003"',
    'outbound_routes:',
    '  - name: mobiles',
    '    match: "+33[67]XXXXXXXX"',
    '    trunk: backup',
    '  - name: france',
    '    match: "0[1-59]XXXXXXXX"',
    '    trunk: operator',
    '    send: national',
    'trunks:',
    '  - name: operator',
    '    host: SIP.operator.example',
    '    username: "0123456789"',
    '    password: "provider-secret"',
    '    caller_id: "+33123456789"',
    '  - name: backup',
    '    host: 192.0.2.10',
    '    transport: udp',
    '    username: "backup-account"',
    '    auth_username: "auth-id"',
    '    password: "provider-secret"',
    '    register: false',
    '    inbound_addresses: [192.0.2.0/24]',
    '',
  ].join('\n');

  it('loads without errors or warnings', () => {
    expect(accepted(text).warnings.map(formatConfigIssue)).toEqual([]);
  });

  it('maps users, with the default class "internal" and 20 s before a no-answer forward', () => {
    const { users } = accepted(text).config;

    expect(users.map((u) => u.permissionClass)).toEqual(['sales', 'internal', 'internal']);
    expect(users[0]?.forward).toEqual({ always: null, busy: null, noAnswer: '0612345678', noAnswerSeconds: 30 });
    expect(users[0]?.callerId).toEqual({ name: 'Example SA', number: '+33123456789' });
    expect(users[1]).toMatchObject({ dnd: true, forward: { always: null, busy: '2000', noAnswer: null, noAnswerSeconds: 20 }, callerId: { name: null, number: null } });
  });

  it('maps groups, permission classes, the numbering plan and time conditions', () => {
    const config = accepted(text).config;

    expect(config.groups).toEqual([{ number: '2000', name: 'Accueil', strategy: 'in_order', members: ['1002', '1003'], ringSeconds: 15, fallback: '1001' }]);
    expect([...config.permissionClasses.keys()]).toEqual(['internal', 'national', 'international', 'all', 'sales']);
    expect(config.numberingPlan).toMatchObject({ region: 'FR', outsideLinePrefix: undefined, emergencyNumbers: new Set(['15', '17', '18', '112']) });
    expect(config.timeConditions.get('office')).toMatchObject({ timeZone: 'Europe/Paris', holidays: 'france' });
  });

  it('normalises inbound DIDs to E.164, from the national form too', () => {
    expect(accepted(text).config.inboundRoutes).toEqual([
      { did: '+33123456789', trunk: null, open: '2000', timeCondition: 'office', closed: '1001' },
      { did: '+33987654321', trunk: 'backup', open: '1003', timeCondition: null, closed: null },
    ]);
  });

  it('maps outbound routes in order, with their defaults', () => {
    expect(accepted(text).config.outboundRoutes.map(({ name, trunk, strip, prepend, send }) => ({ name, trunk, strip, prepend, send }))).toEqual([
      { name: 'mobiles', trunk: 'backup', strip: 0, prepend: '', send: 'e164' },
      { name: 'france', trunk: 'operator', strip: 0, prepend: '', send: 'national' },
    ]);
  });

  it('applies trunk defaults: port 5061 and SRTP required over TLS, 5060 and SRTP off over UDP, authUsername = username', () => {
    const [operator, backup] = accepted(text).config.trunks;

    expect(operator).toEqual({
      name: 'operator',
      host: 'sip.operator.example',
      port: 5061,
      transport: 'tls',
      domain: 'sip.operator.example',
      username: '0123456789',
      authUsername: '0123456789',
      password: 'provider-secret',
      register: true,
      registerExpires: 600,
      callerId: '+33123456789',
      inboundAddresses: [],
      srtp: 'required',
      maxCalls: 10,
      callsPerSecond: 5,
    });
    expect(backup).toMatchObject({ port: 5060, transport: 'udp', domain: '192.0.2.10', authUsername: 'auth-id', register: false, srtp: 'off', callerId: null, inboundAddresses: ['192.0.2.0/24'] });
  });
});
