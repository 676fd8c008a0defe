import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatConfigIssue, loadConfigFile, parseConfig } from '../../../src/config/load.js';
import type { ConfigIssue, VoixConfig } from '../../../src/config/types.js';

const FILE = '/etc/voix/voix.yaml';
const STRONG = 'correct-horse-battery';

/** Joins lines so that tests can count them: lines[0] is line 1. */
function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

function load(text: string): VoixConfig {
  const result = parseConfig(text, FILE);
  if (!result.ok) throw new Error(`expected a valid config, got:\n${result.errors.map(formatConfigIssue).join('\n')}`);
  return result.config;
}

function errorsOf(text: string, file = 't.yaml'): string[] {
  const result = parseConfig(text, file);
  if (result.ok) throw new Error('expected errors, the config is valid');
  return result.errors.map(formatConfigIssue);
}

function warningsOf(text: string): string[] {
  const result = parseConfig(text, 't.yaml');
  if (!result.ok) throw new Error(`expected a valid config, got:\n${result.errors.map(formatConfigIssue).join('\n')}`);
  return result.warnings.map(formatConfigIssue);
}

const MINIMAL = yaml(
  'server:',
  '  domain: pbx.example.com',
  'users:',
  '  - extension: "1001"',
  `    password: "${STRONG}"`,
);

describe('parseConfig: a valid file', () => {
  it('applies every default to a minimal config (domain and one user)', () => {
    const config = load(MINIMAL);

    expect(config.server).toEqual({
      domain: 'pbx.example.com',
      realm: 'pbx.example.com',
      aliases: [],
      publicAddress: null,
      dataDir: '/var/lib/voix',
      logLevel: 'info',
      shutdownGraceSeconds: 30,
      listen: {
        udp: { address: '0.0.0.0', port: 5060 },
        tcp: { address: '0.0.0.0', port: 5060 },
        tls: { address: '0.0.0.0', port: 5061, certificate: null },
      },
    });
    expect(config.registrar).toEqual({ minExpires: 60, maxExpires: 3600, defaultExpires: 3600 });
    expect(config.auth).toEqual({ algorithms: ['SHA-256', 'MD5'], nonceLifetimeSeconds: 300, md5OnlyUserAgents: ['baresip v0.', 'baresip v1.'] });
    expect(config.security).toEqual({ ban: { maxFailures: 5, windowSeconds: 60, durationSeconds: 900 }, sdesOverPlaintext: false });
    expect(config.media).toEqual({ address: '0.0.0.0', publicAddress: null, portMin: 10000, portMax: 20000, workers: 0 });
    expect(config.calls).toEqual({ ringTimeoutSeconds: 60, sessionExpiresSeconds: 1800, minSeSeconds: 90 });
    expect(config.overload).toEqual({ maxEventLoopLagMs: 100, maxTransactionsInProgress: 2000, maxRequestsPerSecond: 0, retryAfterSeconds: 5 });
    expect(config.limits).toEqual({ maxMessageSize: 65_535, maxHeaders: 100, maxConnectionsPerAddress: 64, maxConnections: 4096, idleTimeoutSeconds: 3900, firstMessageTimeoutSeconds: 10 });
    expect(config.users).toHaveLength(1);
    expect(config.users[0]).toMatchObject({ extension: '1001', displayName: null, transports: ['tls'], maxContacts: 3, srtp: 'required' });
  });

  it('keeps no clear password: it derives HA1 = H(extension:realm:password) for both algorithms (RFC 7616 §3.4.2)', () => {
    const config = load(MINIMAL);

    const md5 = createHash('md5').update(`1001:pbx.example.com:${STRONG}`).digest('hex');
    const sha256 = createHash('sha256').update(`1001:pbx.example.com:${STRONG}`).digest('hex');
    expect(config.users[0]?.credentials).toEqual({ ha1Md5: md5, ha1Sha256: sha256 });
    expect(JSON.stringify(config)).not.toContain(STRONG);
  });

  it('uses the realm, not the domain, in derived HA1 when a realm is given', () => {
    const config = load(yaml('server:', '  domain: pbx.example.com', '  realm: Office', 'users:', '  - extension: "1001"', `    password: "${STRONG}"`));

    expect(config.server.realm).toBe('Office');
    expect(config.users[0]?.credentials.ha1Md5).toBe(createHash('md5').update(`1001:Office:${STRONG}`).digest('hex'));
  });

  it('copies stored HA1 values in lower case', () => {
    const config = load(
      yaml('server:', '  domain: pbx.example.com', 'users:', '  - extension: "1001"', `    ha1_md5: ${'AB'.repeat(16)}`, `    ha1_sha256: ${'cd'.repeat(32)}`),
    );

    expect(config.users[0]?.credentials).toEqual({ ha1Md5: 'ab'.repeat(16), ha1Sha256: 'cd'.repeat(32) });
  });

  it('resolves a relative data_dir and certificate paths against the config file folder', () => {
    const config = load(
      yaml(
        'server:',
        '  domain: pbx.example.com',
        '  data_dir: ../lib/voix',
        '  listen:',
        '    tls: { certificate: tls/server.crt, key: /secrets/server.key }',
        'users:',
        '  - extension: "1001"',
        `    password: "${STRONG}"`,
      ),
    );

    expect(config.server.dataDir).toBe('/etc/lib/voix');
    expect(config.server.listen.tls?.certificate).toEqual({ certificateFile: '/etc/voix/tls/server.crt', keyFile: '/secrets/server.key' });
  });

  it('maps a disabled transport to null and lower-cases host names', () => {
    const config = load(
      yaml(
        'server:',
        '  domain: PBX.Example.com',
        '  aliases: [Pbx.Example.COM, Other.Example.com, 192.0.2.10]',
        '  public_address: 203.0.113.10',
        '  listen: { udp: false, tcp: { port: 5070 } }',
        'users:',
        '  - extension: "1001"',
        '    name: Alice Martin',
        `    password: "${STRONG}"`,
        '    transports: [tcp, tls]',
      ),
    );

    expect(config.server.domain).toBe('pbx.example.com');
    expect(config.server.aliases).toEqual(['other.example.com', '192.0.2.10']);
    expect(config.server.publicAddress).toBe('203.0.113.10');
    expect(config.server.listen.udp).toBeNull();
    expect(config.server.listen.tcp).toEqual({ address: '0.0.0.0', port: 5070 });
    expect(config.users[0]?.displayName).toBe('Alice Martin');
  });
});

