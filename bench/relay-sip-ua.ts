/**
 * A minimal SIP user agent for bench/relay.ts: it sets calls up through a
 * SIP server (voix, Asterisk) so that the bench's own packet generator can
 * carry their media, SRTP included (Debian's SIPp has no SRTP, and plays
 * bursty RTP). Two users on UDP 127.0.0.1, one socket each: the caller
 * (A, e.g. 1001) sends INVITEs; the callee (B, e.g. 1002) registers, then
 * answers every INVITE the server sends it with 200 OK at once. Digest
 * authentication (401 or 407, MD5 or SHA-256, qop=auth) through voix's own
 * digest code; requests are retransmitted on a doubling timer from 500 ms
 * (RFC 3261 §17.1.1.2, Timer A) until a response, 7 times at most.
 *
 * Calls are placed one at a time: the server's INVITE to B carries nothing
 * of A's (its own Call-ID, its own SDP), so the only link between the two
 * legs of a call is that it is the one being set up. A's SDP offer is given
 * by the bench; B's answer is computed from the offer B receives (the
 * server's), so the bench sees both SDPs the server wrote: the port and key
 * each phone must send to and check with.
 *
 * Not a general UA: no TCP/TLS, no re-INVITE handling beyond answering it
 * with the same SDP, no forking, no PRACK; other requests (OPTIONS, a
 * server's BYE) get 200 OK. Signalling only: it is idle while the media is
 * measured.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { buildAuthorization, parseChallenge, selectChallenge, type DigestChallenge } from '../src/sip/auth/digest.js';

export interface SipUser {
  readonly user: string;
  readonly password: string;
}

interface Message {
  readonly firstLine: string;
  readonly status: number | null;
  readonly method: string | null;
  /** Header values by lower-case name, in order. */
  readonly headers: ReadonlyMap<string, string[]>;
  readonly body: string;
  readonly raw: string;
}

const COMPACT: Readonly<Record<string, string>> = { i: 'call-id', l: 'content-length', v: 'via', f: 'from', t: 'to', m: 'contact', c: 'content-type' };

function parse(data: Buffer): Message | null {
  const raw = data.toString('latin1');
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1) return null;
  const lines = raw.slice(0, end).split('\r\n');
  const firstLine = lines[0] ?? '';
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const name = COMPACT[key] ?? key;
    const values = headers.get(name) ?? [];
    // Comma-separated lists (Via, Record-Route) stay as they are: this UA only copies them back.
    values.push(line.slice(colon + 1).trim());
    headers.set(name, values);
  }
  const status = /^SIP\/2\.0 (\d{3})/.exec(firstLine)?.[1];
  return {
    firstLine,
    status: status === undefined ? null : Number(status),
    method: status === undefined ? (firstLine.split(' ')[0] ?? null) : null,
    headers,
    body: raw.slice(end + 4),
    raw,
  };
}

const header = (m: Message, name: string): string => m.headers.get(name)?.[0] ?? '';
const cseqNumber = (m: Message): number => Number(header(m, 'cseq').split(/\s+/)[0]);
const uriOf = (nameAddr: string): string => /<([^>]+)>/.exec(nameAddr)?.[1] ?? nameAddr.split(';')[0]?.trim() ?? '';
const tagOf = (nameAddr: string): string => /;\s*tag=([^;>\s]+)/i.exec(nameAddr)?.[1] ?? '';
const token = (): string => randomBytes(6).toString('hex');

/** A request of ours waiting for its final response, retransmitted until one comes. */
interface Pending {
  readonly key: string;
  readonly resolve: (response: Message) => void;
  readonly reject: (err: Error) => void;
  /** Stops the retransmissions (Timer A, RFC 3261 §17.1.1.2) and starts waiting for the final response. */
  readonly onProvisional: (response: Message) => void;
  timer: NodeJS.Timeout | undefined;
}

/** One user's socket: sends requests, matches responses by Call-ID and CSeq, hands requests to a handler. */
class Endpoint {
  private readonly pending = new Map<string, Pending>();
  onRequest: (request: Message, reply: (text: string) => void) => void = () => undefined;
  private constructor(
    readonly socket: dgram.Socket,
    readonly port: number,
    private readonly server: { readonly host: string; readonly port: number },
  ) {
    socket.on('message', (data) => this.receive(data));
  }

