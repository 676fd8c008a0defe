import { describe, expect, it } from 'vitest';
import { createResponse } from '../../../../src/sip/builders.js';
import { tagOf } from '../../../../src/sip/headers.js';
import type { SipRequest } from '../../../../src/sip/message.js';
import { ServerInviteTransaction } from '../../../../src/sip/transaction/server-invite-transaction.js';
import type { ServerTransaction } from '../../../../src/sip/transaction/transaction-layer.js';
import { TCP_FLOW, UDP_FLOW, createHarness, sipRequest, type Harness } from './fixtures.js';

const INVITE_VIA = 'SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK74bf9;rport=40312;received=198.51.100.7';

function invite(extraHeaders: string[] = []): SipRequest {
  return sipRequest({ method: 'INVITE', via: INVITE_VIA, callId: 'uas-call-1', cseq: 101, fromTag: 'alicetag', extraHeaders });
}

/** The ACK for a non-2xx: the INVITE's branch, the To tag of the response. */
function ackForNon2xx(toTag: string): SipRequest {
  return sipRequest({ method: 'ACK', via: INVITE_VIA, callId: 'uas-call-1', cseq: 101, fromTag: 'alicetag', toTag });
}

/** The ACK for a 2xx: a new transaction with its own branch (RFC 3261 §13.2.2.4). */
function ackFor2xx(toTag: string): SipRequest {
  return sipRequest({
    method: 'ACK',
    via: 'SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKack2xx;rport=40312;received=198.51.100.7',
    callId: 'uas-call-1',
    cseq: 101,
    fromTag: 'alicetag',
    toTag,
  });
}

function asInvite(tx: ServerTransaction): ServerInviteTransaction {
  if (!(tx instanceof ServerInviteTransaction)) throw new Error('expected an INVITE server transaction');
  return tx;
}

function receiveInvite(h: Harness, flow = UDP_FLOW, request = invite()): ServerInviteTransaction {
  h.layer.receiveRequest(request, flow);
  return asInvite(h.serverUser.onlyTransaction);
}

describe('ServerInviteTransaction: 100 Trying', () => {
  it('sends 100 Trying after 200 ms when the TU is silent, copying Timestamp and adding no To tag', () => {
    const h = createHarness();
    const tx = receiveInvite(h, UDP_FLOW, invite(['Timestamp: 54']));

    h.clock.advance(199);
    const before = h.sender.sent.length;
    h.clock.advance(1);

    expect(before).toBe(0);
    const trying = h.sender.responses(100);
    expect(h.sender.timesOf(trying)).toEqual([200]);
    const message = trying[0]?.message;
    if (message?.kind !== 'response') throw new Error('no 100 sent');
    expect(message.headers.get('timestamp')).toBe('54');
    expect(tagOf(message.to)).toBeNull();
    expect(tx.lastProvisionalResponse).toBe(message);
  });

  it('sends no 100 when the TU answers within 200 ms', () => {
    const h = createHarness();
    const tx = receiveInvite(h);

    h.clock.advance(150);
    tx.sendResponse(createResponse(tx.request, 180, { toTag: 'bobtag' }));
    h.clock.advance(10_000);

    expect(h.sender.responses(100)).toHaveLength(0);
    expect(h.sender.timesOf(h.sender.responses(180))).toEqual([150]);
  });

  it('answers a retransmitted INVITE in Proceeding with the last provisional response, without telling the TU', () => {
    const h = createHarness();
    const tx = receiveInvite(h);
    const ringing = createResponse(tx.request, 180, { toTag: 'bobtag' });
    tx.sendResponse(createResponse(tx.request, 100));
    tx.sendResponse(ringing);

    h.clock.advance(500);
    h.layer.receiveRequest(invite(), UDP_FLOW);

    expect(h.sender.sent.map((s) => s.message).slice(-1)).toEqual([ringing]);
    expect(h.sender.timesOf(h.sender.responses(180))).toEqual([0, 500]);
    expect(h.serverUser.events).toEqual(['request INVITE']);
  });
});

