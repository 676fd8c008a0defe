/**
 * voix as a UAC registering to a SIP provider (RFC 3261 §10.2): one
 * `TrunkRegistration` keeps one trunk's account bound to voix's address.
 *
 * REGISTER sip:<domain>, From/To sip:<username>@<domain>, Contact
 * sip:<username>@<voix>, Expires <register_expires>, through the
 * transaction layer to host:port over the trunk's transport. Challenges are
 * answered with client-authentication.ts; the registration is refreshed
 * before the expiry the registrar granted; 423 raises the asked expiry to
 * Min-Expires (§10.2.8); failures are retried with a doubling backoff; stop()
 * removes the binding (Expires: 0, §10.2.2).
 */
import type { TrunkConfig } from '../config/types.js';
import { VOIX_CAPABILITIES } from '../core/capabilities.js';
import type { Logger } from '../log/logger.js';
import { newBranch, newCallId, newTag } from '../sip/builders.js';
import { paramValue } from '../sip/grammar.js';
import { Headers, formatNameAddr, parseContacts, type NameAddr, type Via } from '../sip/headers.js';
import { SipRequest, reasonPhrase, type SipResponse } from '../sip/message.js';
import type { ClientTransactionUser } from '../sip/transaction/transaction-layer.js';
import { viaTransport, type Destination, type TransportProtocol } from '../sip/transport/types.js';
import { isSipUri, sipUri, sipUrisEqual, type SipUri } from '../sip/uri.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { answerChallenge, INITIAL_CLIENT_AUTH_STATE, type ClientAuthFailure, type ClientAuthState, type ClientCredentials } from './client-authentication.js';

/** The part of the transaction layer a registration uses (TransactionLayer.sendRequest). */
export interface ClientRequestSender {
  sendRequest(request: SipRequest, destination: Destination, user: ClientTransactionUser): unknown;
}

export type TrunkRegistrationState =
  /** A REGISTER is on its way and none has succeeded since start (or since the last failure was retried). */
  | 'registering'
  | 'registered'
  /** The last attempt failed; another is scheduled (`nextAttemptAt`). */
  | 'failed'
  /** Stopped: the binding was removed (or there was none). */
  | 'unregistered';

/** What `voix status` shows for a trunk; times are milliseconds since the epoch. */
export interface TrunkRegistrationStatus {
  readonly trunk: string;
  readonly state: TrunkRegistrationState;
  /** Status code of the last final response; 408 for a timeout, 503 for a transport error (RFC 3261 §8.1.3.1). */
  readonly lastStatus: number | null;
  /** Why the last attempt failed, for people; null after a success. */
  readonly lastError: string | null;
  /** When the binding the registrar granted ends; null when voix holds none. */
  readonly expiresAt: number | null;
  /** When the next REGISTER (refresh or retry) leaves; null when none is scheduled. */
  readonly nextAttemptAt: number | null;
  /** Failed attempts since the last success. */
  readonly failures: number;
}

export interface RegistrationTiming {
  /** First retry delay after a failure, in seconds; doubles on each failure in a row. */
  readonly retryBaseSeconds: number;
  readonly retryMaxSeconds: number;
  /** The refresh leaves at the granted expiry minus the smaller of this share of it and `refreshMarginMaxSeconds`. */
  readonly refreshMarginRatio: number;
  readonly refreshMarginMaxSeconds: number;
  /** How long stop() waits for the unregistration to be answered (a challenge included). */
  readonly unregisterTimeoutMs: number;
}

export const DEFAULT_REGISTRATION_TIMING: RegistrationTiming = {
  retryBaseSeconds: 30,
  retryMaxSeconds: 600,
  refreshMarginRatio: 0.1,
  refreshMarginMaxSeconds: 60,
  unregisterTimeoutMs: 3000,
};

export interface TrunkRegistrationServices {
  readonly transactions: ClientRequestSender;
  readonly clock: Clock;
  /** Lines carry `trunk` and `callId` added here. Never given the password. */
  readonly logger: Logger;
  /** Host and port voix advertises in Via and Contact for a transport (SipTransportLayer.localEndpoint). */
  readonly localEndpoint: (transport: TransportProtocol) => { readonly host: string; readonly port: number };
  /** User-Agent header value. */
  readonly userAgent: string;
  readonly timing?: Partial<RegistrationTiming>;
}

const MAX_EXPIRES = 2 ** 32 - 1;

/** delta-seconds (RFC 3261 §25.1): digits only; null when absent or malformed. */
function parseDeltaSeconds(text: string | null | undefined): number | null {
  if (text === null || text === undefined) return null;
  const trimmed = text.trim();
  if (!/^[0-9]{1,10}$/.test(trimmed)) return null;
  const value = Number(trimmed);
  return value <= MAX_EXPIRES ? value : null;
}