describe('parseConfig: each kind of mistake, located', () => {
  it('reports a YAML syntax error at its line and stops there', () => {
    const errors = errorsOf(yaml('server:', '  domain: [pbx.example.com', 'users: []'));

    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^t\.yaml:3:1 YAML syntax error: /);
  });

  it('reports an unknown key at the key itself, with a suggestion', () => {
    const errors = errorsOf(yaml('server:', '  domain: pbx.example.com', 'users:', '  - extension: "1001"', `    pasword: "${STRONG}"`));

    expect(errors).toContain('t.yaml:5:5 users[0].pasword: unknown key (did you mean "password"?)');
  });

  it('suggests snake_case for a camelCase key, and nothing for a key unlike any', () => {
    const errors = errorsOf(yaml('server:', '  domain: pbx.example.com', '  dataDir: /srv/voix', 'colour: blue'));

    expect(errors).toContain('t.yaml:3:3 server.dataDir: unknown key (did you mean "data_dir"?)');
    expect(errors).toContain('t.yaml:4:1 colour: unknown key');
  });

  it('reports a wrong type at the value', () => {
    const errors = errorsOf(yaml('server:', '  domain: pbx.example.com', 'registrar:', '  max_expires: one hour'));

    expect(errors).toEqual(['t.yaml:4:16 registrar.max_expires: must be a number, not text']);
  });

  it('asks for a whole number where a fraction was given', () => {
    const errors = errorsOf(yaml('server:', '  domain: pbx.example.com', 'auth:', '  nonce_lifetime: 30.5'));

    expect(errors).toEqual(['t.yaml:4:19 auth.nonce_lifetime: must be a whole number']);
  });

  it('asks for a quoted extension when YAML read it as a number', () => {
    const errors = errorsOf(yaml('server:', '  domain: pbx.example.com', 'users:', '  - extension: 1001', `    password: "${STRONG}"`));

    expect(errors).toEqual(['t.yaml:4:16 users[0].extension: must be a quoted string of 2 to 10 digits, like "1001"']);
  });

  it('reports an extension that is not 2 to 10 digits', () => {
    const errors = errorsOf(yaml('server:', '  domain: pbx.example.com', 'users:', '  - extension: "1"', `    password: "${STRONG}"`));

    expect(errors).toEqual(['t.yaml:4:16 users[0].extension: must be 2 to 10 digits']);
  });

  it('reports a duplicate extension on the later user and names the first one’s line', () => {
    const errors = errorsOf(
      yaml(
        'server:',
        '  domain: pbx.example.com',
        'users:',
        '  - extension: "1001"',
        `    password: "${STRONG}"`,
        '  - extension: "1002"',
        `    password: "${STRONG}"`,
        '  - extension: "1001"',
        `    password: "${STRONG}"`,
      ),
    );

    expect(errors).toEqual(['t.yaml:8:16 users[2].extension: duplicate extension "1001" (first defined at line 4)']);
  });

  it('calls a short password too weak and suggests ha1_*, without quoting it', () => {
    const errors = errorsOf(yaml('server:', '  domain: pbx.example.com', 'users:', '  - extension: "1001"', '    password: "hunter2"'));

    expect(errors).toEqual([
      't.yaml:5:15 users[0].password: is too weak: use at least 12 characters, or store ha1_md5/ha1_sha256 instead of a password',
    ]);
    expect(errors.join('\n')).not.toContain('hunter2');
  });

  it('refuses a password together with an HA1', () => {
    const errors = errorsOf(
      yaml('server:', '  domain: pbx.example.com', 'users:', '  - extension: "1001"', `    password: "${STRONG}"`, `    ha1_md5: ${'a'.repeat(32)}`),
    );

    expect(errors).toEqual(['t.yaml:5:15 users[0].password: give either password or ha1_md5/ha1_sha256, not both']);
  });

  it('reports a user with no credential at the user mapping', () => {
    const errors = errorsOf(yaml('server:', '  domain: pbx.example.com', 'users:', '  - extension: "1001"', '    name: Alice'));

    expect(errors).toEqual(['t.yaml:4:5 users[0]: needs a password or ha1_md5/ha1_sha256']);
  });

  it('reports an HA1 that is not hexadecimal of the right length', () => {
    const errors = errorsOf(yaml('server:', '  domain: pbx.example.com', 'users:', '  - extension: "1001"', `    ha1_sha256: ${'a'.repeat(32)}`));

    expect(errors).toEqual(['t.yaml:5:17 users[0].ha1_sha256: must be 64 hexadecimal digits: SHA-256 of "extension:realm:password"']);
  });

  it('refuses a user whose only HA1 is for an algorithm that is not offered', () => {
    const errors = errorsOf(
      yaml('server:', '  domain: pbx.example.com', 'auth:', '  algorithms: [SHA-256]', 'users:', '  - extension: "1001"', `    ha1_md5: ${'a'.repeat(32)}`),
    );

    expect(errors).toEqual([
      't.yaml:7:14 users[0].ha1_md5: is useless because auth.algorithms does not offer MD5: add ha1_sha256 or offer MD5',
    ]);
  });

  it('requires min_expires ≤ default_expires ≤ max_expires', () => {
    const base = ['server:', '  domain: pbx.example.com', 'registrar:'];

    expect(errorsOf(yaml(...base, '  min_expires: 7200', '  max_expires: 3600'))).toEqual([
      't.yaml:4:16 registrar.min_expires: must not exceed max_expires (7200 > 3600)',
    ]);
    expect(errorsOf(yaml(...base, '  min_expires: 600', '  default_expires: 300'))).toEqual([
      't.yaml:5:20 registrar.default_expires: must be at least min_expires (300 < 600)',
    ]);
    expect(errorsOf(yaml(...base, '  max_expires: 1800', '  default_expires: 3600'))).toEqual([
      't.yaml:5:20 registrar.default_expires: must not exceed max_expires (3600 > 1800)',
    ]);
  });

  it('points at the registrar mapping when the inconsistent value is a default', () => {
    // default_expires is 3600 by default, above the max given here.
    const errors = errorsOf(yaml('server:', '  domain: pbx.example.com', 'registrar:', '  max_expires: 1800'));

    expect(errors).toEqual(['t.yaml:3:1 registrar.default_expires: must not exceed max_expires (3600 > 1800)']);
  });

  it('requires a TLS key with a certificate, and a certificate with a key', () => {
    const withCertificate = errorsOf(yaml('server:', '  domain: pbx.example.com', '  listen:', '    tls:', '      certificate: tls/server.crt'));
    const withKey = errorsOf(yaml('server:', '  domain: pbx.example.com', '  listen:', '    tls:', '      key: tls/server.key'));

    expect(withCertificate).toEqual([
      't.yaml:4:5 server.listen.tls.key: is required when certificate is given (or remove both and voix generates a certificate)',
    ]);
    expect(withKey).toEqual([
      't.yaml:4:5 server.listen.tls.certificate: is required when key is given (or remove both and voix generates a certificate)',
    ]);
  });

  it('reports a duplicate YAML key at the second one and names the first one’s line', () => {
    const errors = errorsOf(yaml('server:', '  domain: pbx.example.com', '  log_level: info', '  log_level: debug'));

    expect(errors).toEqual(['t.yaml:4:3 server.log_level: duplicate key (first defined at line 3)']);
  });

  it('reports a missing required key at its parent', () => {
    const errors = errorsOf(yaml('server:', '  log_level: info'));

    expect(errors).toEqual(['t.yaml:1:1 server.domain: is required']);
  });

  it('opens `false | mapping` unions to report the field that is wrong', () => {
    const errors = errorsOf(yaml('server:', '  domain: pbx.example.com', '  listen:', '    udp: { port: 0 }', '    tcp: off'));

    expect(errors).toEqual([
      't.yaml:4:18 server.listen.udp.port: must be at least 1',
      't.yaml:5:10 server.listen.tcp: must be false (disabled) or a mapping with address and port',
    ]);
  });

  it('refuses a listen section with every transport disabled', () => {
    const errors = errorsOf(yaml('server:', '  domain: pbx.example.com', '  listen: { udp: false, tcp: false, tls: false }'));

    expect(errors).toEqual(['t.yaml:3:11 server.listen: at least one transport must be enabled']);
  });

  it('reports enum, list and range mistakes', () => {
    const errors = errorsOf(
      yaml(
        'server:',
        '  domain: pbx.example.com',
        '  log_level: verbose',
        'auth:',
        '  algorithms: []',
        'users:',
        '  - extension: "1001"',
        `    password: "${STRONG}"`,
        '    transports: [tls, tls]',
        '    max_contacts: 21',
      ),
    );

    expect(errors).toEqual([
      't.yaml:3:14 server.log_level: must be one of: debug, info, warn, error',
      't.yaml:5:15 auth.algorithms: must not be empty',
      't.yaml:9:17 users[0].transports: must not list a transport twice',
      't.yaml:10:19 users[0].max_contacts: must be at most 20',
    ]);
  });

  it('refuses an empty file, several documents, and a file that is not a mapping', () => {
    expect(errorsOf('')).toEqual(['t.yaml:1:1 the file is empty: at least server.domain is required']);
    expect(errorsOf(yaml('server:', '  domain: a.example.com', '---', 'users: []'))).toEqual([
      't.yaml:3:1 the file must hold a single YAML document (remove the "---" separators)',
    ]);
    expect(errorsOf(yaml('- server'))).toEqual(['t.yaml:1:1 must be a mapping (key: value), not a list']);
  });
});

