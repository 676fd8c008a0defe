import { describe, expect, it } from 'vitest';
import {
  buildAuthorization,
  computeDigestResponse,
  computeHa1,
  formatChallenge,
  formatChallenges,
  parseChallenge,
  parseCredentials,
  parseNonceCount,
  selectChallenge,
  verifyCredentials,
  DigestFormatError,
  type DigestChallenge,
  type DigestCredentials,
  type DigestHash,
  type VerifyOptions,
} from '../../../../src/sip/auth/digest.js';

// RFC 7616 §3.9.1 (password "Circle of Life" with a lower-case "of": errata 4495).
const RFC = {
  username: 'Mufasa',
  password: 'Circle of Life',
  realm: 'http-auth@example.org',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  uri: '/dir/index.html',
  method: 'GET',
  nc: '00000001',
  md5Response: '8ca523f5e9506fed4657c9700eebdbec',
  sha256Response: '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
} as const;

const RFC_SHA256_AUTHORIZATION =
  'Digest username="Mufasa",\r\n realm="http-auth@example.org",\r\n uri="/dir/index.html",\r\n algorithm=SHA-256,\r\n' +
  ' nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",\r\n nc=00000001,\r\n' +
  ' cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",\r\n qop=auth,\r\n' +
  ' response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",\r\n' +
  ' opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';

function digestChallenge(value: string): DigestChallenge {
  const c = parseChallenge(value);
  if (c === null || c.scheme !== 'Digest') throw new Error(`not a Digest challenge: ${value}`);
  return c;
}

function digestCredentials(value: string): DigestCredentials {
  const c = parseCredentials(value);
  if (c === null || c.scheme !== 'Digest') throw new Error(`not Digest credentials: ${value}`);
  return c;
}

function ha1Store(username: string, realm: string, password: string): VerifyOptions['lookupHa1'] {
  const stored: Record<DigestHash, string> = {
    MD5: computeHa1('MD5', username, realm, password),
    'SHA-256': computeHa1('SHA-256', username, realm, password),
  };
  return (user, hash) => (user === username ? stored[hash] : undefined);
}

describe('RFC 7616 §3.9.1 example', () => {
  it('computes the MD5 response', () => {
    const ha1 = computeHa1('MD5', RFC.username, RFC.realm, RFC.password);

    const response = computeDigestResponse({
      algorithm: 'MD5', ha1, nonce: RFC.nonce, method: RFC.method, uri: RFC.uri,
      qop: { nc: RFC.nc, cnonce: RFC.cnonce },
    });

    expect(response).toBe(RFC.md5Response);
  });

  it('computes the SHA-256 response', () => {
    const ha1 = computeHa1('SHA-256', RFC.username, RFC.realm, RFC.password);

    const response = computeDigestResponse({
      algorithm: 'SHA-256', ha1, nonce: RFC.nonce, method: RFC.method, uri: RFC.uri,
      qop: { nc: RFC.nc, cnonce: RFC.cnonce },
    });

    expect(response).toBe(RFC.sha256Response);
  });

  it('verifies the RFC Authorization header, folded as printed', () => {
    const credentials = digestCredentials(RFC_SHA256_AUTHORIZATION);

    const result = verifyCredentials(credentials, {
      method: 'GET', realm: RFC.realm, offered: ['SHA-256', 'MD5'], opaque: RFC.opaque,
      lookupHa1: ha1Store(RFC.username, RFC.realm, RFC.password),
    });

    expect(result).toEqual({ ok: true, username: 'Mufasa', algorithm: 'SHA-256', nonce: RFC.nonce, nc: 1 });
  });

  it('builds the RFC answers from the RFC challenges, SHA-256 first', () => {
    const challenges = [
      `Digest realm="${RFC.realm}", qop="auth, auth-int", algorithm=SHA-256, nonce="${RFC.nonce}", opaque="${RFC.opaque}"`,
      `Digest realm="${RFC.realm}", qop="auth, auth-int", algorithm=MD5, nonce="${RFC.nonce}", opaque="${RFC.opaque}"`,
    ].map(digestChallenge);
    const common = { username: RFC.username, secret: { password: RFC.password }, method: 'GET', uri: RFC.uri, cnonce: RFC.cnonce, nc: 1 };

    const chosen = selectChallenge(challenges);
    const sha = chosen === undefined ? null : buildAuthorization({ ...common, challenge: chosen });
    const md5 = buildAuthorization({ ...common, challenge: challenges[1]! });

    expect(chosen?.algorithm).toBe('SHA-256');
    expect(digestCredentials(sha ?? '').response).toBe(RFC.sha256Response);
    expect(digestCredentials(md5 ?? '').response).toBe(RFC.md5Response);
    expect(sha).toContain(`opaque="${RFC.opaque}"`);
    expect(sha).toContain('qop=auth, nc=00000001');
  });
});

