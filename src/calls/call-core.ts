/**
 * The call core: turns an authenticated INVITE to an extension into a Call,
 * finds the call of every in-dialog request by voix's tag, and keeps the
 * list of active calls.
 */
import type { CallsConfig, SrtpPolicy } from '../config/types.js';
import type { DirectoryUser, UserDirectory } from '../core/users.js';
import type { Logger } from '../log/logger.js';
import type { Binding } from '../registrar/binding.js';
import { MediaUnavailableError, type LegName } from '../rtp/media-protocol.js';
import { createResponse, newTag } from '../sip/builders.js';
import { parseBoundedInt } from '../sip/grammar.js';
import { Headers, tagOf } from '../sip/headers.js';
import type { SipRequest } from '../sip/message.js';
import type { ServerInviteTransaction } from '../sip/transaction/server-invite-transaction.js';
import type { ServerTransaction, TransactionLayer } from '../sip/transaction/transaction-layer.js';
import type { Flow, MessageSender, TransportProtocol } from '../sip/transport/types.js';
import { isSipUri, isTelUri, unescapeUriPart } from '../sip/uri.js';
import type { Clock } from '../util/clock.js';
import { Call, type CallServices } from './call.js';
import type { CallMedia, LegSignalling } from './call-media.js';
import type { CdrStore, EndCause } from './cdr-store.js';

export interface CallCoreOptions {
  readonly transactions: TransactionLayer;
  readonly sender: MessageSender;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly settings: CallsConfig;
  readonly serverHeader: string;
  readonly domain: string;
  localEndpoint(transport: TransportProtocol): { host: string; port: number };
  readonly cdrs: CdrStore | null;
  /** Where the callee's phones are registered. */
  readonly registrar: { lookup(aor: string): Binding[] };
  readonly users: () => UserDirectory;
  /** Allocates the relay of a new call and gives its SDP handling. */
  readonly openMedia: (callId: string, caller: LegSignalling) => Promise<CallMedia>;
  /** Whether SDES keys may travel over UDP/TCP signalling. */
  readonly sdesOverPlaintext: boolean;
}

export interface ActiveCall {
  readonly callId: string;
  readonly caller: string;
  readonly callee: string;
  readonly state: string;
  readonly startedAt: number;
  readonly answeredAt: number | null;
}

function dialogKey(callId: string, localTag: string): string {
  return callId + '\n' + localTag;
}

export class CallCore {
  private readonly calls = new Set<Call>();
  private readonly dialogs = new Map<string, { call: Call; side: LegName }>();
  private readonly services: CallServices;

  constructor(private readonly options: CallCoreOptions) {
    this.services = {
      transactions: options.transactions,
      sender: options.sender,
      clock: options.clock,
      logger: options.logger,
      settings: options.settings,
      serverHeader: options.serverHeader,
      domain: options.domain,
      localEndpoint: (t) => options.localEndpoint(t),
      cdrs: options.cdrs,
      registerDialog: (callId, localTag, call, side) => this.dialogs.set(dialogKey(callId, localTag), { call, side }),
      unregisterDialog: (callId, localTag) => this.dialogs.delete(dialogKey(callId, localTag)),
      onEnded: (call) => this.calls.delete(call),
    };
  }

  activeCalls(): ActiveCall[] {
    return [...this.calls].map((c) => c.summary());
  }

  private signalling(transport: TransportProtocol, sourceAddress: string, policy: SrtpPolicy): LegSignalling {
    return { transport, sourceAddress, srtpPolicy: policy, cryptoAllowed: transport === 'tls' || this.options.sdesOverPlaintext };
  }

  private reject(tx: ServerTransaction, request: SipRequest, status: number, reason?: string, extra: Array<readonly [string, string]> = []): void {
    const headers = new Headers();
    for (const [n, v] of extra) headers.append(n, v);
    headers.append('Server', this.options.serverHeader);
    tx.sendResponse(createResponse(request, status, { toTag: newTag(), headers, ...(reason !== undefined ? { reason } : {}) }));
  }