describe('parseConfig: many mistakes at once', () => {
  const text = yaml(
    'server:', //  1
    '  domain: pbx.example.com', //  2
    '  dataDir: ./data', //  3
    '  listen:', //  4
    '    tls: { certificate: a.crt }', //  5
    'registrar:', //  6
    '  min_expires: 7200', //  7
    'users:', //  8
    '  - extension: "1001"', //  9
    '    password: "Short-1"', // 10
    '  - extension: "1001"', // 11
    '    pasword: "Another-Long-Secret"', // 12
    `    ha1_md5: ${'0f'.repeat(16)}`, // 13
    '  - extension: "42"', // 14
    '    password: "Third-Long-Secret"', // 15
    `    ha1_sha256: ${'9e'.repeat(32)}`, // 16
    '    max_contacts: many', // 17
    'security:', // 18
    '  ban: { max_failures: 5, max_failures: 6 }', // 19
  );

  it('reports all of them in one pass, in file order', () => {
    const errors = errorsOf(text, 'examples/bad.yaml');

    expect(errors).toEqual([
      'examples/bad.yaml:3:3 server.dataDir: unknown key (did you mean "data_dir"?)',
      'examples/bad.yaml:5:5 server.listen.tls.key: is required when certificate is given (or remove both and voix generates a certificate)',
      'examples/bad.yaml:7:16 registrar.min_expires: must not exceed max_expires (7200 > 3600)',
      'examples/bad.yaml:10:15 users[0].password: is too weak: use at least 12 characters, or store ha1_md5/ha1_sha256 instead of a password',
      'examples/bad.yaml:11:16 users[1].extension: duplicate extension "1001" (first defined at line 9)',
      'examples/bad.yaml:12:5 users[1].pasword: unknown key (did you mean "password"?)',
      'examples/bad.yaml:15:15 users[2].password: give either password or ha1_md5/ha1_sha256, not both',
      'examples/bad.yaml:17:19 users[2].max_contacts: must be a number, not text',
      'examples/bad.yaml:19:27 security.ban.max_failures: duplicate key (first defined at line 19)',
    ]);
  });

  it('never puts a password or an HA1 in a message', () => {
    const result = parseConfig(text, 'bad.yaml');
    const messages = JSON.stringify(result);

    for (const secret of ['Short-1', 'Another-Long-Secret', 'Third-Long-Secret', '0f'.repeat(16), '9e'.repeat(32)]) {
      expect(messages).not.toContain(secret);
    }
  });
});