describe('ServerInviteTransaction: non-2xx final response', () => {
  it('retransmits a 486 on Timer G (T1 doubling up to T2) until the ACK, then stops', () => {
    const h = createHarness();
    const tx = receiveInvite(h);
    tx.sendResponse(createResponse(tx.request, 486, { toTag: 'busy' }));

    h.clock.advance(12_000);
    h.layer.receiveRequest(ackForNon2xx('busy'), UDP_FLOW);
    h.clock.advance(30_000);

    expect(h.sender.timesOf(h.sender.responses(486))).toEqual([0, 500, 1500, 3500, 7500, 11_500]);
    expect(h.serverUser.events).toEqual(['request INVITE', 'terminated']);
  });

  it('absorbs the ACK, moves to Confirmed and ends after Timer I (T4)', () => {
    const h = createHarness();
    const tx = receiveInvite(h);
    tx.sendResponse(createResponse(tx.request, 486, { toTag: 'busy' }));

    h.layer.receiveRequest(ackForNon2xx('busy'), UDP_FLOW);
    const afterAck = tx.state;
    h.layer.receiveRequest(ackForNon2xx('busy'), UDP_FLOW);
    h.clock.advance(4999);
    const beforeTimerI = tx.state;
    h.clock.advance(1);

    expect(afterAck).toBe('Confirmed');
    expect(beforeTimerI).toBe('Confirmed');
    expect(tx.state).toBe('Terminated');
    expect(h.serverUser.acks).toHaveLength(0);
    expect(h.layer.serverTransactionCount).toBe(0);
  });

  it('resends the final response to a retransmitted INVITE in Completed', () => {
    const h = createHarness();
    const tx = receiveInvite(h);
    const busy = createResponse(tx.request, 486, { toTag: 'busy' });
    tx.sendResponse(busy);

    h.clock.advance(100);
    h.layer.receiveRequest(invite(), UDP_FLOW);

    expect(h.sender.timesOf(h.sender.responses(486))).toEqual([0, 100]);
    expect(h.serverUser.events).toEqual(['request INVITE']);
  });

  it('tells the TU when Timer H (64*T1) fires without an ACK, and stops retransmitting', () => {
    const h = createHarness();
    const tx = receiveInvite(h);
    tx.sendResponse(createResponse(tx.request, 486, { toTag: 'busy' }));

    h.clock.advance(31_999);
    const before = tx.state;
    h.clock.advance(1);
    const sentAtTimerH = h.sender.sent.length;
    h.clock.advance(60_000);

    expect(before).toBe('Completed');
    expect(h.serverUser.events).toEqual(['request INVITE', 'timeout', 'terminated']);
    expect(h.sender.sent.length).toBe(sentAtTimerH);
    expect(h.layer.serverTransactionCount).toBe(0);
  });

  it('over TCP: no Timer G, and Confirmed ends at once (Timer I is zero)', () => {
    const h = createHarness();
    const tx = receiveInvite(h, TCP_FLOW);
    tx.sendResponse(createResponse(tx.request, 486, { toTag: 'busy' }));

    h.clock.advance(10_000);
    const sends = h.sender.responses(486).length;
    h.layer.receiveRequest(ackForNon2xx('busy'), TCP_FLOW);

    expect(sends).toBe(1);
    expect(tx.state).toBe('Terminated');
  });
});

