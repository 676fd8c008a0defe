/**
 * The crypto paths bench/srtp.ts compares. Each is a full RTP->SRTP and
 * SRTP->RTP transform for one SSRC (header length, index estimation with
 * the ROC, replay window, AES-CM, HMAC-SHA1 tag) so that only the way the
 * AES keystream and the HMAC are computed differs; `voix` is the shipped
 * src/srtp SrtpSession itself.
 */
import { createCipheriv, createHmac, type Cipher as Cipheriv } from 'node:crypto';
import { ctr, unsafe as nobleAes } from '@noble/ciphers/aes.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import type { SrtpKeying } from '../../src/rtp/media-protocol.js';
import { AesCounterMode } from '../../src/srtp/aes-counter-mode.js';
import { HmacSha1 } from '../../src/srtp/hmac-sha1.js';
import { deriveSessionKeys } from '../../src/srtp/key-derivation.js';
import { ReplayWindow } from '../../src/srtp/replay-window.js';
import { estimatePacketIndex, rolloverCounterOf } from '../../src/srtp/rollover-counter.js';
import { SRTP_ERROR_AUTHENTICATION, SRTP_ERROR_MALFORMED, SRTP_ERROR_KEY_EXHAUSTED } from '../../src/srtp/srtp-error.js';
import { SrtpSession } from '../../src/srtp/srtp-session.js';

export interface PacketTransform {
  protectRtp(buf: Uint8Array, length: number): number;
  unprotectRtp(buf: Uint8Array, length: number): number;
}

/** AES-CM over buf[start, end) for packet `index` of `ssrc` (RFC 3711 §4.1.1). */
interface KeystreamCipher {
  crypt(ssrc: number, index: number, buf: Uint8Array, start: number, end: number): void;
}

/** HMAC-SHA1(sessionAuthKey, buf[0, length) || ROC) into `digest` (20 bytes). */
interface PacketMac {
  compute(buf: Uint8Array, length: number, rolloverCounter: number, digest: Uint8Array): void;
}

/**
 * Counter block j of packet `index`: IV = (k_s * 2^16) XOR (SSRC * 2^64)
 * XOR (i * 2^16), plus j in the low 16 bits (RFC 3711 §4.1.1).
 */
function writeCounterBlock(out: Uint8Array, offset: number, salt: Uint8Array, ssrc: number, index: number, block: number): void {
  const upper = Math.floor(index / 0x10000);
  const lower = index & 0xffff;
  for (let i = 0; i < 14; i++) out[offset + i] = salt[i]!;
  out[offset + 4] = out[offset + 4]! ^ (ssrc >>> 24);
  out[offset + 5] = out[offset + 5]! ^ ((ssrc >>> 16) & 0xff);
  out[offset + 6] = out[offset + 6]! ^ ((ssrc >>> 8) & 0xff);
  out[offset + 7] = out[offset + 7]! ^ (ssrc & 0xff);
  out[offset + 8] = out[offset + 8]! ^ (upper >>> 24);
  out[offset + 9] = out[offset + 9]! ^ ((upper >>> 16) & 0xff);
  out[offset + 10] = out[offset + 10]! ^ ((upper >>> 8) & 0xff);
  out[offset + 11] = out[offset + 11]! ^ (upper & 0xff);
  out[offset + 12] = out[offset + 12]! ^ (lower >>> 8);
  out[offset + 13] = out[offset + 13]! ^ (lower & 0xff);
  out[offset + 14] = block >>> 8;
  out[offset + 15] = block & 0xff;
}

/** (a) One node:crypto AES-128-CTR object per packet. */
class NodeCtrPerPacket implements KeystreamCipher {
  private readonly iv = Buffer.alloc(16);
  constructor(
    private readonly key: Uint8Array,
    private readonly salt: Uint8Array,
  ) {}
  crypt(ssrc: number, index: number, buf: Uint8Array, start: number, end: number): void {
    writeCounterBlock(this.iv, 0, this.salt, ssrc, index, 0);
    const cipher = createCipheriv('aes-128-ctr', this.key, this.iv);
    buf.set(cipher.update(buf.subarray(start, end)), start);
  }
}

