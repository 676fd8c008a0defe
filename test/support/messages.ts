/** Builds test messages from readable text (LF line ends become CRLF). */
import { SipRequest, SipResponse, type AnySipMessage } from '../../src/sip/message.js';
import { parseDatagram } from '../../src/sip/parser.js';

export function sipBytes(text: string): Buffer {
  return Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'utf8');
}

export function parseRequest(text: string): SipRequest {
  const r = parseDatagram(sipBytes(text));
  if (!r.ok) throw new Error(`test request does not parse: ${r.reason}`);
  if (r.message.kind !== 'request') throw new Error('test message is not a request');
  return r.message;
}

/** Bytes a fake sender was handed (MessageSender.sendSerialized), parsed as their receiver would. */
export function parseSent(data: Buffer): AnySipMessage {
  const r = parseDatagram(data);
  if (!r.ok) throw new Error(`sent bytes do not parse: ${r.reason}`);
  return r.message;
}

export function parseResponse(text: string): SipResponse {
  const r = parseDatagram(sipBytes(text));
  if (!r.ok) throw new Error(`test response does not parse: ${r.reason}`);
  if (r.message.kind !== 'response') throw new Error('test message is not a response');
  return r.message;
}
