import { describe, expect, it } from 'vitest';
import type { ClientNonInviteTransaction } from '../../../../src/sip/transaction/client-non-invite-transaction.js';
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

function startOptions(h: Harness, destination = UDP_DESTINATION) {
  const user = new RecordingClientUser();
  const request = sipRequest({
    method: 'OPTIONS',
    via: 'SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKopt10ns',
    callId: 'uac-options-1',
    cseq: 7,
  });
  const tx = h.layer.sendRequest(request, destination, user) as ClientNonInviteTransaction;
  return { user, request, tx };
}

describe('ClientNonInviteTransaction over UDP', () => {
  it('retransmits on Timer E, doubling from T1 and capped at T2, until Timer F', () => {
    const h = createHarness();
    startOptions(h);

    h.clock.advance(31_999);

    expect(h.sender.timesOf(h.sender.requests('OPTIONS'))).toEqual([
      0, 500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500,
    ]);
  });

  it('retransmits every T2 once Proceeding', () => {
    const h = createHarness();
    const { user, request, tx } = startOptions(h);
    h.clock.advance(100);

    h.layer.receiveResponse(peerResponse(request, 100), UDP_FLOW);
    h.clock.advance(12_400);

    expect(tx.state).toBe('Proceeding');
    expect(user.events).toEqual(['response 100']);
    // The Timer E pending at 500 ms fires, then every T2 = 4 s.
    expect(h.sender.timesOf(h.sender.requests('OPTIONS'))).toEqual([0, 500, 4500, 8500, 12_500]);
  });

  it('times out on Timer F (64*T1) even while Proceeding', () => {
    const h = createHarness();
    const { user, request, tx } = startOptions(h);
    h.layer.receiveResponse(peerResponse(request, 100), UDP_FLOW);

    h.clock.advance(31_999);
    const before = [...user.events];
    h.clock.advance(1);
    const sentAtTimeout = h.sender.sent.length;
    h.clock.advance(30_000);

    expect(before).toEqual(['response 100']);
    expect(user.events).toEqual(['response 100', 'timeout', 'terminated']);
    expect(tx.state).toBe('Terminated');
    expect(h.sender.sent.length).toBe(sentAtTimeout);
    expect(h.layer.clientTransactionCount).toBe(0);
  });

  it('absorbs final response retransmissions in Completed for Timer K (T4), then ends', () => {
    const h = createHarness();
    const { user, request, tx } = startOptions(h);
    const ok = peerResponse(request, 200);

    h.layer.receiveResponse(ok, UDP_FLOW);
    h.clock.advance(4000);
    h.layer.receiveResponse(ok, UDP_FLOW);
    const stateBeforeTimerK = tx.state;
    h.clock.advance(1000);

    expect(stateBeforeTimerK).toBe('Completed');
    expect(user.events).toEqual(['response 200', 'terminated']);
    expect(h.sender.requests('OPTIONS')).toHaveLength(1);
    expect(h.layer.clientTransactionCount).toBe(0);
  });

  it('reports a transport error on a retransmission and ends', () => {
    const h = createHarness();
    const { user, tx } = startOptions(h);

    h.sender.failing = true;
    h.clock.advance(500);
    h.clock.advance(60_000);

    expect(user.events).toEqual(['transport-error', 'terminated']);
    expect(user.errors[0]?.destination).toEqual(UDP_DESTINATION);
    expect(tx.state).toBe('Terminated');
    expect(h.sender.requests('OPTIONS')).toHaveLength(2);
  });
});

describe('ClientNonInviteTransaction over TCP', () => {
  it('never retransmits and still times out on Timer F', () => {
    const h = createHarness();
    const { user } = startOptions(h, TCP_DESTINATION);

    h.clock.advance(32_000);

    expect(h.sender.requests('OPTIONS')).toHaveLength(1);
    expect(user.events).toEqual(['timeout', 'terminated']);
  });

  it('ends as soon as the final response arrives (Timer K is zero)', () => {
    const h = createHarness();
    const { user, request, tx } = startOptions(h, TCP_DESTINATION);

    h.layer.receiveResponse(peerResponse(request, 404), UDP_FLOW);

    expect(tx.state).toBe('Terminated');
    expect(user.events).toEqual(['response 404', 'terminated']);
    expect(h.clock.pendingCount).toBe(0);
  });
});
