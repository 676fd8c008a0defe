import { beforeEach, describe, expect, it } from 'vitest';
import { DigestAuthenticator, type AuthOutcome } from '../../../src/core/digest-authenticator.js';
import { MapUserDirectory } from '../../../src/core/users.js';
import { createMemoryLogger, type LogFields } from '../../../src/log/logger.js';
import { BanList } from '../../../src/security/ban-list.js';
import { SecurityLog } from '../../../src/security/security-log.js';
import { buildAuthorization, computeHa1, parseChallenge, type DigestChallenge } from '../../../src/sip/auth/digest.js';
import { NonceManager } from '../../../src/sip/auth/nonce.js';
import type { SipRequest } from '../../../src/sip/message.js';
import type { Flow } from '../../../src/sip/transport/types.js';
import { FakeClock } from '../../../src/util/clock.js';
import { parseRequest } from '../../support/messages.js';

const REALM = 'voix.test';
const PASSWORD = 'correct-horse-battery';
const FLOW: Flow = { transport: 'udp', remoteAddress: '192.0.2.66', remotePort: 5062, localAddress: '192.0.2.1', localPort: 5060, connectionId: null };

function register(user: string, extraHeaders: string[] = []): SipRequest {
  return parseRequest(
    [
      'REGISTER sip:voix.test SIP/2.0',
      'Via: SIP/2.0/UDP 192.0.2.66:5062;branch=z9hG4bK' + Math.random().toString(36).slice(2),
      'From: <sip:' + user + '@voix.test>;tag=1',
      'To: <sip:' + user + '@voix.test>',
      'Call-ID: auth-test',
      'CSeq: 1 REGISTER',
      ...extraHeaders,
      'Content-Length: 0',
      '',
      '',
    ].join('\n'),
  );
}

function challengesOf(outcome: AuthOutcome): DigestChallenge[] {
  if (outcome.kind !== 'challenge') throw new Error('expected a challenge');
  return outcome.headers.map(([, v]) => {
    const c = parseChallenge(v);
    if (c === null || c.scheme !== 'Digest') throw new Error('not a digest challenge');
    return c;
  });
}

function answer(challenge: DigestChallenge, user: string, password: string, nc = 1): SipRequest {
  const value = buildAuthorization({ challenge, username: user, secret: { password }, method: 'REGISTER', uri: 'sip:voix.test', cnonce: 'c0ffee', nc });
  if (value === null) throw new Error('cannot answer');
  return register(user, [`Authorization: ${value}`]);
}

