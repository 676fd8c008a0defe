import { describe, expect, it } from 'vitest';
import { branchOf, tagOf } from '../../../../src/sip/headers.js';
import { ClientInviteTransaction } from '../../../../src/sip/transaction/client-invite-transaction.js';
import type { ClientTransaction } from '../../../../src/sip/transaction/transaction-layer.js';
import {
  RecordingClientUser,
  TCP_DESTINATION,
  UDP_DESTINATION,
  UDP_FLOW,
  createHarness,
  peerResponse,
  sipRequest,
  type Harness,
} from './fixtures.js';

const OUR_VIA = 'SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKc1ient1nv1te';

function invite() {
  return sipRequest({ method: 'INVITE', via: OUR_VIA, callId: 'uac-call-1', cseq: 1, fromTag: 'ourtag' });
}

function asInvite(tx: ClientTransaction): ClientInviteTransaction {
  if (!(tx instanceof ClientInviteTransaction)) throw new Error('expected an INVITE client transaction');
  return tx;
}

function startInvite(h: Harness, destination = UDP_DESTINATION) {
  const user = new RecordingClientUser();
  const request = invite();
  const tx = asInvite(h.layer.sendRequest(request, destination, user));
  return { user, request, tx };
}

describe('ClientInviteTransaction over UDP', () => {
  it('retransmits the INVITE on Timer A, doubling from T1 (0.5, 1, 2, 4, 8, 16 s)', () => {
    const h = createHarness();
    startInvite(h);

    h.clock.advance(31_999);

    expect(h.sender.timesOf(h.sender.requests('INVITE'))).toEqual([0, 500, 1500, 3500, 7500, 15_500, 31_500]);
  });

  it('times out on Timer B at 64*T1: TU told, no more sends, transaction removed', () => {
    const h = createHarness();
    const { user, tx } = startInvite(h);

    h.clock.advance(32_000);
    const sentAtTimeout = h.sender.sent.length;
    h.clock.advance(60_000);

    expect(user.events).toEqual(['timeout', 'terminated']);
    expect(tx.state).toBe('Terminated');
    expect(h.sender.sent.length).toBe(sentAtTimeout);
    expect(h.layer.clientTransactionCount).toBe(0);
    expect(h.clock.pendingCount).toBe(0);
  });

  it('stops retransmitting once a provisional response arrives and passes every 1xx up', () => {
    const h = createHarness();
    const { user, request, tx } = startInvite(h);
    h.clock.advance(600);

    h.layer.receiveResponse(peerResponse(request, 100), UDP_FLOW);
    h.layer.receiveResponse(peerResponse(request, 180), UDP_FLOW);
    h.clock.advance(60_000);

    expect(tx.state).toBe('Proceeding');
    expect(user.events).toEqual(['response 100', 'response 180']);
    expect(h.sender.timesOf(h.sender.requests('INVITE'))).toEqual([0, 500]);
  });

  it('acknowledges a non-2xx itself: same branch, To tag of the response, same destination', () => {
    const h = createHarness();
    const { user, request, tx } = startInvite(h);

    h.layer.receiveResponse(peerResponse(request, 486, 'busytag'), UDP_FLOW);

    const acks = h.sender.requests('ACK');
    expect(acks).toHaveLength(1);
    const ack = acks[0]?.message;
    if (ack?.kind !== 'request') throw new Error('no ACK sent');
    expect(branchOf(ack.topVia)).toBe('z9hG4bKc1ient1nv1te');
    expect(ack.via).toHaveLength(1);
    expect(tagOf(ack.to)).toBe('busytag');
    expect(ack.cseq).toEqual({ seq: 1, method: 'ACK' });
    expect(acks[0]?.destination).toEqual(UDP_DESTINATION);
    expect(tx.ack).toBe(ack);
    expect(tx.state).toBe('Completed');
    expect(user.events).toEqual(['response 486']);
  });

  it('absorbs a retransmitted final response by resending the same ACK', () => {
    const h = createHarness();
    const { user, request } = startInvite(h);
    const busy = peerResponse(request, 486, 'busytag');
    h.layer.receiveResponse(busy, UDP_FLOW);

    h.clock.advance(500);
    h.layer.receiveResponse(busy, UDP_FLOW);
    h.clock.advance(1000);
    h.layer.receiveResponse(busy, UDP_FLOW);

    const acks = h.sender.requests('ACK');
    expect(h.sender.timesOf(acks)).toEqual([0, 500, 1500]);
    expect(new Set(acks.map((a) => a.message)).size).toBe(1);
    expect(user.events).toEqual(['response 486']);
  });

  it('stays Completed for Timer D (32 s) and then ends', () => {
    const h = createHarness();
    const { user, request, tx } = startInvite(h);
    h.layer.receiveResponse(peerResponse(request, 404), UDP_FLOW);

    h.clock.advance(31_999);
    const before = tx.state;
    h.clock.advance(1);

    expect(before).toBe('Completed');
    expect(tx.state).toBe('Terminated');
    expect(user.events).toEqual(['response 404', 'terminated']);
    expect(h.layer.clientTransactionCount).toBe(0);
  });

  it('RFC 6026: a 2xx leads to Accepted, where 2xx retransmissions and forked 2xx reach the TU until Timer M', () => {
    const h = createHarness();
    const { user, request, tx } = startInvite(h);
    const ok = peerResponse(request, 200, 'fork1');

    h.layer.receiveResponse(ok, UDP_FLOW);
    h.clock.advance(500);
    h.layer.receiveResponse(ok, UDP_FLOW);
    h.layer.receiveResponse(peerResponse(request, 200, 'fork2'), UDP_FLOW);
    h.layer.receiveResponse(peerResponse(request, 486), UDP_FLOW);
    const stateBeforeTimerM = tx.state;
    h.clock.advance(31_500);

    expect(stateBeforeTimerM).toBe('Accepted');
    expect(user.events).toEqual(['response 200', 'response 200', 'response 200', 'terminated']);
    expect(user.responses.map((r) => tagOf(r.to))).toEqual(['fork1', 'fork1', 'fork2']);
    expect(h.sender.requests('ACK')).toHaveLength(0);
    expect(h.sender.requests('INVITE')).toHaveLength(1);
    expect(tx.state).toBe('Terminated');
    expect(h.layer.clientTransactionCount).toBe(0);
  });

  it('drops a 2xx retransmission arriving after Timer M, as RFC 6026 wants for unmatched responses', () => {
    const h = createHarness();
    const { user, request } = startInvite(h);
    const ok = peerResponse(request, 200);
    h.layer.receiveResponse(ok, UDP_FLOW);
    h.clock.advance(32_000);

    h.layer.receiveResponse(ok, UDP_FLOW);

    expect(user.events).toEqual(['response 200', 'terminated']);
  });

  it('reports a transport error and ends (RFC 3261 §17.1.4)', () => {
    const h = createHarness();
    h.sender.failing = true;

    const { user, tx } = startInvite(h);
    h.clock.advance(60_000);

    expect(user.events).toEqual(['transport-error', 'terminated']);
    expect(tx.state).toBe('Terminated');
    expect(h.sender.requests('INVITE')).toHaveLength(1);
    expect(h.layer.clientTransactionCount).toBe(0);
  });

  it('can be ended by the TU while Proceeding (RFC 3261 §9.1), which Timer B no longer does', () => {
    const h = createHarness();
    const { user, request, tx } = startInvite(h);
    h.layer.receiveResponse(peerResponse(request, 180), UDP_FLOW);
    h.clock.advance(100_000);
    const stillProceeding = tx.state;

    tx.terminate();

    expect(stillProceeding).toBe('Proceeding');
    expect(user.events).toEqual(['response 180', 'terminated']);
    expect(h.layer.clientTransactionCount).toBe(0);
  });
});

describe('ClientInviteTransaction over TCP', () => {
  it('never retransmits the INVITE, yet still times out on Timer B', () => {
    const h = createHarness();
    const { user } = startInvite(h, TCP_DESTINATION);

    h.clock.advance(31_999);
    const sends = h.sender.requests('INVITE').length;
    h.clock.advance(1);

    expect(sends).toBe(1);
    expect(user.events).toEqual(['timeout', 'terminated']);
  });

  it('sends the ACK for a non-2xx and ends at once (Timer D is zero)', () => {
    const h = createHarness();
    const { user, request, tx } = startInvite(h, TCP_DESTINATION);

    h.layer.receiveResponse(peerResponse(request, 603), UDP_FLOW);

    expect(h.sender.requests('ACK')).toHaveLength(1);
    expect(h.sender.requests('ACK')[0]?.destination).toEqual(TCP_DESTINATION);
    expect(tx.state).toBe('Terminated');
    expect(user.events).toEqual(['response 603', 'terminated']);
  });
});
