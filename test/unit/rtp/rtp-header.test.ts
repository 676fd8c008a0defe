import { describe, expect, it } from 'vitest';
import { checkRtcpCompound, RtcpStatus } from '../../../src/rtp/rtcp-header.js';
import { parseRtpHeader, RtpHeaderStatus, RtpHeaderView } from '../../../src/rtp/rtp-header.js';

function rtp(options: { csrc?: number; extensionWords?: number; padding?: number; payload?: number } = {}): Buffer {
  const csrc = options.csrc ?? 0;
  const ext = options.extensionWords;
  const headerLength = 12 + 4 * csrc + (ext === undefined ? 0 : 4 + 4 * ext);
  const padding = options.padding ?? 0;
  const packet = Buffer.alloc(headerLength + (options.payload ?? 160) + padding);
  packet[0] = 0x80 | (padding > 0 ? 0x20 : 0) | (ext === undefined ? 0 : 0x10) | csrc;
  packet[1] = 0x80 | 8; // marker, PCMA
  packet.writeUInt16BE(65535, 2);
  packet.writeUInt32BE(0xfffffff0, 4);
  packet.writeUInt32BE(0xdeadbeef, 8);
  if (ext !== undefined) packet.writeUInt16BE(ext, 12 + 4 * csrc + 2);
  if (padding > 0) packet[packet.length - 1] = padding;
  return packet;
}

describe('parseRtpHeader (RFC 3550 §5.1, A.1)', () => {
  it('reads the fixed header fields as unsigned numbers', () => {
    const view = new RtpHeaderView();
    expect(parseRtpHeader(rtp(), 172, view)).toBe(RtpHeaderStatus.Ok);
    expect(view).toMatchObject({
      marker: true,
      payloadType: 8,
      sequenceNumber: 65535,
      timestamp: 0xfffffff0,
      ssrc: 0xdeadbeef,
      headerLength: 12,
      payloadLength: 160,
    });
  });

  it('skips CSRCs and the header extension, and takes padding off the payload', () => {
    const view = new RtpHeaderView();
    const packet = rtp({ csrc: 2, extensionWords: 3, padding: 4 });
    expect(parseRtpHeader(packet, packet.length, view)).toBe(RtpHeaderStatus.Ok);
    expect(view.headerLength).toBe(12 + 8 + 4 + 12);
    expect(view.paddingLength).toBe(4);
    expect(view.payloadLength).toBe(160);
  });

  it('parses only the given length (a packet shrunk in place by SRTP unprotect)', () => {
    const view = new RtpHeaderView();
    expect(parseRtpHeader(rtp(), 100, view)).toBe(RtpHeaderStatus.Ok);
    expect(view.payloadLength).toBe(88);
    expect(parseRtpHeader(rtp(), 200, view)).toBe(RtpHeaderStatus.TooShort);
  });

  it.each([
    ['shorter than the fixed header', Buffer.alloc(11, 0x80), RtpHeaderStatus.TooShort],
    ['empty', Buffer.alloc(0), RtpHeaderStatus.TooShort],
    ['version 1', Buffer.from(rtp().fill(0x40, 0, 1)), RtpHeaderStatus.BadVersion],
    ['version 0 (STUN, zeros)', Buffer.alloc(20), RtpHeaderStatus.BadVersion],
    ['15 CSRCs in a 20-byte datagram', rtp({ csrc: 15 }).subarray(0, 20), RtpHeaderStatus.CsrcOverrun],
    ['extension header cut off', rtp({ extensionWords: 0, payload: 0 }).subarray(0, 14), RtpHeaderStatus.ExtensionOverrun],
    ['extension longer than the packet', rtp({ extensionWords: 100, payload: 0 }).subarray(0, 40), RtpHeaderStatus.ExtensionOverrun],
    ['padding count 0', (() => { const p = rtp({ padding: 1 }); p[p.length - 1] = 0; return p; })(), RtpHeaderStatus.BadPadding],
    ['padding into the header', (() => { const p = rtp({ padding: 1 }); p[p.length - 1] = 200; return p; })(), RtpHeaderStatus.BadPadding],
  ])('refuses a datagram %s', (_name, packet, status) => {
    expect(parseRtpHeader(packet, packet.length, new RtpHeaderView())).toBe(status);
  });
});

function rtcp(...packets: Array<{ pt: number; words: number; padding?: boolean }>): Buffer {
  const parts = packets.map(({ pt, words, padding }) => {
    const p = Buffer.alloc((words + 1) * 4);
    p[0] = 0x80 | (padding === true ? 0x20 : 0);
    p[1] = pt;
    p.writeUInt16BE(words, 2);
    if (padding === true) p[p.length - 1] = 4;
    return p;
  });
  return Buffer.concat(parts);
}

describe('checkRtcpCompound (RFC 3550 §6.1, A.2)', () => {
  it('accepts an RR + SDES compound and a lone feedback packet (RFC 5506)', () => {
    const compound = rtcp({ pt: 201, words: 1 }, { pt: 202, words: 3 });
    expect(checkRtcpCompound(compound, compound.length)).toBe(RtcpStatus.Ok);
    const feedback = rtcp({ pt: 205, words: 2 });
    expect(checkRtcpCompound(feedback, feedback.length)).toBe(RtcpStatus.Ok);
  });

  it('refuses lengths that do not add up, a bad version, and padding before the last packet', () => {
    const compound = rtcp({ pt: 200, words: 6 }, { pt: 202, words: 2 });
    expect(checkRtcpCompound(compound, compound.length - 4)).toBe(RtcpStatus.BadLength);
    expect(checkRtcpCompound(Buffer.concat([compound, Buffer.alloc(2)]), compound.length + 2)).toBe(RtcpStatus.BadLength);
    const v1 = Buffer.from(compound);
    v1[0] = 0x40;
    expect(checkRtcpCompound(v1, v1.length)).toBe(RtcpStatus.BadVersion);
    const padded = rtcp({ pt: 201, words: 1, padding: true }, { pt: 202, words: 2 });
    expect(checkRtcpCompound(padded, padded.length)).toBe(RtcpStatus.BadPadding);
    expect(checkRtcpCompound(Buffer.alloc(4, 0x80), 4)).toBe(RtcpStatus.TooShort);
  });
});
