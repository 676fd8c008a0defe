/**
 * Building messages from others: responses from requests (RFC 3261 §8.2.6),
 * ACK for a non-2xx final response (§17.1.1.3), CANCEL (§9.1), and the
 * random identifiers a UA creates (branch, tag, Call-ID).
 */
import { setParam } from './grammar.js';
import { BRANCH_MAGIC_COOKIE, Headers, type NameAddr, type Via } from './headers.js';
import { SipRequest, SipResponse, reasonPhrase } from './message.js';
import { randomBase64Url } from '../util/random-pool.js';

function randomToken(bytes: number): string {
  return randomBase64Url(bytes);
}

/** A branch with the RFC 3261 magic cookie, unique in space and time (§8.1.1.7). */
export function newBranch(): string {
  return BRANCH_MAGIC_COOKIE + randomToken(12);
}

/** A tag with at least 32 bits of randomness (§19.3). */
export function newTag(): string {
  return randomToken(8);
}

export function newCallId(host?: string): string {
  const id = randomToken(16);
  return host === undefined ? id : id + '@' + host;
}

function cloneVia(v: Via): Via {
  return { ...v, params: v.params.slice() };
}

function cloneNameAddr(na: NameAddr): NameAddr {
  return { ...na, params: na.params.slice() };
}

export interface ResponseOptions {
  reason?: string;
  /** To tag to add when the request's To has none (ignored for 100, §8.2.6.2). */
  toTag?: string;
  headers?: Headers;
  body?: Buffer;
}

/**
 * A response to `request`: Via, From, Call-ID and CSeq copied, To copied
 * with a tag added when it has none and the status is above 100
 * (RFC 3261 §8.2.6.2).
 */
export function createResponse(request: SipRequest, status: number, options: ResponseOptions = {}): SipResponse {
  const to = cloneNameAddr(request.to);
  if (status > 100 && options.toTag !== undefined && !to.params.some((p) => p.name === 'tag')) {
    setParam(to.params, 'tag', options.toTag);
  }
  const fields = {
    via: request.via.map(cloneVia),
    from: cloneNameAddr(request.from),
    to,
    callId: request.callId,
    cseq: { seq: request.cseq.seq, method: request.cseq.method },
    headers: options.headers ?? new Headers(),
    ...(options.body !== undefined ? { body: options.body } : {}),
  };
  return new SipResponse(status, options.reason ?? reasonPhrase(status), fields);
}

/**
 * The ACK a client INVITE transaction sends for a non-2xx final response
 * (RFC 3261 §17.1.1.3): same Request-URI, top Via, From, Call-ID and CSeq
 * number as the INVITE, To from the response, and the INVITE's Route headers.
 */
export function createAckForNon2xx(invite: SipRequest, response: SipResponse): SipRequest {
  const headers = new Headers();
  for (const route of invite.headers.getAll('route')) headers.append('Route', route);
  return new SipRequest('ACK', invite.uri, {
    via: [cloneVia(invite.topVia)],
    from: cloneNameAddr(invite.from),
    to: cloneNameAddr(response.to),
    callId: invite.callId,
    cseq: { seq: invite.cseq.seq, method: 'ACK' },
    maxForwards: 70,
    headers,
  });
}

/**
 * A CANCEL for a pending request (RFC 3261 §9.1): same Request-URI, top Via
 * (so it matches the same server transaction), From, To, Call-ID and CSeq
 * number, and the request's Route headers.
 */
export function createCancel(request: SipRequest): SipRequest {
  const headers = new Headers();
  for (const route of request.headers.getAll('route')) headers.append('Route', route);
  return new SipRequest('CANCEL', request.uri, {
    via: [cloneVia(request.topVia)],
    from: cloneNameAddr(request.from),
    to: cloneNameAddr(request.to),
    callId: request.callId,
    cseq: { seq: request.cseq.seq, method: 'CANCEL' },
    maxForwards: 70,
    headers,
  });
}
