import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { computeHa1, parseCredentials, verifyCredentials, type DigestCredentials } from '../../../src/sip/auth/digest.js';
import { branchOf, tagOf } from '../../../src/sip/headers.js';
import type { SipRequest } from '../../../src/sip/message.js';
import { serializeMessage } from '../../../src/sip/serializer.js';
import { answerChallenge, type ClientCredentials } from '../../../src/trunks/client-authentication.js';
import { parseRequest, parseResponse } from '../../support/messages.js';

// An RFC 3261 §24.1-style exchange: voix registers its trunk account to a provider.
const CREDENTIALS: ClientCredentials = { username: 'auth-0140', secret: { password: 'trunk-secret-password' } };
const REALM = 'sip.operator.example';
const NONCE = '84f1c1ae6cbe5ua9c3d3c0e6e9ba7d2c';
const CNONCE = '0a4f113b';

const REGISTER = `REGISTER sip:sip.operator.example SIP/2.0
Via: SIP/2.0/UDP 198.51.100.1:5060;rport;branch=z9hG4bKnashds7
Max-Forwards: 70
From: <sip:0140000000@sip.operator.example>;tag=a73kszlfl
To: <sip:0140000000@sip.operator.example>
Call-ID: 1j9FpLxk3uxtm8tn@198.51.100.1
CSeq: 1 REGISTER
Contact: <sip:0140000000@198.51.100.1:5060;transport=udp>
Expires: 600
Content-Length: 0

`;

function challengeResponse(status: 401 | 407, challenges: readonly string[], cseq = 1): ReturnType<typeof parseResponse> {
  const header = status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate';
  return parseResponse(`SIP/2.0 ${status} ${status === 401 ? 'Unauthorized' : 'Proxy Authentication Required'}
Via: SIP/2.0/UDP 198.51.100.1:5060;rport=5060;received=198.51.100.1;branch=z9hG4bKnashds7
From: <sip:0140000000@sip.operator.example>;tag=a73kszlfl
To: <sip:0140000000@sip.operator.example>;tag=37GkEhwl6
Call-ID: 1j9FpLxk3uxtm8tn@198.51.100.1
CSeq: ${cseq} REGISTER
${challenges.map((c) => `${header}: ${c}`).join('\n')}
Content-Length: 0

`);
}

function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

function digestOf(request: SipRequest, header = 'Authorization'): DigestCredentials {
  const value = request.headers.get(header);
  if (value === undefined) throw new Error(`no ${header}`);
  const parsed = parseCredentials(value);
  if (parsed === null || parsed.scheme !== 'Digest') throw new Error(`not Digest: ${value}`);
  return parsed;
}

function verifiesWithPassword(request: SipRequest, header: string, realm: string, offered: readonly ('MD5' | 'SHA-256')[]): boolean {
  const result = verifyCredentials(digestOf(request, header), {
    method: request.method,
    realm,
    offered,
    lookupHa1: (user, hash) => (user === 'auth-0140' ? computeHa1(hash, user, realm, 'trunk-secret-password') : undefined),
  });
  return result.ok;
}