/** Retry-After (RFC 3261 §20.33): delta-seconds, maybe followed by a comment and parameters. */
function parseRetryAfter(text: string | undefined): number | null {
  if (text === undefined) return null;
  const match = /^\s*([0-9]{1,10})/.exec(text);
  return match?.[1] === undefined ? null : parseDeltaSeconds(match[1]);
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

const AUTH_FAILURE_TEXT: Record<ClientAuthFailure, string> = {
  'not-a-challenge': 'unexpected response',
  'no-usable-challenge': 'the provider asks for an authentication voix cannot answer (no MD5 or SHA-256 digest with qop=auth)',
  'credentials-rejected': 'credentials refused: check username, auth_username and password',
  'too-many-attempts': 'challenged again after answering twice: check username, auth_username and password',
};

/** One REGISTER and its authenticated retries (same Call-ID, CSeq + 1 each). */
interface RegisterChain {
  readonly purpose: 'register' | 'unregister';
  /** Expires asked in this chain. */
  readonly expires: number;
  request: SipRequest;
  auth: ClientAuthState;
}

export class TrunkRegistration {
  readonly trunk: TrunkConfig;
  private readonly services: TrunkRegistrationServices;
  private readonly timing: RegistrationTiming;
  private readonly log: Logger;
  private readonly callId: string;
  private readonly fromTag = newTag();
  private cseq = 0;
  /** register_expires, raised by a 423's Min-Expires. */
  private askedExpires: number;
  private chain: RegisterChain | null = null;
  private timer: TimerHandle | undefined;
  private started = false;
  private stopping: Promise<void> | null = null;
  private state: TrunkRegistrationState = 'unregistered';
  private lastStatus: number | null = null;
  private lastError: string | null = null;
  private expiresAt: number | null = null;
  private nextAttemptAt: number | null = null;
  private failures = 0;
  private unregistered: (() => void) | null = null;

  constructor(trunk: TrunkConfig, services: TrunkRegistrationServices) {
    this.trunk = trunk;
    this.services = services;
    this.timing = { ...DEFAULT_REGISTRATION_TIMING, ...services.timing };
    this.askedExpires = trunk.registerExpires;
    // RFC 3261 §10.2: one Call-ID for every REGISTER of this binding, CSeq increasing.
    this.callId = newCallId(services.localEndpoint(trunk.transport).host);
    this.log = services.logger.child({ trunk: trunk.name, callId: this.callId });
  }

  /** Sends the first REGISTER now. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.log.info('trunk registration starting', {
      host: this.trunk.host,
      port: this.trunk.port,
      transport: this.trunk.transport,
      aor: this.aorText(),
      expires: this.askedExpires,
    });
    this.state = 'registering';
    this.sendRegister('register');
  }

  /**
   * Stops refreshing and removes the binding the provider may hold (REGISTER
   * with Expires: 0, a challenge answered); resolves once that is answered or
   * after `unregisterTimeoutMs`.
   */
  stop(): Promise<void> {
    if (this.stopping !== null) return this.stopping;
    this.clearTimer();
    const mayBeBound = this.chain !== null || (this.expiresAt !== null && this.expiresAt > this.services.clock.now());
    // A REGISTER still in flight is abandoned: its answer, if any, is ignored.
    this.chain = null;
    if (!this.started || !mayBeBound) {
      this.finishStopped();
      this.stopping = Promise.resolve();
      return this.stopping;
    }
    this.stopping = new Promise<void>((resolve) => {
      const bound = this.services.clock.setTimer(this.timing.unregisterTimeoutMs, () => {
        this.log.warn('trunk unregistration not answered in time; the provider keeps the binding until it expires', {
          timeoutMs: this.timing.unregisterTimeoutMs,
        });
        this.chain = null;
        this.finishStopped();
      });
      this.unregistered = () => {
        this.services.clock.clearTimer(bound);
        resolve();
      };
      this.sendRegister('unregister');
    });
    return this.stopping;
  }

  status(): TrunkRegistrationStatus {
    return {
      trunk: this.trunk.name,
      state: this.state,
      lastStatus: this.lastStatus,
      lastError: this.lastError,
      expiresAt: this.expiresAt,
      nextAttemptAt: this.nextAttemptAt,
      failures: this.failures,
    };
  }

  // ---------------------------------------------------------------------------

  private aorText(): string {
    return `sip:${this.trunk.username}@${this.trunk.domain}`;
  }

  private contactUri(): SipUri {
    const local = this.services.localEndpoint(this.trunk.transport);
    return sipUri({ user: this.trunk.username, host: local.host, port: local.port, params: [{ name: 'transport', value: this.trunk.transport }] });
  }

  private destination(): Destination {
    return { transport: this.trunk.transport, address: stripBrackets(this.trunk.host), port: this.trunk.port };
  }

  private credentials(): ClientCredentials {
    const username = this.trunk.authUsername.length > 0 ? this.trunk.authUsername : this.trunk.username;
    return { username, secret: { password: this.trunk.password } };
  }

  private buildRegister(expires: number): SipRequest {
    const local = this.services.localEndpoint(this.trunk.transport);
    const via: Via = {
      protocol: 'SIP/2.0',
      transport: viaTransport(this.trunk.transport),
      host: local.host,
      port: local.port,
      // RFC 3581: the provider answers where the request came from, NAT or not.
      params: [
        { name: 'rport', value: null },
        { name: 'branch', value: newBranch() },
      ],
    };
    const aor = sipUri({ user: this.trunk.username, host: this.trunk.domain });
    const from: NameAddr = { displayName: null, uri: aor, params: [{ name: 'tag', value: this.fromTag }] };
    const to: NameAddr = { displayName: null, uri: sipUri({ user: this.trunk.username, host: this.trunk.domain }), params: [] };
    const headers = new Headers();
    headers.append('Contact', formatNameAddr({ displayName: null, uri: this.contactUri(), params: [] }));
    headers.append('Expires', String(expires));
    headers.append('Allow', VOIX_CAPABILITIES.allowedMethods.join(', '));
    headers.append('User-Agent', this.services.userAgent);
    this.cseq++;
    // RFC 3261 §10.2: the Request-URI names the domain of the registrar, without user part.
    return new SipRequest('REGISTER', sipUri({ host: this.trunk.domain }), {
      via: [via],
      from,
      to,
      callId: this.callId,
      cseq: { seq: this.cseq, method: 'REGISTER' },
      maxForwards: 70,
      headers,
    });
  }

  private sendRegister(purpose: RegisterChain['purpose']): void {
    this.clearTimer();
    const expires = purpose === 'unregister' ? 0 : this.askedExpires;
    const chain: RegisterChain = { purpose, expires, request: this.buildRegister(expires), auth: INITIAL_CLIENT_AUTH_STATE };
    this.chain = chain;
    this.transmit(chain, chain.request);
  }

  private transmit(chain: RegisterChain, request: SipRequest): void {
    chain.request = request;
    this.cseq = Math.max(this.cseq, request.cseq.seq);
    const user: ClientTransactionUser = {
      onResponse: (_tx, response) => {
        if (this.chain === chain && chain.request === request) this.onResponse(chain, response);
      },
      onTimeout: () => {
        if (this.chain === chain && chain.request === request) this.onChainFailed(chain, 408, 'no response from the provider (timeout)', null);
      },
      onTransportError: (_tx, error) => {
        if (this.chain === chain && chain.request === request) this.onChainFailed(chain, 503, `transport error: ${error.message}`, null);
      },
    };
    try {
      this.services.transactions.sendRequest(request, this.destination(), user);
    } catch (err) {
      // A bug (e.g. a reused branch); still retried later rather than left silent.
      this.log.error('trunk REGISTER could not be sent', { error: err });
      if (this.chain === chain) this.onChainFailed(chain, 500, 'internal error while sending REGISTER', null);
    }
  }

  private onResponse(chain: RegisterChain, response: SipResponse): void {
    if (response.status < 200) return;
    if (response.status === 401 || response.status === 407) {
      const answer = answerChallenge({ request: chain.request, response, credentials: this.credentials(), state: chain.auth });
      if (answer.ok) {
        chain.auth = answer.state;
        this.log.debug('trunk REGISTER challenged, answering', {
          status: response.status,
          realms: answer.realms.map((r) => r.realm),
          algorithm: answer.realms[0]?.algorithm,
          stale: answer.realms.some((r) => r.stale),
        });
        this.transmit(chain, answer.request);
        return;
      }
      this.onChainFailed(chain, response.status, AUTH_FAILURE_TEXT[answer.reason], null, answer.realm);
      return;
    }
    if (chain.purpose === 'unregister') {
      this.onUnregisterAnswered(response);
      return;
    }
    if (response.status >= 200 && response.status < 300) {
      this.onRegistered(chain, response);
      return;
    }
    if (response.status === 423) {
      // RFC 3261 §10.2.8: ask again with at least Min-Expires.
      const minExpires = parseDeltaSeconds(response.headers.get('Min-Expires'));
      if (minExpires !== null && minExpires > chain.expires) {
        this.log.info('trunk registrar wants a longer expiry, registering again with it', { asked: chain.expires, minExpires });
        this.askedExpires = minExpires;
        this.sendRegister('register');
        return;
      }
      this.onChainFailed(chain, 423, 'interval too brief, without a usable Min-Expires', null);
      return;
    }
    let reason = response.reason.length > 0 ? response.reason : reasonPhrase(response.status);
    // A 403 to an authenticated REGISTER is how most registrars say the digest was wrong.
    if (response.status === 403 && chain.auth.attempts > 0) reason += ' (after authentication: check username, auth_username and password)';
    this.onChainFailed(chain, response.status, reason, parseRetryAfter(response.headers.get('Retry-After')));
  }

  /** The expiry the registrar granted: our Contact's expires, else the Expires header, else what was asked (RFC 3261 §10.2.4). */
  private grantedExpires(response: SipResponse, asked: number): number {
    const contacts = parseContacts(response.headers.getAll('Contact'));
    if (contacts !== null && !contacts.wildcard) {
      const ours = this.contactUri();
      const match =
        contacts.contacts.find((c) => isSipUri(c.uri) && sipUrisEqual(c.uri, ours)) ??
        // A registrar behind NAT handling may rewrite host and port: the only contact with our user part is ours.
        (contacts.contacts.length === 1 && contacts.contacts[0] !== undefined && isSipUri(contacts.contacts[0].uri) && contacts.contacts[0].uri.user === this.trunk.username
          ? contacts.contacts[0]
          : undefined);
      const fromContact = match === undefined ? null : parseDeltaSeconds(paramValue(match.params, 'expires'));
      if (fromContact !== null) return fromContact;
    }
    return parseDeltaSeconds(response.headers.get('Expires')) ?? asked;
  }

  private onRegistered(chain: RegisterChain, response: SipResponse): void {
    const granted = this.grantedExpires(response, chain.expires);
    if (granted <= 0) {
      this.onChainFailed(chain, response.status, 'the registrar accepted the REGISTER but granted no time', null);
      return;
    }
    this.chain = null;
    const now = this.services.clock.now();
    const wasRegistered = this.state === 'registered';
    const recovered = this.failures > 0;
    const marginSeconds = Math.min(granted * this.timing.refreshMarginRatio, this.timing.refreshMarginMaxSeconds);
    const refreshInMs = Math.max(1000, Math.round((granted - marginSeconds) * 1000));
    this.state = 'registered';
    this.lastStatus = response.status;
    this.lastError = null;
    this.failures = 0;
    this.expiresAt = now + granted * 1000;
    this.schedule(refreshInMs, () => this.sendRegister('register'));
    const fields = { status: response.status, expires: granted, refreshInSeconds: refreshInMs / 1000 };
    if (wasRegistered && !recovered) this.log.debug('trunk registration refreshed', fields);
    else this.log.info('trunk registered', fields);
  }

  private onChainFailed(chain: RegisterChain, status: number, reason: string, retryAfter: number | null, realm?: string): void {
    if (chain.purpose === 'unregister') {
      this.log.warn('trunk unregistration failed; the provider keeps the binding until it expires', {
        status,
        reason,
        ...(realm !== undefined ? { realm } : {}),
      });
      this.lastStatus = status;
      this.lastError = reason;
      this.chain = null;
      this.finishStopped();
      return;
    }
    this.chain = null;
    this.failures++;
    this.state = 'failed';
    this.lastStatus = status;
    this.lastError = reason;
    const backoff = Math.min(this.timing.retryBaseSeconds * 2 ** (this.failures - 1), this.timing.retryMaxSeconds);
    // RFC 3261 §20.33: not before Retry-After, when the provider gives one.
    const retryInSeconds = Math.max(backoff, retryAfter ?? 0);
    this.schedule(retryInSeconds * 1000, () => {
      this.state = 'registering';
      this.sendRegister('register');
    });
    this.log.warn('trunk registration failed', {
      status,
      reason,
      ...(realm !== undefined ? { realm } : {}),
      host: this.trunk.host,
      port: this.trunk.port,
      transport: this.trunk.transport,
      aor: this.aorText(),
      failures: this.failures,
      retryInSeconds,
    });
  }

  private onUnregisterAnswered(response: SipResponse): void {
    this.chain = null;
    this.lastStatus = response.status;
    if (response.status >= 200 && response.status < 300) {
      this.lastError = null;
      this.log.info('trunk unregistered', { status: response.status });
    } else {
      this.lastError = response.reason;
      this.log.warn('trunk unregistration refused; the provider keeps the binding until it expires', { status: response.status, reason: response.reason });
    }
    this.finishStopped();
  }

  private finishStopped(): void {
    this.clearTimer();
    this.state = 'unregistered';
    this.expiresAt = null;
    const done = this.unregistered;
    this.unregistered = null;
    done?.();
  }

  private schedule(delayMs: number, action: () => void): void {
    this.clearTimer();
    this.nextAttemptAt = this.services.clock.now() + delayMs;
    this.timer = this.services.clock.setTimer(delayMs, () => {
      this.timer = undefined;
      this.nextAttemptAt = null;
      action();
    });
  }

  private clearTimer(): void {
    this.services.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.nextAttemptAt = null;
  }
}
