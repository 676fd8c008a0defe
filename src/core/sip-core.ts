/**
 * The UAS core (RFC 3261 §8.2): the transaction user that receives every new
 * request, runs the §8.2 checks, authenticates, and hands the request to its
 * method's handler — the registrar for REGISTER, voix itself for OPTIONS.
 * Calls (INVITE and dialogs) are challenged here and handed to the call core
 * once it exists.
 */
import type { CallCore } from '../calls/call-core.js';
import type { TrunkConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import type { Registrar } from '../registrar/registrar.js';
import type { SecurityLog } from '../security/security-log.js';
import { createResponse, newTag } from '../sip/builders.js';
import { Headers, tagOf } from '../sip/headers.js';
import type { SipRequest, SipResponse } from '../sip/message.js';
import { checkRequest } from '../sip/request-checks.js';
import type { ServerTransaction, ServerTransactionUser, TransactionLayer } from '../sip/transaction/transaction-layer.js';
import { ServerInviteTransaction } from '../sip/transaction/server-invite-transaction.js';
import type { Flow, TransportError } from '../sip/transport/types.js';
import { isSipUri, isTelUri } from '../sip/uri.js';
import { VOIX_CAPABILITIES } from './capabilities.js';
import type { AuthOutcome, ChallengeKind } from './digest-authenticator.js';

/** Who sent a request: the digest authenticator, or a fake in tests. */
export interface RequestAuthenticator {
  authenticate(request: SipRequest, flow: Flow, kind: ChallengeKind): AuthOutcome;
}

export interface SipCoreOptions {
  readonly registrar: Registrar;
  readonly authenticator: RequestAuthenticator;
  readonly securityLog: SecurityLog;
  /** Whether a host names this server (domain, aliases, own addresses). */
  readonly isLocalHost: (host: string) => boolean;
  readonly serverHeader: string;
  readonly logger: Logger;
  /** The trunk an INVITE's source address belongs to, if any (trunk-identifier.ts). */
  readonly identifyTrunk?: (address: string, port: number) => TrunkConfig | undefined;
}

type HeaderList = ReadonlyArray<readonly [string, string]>;

export class SipCore implements ServerTransactionUser {
  private transactions: TransactionLayer | null = null;
  /** Calls: null without a media engine (INVITEs then get 503). */
  private calls: CallCore | null = null;

  constructor(private readonly options: SipCoreOptions) {}

  /** The layer whose transactions this core answers, and the call core built on it (set once, after all exist). */
  attach(transactions: TransactionLayer, calls: CallCore | null): void {
    this.transactions = transactions;
    this.calls = calls;
  }

  onRequest(tx: ServerTransaction, request: SipRequest, flow: Flow): void {
    try {
      this.route(tx, request, flow);
    } catch (err) {
      // A bug met by one request: its sender gets a 500 (RFC 3261 §21.5.1) rather than silence, and the
      // transaction ends as usual; the error goes on to the transport layer, which logs it.
      if (!isAnswered(tx)) {
        try {
          this.respond(tx, request, 500);
        } catch {
          // Even the 500 could not be built: the layer drops the transaction after 64*T1.
        }
      }
      throw err;
    }
  }

  private route(tx: ServerTransaction, request: SipRequest, flow: Flow): void {
    const rejection = checkRequest(request, VOIX_CAPABILITIES);
    if (rejection !== null) {
      this.options.logger.debug('request rejected', { method: request.method, status: rejection.status, cause: rejection.cause, callId: request.callId });
      this.respond(tx, request, rejection.status, rejection.headers, rejection.reason);
      return;
    }
    // RFC 3261 §12.2.2: a dialog request with a To tag belongs to a dialog; voix's calls know their own
    // (OPTIONS and REGISTER need no dialog and are answered as usual).
    if (tagOf(request.to) !== null && (request.method === 'INVITE' || request.method === 'BYE' || request.method === 'UPDATE' || request.method === 'INFO')) {
      if (this.calls?.handleInDialog(tx, request) !== true) this.respond(tx, request, 481);
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
      case 'UPDATE':
      case 'INFO':
        // RFC 3261 §15.1.2, RFC 3311, RFC 6086 §4.2: outside any dialog.
        this.respond(tx, request, 481);
        return;
      default:
        this.respond(tx, request, 405, [['Allow', VOIX_CAPABILITIES.allowedMethods.join(', ')]]);
    }
  }

  onAck(ack: SipRequest, _flow: Flow, tx: ServerInviteTransaction | null): void {
    this.calls?.handleAck(ack, tx);
  }

  onAckTimeout(tx: ServerInviteTransaction): void {
    this.options.logger.warn('no ACK for 2xx', { callId: tx.request.callId });
    this.calls?.handleAckTimeout(tx);
  }

  onTimeout(tx: ServerInviteTransaction): void {
    this.options.logger.debug('no ACK for final response', { callId: tx.request.callId });
  }

  onTransportError(tx: ServerTransaction, error: TransportError): void {
    this.options.logger.debug('response not sent', { callId: tx.callId, error: error.message });
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
    const calls = this.calls;
    if (calls === null || !(tx instanceof ServerInviteTransaction)) {
      this.respond(tx, request, 503, [['Retry-After', '5']]);
      return;
    }
    // A provider does not answer challenges: its source address authenticates it, and its calls only reach internal numbers.
    const trunk = this.options.identifyTrunk?.(flow.remoteAddress, flow.remotePort);
    if (trunk !== undefined) {
      calls.handleTrunkInvite(tx, request, flow, trunk).catch((err: unknown) => {
        this.options.logger.error('call setup failed', { callId: request.callId, trunk: trunk.name, error: err });
        if (tx.finalResponse === null) this.respond(tx, request, 500);
      });
      return;
    }
    // Nothing else reaches the call core unauthenticated; the caller is challenged like a proxy would (RFC 3261 §22.3).
    const auth = this.options.authenticator.authenticate(request, flow, 'proxy');
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
    calls.handleInvite(tx, request, flow, auth.user).catch((err: unknown) => {
      this.options.logger.error('call setup failed', { callId: request.callId, error: err });
      if (tx.finalResponse === null) this.respond(tx, request, 500);
    });
  }

  /** RFC 3261 §9.2: 200 to the CANCEL, then 487 on the INVITE if it has no final response yet. */
  private handleCancel(tx: ServerTransaction, request: SipRequest, flow: Flow): void {
    const invite = this.transactions?.findInviteServerTransaction(request, flow) ?? null;
    if (invite === null) {
      this.respond(tx, request, 481);
      return;
    }
    this.respond(tx, request, 200);
    if (invite.finalResponse !== null) return;
    if (this.calls?.cancel(invite) !== true) this.respond(invite, invite.request, 487);
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

/** Whether the transaction has sent its final response (or ended). */
function isAnswered(tx: ServerTransaction): boolean {
  return tx.state !== 'Trying' && tx.state !== 'Proceeding';
}