describe('SIP REGISTER round trip (RFC 3261 §22.4, RFC 8760)', () => {
  const realm = 'voix.example.net';
  const nonce = 'AAABjRPf9wDnL1p2QxJ3k0aX8xqU2Vb5r9yCmHc-_wE';
  const server: Omit<VerifyOptions, 'lookupHa1'> = { method: 'REGISTER', realm, offered: ['SHA-256', 'MD5'] };
  const ha1s = { MD5: computeHa1('MD5', '1001', realm, 's3cret!'), 'SHA-256': computeHa1('SHA-256', '1001', realm, 's3cret!') };
  const lookupHa1: VerifyOptions['lookupHa1'] = (user, hash) => (user === '1001' ? ha1s[hash] : undefined);

  function answer(password: string, algorithmIndex = 0): DigestCredentials {
    const [first, second] = formatChallenges({ realm, nonce, algorithms: ['SHA-256', 'MD5'] }).map(digestChallenge);
    const challenge = algorithmIndex === 0 ? first! : second!;
    const value = buildAuthorization({
      challenge, username: '1001', secret: { password }, method: 'REGISTER', uri: 'sip:voix.example.net', cnonce: 'a1b2c3d4', nc: 1,
    });
    if (value === null) throw new Error('could not answer');
    return digestCredentials(value);
  }

  it('accepts SHA-256 credentials built by the client side', () => {
    const credentials = answer('s3cret!');

    const result = verifyCredentials(credentials, { ...server, lookupHa1 });

    expect(result).toEqual({ ok: true, username: '1001', algorithm: 'SHA-256', nonce, nc: 1 });
  });

  it('accepts MD5 credentials when MD5 was offered too', () => {
    const credentials = answer('s3cret!', 1);

    const result = verifyCredentials(credentials, { ...server, lookupHa1 });

    expect(result).toMatchObject({ ok: true, algorithm: 'MD5' });
  });

  it('refuses a wrong password', () => {
    const credentials = answer('s3cret?');

    const result = verifyCredentials(credentials, { ...server, lookupHa1 });

    expect(result).toEqual({ ok: false, reason: 'wrong-response', username: '1001' });
  });

  it('refuses an unknown user with its own reason (the caller answers it like a wrong password)', () => {
    const credentials = answer('s3cret!');

    const result = verifyCredentials(credentials, { ...server, lookupHa1: () => undefined });

    expect(result).toEqual({ ok: false, reason: 'no-ha1', username: '1001' });
  });

  it('refuses credentials computed for another method', () => {
    const credentials = answer('s3cret!');

    const result = verifyCredentials(credentials, { ...server, method: 'INVITE', lookupHa1 });

    expect(result).toMatchObject({ ok: false, reason: 'wrong-response' });
  });

  it('refuses MD5 when only SHA-256 was offered', () => {
    const credentials = answer('s3cret!', 1);

    const result = verifyCredentials(credentials, { ...server, offered: ['SHA-256'], lookupHa1 });

    expect(result).toMatchObject({ ok: false, reason: 'algorithm-not-offered', field: 'algorithm' });
  });

  it('treats a missing algorithm as MD5 (RFC 7616 §3.4)', () => {
    const challenge = digestChallenge(`Digest realm="${realm}", nonce="${nonce}", qop="auth"`);
    const value = buildAuthorization({
      challenge, username: '1001', secret: { ha1: ha1s }, method: 'REGISTER', uri: 'sip:voix.example.net', cnonce: 'x', nc: 7,
    });
    const credentials = digestCredentials(value ?? '');

    const md5 = verifyCredentials(credentials, { ...server, offered: ['MD5'], lookupHa1 });
    const shaOnly = verifyCredentials(credentials, { ...server, offered: ['SHA-256'], lookupHa1 });

    expect(credentials.algorithm).toBeUndefined();
    expect(md5).toMatchObject({ ok: true, algorithm: 'MD5', nc: 7 });
    expect(shaOnly).toMatchObject({ ok: false, reason: 'algorithm-not-offered' });
  });

  it('answers and verifies SHA-256-sess from stored HA1s', () => {
    const challenge = digestChallenge(`Digest realm="${realm}", nonce="${nonce}", algorithm=SHA-256-sess, qop="auth"`);
    const value = buildAuthorization({
      challenge, username: '1001', secret: { ha1: ha1s }, method: 'REGISTER', uri: 'sip:voix.example.net', cnonce: 'c', nc: 2,
    });

    const result = verifyCredentials(digestCredentials(value ?? ''), { ...server, offered: ['SHA-256-sess'], lookupHa1 });

    expect(result).toMatchObject({ ok: true, algorithm: 'SHA-256-sess', nc: 2 });
  });

  it('refuses a realm other than its own, and an opaque that does not match', () => {
    const credentials = answer('s3cret!');

    const otherRealm = verifyCredentials(credentials, { ...server, realm: 'other.example.net', lookupHa1 });
    const otherOpaque = verifyCredentials(credentials, { ...server, opaque: 'abc', lookupHa1 });

    expect(otherRealm).toMatchObject({ ok: false, reason: 'realm-mismatch' });
    expect(otherOpaque).toMatchObject({ ok: false, reason: 'opaque-mismatch' });
  });
});

