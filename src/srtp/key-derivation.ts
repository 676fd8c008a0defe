/**
 * SRTP key derivation (RFC 3711 §4.3) with key_derivation_rate 0, the value
 * SDES uses when the a=crypto line has no KDR parameter (RFC 4568 §6.3.1):
 * session keys are derived once from the master key, never refreshed.
 */
import { AesCounterMode } from './aes-counter-mode.js';

/** RFC 3711 §4.3.1 and §4.3.2 labels. */
export const KeyDerivationLabel = {
  rtpEncryption: 0x00,
  rtpAuthentication: 0x01,
  rtpSalt: 0x02,
  rtcpEncryption: 0x03,
  rtcpAuthentication: 0x04,
  rtcpSalt: 0x05,
} as const;
export type KeyDerivationLabel = (typeof KeyDerivationLabel)[keyof typeof KeyDerivationLabel];

export const MASTER_KEY_BYTES = 16;
export const MASTER_SALT_BYTES = 14;
/** n_e for AES_CM_128 (RFC 3711 §8.2). */
export const SESSION_ENCRYPTION_KEY_BYTES = 16;
/** n_s: the session salt is 112 bits (RFC 3711 §4.1.1). */
export const SESSION_SALT_BYTES = 14;
/** n_a for HMAC-SHA1 (RFC 3711 §4.2.1, §8.2). */
export const SESSION_AUTH_KEY_BYTES = 20;

/** The three session keys of one of SRTP or SRTCP. */
export interface SessionKeys {
  /** k_e */
  readonly sessionEncryptionKey: Uint8Array;
  /** k_a */
  readonly sessionAuthKey: Uint8Array;
  /** k_s */
  readonly sessionSalt: Uint8Array;
}

/**
 * RFC 3711 §4.3.1: key_id = label || (index DIV kdr), 7 bytes, here the
 * label followed by six zero bytes; x = key_id XOR master_salt, aligned on
 * the right; the session key is PRF_n(k_master, x), the AES-CM keystream of
 * the master key from the IV x * 2^16 (§4.3.3).
 */
export function deriveSessionKey(masterKey: Uint8Array, masterSalt: Uint8Array, label: KeyDerivationLabel, length: number): Uint8Array {
  const iv = new Uint8Array(16);
  iv.set(masterSalt.subarray(0, MASTER_SALT_BYTES));
  // The label is the first byte of the 7-byte key_id, so it lands on byte
  // 14 - 7 = 7 of the salt.
  iv[7] = iv[7]! ^ label;
  const view = new DataView(iv.buffer);
  const out = new Uint8Array(length);
  new AesCounterMode(masterKey).xorKeystream(view.getInt32(0), view.getInt32(4), view.getInt32(8), view.getInt32(12), out, 0, length);
  return out;
}

export function deriveSessionKeys(masterKey: Uint8Array, masterSalt: Uint8Array, rtcp: boolean): SessionKeys {
  const L = KeyDerivationLabel;
  return {
    sessionEncryptionKey: deriveSessionKey(masterKey, masterSalt, rtcp ? L.rtcpEncryption : L.rtpEncryption, SESSION_ENCRYPTION_KEY_BYTES),
    sessionAuthKey: deriveSessionKey(masterKey, masterSalt, rtcp ? L.rtcpAuthentication : L.rtpAuthentication, SESSION_AUTH_KEY_BYTES),
    sessionSalt: deriveSessionKey(masterKey, masterSalt, rtcp ? L.rtcpSalt : L.rtpSalt, SESSION_SALT_BYTES),
  };
}
