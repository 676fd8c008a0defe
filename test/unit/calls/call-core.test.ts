/**
 * The call core driven through the real transaction layer and SIP core,
 * with fakes of voix's own boundaries: the message sender (what leaves on
 * the wire), the media side (CallMedia), the authenticator, and the clock.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { CallCore } from '../../../src/calls/call-core.js';
import type { CallMedia, LegSignalling, MediaOutcome } from '../../../src/calls/call-media.js';
import { VOIX_CAPABILITIES } from '../../../src/core/capabilities.js';
import { SipCore, type RequestAuthenticator } from '../../../src/core/sip-core.js';
import type { DirectoryUser } from '../../../src/core/users.js';
import { createMemoryLogger } from '../../../src/log/logger.js';
import type { Binding } from '../../../src/registrar/binding.js';
import { NullBindingStore } from '../../../src/registrar/binding.js';
import { Registrar } from '../../../src/registrar/registrar.js';
import { SecurityLog } from '../../../src/security/security-log.js';
import type { LegName, RelayStats } from '../../../src/rtp/media-protocol.js';
import { createResponse } from '../../../src/sip/builders.js';
import { Headers, tagOf } from '../../../src/sip/headers.js';
import type { AnySipMessage, SipRequest, SipResponse } from '../../../src/sip/message.js';
import { TransactionLayer } from '../../../src/sip/transaction/transaction-layer.js';
import type { Destination, Flow, MessageSender } from '../../../src/sip/transport/types.js';
import { FakeClock } from '../../../src/util/clock.js';
import { parseRequest, parseSent } from '../../support/messages.js';
import { configFromYaml, userLines } from '../../support/config.js';
import { CallRouter } from '../../../src/routing/call-router.js';
import type { VoixConfig } from '../../../src/config/types.js';
import type { CallTarget } from '../../../src/calls/call-target.js';
import { sipUri } from '../../../src/sip/uri.js';
import { DEFAULT_AMD_SETTINGS } from '../../../src/media/answering-machine-detector.js';

class RecordingSender implements MessageSender {
  readonly sent: Array<{ message: AnySipMessage; destination: Destination }> = [];
  send(message: AnySipMessage, destination: Destination): void {
    this.sent.push({ message, destination });
  }
  sendSerialized(data: Buffer, destination: Destination): void {
    this.sent.push({ message: parseSent(data), destination });
  }
  requests(method: string, address?: string): SipRequest[] {
    return this.sent
      .filter((s) => s.message.kind === 'request' && s.message.method === method && (address === undefined || s.destination.address === address))
      .map((s) => s.message as SipRequest);
  }
  responses(callId: string): SipResponse[] {
    return this.sent.filter((s) => s.message.kind === 'response' && s.message.callId === callId).map((s) => s.message as SipResponse);
  }
  statuses(callId: string, method = 'INVITE'): number[] {
    return this.responses(callId)
      .filter((r) => r.cseq.method === method)
      .map((r) => r.status);
  }
}

class FakeMedia implements CallMedia {
  released = 0;
  lastFromA: Buffer | null = null;
  offers: LegSignalling[] = [];
  refuse: MediaOutcome | null = null;
  offerForCallee(offer: Buffer, callee: LegSignalling): MediaOutcome {
    this.lastFromA = offer;
    this.offers.push(callee);
    return this.refuse ?? { ok: true, sdp: Buffer.from('offer-for-b') };
  }
  async answerForCaller(): Promise<MediaOutcome> {
    return { ok: true, sdp: Buffer.from('answer-for-a') };
  }
  reoffer(from: LegName, offer: Buffer): MediaOutcome {
    return { ok: true, sdp: Buffer.from(`reoffer-from-${from}:${offer.toString()}`) };
  }
  async reanswer(from: LegName): Promise<MediaOutcome> {
    return { ok: true, sdp: Buffer.from(`reanswer-for-${from}`) };
  }
  repeatsLastOffer(_from: LegName, offer: Buffer): boolean {
    return this.lastFromA !== null && offer.equals(this.lastFromA);
  }
  lastSdpTo(to: LegName): Buffer | null {
    return Buffer.from(`last-to-${to}`);
  }
  isSecure(): boolean {
    return false;
  }
  answers: Buffer[] = [];
  offerFromVoix(): MediaOutcome {
    return this.refuse ?? { ok: true, sdp: Buffer.from('voix-offer') };
  }
  amd: unknown[] = [];
  async acceptAnswer(answer: Buffer, amd: unknown = null): Promise<MediaOutcome> {
    this.answers.push(answer);
    this.amd.push(amd);
    return { ok: true, sdp: answer };
  }
  plays: Array<{ promptId: string; repeat: number; finish: (played: boolean) => void }> = [];
  async answerLocally(): Promise<MediaOutcome> {
    return { ok: true, sdp: Buffer.from('local-answer-for-a') };
  }
  play(promptId: string, repeat: number): Promise<boolean> {
    return new Promise((resolve) => this.plays.push({ promptId, repeat, finish: resolve }));
  }
  playlists: Array<{ items: readonly unknown[]; finish: (reason: 'completed' | 'stopped' | 'replaced' | 'released') => void }> = [];
  playToCaller(items: readonly unknown[]): Promise<'completed' | 'stopped' | 'replaced' | 'released'> {
    return new Promise((resolve) => this.playlists.push({ items, finish: resolve }));
  }
  stopped = 0;
  async stopPlaying(): Promise<boolean> {
    this.stopped += 1;
    return true;
  }
  async release(): Promise<RelayStats | null> {
    this.released++;
    return null;
  }
}

const ALICE: DirectoryUser = { extension: '1001', name: 'Alice', ha1: {}, transports: ['udp'], maxContacts: 3, srtp: 'optional' };
const BOB: DirectoryUser = { extension: '1002', name: 'Bob', ha1: {}, transports: ['udp'], maxContacts: 3, srtp: 'optional' };
const FLOW_A: Flow = { transport: 'udp', remoteAddress: '192.0.2.10', remotePort: 5062, localAddress: '192.0.2.1', localPort: 5060, connectionId: null };

function binding(address: string, aor = '1002'): Binding {
  return {
    aor,
    contact: `sip:${aor}@${address}:5070`,
    instanceId: null,
    regId: null,
    callId: `reg-${address}`,
    cseq: 1,
    expiresAt: Number.MAX_SAFE_INTEGER,
    q: null,
    transport: 'udp',
    sourceAddress: address,
    sourcePort: 5070,
    connectionId: null,
    path: [],
    userAgent: null,
    updatedAt: 0,
  };
}

interface World {
  clock: FakeClock;
  sender: RecordingSender;
  layer: TransactionLayer;
  media: FakeMedia;
  bindings: Binding[];
  calls: CallCore;
  lines: Array<Record<string, unknown>>;
}

const DEFAULT_CONFIG = `server:
  domain: voix.test
users:
${userLines([{ extension: '1001', name: 'Alice' }, { extension: '1002', name: 'Bob' }])}
`;

function createWorld(config: VoixConfig = configFromYaml(DEFAULT_CONFIG), lookup?: (aor: string) => Binding[]): World {
  const clock = new FakeClock();
  const sender = new RecordingSender();
  const { logger, lines } = createMemoryLogger();
  const media = new FakeMedia();
  const bindings: Binding[] = [];
  const registrar = new Registrar({ clock, store: new NullBindingStore(), settings: { minExpires: 60, maxExpires: 3600, defaultExpires: 600 }, logger, isLocalHost: () => true });
  const authenticator: RequestAuthenticator = { authenticate: () => ({ kind: 'authenticated', user: ALICE }) };
  const core = new SipCore({ registrar, authenticator, securityLog: new SecurityLog(logger), isLocalHost: () => true, serverHeader: 'voix', logger });
  const layer = new TransactionLayer({ sender, clock, user: core, logger });
  const calls = new CallCore({
    transactions: layer,
    sender,
    clock,
    logger,
    settings: { ringTimeoutSeconds: 30, sessionExpiresSeconds: 1800, minSeSeconds: 90 },
    serverHeader: 'voix',
    domain: 'voix.test',
    localEndpoint: () => ({ host: '192.0.2.1', port: 5060 }),
    cdrs: null,
    config: () => config,
    router: new CallRouter({
      config: () => config,
      registrar: { lookup: lookup ?? (() => bindings) },
      clock,
      securityLog: new SecurityLog(logger),
      logger,
      trunkCalls: () => 0,
    }),
    openMedia: async () => media,
  });
  core.attach(layer, calls);
  return { clock, sender, layer, media, bindings, calls, lines };
}

let seq = 0;
function inviteFromA(opts: { to?: string; callId?: string; extra?: string[]; body?: string } = {}): SipRequest {
  seq++;
  const body = opts.body ?? 'sdp-from-a';
  return parseRequest(
    [
      `INVITE sip:${opts.to ?? '1002'}@voix.test SIP/2.0`,
      `Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa-${seq};rport`,
      'From: "Alice" <sip:1001@voix.test>;tag=alice',
      `To: <sip:${opts.to ?? '1002'}@voix.test>`,
      `Call-ID: ${opts.callId ?? `call-${seq}`}`,
      'CSeq: 1 INVITE',
      'Contact: <sip:1001@192.0.2.10:5062>',
      'Max-Forwards: 70',
      ...(opts.extra ?? []),
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\n'),
  );
}

/** A phone's answer to voix's INVITE, fed back through the transaction layer. */
function answer(w: World, invite: SipRequest, status: number, toTag: string, body?: string, extra: string[][] = []): void {
  const headers = new Headers();
  for (const [n, v] of extra) headers.append(n ?? '', v ?? '');
  headers.append('Contact', `<sip:1002@${(invite.uri as { host: string }).host}:5070>`);
  if (body !== undefined) headers.append('Content-Type', 'application/sdp');
  const response = createResponse(invite, status, { toTag, headers, ...(body !== undefined ? { body: Buffer.from(body) } : {}) });
  w.layer.receiveResponse(response, { ...FLOW_A, remoteAddress: '192.0.2.30' });
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

function inDialogFromA(w: World, method: string, callId: string, cseq: number, body?: string): SipRequest {
  const toTag = tagOf(w.sender.responses(callId).find((r) => r.status === 200)?.to ?? { displayName: null, uri: { scheme: 'x', opaque: '' }, params: [] });
  return parseRequest(
    [
      `${method} sip:1002@192.0.2.1:5060 SIP/2.0`,
      `Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKin-${method}-${cseq};rport`,
      'From: "Alice" <sip:1001@voix.test>;tag=alice',
      `To: <sip:1002@voix.test>;tag=${toTag}`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} ${method}`,
      'Contact: <sip:1001@192.0.2.10:5062>',
      ...(body !== undefined ? ['Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(body)}`, '', body] : ['Content-Length: 0', '', '']),
    ].join('\n'),
  );
}

