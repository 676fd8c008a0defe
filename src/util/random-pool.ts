/**
 * Random bytes for the many small identifiers SIP needs per message (tags,
 * branches, Call-IDs, nonces), taken from a block filled by the CSPRNG a few
 * KiB at a time. `crypto.randomBytes(8)` costs a native job per call (about
 * 3.5 µs here, bench/register-path.ts); a slice of the block costs a copy.
 * Every byte is handed out once; the block is refilled when used up.
 */
import { randomFillSync } from 'node:crypto';

const BLOCK_BYTES = 4096;

const block = Buffer.allocUnsafe(BLOCK_BYTES);
let used = BLOCK_BYTES;

function reserve(length: number): number {
  if (length > BLOCK_BYTES) throw new RangeError(`at most ${BLOCK_BYTES} random bytes at a time`);
  if (used + length > BLOCK_BYTES) {
    randomFillSync(block);
    used = 0;
  }
  const at = used;
  used += length;
  return at;
}

/** `length` fresh random bytes, base64url without padding. */
export function randomBase64Url(length: number): string {
  const at = reserve(length);
  return block.toString('base64url', at, at + length);
}

/** Writes `length` fresh random bytes into `target` at `offset`. */
export function fillRandom(target: Buffer, offset: number, length: number): void {
  const at = reserve(length);
  block.copy(target, offset, at, at + length);
}
