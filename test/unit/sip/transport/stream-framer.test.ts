import { describe, expect, it } from 'vitest';
import { StreamFramer, type FrameEvent } from '../../../../src/sip/transport/stream-framer.js';
import { sipBytes } from '../../../support/messages.js';

const OPTIONS = (callId: string, body = '') =>
  sipBytes(`OPTIONS sip:voix.test SIP/2.0
Via: SIP/2.0/TCP 192.0.2.1:5070;branch=z9hG4bK-${callId}
From: <sip:a@voix.test>;tag=1
To: <sip:voix.test>
Call-ID: ${callId}
CSeq: 1 OPTIONS
Content-Type: text/plain
Content-Length: ${Buffer.byteLength(body)}

${body}`);

function callIds(events: FrameEvent[]): string[] {
  return events.map((e) => (e.type === 'message' ? e.message.callId : e.type));
}

describe('StreamFramer', () => {
  it('emits a message split across many reads once its body is complete', () => {
    const framer = new StreamFramer();
    const bytes = OPTIONS('split', 'hello body');
    const events: FrameEvent[] = [];
    for (let i = 0; i < bytes.length; i += 7) events.push(...framer.push(bytes.subarray(i, i + 7)));
    expect(callIds(events)).toEqual(['split']);
    const first = events[0];
    expect(first?.type === 'message' && first.message.body.toString()).toBe('hello body');
  });

  it('emits every message of a pipelined read, in order', () => {
    const framer = new StreamFramer();
    const events = framer.push(Buffer.concat([OPTIONS('one', 'x'), OPTIONS('two'), OPTIONS('three', 'yz')]));
    expect(callIds(events)).toEqual(['one', 'two', 'three']);
    expect(framer.buffered).toBe(0);
  });

  it('answers a CRLF CRLF keep-alive between messages, even when the ping is split (RFC 5626 §3.5.1)', () => {
    const framer = new StreamFramer();
    expect(callIds(framer.push(Buffer.from('\r\n\r\n')))).toEqual(['ping']);
    expect(callIds(framer.push(Buffer.from('\r\n')))).toEqual([]);
    expect(callIds(framer.push(Buffer.from('\r\n')))).toEqual(['ping']);
    expect(callIds(framer.push(Buffer.concat([Buffer.from('\r\n'), OPTIONS('after-pong')])))).toEqual(['after-pong']);
  });

  it('skips the body of an unparsable message whose length is known and goes on', () => {
    const framer = new StreamFramer();
    const broken = sipBytes('INVITE <sip:a@b> SIP/2.0\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\nContent-Length: 5\n\nabcde');
    const events = framer.push(Buffer.concat([broken, OPTIONS('next')]));
    expect(events.map((e) => e.type)).toEqual(['error', 'message']);
    expect(events[0]).toMatchObject({ type: 'error', fatal: false, failure: { status: 400 } });
  });

  it('gives up on the stream when the length cannot be known (RFC 4475 §3.1.2.3, §3.3.9)', () => {
    for (const cl of ['Content-Length: -999', 'Content-Length: 13\nContent-Length: 5']) {
      const framer = new StreamFramer();
      const events = framer.push(Buffer.concat([sipBytes(`OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\n${cl}\n\n`), OPTIONS('lost')]));
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ type: 'error', fatal: true });
      expect(framer.push(OPTIONS('ignored'))).toEqual([]);
    }
  });

  it('refuses a header section larger than the limit without waiting forever', () => {
    const framer = new StreamFramer({ maxHeadBytes: 1024 });
    const events = framer.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nX-Filler: ' + 'a'.repeat(2000)));
    expect(events).toEqual([expect.objectContaining({ type: 'error', fatal: true })]);
  });
});

describe('StreamFramer limits', () => {
  it('answers 513 to a message longer than maxMessageBytes and gives up on the stream (what follows cannot be framed)', () => {
    const framer = new StreamFramer({ maxMessageBytes: 600 });
    const big = OPTIONS('too-big', 'x'.repeat(400));

    const events = framer.push(Buffer.concat([OPTIONS('fits', 'y'), big, OPTIONS('after')]));

    expect(events.map((e) => e.type)).toEqual(['message', 'error']);
    expect(events[1]).toMatchObject({ type: 'error', fatal: true, failure: { status: 513, reason: 'Message Too Large', isRequest: true } });
    const failure = events[1]?.type === 'error' ? events[1].failure : null;
    expect(failure?.head).toContain('Call-ID: too-big');
    expect(framer.push(OPTIONS('ignored'))).toEqual([]);
  });

  it('refuses a header section larger than maxMessageBytes without reading further', () => {
    const framer = new StreamFramer({ maxMessageBytes: 1500 });

    const events = framer.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nX-Filler: ' + 'a'.repeat(2000)));

    expect(events).toEqual([expect.objectContaining({ type: 'error', fatal: true })]);
  });

  it('answers 400 to a message with too many header fields, skips its body and goes on', () => {
    const framer = new StreamFramer({ maxHeaders: 10 });
    const extra = Array.from({ length: 20 }, (_, i) => `X-Header-${i}: ${i}`).join('\n');
    const crowded = sipBytes(`OPTIONS sip:voix.test SIP/2.0
Via: SIP/2.0/TCP 192.0.2.1:5070;branch=z9hG4bK-crowded
From: <sip:a@voix.test>;tag=1
To: <sip:voix.test>
Call-ID: crowded
CSeq: 1 OPTIONS
${extra}
Content-Length: 4

body`);

    const events = framer.push(Buffer.concat([crowded, OPTIONS('next')]));

    expect(events.map((e) => e.type)).toEqual(['error', 'message']);
    expect(events[0]).toMatchObject({ type: 'error', fatal: false, failure: { status: 400, reason: 'Too Many Header Fields' } });
    expect(callIds(events.slice(1))).toEqual(['next']);
  });
});
