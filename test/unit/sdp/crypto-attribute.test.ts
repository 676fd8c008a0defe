import { describe, expect, it } from 'vitest';
import {
  SRTP_SUITES,
  chooseCrypto,
  decodeBase64Lenient,
  findSrtpSuite,
  formatCryptoAttribute,
  generateSrtpKeying,
  parseCryptoAttribute,
  usableKeying,
  type CryptoAttribute,
} from '../../../src/sdp/crypto-attribute.js';

/** 30 bytes 0x00..0x1d: a 16-byte key then a 14-byte salt. */
const KEY_SALT_30 = Buffer.from(Array.from({ length: 30 }, (_, i) => i));
const INLINE_30 = KEY_SALT_30.toString('base64');
/** 46 bytes for the AES_256 suites: base64 ends with "==". */
const INLINE_46 = Buffer.alloc(46, 7).toString('base64');

function parsed(value: string): CryptoAttribute {
  const r = parseCryptoAttribute(value);
  if (!r.ok) throw new Error(`expected ${value} to parse: ${r.reason}`);
  return r.attribute;
}

function refusal(value: string): string {
  const r = parseCryptoAttribute(value);
  if (r.ok) throw new Error(`expected ${value} to be refused`);
  return r.reason;
}

function unusable(value: string): string {
  const r = usableKeying(parsed(value));
  if (r.ok) throw new Error(`expected ${value} to be unusable`);
  return r.reason;
}

describe('the suite table', () => {
  it('knows key, salt and tag lengths, and which suites voix implements', () => {
    expect(findSrtpSuite('AES_CM_128_HMAC_SHA1_80')).toEqual({ name: 'AES_CM_128_HMAC_SHA1_80', keyLength: 16, saltLength: 14, tagLength: 10, supported: true });
    expect(findSrtpSuite('AES_CM_128_HMAC_SHA1_32')).toMatchObject({ tagLength: 4, supported: true });
    expect(findSrtpSuite('aes_256_cm_hmac_sha1_80')).toMatchObject({ name: 'AES_256_CM_HMAC_SHA1_80', keyLength: 32, supported: false });
    expect(findSrtpSuite('AEAD_AES_128_GCM')).toMatchObject({ keyLength: 16, saltLength: 12, supported: false });
    expect(findSrtpSuite('NOT_A_SUITE')).toBeNull();
    expect(SRTP_SUITES.filter((s) => s.supported).map((s) => s.name)).toEqual(['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32']);
  });
});