describe('answerChallenge', () => {
  it('answers an MD5 qop=auth 401 with the RFC 7616 §3.4.1 response, a new branch and CSeq + 1', () => {
    const request = parseRequest(REGISTER);
    const response = challengeResponse(401, [`Digest realm="${REALM}", nonce="${NONCE}", algorithm=MD5, qop="auth", opaque="5ccc069c403ebaf9"`]);

    const answer = answerChallenge({ request, response, credentials: CREDENTIALS, cnonce: CNONCE });

    if (!answer.ok) throw new Error(answer.reason);
    const retry = answer.request;
    const expected = md5(`${md5(`auth-0140:${REALM}:trunk-secret-password`)}:${NONCE}:00000001:${CNONCE}:auth:${md5('REGISTER:sip:sip.operator.example')}`);
    expect(retry.headers.get('Authorization')).toBe(
      `Digest username="auth-0140", realm="${REALM}", nonce="${NONCE}", uri="sip:sip.operator.example", response="${expected}", algorithm=MD5, cnonce="${CNONCE}", qop=auth, nc=00000001, opaque="5ccc069c403ebaf9"`,
    );
    expect(retry.cseq).toEqual({ seq: 2, method: 'REGISTER' });
    expect(retry.callId).toBe(request.callId);
    expect(branchOf(retry.topVia)).toMatch(/^z9hG4bK/);
    expect(branchOf(retry.topVia)).not.toBe('z9hG4bKnashds7');
    expect(retry.via).toHaveLength(1);
    expect(tagOf(retry.from)).toBe('a73kszlfl');
    // RFC 3261 §8.1.3.5: the challenge's To tag is not copied.
    expect(tagOf(retry.to)).toBeNull();
    expect(retry.headers.get('Contact')).toBe('<sip:0140000000@198.51.100.1:5060;transport=udp>');
    expect(retry.headers.get('Expires')).toBe('600');
    expect(answer.realms).toEqual([{ realm: REALM, algorithm: 'MD5', header: 'Authorization', stale: false }]);
    expect(answer.state.attempts).toBe(1);
    // The challenged request is left as it was.
    expect(request.headers.has('Authorization')).toBe(false);
    expect(request.cseq.seq).toBe(1);
  });

  it('prefers SHA-256 when the provider offers it after MD5 (RFC 8760)', () => {
    const request = parseRequest(REGISTER);
    const response = challengeResponse(401, [
      `Digest realm="${REALM}", nonce="${NONCE}", algorithm=MD5, qop="auth"`,
      `Digest realm="${REALM}", nonce="${NONCE}", algorithm=SHA-256, qop="auth"`,
    ]);

    const answer = answerChallenge({ request, response, credentials: CREDENTIALS });

    if (!answer.ok) throw new Error(answer.reason);
    expect(digestOf(answer.request).algorithm).toBe('SHA-256');
    expect(verifiesWithPassword(answer.request, 'Authorization', REALM, ['SHA-256'])).toBe(true);
  });

  it('takes MD5 when SHA-256 is offered only with qop=auth-int', () => {
    const request = parseRequest(REGISTER);
    const response = challengeResponse(401, [
      `Digest realm="${REALM}", nonce="${NONCE}", algorithm=SHA-256, qop="auth-int"`,
      `Digest realm="${REALM}", nonce="${NONCE}", algorithm=MD5, qop="auth"`,
    ]);

    const answer = answerChallenge({ request, response, credentials: CREDENTIALS });

    if (!answer.ok) throw new Error(answer.reason);
    expect(digestOf(answer.request).algorithm).toBe('MD5');
    expect(verifiesWithPassword(answer.request, 'Authorization', REALM, ['MD5'])).toBe(true);
  });

  it('answers a 407 to an INVITE with Proxy-Authorization, keeping Route and body', () => {
    const invite = parseRequest(`INVITE sip:+33612345678@sip.operator.example SIP/2.0
Via: SIP/2.0/TLS 198.51.100.1:5061;rport;branch=z9hG4bKinv1
Max-Forwards: 69
Route: <sip:edge.operator.example;lr>
From: "Alice" <sip:0140000000@sip.operator.example>;tag=9fxced76sl
To: <sip:+33612345678@sip.operator.example>
Call-ID: 3848276298220188511@198.51.100.1
CSeq: 1 INVITE
Contact: <sip:0140000000@198.51.100.1:5061;transport=tls>
Content-Type: application/sdp
Content-Length: 5

v=0
`);
    const response = parseResponse(`SIP/2.0 407 Proxy Authentication Required
Via: SIP/2.0/TLS 198.51.100.1:5061;rport=5061;received=198.51.100.1;branch=z9hG4bKinv1
From: "Alice" <sip:0140000000@sip.operator.example>;tag=9fxced76sl
To: <sip:+33612345678@sip.operator.example>;tag=a6c85cf
Call-ID: 3848276298220188511@198.51.100.1
CSeq: 1 INVITE
Proxy-Authenticate: Digest realm="${REALM}", nonce="wf84f1cczx41ae6cbeaea9ce88d359", qop="auth", algorithm=SHA-256
Content-Length: 0

`);

    const answer = answerChallenge({ request: invite, response, credentials: CREDENTIALS });

    if (!answer.ok) throw new Error(answer.reason);
    const retry = answer.request;
    expect(retry.method).toBe('INVITE');
    expect(retry.cseq).toEqual({ seq: 2, method: 'INVITE' });
    expect(retry.headers.has('Authorization')).toBe(false);
    expect(digestOf(retry, 'Proxy-Authorization').uri).toBe('sip:+33612345678@sip.operator.example');
    expect(verifiesWithPassword(retry, 'Proxy-Authorization', REALM, ['SHA-256'])).toBe(true);
    expect(retry.headers.get('Route')).toBe('<sip:edge.operator.example;lr>');
    expect(retry.body.toString()).toBe('v=0\r\n');
    expect(retry.body.equals(invite.body)).toBe(true);
    expect(retry.maxForwards).toBe(69);
    expect(retry.from.displayName).toBe('Alice');
    expect(serializeMessage(retry).toString()).toContain('Content-Type: application/sdp');
  });

  it('gives up when challenged again with the nonce it just answered (wrong password), without a loop', () => {
    const request = parseRequest(REGISTER);
    const challenge = `Digest realm="${REALM}", nonce="${NONCE}", algorithm=MD5, qop="auth"`;
    const first = answerChallenge({ request, response: challengeResponse(401, [challenge]), credentials: CREDENTIALS });
    if (!first.ok) throw new Error(first.reason);

    const second = answerChallenge({ request: first.request, response: challengeResponse(401, [challenge], 2), credentials: CREDENTIALS, state: first.state });

    expect(second).toEqual({ ok: false, reason: 'credentials-rejected', realm: REALM });
  });

  it('answers stale=true once more, then gives up after two attempts', () => {
    const request = parseRequest(REGISTER);
    const first = answerChallenge({
      request,
      response: challengeResponse(401, [`Digest realm="${REALM}", nonce="n1", algorithm=MD5, qop="auth"`]),
      credentials: CREDENTIALS,
    });
    if (!first.ok) throw new Error(first.reason);

    const second = answerChallenge({
      request: first.request,
      response: challengeResponse(401, [`Digest realm="${REALM}", nonce="n2", algorithm=MD5, qop="auth", stale=TRUE`], 2),
      credentials: CREDENTIALS,
      state: first.state,
    });
    if (!second.ok) throw new Error(second.reason);
    const third = answerChallenge({
      request: second.request,
      response: challengeResponse(401, [`Digest realm="${REALM}", nonce="n3", algorithm=MD5, qop="auth", stale=TRUE`], 3),
      credentials: CREDENTIALS,
      state: second.state,
    });

    expect(second.realms[0]?.stale).toBe(true);
    expect(digestOf(second.request).nonce).toBe('n2');
    expect(second.request.cseq.seq).toBe(3);
    expect(second.request.headers.getAll('Authorization')).toHaveLength(1);
    expect(third).toEqual({ ok: false, reason: 'too-many-attempts' });
  });

  it('accepts the same nonce again when the provider marks it stale', () => {
    const request = parseRequest(REGISTER);
    const first = answerChallenge({
      request,
      response: challengeResponse(401, [`Digest realm="${REALM}", nonce="n1", algorithm=MD5, qop="auth"`]),
      credentials: CREDENTIALS,
    });
    if (!first.ok) throw new Error(first.reason);

    const second = answerChallenge({
      request: first.request,
      response: challengeResponse(401, [`Digest realm="${REALM}", nonce="n1", algorithm=MD5, qop="auth", stale=true`], 2),
      credentials: CREDENTIALS,
      state: first.state,
    });

    expect(second.ok).toBe(true);
  });

  it('keeps the credentials of a realm not challenged again and adds the new realm (two proxies)', () => {
    const invite = parseRequest(REGISTER);
    const first = answerChallenge({
      request: invite,
      response: challengeResponse(407, [`Digest realm="edge.example", nonce="e1", qop="auth"`]),
      credentials: CREDENTIALS,
    });
    if (!first.ok) throw new Error(first.reason);

    const second = answerChallenge({
      request: first.request,
      response: challengeResponse(407, [`Digest realm="core.example", nonce="c1", qop="auth"`], 2),
      credentials: CREDENTIALS,
      state: first.state,
    });

    if (!second.ok) throw new Error(second.reason);
    const realms = second.request.headers.getAll('Proxy-Authorization').map((v) => {
      const c = parseCredentials(v);
      return c !== null && c.scheme === 'Digest' ? c.realm : null;
    });
    expect(realms).toEqual(['edge.example', 'core.example']);
  });

  it('answers an RFC 2069 challenge (no qop) without cnonce and nc', () => {
    const request = parseRequest(REGISTER);
    const response = challengeResponse(401, [`Digest realm="${REALM}", nonce="${NONCE}"`]);

    const answer = answerChallenge({ request, response, credentials: CREDENTIALS });

    if (!answer.ok) throw new Error(answer.reason);
    const digest = digestOf(answer.request);
    expect(digest.qop).toBeUndefined();
    expect(digest.cnonce).toBeUndefined();
    expect(digest.response).toBe(md5(`${md5(`auth-0140:${REALM}:trunk-secret-password`)}:${NONCE}:${md5('REGISTER:sip:sip.operator.example')}`));
  });

  it.each([
    ['qop auth-int only', `Digest realm="${REALM}", nonce="${NONCE}", qop="auth-int"`],
    ['an unknown algorithm', `Digest realm="${REALM}", nonce="${NONCE}", algorithm=SHA-512-256, qop="auth"`],
    ['another scheme', 'Basic realm="x"'],
  ])('refuses a challenge it cannot answer: %s', (_label, challenge) => {
    const answer = answerChallenge({ request: parseRequest(REGISTER), response: challengeResponse(401, [challenge]), credentials: CREDENTIALS });

    expect(answer.ok).toBe(false);
    expect(answer.ok ? null : answer.reason).toBe('no-usable-challenge');
  });

  it('refuses a response that is no challenge', () => {
    const response = parseResponse(`SIP/2.0 403 Forbidden
Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKnashds7
From: <sip:0140000000@sip.operator.example>;tag=a73kszlfl
To: <sip:0140000000@sip.operator.example>;tag=1
Call-ID: 1j9FpLxk3uxtm8tn@198.51.100.1
CSeq: 1 REGISTER
Content-Length: 0

`);

    expect(answerChallenge({ request: parseRequest(REGISTER), response, credentials: CREDENTIALS })).toEqual({ ok: false, reason: 'not-a-challenge' });
  });

  it('answers with a stored HA1 instead of the password', () => {
    const request = parseRequest(REGISTER);
    const response = challengeResponse(401, [`Digest realm="${REALM}", nonce="${NONCE}", algorithm=MD5, qop="auth"`]);
    const ha1 = computeHa1('MD5', 'auth-0140', REALM, 'trunk-secret-password');

    const answer = answerChallenge({ request, response, credentials: { username: 'auth-0140', secret: { ha1: { MD5: ha1 } } } });

    if (!answer.ok) throw new Error(answer.reason);
    expect(verifiesWithPassword(answer.request, 'Authorization', REALM, ['MD5'])).toBe(true);
  });

  it('never writes the password into the request', () => {
    const response = challengeResponse(401, [`Digest realm="${REALM}", nonce="${NONCE}", algorithm=MD5, qop="auth"`]);

    const answer = answerChallenge({ request: parseRequest(REGISTER), response, credentials: CREDENTIALS });

    if (!answer.ok) throw new Error(answer.reason);
    expect(serializeMessage(answer.request).toString()).not.toContain('trunk-secret-password');
  });
});
