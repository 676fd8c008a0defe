import { describe, expect, it } from 'vitest';
import { parseSessionDescription, type SdpParseResult } from '../../../src/sdp/parser.js';
import { serializeSessionDescription } from '../../../src/sdp/serializer.js';
import { attributeValue, compareOrigins, effectiveConnection, nextOrigin } from '../../../src/sdp/session-description.js';
import { effectiveDirection, fmtpOf, packetTimeOf, rtcpAttributeOf, rtpmapsOf } from '../../../src/sdp/media-attributes.js';
import { payloadFormatsOf } from '../../../src/sdp/payload-types.js';
import { FIXTURES, fixture, fixtureText, sdp } from './sdp-fixtures.js';

function reasonOf(r: SdpParseResult): string {
  if (r.ok) throw new Error('expected a parse failure');
  expect(r.status).toBe(400);
  return r.reason;
}

const MINIMAL = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

describe('parse/serialize round trips of real SDP', () => {
  it.each(FIXTURES)('%s comes back byte for byte', (name) => {
    // Arrange
    const text = fixtureText(name);
    // Act
    const r = parseSessionDescription(text);
    // Assert
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.warnings).toEqual([]);
    expect(serializeSessionDescription(r.description)).toBe(text);
    expect(sdp(serializeSessionDescription(r.description))).toEqual(r.description);
  });

  it('reads a baresip offer: origin, connection, one audio stream, attributes in order', () => {
    const d = fixture('baresip-1.0-srtp-mand-offer');
    expect(d.origin).toEqual({
      username: '-',
      sessionId: '528181975',
      sessionVersion: 30576446n,
      netType: 'IN',
      addrType: 'IP4',
      address: '192.0.2.10',
    });
    expect(d.connection).toEqual({ netType: 'IN', addrType: 'IP4', address: '192.0.2.10', suffix: '' });
    expect(d.attributes).toEqual([{ name: 'tool', value: 'baresip 1.0.0' }]);
    expect(d.media).toHaveLength(1);
    const m = d.media[0]!;
    expect(m).toMatchObject({ media: 'audio', port: 17378, portCount: null, protocol: 'RTP/SAVP', formats: ['96', '9', '0', '8', '101'] });
    expect(m.attributes.map((a) => a.name)).toEqual([
      'rtpmap', 'fmtp', 'rtpmap', 'rtpmap', 'rtpmap', 'rtpmap', 'fmtp', 'sendrecv', 'label', 'rtcp-rsize', 'ssrc', 'crypto', 'minptime', 'ptime',
    ]);
    expect(attributeValue(m.attributes, 'sendrecv')).toBe('');
    expect(rtpmapsOf(m.attributes).get(96)).toEqual({ payloadType: 96, encodingName: 'opus', clockRate: 48000, channels: 2 });
    expect(fmtpOf(m.attributes, 101)).toBe('0-15');
    expect(packetTimeOf(m.attributes, 'ptime')).toBe(20);
  });

  it('reads static payload types without rtpmap and keeps unknown dynamic ones apart', () => {
    const linphone = fixture('linphone-5.1-srtp-offer').media[0]!;
    const formats = payloadFormatsOf(linphone);
    // 18 has an fmtp but no rtpmap: RFC 3551's table names it.
    expect(formats.known.find((f) => f.payloadType === 18)).toMatchObject({ encodingName: 'G729', clockRate: 8000 });
    expect(formats.unknown).toEqual([]);
    const odd = sdp(`${MINIMAL.replace('RTP/AVP 0', 'RTP/AVP 0 8 97')}`).media[0]!;
    expect(payloadFormatsOf(odd).known.map((f) => f.encodingName)).toEqual(['PCMU', 'PCMA']);
    expect(payloadFormatsOf(odd).unknown).toEqual(['97']);
  });

  it('reads ptime and maxptime from an Asterisk answer', () => {
    const m = fixture('asterisk-22-answer').media[0]!;
    expect(packetTimeOf(m.attributes, 'ptime')).toBe(20);
    expect(packetTimeOf(m.attributes, 'maxptime')).toBe(150);
  });
});

