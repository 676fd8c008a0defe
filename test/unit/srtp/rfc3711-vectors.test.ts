/**
 * Known-answer tests: RFC 3711 Appendix B.2 (AES-CM keystream) and B.3
 * (key derivation), values as printed in the RFC; RFC 2202 §3 for the
 * HMAC-SHA1 the authentication transform uses (RFC 3711 §4.2.1).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AesCounterMode } from '../../../src/srtp/aes-counter-mode.js';
import { HmacSha1 } from '../../../src/srtp/hmac-sha1.js';
import { KeyDerivationLabel, deriveSessionKey } from '../../../src/srtp/key-derivation.js';
import { AesCmKeystream, KeystreamBatch } from '../../../src/srtp/keystream-batch.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

describe('RFC 3711 B.2: AES-CM test vectors', () => {
  const sessionKey = hex('2B7E151628AED2A6ABF7158809CF4F3C');
  // "Session Salt: F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000 (already shifted)", ROC, SEQ and SSRC all zero.
  const sessionSalt = hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD');
  const SEGMENT_BYTES = 1044512; // 65282 AES blocks
  const FIRST = 'E03EAD0935C95E80E166B16DD92B4EB4' + 'D23513162B02D0F72A43A2FE4A5F97AB' + '41E95B3BB0A2E8DD477901E4FCA894C0';
  const LAST = 'EC8CDF7398607CB0F2D21675EA9EA1E4' + '362B7C3C6773516318A077D7FC5073AE' + '6A2CC3787889374FBEB4C81B17BA6C44';

  it('gives the keystream of counters ...0000 to ...0002 and ...FEFF to ...FF01 (table AES)', () => {
    const segment = new Uint8Array(SEGMENT_BYTES);
    new AesCounterMode(sessionKey).xorKeystream(0xf0f1f2f3 | 0, 0xf4f5f6f7 | 0, 0xf8f9fafb | 0, 0xfcfd0000 | 0, segment, 0, SEGMENT_BYTES);
    expect(toHex(segment.subarray(0, 48))).toBe(FIRST);
    expect(toHex(segment.subarray(SEGMENT_BYTES - 48))).toBe(LAST);
  });

  it('gives the same keystream through the IV built from salt, SSRC 0 and index 0, batched or alone', () => {
    const keystream = new AesCmKeystream(sessionKey, sessionSalt);
    const batched = new Uint8Array(48);
    keystream.crypt(new KeystreamBatch(), 0, 0, batched, 0, 48);
    expect(toHex(batched)).toBe(FIRST);
    const alone = new Uint8Array(48);
    keystream.crypt(null, 0, 0, alone, 0, 48);
    expect(toHex(alone)).toBe(FIRST);
    const segment = new Uint8Array(SEGMENT_BYTES);
    keystream.crypt(new KeystreamBatch(), 0, 0, segment, 0, SEGMENT_BYTES);
    expect(toHex(segment.subarray(SEGMENT_BYTES - 48))).toBe(LAST);
  });

  it('is its own inverse: XORing the keystream twice gives the plaintext back', () => {
    const plain = Uint8Array.from(randomBytes(173));
    const data = plain.slice();
    const aes = new AesCounterMode(sessionKey);
    aes.xorKeystream(1, 2, 3, 0, data, 0, data.length);
    expect(data).not.toEqual(plain);
    aes.xorKeystream(1, 2, 3, 0, data, 0, data.length);
    expect(data).toEqual(plain);
  });
});

describe('RFC 3711 B.3: key derivation test vectors', () => {
  const masterKey = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
  const masterSalt = hex('0EC675AD498AFEEBB6960B3AABE6');

  it('derives the cipher key (label 0x00)', () => {
    expect(toHex(deriveSessionKey(masterKey, masterSalt, KeyDerivationLabel.rtpEncryption, 16))).toBe('C61E7A93744F39EE10734AFE3FF7A087');
  });

  it('derives the cipher salt (label 0x02)', () => {
    expect(toHex(deriveSessionKey(masterKey, masterSalt, KeyDerivationLabel.rtpSalt, 14))).toBe('30CBBC08863D8C85D49DB34A9AE1');
  });

  it('derives the 94-byte auth key (label 0x01), of which HMAC-SHA1 uses the first 20', () => {
    const authKey =
      'CEBE321F6FF7716B6FD4AB49AF256A15' +
      '6D38BAA48F0A0ACF3C34E2359E6CDBCE' +
      'E049646C43D9327AD175578EF7227098' +
      '6371C10C9A369AC2F94A8C5FBCDDDC25' +
      '6D6E919A48B610EF17C2041E47403576' +
      '6B68642C59BBFC2F34DB60DBDFB2';
    expect(toHex(deriveSessionKey(masterKey, masterSalt, KeyDerivationLabel.rtpAuthentication, 94))).toBe(authKey);
    expect(toHex(deriveSessionKey(masterKey, masterSalt, KeyDerivationLabel.rtpAuthentication, 20))).toBe(authKey.slice(0, 40));
  });
});

describe('HMAC-SHA1 with precomputed pad states', () => {
  function mac(key: Uint8Array, data: Uint8Array): string {
    const hmac = new HmacSha1(key);
    hmac.start();
    hmac.update(data, 0, data.length);
    hmac.finish();
    return Buffer.from(hmac.digest).toString('hex');
  }
  const text = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

  it('matches RFC 2202 §3 test cases 1, 2, 3, 6 and 7', () => {
    expect(mac(new Uint8Array(20).fill(0x0b), text('Hi There'))).toBe('b617318655057264e28bc0b6fb378c8ef146be00');
    expect(mac(text('Jefe'), text('what do ya want for nothing?'))).toBe('effcdf6ae5eb2fa2d27416d5f184df9c259a7c79');
    expect(mac(new Uint8Array(20).fill(0xaa), new Uint8Array(50).fill(0xdd))).toBe('125d7342b9ac11cd91a39af48aa17b4f63f175d3');
    expect(mac(new Uint8Array(80).fill(0xaa), text('Test Using Larger Than Block-Size Key - Hash Key First'))).toBe(
      'aa4ae5e15272d00e95705637ce8a3b55ed402112',
    );
    expect(mac(new Uint8Array(80).fill(0xaa), text('Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data'))).toBe(
      'e8e99d0f45237d786d6bbaa7965c7808bbff1a91',
    );
  });

  it('agrees with node:crypto for every length 0..300, fed in pieces, with a trailing 32-bit ROC', () => {
    const key = Uint8Array.from(randomBytes(20));
    const hmac = new HmacSha1(key);
    for (let length = 0; length <= 300; length++) {
      const data = Uint8Array.from(randomBytes(length));
      const roc = (length * 0x01020304) >>> 0;
      hmac.start();
      let position = 0;
      while (position < length) {
        const piece = Math.min(length - position, 1 + ((position * 7) % 70));
        hmac.update(data, position, piece);
        position += piece;
      }
      hmac.updateUint32(roc);
      hmac.finish();
      const rocBytes = Buffer.alloc(4);
      rocBytes.writeUInt32BE(roc);
      expect(Buffer.from(hmac.digest).toString('hex')).toBe(createHmac('sha1', key).update(data).update(rocBytes).digest('hex'));
    }
  });

  it('computes plain SHA-1 (FIPS 180-4) like node:crypto', () => {
    const hmac = new HmacSha1(new Uint8Array(20));
    for (const length of [0, 3, 55, 56, 63, 64, 65, 119, 120, 1000]) {
      const data = Uint8Array.from(randomBytes(length));
      hmac.plainHash(data);
      expect(Buffer.from(hmac.digest).toString('hex')).toBe(createHash('sha1').update(data).digest('hex'));
    }
  });
});
