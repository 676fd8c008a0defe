/**
 * UAC side of SIP digest authentication (RFC 3261 §22.2 and §22.3, with the
 * algorithms of RFC 7616 / RFC 8760): given a request voix sent and the 401
 * (WWW-Authenticate) or 407 (Proxy-Authenticate) it got back, build the same
 * request again with a new branch, CSeq + 1 and the Authorization /
 * Proxy-Authorization header answering each challenged realm.
 *
 * Pure apart from the default cnonce and branch (random): the caller keeps
 * the returned `ClientAuthState` and hands it back with the next challenge
 * of the same request, which is how loops are refused.
 */
import { randomBytes } from 'node:crypto';
import {
  buildAuthorization,
  hashOf,
  parseChallenge,
  parseCredentials,
  selectChallenge,
  type DigestAlgorithm,
  type DigestChallenge,
  type DigestSecret,
  type OtherAuthScheme,
} from '../sip/auth/digest.js';
import { newBranch } from '../sip/builders.js';
import { setParam } from '../sip/grammar.js';
import type { NameAddr, Via } from '../sip/headers.js';
import { SipRequest, type SipResponse } from '../sip/message.js';
import { formatUri } from '../sip/uri.js';

/** What voix answers a challenge with. The secret goes into hashes only, never into a returned value. */
export interface ClientCredentials {
  /** The digest username (a trunk's auth username). */
  readonly username: string;
  readonly secret: DigestSecret;
}

/**
 * What the previous answers to challenges of one request taught us. Start
 * with `INITIAL_CLIENT_AUTH_STATE` (or nothing) for each new request that is
 * not itself a retry; a REGISTER refresh or a new INVITE starts afresh.
 */
export interface ClientAuthState {
  /** Authenticated retries already built for this request. */
  readonly attempts: number;
  /** realm → the nonce voix last answered for it. */
  readonly answeredNonces: ReadonlyMap<string, string>;
}

export const INITIAL_CLIENT_AUTH_STATE: ClientAuthState = { attempts: 0, answeredNonces: new Map() };

/** RFC 3261 §22.2 does not bound retries; two keeps a wrong password from looping while a stale nonce still gets its second chance. */
export const DEFAULT_MAX_AUTH_ATTEMPTS = 2;

export type ClientAuthFailure =
  /** The response is neither a 401 nor a 407. */
  | 'not-a-challenge'
  /** No challenge voix can answer: no Digest, an unknown algorithm, or qop without `auth` (e.g. auth-int only). */
  | 'no-usable-challenge'
  /** The server challenged again with the nonce voix just answered, and not stale: the credentials are wrong. */
  | 'credentials-rejected'
  /** `maxAttempts` authenticated retries were already made. */
  | 'too-many-attempts';

export interface AnsweredRealm {
  readonly realm: string;
  readonly algorithm: DigestAlgorithm;
  /** Which header carried the answer. */
  readonly header: 'Authorization' | 'Proxy-Authorization';
  /** The challenge said stale=true: same credentials, new nonce (RFC 7616 §3.3). */
  readonly stale: boolean;
}

export type ChallengeAnswer =
  | {
      readonly ok: true;
      /** The request to send in a new client transaction. */
      readonly request: SipRequest;
      /** Pass it back with the next challenge of `request`. */
      readonly state: ClientAuthState;
      readonly realms: readonly AnsweredRealm[];
    }
  | {
      readonly ok: false;
      readonly reason: ClientAuthFailure;
      /** The realm at fault, when there is one (not a secret: for log lines). */
      readonly realm?: string;
    };

export interface AnswerChallengeOptions {
  /** The request that was challenged, as it was sent. Not modified. */
  readonly request: SipRequest;
  /** Its 401 or 407 final response. */
  readonly response: SipResponse;
  readonly credentials: ClientCredentials;
  /** What earlier answers to challenges of this request left; INITIAL_CLIENT_AUTH_STATE by default. */
  readonly state?: ClientAuthState;
  readonly maxAttempts?: number;
  /** Client nonce (RFC 7616 §3.4); random by default. Tests fix it. */
  readonly cnonce?: string;
  /** Branch of the new top Via; a fresh one by default (RFC 3261 §8.1.1.7). */
  readonly branch?: string;
}

/** A cnonce with 128 bits of randomness, hex so that it never needs escaping. */
export function newCnonce(): string {
  return randomBytes(16).toString('hex');
}

/**
 * RFC 7616 §3.7 and RFC 8760 §2.4 leave the choice to the client among the
 * challenges of one realm: voix takes SHA-256 (or SHA-256-sess) when offered
 * and answerable, otherwise the topmost answerable one (MD5).
 */
export function preferredChallenge(challenges: readonly (DigestChallenge | OtherAuthScheme)[]): DigestChallenge | undefined {
  const sha256 = challenges.filter((c) => c.scheme === 'Digest' && c.algorithm !== null && hashOf(c.algorithm) === 'SHA-256');
  return selectChallenge(sha256) ?? selectChallenge(challenges);
}

/** Every parseable challenge of the header, grouped by realm in order of first appearance. */
function challengesByRealm(values: readonly string[]): Map<string, Array<DigestChallenge | OtherAuthScheme>> {
  const byRealm = new Map<string, Array<DigestChallenge | OtherAuthScheme>>();
  for (const value of values) {
    const challenge = parseChallenge(value);
    // A value voix cannot read is skipped: another one may still be answerable.
    if (challenge === null || challenge.scheme !== 'Digest') continue;
    const list = byRealm.get(challenge.realm);
    if (list === undefined) byRealm.set(challenge.realm, [challenge]);
    else list.push(challenge);
  }
  return byRealm;
}

