/**
 * Runs a test file's SRTP cases on both implementations of the per-packet
 * crypto (srtp-transform-crypto.ts: native, TypeScript), which must give
 * the same bytes: `forEachSrtpCrypto(body)` wraps the cases, and
 * `newSession` makes sessions with the implementation of the block running.
 */
import { beforeAll, describe } from 'vitest';
import type { SrtpKeying } from '../../../src/rtp/media-protocol.js';
import { SrtpSession } from '../../../src/srtp/srtp-session.js';
import type { SrtpCryptoChoice } from '../../../src/srtp/srtp-transform-crypto.js';

const CRYPTO: readonly SrtpCryptoChoice[] = ['native', 'typescript'];
let crypto: SrtpCryptoChoice = 'native';

export function newSession(keying: SrtpKeying, options: { readonly maxSsrcs?: number } = {}): SrtpSession {
  return new SrtpSession(keying, { ...options, crypto });
}

export function forEachSrtpCrypto(body: () => void): void {
  describe.each(CRYPTO)('%s crypto', (choice) => {
    beforeAll(() => {
      crypto = choice;
    });
    body();
  });
}