describe('CallCore', () => {
  let w: World;
  beforeEach(() => {
    w = createWorld();
  });

  it('connects a call: 100 and 180 to the caller, ACK to the callee, 200 with the relayed answer, BYE both ways', async () => {
    w.bindings.push(binding('192.0.2.30'));
    const invite = inviteFromA({ callId: 'basic' });

    w.layer.receiveRequest(invite, FLOW_A);
    await settle();
    const toB = w.sender.requests('INVITE', '192.0.2.30');
    answer(w, toB[0]!, 180, 'bob');
    answer(w, toB[0]!, 200, 'bob', 'sdp-from-b');
    await settle();
    w.layer.receiveRequest(parseRequest(`ACK sip:1002@192.0.2.1 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKack1\nFrom: <sip:1001@voix.test>;tag=alice\nTo: <sip:1002@voix.test>;tag=${tagOf(w.sender.responses('basic').at(-1)!.to)}\nCall-ID: basic\nCSeq: 1 ACK\nContent-Length: 0\n\n`), FLOW_A);
    w.layer.receiveRequest(inDialogFromA(w, 'BYE', 'basic', 2), FLOW_A);
    await settle();

    expect(toB).toHaveLength(1);
    expect(toB[0]!.body.toString()).toBe('offer-for-b');
    expect(toB[0]!.headers.get('supported')).toBe('timer');
    expect(w.sender.statuses('basic')).toEqual([100, 180, 200]);
    expect(w.sender.responses('basic').find((r) => r.status === 200)!.body.toString()).toBe('answer-for-a');
    expect(w.sender.requests('ACK', '192.0.2.30')).toHaveLength(1);
    expect(w.sender.statuses('basic', 'BYE')).toEqual([200]);
    expect(w.sender.requests('BYE', '192.0.2.30')).toHaveLength(1);
    expect(w.media.released).toBe(1);
    expect(w.calls.activeCalls()).toEqual([]);
  });

  it('relays busy (486) from the only contact and releases the media', async () => {
    w.bindings.push(binding('192.0.2.30'));
    w.layer.receiveRequest(inviteFromA({ callId: 'busy' }), FLOW_A);
    await settle();
    answer(w, w.sender.requests('INVITE', '192.0.2.30')[0]!, 486, 'bob');
    await settle();

    expect(w.sender.statuses('busy')).toEqual([100, 486]);
    expect(w.media.released).toBe(1);
  });

  it('answers 404 for an unknown extension and 480 when the callee has no registered phone', async () => {
    w.layer.receiveRequest(inviteFromA({ to: '4242', callId: 'unknown' }), FLOW_A);
    w.layer.receiveRequest(inviteFromA({ callId: 'offline' }), FLOW_A);
    await settle();

    expect(w.sender.statuses('unknown')).toEqual([404]);
    expect(w.sender.statuses('offline')).toEqual([100, 480]);
  });

  it('rings every contact; the first 2xx wins and the others are cancelled once they have rung', async () => {
    w.bindings.push(binding('192.0.2.31'), binding('192.0.2.32'));
    w.layer.receiveRequest(inviteFromA({ callId: 'fork' }), FLOW_A);
    await settle();
    const desk = w.sender.requests('INVITE', '192.0.2.31')[0]!;
    const mobile = w.sender.requests('INVITE', '192.0.2.32')[0]!;
    answer(w, desk, 180, 'desk');
    answer(w, mobile, 200, 'mobile', 'sdp-from-mobile');
    await settle();

    expect(w.sender.requests('CANCEL', '192.0.2.31')).toHaveLength(1);
    expect(w.sender.requests('CANCEL', '192.0.2.32')).toHaveLength(0);
    expect(w.sender.statuses('fork')).toEqual([100, 180, 200]);
  });

  it('cancels the contacts when the caller cancels, answering 487 to the INVITE (RFC 3261 §9.2)', async () => {
    w.bindings.push(binding('192.0.2.30'));
    const invite = inviteFromA({ callId: 'cancel' });
    w.layer.receiveRequest(invite, FLOW_A);
    await settle();
    const toB = w.sender.requests('INVITE', '192.0.2.30')[0]!;
    answer(w, toB, 180, 'bob');
    const cancel = parseRequest(`CANCEL sip:1002@voix.test SIP/2.0\nVia: ${invite.headers.get('via') ?? `SIP/2.0/UDP 192.0.2.10:5062;branch=${invite.topVia.params[0]?.value};rport`}\nFrom: "Alice" <sip:1001@voix.test>;tag=alice\nTo: <sip:1002@voix.test>\nCall-ID: cancel\nCSeq: 1 CANCEL\nContent-Length: 0\n\n`);
    w.layer.receiveRequest(cancel, FLOW_A);
    await settle();

    expect(w.sender.statuses('cancel', 'CANCEL')).toEqual([200]);
    expect(w.sender.statuses('cancel')).toEqual([100, 180, 487]);
    expect(w.sender.requests('CANCEL', '192.0.2.30')).toHaveLength(1);
    expect(w.media.released).toBe(1);
  });

  it('acknowledges then hangs up a callee whose 2xx crosses the CANCEL', async () => {
    w.bindings.push(binding('192.0.2.30'));
    const invite = inviteFromA({ callId: 'race' });
    w.layer.receiveRequest(invite, FLOW_A);
    await settle();
    const toB = w.sender.requests('INVITE', '192.0.2.30')[0]!;
    answer(w, toB, 180, 'bob');
    w.layer.receiveRequest(parseRequest(`CANCEL sip:1002@voix.test SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.10:5062;branch=${invite.topVia.params[0]?.value};rport\nFrom: "Alice" <sip:1001@voix.test>;tag=alice\nTo: <sip:1002@voix.test>\nCall-ID: race\nCSeq: 1 CANCEL\nContent-Length: 0\n\n`), FLOW_A);
    await settle();
    answer(w, toB, 200, 'bob', 'sdp-from-b');
    await settle();

    expect(w.sender.requests('ACK', '192.0.2.30')).toHaveLength(1);
    expect(w.sender.requests('BYE', '192.0.2.30')).toHaveLength(1);
    expect(w.sender.statuses('race')).toEqual([100, 180, 487]);
  });

  it('gives up after the ring timeout: 480 to the caller, CANCEL to the contact', async () => {
    w.bindings.push(binding('192.0.2.30'));
    w.layer.receiveRequest(inviteFromA({ callId: 'timeout' }), FLOW_A);
    await settle();
    answer(w, w.sender.requests('INVITE', '192.0.2.30')[0]!, 180, 'bob');
    w.clock.advance(30_000);
    await settle();

    expect(w.sender.statuses('timeout')).toEqual([100, 180, 480]);
    expect(w.sender.requests('CANCEL', '192.0.2.30')).toHaveLength(1);
  });

  it('refuses a Session-Expires below Min-SE with 422 (RFC 4028 §8.1)', async () => {
    w.bindings.push(binding('192.0.2.30'));
    w.layer.receiveRequest(inviteFromA({ callId: 'short-se', extra: ['Session-Expires: 30', 'Supported: timer'] }), FLOW_A);
    await settle();

    expect(w.sender.statuses('short-se')).toEqual([422]);
    expect(w.sender.responses('short-se')[0]!.headers.get('min-se')).toBe('90');
  });

  it('relays a hold re-INVITE to the other side and answers with its answer; answers a refresh alone', async () => {
    w.bindings.push(binding('192.0.2.30'));
    w.layer.receiveRequest(inviteFromA({ callId: 'hold' }), FLOW_A);
    await settle();
    const toB = w.sender.requests('INVITE', '192.0.2.30')[0]!;
    answer(w, toB, 200, 'bob', 'sdp-from-b');
    await settle();

    w.layer.receiveRequest(inDialogFromA(w, 'INVITE', 'hold', 2, 'sdp-from-a-hold'), FLOW_A);
    await settle();
    const reinvite = w.sender.requests('INVITE', '192.0.2.30')[1]!;
    answer(w, reinvite, 200, 'bob', 'sdp-from-b-hold');
    await settle();
    w.layer.receiveRequest(inDialogFromA(w, 'UPDATE', 'hold', 3, 'sdp-from-a'), FLOW_A);
    await settle();

    expect(reinvite.body.toString()).toBe('reoffer-from-a:sdp-from-a-hold');
    expect(tagOf(reinvite.to)).toBe('bob');
    const reinviteAnswers = w.sender.responses('hold').filter((r) => r.cseq.seq === 2);
    expect(reinviteAnswers.map((r) => [r.status, r.body.toString()])).toEqual([[200, 'reanswer-for-a']]);
    const refresh = w.sender.responses('hold').filter((r) => r.cseq.method === 'UPDATE');
    expect(refresh.map((r) => [r.status, r.body.toString()])).toEqual([[200, 'last-to-a']]);
    expect(w.sender.requests('INVITE', '192.0.2.30')).toHaveLength(2);
  });

  it('ends the call on the callee hanging up: 200 to it, BYE to the caller', async () => {
    w.bindings.push(binding('192.0.2.30'));
    w.layer.receiveRequest(inviteFromA({ callId: 'bye-b' }), FLOW_A);
    await settle();
    const toB = w.sender.requests('INVITE', '192.0.2.30')[0]!;
    answer(w, toB, 200, 'bob', 'sdp-from-b');
    await settle();
    const bye = parseRequest(`BYE sip:1001@192.0.2.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.30:5070;branch=z9hG4bKbyeb\nFrom: <sip:1002@voix.test>;tag=bob\nTo: "Alice" <sip:1001@voix.test>;tag=${tagOf(toB.from)}\nCall-ID: ${toB.callId}\nCSeq: 5 BYE\nContent-Length: 0\n\n`);
    w.layer.receiveRequest(bye, { ...FLOW_A, remoteAddress: '192.0.2.30', remotePort: 5070 });
    await settle();

    expect(w.sender.statuses(toB.callId, 'BYE')).toEqual([200]);
    expect(w.sender.requests('BYE', '192.0.2.10')).toHaveLength(1);
    expect(w.media.released).toBe(1);
  });

  it('answers 481 to a BYE from a contact that lost the race, and keeps the call', async () => {
    w.bindings.push(binding('192.0.2.31'), binding('192.0.2.32'));
    w.layer.receiveRequest(inviteFromA({ callId: 'loser' }), FLOW_A);
    await settle();
    const desk = w.sender.requests('INVITE', '192.0.2.31')[0]!;
    answer(w, desk, 200, 'desk', 'sdp-from-desk');
    await settle();
    const bye = parseRequest(`BYE sip:1001@192.0.2.1:5060 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.32:5070;branch=z9hG4bKloser\nFrom: <sip:1002@voix.test>;tag=mobile\nTo: "Alice" <sip:1001@voix.test>;tag=${tagOf(desk.from)}\nCall-ID: ${desk.callId}\nCSeq: 9 BYE\nContent-Length: 0\n\n`);
    w.layer.receiveRequest(bye, { ...FLOW_A, remoteAddress: '192.0.2.32', remotePort: 5070 });
    await settle();

    expect(w.sender.statuses(desk.callId, 'BYE')).toEqual([481]);
    expect(w.calls.activeCalls()).toHaveLength(1);
  });

  it('answers 481 to a BYE for a dialog it does not know', async () => {
    const bye = parseRequest(`BYE sip:1002@192.0.2.1 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKstray\nFrom: <sip:1001@voix.test>;tag=alice\nTo: <sip:1002@voix.test>;tag=nope\nCall-ID: stray\nCSeq: 2 BYE\nContent-Length: 0\n\n`);
    w.layer.receiveRequest(bye, FLOW_A);
    await settle();

    expect(w.sender.statuses('stray', 'BYE')).toEqual([481]);
  });

  it('advertises UPDATE and the timer extension', () => {
    expect(VOIX_CAPABILITIES.allowedMethods).toContain('UPDATE');
    expect(VOIX_CAPABILITIES.supportedExtensions).toContain('timer');
  });
});

