import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NonceManager, hmacSha256 } from '../../../../src/sip/auth/nonce.js';
import { FakeClock } from '../../../../src/util/clock.js';

function mac(key: Buffer, data: Buffer, length?: number): string {
  return hmacSha256(key, data.length, length)(data).toString('hex');
}

describe('hmacSha256', () => {
  it('gives the RFC 4231 HMAC-SHA-256 test vectors (short key, key of 20 bytes, key longer than a block)', () => {
    expect(mac(Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?'))).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    expect(mac(Buffer.alloc(20, 0xaa), Buffer.alloc(50, 0xdd))).toBe('773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe');
    expect(mac(Buffer.alloc(131, 0xaa), Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First'))).toBe(
      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    );
  });

  it('truncates to the length asked (RFC 4231 test case 5: 128 bits)', () => {
    expect(mac(Buffer.alloc(20, 0x0c), Buffer.from('Test With Truncation'), 16)).toBe('a3b6167473100ee06e0c796c2955552b');
  });

  it('refuses a message of another length than it was made for', () => {
    expect(() => hmacSha256(Buffer.alloc(32), 16)(Buffer.alloc(15))).toThrow(RangeError);
  });
});

describe('NonceManager MAC', () => {
  it('ends each nonce with HMAC-SHA256(secret, time and random bytes) truncated to 16 bytes', () => {
    const secret = Buffer.alloc(32, 7);
    const nonces = new NonceManager({ clock: new FakeClock(), secret });

    for (let i = 0; i < 20; i++) {
      const bytes = Buffer.from(nonces.issue(), 'base64url');
      const expected = createHmac('sha256', secret).update(bytes.subarray(0, 16)).digest().subarray(0, 16);
      expect(bytes.subarray(16).equals(expected)).toBe(true);
    }
  });
});