/** (a) One node:crypto HMAC object per packet. */
class NodeHmacPerPacket implements PacketMac {
  private readonly roc = Buffer.alloc(4);
  constructor(private readonly key: Uint8Array) {}
  compute(buf: Uint8Array, length: number, rolloverCounter: number, digest: Uint8Array): void {
    this.roc.writeUInt32BE(rolloverCounter);
    digest.set(createHmac('sha1', this.key).update(buf.subarray(0, length)).update(this.roc).digest());
  }
}

/** (b) One reused node:crypto AES-128-ECB context turning counter blocks into keystream, one call per packet. */
class NodeEcbReused implements KeystreamCipher {
  private readonly ecb: Cipheriv;
  private readonly counters = Buffer.alloc(16 * 128);
  constructor(
    key: Uint8Array,
    private readonly salt: Uint8Array,
  ) {
    this.ecb = createCipheriv('aes-128-ecb', key, null);
    this.ecb.setAutoPadding(false);
  }
  crypt(ssrc: number, index: number, buf: Uint8Array, start: number, end: number): void {
    const blocks = Math.ceil((end - start) / 16);
    const counters = this.counters;
    writeCounterBlock(counters, 0, this.salt, ssrc, index, 0);
    for (let j = 1; j < blocks; j++) {
      counters.copy(counters, j * 16, 0, 14);
      counters[j * 16 + 14] = j >>> 8;
      counters[j * 16 + 15] = j & 0xff;
    }
    const keystream = this.ecb.update(counters.subarray(0, blocks * 16));
    for (let i = start, k = 0; i < end; i++, k++) buf[i] = buf[i]! ^ keystream[k]!;
  }
}

/**
 * (b') The same ECB context, but one call makes the keystream of the next
 * BATCH packet indices of the SSRC, guessed in advance (the ~270k figure
 * of ARCHITECTURE.md); a packet outside the batch (reordering, another
 * SSRC, a longer payload) starts a new batch.
 */
class NodeEcbBatched implements KeystreamCipher {
  private static readonly BATCH = 32;
  private static readonly BLOCKS_PER_PACKET = 11;
  private readonly ecb: Cipheriv;
  private readonly counters = Buffer.alloc(16 * NodeEcbBatched.BATCH * NodeEcbBatched.BLOCKS_PER_PACKET);
  private keystream: Buffer = Buffer.alloc(0);
  private batchSsrc = -1;
  private batchBase = -1;
  private readonly fallback: NodeEcbReused;
  constructor(
    key: Uint8Array,
    private readonly salt: Uint8Array,
  ) {
    this.ecb = createCipheriv('aes-128-ecb', key, null);
    this.ecb.setAutoPadding(false);
    this.fallback = new NodeEcbReused(key, salt);
  }
  crypt(ssrc: number, index: number, buf: Uint8Array, start: number, end: number): void {
    const perPacket = NodeEcbBatched.BLOCKS_PER_PACKET * 16;
    if (end - start > perPacket) {
      this.fallback.crypt(ssrc, index, buf, start, end);
      return;
    }
    let slot = index - this.batchBase;
    if (ssrc !== this.batchSsrc || this.batchBase < 0 || slot < 0 || slot >= NodeEcbBatched.BATCH) {
      this.fillBatch(ssrc, index);
      slot = 0;
    }
    const ks = this.keystream;
    for (let i = start, k = slot * perPacket; i < end; i++, k++) buf[i] = buf[i]! ^ ks[k]!;
  }
  private fillBatch(ssrc: number, index: number): void {
    const counters = this.counters;
    for (let p = 0; p < NodeEcbBatched.BATCH; p++) {
      for (let j = 0; j < NodeEcbBatched.BLOCKS_PER_PACKET; j++) {
        writeCounterBlock(counters, (p * NodeEcbBatched.BLOCKS_PER_PACKET + j) * 16, this.salt, ssrc, index + p, j);
      }
    }
    this.keystream = this.ecb.update(counters);
    this.batchSsrc = ssrc;
    this.batchBase = index;
  }
}

