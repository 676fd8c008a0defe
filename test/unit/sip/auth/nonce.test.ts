import { describe, expect, it } from 'vitest';
import { NonceManager } from '../../../../src/sip/auth/nonce.js';
import { FakeClock } from '../../../../src/util/clock.js';

const SECRET = Buffer.alloc(32, 7);

function setup(options: { lifetimeSeconds?: number; maxTracked?: number } = {}): { clock: FakeClock; nonces: NonceManager } {
  const clock = new FakeClock();
  return { clock, nonces: new NonceManager({ clock, secret: SECRET, ...options }) };
}

/** Flips one bit of the decoded nonce at `byte` and re-encodes it. */
function tamper(nonce: string, byte: number): string {
  const bytes = Buffer.from(nonce, 'base64url');
  bytes[byte] = (bytes[byte] ?? 0) ^ 0x01;
  return bytes.toString('base64url');
}

describe('NonceManager.issue', () => {
  it('writes base64url of issue time, 8 random bytes and a 16-byte MAC', () => {
    const { clock, nonces } = setup();

    const nonce = nonces.issue();

    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const bytes = Buffer.from(nonce, 'base64url');
    expect(bytes.length).toBe(32);
    expect(Number(bytes.readBigUInt64BE(0))).toBe(clock.now());
  });

  it('never issues the same nonce twice', () => {
    const { nonces } = setup();

    const issued = new Set(Array.from({ length: 1000 }, () => nonces.issue()));

    expect(issued.size).toBe(1000);
  });
});

describe('NonceManager.check', () => {
  it('accepts a fresh nonce and growing nonce counts', () => {
    const { nonces } = setup();
    const nonce = nonces.issue();

    const results = [nonces.check(nonce, 1), nonces.check(nonce, 2), nonces.check(nonce, 5)];

    expect(results).toEqual(['valid', 'valid', 'valid']);
  });

  it('refuses a replayed nc (RFC 7616 §5.5)', () => {
    const { nonces } = setup();
    const nonce = nonces.issue();
    nonces.check(nonce, 1);
    nonces.check(nonce, 3);

    const same = nonces.check(nonce, 3);
    const lower = nonces.check(nonce, 2);
    const next = nonces.check(nonce, 4);

    expect([same, lower, next]).toEqual(['replayed', 'replayed', 'valid']);
  });

  it('does not let a refused check raise the recorded nc', () => {
    const { nonces } = setup();
    const nonce = nonces.issue();
    nonces.check(nonce, 2);

    nonces.check(nonce, 1);

    expect(nonces.check(nonce, 3)).toBe('valid');
  });

  it('refuses a forged nonce: a changed time, random part or MAC', () => {
    const { nonces } = setup();
    const nonce = nonces.issue();

    const forgedTime = nonces.check(tamper(nonce, 7), 1);
    const forgedRandom = nonces.check(tamper(nonce, 12), 1);
    const forgedMac = nonces.check(tamper(nonce, 31), 1);

    expect([forgedTime, forgedRandom, forgedMac]).toEqual(['invalid', 'invalid', 'invalid']);
  });

  it('refuses a nonce made with another secret', () => {
    const { clock, nonces } = setup();
    const other = new NonceManager({ clock, secret: Buffer.alloc(32, 8) });

    expect(nonces.check(other.issue(), 1)).toBe('invalid');
  });

  it.each([
    ['empty', ''],
    ['too short', 'AAAA'],
    ['not base64url', '+'.repeat(43)],
    ['padded', 'A'.repeat(43) + '='],
  ])('refuses a malformed nonce (%s)', (_label, nonce) => {
    const { nonces } = setup();

    expect(nonces.check(nonce, 1)).toBe('invalid');
  });

  it('refuses another spelling of the same bytes, which would start a second nc history', () => {
    const { nonces } = setup();
    const nonce = nonces.issue();
    nonces.check(nonce, 1);
    // 32 bytes leave 2 spare bits in the last character: flip one.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(nonce.slice(-1));
    const respelled = nonce.slice(0, -1) + alphabet[last ^ 1];

    expect(Buffer.from(respelled, 'base64url').equals(Buffer.from(nonce, 'base64url'))).toBe(true);
    expect(nonces.check(respelled, 1)).toBe('invalid');
  });

  it('refuses an nc out of range', () => {
    const { nonces } = setup();
    const nonce = nonces.issue();

    expect([nonces.check(nonce, 0), nonces.check(nonce, 1.5), nonces.check(nonce, 2 ** 32)]).toEqual(['invalid', 'invalid', 'invalid']);
  });

  it('calls a nonce stale once older than its lifetime, tracked or not', () => {
    const { clock, nonces } = setup({ lifetimeSeconds: 300 });
    const used = nonces.issue();
    const unused = nonces.issue();
    nonces.check(used, 1);

    clock.advance(300_000);
    const atLifetime = nonces.check(used, 2);
    clock.advance(1);
    const afterUsed = nonces.check(used, 3);
    const afterUnused = nonces.check(unused, 1);

    expect([atLifetime, afterUsed, afterUnused]).toEqual(['valid', 'stale', 'stale']);
  });

  it('calls an old forged nonce invalid, not stale', () => {
    const { clock, nonces } = setup({ lifetimeSeconds: 10 });
    const nonce = nonces.issue();

    clock.advance(60_000);

    expect(nonces.check(tamper(nonce, 20), 1)).toBe('invalid');
  });

  it('forgets expired nonces', () => {
    const { clock, nonces } = setup({ lifetimeSeconds: 10 });
    for (let i = 0; i < 50; i++) nonces.check(nonces.issue(), 1);

    clock.advance(11_000);
    nonces.check(nonces.issue(), 1);

    expect(nonces.trackedCount).toBe(1);
  });

  it('caps the nonces tracked and calls an evicted one stale', () => {
    const { clock, nonces } = setup({ maxTracked: 3 });
    const issued: string[] = [];
    for (let i = 0; i < 4; i++) {
      issued.push(nonces.issue());
      clock.advance(1000);
    }
    for (const n of issued) nonces.check(n, 1);

    const evicted = nonces.check(issued[0]!, 2);
    const kept = nonces.check(issued[3]!, 2);

    expect(nonces.trackedCount).toBe(3);
    expect([evicted, kept]).toEqual(['stale', 'valid']);
  });

  it('still accepts a nonce issued after the evicted ones', () => {
    const { clock, nonces } = setup({ maxTracked: 1 });
    nonces.check(nonces.issue(), 1);
    clock.advance(1);
    nonces.check(nonces.issue(), 1);
    clock.advance(1);

    expect(nonces.check(nonces.issue(), 1)).toBe('valid');
  });

  it('uses a random secret by default, so two managers do not trust each other', () => {
    const clock = new FakeClock();
    const a = new NonceManager({ clock });
    const b = new NonceManager({ clock });

    expect([a.check(a.issue(), 1), b.check(a.issue(), 1)]).toEqual(['valid', 'invalid']);
  });
});