  static async open(server: { readonly host: string; readonly port: number }): Promise<Endpoint> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    return new Endpoint(socket, socket.address().port, server);
  }

  send(text: string): void {
    this.socket.send(Buffer.from(text, 'latin1'), this.server.port, this.server.host);
  }

  /**
   * Sends a request; resolves with its final response (provisional ones go
   * to onProvisional); rejects after 7 sends without a response, or 32 s
   * after a provisional one without a final (Timer B, RFC 3261 §17.1.1.2).
   */
  request(text: string, callId: string, cseq: number, onProvisional?: (response: Message) => void): Promise<Message> {
    const key = `${callId} ${cseq}`;
    const what = `${text.split(' ')[0] ?? 'request'} ${callId}`;
    return new Promise((resolve, reject) => {
      let interval = 500;
      let sent = 0;
      const entry: Pending = {
        key,
        resolve,
        reject,
        onProvisional: (provisional) => {
          clearTimeout(entry.timer);
          entry.timer = setTimeout(() => fail(`no final response to ${what} 32 s after ${provisional.firstLine}`), 32_000);
          onProvisional?.(provisional);
        },
        timer: undefined,
      };
      const fail = (why: string): void => {
        this.pending.delete(key);
        reject(new Error(why));
      };
      const attempt = (): void => {
        if (sent === 7) return fail(`no response to ${what} after ${sent} sends`);
        this.send(text);
        sent++;
        entry.timer = setTimeout(attempt, interval);
        interval = Math.min(2 * interval, 4000);
      };
      this.pending.set(key, entry);
      attempt();
    });
  }

  private receive(data: Buffer): void {
    const message = parse(data);
    if (message === null) return;
    if (message.status === null) {
      this.onRequest(message, (text) => this.send(text));
      return;
    }
    const entry = this.pending.get(`${header(message, 'call-id')} ${cseqNumber(message)}`);
    if (entry === undefined) {
      this.onStrayResponse(message);
      return;
    }
    if (message.status < 200) {
      entry.onProvisional(message);
      return;
    }
    clearTimeout(entry.timer);
    this.pending.delete(entry.key);
    entry.resolve(message);
  }

  /** A 200 OK to an INVITE retransmitted after we took the first one: ACKed again by the caller. */
  onStrayResponse: (response: Message) => void = () => undefined;

  close(): void {
    for (const entry of this.pending.values()) clearTimeout(entry.timer);
    this.socket.close();
  }
}