describe('CallCore session timers (RFC 4028)', () => {
  let w: World;
  beforeEach(() => {
    w = createWorld();
    w.bindings.push(binding('192.0.2.30'));
  });

  async function connect(callId: string, extra: string[], bExtra: string[][] = []): Promise<SipRequest> {
    w.layer.receiveRequest(inviteFromA({ callId, extra }), FLOW_A);
    await settle();
    const toB = w.sender.requests('INVITE', '192.0.2.30').at(-1)!;
    answer(w, toB, 200, 'bob', 'sdp-from-b', bExtra);
    await settle();
    const ok = w.sender.responses(callId).find((r) => r.status === 200)!;
    w.layer.receiveRequest(parseRequest(`ACK sip:1002@192.0.2.1 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKack-${callId}\nFrom: <sip:1001@voix.test>;tag=alice\nTo: <sip:1002@voix.test>;tag=${tagOf(ok.to)}\nCall-ID: ${callId}\nCSeq: 1 ACK\nContent-Length: 0\n\n`), FLOW_A);
    return toB;
  }

  /** BYE transactions sent (retransmissions counted once). */
  function byes(address?: string): number {
    return new Set(w.sender.requests('BYE', address).map((r) => r.topVia.params.find((p) => p.name === 'branch')?.value)).size;
  }

  it('agrees the caller’s interval and ends the call with BYE both ways when no refresh comes', async () => {
    await connect('se-expire', ['Session-Expires: 120;refresher=uac', 'Supported: timer']);
    const ok = w.sender.responses('se-expire').find((r) => r.status === 200)!;

    w.clock.advance(87_000);
    await settle();
    const byesBefore = byes();
    w.clock.advance(2_000);
    await settle();

    expect(ok.headers.get('session-expires')).toBe('120;refresher=uac');
    expect(ok.headers.get('require')).toBe('timer');
    expect(byesBefore).toBe(0);
    expect(byes('192.0.2.10')).toBe(1);
    expect(byes('192.0.2.30')).toBe(1);
    expect(w.calls.activeCalls()).toEqual([]);
  });

  it('keeps the call while the caller refreshes with UPDATE', async () => {
    await connect('se-refresh', ['Session-Expires: 120;refresher=uac', 'Supported: timer']);

    w.clock.advance(60_000);
    w.layer.receiveRequest(inDialogFromA(w, 'UPDATE', 'se-refresh', 2), FLOW_A);
    await settle();
    w.clock.advance(60_000);
    await settle();
    const byesAfterRefresh = byes();
    w.clock.advance(30_000);
    await settle();

    expect(w.sender.statuses('se-refresh', 'UPDATE')).toEqual([200]);
    expect(byesAfterRefresh).toBe(0);
    expect(byes('192.0.2.10')).toBe(1);
  });

  it('refreshes the callee itself at half the interval when the callee made voix the refresher', async () => {
    const toB = await connect('se-voix', [], [['Session-Expires', '100;refresher=uac'], ['Require', 'timer']]);

    w.clock.advance(49_000);
    const before = w.sender.requests('INVITE', '192.0.2.30').length;
    w.clock.advance(2_000);
    // Retransmissions of the same re-INVITE (Timer A) count once.
    const refreshes = [...new Map(w.sender.requests('INVITE', '192.0.2.30').slice(before).map((r) => [r.cseq.seq, r])).values()];
    answer(w, refreshes[0]!, 200, 'bob', 'sdp-from-b');
    await settle();

    expect(before).toBe(1);
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]!.callId).toBe(toB.callId);
    expect(refreshes[0]!.body.toString()).toBe('last-to-b');
    expect(w.sender.requests('ACK', '192.0.2.30')).toHaveLength(2);
    expect(byes()).toBe(0);
  });
});

