/**
 * Shared test doubles for the transaction tests: requests written as text,
 * a MessageSender that records what was sent and when, recording TUs, and a
 * layer wired to a FakeClock.
 */
import { createResponse } from '../../../../src/sip/builders.js';
import type { AnySipMessage, SipRequest, SipResponse } from '../../../../src/sip/message.js';
import { parseHead } from '../../../../src/sip/parser.js';
import { serializeMessage } from '../../../../src/sip/serializer.js';
import {
  TransactionLayer,
  type ClientTransaction,
  type ClientTransactionUser,
  type ServerTransaction,
  type ServerTransactionUser,
} from '../../../../src/sip/transaction/transaction-layer.js';
import type { ServerInviteTransaction } from '../../../../src/sip/transaction/server-invite-transaction.js';
import { TransportError, type Destination, type Flow, type MessageSender } from '../../../../src/sip/transport/types.js';
import { createMemoryLogger, type LogFields } from '../../../../src/log/logger.js';
import { FakeClock } from '../../../../src/util/clock.js';
import { parseSent } from '../../../support/messages.js';

export const UDP_FLOW: Flow = {
  transport: 'udp',
  remoteAddress: '198.51.100.7',
  remotePort: 40312,
  localAddress: '203.0.113.1',
  localPort: 5060,
  connectionId: null,
};

export const TCP_FLOW: Flow = {
  transport: 'tcp',
  remoteAddress: '198.51.100.7',
  remotePort: 50123,
  localAddress: '203.0.113.1',
  localPort: 5060,
  connectionId: 17,
};

export const UDP_DESTINATION: Destination = { transport: 'udp', address: '198.51.100.20', port: 5060 };
export const TCP_DESTINATION: Destination = { transport: 'tcp', address: '198.51.100.20', port: 5060 };

export interface RequestSpec {
  method?: string;
  uri?: string;
  /** The whole top Via value. */
  via?: string;
  callId?: string;
  cseq?: number;
  /** CSeq method when it differs from the method (never in valid traffic). */
  cseqMethod?: string;
  fromTag?: string;
  toTag?: string | null;
  extraHeaders?: string[];
}

export const DEFAULT_VIA = 'SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKnashds8;rport=40312;received=198.51.100.7';

/** A request as the transport layer hands it over, parsed from text. */
export function sipRequest(spec: RequestSpec = {}): SipRequest {
  const method = spec.method ?? 'INVITE';
  const toTag = spec.toTag ?? null;
  const lines = [
    `${method} ${spec.uri ?? 'sip:bob@voix.example'} SIP/2.0`,
    `Via: ${spec.via ?? DEFAULT_VIA}`,
    'Max-Forwards: 70',
    `From: Alice <sip:alice@atlanta.example>;tag=${spec.fromTag ?? '1928301774'}`,
    `To: Bob <sip:bob@voix.example>${toTag === null ? '' : ';tag=' + toTag}`,
    `Call-ID: ${spec.callId ?? 'a84b4c76e66710@pc33.atlanta.example'}`,
    `CSeq: ${spec.cseq ?? 314159} ${spec.cseqMethod ?? method}`,
    ...(spec.extraHeaders ?? []),
  ];
  const parsed = parseHead(lines.join('\r\n'));
  if (!parsed.ok || parsed.message.kind !== 'request') throw new Error(`test request does not parse: ${lines.join(' | ')}`);
  return parsed.message;
}

/** A response to `request` as the peer would send it. */
export function peerResponse(request: SipRequest, status: number, toTag = 'bobtag77'): SipResponse {
  return createResponse(request, status, { toTag });
}

export interface SentMessage {
  /** The message; parsed back from the bytes when it was sent as bytes. */
  readonly message: AnySipMessage;
  /** What went on the wire. */
  readonly bytes: Buffer;
  readonly destination: Destination;
  /** Milliseconds since the sender was created. */
  readonly at: number;
  readonly onError: ((error: TransportError) => void) | undefined;
}

/** A MessageSender that records every message with the fake time it left. */
export class RecordingSender implements MessageSender {
  readonly sent: SentMessage[] = [];
  /** When true, every send fails at once with a TransportError. */
  failing = false;
  private readonly origin: number;

  constructor(private readonly clock: FakeClock) {
    this.origin = clock.now();
  }

