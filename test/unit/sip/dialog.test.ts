import { describe, expect, it } from 'vitest';
import { Dialog } from '../../../src/sip/dialog.js';
import { tagOf, type Via } from '../../../src/sip/headers.js';
import { formatUri } from '../../../src/sip/uri.js';
import { parseRequest, parseResponse } from '../../support/messages.js';

const VIA: Via = { protocol: 'SIP/2.0', transport: 'UDP', host: '192.0.2.1', port: 5060, params: [{ name: 'rport', value: null }] };

const INVITE = parseRequest(`INVITE sip:1002@voix.test SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa1
From: "Alice" <sip:1001@voix.test>;tag=alice-tag
To: <sip:1002@voix.test>
Call-ID: dialog-test
CSeq: 10 INVITE
Contact: <sip:1001@192.0.2.10:5062>
Record-Route: <sip:proxy1.example.com;lr>, <sip:proxy2.example.com;lr>
Content-Length: 0

`);

describe('Dialog as UAS (RFC 3261 §12.1.1)', () => {
  it('takes the remote target from Contact and the route set in Record-Route order', () => {
    const d = Dialog.forUas(INVITE, 'voix-tag', 'confirmed');
    expect(d).not.toBeNull();
    expect(formatUri(d!.remoteTarget)).toBe('sip:1001@192.0.2.10:5062');
    expect(d!.routeSet).toEqual(['<sip:proxy1.example.com;lr>', '<sip:proxy2.example.com;lr>']);
  });

  it('builds a BYE to the remote target with Route headers, the tags swapped and the next CSeq', () => {
    const d = Dialog.forUas(INVITE, 'voix-tag', 'confirmed')!;
    const bye = d.createRequest('BYE', VIA);
    const again = d.createRequest('BYE', VIA);

    expect(formatUri(bye.uri)).toBe('sip:1001@192.0.2.10:5062');
    expect(bye.headers.getAll('route')).toEqual(['<sip:proxy1.example.com;lr>', '<sip:proxy2.example.com;lr>']);
    expect(tagOf(bye.from)).toBe('voix-tag');
    expect(tagOf(bye.to)).toBe('alice-tag');
    expect(bye.callId).toBe('dialog-test');
    expect(again.cseq.seq).toBe(bye.cseq.seq + 1);
    expect(again.topVia.params.find((p) => p.name === 'branch')?.value).not.toBe(bye.topVia.params.find((p) => p.name === 'branch')?.value);
  });

  it('refuses a request with a CSeq not above the last one (500, §12.2.2) and updates the target on re-INVITE', () => {
    const d = Dialog.forUas(INVITE, 'voix-tag', 'confirmed')!;
    const stale = parseRequest(`BYE sip:1002@192.0.2.1 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa2
From: <sip:1001@voix.test>;tag=alice-tag
To: <sip:1002@voix.test>;tag=voix-tag
Call-ID: dialog-test
CSeq: 10 BYE
Content-Length: 0

`);
    const reinvite = parseRequest(`INVITE sip:1002@192.0.2.1 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa3
From: <sip:1001@voix.test>;tag=alice-tag
To: <sip:1002@voix.test>;tag=voix-tag
Call-ID: dialog-test
CSeq: 11 INVITE
Contact: <sip:1001@198.51.100.20:6000>
Content-Length: 0

`);
    expect(d.checkIncoming(stale)).toEqual({ ok: false, status: 500, reason: 'CSeq out of order' });
    expect(d.checkIncoming(reinvite)).toEqual({ ok: true });
    expect(formatUri(d.remoteTarget)).toBe('sip:1001@198.51.100.20:6000');
  });
});

describe('Dialog as UAC (RFC 3261 §12.1.2)', () => {
  const response = parseResponse(`SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa1
From: "Alice" <sip:1001@voix.test>;tag=alice-tag
To: <sip:1002@voix.test>;tag=bob-tag
Call-ID: dialog-test
CSeq: 10 INVITE
Contact: <sip:1002@192.0.2.30:5070;transport=tcp?Route=%3Csip:evil.example.com%3E>
Record-Route: <sip:proxy1.example.com;lr>, <sip:proxy2.example.com;lr>
Content-Length: 0

`);

  it('reverses Record-Route, drops URI headers from the target and acknowledges with the INVITE CSeq', () => {
    const d = Dialog.forUac(INVITE, response)!;
    const ack = d.createAck(10, VIA);

    expect(d.routeSet).toEqual(['<sip:proxy2.example.com;lr>', '<sip:proxy1.example.com;lr>']);
    expect(formatUri(d.remoteTarget)).toBe('sip:1002@192.0.2.30:5070;transport=tcp');
    expect(ack.cseq).toEqual({ seq: 10, method: 'ACK' });
    expect(tagOf(ack.to)).toBe('bob-tag');
    expect(d.state).toBe('confirmed');
  });

  it('puts a strict router in the Request-URI and the target last in Route', () => {
    const strict = parseResponse(response.headers.get('record-route') === undefined ? '' : `SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa1
From: <sip:1001@voix.test>;tag=alice-tag
To: <sip:1002@voix.test>;tag=bob-tag
Call-ID: dialog-test
CSeq: 10 INVITE
Contact: <sip:1002@192.0.2.30>
Record-Route: <sip:strict.example.com>
Content-Length: 0

`);
    const d = Dialog.forUac(INVITE, strict)!;
    const bye = d.createRequest('BYE', VIA);

    expect(formatUri(bye.uri)).toBe('sip:strict.example.com');
    expect(bye.headers.getAll('route')).toEqual(['<sip:1002@192.0.2.30>']);
  });
});
