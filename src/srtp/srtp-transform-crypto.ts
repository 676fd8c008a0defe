/**
 * The cryptography of one SRTP or SRTCP transform (RFC 3711 §4.1.1
 * AES-CM, §4.2 HMAC-SHA1), in place and without allocation per packet, in
 * one of two implementations with the same bytes out:
 * - native (docs/adr/0007): src/srtp/native/srtp-crypto.c, with the
 *   OpenSSL inside Node (AES-NI, SHA-NI), used when the addon is built;
 * - TypeScript (docs/adr/0004): a reused AES-ECB context making the
 *   keystream of 32 packets at a time, and HMAC-SHA1 from precomputed
 *   states; used where the addon is not built.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { HmacSha1 } from './hmac-sha1.js';
import type { SessionKeys } from './key-derivation.js';
import { AesCmKeystream, KeystreamBatch } from './keystream-batch.js';

export interface TransformCrypto {
  /** Per SSRC: what the implementation keeps for that stream (the TypeScript keystream batch), or null. */
  newStreamState(): KeystreamBatch | null;
  /** XORs buf[start, end) with the keystream of packet `index` of `ssrc` (§4.1.1). */
  crypt(stream: KeystreamBatch | null, ssrc: number, index: number, buf: Uint8Array, start: number, end: number): void;
  /** Writes at buf[end] the first `tagLength` bytes of HMAC(buf[0, end) || ROC when withRoc) (§4.2). */
  sign(buf: Uint8Array, end: number, roc: number, withRoc: boolean, tagLength: number): void;
  /** Whether buf[end, end + tagLength) is that tag; every byte compared, whatever the first difference. */
  verify(buf: Uint8Array, end: number, roc: number, withRoc: boolean, tagLength: number): boolean;
}

/** What srtp-crypto.c exports. */
interface SrtpCryptoAddon {
  context(key: Uint8Array, salt: Uint8Array, authKey: Uint8Array): object;
  crypt(context: object, buf: Uint8Array, start: number, end: number, ssrc: number, indexHigh: number, indexLow: number): void;
  sign(context: object, buf: Uint8Array, end: number, roc: number, withRoc: boolean, tagLength: number): void;
  verify(context: object, buf: Uint8Array, end: number, roc: number, withRoc: boolean, tagLength: number): boolean;
}

class NativeTransformCrypto implements TransformCrypto {
  private readonly context: object;
  constructor(
    private readonly addon: SrtpCryptoAddon,
    keys: SessionKeys,
  ) {
    this.context = addon.context(keys.sessionEncryptionKey, keys.sessionSalt, keys.sessionAuthKey);
  }
  newStreamState(): null {
    return null;
  }
  crypt(_stream: KeystreamBatch | null, ssrc: number, index: number, buf: Uint8Array, start: number, end: number): void {
    const low = index % 0x10000;
    // `| 0`: the same 32 bits as a small integer; an SSRC above 2^31 would otherwise be a heap number allocated per call.
    this.addon.crypt(this.context, buf, start, end, ssrc | 0, ((index - low) / 0x10000) | 0, low);
  }
  sign(buf: Uint8Array, end: number, roc: number, withRoc: boolean, tagLength: number): void {
    this.addon.sign(this.context, buf, end, roc | 0, withRoc, tagLength);
  }
  verify(buf: Uint8Array, end: number, roc: number, withRoc: boolean, tagLength: number): boolean {
    return this.addon.verify(this.context, buf, end, roc | 0, withRoc, tagLength);
  }
}

class TypeScriptTransformCrypto implements TransformCrypto {
  private readonly keystream: AesCmKeystream;
  private readonly mac: HmacSha1;
  constructor(keys: SessionKeys) {
    this.keystream = new AesCmKeystream(keys.sessionEncryptionKey, keys.sessionSalt);
    this.mac = new HmacSha1(keys.sessionAuthKey);
  }
  newStreamState(): KeystreamBatch {
    return new KeystreamBatch();
  }
  crypt(stream: KeystreamBatch | null, ssrc: number, index: number, buf: Uint8Array, start: number, end: number): void {
    this.keystream.crypt(stream, ssrc, index, buf, start, end);
  }
  sign(buf: Uint8Array, end: number, roc: number, withRoc: boolean, tagLength: number): void {
    this.hash(buf, end, roc, withRoc);
    // The leftmost bytes of the HMAC output; a loop, not set(subarray()), which would allocate a view per packet.
    const digest = this.mac.digest;
    for (let i = 0; i < tagLength; i++) buf[end + i] = digest[i]!;
  }
  verify(buf: Uint8Array, end: number, roc: number, withRoc: boolean, tagLength: number): boolean {
    this.hash(buf, end, roc, withRoc);
    const digest = this.mac.digest;
    let difference = 0;
    for (let i = 0; i < tagLength; i++) difference |= digest[i]! ^ buf[end + i]!;
    return difference === 0;
  }
  private hash(buf: Uint8Array, end: number, roc: number, withRoc: boolean): void {
    const mac = this.mac;
    mac.start();
    mac.update(buf, 0, end);
    if (withRoc) mac.updateUint32(roc);
    mac.finish();
  }
}

export type SrtpCryptoChoice = 'native' | 'typescript';

/** Where `npm run build` puts the addon: next to this module in dist/, or dist/ seen from src/ (tsx: tests, benches). */
const ADDON_LOCATIONS = ['./native/srtp-crypto.node', '../../dist/srtp/native/srtp-crypto.node'];
let loaded: SrtpCryptoAddon | null | undefined;

/** The native addon, or null when it is not built here (loaded once per thread). */
export function nativeSrtpCrypto(): SrtpCryptoAddon | null {
  if (loaded !== undefined) return loaded;
  const require = createRequire(import.meta.url);
  loaded = null;
  for (const location of ADDON_LOCATIONS) {
    try {
      loaded = require(fileURLToPath(new URL(location, import.meta.url))) as SrtpCryptoAddon;
      break;
    } catch {
      // Not built there: try the next place, then fall back to TypeScript.
    }
  }
  return loaded;
}

/** The transform's cryptography: native when built (unless `choice` says otherwise), TypeScript otherwise. */
export function createTransformCrypto(keys: SessionKeys, choice?: SrtpCryptoChoice): TransformCrypto {
  const addon = choice === 'typescript' ? null : nativeSrtpCrypto();
  if (addon !== null) return new NativeTransformCrypto(addon, keys);
  if (choice === 'native') throw new Error('the native SRTP addon is not built (npm run build)');
  return new TypeScriptTransformCrypto(keys);
}
