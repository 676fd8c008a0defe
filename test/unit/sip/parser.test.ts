import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Headers, tagOf } from '../../../src/sip/headers.js';
import { SipRequest, SipResponse } from '../../../src/sip/message.js';
import { findHeadEnd, parseDatagram, parseHead, rawHeaderValues, type SipParseResult } from '../../../src/sip/parser.js';
import { serializeMessage } from '../../../src/sip/serializer.js';
import { isSipUri, parseUri } from '../../../src/sip/uri.js';

function parse(text: string): SipParseResult {
  return parseDatagram(Buffer.from(text.replace(/\n/g, '\r\n'), 'utf8'));
}

function request(text: string): SipRequest {
  const r = parse(text);
  if (!r.ok) throw new Error(`parse failed: ${r.reason}`);
  if (r.message.kind !== 'request') throw new Error('not a request');
  return r.message;
}

const REGISTER = `REGISTER sip:voix.test SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-abc;rport
Max-Forwards: 70
From: "Alice Martin" <sip:1001@voix.test>;tag=a73kszlfl
To: <sip:1001@voix.test>
Call-ID: 1j9FpLxk3uxtm8tn@192.0.2.10
CSeq: 1 REGISTER
Contact: <sip:1001@192.0.2.10:5062>;expires=600
User-Agent: test
Content-Length: 0

`;

