/**
 * Where the AES-CM keystream of SRTP packets comes from (RFC 3711 §4.1.1).
 *
 * Measured (bench/srtp.ts, docs/adr/0004): AES with AES-NI through
 * node:crypto is ten times faster per block than AES in TypeScript, but a
 * call into node:crypto costs more than the whole TypeScript keystream of a
 * 160-byte payload, and returns a freshly allocated Buffer. So one reused
 * AES-128-ECB context encrypts, in one call, the counter blocks of the next
 * BATCH_PACKETS packet indices of an SSRC, guessed in advance: an RTP
 * stream's indices go up by one per packet, and the ones skipped by loss
 * are simply not used. One call and one allocation serve BATCH_PACKETS
 * packets.
 *
 * A packet outside the batch is served another way: a late one (index
 * below the batch) by the TypeScript AES, without disturbing the batch; one
 * past the batch, or longer than the batch's packets, starts a new batch
 * if it follows the previous packet closely (a flowing stream), else it is
 * a jump and gets the TypeScript AES, so a stream whose every packet jumps
 * cannot make each packet pay for a whole batch; one too long to batch
 * gets the TypeScript AES. The keystream depends only on
 * (key, SSRC, index, block), so every way gives the same bytes.
 */
import { createCipheriv, type Cipher } from 'node:crypto';
import { AES_BLOCK_BYTES, AesCounterMode } from './aes-counter-mode.js';

/** Packet indices per batch: 16 and 64 measured no better with bench/srtp.ts (docs/adr/0004). */
export const BATCH_PACKETS = 32;
/** Ten blocks hold the 160 bytes of 20 ms of G.711. */
const MIN_BLOCKS_PER_PACKET = 10;
/** A packet at most this far past the previous one continues the stream (up to 15 lost in a row). */
const MAX_FOLLOWING_GAP = 16;
/** Payloads over 1 KiB (video, not our traffic) are not batched: a batch would be 32 KiB. */
const MAX_BLOCKS_PER_PACKET = 64;

/**
 * Counter blocks are written here before the ECB call: one module-level
 * scratch, since a worker thread runs one transform at a time.
 */
const counterBlocks = Buffer.alloc(BATCH_PACKETS * MAX_BLOCKS_PER_PACKET * AES_BLOCK_BYTES);
const counterView = new DataView(counterBlocks.buffer, counterBlocks.byteOffset, counterBlocks.byteLength);
const EMPTY = new Uint8Array(0);

/** The precomputed keystream of one SSRC for one transform (SRTP or SRTCP). */
export class KeystreamBatch {
  /** Index of the first packet of the batch; -1 when there is none. */
  baseIndex = -1;
  blocksPerPacket = 0;
  keystream: Uint8Array = EMPTY;
  /** Highest packet index served so far; -1 before the first. */
  highestIndex = -1;
}

/** AES-CM keystream for one session encryption key (k_e) and salt (k_s). */
export class AesCmKeystream {
  private readonly ecb: Cipher;
  private readonly tableAes: AesCounterMode;
  /** k_s as the IV's four big-endian words, its low 16 bits zero (§4.1.1: k_s * 2^16). */
  private readonly salt0: number;
  private readonly salt1: number;
  private readonly salt2: number;
  private readonly salt3: number;

  constructor(sessionEncryptionKey: Uint8Array, sessionSalt: Uint8Array) {
    this.ecb = createCipheriv('aes-128-ecb', sessionEncryptionKey, null);
    this.ecb.setAutoPadding(false);
    this.tableAes = new AesCounterMode(sessionEncryptionKey);
    const s = sessionSalt;
    this.salt0 = (s[0]! << 24) | (s[1]! << 16) | (s[2]! << 8) | s[3]!;
    this.salt1 = (s[4]! << 24) | (s[5]! << 16) | (s[6]! << 8) | s[7]!;
    this.salt2 = (s[8]! << 24) | (s[9]! << 16) | (s[10]! << 8) | s[11]!;
    this.salt3 = (s[12]! << 24) | (s[13]! << 16);
  }

  /**
   * XORs the keystream of packet `index` of `ssrc` into buf[start, end),
   * from `batch` when it has it (or can be refilled to have it), else
   * computed for this packet alone. `batch` null: always alone (SRTCP, a
   * packet every few seconds).
   */
  crypt(batch: KeystreamBatch | null, ssrc: number, index: number, buf: Uint8Array, start: number, end: number): void {
    if (end <= start) return;
    const blocks = Math.ceil((end - start) / AES_BLOCK_BYTES);
    if (batch !== null && blocks <= MAX_BLOCKS_PER_PACKET && index >= batch.baseIndex) {
      let slot = index - batch.baseIndex;
      const hit = batch.baseIndex >= 0 && slot < BATCH_PACKETS && blocks <= batch.blocksPerPacket;
      if (!hit) {
        const follows = batch.baseIndex < 0 || index - batch.highestIndex <= MAX_FOLLOWING_GAP;
        if (follows) {
          this.refill(batch, ssrc, index, Math.max(blocks, MIN_BLOCKS_PER_PACKET));
          slot = 0;
        } else {
          slot = -1;
        }
      }
      if (index > batch.highestIndex) batch.highestIndex = index;
      if (slot >= 0) {
        const keystream = batch.keystream;
        for (let i = start, k = slot * batch.blocksPerPacket * AES_BLOCK_BYTES; i < end; i++, k++) {
          buf[i] = buf[i]! ^ keystream[k]!;
        }
        return;
      }
    }
    // §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16); the 48-bit
    // index fills IV bytes 8..13, its upper 32 bits then its lower 16.
    const upper = Math.floor(index / 0x10000);
    const lower = index - upper * 0x10000;
    this.tableAes.xorKeystream(this.salt0, this.salt1 ^ ssrc, this.salt2 ^ upper, this.salt3 ^ (lower << 16), buf, start, end);
  }

  /** Counter blocks IV(index + p) + j for every packet p and block j of the batch, encrypted in one call. */
  private refill(batch: KeystreamBatch, ssrc: number, index: number, blocksPerPacket: number): void {
    const iv0 = this.salt0;
    const iv1 = this.salt1 ^ ssrc;
    let offset = 0;
    for (let p = 0; p < BATCH_PACKETS; p++) {
      const packetIndex = index + p;
      const upper = Math.floor(packetIndex / 0x10000);
      const lower = packetIndex - upper * 0x10000;
      const iv2 = this.salt2 ^ upper;
      const iv3 = this.salt3 ^ (lower << 16);
      for (let j = 0; j < blocksPerPacket; j++) {
        counterView.setInt32(offset, iv0);
        counterView.setInt32(offset + 4, iv1);
        counterView.setInt32(offset + 8, iv2);
        counterView.setInt32(offset + 12, iv3 | j);
        offset += AES_BLOCK_BYTES;
      }
    }
    batch.keystream = this.ecb.update(counterBlocks.subarray(0, offset));
    batch.baseIndex = index;
    batch.blocksPerPacket = blocksPerPacket;
  }
}