describe('verifyCredentials checks what it needs', () => {
  const options: VerifyOptions = {
    method: 'GET', realm: RFC.realm, offered: ['SHA-256', 'MD5'],
    lookupHa1: ha1Store(RFC.username, RFC.realm, RFC.password),
  };
  const full: Record<string, string> = {
    username: '"Mufasa"', realm: `"${RFC.realm}"`, nonce: `"${RFC.nonce}"`, uri: `"${RFC.uri}"`,
    response: `"${RFC.sha256Response}"`, algorithm: 'SHA-256', qop: 'auth', nc: RFC.nc, cnonce: `"${RFC.cnonce}"`,
  };
  function without(name: string, replace?: string): DigestCredentials {
    const parts = Object.entries(full)
      .filter(([k]) => k !== name || replace !== undefined)
      .map(([k, v]) => `${k}=${k === name ? replace : v}`);
    return digestCredentials('Digest ' + parts.join(', '));
  }

  it('accepts the complete set', () => {
    expect(verifyCredentials(without('none'), options)).toMatchObject({ ok: true });
  });

  it.each(['username', 'realm', 'nonce', 'uri', 'response', 'nc', 'cnonce'])('refuses credentials without %s', (name) => {
    const result = verifyCredentials(without(name), options);

    expect(result).toMatchObject({ ok: false, reason: 'malformed', field: name });
  });

  it('refuses a missing qop and auth-int', () => {
    expect(verifyCredentials(without('qop'), options)).toMatchObject({ ok: false, reason: 'unsupported-qop' });
    expect(verifyCredentials(without('qop', 'auth-int'), options)).toMatchObject({ ok: false, reason: 'unsupported-qop' });
  });

  it.each([
    ['nc', '1'],
    ['nc', '0000000g'],
    ['nc', '00000000'],
    ['nc', '000000001'],
    ['response', '"abc"'],
    ['response', `"${RFC.md5Response}"`],
  ])('refuses an ill-formed %s (%s)', (name, value) => {
    expect(verifyCredentials(without(name, value), options)).toMatchObject({ ok: false, reason: 'malformed', field: name });
  });

  it('refuses an unknown algorithm and userhash', () => {
    expect(verifyCredentials(without('algorithm', 'SHA-512-256'), options)).toMatchObject({ reason: 'algorithm-not-offered' });
    const withUserhash = digestCredentials(RFC_SHA256_AUTHORIZATION + ', userhash=true');
    expect(verifyCredentials(withUserhash, options)).toMatchObject({ reason: 'algorithm-not-offered', field: 'userhash' });
  });

  it('accepts an upper-case response and qop', () => {
    const result = verifyCredentials(without('response', `"${RFC.sha256Response.toUpperCase()}"`), options);

    expect(result).toMatchObject({ ok: true });
    expect(verifyCredentials(without('qop', 'AUTH'), options)).toMatchObject({ ok: true });
  });

  it('never returns the password or the HA1 in a failure', () => {
    const ha1 = computeHa1('SHA-256', RFC.username, RFC.realm, RFC.password);

    const result = verifyCredentials(without('response', `"${'0'.repeat(64)}"`), options);

    expect(JSON.stringify(result)).not.toContain(ha1);
    expect(JSON.stringify(result)).not.toContain(RFC.password);
  });
});