/** (c) @noble/ciphers AES-CTR through its public API, one cipher per packet (it expands the key each time). */
class NobleCtr implements KeystreamCipher {
  private readonly iv = new Uint8Array(16);
  constructor(
    private readonly key: Uint8Array,
    private readonly salt: Uint8Array,
  ) {}
  crypt(ssrc: number, index: number, buf: Uint8Array, start: number, end: number): void {
    writeCounterBlock(this.iv, 0, this.salt, ssrc, index, 0);
    const region = buf.subarray(start, end);
    region.set(ctr(this.key, this.iv).encrypt(region));
  }
}

/** (c') @noble/ciphers' low-level CTR with the key expanded once. */
class NobleCtrExpandedKey implements KeystreamCipher {
  private readonly expandedKey: Uint32Array;
  private readonly counter = new Uint8Array(16);
  constructor(
    key: Uint8Array,
    private readonly salt: Uint8Array,
  ) {
    this.expandedKey = nobleAes.expandKeyLE(key);
  }
  crypt(ssrc: number, index: number, buf: Uint8Array, start: number, end: number): void {
    writeCounterBlock(this.counter, 0, this.salt, ssrc, index, 0);
    const region = buf.subarray(start, end);
    nobleAes.ctrCounter(this.expandedKey, this.counter, region, region);
  }
}

/** (c) @noble/hashes HMAC-SHA1, the keyed state cloned per packet. */
class NobleHmac implements PacketMac {
  private readonly keyed;
  private scratch;
  private readonly roc = new Uint8Array(4);
  constructor(key: Uint8Array) {
    this.keyed = hmac.create(sha1, key);
    this.scratch = this.keyed.clone();
  }
  compute(buf: Uint8Array, length: number, rolloverCounter: number, digest: Uint8Array): void {
    this.scratch = this.keyed._cloneInto(this.scratch);
    const r = this.roc;
    r[0] = rolloverCounter >>> 24;
    r[1] = rolloverCounter >>> 16;
    r[2] = rolloverCounter >>> 8;
    r[3] = rolloverCounter;
    this.scratch.update(buf.subarray(0, length)).update(r).digestInto(digest);
  }
}

/** (e) The TypeScript table AES of src/srtp, through the same generic transform as the others. */
class TsAesCm implements KeystreamCipher {
  private readonly aes: AesCounterMode;
  private readonly iv = new Uint8Array(16);
  private readonly ivView = new DataView(this.iv.buffer);
  constructor(
    key: Uint8Array,
    private readonly salt: Uint8Array,
  ) {
    this.aes = new AesCounterMode(key);
  }
  crypt(ssrc: number, index: number, buf: Uint8Array, start: number, end: number): void {
    writeCounterBlock(this.iv, 0, this.salt, ssrc, index, 0);
    const v = this.ivView;
    this.aes.xorKeystream(v.getInt32(0), v.getInt32(4), v.getInt32(8), v.getInt32(12), buf, start, end);
  }
}

/** (b), (e) The TypeScript HMAC-SHA1 of src/srtp with its precomputed pad states. */
class TsHmac implements PacketMac {
  private readonly mac: HmacSha1;
  constructor(key: Uint8Array) {
    this.mac = new HmacSha1(key);
  }
  compute(buf: Uint8Array, length: number, rolloverCounter: number, digest: Uint8Array): void {
    const mac = this.mac;
    mac.start();
    mac.update(buf, 0, length);
    mac.updateUint32(rolloverCounter);
    mac.finish();
    digest.set(mac.digest);
  }
}

/** SRTP for one SSRC with a pluggable keystream and MAC (RFC 3711 §3.3, as SrtpSession does it). */
class GenericSrtp implements PacketTransform {
  private readonly window = new ReplayWindow();
  private readonly digest = new Uint8Array(20);

  constructor(
    private readonly cipher: KeystreamCipher,
    private readonly mac: PacketMac,
    private readonly tagLength: number,
  ) {}

  protectRtp(buf: Uint8Array, length: number): number {
    const headerLength = 12 + 4 * (buf[0]! & 0x0f);
    const index = estimatePacketIndex(this.window.highestIndex, (buf[2]! << 8) | buf[3]!);
    if (index < 0) return SRTP_ERROR_KEY_EXHAUSTED;
    const replay = this.window.check(index);
    if (replay !== 0) return replay;
    this.cipher.crypt(readSsrc(buf), index, buf, headerLength, length);
    this.mac.compute(buf, length, rolloverCounterOf(index), this.digest);
    for (let i = 0; i < this.tagLength; i++) buf[length + i] = this.digest[i]!;
    this.window.accept(index);
    return length + this.tagLength;
  }

