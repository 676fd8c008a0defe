/**
 * The UAS core (RFC 3261 §8.2): the transaction user that receives every new
 * request, runs the §8.2 checks, authenticates, and hands the request to its
 * method's handler — the registrar for REGISTER, voix itself for OPTIONS.
 * Calls (INVITE and dialogs) are challenged here and handed to the call core
 * once it exists.
 */
import type { Logger } from '../log/logger.js';
import type { Registrar } from '../registrar/registrar.js';
import type { SecurityLog } from '../security/security-log.js';
import { createResponse, newTag } from '../sip/builders.js';
import { Headers } from '../sip/headers.js';
import type { SipRequest, SipResponse } from '../sip/message.js';
import { checkRequest } from '../sip/request-checks.js';
import type { ServerTransaction, ServerTransactionUser, TransactionLayer } from '../sip/transaction/transaction-layer.js';
import type { ServerInviteTransaction } from '../sip/transaction/server-invite-transaction.js';
import type { Flow, TransportError } from '../sip/transport/types.js';
import { isSipUri, isTelUri } from '../sip/uri.js';
import { VOIX_CAPABILITIES } from './capabilities.js';
import type { AuthOutcome, DigestAuthenticator } from './digest-authenticator.js';

export interface SipCoreOptions {
  readonly registrar: Registrar;
  readonly authenticator: DigestAuthenticator;
  readonly securityLog: SecurityLog;
  /** Whether a host names this server (domain, aliases, own addresses). */
  readonly isLocalHost: (host: string) => boolean;
  readonly serverHeader: string;
  readonly logger: Logger;
}

type HeaderList = ReadonlyArray<readonly [string, string]>;

export class SipCore implements ServerTransactionUser {
  private transactions: TransactionLayer | null = null;

  constructor(private readonly options: SipCoreOptions) {}

  /** The layer whose transactions this core answers (set once, after both exist). */
  attach(transactions: TransactionLayer): void {
    this.transactions = transactions;
  }

  onRequest(tx: ServerTransaction, request: SipRequest, flow: Flow): void {
    const rejection = checkRequest(request, VOIX_CAPABILITIES);
    if (rejection !== null) {
      this.options.logger.debug('request rejected', { method: request.method, status: rejection.status, cause: rejection.cause, callId: request.callId });
      this.respond(tx, request, rejection.status, rejection.headers, rejection.reason);
      return;
    }
    switch (request.method) {
      case 'REGISTER':
        this.handleRegister(tx, request, flow);
        return;
      case 'OPTIONS':
        this.handleOptions(tx, request);
        return;
      case 'INVITE':
        this.handleInvite(tx, request, flow);
        return;
      case 'CANCEL':
        this.handleCancel(tx, request, flow);
        return;
      case 'BYE':
        // RFC 3261 §15.1.2: a BYE outside any dialog we know.
        this.respond(tx, request, 481);
        return;
      default:
        this.respond(tx, request, 405, [['Allow', VOIX_CAPABILITIES.allowedMethods.join(', ')]]);
    }
  }

  onAck(ack: SipRequest, _flow: Flow, _tx: ServerInviteTransaction | null): void {
    this.options.logger.debug('ack without dialog', { callId: ack.callId });
  }

  onAckTimeout(tx: ServerInviteTransaction): void {
    this.options.logger.warn('no ACK for 2xx', { callId: tx.request.callId });
  }

  onTimeout(tx: ServerInviteTransaction): void {
    this.options.logger.debug('no ACK for final response', { callId: tx.request.callId });
  }

  onTransportError(tx: ServerTransaction, error: TransportError): void {
    this.options.logger.debug('response not sent', { callId: tx.request.callId, error: error.message });
  }

  /** RFC 3261 §10.3: domain, authentication, authorization, then the registrar proper. */
  private handleRegister(tx: ServerTransaction, request: SipRequest, flow: Flow): void {
    const uri = request.uri;
    if (!isSipUri(uri) || !this.options.isLocalHost(uri.host)) {
      this.respond(tx, request, 404, [], 'Domain Not Served');
      return;
    }
    const auth = this.options.authenticator.authenticate(request, flow, 'www');
    if (auth.kind === 'challenge') {
      this.challenge(tx, request, auth);
      return;
    }
    if (!auth.user.transports.includes(flow.transport)) {
      this.options.securityLog.record('transport_refused', {
        src: flow.remoteAddress,
        port: flow.remotePort,
        transport: flow.transport,
        user: auth.user.extension,
        method: request.method,
        callId: request.callId,
      });
      this.respond(tx, request, 403, [], `Forbidden: ${flow.transport.toUpperCase()} not allowed for this account`);
      return;
    }
    const result = this.options.registrar.handleRegister(request, auth.user, flow);
    this.respond(tx, request, result.status, result.headers, result.reason);
  }

  /**
   * RFC 3261 §11.2: voix answers OPTIONS itself, whoever the Request-URI
   * names, so that probing extensions with OPTIONS learns nothing.
   */
  private handleOptions(tx: ServerTransaction, request: SipRequest): void {
    this.respond(tx, request, 200, [
      ['Allow', VOIX_CAPABILITIES.allowedMethods.join(', ')],
      ['Accept', 'application/sdp'],
      ['Accept-Encoding', 'identity'],
      ['Supported', VOIX_CAPABILITIES.supportedExtensions.join(', ')],
    ]);
  }

  private handleInvite(tx: ServerTransaction, request: SipRequest, flow: Flow): void {
    const uri = request.uri;
    if (!isSipUri(uri) && !isTelUri(uri)) {
      this.respond(tx, request, 416);
      return;
    }
    // Nothing reaches the call core unauthenticated; the caller is challenged like a proxy would (RFC 3261 §22.3).
    const auth = this.options.authenticator.authenticate(request, flow, 'proxy');
    if (auth.kind === 'challenge') {
      this.challenge(tx, request, auth);
      return;
    }
    this.respond(tx, request, 480, [], 'Calls Not Available Yet');
  }

  /** RFC 3261 §9.2: 200 to the CANCEL, then 487 on the INVITE if it has no final response yet. */
  private handleCancel(tx: ServerTransaction, request: SipRequest, flow: Flow): void {
    const invite = this.transactions?.findInviteServerTransaction(request, flow) ?? null;
    if (invite === null) {
      this.respond(tx, request, 481);
      return;
    }
    this.respond(tx, request, 200);
    if (invite.finalResponse === null) this.respond(invite, invite.request, 487);
  }

  private challenge(tx: ServerTransaction, request: SipRequest, auth: Extract<AuthOutcome, { kind: 'challenge' }>): void {
    this.respond(tx, request, auth.status, auth.headers);
  }

  private respond(tx: ServerTransaction, request: SipRequest, status: number, headers: HeaderList = [], reason?: string): SipResponse {
    const h = new Headers();
    for (const [name, value] of headers) h.append(name, value);
    h.append('Server', this.options.serverHeader);
    const response = createResponse(request, status, { toTag: newTag(), headers: h, ...(reason !== undefined ? { reason } : {}) });
    tx.sendResponse(response);
    return response;
  }
}
