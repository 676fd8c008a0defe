/**
 * AES-128 in Counter Mode as SRTP uses it (RFC 3711 §4.1.1): the keystream
 * block j is AES(k_e, IV + j), and the IV's low 16 bits are always zero
 * (§4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16)), so adding j
 * below 2^16 only fills those bits. A packet of 2^16 blocks (1 MiB) cannot
 * exist, so the counter never carries.
 *
 * The block cipher is FIPS-197 AES with the classic four 32-bit lookup
 * tables, in TypeScript, writing the keystream straight into the packet
 * and allocating nothing. keystream-batch.ts uses it where one packet's
 * keystream is wanted alone (late packets, SRTCP): for that it beats a
 * call into node:crypto, whose fixed cost per call is higher than these
 * ten blocks (bench/srtp.ts, docs/adr/0004). Key derivation uses it too.
 *
 * The lookups depend on key and data, so this is not constant-time against
 * a cache-timing attacker sharing the CPU; RFC 3711 does not ask for it and
 * libsrtp's own non-OpenSSL AES is built the same way.
 */

const SBOX = new Uint8Array(256);
const TE0 = new Int32Array(256);
const TE1 = new Int32Array(256);
const TE2 = new Int32Array(256);
const TE3 = new Int32Array(256);

function xtime(x: number): number {
  return ((x << 1) ^ (x & 0x80 ? 0x1b : 0)) & 0xff;
}

/** FIPS-197 §5.1.1: the S-box is the GF(2^8) inverse followed by the affine map. */
function buildTables(): void {
  let p = 1;
  let q = 1;
  do {
    // p walks the field's multiplicative group (times 3), q = p^-1 (divided by 3).
    p = p ^ xtime(p);
    q ^= q << 1;
    q ^= q << 2;
    q ^= q << 4;
    q &= 0xff;
    if (q & 0x80) q ^= 0x09;
    const affine = q ^ rotl8(q, 1) ^ rotl8(q, 2) ^ rotl8(q, 3) ^ rotl8(q, 4);
    SBOX[p] = (affine ^ 0x63) & 0xff;
  } while (p !== 1);
  SBOX[0] = 0x63;
  for (let x = 0; x < 256; x++) {
    const s = SBOX[x]!;
    const s2 = xtime(s);
    const s3 = s2 ^ s;
    // SubBytes + MixColumns for one byte: column (2s, s, s, 3s), big-endian.
    const t = (s2 << 24) | (s << 16) | (s << 8) | s3;
    TE0[x] = t;
    TE1[x] = (t >>> 8) | (t << 24);
    TE2[x] = (t >>> 16) | (t << 16);
    TE3[x] = (t >>> 24) | (t << 8);
  }
}

function rotl8(x: number, n: number): number {
  return ((x << n) | (x >>> (8 - n))) & 0xff;
}

buildTables();

export const AES_BLOCK_BYTES = 16;
const AES_128_KEY_BYTES = 16;
const ROUND_KEY_WORDS = 44;

export class AesCounterMode {
  private readonly roundKeys = new Int32Array(ROUND_KEY_WORDS);

  constructor(key: Uint8Array) {
    if (key.length !== AES_128_KEY_BYTES) {
      throw new RangeError(`AES-128 needs a 16-byte key, got ${key.length} bytes`);
    }
    this.expandKey(key);
  }

