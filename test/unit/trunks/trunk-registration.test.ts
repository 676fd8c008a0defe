import { describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../../src/log/logger.js';
import { createResponse } from '../../../src/sip/builders.js';
import { Headers, branchOf, parseNameAddr, tagOf } from '../../../src/sip/headers.js';
import type { AnySipMessage, SipRequest } from '../../../src/sip/message.js';
import { parseSent } from '../../support/messages.js';
import { TransactionLayer, type ServerTransactionUser } from '../../../src/sip/transaction/transaction-layer.js';
import type { Destination, Flow, MessageSender } from '../../../src/sip/transport/types.js';
import { formatUri } from '../../../src/sip/uri.js';
import { TrunkRegistration } from '../../../src/trunks/trunk-registration.js';
import { FakeClock } from '../../../src/util/clock.js';
import { PASSWORD, TRUNK, authorizationIsValid, challenge, trunkWorld } from './fixtures.js';

const SECOND = 1000;

function started(world = trunkWorld(), trunk = TRUNK): { world: ReturnType<typeof trunkWorld>; registration: TrunkRegistration } {
  const registration = new TrunkRegistration(trunk, world.services);
  registration.start();
  return { world, registration };
}

/** 401, the answer, then 200 granting `expires`. */
function registerThroughChallenge(world: ReturnType<typeof trunkWorld>, nonce: string, ok: ReadonlyArray<readonly [string, string]> = []): void {
  world.transactions.answer(401, challenge(nonce));
  world.transactions.answer(200, ok);
}

describe('TrunkRegistration', () => {
  it('sends REGISTER sip:<domain> with the account as From/To, voix as Contact and register_expires, to host:port', () => {
    const { world } = started();

    const { request, destination } = world.transactions.last();

    expect(request.method).toBe('REGISTER');
    expect(formatUri(request.uri)).toBe('sip:sip.operator.example');
    expect(formatUri(request.from.uri)).toBe('sip:0140000000@sip.operator.example');
    expect(tagOf(request.from)).not.toBeNull();
    expect(formatUri(request.to.uri)).toBe('sip:0140000000@sip.operator.example');
    expect(tagOf(request.to)).toBeNull();
    expect(request.headers.get('Contact')).toBe('<sip:0140000000@198.51.100.1:5060;transport=udp>');
    expect(request.headers.get('Expires')).toBe('600');
    expect(request.headers.get('User-Agent')).toBe('voix');
    expect(request.headers.has('Authorization')).toBe(false);
    expect(request.cseq).toEqual({ seq: 1, method: 'REGISTER' });
    expect(request.maxForwards).toBe(70);
    expect(request.topVia).toMatchObject({ transport: 'UDP', host: '198.51.100.1', port: 5060 });
    expect(branchOf(request.topVia)).toMatch(/^z9hG4bK./);
    expect(destination).toEqual({ transport: 'udp', address: '192.0.2.50', port: 5060 });
  });

  it('answers the 401 with the auth username and password, then is registered until the granted expiry', () => {
    const { world, registration } = started();
    const first = world.transactions.last().request;

    world.transactions.answer(401, challenge('nonce-1'));
    const second = world.transactions.last().request;
    world.transactions.answer(200, [['Contact', '<sip:0140000000@198.51.100.1:5060;transport=udp>;expires=600']]);

    expect(world.transactions.sent).toHaveLength(2);
    expect(authorizationIsValid(second)).toBe(true);
    expect(second.callId).toBe(first.callId);
    expect(second.cseq.seq).toBe(2);
    expect(branchOf(second.topVia)).not.toBe(branchOf(first.topVia));
    expect(registration.status()).toEqual({
      trunk: 'operator',
      state: 'registered',
      lastStatus: 200,
      lastError: null,
      expiresAt: world.clock.now() + 600 * SECOND,
      nextAttemptAt: world.clock.now() + 540 * SECOND,
      failures: 0,
    });
    expect(world.lines.find((l) => l['msg'] === 'trunk registered')).toMatchObject({ level: 'info', trunk: 'operator', expires: 600, callId: first.callId });
  });

  it('refreshes at the granted expiry minus the smaller of 10% and 60 s, with the same Call-ID and a higher CSeq', () => {
    const { world, registration } = started();
    // The provider grants less than asked (RFC 3261 §10.2.4: honour its Contact expires).
    registerThroughChallenge(world, 'n1', [['Contact', '<sip:0140000000@198.51.100.1:5060;transport=udp>;expires=300']]);
    const sentBefore = world.transactions.sent.length;

    world.clock.advance(270 * SECOND - 1);
    expect(world.transactions.sent).toHaveLength(sentBefore);
    world.clock.advance(1);
    const refresh = world.transactions.last().request;

    expect(world.transactions.sent).toHaveLength(sentBefore + 1);
    expect(refresh.callId).toBe(world.transactions.sent[0]?.request.callId);
    expect(refresh.cseq.seq).toBe(3);
    expect(refresh.headers.get('Expires')).toBe('600');
    expect(registration.status().state).toBe('registered');

    // A long grant from the Expires header: refresh 60 s before it.
    registerThroughChallenge(world, 'n2', [['Expires', '3600']]);
    const afterSecond = world.transactions.sent.length;
    world.clock.advance(3540 * SECOND - 1);
    expect(world.transactions.sent).toHaveLength(afterSecond);
    world.clock.advance(1);
    expect(world.transactions.sent).toHaveLength(afterSecond + 1);
    expect(world.lines.filter((l) => l['msg'] === 'trunk registration refreshed')).toHaveLength(1);
  });

  it('reads its own Contact among several in the 200', () => {
    const { world, registration } = started();

    registerThroughChallenge(world, 'n1', [
      ['Contact', '<sip:0140000000@203.0.113.9:5060>;expires=3000'],
      ['Contact', '<sip:0140000000@198.51.100.1:5060;transport=udp>;expires=120'],
    ]);

    expect(registration.status().expiresAt).toBe(world.clock.now() + 120 * SECOND);
    expect(registration.status().nextAttemptAt).toBe(world.clock.now() + 108 * SECOND);
  });

  it('on 423 registers again at once with Min-Expires, and keeps it for refreshes', () => {
    const { world, registration } = started();
    world.transactions.answer(401, challenge('n1'));

    world.transactions.answer(423, [['Min-Expires', '1800']]);
    const retry = world.transactions.last().request;

    expect(retry.headers.get('Expires')).toBe('1800');
    expect(retry.cseq.seq).toBe(3);
    expect(retry.headers.has('Authorization')).toBe(false);
    registerThroughChallenge(world, 'n2');
    expect(registration.status()).toMatchObject({ state: 'registered', expiresAt: world.clock.now() + 1800 * SECOND });
    world.clock.advance(1740 * SECOND);
    expect(world.transactions.last().request.headers.get('Expires')).toBe('1800');
  });

  it('treats a 423 without a larger Min-Expires as a failure', () => {
    const { world, registration } = started();

    world.transactions.answer(423, [['Min-Expires', '600']]);

    expect(registration.status()).toMatchObject({ state: 'failed', lastStatus: 423 });
    expect(world.transactions.sent).toHaveLength(1);
  });

  it('stops at a 403, warns, and retries with a backoff doubling from 30 s up to 10 min', () => {
    const { world, registration } = started();
    const start = world.clock.now();

    world.transactions.answer(403);
    expect(world.transactions.sent).toHaveLength(1);
    expect(registration.status()).toMatchObject({ state: 'failed', lastStatus: 403, lastError: 'Forbidden', failures: 1, expiresAt: null });
    expect(registration.status().nextAttemptAt).toBe(start + 30 * SECOND);
    for (let i = 0; i < 7; i++) {
      world.clock.advance(601 * SECOND);
      world.transactions.answer(403);
    }

    expect(world.transactions.sent).toHaveLength(8);
    expect(registration.status().failures).toBe(8);
    const warnings = world.lines.filter((l) => l['msg'] === 'trunk registration failed');
    expect(warnings.map((w) => w['retryInSeconds'])).toEqual([30, 60, 120, 240, 480, 600, 600, 600]);
    expect(warnings[0]).toMatchObject({ level: 'warn', trunk: 'operator', status: 403, reason: 'Forbidden', host: '192.0.2.50', port: 5060, transport: 'udp' });
  });

  it('sends each retry exactly when its backoff is due', () => {
    const { world } = started();

    world.transactions.answer(403);
    world.clock.advance(30 * SECOND - 1);
    expect(world.transactions.sent).toHaveLength(1);
    world.clock.advance(1);
    expect(world.transactions.sent).toHaveLength(2);
    world.transactions.answer(403);
    world.clock.advance(60 * SECOND - 1);
    expect(world.transactions.sent).toHaveLength(2);
    world.clock.advance(1);
    expect(world.transactions.sent).toHaveLength(3);
  });

  it('says a 403 after authentication points at the credentials', () => {
    const { world, registration } = started();

    world.transactions.answer(401, challenge('n1'));
    world.transactions.answer(403);

    expect(registration.status().lastError).toBe('Forbidden (after authentication: check username, auth_username and password)');
  });

  it('gives up on a wrong password after one answer (same nonce, not stale) instead of looping', () => {
    const { world, registration } = started();

    world.transactions.answer(401, challenge('n1'));
    world.transactions.answer(401, challenge('n1'));

    expect(world.transactions.sent).toHaveLength(2);
    expect(registration.status()).toMatchObject({ state: 'failed', lastStatus: 401, failures: 1 });
    expect(registration.status().lastError).toContain('credentials refused');
    expect(world.lines.find((l) => l['msg'] === 'trunk registration failed')).toMatchObject({ status: 401, realm: 'sip.operator.example', retryInSeconds: 30 });
  });

  it('answers a stale nonce once more, then a third challenge ends the attempt', () => {
    const { world, registration } = started();

    world.transactions.answer(401, challenge('n1'));
    world.transactions.answer(401, challenge('n2', ', stale=TRUE'));
    const third = world.transactions.last().request;
    world.transactions.answer(401, challenge('n3', ', stale=TRUE'));

    expect(world.transactions.sent).toHaveLength(3);
    expect(authorizationIsValid(third)).toBe(true);
    expect(registration.status()).toMatchObject({ state: 'failed', lastStatus: 401 });
  });

  it('treats a timeout as 408 and a transport error as 503, both retried', () => {
    const { world, registration } = started();

    world.transactions.timeout();
    expect(registration.status()).toMatchObject({ state: 'failed', lastStatus: 408, lastError: 'no response from the provider (timeout)' });
    world.clock.advance(30 * SECOND);
    expect(registration.status().state).toBe('registering');
    world.transactions.transportError();

    expect(registration.status()).toMatchObject({ state: 'failed', lastStatus: 503, failures: 2, lastError: 'transport error: connection refused' });
    expect(registration.status().nextAttemptAt).toBe(world.clock.now() + 60 * SECOND);
  });

  it('waits at least the Retry-After of a 503', () => {
    const { world, registration } = started();

    world.transactions.answer(503, [['Retry-After', '300 (maintenance)']]);

    expect(registration.status().nextAttemptAt).toBe(world.clock.now() + 300 * SECOND);
  });

  it('recovers after failures: the next success resets the backoff', () => {
    const { world, registration } = started();
    world.transactions.answer(500);
    world.clock.advance(30 * SECOND);

    registerThroughChallenge(world, 'n1');

    expect(registration.status()).toMatchObject({ state: 'registered', failures: 0, lastError: null });
  });

  it('ignores a late answer to a request it has moved on from', () => {
    const { world, registration } = started();
    const first = world.transactions.last();
    world.transactions.timeout(first);

    world.transactions.answer(200, [], first);

    expect(registration.status().state).toBe('failed');
  });

  it('unregisters on stop (Expires: 0, challenge answered) and resolves once the provider agrees', async () => {
    const { world, registration } = started();
    registerThroughChallenge(world, 'n1');
    const registered = world.transactions.sent.length;

    const stopping = registration.stop();
    const unregister = world.transactions.last().request;
    world.transactions.answer(401, challenge('n2'));
    const withCredentials = world.transactions.last().request;
    world.transactions.answer(200);
    await stopping;

    expect(world.transactions.sent).toHaveLength(registered + 2);
    expect(unregister.headers.get('Expires')).toBe('0');
    expect(unregister.headers.get('Contact')).toBe('<sip:0140000000@198.51.100.1:5060;transport=udp>');
    expect(unregister.callId).toBe(world.transactions.sent[0]?.request.callId);
    expect(authorizationIsValid(withCredentials)).toBe(true);
    expect(withCredentials.headers.get('Expires')).toBe('0');
    expect(registration.status()).toMatchObject({ state: 'unregistered', expiresAt: null, nextAttemptAt: null, lastStatus: 200 });
    expect(world.clock.pendingCount).toBe(0);
    world.clock.advance(3600 * SECOND);
    expect(world.transactions.sent).toHaveLength(registered + 2);
  });

  it('stop resolves after the bound when the provider does not answer the unregistration', async () => {
    const { world, registration } = started();
    registerThroughChallenge(world, 'n1');

    const stopping = registration.stop();
    world.clock.advance(3 * SECOND);
    await stopping;

    expect(registration.status().state).toBe('unregistered');
    expect(world.lines.some((l) => l['level'] === 'warn' && String(l['msg']).includes('unregistration not answered'))).toBe(true);
  });

  it('sends no unregistration when it never got a binding', async () => {
    const { world, registration } = started();
    world.transactions.answer(403);

    await registration.stop();

    expect(world.transactions.sent).toHaveLength(1);
    expect(registration.status().state).toBe('unregistered');
    expect(world.clock.pendingCount).toBe(0);
  });

  it('unregisters when stopped while its first REGISTER is still in flight', async () => {
    const { world, registration } = started();

    const stopping = registration.stop();
    world.transactions.answer(200);
    await stopping;

    expect(world.transactions.sent).toHaveLength(2);
    expect(world.transactions.last().request.headers.get('Expires')).toBe('0');
  });

  it('never logs the password', () => {
    const { world } = started();
    world.transactions.answer(401, challenge('n1'));
    world.transactions.answer(401, challenge('n1'));
    world.clock.advance(30 * SECOND);
    registerThroughChallenge(world, 'n2');

    expect(world.lines.length).toBeGreaterThan(2);
    expect(JSON.stringify(world.lines)).not.toContain(PASSWORD);
  });
});

describe('TrunkRegistration through the real transaction layer', () => {
  class RecordingSender implements MessageSender {
    readonly sent: Array<{ message: AnySipMessage; destination: Destination }> = [];
    send(message: AnySipMessage, destination: Destination): void {
      this.sent.push({ message, destination });
    }
    sendSerialized(data: Buffer, destination: Destination): void {
      this.sent.push({ message: parseSent(data), destination });
    }
  }

  it('gets the responses to its REGISTERs as a client transaction user (RFC 3261 §17.1.3 matching)', () => {
    const clock = new FakeClock();
    const sender = new RecordingSender();
    const { logger } = createMemoryLogger();
    const serverSide: ServerTransactionUser = {
      onRequest: () => undefined,
      onAck: () => undefined,
      onAckTimeout: () => undefined,
      onTimeout: () => undefined,
      onTransportError: () => undefined,
    };
    const layer = new TransactionLayer({ sender, clock, user: serverSide, logger });
    const registration = new TrunkRegistration(TRUNK, {
      transactions: layer,
      clock,
      logger,
      localEndpoint: () => ({ host: '198.51.100.1', port: 5060 }),
      userAgent: 'voix',
    });
    const flow: Flow = { transport: 'udp', remoteAddress: '192.0.2.50', remotePort: 5060, localAddress: '198.51.100.1', localPort: 5060, connectionId: null };
    const lastRequest = (): SipRequest => {
      const last = sender.sent[sender.sent.length - 1]?.message;
      if (last === undefined || last.kind !== 'request') throw new Error('no request sent');
      return last;
    };
    const reply = (status: number, headers: Array<[string, string]> = []): void => {
      const h = new Headers();
      for (const [name, value] of headers) h.append(name, value);
      layer.receiveResponse(createResponse(lastRequest(), status, { toTag: 'p1', headers: h }), flow);
    };

    registration.start();
    reply(401, challenge('n1'));
    const authorized = lastRequest();
    reply(200, [['Expires', '600']]);

    expect(authorizationIsValid(authorized)).toBe(true);
    expect(sender.sent[0]?.destination).toEqual({ transport: 'udp', address: '192.0.2.50', port: 5060 });
    expect(registration.status().state).toBe('registered');
    expect(parseNameAddr(authorized.headers.get('Contact') ?? '')?.uri).toMatchObject({ user: '0140000000', host: '198.51.100.1', port: 5060 });
  });
});