describe('parseConfig: warnings', () => {
  it('warns when no user is defined', () => {
    expect(warningsOf(yaml('server:', '  domain: pbx.example.com'))).toEqual(['t.yaml:1:1 users: no users are defined: no phone can register']);
  });

  it('warns about a user whose transports are all disabled', () => {
    const warnings = warningsOf(
      yaml('server:', '  domain: pbx.example.com', '  listen: { tls: false }', 'users:', '  - extension: "1001"', `    password: "${STRONG}"`),
    );

    expect(warnings).toEqual(['t.yaml:5:5 users[0].transports: allows only tls, disabled in server.listen: this user cannot register']);
  });
});

describe('formatConfigIssue', () => {
  it('prints file:line:column path: message', () => {
    const issue: ConfigIssue = { file: 'examples/demo.yaml', line: 14, column: 7, path: 'users[2].extension', message: 'must be 2 to 10 digits' };

    expect(formatConfigIssue(issue)).toBe('examples/demo.yaml:14:7 users[2].extension: must be 2 to 10 digits');
  });

  it('leaves out an empty path, and the position of an unreadable file', () => {
    expect(formatConfigIssue({ file: 'a.yaml', line: 1, column: 1, path: '', message: 'the file is empty' })).toBe('a.yaml:1:1 the file is empty');
    expect(formatConfigIssue({ file: 'a.yaml', line: 0, column: 0, path: '', message: 'cannot read' })).toBe('a.yaml cannot read');
  });
});