describe('ServerInviteTransaction: 2xx and the RFC 6026 Accepted state', () => {
  it('retransmits the 2xx at T1, 2T1, 4T1... capped at T2 until the ACK, which goes to the TU', () => {
    const h = createHarness();
    const tx = receiveInvite(h);
    tx.sendResponse(createResponse(tx.request, 200, { toTag: 'bobtag' }));

    h.clock.advance(12_000);
    const ack = ackFor2xx('bobtag');
    h.layer.receiveRequest(ack, UDP_FLOW);
    h.clock.advance(10_000);

    expect(h.sender.timesOf(h.sender.responses(200))).toEqual([0, 500, 1500, 3500, 7500, 11_500]);
    expect(h.serverUser.acks).toEqual([{ ack, flow: UDP_FLOW, tx }]);
    expect(tx.ackReceived).toBe(true);
    expect(tx.state).toBe('Accepted');
  });

  it('retransmits the 2xx over TCP too: the 2xx and its ACK are end-to-end (RFC 3261 §13.3.1.4)', () => {
    const h = createHarness();
    const tx = receiveInvite(h, TCP_FLOW);
    tx.sendResponse(createResponse(tx.request, 200, { toTag: 'bobtag' }));

    h.clock.advance(2000);

    expect(h.sender.timesOf(h.sender.responses(200))).toEqual([0, 500, 1500]);
  });

  it('absorbs INVITE retransmissions and passes every ACK up until Timer L ends it', () => {
    const h = createHarness();
    const tx = receiveInvite(h);
    tx.sendResponse(createResponse(tx.request, 200, { toTag: 'bobtag' }));
    h.layer.receiveRequest(ackFor2xx('bobtag'), UDP_FLOW);
    const sentAfterAck = h.sender.sent.length;

    h.layer.receiveRequest(invite(), UDP_FLOW);
    h.layer.receiveRequest(ackFor2xx('bobtag'), UDP_FLOW);
    h.clock.advance(31_999);
    const beforeTimerL = tx.state;
    h.clock.advance(1);

    expect(h.sender.sent.length).toBe(sentAfterAck);
    expect(beforeTimerL).toBe('Accepted');
    expect(tx.state).toBe('Terminated');
    expect(h.serverUser.events).toEqual(['request INVITE', 'ack', 'ack', 'terminated']);
    expect(h.layer.serverTransactionCount).toBe(0);
  });

  it('sends a 2xx the TU passes again while Accepted, and discards a non-2xx', () => {
    const h = createHarness();
    const tx = receiveInvite(h);
    const ok = createResponse(tx.request, 200, { toTag: 'bobtag' });
    tx.sendResponse(ok);

    tx.sendResponse(ok);
    tx.sendResponse(createResponse(tx.request, 487, { toTag: 'bobtag' }));

    expect(h.sender.sent.map((s) => s.message)).toEqual([ok, ok]);
  });

  it('tells the TU (onAckTimeout) when no ACK comes within 64*T1, then ends', () => {
    const h = createHarness();
    const tx = receiveInvite(h);
    const ok = createResponse(tx.request, 200, { toTag: 'bobtag' });
    tx.sendResponse(ok);

    h.clock.advance(31_999);
    const before = [...h.serverUser.events];
    h.clock.advance(1);
    const sentAtGiveUp = h.sender.sent.length;
    h.clock.advance(60_000);

    expect(before).toEqual(['request INVITE']);
    expect(h.serverUser.events).toEqual(['request INVITE', 'ack-timeout', 'terminated']);
    expect(h.serverUser.unacknowledged).toEqual([ok]);
    expect(h.sender.sent.length).toBe(sentAtGiveUp);
    expect(h.layer.serverTransactionCount).toBe(0);
  });

  it('passes an ACK arriving after the transaction ended to the TU without a transaction', () => {
    const h = createHarness();
    const tx = receiveInvite(h);
    tx.sendResponse(createResponse(tx.request, 200, { toTag: 'bobtag' }));
    h.clock.advance(32_000);

    const late = ackFor2xx('bobtag');
    h.layer.receiveRequest(late, UDP_FLOW);

    expect(h.serverUser.acks).toEqual([{ ack: late, flow: UDP_FLOW, tx: null }]);
  });

  it('does not treat an ACK with another To tag as the ACK of this 2xx', () => {
    const h = createHarness();
    const tx = receiveInvite(h);
    tx.sendResponse(createResponse(tx.request, 200, { toTag: 'bobtag' }));

    h.layer.receiveRequest(ackFor2xx('someoneelse'), UDP_FLOW);
    h.clock.advance(600);

    expect(h.serverUser.acks.map((a) => a.tx)).toEqual([null]);
    expect(tx.ackReceived).toBe(false);
    expect(h.sender.timesOf(h.sender.responses(200))).toEqual([0, 500]);
  });

  it('reports a transport error on the 2xx and ends (RFC 3261 §17.2.4)', () => {
    const h = createHarness();
    const tx = receiveInvite(h);
    h.sender.failing = true;

    tx.sendResponse(createResponse(tx.request, 200, { toTag: 'bobtag' }));
    h.clock.advance(60_000);

    expect(h.serverUser.events).toEqual(['request INVITE', 'transport-error', 'terminated']);
    expect(h.sender.responses(200)).toHaveLength(1);
  });
});