function cloneNameAddr(na: NameAddr): NameAddr {
  return { ...na, params: na.params.slice() };
}

function viaWithBranch(via: Via, branch: string): Via {
  // Our own Via as first built: the received/rport values a peer may echo never belong in a new request.
  const params = via.params.filter((p) => p.name !== 'received').map((p) => (p.name === 'rport' ? { name: 'rport', value: null } : p));
  setParam(params, 'branch', branch);
  return { ...via, params };
}

/**
 * RFC 3261 §22.2/§22.3: answers the challenges of a 401/407 to `request`.
 * The new request keeps the Request-URI, From (with its tag), To (without
 * the tag of the challenge), Call-ID, Route and body; it has a new branch
 * and CSeq + 1 (§8.1.3.5). Credentials already in the request for realms
 * not challenged again are kept (a second proxy may challenge what the
 * first one accepted); those for a challenged realm are replaced.
 *
 * Gives up, rather than loop, when a realm is challenged again with the
 * nonce just answered and without stale=true, or after `maxAttempts`.
 */
export function answerChallenge(options: AnswerChallengeOptions): ChallengeAnswer {
  const { request, response, credentials } = options;
  const state = options.state ?? INITIAL_CLIENT_AUTH_STATE;
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_AUTH_ATTEMPTS;
  if (response.status !== 401 && response.status !== 407) return { ok: false, reason: 'not-a-challenge' };

  // A 401 carries WWW-Authenticate (a UAS or registrar), a 407 Proxy-Authenticate (§22.3);
  // a 401 that also collected proxies' challenges on its way back gets both answered.
  const kinds: Array<{ challengeHeader: string; credentialsHeader: AnsweredRealm['header'] }> =
    response.status === 407
      ? [{ challengeHeader: 'Proxy-Authenticate', credentialsHeader: 'Proxy-Authorization' }]
      : [
          { challengeHeader: 'WWW-Authenticate', credentialsHeader: 'Authorization' },
          { challengeHeader: 'Proxy-Authenticate', credentialsHeader: 'Proxy-Authorization' },
        ];

  const chosen: Array<{ challenge: DigestChallenge; header: AnsweredRealm['header'] }> = [];
  for (const kind of kinds) {
    for (const [realm, challenges] of challengesByRealm(response.headers.getAll(kind.challengeHeader))) {
      const challenge = preferredChallenge(challenges);
      if (challenge === undefined) return { ok: false, reason: 'no-usable-challenge', realm };
      chosen.push({ challenge, header: kind.credentialsHeader });
    }
  }
  if (chosen.length === 0) return { ok: false, reason: 'no-usable-challenge' };

  for (const { challenge } of chosen) {
    // RFC 7616 §3.3: a new challenge with the nonce just used, not stale, means the response digest was wrong.
    if (state.answeredNonces.get(challenge.realm) === challenge.nonce && !challenge.stale) {
      return { ok: false, reason: 'credentials-rejected', realm: challenge.realm };
    }
  }
  if (state.attempts >= maxAttempts) return { ok: false, reason: 'too-many-attempts' };

  const headers = request.headers.clone();
  const challengedRealms = new Set(chosen.map((c) => c.challenge.realm));
  for (const name of ['Authorization', 'Proxy-Authorization']) {
    const kept = headers.getAll(name).filter((value) => {
      const previous = parseCredentials(value);
      return previous !== null && previous.scheme === 'Digest' && previous.realm !== undefined && !challengedRealms.has(previous.realm);
    });
    headers.remove(name);
    for (const value of kept) headers.append(name, value);
  }

  const digestUri = formatUri(request.uri);
  const cnonce = options.cnonce ?? newCnonce();
  const answeredNonces = new Map(state.answeredNonces);
  const realms: AnsweredRealm[] = [];
  for (const { challenge, header } of chosen) {
    const value = buildAuthorization({
      challenge,
      username: credentials.username,
      secret: credentials.secret,
      method: request.method,
      uri: digestUri,
      cnonce,
      // A nonce voix has not used before: its first request (RFC 7616 §3.4).
      nc: 1,
    });
    // preferredChallenge only picks answerable challenges; null here means the secret lacks the HA1 for this hash.
    if (value === null) return { ok: false, reason: 'no-usable-challenge', realm: challenge.realm };
    headers.append(header, value);
    answeredNonces.set(challenge.realm, challenge.nonce);
    realms.push({ realm: challenge.realm, algorithm: challenge.algorithm ?? 'MD5', header, stale: challenge.stale });
  }

  const retry = new SipRequest(request.method, request.uri, {
    via: [viaWithBranch(request.topVia, options.branch ?? newBranch())],
    from: cloneNameAddr(request.from),
    to: cloneNameAddr(request.to),
    callId: request.callId,
    cseq: { seq: request.cseq.seq + 1, method: request.cseq.method },
    maxForwards: request.maxForwards,
    headers,
    body: request.body,
    version: request.version,
  });
  return { ok: true, request: retry, state: { attempts: state.attempts + 1, answeredNonces }, realms };
}
