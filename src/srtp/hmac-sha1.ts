/**
 * HMAC-SHA1 (RFC 2104 over FIPS 180-4 SHA-1) for the SRTP authentication
 * transform (RFC 3711 §4.2.1), made for the per-packet path: the key's
 * inner and outer pad blocks are compressed once, when the session key is
 * set, so a packet costs only the compressions of its own bytes plus one
 * for the outer hash; every buffer is allocated here, none per packet.
 *
 * Why not node:crypto: `createHmac` per packet spends most of its time
 * building an OpenSSL object (bench/srtp.ts, docs/adr/0004), and node:crypto
 * cannot clone a keyed HMAC state.
 */

const BLOCK_BYTES = 64;
export const SHA1_DIGEST_BYTES = 20;

export class HmacSha1 {
  /** SHA-1 chaining value after compressing (key XOR ipad), RFC 2104 §2. */
  private readonly innerStart = new Int32Array(5);
  /** SHA-1 chaining value after compressing (key XOR opad). */
  private readonly outerStart = new Int32Array(5);
  private h0 = 0;
  private h1 = 0;
  private h2 = 0;
  private h3 = 0;
  private h4 = 0;
  private readonly w = new Int32Array(80);
  private readonly pending = new Uint8Array(BLOCK_BYTES);
  private pendingLength = 0;
  /** Bytes hashed so far in the inner hash, the pad block included. */
  private hashedLength = 0;
  /** The last digest computed by `finish`. */
  readonly digest = new Uint8Array(SHA1_DIGEST_BYTES);

  constructor(key: Uint8Array) {
    // RFC 2104 §2: a key longer than the block is hashed first. SRTP session
    // authentication keys are 20 bytes (RFC 3711 §8.2), so this never runs
    // for them, but the class stays a correct HMAC.
    let k = key;
    if (k.length > BLOCK_BYTES) {
      const hashed = new HmacSha1(new Uint8Array(0));
      hashed.plainHash(k);
      k = hashed.digest.slice();
    }
    const pad = new Uint8Array(BLOCK_BYTES);
    for (let pass = 0; pass < 2; pass++) {
      const byte = pass === 0 ? 0x36 : 0x5c;
      pad.fill(byte);
      for (let i = 0; i < k.length; i++) pad[i] = k[i]! ^ byte;
      this.resetToInitial();
      this.loadBlock(pad, 0);
      this.compress();
      const target = pass === 0 ? this.innerStart : this.outerStart;
      target[0] = this.h0;
      target[1] = this.h1;
      target[2] = this.h2;
      target[3] = this.h3;
      target[4] = this.h4;
    }
    pad.fill(0);
  }

  /** Starts a new message: the chaining value is the precomputed inner state. */
  start(): void {
    const s = this.innerStart;
    this.h0 = s[0]!;
    this.h1 = s[1]!;
    this.h2 = s[2]!;
    this.h3 = s[3]!;
    this.h4 = s[4]!;
    this.pendingLength = 0;
    this.hashedLength = BLOCK_BYTES;
  }

  update(data: Uint8Array, offset: number, length: number): void {
    let position = offset;
    const end = offset + length;
    this.hashedLength += length;
    if (this.pendingLength > 0) {
      const take = Math.min(BLOCK_BYTES - this.pendingLength, end - position);
      for (let i = 0; i < take; i++) this.pending[this.pendingLength++] = data[position++]!;
      if (this.pendingLength < BLOCK_BYTES) return;
      this.loadBlock(this.pending, 0);
      this.compress();
      this.pendingLength = 0;
    }
    while (end - position >= BLOCK_BYTES) {
      this.loadBlock(data, position);
      this.compress();
      position += BLOCK_BYTES;
    }
    for (let i = position; i < end; i++) this.pending[this.pendingLength++] = data[i]!;
  }

