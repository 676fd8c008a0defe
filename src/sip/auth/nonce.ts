/**
 * Server nonces for SIP Digest (RFC 7616 §3.3, §5.4, §5.5). A nonce carries
 * its own issue time and a MAC, so voix keeps no state per challenge sent —
 * an attacker sending unauthenticated requests cannot fill memory. State is
 * kept only for nonces that authenticated a request: the highest nc accepted,
 * which is what refuses a replayed Authorization header (RFC 7616 §5.5).
 */
import { hash as oneShotHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../util/clock.js';
import { fillRandom } from '../../util/random-pool.js';

export type NonceCheck = 'valid' | 'stale' | 'invalid' | 'replayed';

export interface NonceManagerOptions {
  readonly clock: Clock;
  /** HMAC key; random per process by default (nonces then die with the process). */
  readonly secret?: Buffer;
  /** How long a nonce may be used, in seconds (default 300). */
  readonly lifetimeSeconds?: number;
  /** Most nonces whose nc is tracked at once (default 200 000). */
  readonly maxTracked?: number;
}

const TIME_BYTES = 8;
const RANDOM_BYTES = 8;
const MAC_BYTES = 16;
const NONCE_BYTES = TIME_BYTES + RANDOM_BYTES + MAC_BYTES;
/** base64url of 32 bytes, without padding. */
const NONCE_LENGTH = Math.ceil((NONCE_BYTES * 4) / 3);
const BASE64URL = /^[A-Za-z0-9_-]+$/;

const SHA256_BLOCK_BYTES = 64;
const SHA256_BYTES = 32;

/**
 * HMAC-SHA256 (RFC 2104) of messages of `messageLength` bytes, truncated to
 * `macLength` bytes, as two one-shot hashes over key pads prepared once:
 * the value createHmac gives, without building an Hmac object (and its
 * key) twice per REGISTER. The buffer returned is valid until the next call.
 */
export function hmacSha256(key: Buffer, messageLength: number, macLength: number = SHA256_BYTES): (data: Buffer) => Buffer {
  const block = Buffer.alloc(SHA256_BLOCK_BYTES);
  (key.length > SHA256_BLOCK_BYTES ? oneShotHash('sha256', key, 'buffer') : key).copy(block);
  const inner = Buffer.alloc(SHA256_BLOCK_BYTES + messageLength);
  const outer = Buffer.alloc(SHA256_BLOCK_BYTES + SHA256_BYTES);
  for (let i = 0; i < SHA256_BLOCK_BYTES; i++) {
    inner[i] = (block[i] as number) ^ 0x36;
    outer[i] = (block[i] as number) ^ 0x5c;
  }
  return (data) => {
    if (data.length !== messageLength) throw new RangeError(`this MAC covers messages of ${messageLength} bytes, not ${data.length}`);
    data.copy(inner, SHA256_BLOCK_BYTES);
    oneShotHash('sha256', inner, 'buffer').copy(outer, SHA256_BLOCK_BYTES);
    return oneShotHash('sha256', outer, 'buffer').subarray(0, macLength);
  };
}

interface Tracked {
  highestNc: number;
  readonly issuedAt: number;
}

export class NonceManager {
  private readonly clock: Clock;
  private readonly mac: (data: Buffer) => Buffer;
  private readonly lifetimeMs: number;
  private readonly maxTracked: number;
  /** Insertion order is first-use order, close to issue order: the front expires first. */
  private readonly tracked = new Map<string, Tracked>();
  /** Nonces issued at or before this time may have been evicted: their nc history is lost. */
  private evictedUpTo = -Infinity;

  constructor(options: NonceManagerOptions) {
    this.clock = options.clock;
    this.mac = hmacSha256(options.secret ?? randomBytes(32), TIME_BYTES + RANDOM_BYTES, MAC_BYTES);
    this.lifetimeMs = (options.lifetimeSeconds ?? 300) * 1000;
    this.maxTracked = options.maxTracked ?? 200_000;
  }

  /** How many nonces have their nc tracked now. */
  get trackedCount(): number {
    return this.tracked.size;
  }

  /** A fresh nonce: base64url(issue time ms, 8 random bytes, HMAC-SHA256 truncated to 16 bytes). */
  issue(): string {
    const nonce = Buffer.alloc(NONCE_BYTES);
    nonce.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(this.clock.now()))), 0);
    fillRandom(nonce, TIME_BYTES, RANDOM_BYTES);
    this.mac(nonce.subarray(0, TIME_BYTES + RANDOM_BYTES)).copy(nonce, TIME_BYTES + RANDOM_BYTES);
    return nonce.toString('base64url');
  }

  /**
   * Judges a nonce and nonce count from credentials whose response was already
   * verified. 'valid' records `nc`, so call this once per request.
   */
  check(nonce: string, nc: number): NonceCheck {
    const issuedAt = this.authenticate(nonce);
    if (issuedAt === null) return 'invalid';
    if (!Number.isInteger(nc) || nc < 1 || nc > 0xffffffff) return 'invalid';
    const now = this.clock.now();
    this.prune(now);
    // A nonce from the future means the clock stepped back; honour it no longer than its lifetime either way.
    if (now - issuedAt > this.lifetimeMs || issuedAt - now > this.lifetimeMs) return 'stale';

    const entry = this.tracked.get(nonce);
    if (entry === undefined) {
      // Its nc history may have been evicted: accepting it could accept a replay.
      if (issuedAt <= this.evictedUpTo) return 'stale';
      if (this.tracked.size >= this.maxTracked) this.evictOldest();
      this.tracked.set(nonce, { highestNc: nc, issuedAt });
      return 'valid';
    }
    // RFC 7616 §3.4: the nc must grow with each request on a nonce; an equal or lower one is a replay.
    if (nc <= entry.highestNc) return 'replayed';
    entry.highestNc = nc;
    return 'valid';
  }

  /** The issue time of an authentic nonce, or null for a malformed or forged one. */
  private authenticate(nonce: string): number | null {
    if (nonce.length !== NONCE_LENGTH || !BASE64URL.test(nonce)) return null;
    const bytes = Buffer.from(nonce, 'base64url');
    // Several spellings decode to the same bytes (the last character's spare
    // bits); only the one voix wrote is accepted, so each nonce has one nc history.
    if (bytes.length !== NONCE_BYTES || bytes.toString('base64url') !== nonce) return null;
    const expected = this.mac(bytes.subarray(0, TIME_BYTES + RANDOM_BYTES));
    if (!timingSafeEqual(expected, bytes.subarray(TIME_BYTES + RANDOM_BYTES))) return null;
    return Number(bytes.readBigUInt64BE(0));
  }

  /** Drops expired entries from the front; an expired nonce is stale by its own time, so nothing is lost. */
  private prune(now: number): void {
    for (const [nonce, entry] of this.tracked) {
      if (now - entry.issuedAt <= this.lifetimeMs) break;
      this.tracked.delete(nonce);
    }
  }

  private evictOldest(): void {
    for (const [nonce, entry] of this.tracked) {
      this.tracked.delete(nonce);
      if (entry.issuedAt > this.evictedUpTo) this.evictedUpTo = entry.issuedAt;
      return;
    }
  }
}