describe('CallCore routing: groups, forwarding, do-not-disturb, permissions, trunks', () => {
  /** One phone per extension, at 192.0.2.<extension's last two digits + 100>. */
  const phoneOf = (extension: string) => `192.0.2.${100 + Number(extension.slice(-2))}`;
  const registered = (extensions: string[]) => (aor: string) => (extensions.includes(aor) ? [binding(phoneOf(aor), aor)] : []);

  function world(yaml: string, online: string[]): World {
    return createWorld(configFromYaml(`server:\n  domain: voix.test\n${yaml}`), registered(online));
  }

  const users = (extra: Record<string, string[]> = {}) =>
    `users:\n${userLines(['1001', '1002', '1003', '1004'].map((extension) => ({ extension, extra: extra[extension] ?? [] })))}\n`;

  const TRUNK = `trunks:
  - name: operateur
    host: 198.51.100.7
    transport: udp
    username: "0123456789"
    password: provider-secret
    caller_id: "+33123456789"
    register: false
outbound_routes:
  - name: urgences
    match: "1X"
    trunk: operateur
  - name: urgences-112
    match: "11X"
    trunk: operateur
  - name: france
    match: "0[1-79]XXXXXXXX"
    trunk: operateur
`;

  it('rings every member of a simultaneous group at once', async () => {
    const w = world(`${users()}groups:\n  - number: "2000"\n    name: Accueil\n    members: ["1002", "1003"]\n`, ['1002', '1003']);
    w.layer.receiveRequest(inviteFromA({ to: '2000', callId: 'group' }), FLOW_A);
    await settle();

    expect(w.sender.requests('INVITE').map((r) => (r.uri as { host: string }).host).sort()).toEqual([phoneOf('1002'), phoneOf('1003')]);
  });

  it('rings the members of an in-order group one after the other, each for ring_time, then the fallback', async () => {
    const w = world(
      `${users()}groups:\n  - number: "2000"\n    name: Accueil\n    strategy: in_order\n    ring_time: 10\n    members: ["1002", "1003"]\n    fallback: "1004"\n`,
      ['1002', '1003', '1004'],
    );
    // UDP retransmissions (Timer A) repeat INVITEs: what matters is which phones rang, in which order.
    const rung = () => [...new Set(w.sender.requests('INVITE').map((r) => (r.uri as { host: string }).host))];
    w.layer.receiveRequest(inviteFromA({ to: '2000', callId: 'order' }), FLOW_A);
    await settle();
    expect(rung()).toEqual([phoneOf('1002')]);

    w.clock.advance(10_000);
    await settle();
    expect(rung()).toEqual([phoneOf('1002'), phoneOf('1003')]);

    answer(w, w.sender.requests('INVITE', phoneOf('1003'))[0]!, 486, 'c');
    await settle();
    expect(rung()).toEqual([phoneOf('1002'), phoneOf('1003'), phoneOf('1004')]);

    answer(w, w.sender.requests('INVITE', phoneOf('1004'))[0]!, 200, 'd', 'answer-from-d');
    await settle();
    expect(w.sender.statuses('order')).toEqual([100, 200]);
  });

  it('forwards on no answer after no_answer_after seconds, and on busy to the busy target', async () => {
    const w = world(users({ '1002': ['forward:', '  no_answer: "1003"', '  no_answer_after: 15', '  busy: "1004"'] }), ['1002', '1003', '1004']);
    w.layer.receiveRequest(inviteFromA({ callId: 'fna' }), FLOW_A);
    await settle();
    w.clock.advance(14_999);
    await settle();
    expect(w.sender.requests('INVITE', phoneOf('1003'))).toHaveLength(0);
    w.clock.advance(1);
    await settle();
    expect(w.sender.requests('INVITE', phoneOf('1003'))).toHaveLength(1);
    // The first phone stops ringing once it has rung (RFC 3261 §9.1).
    expect(w.sender.requests('CANCEL', phoneOf('1002'))).toHaveLength(0);

    w.layer.receiveRequest(inviteFromA({ callId: 'fbusy' }), FLOW_A);
    await settle();
    const second = w.sender.requests('INVITE', phoneOf('1002')).find((r) => r.callId !== w.sender.requests('INVITE', phoneOf('1002'))[0]!.callId)!;
    answer(w, second, 486, 'b2');
    await settle();
    expect(w.sender.requests('INVITE', phoneOf('1004'))).toHaveLength(1);
  });

  it('gives busy to a user in do-not-disturb without ringing it, or follows its busy forward', async () => {
    const w = world(users({ '1002': ['dnd: true'], '1003': ['dnd: true', 'forward:', '  busy: "1004"'] }), ['1002', '1003', '1004']);
    w.layer.receiveRequest(inviteFromA({ callId: 'dnd' }), FLOW_A);
    w.layer.receiveRequest(inviteFromA({ to: '1003', callId: 'dnd-fwd' }), FLOW_A);
    await settle();

    expect(w.sender.statuses('dnd')).toEqual([100, 486]);
    expect(w.sender.requests('INVITE', phoneOf('1002'))).toHaveLength(0);
    expect(w.sender.requests('INVITE', phoneOf('1003'))).toHaveLength(0);
    expect(w.sender.requests('INVITE', phoneOf('1004'))).toHaveLength(1);
  });

  it('refuses a national number to an internal-only user with 403, sends nothing to the trunk, and logs it', async () => {
    const w = world(`${users()}${TRUNK}`, []);
    w.layer.receiveRequest(inviteFromA({ to: '0612345678', callId: 'fraud' }), FLOW_A);
    await settle();

    expect(w.sender.statuses('fraud')).toEqual([403]);
    expect(w.sender.requests('INVITE')).toHaveLength(0);
    expect(w.lines).toContainEqual(expect.objectContaining({ msg: 'security', event: 'call_refused', user: '1001', dialled: '0612345678', category: 'mobile' }));
  });

  it('refuses dialled strings with anything but digits, whatever the class', async () => {
    const w = world(`${users({ '1001': ['permission: all'] })}${TRUNK}`, []);
    w.layer.receiveRequest(inviteFromA({ to: '0612345678%26011', callId: 'amp' }), FLOW_A);
    w.layer.receiveRequest(inviteFromA({ to: '0'.repeat(40), callId: 'long' }), FLOW_A);
    await settle();

    expect(w.sender.statuses('amp')).toEqual([404]);
    expect(w.sender.statuses('long')).toEqual([404]);
    expect(w.sender.requests('INVITE')).toHaveLength(0);
  });

  it('sends an allowed number to the trunk in E.164 with the caller ID, and answers its 407 with credentials', async () => {
    const w = world(`${users({ '1001': ['permission: national'] })}${TRUNK}`, []);
    w.layer.receiveRequest(inviteFromA({ to: '0612345678', callId: 'out' }), FLOW_A);
    await settle();

    const invite = w.sender.requests('INVITE', '198.51.100.7')[0]!;
    expect(String((invite.uri as { user: string }).user)).toBe('+33612345678');
    expect((invite.from.uri as { user: string }).user).toBe('+33123456789');
    expect(invite.headers.get('p-asserted-identity')).toBe('<sip:+33123456789@198.51.100.7>');

    answer(w, invite, 407, 'prov', undefined, [['Proxy-Authenticate', 'Digest realm="operateur", nonce="n1", algorithm=MD5, qop="auth"']]);
    await settle();
    const retried = w.sender.requests('INVITE', '198.51.100.7')[1]!;
    expect(retried.cseq.seq).toBe(invite.cseq.seq + 1);
    expect(retried.headers.get('proxy-authorization')).toMatch(/^Digest username="0123456789", realm="operateur"/);
    expect(retried.headers.get('proxy-authorization')).not.toContain('provider-secret');
  });

  it('lets every class reach emergency numbers', async () => {
    const w = world(`${users()}${TRUNK}`, []);
    w.layer.receiveRequest(inviteFromA({ to: '112', callId: 'sos' }), FLOW_A);
    await settle();

    expect(w.sender.requests('INVITE', '198.51.100.7').map((r) => (r.uri as { user: string }).user)).toEqual(['112']);
  });
});