  /** Appends a 32-bit big-endian value: the ROC of RFC 3711 §4.2 (M = Authenticated Portion || ROC). */
  updateUint32(value: number): void {
    const p = this.pending;
    if (this.pendingLength <= BLOCK_BYTES - 4) {
      let n = this.pendingLength;
      p[n++] = value >>> 24;
      p[n++] = value >>> 16;
      p[n++] = value >>> 8;
      p[n++] = value;
      this.pendingLength = n;
      this.hashedLength += 4;
      if (n === BLOCK_BYTES) {
        this.loadBlock(p, 0);
        this.compress();
        this.pendingLength = 0;
      }
      return;
    }
    for (let shift = 24; shift >= 0; shift -= 8) {
      p[this.pendingLength++] = value >>> shift;
      this.hashedLength++;
      if (this.pendingLength === BLOCK_BYTES) {
        this.loadBlock(p, 0);
        this.compress();
        this.pendingLength = 0;
      }
    }
  }

  /** Ends the message and leaves HMAC(key, message) in `digest`. */
  finish(): void {
    this.padAndCompress();
    // Outer hash: H(K XOR opad || inner digest); the inner digest and its
    // padding fit one block, loaded straight into the schedule.
    const w = this.w;
    w[0] = this.h0;
    w[1] = this.h1;
    w[2] = this.h2;
    w[3] = this.h3;
    w[4] = this.h4;
    w[5] = 0x80000000 | 0;
    for (let i = 6; i < 15; i++) w[i] = 0;
    w[15] = (BLOCK_BYTES + SHA1_DIGEST_BYTES) * 8;
    const s = this.outerStart;
    this.h0 = s[0]!;
    this.h1 = s[1]!;
    this.h2 = s[2]!;
    this.h3 = s[3]!;
    this.h4 = s[4]!;
    this.compress();
    this.storeDigest();
  }

  /** Plain SHA-1 of `data` into `digest`, for the long-key case of RFC 2104 and for tests. */
  plainHash(data: Uint8Array): void {
    this.resetToInitial();
    this.pendingLength = 0;
    this.hashedLength = 0;
    this.update(data, 0, data.length);
    this.padAndCompress();
    this.storeDigest();
  }

  private resetToInitial(): void {
    this.h0 = 0x67452301;
    this.h1 = 0xefcdab89 | 0;
    this.h2 = 0x98badcfe | 0;
    this.h3 = 0x10325476;
    this.h4 = 0xc3d2e1f0 | 0;
  }

  /** FIPS 180-4 §5.1.1: 0x80, zeros, then the message length in bits as 64 bits. */
  private padAndCompress(): void {
    const p = this.pending;
    let n = this.pendingLength;
    p[n++] = 0x80;
    if (n > BLOCK_BYTES - 8) {
      p.fill(0, n);
      this.loadBlock(p, 0);
      this.compress();
      n = 0;
    }
    p.fill(0, n, BLOCK_BYTES - 8);
    this.loadBlock(p, 0);
    const bits = this.hashedLength * 8;
    this.w[14] = Math.floor(bits / 0x100000000);
    this.w[15] = bits >>> 0;
    this.compress();
  }

  private storeDigest(): void {
    storeWord(this.digest, 0, this.h0);
    storeWord(this.digest, 4, this.h1);
    storeWord(this.digest, 8, this.h2);
    storeWord(this.digest, 12, this.h3);
    storeWord(this.digest, 16, this.h4);
  }

  private loadBlock(bytes: Uint8Array, offset: number): void {
    const w = this.w;
    for (let i = 0, o = offset; i < 16; i++, o += 4) {
      w[i] = (bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!;
    }
  }

  /** FIPS 180-4 §6.1.2 on the 16 words already in `w`. */
  private compress(): void {
    const w = this.w;
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = this.h0;
    let b = this.h1;
    let c = this.h2;
    let d = this.h3;
    let e = this.h4;
    let i = 0;
    for (; i < 20; i++) {
      const t = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + w[i]! + 0x5a827999) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    for (; i < 40; i++) {
      const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + w[i]! + 0x6ed9eba1) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    for (; i < 60; i++) {
      const t = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + w[i]! + 0x8f1bbcdc) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    for (; i < 80; i++) {
      const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + w[i]! + 0xca62c1d6) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    this.h0 = (this.h0 + a) | 0;
    this.h1 = (this.h1 + b) | 0;
    this.h2 = (this.h2 + c) | 0;
    this.h3 = (this.h3 + d) | 0;
    this.h4 = (this.h4 + e) | 0;
  }
}

function storeWord(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = value >>> 16;
  bytes[offset + 2] = value >>> 8;
  bytes[offset + 3] = value;
}