  unprotectRtp(buf: Uint8Array, length: number): number {
    const end = length - this.tagLength;
    if (end < 12) return SRTP_ERROR_MALFORMED;
    const headerLength = 12 + 4 * (buf[0]! & 0x0f);
    const index = estimatePacketIndex(this.window.highestIndex, (buf[2]! << 8) | buf[3]!);
    if (index < 0) return SRTP_ERROR_KEY_EXHAUSTED;
    const replay = this.window.check(index);
    if (replay !== 0) return replay;
    this.mac.compute(buf, end, rolloverCounterOf(index), this.digest);
    let difference = 0;
    for (let i = 0; i < this.tagLength; i++) difference |= this.digest[i]! ^ buf[end + i]!;
    if (difference !== 0) return SRTP_ERROR_AUTHENTICATION;
    this.cipher.crypt(readSsrc(buf), index, buf, headerLength, end);
    this.window.accept(index);
    return end;
  }
}

function readSsrc(buf: Uint8Array): number {
  return ((buf[8]! << 24) | (buf[9]! << 16) | (buf[10]! << 8) | buf[11]!) >>> 0;
}

export const VARIANTS = {
  'node-ctr-per-packet': 'node:crypto createCipheriv(aes-128-ctr) + createHmac(sha1) per packet',
  'node-ecb-reused': 'node:crypto one reused AES-128-ECB context (keystream per packet) + TS HMAC-SHA1 precomputed state',
  'node-ecb-batched': 'node:crypto one reused AES-128-ECB context (keystream of 32 guessed packets per call) + TS HMAC-SHA1 precomputed state',
  'noble-ctr': '@noble/ciphers ctr() per packet + @noble/hashes hmac cloned state',
  'noble-ctr-expanded-key': '@noble/ciphers unsafe.ctrCounter, key expanded once + @noble/hashes hmac cloned state',
  'ts-aes-ts-hmac': 'TS table AES-CM + TS HMAC-SHA1 precomputed state (generic transform)',
  'voix-srtp-session': 'src/srtp SrtpSession as shipped: AES-CM and HMAC-SHA1 in its native addon (srtp-crypto.c, the OpenSSL inside Node; ADR 0007)',
  'voix-srtp-session-ts': 'src/srtp SrtpSession with its TypeScript crypto (ADR 0004, the fallback): batched AES-128-ECB keystream (node:crypto), TS table AES for late packets, TS HMAC-SHA1 precomputed state',
} as const;
export type VariantName = keyof typeof VARIANTS;

export function isVariantName(name: string): name is VariantName {
  return Object.hasOwn(VARIANTS, name);
}

export function createVariant(name: VariantName, keying: SrtpKeying): PacketTransform {
  if (name === 'voix-srtp-session') return new SrtpSession(keying, { crypto: 'native' });
  if (name === 'voix-srtp-session-ts') return new SrtpSession(keying, { crypto: 'typescript' });
  const keys = deriveSessionKeys(keying.key, keying.salt, false);
  const tagLength = keying.suite === 'AES_CM_128_HMAC_SHA1_80' ? 10 : 4;
  const k = keys.sessionEncryptionKey;
  const a = keys.sessionAuthKey;
  const s = keys.sessionSalt;
  const make = (cipher: KeystreamCipher, mac: PacketMac): PacketTransform => new GenericSrtp(cipher, mac, tagLength);
  switch (name) {
    case 'node-ctr-per-packet':
      return make(new NodeCtrPerPacket(k, s), new NodeHmacPerPacket(a));
    case 'node-ecb-reused':
      return make(new NodeEcbReused(k, s), new TsHmac(a));
    case 'node-ecb-batched':
      return make(new NodeEcbBatched(k, s), new TsHmac(a));
    case 'noble-ctr':
      return make(new NobleCtr(k, s), new NobleHmac(a));
    case 'noble-ctr-expanded-key':
      return make(new NobleCtrExpandedKey(k, s), new NobleHmac(a));
    case 'ts-aes-ts-hmac':
      return make(new TsAesCm(k, s), new TsHmac(a));
  }
}