describe('CallCore voice menus: voix answers, keys choose, the choice is bridged', () => {
  const MENU = `server:
  domain: voix.test
users:
${userLines([{ extension: '1001', name: 'Alice' }, { extension: '1002', name: 'Bob' }])}
messages:
  - number: "8000"
    name: Fermeture
    prompt: { text: "Fermé." }
menus:
  - number: "3000"
    name: Standard
    greeting: { text: "Tapez 1 pour Bob, 2 pour le message." }
    options:
      "1": "1002"
      "2": "8000"
`;

  function info(w: World, callId: string, cseq: number, digit: string): SipRequest {
    const toTag = tagOf(w.sender.responses(callId).find((r) => r.status === 200)?.to ?? { displayName: null, uri: { scheme: 'x', opaque: '' }, params: [] });
    const body = `Signal=${digit}\r\nDuration=160\r\n`;
    return parseRequest(
      [
        'INFO sip:3000@192.0.2.1:5060 SIP/2.0',
        `Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKinfo-${cseq};rport`,
        'From: "Alice" <sip:1001@voix.test>;tag=alice',
        `To: <sip:3000@voix.test>;tag=${toTag}`,
        `Call-ID: ${callId}`,
        `CSeq: ${cseq} INFO`,
        'Content-Type: application/dtmf-relay',
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ].join('\n'),
    );
  }

  it('answers a call to a menu itself, plays its greeting, and on key 1 (SIP INFO) rings 1002 with ringback, then bridges without asking the caller again', async () => {
    const w = createWorld(configFromYaml(MENU), (aor) => (aor === '1002' ? [binding('192.0.2.30')] : []));
    w.layer.receiveRequest(inviteFromA({ to: '3000', callId: 'ivr' }), FLOW_A);
    await settle();

    expect(w.sender.statuses('ivr')).toEqual([100, 200]);
    expect(w.sender.responses('ivr').find((r) => r.status === 200)?.body.toString()).toBe('local-answer-for-a');
    expect(w.media.playlists[0]?.items).toEqual([{ kind: 'prompt', prompt: 'menu/3000/greeting' }]);
    expect(w.sender.requests('INVITE', '192.0.2.30')).toHaveLength(0);

    w.layer.receiveRequest(info(w, 'ivr', 2, '1'), FLOW_A);
    await settle();
    expect(w.sender.statuses('ivr', 'INFO')).toEqual([200]);
    // "1" also starts extensions 1001 and 1002 (direct dialling): the menu waits the inter-digit time before taking it as the option.
    expect(w.sender.requests('INVITE', '192.0.2.30')).toHaveLength(0);
    w.clock.advance(2000);
    await settle();
    expect(w.media.playlists.at(-1)?.items).toEqual([{ kind: 'tone', tone: 'ringback', ms: null }]);
    const invite = w.sender.requests('INVITE', '192.0.2.30')[0]!;
    expect((invite.from.uri as { user: string }).user).toBe('1001');

    answer(w, invite, 200, 'bob', 'answer-from-b');
    await settle();
    // Nothing new for the caller (its 200 is retransmitted only because this test never ACKs it).
    expect([...new Set(w.sender.statuses('ivr'))]).toEqual([100, 200]);
    expect(w.sender.requests('INVITE', '192.0.2.10')).toHaveLength(0);
    expect(w.media.stopped).toBeGreaterThan(0);
    expect(w.calls.activeCalls()).toHaveLength(1);
  });

  it('plays a message chosen in the menu, then hangs up', async () => {
    const w = createWorld(configFromYaml(MENU));
    w.layer.receiveRequest(inviteFromA({ to: '3000', callId: 'ivr-msg' }), FLOW_A);
    await settle();
    w.layer.receiveRequest(info(w, 'ivr-msg', 2, '2'), FLOW_A);
    await settle();

    expect(w.media.plays).toEqual([expect.objectContaining({ promptId: '8000', repeat: 1 })]);
    w.media.plays[0]!.finish(true);
    await settle();
    expect(w.sender.requests('BYE', '192.0.2.10')).toHaveLength(1);
    expect(w.calls.activeCalls()).toHaveLength(0);
  });
});