  /** An initial INVITE (no To tag) from an authenticated user. */
  async handleInvite(tx: ServerInviteTransaction, request: SipRequest, flow: Flow, caller: DirectoryUser): Promise<void> {
    const { settings, logger } = this.options;
    // RFC 4028 §8.1: an interval below our minimum gets 422 with Min-SE.
    const se = request.headers.get('session-expires');
    if (se !== undefined) {
      const seconds = parseBoundedInt(se.split(';')[0] ?? '', 2 ** 31);
      if (seconds !== null && seconds < settings.minSeSeconds) {
        this.reject(tx, request, 422, undefined, [['Min-SE', String(settings.minSeSeconds)]]);
        return;
      }
    }
    const uri = request.uri;
    const dialled = isSipUri(uri) ? (uri.user === null ? null : unescapeUriPart(uri.user)) : isTelUri(uri) ? uri.number : null;
    const callee = dialled === null ? undefined : this.options.users().get(dialled);
    if (dialled === null || callee === undefined) {
      logger.info('call to unknown number', { callId: request.callId, caller: caller.extension, dialled });
      this.reject(tx, request, 404);
      return;
    }
    if (request.body.length === 0) {
      // voix relays media between the legs: it needs the caller's offer in the INVITE.
      this.reject(tx, request, 488, 'SDP Offer Required', [['Warning', '399 voix "an SDP offer is required in the INVITE"']]);
      return;
    }
    const bindings = this.options.registrar.lookup(callee.extension);
    if (bindings.length === 0) {
      logger.info('callee not registered', { callId: request.callId, caller: caller.extension, callee: callee.extension });
      this.reject(tx, request, 480);
      return;
    }
    const callerSignalling = this.signalling(flow.transport, flow.remoteAddress, caller.srtp);
    let media: CallMedia;
    try {
      media = await this.options.openMedia(request.callId, callerSignalling);
    } catch (err) {
      if (!(err instanceof MediaUnavailableError)) throw err;
      logger.warn('no media port free', { callId: request.callId, error: err.message });
      this.reject(tx, request, 503, 'No Media Port Available', [['Retry-After', '5']]);
      return;
    }
    if (tx.finalResponse !== null) {
      // The caller cancelled while the relay was being set up.
      await media.release();
      return;
    }
    const call = new Call(this.services, { extension: caller.extension, name: caller.name }, { extension: callee.extension, name: callee.name }, tx, media, callerSignalling);
    this.calls.add(call);
    call.start(bindings, (b: Binding) => this.signalling(b.transport, b.sourceAddress, callee.srtp));
  }

  /** A request with a To tag. Returns false when it belongs to no dialog voix knows (the caller answers 481). */
  handleInDialog(tx: ServerTransaction, request: SipRequest): boolean {
    const localTag = tagOf(request.to);
    if (localTag === null) return false;
    const found = this.dialogs.get(dialogKey(request.callId, localTag));
    if (found === undefined) return false;
    void found.call.onInDialogRequest(found.side, tx, request).catch((err: unknown) => {
      this.options.logger.error('in-dialog request failed', { callId: request.callId, method: request.method, error: err });
    });
    return true;
  }

  /** An ACK for a 2xx (matched to an Accepted transaction or stray). */
  handleAck(ack: SipRequest, tx: ServerInviteTransaction | null): void {
    if (tx !== null) {
      for (const call of this.calls) if (call.isInviteTransaction(tx)) return call.onCallerAck();
    }
    const localTag = tagOf(ack.to);
    if (localTag === null) return;
    const found = this.dialogs.get(dialogKey(ack.callId, localTag));
    found?.call.onInDialogAck(found.side);
  }

  /** No ACK came for the 2xx voix sent on an INVITE transaction. */
  handleAckTimeout(tx: ServerInviteTransaction): void {
    for (const call of this.calls) if (call.isInviteTransaction(tx)) return call.onCallerAckTimeout();
  }

  /** A CANCEL whose INVITE started a call. Returns false when the INVITE is not a call's. */
  cancel(inviteTx: ServerInviteTransaction): boolean {
    for (const call of this.calls) {
      if (call.isInviteTransaction(inviteTx)) {
        call.cancelByCaller();
        return true;
      }
    }
    return false;
  }

  /** The relays of these calls are gone (a media worker died): the calls end. */
  async mediaLost(callIds: readonly string[]): Promise<void> {
    const lost = new Set(callIds);
    await Promise.all([...this.calls].filter((c) => lost.has(c.callId)).map((c) => c.hangUp('failed')));
  }

  /** Ends every call (graceful shutdown). */
  async hangUpAll(cause: EndCause): Promise<void> {
    await Promise.all([...this.calls].map((c) => c.hangUp(cause)));
  }
}
