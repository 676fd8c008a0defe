/**
 * SIP message serializer (RFC 3261 §7). Long header names, one line per Via,
 * Content-Length computed from the body in bytes.
 */
import { formatCSeq, formatNameAddr, formatVia } from './headers.js';
import type { AnySipMessage } from './message.js';
import { formatUri } from './uri.js';

export function serializeHead(msg: AnySipMessage): string {
  let out =
    msg.kind === 'request'
      ? msg.method + ' ' + formatUri(msg.uri) + ' ' + msg.version + '\r\n'
      : msg.version + ' ' + msg.status + ' ' + msg.reason + '\r\n';
  for (const v of msg.via) out += 'Via: ' + formatVia(v) + '\r\n';
  if (msg.maxForwards !== null) out += 'Max-Forwards: ' + msg.maxForwards + '\r\n';
  out += 'From: ' + formatNameAddr(msg.from) + '\r\n';
  out += 'To: ' + formatNameAddr(msg.to) + '\r\n';
  out += 'Call-ID: ' + msg.callId + '\r\n';
  out += 'CSeq: ' + formatCSeq(msg.cseq) + '\r\n';
  for (const f of msg.headers) out += f.name + ': ' + f.value + '\r\n';
  out += 'Content-Length: ' + msg.body.length + '\r\n\r\n';
  return out;
}

export function serializeMessage(msg: AnySipMessage): Buffer {
  const head = serializeHead(msg);
  if (msg.body.length === 0) return Buffer.from(head, 'utf8');
  const headLength = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLength + msg.body.length);
  out.write(head, 0, 'utf8');
  out.set(msg.body, headLength);
  return out;
}