/** The response to a request: its Via, From, To (with our tag), Call-ID and CSeq copied (RFC 3261 §8.2.6.2). */
function response(request: Message, status: string, toTag: string, extra: string[] = [], body = ''): string {
  const to = header(request, 'to');
  return [
    `SIP/2.0 ${status}`,
    ...(request.headers.get('via') ?? []).map((v) => `Via: ${v}`),
    ...(request.headers.get('record-route') ?? []).map((r) => `Record-Route: ${r}`),
    `From: ${header(request, 'from')}`,
    `To: ${tagOf(to) === '' ? `${to};tag=${toTag}` : to}`,
    `Call-ID: ${header(request, 'call-id')}`,
    `CSeq: ${header(request, 'cseq')}`,
    ...extra,
    ...(body === '' ? ['Content-Length: 0'] : ['Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(body, 'latin1')}`]),
    '',
    body,
  ].join('\r\n');
}

/** An established call, as the caller sees it. */
interface Dialog {
  readonly callId: string;
  readonly fromTag: string;
  readonly to: string;
  readonly remoteTarget: string;
  readonly routes: string[];
  /** The caller's SDP, answered again to a re-INVITE. */
  readonly offer: string;
  cseq: number;
}

export interface CallSdp {
  /** The SDP answer the caller (A) received: where A sends, and with SRTP the key A checks with. */
  readonly answerToCaller: string;
  /** The SDP offer the callee (B) received: where B sends, and with SRTP the key B checks with. */
  readonly offerToCallee: string;
}

export class BenchSipUa {
  private readonly dialogs = new Map<string, Dialog>();
  /** The callee's answer for the INVITE it is waiting for (one call at a time). */
  private expecting: { answer(offer: string): string; offered(offer: string): void } | null = null;
  /** INVITEs the callee answered, by Call-ID: its SDP, answered again on a retransmitted INVITE or a re-INVITE. */
  private readonly answered = new Map<string, string>();
  private readonly calleeTag = token();

  private constructor(
    private readonly server: { readonly host: string; readonly port: number },
    private readonly caller: SipUser,
    private readonly callee: SipUser,
    private readonly a: Endpoint,
    private readonly b: Endpoint,
  ) {
    b.onRequest = (request, reply) => this.calleeRequest(request, reply);
    a.onRequest = (request, reply) => {
      // A re-INVITE gets the caller's offer again; anything else a plain 200 OK.
      const dialog = this.dialogs.get(header(request, 'call-id'));
      if (request.method === 'ACK') return;
      if (request.method === 'INVITE' && dialog !== undefined) {
        reply(response(request, '200 OK', dialog.fromTag, [`Contact: <sip:${this.caller.user}@127.0.0.1:${this.a.port}>`], dialog.offer));
      } else reply(response(request, '200 OK', dialog?.fromTag ?? token()));
    };
    a.onStrayResponse = (message) => {
      // Our ACK was lost and the server sends its 200 OK again: ACK it again (RFC 3261 §13.2.2.4).
      const dialog = this.dialogs.get(header(message, 'call-id'));
      if (dialog !== undefined && message.status === 200 && header(message, 'cseq').includes('INVITE')) this.ack(dialog, cseqNumber(message));
    };
  }

  /** Opens both users' sockets and registers the callee with the server. */
  static async start(server: { readonly host: string; readonly port: number }, caller: SipUser, callee: SipUser): Promise<BenchSipUa> {
    const a = await Endpoint.open(server);
    const b = await Endpoint.open(server);
    const ua = new BenchSipUa(server, caller, callee, a, b);
    await ua.register();
    return ua;
  }

  private get domain(): string {
    return `${this.server.host}:${this.server.port}`;
  }

  private via(endpoint: Endpoint, branch = `z9hG4bK${token()}`): string {
    return `Via: SIP/2.0/UDP 127.0.0.1:${endpoint.port};branch=${branch};rport`;
  }

  /** Sends `build(authorization lines)`; on a 401/407, once more with credentials for the challenge. */
  private async authenticated(
    endpoint: Endpoint,
    user: SipUser,
    method: string,
    uri: string,
    callId: string,
    firstCseq: number,
    build: (cseq: number, auth: string[]) => string,
    onChallenge?: (challenged: Message) => void,
    onProvisional?: (m: Message) => void,
  ): Promise<{ response: Message; cseq: number }> {
    const first = await endpoint.request(build(firstCseq, []), callId, firstCseq, onProvisional);
    if (first.status !== 401 && first.status !== 407) return { response: first, cseq: firstCseq };
    onChallenge?.(first);
    const headerName = first.status === 401 ? 'www-authenticate' : 'proxy-authenticate';
    const challenges = (first.headers.get(headerName) ?? []).map(parseChallenge).filter((c) => c !== null);
    const challenge: DigestChallenge | undefined = selectChallenge(challenges);
    if (challenge === undefined) throw new Error(`${method}: no digest challenge this UA can answer in ${first.firstLine}`);
    const authorization = buildAuthorization({ challenge, username: user.user, secret: { password: user.password }, method, uri, cnonce: token(), nc: 1 });
    if (authorization === null) throw new Error(`${method}: cannot answer the challenge`);
    const cseq = firstCseq + 1;
    const second = await endpoint.request(build(cseq, [`${first.status === 401 ? 'Authorization' : 'Proxy-Authorization'}: ${authorization}`]), callId, cseq, onProvisional);
    return { response: second, cseq };
  }

  private async register(): Promise<void> {
    const callId = `${token()}@127.0.0.1`;
    const uri = `sip:${this.domain}`;
    const tag = token();
    const { response: answer } = await this.authenticated(this.b, this.callee, 'REGISTER', uri, callId, 1, (cseq, auth) =>
      [
        `REGISTER ${uri} SIP/2.0`,
        this.via(this.b),
        'Max-Forwards: 70',
        `From: <sip:${this.callee.user}@${this.domain}>;tag=${tag}`,
        `To: <sip:${this.callee.user}@${this.domain}>`,
        `Call-ID: ${callId}`,
        `CSeq: ${cseq} REGISTER`,
        `Contact: <sip:${this.callee.user}@127.0.0.1:${this.b.port}>`,
        'Expires: 3600',
        ...auth,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    if (answer.status !== 200) throw new Error(`REGISTER ${this.callee.user}: ${answer.firstLine}`);
  }

  private calleeRequest(request: Message, reply: (text: string) => void): void {
    const callId = header(request, 'call-id');
    if (request.method === 'ACK') return;
    if (request.method !== 'INVITE') {
      reply(response(request, '200 OK', this.calleeTag));
      return;
    }
    const contact = [`Contact: <sip:${this.callee.user}@127.0.0.1:${this.b.port}>`];
    const previous = this.answered.get(callId);
    if (previous !== undefined) {
      // A retransmitted INVITE, or a re-INVITE: the same answer.
      reply(response(request, '200 OK', this.calleeTag, contact, previous));
      return;
    }
    const expecting = this.expecting;
    if (expecting === null) {
      reply(response(request, '486 Busy Here', this.calleeTag));
      return;
    }
    this.expecting = null;
    expecting.offered(request.body);
    const sdp = expecting.answer(request.body);
    this.answered.set(callId, sdp);
    reply(response(request, '200 OK', this.calleeTag, contact, sdp));
  }

  private ack(dialog: Dialog, cseq: number): void {
    this.a.send(
      [
        `ACK ${dialog.remoteTarget} SIP/2.0`,
        this.via(this.a),
        ...dialog.routes.map((r) => `Route: ${r}`),
        'Max-Forwards: 70',
        `From: <sip:${this.caller.user}@${this.domain}>;tag=${dialog.fromTag}`,
        `To: ${dialog.to}`,
        `Call-ID: ${dialog.callId}`,
        `CSeq: ${cseq} ACK`,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
  }

  /**
   * One call from the caller to the callee: `offer` is A's SDP; `answer`
   * computes B's SDP from the offer the server sent B. Resolves with the
   * SDPs the server wrote once A has ACKed its 200 OK.
   */
  async call(offer: string, answer: (offerToCallee: string) => string): Promise<CallSdp> {
    const callId = `${token()}@127.0.0.1`;
    const fromTag = token();
    const uri = `sip:${this.callee.user}@${this.domain}`;
    let offerToCallee: string | null = null;
    this.expecting = { answer, offered: (sdp) => (offerToCallee = sdp) };
    const invite = (cseq: number, auth: string[]): string =>
      [
        `INVITE ${uri} SIP/2.0`,
        this.via(this.a),
        'Max-Forwards: 70',
        `From: <sip:${this.caller.user}@${this.domain}>;tag=${fromTag}`,
        `To: <${uri}>`,
        `Call-ID: ${callId}`,
        `CSeq: ${cseq} INVITE`,
        `Contact: <sip:${this.caller.user}@127.0.0.1:${this.a.port}>`,
        ...auth,
        'Content-Type: application/sdp',
        `Content-Length: ${Buffer.byteLength(offer, 'latin1')}`,
        '',
        offer,
      ].join('\r\n');
    const ackError = (challenged: Message): void => {
      // RFC 3261 §17.1.1.3: a non-2xx final response to an INVITE is ACKed in the same transaction (same branch).
      const via = header(challenged, 'via');
      this.a.send(
        [
          `ACK ${uri} SIP/2.0`,
          `Via: ${via}`,
          'Max-Forwards: 70',
          `From: ${header(challenged, 'from')}`,
          `To: ${header(challenged, 'to')}`,
          `Call-ID: ${callId}`,
          `CSeq: ${cseqNumber(challenged)} ACK`,
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
      );
    };
    try {
      const { response: final, cseq } = await this.authenticated(this.a, this.caller, 'INVITE', uri, callId, 1, invite, ackError);
      if (final.status !== 200) {
        ackError(final);
        throw new Error(`INVITE ${this.callee.user}: ${final.firstLine}`);
      }
      const dialog: Dialog = {
        callId,
        fromTag,
        to: header(final, 'to'),
        remoteTarget: uriOf(header(final, 'contact')),
        routes: [...(final.headers.get('record-route') ?? [])].reverse(),
        offer,
        cseq,
      };
      this.dialogs.set(callId, dialog);
      this.ack(dialog, cseq);
      if (offerToCallee === null) throw new Error(`the callee got no INVITE for call ${callId}`);
      return { answerToCaller: final.body, offerToCallee };
    } finally {
      this.expecting = null;
    }
  }

  /** BYE on every call still up (from the caller), one at a time. */
  async hangUpAll(): Promise<void> {
    for (const dialog of [...this.dialogs.values()]) {
      dialog.cseq++;
      const bye = [
        `BYE ${dialog.remoteTarget} SIP/2.0`,
        this.via(this.a),
        ...dialog.routes.map((r) => `Route: ${r}`),
        'Max-Forwards: 70',
        `From: <sip:${this.caller.user}@${this.domain}>;tag=${dialog.fromTag}`,
        `To: ${dialog.to}`,
        `Call-ID: ${dialog.callId}`,
        `CSeq: ${dialog.cseq} BYE`,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      await this.a.request(bye, dialog.callId, dialog.cseq);
      this.dialogs.delete(dialog.callId);
    }
    this.answered.clear();
  }

  close(): void {
    this.a.close();
    this.b.close();
  }
}
