/**
 * The SIP message model (RFC 3261 §7). The headers every transaction and
 * dialog needs are parsed into fields; all others stay as text in `headers`.
 */
import { Headers, type CSeq, type NameAddr, type Via } from './headers.js';
import type { Uri } from './uri.js';

export const SIP_VERSION = 'SIP/2.0';

const EMPTY_BODY = Buffer.alloc(0);

export interface MessageFields {
  via: Via[];
  from: NameAddr;
  to: NameAddr;
  callId: string;
  cseq: CSeq;
  /** Absent in RFC 2543-era requests and in most responses. */
  maxForwards?: number | null;
  headers?: Headers;
  body?: Buffer;
  version?: string;
}

abstract class SipMessage {
  via: Via[];
  from: NameAddr;
  to: NameAddr;
  callId: string;
  cseq: CSeq;
  maxForwards: number | null;
  headers: Headers;
  body: Buffer;
  version: string;

  protected constructor(fields: MessageFields) {
    this.via = fields.via;
    this.from = fields.from;
    this.to = fields.to;
    this.callId = fields.callId;
    this.cseq = fields.cseq;
    this.maxForwards = fields.maxForwards ?? null;
    this.headers = fields.headers ?? new Headers();
    this.body = fields.body ?? EMPTY_BODY;
    this.version = fields.version ?? SIP_VERSION;
  }

  get topVia(): Via {
    const top = this.via[0];
    // The parser refuses messages without Via; builders always set one.
    if (top === undefined) throw new Error('message without Via');
    return top;
  }
}

export class SipRequest extends SipMessage {
  readonly kind = 'request' as const;
  method: string;
  uri: Uri;

  constructor(method: string, uri: Uri, fields: MessageFields) {
    super(fields);
    this.method = method;
    this.uri = uri;
  }
}

export class SipResponse extends SipMessage {
  readonly kind = 'response' as const;
  status: number;
  reason: string;

  constructor(status: number, reason: string, fields: MessageFields) {
    super(fields);
    this.status = status;
    this.reason = reason;
  }
}

export type AnySipMessage = SipRequest | SipResponse;

/** RFC 3261 §21 reason phrases for the codes voix sends. */
export const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Trying',
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  182: 'Queued',
  183: 'Session Progress',
  200: 'OK',
  202: 'Accepted',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  410: 'Gone',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  420: 'Bad Extension',
  421: 'Extension Required',
  422: 'Session Interval Too Small',
  423: 'Interval Too Brief',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  483: 'Too Many Hops',
  484: 'Address Incomplete',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  491: 'Request Pending',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  504: 'Server Time-out',
  505: 'Version Not Supported',
  513: 'Message Too Large',
  600: 'Busy Everywhere',
  603: 'Decline',
  604: 'Does Not Exist Anywhere',
  606: 'Not Acceptable',
};

export function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? (status < 300 ? 'OK' : 'Error');
}