  /**
   * XORs the keystream for the counter block (iv0, iv1, iv2, iv3) into
   * `buf[start, end)`: encrypts and decrypts alike (RFC 3711 §4.1.1). The
   * IV is given as four big-endian words so nothing is allocated.
   */
  xorKeystream(iv0: number, iv1: number, iv2: number, iv3: number, buf: Uint8Array, start: number, end: number): void {
    const rk = this.roundKeys;
    const k0 = rk[0]!;
    const k1 = rk[1]!;
    const k2 = rk[2]!;
    const k3 = rk[3]!;
    let position = start;
    for (let j = 0; position < end; j++) {
      let s0 = iv0 ^ k0;
      let s1 = iv1 ^ k1;
      let s2 = iv2 ^ k2;
      let s3 = (iv3 | j) ^ k3;
      let r = 4;
      for (let round = 1; round < 10; round++) {
        const t0 = TE0[s0 >>> 24]! ^ TE1[(s1 >>> 16) & 0xff]! ^ TE2[(s2 >>> 8) & 0xff]! ^ TE3[s3 & 0xff]! ^ rk[r]!;
        const t1 = TE0[s1 >>> 24]! ^ TE1[(s2 >>> 16) & 0xff]! ^ TE2[(s3 >>> 8) & 0xff]! ^ TE3[s0 & 0xff]! ^ rk[r + 1]!;
        const t2 = TE0[s2 >>> 24]! ^ TE1[(s3 >>> 16) & 0xff]! ^ TE2[(s0 >>> 8) & 0xff]! ^ TE3[s1 & 0xff]! ^ rk[r + 2]!;
        const t3 = TE0[s3 >>> 24]! ^ TE1[(s0 >>> 16) & 0xff]! ^ TE2[(s1 >>> 8) & 0xff]! ^ TE3[s2 & 0xff]! ^ rk[r + 3]!;
        s0 = t0;
        s1 = t1;
        s2 = t2;
        s3 = t3;
        r += 4;
      }
      // Last round: SubBytes, ShiftRows, AddRoundKey (no MixColumns).
      const o0 = ((SBOX[s0 >>> 24]! << 24) | (SBOX[(s1 >>> 16) & 0xff]! << 16) | (SBOX[(s2 >>> 8) & 0xff]! << 8) | SBOX[s3 & 0xff]!) ^ rk[40]!;
      const o1 = ((SBOX[s1 >>> 24]! << 24) | (SBOX[(s2 >>> 16) & 0xff]! << 16) | (SBOX[(s3 >>> 8) & 0xff]! << 8) | SBOX[s0 & 0xff]!) ^ rk[41]!;
      const o2 = ((SBOX[s2 >>> 24]! << 24) | (SBOX[(s3 >>> 16) & 0xff]! << 16) | (SBOX[(s0 >>> 8) & 0xff]! << 8) | SBOX[s1 & 0xff]!) ^ rk[42]!;
      const o3 = ((SBOX[s3 >>> 24]! << 24) | (SBOX[(s0 >>> 16) & 0xff]! << 16) | (SBOX[(s1 >>> 8) & 0xff]! << 8) | SBOX[s2 & 0xff]!) ^ rk[43]!;
      if (end - position >= AES_BLOCK_BYTES) {
        xorWord(buf, position, o0);
        xorWord(buf, position + 4, o1);
        xorWord(buf, position + 8, o2);
        xorWord(buf, position + 12, o3);
        position += AES_BLOCK_BYTES;
      } else {
        // RFC 3711 §4.1.1: the trailing keystream bits past the payload are discarded.
        for (let b = 0; position < end; b++, position++) {
          const word = b < 4 ? o0 : b < 8 ? o1 : b < 12 ? o2 : o3;
          buf[position] = buf[position]! ^ (word >>> (24 - 8 * (b & 3)));
        }
      }
    }
  }

  /** FIPS-197 §5.2 for Nk = 4. */
  private expandKey(key: Uint8Array): void {
    const rk = this.roundKeys;
    for (let i = 0; i < 4; i++) {
      rk[i] = (key[4 * i]! << 24) | (key[4 * i + 1]! << 16) | (key[4 * i + 2]! << 8) | key[4 * i + 3]!;
    }
    let rcon = 1;
    for (let i = 4; i < ROUND_KEY_WORDS; i++) {
      let temp = rk[i - 1]!;
      if (i % 4 === 0) {
        // SubWord(RotWord(temp)) XOR Rcon[i/4]
        temp =
          ((SBOX[(temp >>> 16) & 0xff]! << 24) |
            (SBOX[(temp >>> 8) & 0xff]! << 16) |
            (SBOX[temp & 0xff]! << 8) |
            SBOX[temp >>> 24]!) ^
          (rcon << 24);
        rcon = xtime(rcon);
      }
      rk[i] = rk[i - 4]! ^ temp;
    }
  }
}

function xorWord(buf: Uint8Array, offset: number, word: number): void {
  buf[offset] = buf[offset]! ^ (word >>> 24);
  buf[offset + 1] = buf[offset + 1]! ^ (word >>> 16);
  buf[offset + 2] = buf[offset + 2]! ^ (word >>> 8);
  buf[offset + 3] = buf[offset + 3]! ^ word;
}