describe('tolerance', () => {
  it('accepts LF-only line ends, trailing spaces and blank lines, and reads them like CRLF', () => {
    const sloppy = 'v=0\no=- 1 1 IN IP4 192.0.2.1  \ns=- \n\nc=IN IP4 192.0.2.1\t\nt=0 0\nm=audio 4000 RTP/AVP 0 \na=sendrecv \n\n';
    const r = parseSessionDescription(sloppy);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.description).toEqual(sdp(MINIMAL + 'a=sendrecv\r\n'));
    expect(serializeSessionDescription(r.description)).toBe(MINIMAL + 'a=sendrecv\r\n');
  });

  it('accepts bytes as well as text, and a leading byte order mark', () => {
    const r = parseSessionDescription(Buffer.from('\ufeff' + MINIMAL, 'utf8'));
    expect(r.ok).toBe(true);
  });

  it('warns about a missing s= and t= but parses', () => {
    const r = parseSessionDescription('v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\n');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.description.sessionName).toBe('-');
    expect(r.warnings).toEqual(['no s= line (RFC 8866 §5.3 requires one)', 'no t= line (RFC 8866 §5.9 requires one)']);
  });

  it('keeps a malformed rtpmap as written and warns; the typed view skips it', () => {
    const r = parseSessionDescription(MINIMAL + 'a=rtpmap:96 opus\r\na=rtcp:abc\r\na=ptime:soon\r\n');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const m = r.description.media[0]!;
    expect(m.attributes).toContainEqual({ name: 'rtpmap', value: '96 opus' });
    expect(rtpmapsOf(m.attributes).size).toBe(0);
    expect(r.warnings).toEqual([
      'line 7 (m=audio #1): a=rtpmap:96 opus is malformed, ignored',
      'line 8 (m=audio #1): a=rtcp:abc is malformed, RTCP goes to port + 1',
      'line 9 (m=audio #1): a=ptime:soon is malformed, ignored',
    ]);
  });

  it('drops a malformed b= with a warning', () => {
    const r = parseSessionDescription(MINIMAL + 'b=AS:lots\r\n');
    expect(r.ok && r.warnings).toEqual(['line 7 (m=audio #1): b=AS:lots is malformed, ignored']);
  });

  it('keeps attributes it does not know, with or without a value, in order', () => {
    const d = sdp(MINIMAL + 'a=X-nat:0\r\na=zzz\r\na=label:1\r\n');
    expect(d.media[0]!.attributes).toEqual([
      { name: 'X-nat', value: '0' },
      { name: 'zzz', value: null },
      { name: 'label', value: '1' },
    ]);
  });

  it('accepts a refused stream without formats', () => {
    const r = parseSessionDescription(MINIMAL + 'm=video 0 RTP/AVP\r\n');
    expect(r.ok).toBe(true);
  });
});

