/**
 * A deliberately plain SRTP/SRTCP sender (RFC 3711) built only on
 * node:crypto's aes-128-ctr and HMAC-SHA1, sharing no code with src/srtp:
 * the unit tests compare voix's bytes with it, index by index, with the
 * ROC given explicitly.
 */
import { createCipheriv, createHmac } from 'node:crypto';
import type { SrtpKeying } from '../../../src/rtp/media-protocol.js';

/** §4.3.1/§4.3.3: AES-CM of the master key from IV = (master_salt XOR label at byte 7) * 2^16. */
export function referenceSessionKey(keying: SrtpKeying, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  Buffer.from(keying.salt).copy(iv, 0);
  iv[7] = iv[7]! ^ label;
  return createCipheriv('aes-128-ctr', keying.key, iv).update(Buffer.alloc(length));
}

function counterIv(salt: Buffer, ssrc: number, index: number): Buffer {
  const iv = Buffer.alloc(16);
  salt.copy(iv, 0);
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  const upper = Math.floor(index / 0x10000);
  iv.writeUInt32BE((iv.readUInt32BE(8) ^ upper) >>> 0, 8);
  iv.writeUInt16BE(iv.readUInt16BE(12) ^ (index & 0xffff), 12);
  return iv;
}

function rtpHeaderLength(packet: Uint8Array): number {
  let length = 12 + 4 * (packet[0]! & 0x0f);
  if (packet[0]! & 0x10) length += 4 + 4 * ((packet[length + 2]! << 8) | packet[length + 3]!);
  return length;
}

/** SRTP packet for `rtp` sent with rollover counter `roc` (§3.3, §4.1.1, §4.2). */
export function referenceProtectRtp(keying: SrtpKeying, rtp: Uint8Array, roc: number): Buffer {
  const encryptionKey = referenceSessionKey(keying, 0, 16);
  const authKey = referenceSessionKey(keying, 1, 20);
  const salt = referenceSessionKey(keying, 2, 14);
  const packet = Buffer.from(rtp);
  const ssrc = packet.readUInt32BE(8);
  const index = roc * 0x10000 + packet.readUInt16BE(2);
  const headerLength = rtpHeaderLength(packet);
  const payload = createCipheriv('aes-128-ctr', encryptionKey, counterIv(salt, ssrc, index)).update(packet.subarray(headerLength));
  payload.copy(packet, headerLength);
  const rocBytes = Buffer.alloc(4);
  rocBytes.writeUInt32BE(roc);
  const tag = createHmac('sha1', authKey).update(packet).update(rocBytes).digest();
  const tagLength = keying.suite === 'AES_CM_128_HMAC_SHA1_80' ? 10 : 4;
  return Buffer.concat([packet, tag.subarray(0, tagLength)]);
}

/** SRTCP packet for `rtcp` with SRTCP index `index`, encrypted (E = 1) or not (§3.4). */
export function referenceProtectRtcp(keying: SrtpKeying, rtcp: Uint8Array, index: number, encrypt = true): Buffer {
  const encryptionKey = referenceSessionKey(keying, 3, 16);
  const authKey = referenceSessionKey(keying, 4, 20);
  const salt = referenceSessionKey(keying, 5, 14);
  const packet = Buffer.from(rtcp);
  if (encrypt) {
    const ssrc = packet.readUInt32BE(4);
    createCipheriv('aes-128-ctr', encryptionKey, counterIv(salt, ssrc, index)).update(packet.subarray(8)).copy(packet, 8);
  }
  const eAndIndex = Buffer.alloc(4);
  eAndIndex.writeUInt32BE(((encrypt ? 0x80000000 : 0) | index) >>> 0);
  const authenticated = Buffer.concat([packet, eAndIndex]);
  const tag = createHmac('sha1', authKey).update(authenticated).digest();
  return Buffer.concat([authenticated, tag.subarray(0, 10)]);
}

/** An RTP packet: version 2, PCMU, `payloadLength` bytes of a pattern that depends on the sequence number. */
export function makeRtp(sequenceNumber: number, ssrc = 0xcafe0001, payloadLength = 160): Uint8Array {
  const packet = new Uint8Array(12 + payloadLength);
  packet[0] = 0x80;
  packet[1] = 0x00;
  packet[2] = sequenceNumber >>> 8;
  packet[3] = sequenceNumber & 0xff;
  const timestamp = (sequenceNumber * 160) >>> 0;
  new DataView(packet.buffer).setUint32(4, timestamp);
  new DataView(packet.buffer).setUint32(8, ssrc >>> 0);
  for (let i = 0; i < payloadLength; i++) packet[12 + i] = (sequenceNumber + i * 31) & 0xff;
  return packet;
}

/** A receiver report with one report block (RFC 3550 §6.4.2): 32 bytes. */
export function makeRtcp(ssrc = 0xcafe0001, fill = 0x42): Uint8Array {
  const packet = new Uint8Array(32).fill(fill);
  packet[0] = 0x81;
  packet[1] = 201;
  packet[2] = 0;
  packet[3] = 7;
  new DataView(packet.buffer).setUint32(4, ssrc >>> 0);
  return packet;
}

/** `packet` copied into a buffer with room for the SRTCP index and a tag after it. */
export function roomy(packet: Uint8Array, extra = 32): Uint8Array {
  const buf = new Uint8Array(packet.length + extra);
  buf.set(packet);
  return buf;
}