describe('DigestAuthenticator', () => {
  let clock: FakeClock;
  let log: LogFields[];
  let banned: string[];
  let auth: DigestAuthenticator;

  beforeEach(() => {
    clock = new FakeClock();
    const memory = createMemoryLogger();
    log = memory.lines;
    banned = [];
    const users = new MapUserDirectory([
      {
        extension: '1001',
        name: 'Alice',
        ha1: { MD5: computeHa1('MD5', '1001', REALM, PASSWORD), 'SHA-256': computeHa1('SHA-256', '1001', REALM, PASSWORD) },
        transports: ['udp'],
        maxContacts: 1,
        srtp: 'optional',
      },
    ]);
    auth = new DigestAuthenticator({
      realm: REALM,
      algorithms: ['SHA-256', 'MD5'],
      md5OnlyUserAgents: ['baresip v1.'],
      users: () => users,
      nonces: new NonceManager({ clock, lifetimeSeconds: 300 }),
      bans: new BanList({ clock, maxFailures: 3, windowSeconds: 60, banSeconds: 900 }),
      securityLog: new SecurityLog(memory.logger),
      onBanned: (source) => banned.push(source),
      logger: memory.logger,
    });
  });

  const security = () => log.filter((l) => l['msg'] === 'security').map((l) => l['event']);

  it('challenges a request without credentials with SHA-256 then MD5, counting no failure', () => {
    const outcome = auth.authenticate(register('1001'), FLOW, 'www');
    expect(outcome).toMatchObject({ kind: 'challenge', status: 401 });
    expect(challengesOf(outcome).map((c) => c.algorithm)).toEqual(['SHA-256', 'MD5']);
    expect(security()).toEqual([]);
  });

  it('uses 407 and Proxy-Authenticate for the proxy kind', () => {
    const outcome = auth.authenticate(register('1001'), FLOW, 'proxy');
    expect(outcome.kind === 'challenge' && outcome.status).toBe(407);
    expect(outcome.kind === 'challenge' && outcome.headers[0]?.[0]).toBe('Proxy-Authenticate');
  });

  it.each(['SHA-256', 'MD5'] as const)('accepts the right password with %s', (algorithm) => {
    const challenge = challengesOf(auth.authenticate(register('1001'), FLOW, 'www')).find((c) => c.algorithm === algorithm);
    const outcome = auth.authenticate(answer(challenge!, '1001', PASSWORD), FLOW, 'www');
    expect(outcome).toMatchObject({ kind: 'authenticated', user: { extension: '1001' } });
  });

  it('answers a wrong password and an unknown user with challenges of the same shape, and logs them apart', () => {
    const [c1] = challengesOf(auth.authenticate(register('1001'), FLOW, 'www'));
    const wrong = auth.authenticate(answer(c1!, '1001', 'not-the-password'), FLOW, 'www');
    const [c2] = challengesOf(auth.authenticate(register('9999'), FLOW, 'www'));
    const unknown = auth.authenticate(answer(c2!, '9999', PASSWORD), FLOW, 'www');

    const shape = (o: AuthOutcome) =>
      o.kind === 'challenge' ? { status: o.status, headers: o.headers.map(([n, v]) => [n, v.replace(/nonce="[^"]*"/, 'nonce="*"')]) } : o;
    expect(shape(wrong)).toEqual(shape(unknown));
    expect(security()).toEqual(['auth_failed', 'unknown_user']);
  });

  it('refuses a replayed Authorization header (same nonce and nc) and logs it', () => {
    const [c] = challengesOf(auth.authenticate(register('1001'), FLOW, 'www'));
    const request = answer(c!, '1001', PASSWORD);
    expect(auth.authenticate(request, FLOW, 'www').kind).toBe('authenticated');
    const replay = auth.authenticate(request, FLOW, 'www');
    expect(replay.kind).toBe('challenge');
    expect(security()).toEqual(['nonce_replay']);
  });

  it('re-challenges with stale=TRUE, counting nothing, when the nonce has expired', () => {
    const [c] = challengesOf(auth.authenticate(register('1001'), FLOW, 'www'));
    clock.advance(301_000);
    const outcome = auth.authenticate(answer(c!, '1001', 'wrong-anyway'), FLOW, 'www');
    expect(challengesOf(outcome)[0]?.stale).toBe(true);
    expect(security()).toEqual([]);
  });

  it('bans the source at the failure threshold, logs the ban and reports it', () => {
    for (let i = 0; i < 3; i++) {
      const [c] = challengesOf(auth.authenticate(register('1001'), FLOW, 'www'));
      auth.authenticate(answer(c!, '1001', `guess-${i}`), FLOW, 'www');
    }
    expect(security()).toEqual(['auth_failed', 'auth_failed', 'auth_failed', 'ban']);
    expect(banned).toEqual(['192.0.2.66']);
  });

  it('offers MD5 alone to a User-Agent known to fail on SHA-256', () => {
    const outcome = auth.authenticate(register('1001', ['User-Agent: baresip v1.0.0 (x86_64/linux)']), FLOW, 'www');
    expect(challengesOf(outcome).map((c) => c.algorithm)).toEqual(['MD5']);
    const other = auth.authenticate(register('1001', ['User-Agent: Linphone/5.1']), FLOW, 'www');
    expect(challengesOf(other).map((c) => c.algorithm)).toEqual(['SHA-256', 'MD5']);
  });

  it('ignores credentials for another realm or scheme (RFC 4475 §3.3.7) and just challenges', () => {
    const outcome = auth.authenticate(register('1001', ['Authorization: NoOneKnowsThisScheme opaque-data=here']), FLOW, 'www');
    expect(outcome.kind).toBe('challenge');
    expect(security()).toEqual([]);
  });
});