describe('refusals', () => {
  it.each([
    ['an empty body', '', 'no v= line: this is not SDP'],
    ['no v=', 'o=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n', 'line 1: SDP must start with v= (RFC 8866 §5.1)'],
    ['v=1', 'v=1\r\no=- 1 1 IN IP4 192.0.2.1\r\n', 'line 1: v=1 is not version 0'],
    ['no o=', 'v=0\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n', 'no o= line (RFC 8866 §5.2)'],
    ['o= with five fields', 'v=0\r\no=- 1 1 IN IP4\r\n', 'line 2: o= needs 6 fields, has 5'],
    ['o= with a version that is not a number', 'v=0\r\no=- 1 v2 IN IP4 192.0.2.1\r\n', 'line 2: o= session version "v2" is not a number'],
    ['two o=', 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\no=- 1 1 IN IP4 192.0.2.1\r\n', 'line 3: a second o= line'],
    ['m= port that is not a number', MINIMAL.replace('4000', 'abc'), 'line 6: m= port "abc" is not a number'],
    ['m= port out of range', MINIMAL.replace('4000', '70000'), 'line 6: m= port 70000 is out of range'],
    ['m= without formats', MINIMAL.replace(' RTP/AVP 0', ' RTP/AVP'), 'line 6: m= has no formats'],
    ['m= with two fields', MINIMAL.replace('m=audio 4000 RTP/AVP 0', 'm=audio 4000'), 'line 6: m= needs <media> <port> <proto> <fmt> ...'],
    ['c= without an address', MINIMAL.replace('c=IN IP4 192.0.2.1', 'c=IN IP4'), 'line 4: c= needs 3 fields, has 2'],
    ['a stream with no c= anywhere', MINIMAL.replace('c=IN IP4 192.0.2.1\r\n', ''), 'm=audio #1: no c= line for it nor for the session (RFC 8866 §5.7)'],
    ['an unknown type letter', MINIMAL + 'q=something\r\n', 'line 7: unknown type letter "q="'],
    ['a session-only line after m=', MINIMAL + 's=late\r\n', 'line 7 (m=audio #1): s= is not allowed in a media description (RFC 8866 §5)'],
    ['garbage', MINIMAL + 'hello world\r\n', 'line 7: "hello world" is not <type>=<value>'],
    ['HTML', '<html><body>502</body></html>', 'line 1: "<html><body>502</body></html>" is not <type>=<value>'],
  ])('refuses %s', (_what, text, reason) => {
    expect(reasonOf(parseSessionDescription(text))).toBe(reason);
  });

  it('reads a bare CR as a line end, so no value can smuggle one', () => {
    const r = parseSessionDescription(MINIMAL + 'a=fmtp:0 x\ry=1\r\n');
    expect(reasonOf(r)).toBe('line 8: unknown type letter "y="');
  });
});

describe('model', () => {
  it('reads c= at media level, IPv6, a multicast suffix, m= port counts and b= lines', () => {
    const d = sdp(
      [
        'v=0',
        'o=alice 2890844526 2890844527 IN IP6 2001:db8::1',
        's=Seminar',
        'i=A talk',
        'c=IN IP4 233.252.0.1/127/2',
        'b=CT:128',
        't=2873397496 2873404696',
        'r=7d 1h 0 25h',
        'a=recvonly',
        'm=audio 49170/2 RTP/AVP 0',
        'i=Voice',
        'c=IN IP6 2001:db8::2',
        'b=AS:64',
        'b=TIAS:64000',
        'm=video 51372 RTP/AVPF 99',
        '',
      ].join('\n'),
    );
    expect(d.connection).toEqual({ netType: 'IN', addrType: 'IP4', address: '233.252.0.1', suffix: '/127/2' });
    expect(d.bandwidths).toEqual([{ type: 'CT', bandwidth: 128 }]);
    expect(d.otherLines).toEqual([
      { type: 'i', value: 'A talk' },
      { type: 't', value: '2873397496 2873404696' },
      { type: 'r', value: '7d 1h 0 25h' },
    ]);
    const [audio, video] = d.media;
    expect(audio).toMatchObject({ port: 49170, portCount: 2, otherLines: [{ type: 'i', value: 'Voice' }] });
    expect(audio!.bandwidths).toEqual([
      { type: 'AS', bandwidth: 64 },
      { type: 'TIAS', bandwidth: 64000 },
    ]);
    expect(effectiveConnection(d, audio!)).toMatchObject({ addrType: 'IP6', address: '2001:db8::2' });
    expect(effectiveConnection(d, video!)).toMatchObject({ address: '233.252.0.1' });
    // RFC 8866 §6.7: the session-level direction applies where the media says nothing.
    expect(effectiveDirection(d, audio!)).toBe('recvonly');
    expect(serializeSessionDescription(d)).toContain(
      ['s=Seminar', 'i=A talk', 'c=IN IP4 233.252.0.1/127/2', 'b=CT:128', 't=2873397496 2873404696', 'r=7d 1h 0 25h', 'a=recvonly', 'm=audio 49170/2 RTP/AVP 0', 'i=Voice', 'c=IN IP6 2001:db8::2', ''].join('\r\n'),
    );
  });

  it('lets a media-level direction override the session-level one, sendrecv by default', () => {
    const d = sdp(MINIMAL.replace('t=0 0\r\n', 't=0 0\r\na=sendonly\r\n') + 'a=inactive\r\nm=audio 4002 RTP/AVP 0\r\n');
    expect(effectiveDirection(d, d.media[0]!)).toBe('inactive');
    expect(effectiveDirection(d, d.media[1]!)).toBe('sendonly');
    expect(effectiveDirection(sdp(MINIMAL), sdp(MINIMAL).media[0]!)).toBe('sendrecv');
  });

  it('reads the RTCP port from a=rtcp (RFC 3605), with or without an address', () => {
    expect(rtcpAttributeOf(sdp(MINIMAL + 'a=rtcp:53020\r\n').media[0]!.attributes)).toEqual({ port: 53020, connection: null });
    expect(rtcpAttributeOf(sdp(MINIMAL + 'a=rtcp:53020 IN IP4 192.0.2.7\r\n').media[0]!.attributes)).toEqual({
      port: 53020,
      connection: { netType: 'IN', addrType: 'IP4', address: '192.0.2.7', suffix: '' },
    });
    expect(rtcpAttributeOf(sdp(MINIMAL).media[0]!.attributes)).toBeNull();
  });

  it('counts session versions (RFC 3264 §8)', () => {
    const o = sdp(MINIMAL).origin;
    expect(nextOrigin(o, true)).toEqual({ ...o, sessionVersion: 2n });
    expect(nextOrigin(o, false)).toBe(o);
    expect(compareOrigins(o, o)).toBe('unchanged');
    expect(compareOrigins(o, { ...o, sessionVersion: 5n })).toBe('newer');
    expect(compareOrigins(o, { ...o, sessionVersion: 0n })).toBe('older');
    expect(compareOrigins(o, { ...o, sessionId: '2' })).toBe('different-session');
    // Versions beyond 2^53 (NTP-based ones) still count exactly.
    const big = { ...o, sessionVersion: 18446744073709551615n };
    expect(nextOrigin(big, true).sessionVersion).toBe(18446744073709551616n);
  });
});