describe('loadConfigFile', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('returns an error value for a missing file', async () => {
    dir = mkdtempSync(join(tmpdir(), 'voix-config-'));
    const path = join(dir, 'absent.yaml');

    const result = await loadConfigFile(path);

    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map(formatConfigIssue)).toEqual([`${path} cannot read the configuration: no such file`]);
  });

  it('reads a file and resolves data_dir against its folder', async () => {
    dir = mkdtempSync(join(tmpdir(), 'voix-config-'));
    const path = join(dir, 'voix.yaml');
    writeFileSync(path, yaml('server:', '  domain: pbx.example.com', '  data_dir: data', 'users:', '  - extension: "1001"', `    password: "${STRONG}"`));

    const result = await loadConfigFile(path);

    expect(result.ok).toBe(true);
    if (result.ok) expect(result.config.server.dataDir).toBe(join(dir, 'data'));
  });
});

describe('parseConfig: media, calls and SRTP policy', () => {
  it('defaults SRTP to required for a TLS-only account and optional for one allowing UDP or TCP', () => {
    const config = load(
      yaml('server:', '  domain: pbx.example.com', 'users:', '  - extension: "1001"', `    password: "${STRONG}"`, '  - extension: "1002"', `    password: "${STRONG}"`, '    transports: [udp, tls]', '  - extension: "1003"', `    password: "${STRONG}"`, '    srtp: off'),
    );

    expect(config.users.map((u) => u.srtp)).toEqual(['required', 'optional', 'off']);
  });

  it('reports an inverted port range and a session interval below Min-SE with their lines', () => {
    const result = parseConfig(yaml('server:', '  domain: pbx.example.com', 'media:', '  port_min: 20000', '  port_max: 20001', 'calls:', '  session_expires: 100', '  min_se: 200'), 'voix.yaml');

    expect(result.ok).toBe(false);
    const messages = result.ok ? [] : result.errors.map((e) => `${e.line} ${e.path}`);
    expect(messages).toEqual(['5 media.port_max', '7 calls.session_expires']);
  });
});