describe('parseCredentials and parseChallenge', () => {
  it('reads odd white space, tabs, folding and quoted escapes', () => {
    const value = 'dIgEsT\t USERNAME = "Mu\\"fa\\\\sa" ,realm="r"\r\n\t,  nonce=abc ,, uri = "sip:a@b;x=\\"y\\""  ,RESPONSE="00"  ';

    const c = digestCredentials(value);

    expect(c.username).toBe('Mu"fa\\sa');
    expect(c.realm).toBe('r');
    expect(c.nonce).toBe('abc');
    expect(c.uri).toBe('sip:a@b;x="y"');
    expect(c.response).toBe('00');
  });

  it('keeps commas inside quoted strings', () => {
    const c = digestChallenge('Digest realm="a, b", nonce="n,1", qop="auth,auth-int"');

    expect(c.realm).toBe('a, b');
    expect(c.nonce).toBe('n,1');
    expect(c.qop).toEqual(['auth', 'auth-int']);
  });

  it('reports an unknown scheme as not Digest (RFC 4475 §3.3.7)', () => {
    expect(parseCredentials('NoOneKnowsThisScheme opaque-data=here')).toEqual({ scheme: 'other', name: 'NoOneKnowsThisScheme' });
    expect(parseChallenge('Basic realm="x"')).toEqual({ scheme: 'other', name: 'Basic' });
    expect(parseCredentials('Basic dXNlcjpwYXNz')).toEqual({ scheme: 'other', name: 'Basic' });
  });

  it.each([
    ['empty', ''],
    ['scheme only', 'Digest'],
    ['no space after the scheme', 'Digest,username="a"'],
    ['a value missing', 'Digest username='],
    ['no equals sign', 'Digest username "a"'],
    ['an unterminated quote', 'Digest username="a, realm="b'],
    ['two params without a comma', 'Digest username="a" realm="b"'],
    ['a duplicated param', 'Digest username="a", USERNAME="b"'],
    ['a non-token value', 'Digest nonce=abc/def'],
    ['a trailing garbage', 'Digest username="a" x'],
  ])('refuses %s', (_label, value) => {
    expect(parseCredentials(value)).toBeNull();
  });

  it('reads stale and algorithm case-insensitively, and defaults to MD5', () => {
    const stale = digestChallenge('Digest realm="r", nonce="n", algorithm=sha-256, stale=true');
    const plain = digestChallenge('Digest realm="r", nonce="n"');

    expect(stale).toMatchObject({ algorithm: 'SHA-256', stale: true, qop: [] });
    expect(plain).toMatchObject({ algorithm: 'MD5', algorithmText: undefined, stale: false });
    expect(digestChallenge('Digest realm="r", nonce="n", algorithm=SHA-512-256').algorithm).toBeNull();
  });

  it('refuses a Digest challenge without realm or nonce', () => {
    expect(parseChallenge('Digest realm="r"')).toBeNull();
    expect(parseChallenge('Digest nonce="n"')).toBeNull();
  });

  it('reads nonce counts', () => {
    expect(parseNonceCount('0000000a')).toBe(10);
    expect(parseNonceCount('FFFFFFFF')).toBe(0xffffffff);
    expect(parseNonceCount('00000000')).toBeNull();
    expect(parseNonceCount('+0000001')).toBeNull();
  });
});