describe('CallCore.originate (the dialer’s calls)', () => {
  const TARGET: CallTarget = {
    label: 'trunk operateur +33610000001',
    requestUri: sipUri({ user: '+33610000001', host: 'sip.operateur.test' }),
    destination: { transport: 'udp', address: '192.0.2.50', port: 5060 },
    route: [],
    signalling: { transport: 'udp', sourceAddress: null, srtpPolicy: 'off', cryptoAllowed: false },
    from: { displayName: null, uri: sipUri({ user: '+33100000000', host: 'sip.operateur.test' }) },
    to: { displayName: null, uri: sipUri({ user: '+33610000001', host: 'sip.operateur.test' }) },
    contactUser: 'compte',
    extraHeaders: [['P-Asserted-Identity', '<sip:+33100000000@sip.operateur.test>']],
    credentials: { username: 'compte', password: 'secret-du-compte' },
    trunk: 'operateur',
  };
  const MESSAGE = [{ kind: 'prompt', prompt: 'campaign/relance/message' }] as const;
  const CONFIRMATION = [{ kind: 'prompt', prompt: 'campaign/relance/opt-out' }] as const;

  function originate(w: World, callId: string, onOptOut: () => void = () => undefined) {
    return w.calls.originate({ callId, origin: 'campaign relance', target: TARGET, ringSeconds: 20, message: MESSAGE, optOutKey: '9', optOutConfirmation: CONFIRMATION, onOptOut, amd: null, connect: null });
  }

  function fromTrunk(w: World, method: string, callId: string, cseq: number, extra: string[] = [], body?: string): SipRequest {
    const invite = w.sender.requests('INVITE', '192.0.2.50').at(-1)!;
    return parseRequest(
      [
        `${method} sip:compte@192.0.2.1:5060 SIP/2.0`,
        `Via: SIP/2.0/UDP 192.0.2.50:5060;branch=z9hG4bKtrunk-${method}-${cseq}`,
        `From: <sip:+33610000001@sip.operateur.test>;tag=callee`,
        `To: <sip:+33100000000@sip.operateur.test>;tag=${tagOf(invite.from)}`,
        `Call-ID: ${callId}`,
        `CSeq: ${cseq} ${method}`,
        ...extra,
        ...(body !== undefined ? [`Content-Length: ${Buffer.byteLength(body)}`, '', body] : ['Content-Length: 0', '', '']),
      ].join('\n'),
    );
  }

  const TRUNK_FLOW: Flow = { ...FLOW_A, remoteAddress: '192.0.2.50', remotePort: 5060 };

  it('sends voix’s offer through the trunk, acknowledges the 200, plays the message, then hangs up: answered', async () => {
    const w = createWorld();
    const result = originate(w, 'out-1');
    await settle();
    const invite = w.sender.requests('INVITE', '192.0.2.50')[0]!;
    expect(invite.body.toString()).toBe('voix-offer');
    expect(invite.uri).toMatchObject({ user: '+33610000001', host: 'sip.operateur.test' });
    expect(invite.headers.get('p-asserted-identity')).toBe('<sip:+33100000000@sip.operateur.test>');
    expect(w.calls.callsThrough('operateur')).toBe(1);

    answer(w, invite, 180, 'callee');
    answer(w, invite, 200, 'callee', 'sdp-from-callee');
    await settle();
    expect(w.sender.requests('ACK', '192.0.2.50')).toHaveLength(1);
    expect(w.media.answers.map(String)).toEqual(['sdp-from-callee']);
    expect(w.media.playlists.map((p) => p.items)).toEqual([MESSAGE]);

    w.media.playlists[0]!.finish('completed');
    await settle();
    expect(w.sender.requests('BYE', '192.0.2.50')).toHaveLength(1);
    await expect(result).resolves.toMatchObject({ outcome: 'answered', status: 200, detail: 'message played' });
    expect(w.media.released).toBe(1);
    expect(w.calls.callsThrough('operateur')).toBe(0);
  });

  it.each([
    [486, 'busy'],
    [603, 'rejected'],
    [503, 'congestion'],
    [404, 'failed'],
    [480, 'no-answer'],
  ] as const)('maps a %i from the trunk to %s', async (status, outcome) => {
    const w = createWorld();
    const result = originate(w, `out-${status}`);
    await settle();
    answer(w, w.sender.requests('INVITE', '192.0.2.50')[0]!, status, 'callee');
    await expect(result).resolves.toMatchObject({ outcome, status });
    // The transaction layer acknowledges the failure (RFC 3261 §17.1.1.3).
    expect(w.sender.requests('ACK', '192.0.2.50')).toHaveLength(1);
  });

  it('cancels at the ring timeout and ends as no-answer when the 487 comes', async () => {
    const w = createWorld();
    const result = originate(w, 'out-ring');
    await settle();
    const invite = w.sender.requests('INVITE', '192.0.2.50')[0]!;
    answer(w, invite, 180, 'callee');
    w.clock.advance(19_999);
    expect(w.sender.requests('CANCEL', '192.0.2.50')).toHaveLength(0);
    w.clock.advance(1);
    expect(w.sender.requests('CANCEL', '192.0.2.50')).toHaveLength(1);
    answer(w, invite, 487, 'callee');
    await expect(result).resolves.toMatchObject({ outcome: 'no-answer', status: 487 });
  });

  it('hangs up a callee that answers after the ring timeout (CANCEL/200 race): no-answer', async () => {
    const w = createWorld();
    const result = originate(w, 'out-race');
    await settle();
    const invite = w.sender.requests('INVITE', '192.0.2.50')[0]!;
    answer(w, invite, 180, 'callee');
    w.clock.advance(20_000);
    answer(w, invite, 200, 'callee', 'sdp-from-callee');
    await settle();
    expect(w.sender.requests('ACK', '192.0.2.50')).toHaveLength(1);
    expect(w.sender.requests('BYE', '192.0.2.50')).toHaveLength(1);
    await expect(result).resolves.toMatchObject({ outcome: 'no-answer' });
    expect(w.media.playlists).toHaveLength(0);
  });

  it('answers the provider’s 407 with the trunk’s credentials, on a new CSeq', async () => {
    const w = createWorld();
    void originate(w, 'out-auth');
    await settle();
    const first = w.sender.requests('INVITE', '192.0.2.50')[0]!;
    answer(w, first, 407, 'prov', undefined, [['Proxy-Authenticate', 'Digest realm="operateur", nonce="n1", algorithm=MD5, qop="auth"']]);
    await settle();
    const invites = w.sender.requests('INVITE', '192.0.2.50');
    expect(invites).toHaveLength(2);
    expect(invites[1]!.cseq.seq).toBe(2);
    expect(invites[1]!.headers.get('proxy-authorization')).toMatch(/^Digest username="compte", realm="operateur"/);
    expect(invites[1]!.body.toString()).toBe('voix-offer');
  });

  it('the opt-out key records the opt-out at once, plays the confirmation, hangs up: opted-out', async () => {
    const w = createWorld();
    let optOuts = 0;
    const result = originate(w, 'out-optout', () => optOuts++);
    await settle();
    answer(w, w.sender.requests('INVITE', '192.0.2.50')[0]!, 200, 'callee', 'sdp-from-callee');
    await settle();
    w.calls.onDtmf('out-optout', '5', 'rfc4733');
    expect(optOuts).toBe(0);
    w.calls.onDtmf('out-optout', '9', 'rfc4733');
    w.calls.onDtmf('out-optout', '9', 'rfc4733');
    expect(optOuts).toBe(1);
    expect(w.media.playlists.map((p) => p.items)).toEqual([MESSAGE, CONFIRMATION]);
    w.media.playlists[0]!.finish('replaced');
    w.media.playlists[1]!.finish('completed');
    await settle();
    expect(w.sender.requests('BYE', '192.0.2.50')).toHaveLength(1);
    await expect(result).resolves.toMatchObject({ outcome: 'opted-out', status: 200 });
  });

  describe('with answering-machine detection', () => {
    const SETTINGS = { ...DEFAULT_AMD_SETTINGS };
    function originateWithAmd(w: World, callId: string, onMachine: 'hangup' | 'message') {
      return w.calls.originate({ callId, origin: 'campaign relance', target: TARGET, ringSeconds: 20, message: MESSAGE, optOutKey: '9', optOutConfirmation: CONFIRMATION, onOptOut: () => undefined, amd: { settings: SETTINGS, onMachine }, connect: null });
    }
    /** Places the call and answers it; the call's result is wrapped, so awaiting this does not wait for the call's end. */
    async function answered(w: World, callId: string, onMachine: 'hangup' | 'message'): Promise<{ result: ReturnType<typeof originateWithAmd> }> {
      const result = originateWithAmd(w, callId, onMachine);
      await settle();
      answer(w, w.sender.requests('INVITE', '192.0.2.50')[0]!, 200, 'callee', 'sdp-from-callee');
      await settle();
      return { result };
    }

    it('asks the media for detection and plays nothing until the verdict; a machine is hung up on at once', async () => {
      const w = createWorld();
      const { result } = await answered(w, 'amd-1', 'hangup');
      expect(w.media.amd).toEqual([SETTINGS]);
      expect(w.media.playlists).toHaveLength(0);
      w.calls.onAmd('amd-1', 'machine', 'long-greeting');
      await settle();
      expect(w.sender.requests('BYE', '192.0.2.50')).toHaveLength(1);
      await expect(result).resolves.toMatchObject({ outcome: 'machine', detail: 'answering machine (long-greeting): hung up' });
      expect(w.media.playlists).toHaveLength(0);
    });

    it('a person hears the message: answered', async () => {
      const w = createWorld();
      const { result } = await answered(w, 'amd-2', 'hangup');
      w.calls.onAmd('amd-2', 'human', 'silence-after-greeting');
      expect(w.media.playlists.map((p) => p.items)).toEqual([MESSAGE]);
      w.media.playlists[0]!.finish('completed');
      await expect(result).resolves.toMatchObject({ outcome: 'answered' });
    });

    it('in message mode, the machine gets the message, then voix hangs up: machine, message left', async () => {
      const w = createWorld();
      const { result } = await answered(w, 'amd-3', 'message');
      w.calls.onAmd('amd-3', 'machine', 'many-words');
      w.media.playlists[0]!.finish('completed');
      await expect(result).resolves.toMatchObject({ outcome: 'machine', detail: 'answering machine (many-words): message left' });
    });

    it('without a verdict in time (a worker restarted), the call goes on as with a person', async () => {
      const w = createWorld();
      await answered(w, 'amd-4', 'hangup');
      w.clock.advance(SETTINGS.totalMs + 1000);
      expect(w.media.playlists.map((p) => p.items)).toEqual([MESSAGE]);
      expect(w.lines.find((l) => l['msg'] === 'answering machine detection')).toMatchObject({ verdict: 'unsure', reason: 'too-long' });
    });
  });

  describe('put through after the message (campaign connect)', () => {
    const CONNECT_CONFIG = `server:
  domain: voix.test
users:
${userLines([{ extension: '1001', name: 'Alice' }, { extension: '1002', name: 'Bob' }])}
trunks:
  - name: operateur
    host: 192.0.2.50
    transport: udp
    username: compte
    password: secret-du-compte
    register: false
menus:
  - number: "3000"
    name: Campagne
    greeting: { text: "Tapez 1 pour parler à un conseiller." }
    options:
      "1": "1002"
`;
    function connectWorld(): World {
      return createWorld(configFromYaml(CONNECT_CONFIG), (aor) => (aor === '1002' ? [binding('192.0.2.30')] : []));
    }
    async function answeredAndPlayed(w: World, callId: string, connect: string, onOptOut: () => void = () => undefined) {
      const result = w.calls.originate({ callId, origin: 'campaign relance', target: TARGET, ringSeconds: 20, message: MESSAGE, optOutKey: '9', optOutConfirmation: CONFIRMATION, onOptOut, amd: null, connect });
      await settle();
      answer(w, w.sender.requests('INVITE', '192.0.2.50')[0]!, 200, 'callee', 'sdp-from-callee');
      await settle();
      w.media.playlists[0]!.finish('completed');
      await settle();
      return { result };
    }

    it('goes on to an agent: 1002 rings with the called party’s media, answers, hangs up; voix hangs up the trunk leg; one call, answered', async () => {
      const w = connectWorld();
      const { result } = await answeredAndPlayed(w, 'connect-agent', '1002');
      expect(w.sender.requests('BYE', '192.0.2.50')).toHaveLength(0);
      expect(w.media.playlists.at(-1)?.items).toEqual([{ kind: 'tone', tone: 'ringback', ms: null }]);
      const toAgent = w.sender.requests('INVITE', '192.0.2.30');
      expect(toAgent).toHaveLength(1);
      expect(w.media.lastFromA?.toString(), 'the offer to the agent is cut from the called party’s SDP').toBe('sdp-from-callee');
      expect((toAgent[0]!.from.uri as { user: string }).user).toBe('+33610000001');
      expect(w.calls.activeCalls()).toHaveLength(1);
      expect(w.calls.callsThrough('operateur')).toBe(1);

      answer(w, toAgent[0]!, 200, 'agent', 'sdp-from-agent');
      await settle();
      const agentTag = tagOf(w.sender.requests('ACK', '192.0.2.30')[0]!.to);
      const bye = parseRequest(
        [
          'BYE sip:1002@192.0.2.1:5060 SIP/2.0',
          'Via: SIP/2.0/UDP 192.0.2.30:5070;branch=z9hG4bKagent-bye',
          `From: <sip:1002@voix.test>;tag=${agentTag}`,
          `To: <sip:+33610000001@voix.test>;tag=${tagOf(toAgent[0]!.from)}`,
          `Call-ID: ${toAgent[0]!.callId}`,
          'CSeq: 2 BYE',
          'Content-Length: 0',
          '',
          '',
        ].join('\n'),
      );
      w.layer.receiveRequest(bye, { ...FLOW_A, remoteAddress: '192.0.2.30', remotePort: 5070 });
      await settle();
      expect(w.sender.requests('BYE', '192.0.2.50')).toHaveLength(1);
      await expect(result).resolves.toMatchObject({ outcome: 'answered', detail: 'put through to 1002: normal, hung up by callee' });
      expect(w.media.released).toBe(1);
      expect(w.calls.activeCalls()).toHaveLength(0);
    });

    it('goes on to a menu, where the opt-out key still works: recorded, confirmation, BYE; opted-out', async () => {
      const w = connectWorld();
      let optOuts = 0;
      const { result } = await answeredAndPlayed(w, 'connect-menu', '3000', () => optOuts++);
      expect(w.media.playlists.at(-1)?.items).toEqual([{ kind: 'prompt', prompt: 'menu/3000/greeting' }]);
      w.calls.onDtmf('connect-menu', '9', 'rfc4733');
      expect(optOuts).toBe(1);
      expect(w.media.playlists.at(-1)?.items).toEqual(CONFIRMATION);
      w.media.playlists.at(-1)!.finish('completed');
      await settle();
      expect(w.sender.requests('BYE', '192.0.2.50')).toHaveLength(1);
      await expect(result).resolves.toMatchObject({ outcome: 'opted-out' });
    });
  });

  it('a BYE from the callee during the message ends the call as answered; its SIP INFO keys are heard', async () => {
    const w = createWorld();
    const result = originate(w, 'out-bye');
    await settle();
    answer(w, w.sender.requests('INVITE', '192.0.2.50')[0]!, 200, 'callee', 'sdp-from-callee');
    await settle();
    w.layer.receiveRequest(fromTrunk(w, 'INFO', 'out-bye', 2, ['Content-Type: application/dtmf-relay'], 'Signal=1\r\nDuration=160\r\n'), TRUNK_FLOW);
    await settle();
    expect(w.lines.filter((l) => l['msg'] === 'dtmf').map((l) => l['digit'])).toEqual(['1']);
    w.layer.receiveRequest(fromTrunk(w, 'BYE', 'out-bye', 3), TRUNK_FLOW);
    await settle();
    expect(w.sender.statuses('out-bye', 'BYE')).toEqual([200]);
    await expect(result).resolves.toMatchObject({ outcome: 'answered', detail: 'hung up during the message' });
  });
});