describe('parseDatagram', () => {
  it('parses the core headers of a request', () => {
    const req = request(REGISTER);
    expect(req.method).toBe('REGISTER');
    expect(req.uri).toMatchObject({ scheme: 'sip', host: 'voix.test', user: null });
    expect(req.via).toHaveLength(1);
    expect(req.topVia).toMatchObject({ protocol: 'SIP/2.0', transport: 'UDP', host: '192.0.2.10', port: 5062 });
    expect(req.topVia.params).toEqual([
      { name: 'branch', value: 'z9hG4bK-abc' },
      { name: 'rport', value: null },
    ]);
    expect(req.from.displayName).toBe('Alice Martin');
    expect(tagOf(req.from)).toBe('a73kszlfl');
    expect(tagOf(req.to)).toBeNull();
    expect(req.callId).toBe('1j9FpLxk3uxtm8tn@192.0.2.10');
    expect(req.cseq).toEqual({ seq: 1, method: 'REGISTER' });
    expect(req.maxForwards).toBe(70);
    expect(req.headers.get('contact')).toBe('<sip:1001@192.0.2.10:5062>;expires=600');
    expect(req.headers.get('USER-AGENT')).toBe('test');
    expect(req.body.length).toBe(0);
  });

  it('expands compact header names', () => {
    const req = request(`OPTIONS sip:voix.test SIP/2.0
v: SIP/2.0/TCP h.example.com;branch=z9hG4bK1
f: <sip:a@example.com>;tag=1
t: <sip:b@example.com>
i: compact@h
CSeq: 2 OPTIONS
m: <sip:a@h.example.com>
k: path
l: 0

`);
    expect(req.callId).toBe('compact@h');
    expect(req.headers.get('Contact')).toBe('<sip:a@h.example.com>');
    expect(req.headers.get('supported')).toBe('path');
  });

  it('splits several Via values on one line and keeps their order across lines', () => {
    const req = request(`OPTIONS sip:voix.test SIP/2.0
Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com:5070;branch=z9hG4bK2
Via: SIP/2.0/TLS c.example.com;branch=z9hG4bK3
From: <sip:a@example.com>;tag=1
To: <sip:b@example.com>
Call-ID: x
CSeq: 2 OPTIONS

`);
    expect(req.via.map((v) => v.host)).toEqual(['a.example.com', 'b.example.com', 'c.example.com']);
    expect(req.via[1]?.port).toBe(5070);
  });

  it('counts Content-Length in bytes, not characters', () => {
    const body = 'café ☎';
    const r = parse(`MESSAGE sip:1001@voix.test SIP/2.0
Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1
From: <sip:a@example.com>;tag=1
To: <sip:1001@voix.test>
Call-ID: utf8
CSeq: 1 MESSAGE
Content-Type: text/plain;charset=utf-8
Content-Length: ${Buffer.byteLength(body)}

${body}`);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.message.body.toString('utf8')).toBe(body);
  });

  it('reads a response with an empty reason phrase', () => {
    const r = parse(`SIP/2.0 180 
Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1
From: <sip:a@example.com>;tag=1
To: <sip:b@example.com>;tag=2
Call-ID: x
CSeq: 1 INVITE

`);
    expect(r.ok && r.message.kind === 'response' && r.message.status === 180 && r.message.reason === '').toBe(true);
  });

  it.each([
    ['a missing CSeq', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x\n', 'Missing CSeq header'],
    ['a CSeq of 2^31', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: x\nCSeq: 2147483648 OPTIONS\n', 'Malformed CSeq header'],
    ['a header line without colon', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1\nGarbage\n', 'Header line without a colon'],
    ['a Via without host', 'Via: SIP/2.0/UDP ;branch=z9hG4bK1\n', 'Malformed Via header'],
  ])('refuses a request with %s', (_what, headers, reason) => {
    const r = parse(`OPTIONS sip:voix.test SIP/2.0\n${headers}\n`);
    expect(r).toMatchObject({ ok: false, status: 400, reason, isRequest: true });
  });
});

describe('findHeadEnd', () => {
  it('finds CRLF CRLF and a bare LF LF, and waits when the blank line has not arrived', () => {
    expect(findHeadEnd(Buffer.from('A: b\r\n\r\nbody'), 0)).toEqual({ headEnd: 5, bodyStart: 8 });
    expect(findHeadEnd(Buffer.from('A: b\n\nbody'), 0)).toEqual({ headEnd: 4, bodyStart: 6 });
    expect(findHeadEnd(Buffer.from('A: b\r\n'), 0)).toBeNull();
    expect(findHeadEnd(Buffer.from('A: b\r\n\r'), 0)).toBeNull();
  });
});

describe('serializeMessage', () => {
  it('round-trips a request through parse and serialize', () => {
    const first = request(REGISTER);
    const again = parseDatagram(serializeMessage(first));
    expect(again.ok).toBe(true);
    if (!again.ok) return;
    const second = again.message as SipRequest;
    expect(second.method).toBe(first.method);
    expect(second.uri).toEqual(first.uri);
    expect(second.via).toEqual(first.via);
    expect(second.from).toEqual(first.from);
    expect(second.to).toEqual(first.to);
    expect(second.callId).toBe(first.callId);
    expect(second.cseq).toEqual(first.cseq);
    expect(second.maxForwards).toBe(first.maxForwards);
    expect([...second.headers]).toEqual([...first.headers]);
  });

  it('quotes display names and writes Content-Length from the body bytes', () => {
    const uri = parseUri('sip:1001@voix.test');
    if (uri === null || !isSipUri(uri)) throw new Error('uri');
    const res = new SipResponse(200, 'OK', {
      via: [{ protocol: 'SIP/2.0', transport: 'UDP', host: 'h', port: null, params: [{ name: 'branch', value: 'z9hG4bK1' }] }],
      from: { displayName: 'Dupont "le grand"', uri, params: [{ name: 'tag', value: '1' }] },
      to: { displayName: null, uri, params: [] },
      callId: 'c',
      cseq: { seq: 1, method: 'INVITE' },
      headers: new Headers().append('Content-Type', 'text/plain'),
      body: Buffer.from('é', 'utf8'),
    });
    const text = serializeMessage(res).toString('utf8');
    expect(text).toContain('From: "Dupont \\"le grand\\"" <sip:1001@voix.test>;tag=1\r\n');
    expect(text).toContain('Content-Length: 2\r\n\r\né');
    const back = parseDatagram(serializeMessage(res));
    expect(back.ok && back.message.from.displayName).toBe('Dupont "le grand"');
  });
});

describe('rawHeaderValues', () => {
  it('reads header values from a header section that failed to parse, unfolding lines', () => {
    const head = 'INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;;,;\r\nCall-ID: abc\r\nt: <sip:x@y>\r\n ;tag=9';
    expect(rawHeaderValues(head, 'via')).toEqual(['SIP/2.0/UDP h;;,;']);
    expect(rawHeaderValues(head, 'to')).toEqual(['<sip:x@y> ;tag=9']);
  });
});

describe('parseHead', () => {
  it('reports the Content-Length for stream framing', () => {
    const r = parseHead('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nl: 12');
    expect(r.ok && r.contentLength).toBe(12);
  });
});

// RFC 4475 messages are byte-exact files: read as binary.
const TORTURE = '../shared/rfc4475/';
function torture(name: string): SipParseResult {
  return parseDatagram(readFileSync(new URL(`../../../${TORTURE}${name}.dat`, import.meta.url).pathname.replace('/main/../', '/')));
}

describe('parseDatagram limits', () => {
  const withHeaders = (n: number) =>
    Buffer.from(
      [
        'OPTIONS sip:voix.test SIP/2.0',
        'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKlimits',
        'From: <sip:a@voix.test>;tag=1',
        'To: <sip:voix.test>',
        'Call-ID: limits',
        'CSeq: 1 OPTIONS',
        ...Array.from({ length: n - 5 }, (_, i) => `X-Extra-${i}: ${i}`),
        '',
        '',
      ].join('\r\n'),
    );

  it('accepts up to maxHeaders header fields and refuses one more with 400 Too Many Header Fields', () => {
    const atLimit = parseDatagram(withHeaders(20), { maxHeaders: 20 });
    const over = parseDatagram(withHeaders(21), { maxHeaders: 20 });

    expect(atLimit.ok).toBe(true);
    expect(over).toMatchObject({ ok: false, status: 400, reason: 'Too Many Header Fields', isRequest: true });
  });

  it('counts a folded header field once', () => {
    const folded = Buffer.from(
      'OPTIONS sip:voix.test SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKfold\r\nFrom: <sip:a@voix.test>;tag=1\r\nTo: <sip:voix.test>\r\nCall-ID: fold\r\nCSeq: 1\r\n OPTIONS\r\n\r\n',
    );

    expect(parseDatagram(folded, { maxHeaders: 5 }).ok).toBe(true);
  });
});

