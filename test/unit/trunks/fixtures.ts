/**
 * Test doubles for the trunk tests: a fake of the transaction layer's
 * sendRequest (voix's own boundary) that records each REGISTER with the TU
 * to answer it through, a trunk config, and a provider's answers.
 */
import type { TrunkConfig } from '../../../src/config/types.js';
import { createMemoryLogger, type LogFields } from '../../../src/log/logger.js';
import { computeHa1, parseCredentials, verifyCredentials } from '../../../src/sip/auth/digest.js';
import { createResponse } from '../../../src/sip/builders.js';
import { Headers } from '../../../src/sip/headers.js';
import type { SipRequest, SipResponse } from '../../../src/sip/message.js';
import type { ClientTransaction, ClientTransactionUser } from '../../../src/sip/transaction/transaction-layer.js';
import { TransportError, type Destination } from '../../../src/sip/transport/types.js';
import type { ClientRequestSender, TrunkRegistrationServices } from '../../../src/trunks/trunk-registration.js';
import { FakeClock } from '../../../src/util/clock.js';

export const PASSWORD = 'trunk-secret-password';

export const TRUNK: TrunkConfig = {
  name: 'operator',
  host: '192.0.2.50',
  port: 5060,
  transport: 'udp',
  domain: 'sip.operator.example',
  username: '0140000000',
  authUsername: 'auth-0140',
  password: PASSWORD,
  register: true,
  registerExpires: 600,
  callerId: null,
  inboundAddresses: [],
  srtp: 'off',
  maxCalls: 10,
  callsPerSecond: 5,
};

export interface SentRequest {
  readonly request: SipRequest;
  readonly destination: Destination;
  readonly user: ClientTransactionUser;
}

/** Stands for the transaction layer: nothing leaves, the test answers each request itself. */
export class FakeTransactions implements ClientRequestSender {
  readonly sent: SentRequest[] = [];
  private tags = 0;

  sendRequest(request: SipRequest, destination: Destination, user: ClientTransactionUser): void {
    this.sent.push({ request, destination, user });
  }

  last(): SentRequest {
    const last = this.sent[this.sent.length - 1];
    if (last === undefined) throw new Error('nothing was sent');
    return last;
  }

  /** The final (or provisional) response of the provider to the last request, or to `to`. */
  answer(status: number, headers: ReadonlyArray<readonly [string, string]> = [], to: SentRequest = this.last()): SipResponse {
    const h = new Headers();
    for (const [name, value] of headers) h.append(name, value);
    const response = createResponse(to.request, status, { toTag: `provider${++this.tags}`, headers: h });
    to.user.onResponse({} as ClientTransaction, response);
    return response;
  }

  /** Timer F fired (RFC 3261 §17.1.2.2). */
  timeout(to: SentRequest = this.last()): void {
    to.user.onTimeout({} as ClientTransaction);
  }

  transportError(to: SentRequest = this.last()): void {
    to.user.onTransportError({} as ClientTransaction, new TransportError('connection refused', to.destination));
  }
}

export function challenge(nonce: string, extra = ''): Array<[string, string]> {
  return [['WWW-Authenticate', `Digest realm="sip.operator.example", nonce="${nonce}", algorithm=MD5, qop="auth"${extra}`]];
}

/** Checks Authorization as the provider would, with the trunk's password. */
export function authorizationIsValid(request: SipRequest, password = PASSWORD): boolean {
  const value = request.headers.get('Authorization');
  const credentials = value === undefined ? null : parseCredentials(value);
  if (credentials === null || credentials.scheme !== 'Digest') return false;
  const realm = 'sip.operator.example';
  return verifyCredentials(credentials, {
    method: request.method,
    realm,
    offered: ['MD5', 'SHA-256'],
    lookupHa1: (user, hash) => (user === TRUNK.authUsername ? computeHa1(hash, user, realm, password) : undefined),
  }).ok;
}

export interface TrunkWorld {
  readonly clock: FakeClock;
  readonly transactions: FakeTransactions;
  readonly lines: LogFields[];
  readonly services: TrunkRegistrationServices;
}

export function trunkWorld(): TrunkWorld {
  const clock = new FakeClock();
  const transactions = new FakeTransactions();
  const { logger, lines } = createMemoryLogger();
  return {
    clock,
    transactions,
    lines,
    services: {
      transactions,
      clock,
      logger,
      localEndpoint: (transport) => ({ host: '198.51.100.1', port: transport === 'tls' ? 5061 : 5060 }),
      userAgent: 'voix',
    },
  };
}