describe('formatChallenge', () => {
  it('writes one value per algorithm, most preferred first (RFC 8760 §2.4)', () => {
    const values = formatChallenges({ realm: 'voix', nonce: 'n1', opaque: 'o"1', stale: true, algorithms: ['SHA-256', 'MD5'] });

    expect(values).toEqual([
      'Digest realm="voix", nonce="n1", opaque="o\\"1", algorithm=SHA-256, qop="auth", stale=TRUE',
      'Digest realm="voix", nonce="n1", opaque="o\\"1", algorithm=MD5, qop="auth", stale=TRUE',
    ]);
  });

  it('omits opaque and stale when not given, and parses back', () => {
    const value = formatChallenge({ realm: 'voix', nonce: 'n1', algorithm: 'MD5' });

    expect(value).toBe('Digest realm="voix", nonce="n1", algorithm=MD5, qop="auth"');
    expect(digestChallenge(value)).toMatchObject({ realm: 'voix', nonce: 'n1', algorithm: 'MD5', qop: ['auth'], stale: false });
  });

  it('refuses a control character that would break the header, without echoing the value', () => {
    expect(() => formatChallenge({ realm: 'a\r\nVia: x', nonce: 'n', algorithm: 'MD5' })).toThrow(DigestFormatError);
    expect(() => formatChallenge({ realm: 'a\r\nVia: x', nonce: 'n', algorithm: 'MD5' })).toThrow(/realm/);
  });
});

describe('buildAuthorization', () => {
  const base = { username: 'u', secret: { password: 'p' }, method: 'REGISTER', uri: 'sip:t.example', cnonce: 'c', nc: 1 };

  it('answers an RFC 2069 challenge without qop, nc, cnonce or algorithm', () => {
    const challenge = digestChallenge('Digest realm="r", nonce="n"');

    const value = buildAuthorization({ ...base, challenge }) ?? '';

    expect(value).not.toMatch(/qop=|cnonce=|\bnc=|algorithm=/);
    const ha1 = computeHa1('MD5', 'u', 'r', 'p');
    expect(digestCredentials(value).response).toBe(computeDigestResponse({ algorithm: 'MD5', ha1, nonce: 'n', method: 'REGISTER', uri: 'sip:t.example' }));
  });

  it('refuses what it cannot answer', () => {
    expect(buildAuthorization({ ...base, challenge: digestChallenge('Digest realm="r", nonce="n", qop="auth-int"') })).toBeNull();
    expect(buildAuthorization({ ...base, challenge: digestChallenge('Digest realm="r", nonce="n", algorithm=SHA-512-256') })).toBeNull();
    expect(buildAuthorization({ ...base, secret: { ha1: {} }, challenge: digestChallenge('Digest realm="r", nonce="n"') })).toBeNull();
    expect(buildAuthorization({ ...base, nc: 0, challenge: digestChallenge('Digest realm="r", nonce="n"') })).toBeNull();
  });

  it('selects nothing when no challenge can be answered', () => {
    const challenges = [parseChallenge('Basic realm="x"'), parseChallenge('Digest realm="r", nonce="n", algorithm=SHA-512-256')];

    expect(selectChallenge(challenges.filter((c) => c !== null))).toBeUndefined();
  });
});