describe('parseCryptoAttribute', () => {
  it('reads tag, suite and the key and salt (RFC 4568 §9.1)', () => {
    // Arrange / Act
    const a = parsed(`1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30}`);
    // Assert
    expect(a).toMatchObject({ tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', sessionParams: [] });
    expect(usableKeying(a)).toEqual({
      ok: true,
      keying: { suite: 'AES_CM_128_HMAC_SHA1_80', key: new Uint8Array(KEY_SALT_30.subarray(0, 16)), salt: new Uint8Array(KEY_SALT_30.subarray(16)) },
    });
  });

  it('allows tag 0 and nine-digit tags', () => {
    expect(parsed(`0 AES_CM_128_HMAC_SHA1_32 inline:${INLINE_30}`).tag).toBe(0);
    expect(parsed(`999999999 AES_CM_128_HMAC_SHA1_32 inline:${INLINE_30}`).tag).toBe(999999999);
  });

  it('reads the suite name in any case and gives it back in the canonical one', () => {
    expect(parsed(`1 aes_cm_128_hmac_sha1_80 inline:${INLINE_30}`).suite).toBe('AES_CM_128_HMAC_SHA1_80');
  });

  it('takes base64 with or without padding', () => {
    const padded = parsed(`3 AES_256_CM_HMAC_SHA1_80 inline:${INLINE_46}`);
    const unpadded = parsed(`3 AES_256_CM_HMAC_SHA1_80 inline:${INLINE_46.replace(/=+$/, '')}`);
    expect(INLINE_46.endsWith('==')).toBe(true);
    expect(unpadded).toEqual(padded);
    expect(decodeBase64Lenient('AAAA=')).toEqual(new Uint8Array([0, 0, 0]));
  });

  it('reads a lifetime as 2^n or decimal, and an MKI', () => {
    const power = parsed(`1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30}|2^31`).keyParams[0];
    expect(power).toMatchObject({ method: 'inline', lifetime: 2147483648n, mki: null });
    const decimal = parsed(`1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30}|1048576|1:4`).keyParams[0];
    expect(decimal).toMatchObject({ lifetime: 1048576n, mki: { value: 1n, length: 4 } });
    const mkiOnly = parsed(`1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30}|7:1`).keyParams[0];
    expect(mkiOnly).toMatchObject({ lifetime: null, mki: { value: 7n, length: 1 } });
  });

  it('reads several key-params and session parameters', () => {
    const a = parsed(`2 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30}|2^20|1:4;inline:${Buffer.alloc(30, 9).toString('base64')}|2^20|2:4 KDR=0 WSH=128`);
    expect(a.keyParams).toHaveLength(2);
    expect(a.sessionParams).toEqual(['KDR=0', 'WSH=128']);
  });

  it('keeps an unknown suite and an unknown key method without judging their keys', () => {
    const a = parsed('5 FUTURE_SUITE_9000 inline:AAAA');
    expect(a.suite).toBe('FUTURE_SUITE_9000');
    expect(parsed(`1 AES_CM_128_HMAC_SHA1_80 uri:https://keys.example/1`).keyParams).toEqual([{ method: 'uri', info: 'https://keys.example/1' }]);
  });

  it.each([
    ['bad base64', `1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30.slice(0, 36)}!!!!`, `key "${INLINE_30.slice(0, 36)}!!!!" is not base64`],
    ['base64 of an impossible length', '1 AES_CM_128_HMAC_SHA1_80 inline:AAAAA', 'key "AAAAA" is not base64'],
    ['too much padding', `1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30}===`, `key "${INLINE_30}===" is not base64`],
    ['an empty key', '1 AES_CM_128_HMAC_SHA1_80 inline:', 'key "" is not base64'],
    ['a key one byte short', `1 AES_CM_128_HMAC_SHA1_80 inline:${Buffer.alloc(29).toString('base64')}`, 'key and salt are 29 bytes, AES_CM_128_HMAC_SHA1_80 needs 30'],
    ['a 128-bit key under an AES_256 suite', `1 AES_256_CM_HMAC_SHA1_80 inline:${INLINE_30}`, 'key and salt are 30 bytes, AES_256_CM_HMAC_SHA1_80 needs 46'],
    ['a key without inline:', `1 AES_CM_128_HMAC_SHA1_80 ${INLINE_30}`, `key-param "${INLINE_30}" is not <method>:<info> (expected inline:<key||salt>)`],
    ['a letter tag', `x1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30}`, 'bad tag "x1"'],
    ['a negative tag', `-1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30}`, 'bad tag "-1"'],
    ['a ten-digit tag', `1234567890 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30}`, 'bad tag "1234567890"'],
    ['a missing key', '1 AES_CM_128_HMAC_SHA1_80', '"1 AES_CM_128_HMAC_SHA1_80" is not <tag> <suite> <key-params>'],
    ['garbage', 'hello', '"hello" is not <tag> <suite> <key-params>'],
    ['a bad suite token', `1 AES-CM-128 inline:${INLINE_30}`, 'bad crypto suite "AES-CM-128"'],
    ['a bad lifetime', `1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30}|2^x`, 'bad lifetime "2^x"'],
    ['a lifetime after the MKI', `1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30}|1:4|2^31`, 'bad lifetime "2^31"'],
    ['an MKI of length 0', `1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30}|1:0`, 'bad MKI "1:0"'],
    ['an MKI longer than 128', `1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30}|1:129`, 'bad MKI "1:129"'],
    ['too many parts', `1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30}|2^31|1:4|x`, `too many "|" parts in "inline:${INLINE_30}|2^31|1:4|x"`],
  ])('refuses %s', (_what, value, reason) => {
    expect(refusal(value)).toBe(reason);
  });
});

describe('usableKeying', () => {
  it.each([
    ['AES_256_CM', `3 AES_256_CM_HMAC_SHA1_80 inline:${INLINE_46}`, 'crypto suite AES_256_CM_HMAC_SHA1_80 is not supported'],
    ['F8', `3 F8_128_HMAC_SHA1_80 inline:${INLINE_30}`, 'crypto suite F8_128_HMAC_SHA1_80 is not supported'],
    ['AEAD_AES_128_GCM', `3 AEAD_AES_128_GCM inline:${Buffer.alloc(28).toString('base64')}`, 'crypto suite AEAD_AES_128_GCM is not supported'],
    ['an unknown suite', '3 FUTURE_SUITE_9000 inline:AAAA', 'unknown crypto suite FUTURE_SUITE_9000'],
    ['UNENCRYPTED_SRTP', `1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30} UNENCRYPTED_SRTP`, 'UNENCRYPTED_SRTP is refused: voix always encrypts and authenticates'],
    ['UNENCRYPTED_SRTCP', `1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30} UNENCRYPTED_SRTCP`, 'UNENCRYPTED_SRTCP is refused: voix always encrypts and authenticates'],
    ['UNAUTHENTICATED_SRTP', `1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30} UNAUTHENTICATED_SRTP`, 'UNAUTHENTICATED_SRTP is refused: voix always encrypts and authenticates'],
    ['KDR=1', `1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30} KDR=1`, 'key derivation rate KDR=1 is not supported'],
    ['FEC_KEY', `1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30} FEC_KEY=inline:${INLINE_30}`, 'FEC_KEY is not supported'],
    ['an unknown session parameter', `1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30} X_FANCY`, 'unknown session parameter "X_FANCY"'],
    ['an MKI', `1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30}|2^31|1:4`, 'MKI is not supported'],
    ['no inline key', '1 AES_CM_128_HMAC_SHA1_80 uri:https://keys.example/1', 'no inline key'],
  ])('refuses a line with %s', (_what, value, reason) => {
    expect(unusable(value)).toBe(reason);
  });

  it('uses a line with KDR=0, WSH or FEC_ORDER, and a lifetime', () => {
    expect(usableKeying(parsed(`1 AES_CM_128_HMAC_SHA1_32 inline:${INLINE_30}|2^31 KDR=0 WSH=64 FEC_ORDER=FEC_SRTP`)).ok).toBe(true);
  });

  it('takes the first inline key of several key-params', () => {
    const second = Buffer.alloc(30, 0xee).toString('base64');
    const r = usableKeying(parsed(`1 AES_CM_128_HMAC_SHA1_80 uri:https://keys.example/1;inline:${second};inline:${INLINE_30}`));
    expect(r.ok && r.keying.key).toEqual(new Uint8Array(16).fill(0xee));
  });
});

describe('chooseCrypto', () => {
  it('chooses by suite preference, not by tag or order', () => {
    const r = chooseCrypto([`1 AES_CM_128_HMAC_SHA1_32 inline:${INLINE_30}`, `7 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30}`]);
    expect(r.ok && r.chosen.tag).toBe(7);
    const flipped = chooseCrypto([`1 AES_CM_128_HMAC_SHA1_32 inline:${INLINE_30}`, `7 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30}`], ['AES_CM_128_HMAC_SHA1_32']);
    expect(flipped.ok && flipped.chosen.tag).toBe(1);
  });

  it('skips unusable and malformed lines and says why', () => {
    const r = chooseCrypto([`3 AES_256_CM_HMAC_SHA1_80 inline:${INLINE_46}`, '4 AES_CM_128_HMAC_SHA1_80 inline:%%%%', `0 AES_CM_128_HMAC_SHA1_32 inline:${INLINE_30}`]);
    expect(r.ok && r.chosen.tag).toBe(0);
    expect(r.skipped).toEqual([
      'a=crypto:3 AES_256_CM_HMAC_SHA1_80: crypto suite AES_256_CM_HMAC_SHA1_80 is not supported',
      'a=crypto:4 AES_CM_128_HMAC_SHA1_80: key "%%%%" is not base64',
    ]);
  });

  it('fails with every reason when nothing is usable, or with "no a=crypto line" when there is none', () => {
    const r = chooseCrypto([`1 AES_CM_128_HMAC_SHA1_80 inline:${INLINE_30} UNENCRYPTED_SRTP`]);
    expect(!r.ok && r.reason).toBe('no usable a=crypto line (a=crypto:1 AES_CM_128_HMAC_SHA1_80: UNENCRYPTED_SRTP is refused: voix always encrypts and authenticates)');
    expect(chooseCrypto([])).toMatchObject({ ok: false, reason: 'no a=crypto line' });
  });
});

describe('formatting and fresh keys', () => {
  it('formats <tag> <suite> inline:<base64 key||salt> and parses back to the same key', () => {
    // Arrange
    const keying = generateSrtpKeying('AES_CM_128_HMAC_SHA1_80', (n) => new Uint8Array(n).map((_, i) => 200 - i));
    // Act
    const value = formatCryptoAttribute(4, keying);
    // Assert
    expect(value).toMatch(/^4 AES_CM_128_HMAC_SHA1_80 inline:[A-Za-z0-9+/]{40}$/);
    const back = usableKeying(parsed(value));
    expect(back).toEqual({ ok: true, keying });
  });

  it('draws a fresh key each time from node:crypto by default', () => {
    const x = generateSrtpKeying('AES_CM_128_HMAC_SHA1_32');
    const y = generateSrtpKeying('AES_CM_128_HMAC_SHA1_32');
    expect(x.key).toHaveLength(16);
    expect(x.salt).toHaveLength(14);
    expect(Buffer.from(x.key).equals(Buffer.from(y.key))).toBe(false);
  });
});