  send(message: AnySipMessage, destination: Destination, onError?: (error: TransportError) => void): void {
    this.sent.push({ message, bytes: serializeMessage(message), destination, at: this.clock.now() - this.origin, onError });
    if (this.failing) onError?.(new TransportError('connection refused', destination));
  }

  sendSerialized(data: Buffer, destination: Destination, onError?: (error: TransportError) => void): void {
    this.sent.push({ message: parseSent(data), bytes: data, destination, at: this.clock.now() - this.origin, onError });
    if (this.failing) onError?.(new TransportError('connection refused', destination));
  }

  requests(method: string): SentMessage[] {
    return this.sent.filter((s) => s.message.kind === 'request' && s.message.method === method);
  }

  responses(status: number): SentMessage[] {
    return this.sent.filter((s) => s.message.kind === 'response' && s.message.status === status);
  }

  timesOf(messages: SentMessage[]): number[] {
    return messages.map((s) => s.at);
  }

  clear(): void {
    this.sent.length = 0;
  }
}

/** A client TU that records what it is told, in order. */
export class RecordingClientUser implements ClientTransactionUser {
  readonly events: string[] = [];
  readonly responses: SipResponse[] = [];
  readonly errors: TransportError[] = [];

  onResponse(_tx: ClientTransaction, response: SipResponse): void {
    this.responses.push(response);
    this.events.push(`response ${response.status}`);
  }
  onTimeout(): void {
    this.events.push('timeout');
  }
  onTransportError(_tx: ClientTransaction, error: TransportError): void {
    this.errors.push(error);
    this.events.push('transport-error');
  }
  onTerminated(): void {
    this.events.push('terminated');
  }
}

export interface ReceivedAck {
  readonly ack: SipRequest;
  readonly flow: Flow;
  readonly tx: ServerInviteTransaction | null;
}

/** A server TU that records what it is told; `answer` lets a test respond from onRequest. */
export class RecordingServerUser implements ServerTransactionUser {
  readonly events: string[] = [];
  readonly requests: { tx: ServerTransaction; request: SipRequest; flow: Flow }[] = [];
  readonly acks: ReceivedAck[] = [];
  readonly unacknowledged: SipResponse[] = [];
  answer: ((tx: ServerTransaction, request: SipRequest) => void) | null = null;

  onRequest(tx: ServerTransaction, request: SipRequest, flow: Flow): void {
    this.requests.push({ tx, request, flow });
    this.events.push(`request ${request.method}`);
    this.answer?.(tx, request);
  }
  onAck(ack: SipRequest, flow: Flow, tx: ServerInviteTransaction | null): void {
    this.acks.push({ ack, flow, tx });
    this.events.push(tx === null ? 'ack without transaction' : 'ack');
  }
  onAckTimeout(_tx: ServerInviteTransaction, response: SipResponse): void {
    this.unacknowledged.push(response);
    this.events.push('ack-timeout');
  }
  onTimeout(): void {
    this.events.push('timeout');
  }
  onTransportError(): void {
    this.events.push('transport-error');
  }
  onTerminated(): void {
    this.events.push('terminated');
  }

  /** The transaction of the only request received so far. */
  get onlyTransaction(): ServerTransaction {
    return this.only.tx;
  }

  /** The only request received so far, as the TU got it (a non-INVITE transaction lets its own go once answered). */
  get onlyRequest(): SipRequest {
    return this.only.request;
  }

  private get only(): { tx: ServerTransaction; request: SipRequest; flow: Flow } {
    const [first, ...rest] = this.requests;
    if (first === undefined || rest.length > 0) throw new Error(`expected one request, got ${this.requests.length}`);
    return first;
  }
}

export interface Harness {
  readonly clock: FakeClock;
  readonly sender: RecordingSender;
  readonly serverUser: RecordingServerUser;
  readonly layer: TransactionLayer;
  readonly logLines: LogFields[];
}

export function createHarness(options: { forceRport?: boolean; screen?: (request: SipRequest, flow: Flow) => SipResponse | null } = {}): Harness {
  const clock = new FakeClock();
  const sender = new RecordingSender(clock);
  const serverUser = new RecordingServerUser();
  const { logger, lines } = createMemoryLogger('debug');
  const layer = new TransactionLayer({ sender, clock, user: serverUser, logger, forceRport: options.forceRport ?? true, ...(options.screen !== undefined ? { screen: options.screen } : {}) });
  return { clock, sender, serverUser, layer, logLines: lines };
}
