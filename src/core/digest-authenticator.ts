/**
 * Authenticates requests with SIP digest (RFC 3261 §22, RFC 8760): finds the
 * credentials for voix's realm, checks them against the user's HA1 and the
 * nonce's freshness, counts failures per source for bans and writes the
 * security log. An unknown user and a wrong password get the very same
 * challenge: nothing in the answer tells them apart.
 */
import type { Logger } from '../log/logger.js';
import type { BanList } from '../security/ban-list.js';
import type { SecurityLog } from '../security/security-log.js';
import { formatChallenges, parseCredentials, parseNonceCount, verifyCredentials, type DigestAlgorithm, type DigestCredentials } from '../sip/auth/digest.js';
import type { NonceManager } from '../sip/auth/nonce.js';
import type { SipRequest } from '../sip/message.js';
import type { Flow } from '../sip/transport/types.js';
import type { DirectoryUser, UserDirectory } from './users.js';

/** REGISTER is challenged by the registrar (401), other requests as by a proxy (407): RFC 3261 §22.3. */
export type ChallengeKind = 'www' | 'proxy';

export type AuthOutcome =
  | { readonly kind: 'authenticated'; readonly user: DirectoryUser }
  | { readonly kind: 'challenge'; readonly status: 401 | 407; readonly headers: ReadonlyArray<readonly [string, string]> };

export interface DigestAuthenticatorOptions {
  readonly realm: string;
  readonly algorithms: readonly DigestAlgorithm[];
  /** User-Agent prefixes (lower-case) of phones that fail on any SHA-256 challenge. */
  readonly md5OnlyUserAgents: readonly string[];
  readonly users: () => UserDirectory;
  readonly nonces: NonceManager;
  readonly bans: BanList;
  readonly securityLog: SecurityLog;
  /** Called when a source has just been banned (to drop its connections). */
  readonly onBanned: (source: string) => void;
  readonly logger: Logger;
}

export class DigestAuthenticator {
  constructor(private readonly options: DigestAuthenticatorOptions) {}

  authenticate(request: SipRequest, flow: Flow, kind: ChallengeKind): AuthOutcome {
    const { realm, algorithms, nonces } = this.options;
    const credentials = this.findCredentials(request, kind);
    if (credentials === null) return this.challenge(request, kind, false);

    const verification = verifyCredentials(credentials, {
      method: request.method,
      realm,
      offered: algorithms,
      lookupHa1: (username, hash) => this.options.users().get(username)?.ha1[hash],
    });
    if (!verification.ok && verification.reason !== 'wrong-response' && verification.reason !== 'no-ha1') {
      // A client that cannot answer our challenge properly is not guessing passwords.
      this.options.logger.debug('digest credentials not usable', { reason: verification.reason, field: verification.field, callId: request.callId });
      return this.challenge(request, kind, false);
    }
    // A nonce from before a restart, or too old, says nothing about the password: re-challenge, count nothing.
    const nc = parseNonceCount(credentials.nc ?? '') ?? 0;
    const nonceState = nonces.check(credentials.nonce ?? '', nc);
    if (nonceState === 'invalid' || nonceState === 'stale') return this.challenge(request, kind, true);

    const event = { src: flow.remoteAddress, port: flow.remotePort, transport: flow.transport, user: credentials.username ?? '', method: request.method, callId: request.callId };
    if (!verification.ok) {
      this.options.securityLog.record(verification.reason === 'no-ha1' ? 'unknown_user' : 'auth_failed', event);
      this.countFailure(flow);
      return this.challenge(request, kind, false);
    }
    if (nonceState === 'replayed') {
      this.options.securityLog.record('nonce_replay', event);
      return this.challenge(request, kind, true);
    }
    const user = this.options.users().get(verification.username);
    if (user === undefined) return this.challenge(request, kind, false);
    this.options.bans.recordSuccess(flow.remoteAddress);
    return { kind: 'authenticated', user };
  }

  private findCredentials(request: SipRequest, kind: ChallengeKind): DigestCredentials | null {
    const values = request.headers.getAll(kind === 'www' ? 'authorization' : 'proxy-authorization');
    for (const value of values) {
      const parsed = parseCredentials(value);
      // Credentials for other realms or schemes (RFC 4475 §3.3.7) are not ours to judge.
      if (parsed !== null && parsed.scheme === 'Digest' && parsed.realm === this.options.realm) return parsed;
    }
    return null;
  }

  private countFailure(flow: Flow): void {
    const { bans, securityLog } = this.options;
    const outcome = bans.recordFailure(flow.remoteAddress);
    if (outcome.newlyBanned) {
      const ban = bans.bans().find((b) => b.source === flow.remoteAddress);
      securityLog.record('ban', {
        src: flow.remoteAddress,
        ...(ban !== undefined ? { until: new Date(ban.expiresAt).toISOString() } : {}),
      });
      this.options.onBanned(flow.remoteAddress);
    }
  }

  private challenge(request: SipRequest, kind: ChallengeKind, stale: boolean): AuthOutcome {
    const { realm, nonces } = this.options;
    // RFC 8760 §2.4: one challenge per algorithm, the preferred first, same nonce.
    const nonce = nonces.issue();
    const values = formatChallenges({ realm, nonce, algorithms: this.algorithmsFor(request), ...(stale ? { stale: true } : {}) });
    const name = kind === 'www' ? 'WWW-Authenticate' : 'Proxy-Authenticate';
    return { kind: 'challenge', status: kind === 'www' ? 401 : 407, headers: values.map((v) => [name, v] as const) };
  }

  /**
   * The algorithms to offer this request's sender. Some phones (baresip 1.0)
   * give up on a 401 holding any SHA-256 challenge: known by their
   * User-Agent, which says nothing about the user, they get MD5 alone.
   */
  private algorithmsFor(request: SipRequest): readonly DigestAlgorithm[] {
    const { algorithms, md5OnlyUserAgents } = this.options;
    if (md5OnlyUserAgents.length === 0 || !algorithms.includes('MD5')) return algorithms;
    const userAgent = request.headers.get('user-agent')?.toLowerCase();
    if (userAgent === undefined) return algorithms;
    return md5OnlyUserAgents.some((prefix) => userAgent.startsWith(prefix)) ? ['MD5'] : algorithms;
  }
}
