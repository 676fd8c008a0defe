import { describe, expect, it } from 'vitest';
import { createResponse } from '../../../../src/sip/builders.js';
import { serializeMessage } from '../../../../src/sip/serializer.js';
import type { ServerNonInviteTransaction } from '../../../../src/sip/transaction/server-non-invite-transaction.js';
import { Headers } from '../../../../src/sip/headers.js';
import { TCP_FLOW, UDP_FLOW, createHarness, sipRequest } from './fixtures.js';

function register() {
  return sipRequest({ method: 'REGISTER', uri: 'sip:voix.example', callId: 'reg-1', cseq: 2 });
}

describe('ServerNonInviteTransaction over UDP', () => {
  it('passes a new request to the TU once and absorbs retransmissions while Trying', () => {
    const h = createHarness();

    h.layer.receiveRequest(register(), UDP_FLOW);
    h.layer.receiveRequest(register(), UDP_FLOW);

    const tx = h.serverUser.onlyTransaction as ServerNonInviteTransaction;
    expect(tx.state).toBe('Trying');
    expect(h.serverUser.events).toEqual(['request REGISTER']);
    expect(h.sender.sent).toHaveLength(0);
  });

  it('resends the last provisional response to a retransmission while Proceeding', () => {
    const h = createHarness();
    h.layer.receiveRequest(register(), UDP_FLOW);
    const tx = h.serverUser.onlyTransaction as ServerNonInviteTransaction;
    const trying = createResponse(h.serverUser.onlyRequest, 100);
    tx.sendResponse(trying);

    h.layer.receiveRequest(register(), UDP_FLOW);

    expect(tx.state).toBe('Proceeding');
    expect(h.sender.sent.map((s) => s.message)).toEqual([trying, trying]);
  });

  it('absorbs a retransmitted request in Completed by resending the final response', () => {
    const h = createHarness();
    h.layer.receiveRequest(register(), UDP_FLOW);
    const tx = h.serverUser.onlyTransaction as ServerNonInviteTransaction;
    const ok = createResponse(h.serverUser.onlyRequest, 200, { toTag: 'regtag' });
    tx.sendResponse(ok);

    h.clock.advance(500);
    h.layer.receiveRequest(register(), UDP_FLOW);

    expect(tx.state).toBe('Completed');
    expect(h.sender.sent.map((s) => [s.bytes.toString('latin1'), s.at])).toEqual([
      [serializeMessage(ok).toString('latin1'), 0],
      [serializeMessage(ok).toString('latin1'), 500],
    ]);
    expect(h.serverUser.events).toEqual(['request REGISTER']);
  });

  it('discards a second final response from the TU', () => {
    const h = createHarness();
    h.layer.receiveRequest(register(), UDP_FLOW);
    const tx = h.serverUser.onlyTransaction as ServerNonInviteTransaction;
    const ok = createResponse(h.serverUser.onlyRequest, 200, { toTag: 'regtag' });
    tx.sendResponse(ok);

    tx.sendResponse(createResponse(h.serverUser.onlyRequest, 500, { toTag: 'regtag' }));
    h.layer.receiveRequest(register(), UDP_FLOW);

    expect(h.sender.sent.map((s) => s.message.kind === 'response' && s.message.status)).toEqual([200, 200]);
  });

  it('stays Completed for Timer J (64*T1), then a retransmission is a new request', () => {
    const h = createHarness();
    h.layer.receiveRequest(register(), UDP_FLOW);
    const tx = h.serverUser.onlyTransaction as ServerNonInviteTransaction;
    tx.sendResponse(createResponse(h.serverUser.onlyRequest, 200, { toTag: 'regtag' }));

    h.clock.advance(31_999);
    const before = tx.state;
    h.clock.advance(1);
    const countAfterTimerJ = h.layer.serverTransactionCount;
    h.layer.receiveRequest(register(), UDP_FLOW);

    expect(before).toBe('Completed');
    expect(tx.state).toBe('Terminated');
    expect(countAfterTimerJ).toBe(0);
    expect(h.serverUser.events).toEqual(['request REGISTER', 'terminated', 'request REGISTER']);
  });

  it('sends responses to the destination of §18.2.2 and reports transport errors (§17.2.4)', () => {
    const h = createHarness();
    h.layer.receiveRequest(register(), UDP_FLOW);
    const tx = h.serverUser.onlyTransaction as ServerNonInviteTransaction;
    h.sender.failing = true;

    tx.sendResponse(createResponse(h.serverUser.onlyRequest, 200, { toTag: 'regtag' }));

    expect(h.sender.sent[0]?.destination).toEqual({ transport: 'udp', address: '198.51.100.7', port: 40312 });
    expect(h.serverUser.events).toEqual(['request REGISTER', 'transport-error', 'terminated']);
    expect(h.layer.serverTransactionCount).toBe(0);
  });
});

describe('ServerNonInviteTransaction in Completed over UDP: what it keeps for Timer J', () => {
  it('lets its request go once answered, and still resends the same final response, byte for byte', () => {
    const h = createHarness();
    h.layer.receiveRequest(register(), UDP_FLOW);
    const tx = h.serverUser.onlyTransaction as ServerNonInviteTransaction;
    const keptWhileTrying = tx.request;
    const headers = new Headers();
    headers.append('Contact', '<sip:alice@198.51.100.7:40312>;expires=3600');
    const ok = createResponse(h.serverUser.onlyRequest, 200, { toTag: 'regtag', headers });

    tx.sendResponse(ok);
    h.layer.receiveRequest(register(), UDP_FLOW);
    h.clock.advance(4_000);
    h.layer.receiveRequest(register(), UDP_FLOW);

    expect(keptWhileTrying).toBe(h.serverUser.onlyRequest);
    expect(tx.request).toBeNull();
    expect(tx.callId).toBe('reg-1');
    const sent = h.sender.sent.map((s) => [s.bytes.toString('latin1'), s.destination, s.at]);
    const expected = [serializeMessage(ok).toString('latin1'), { transport: 'udp', address: '198.51.100.7', port: 40312 }];
    expect(sent).toEqual([
      [...expected, 0],
      [...expected, 0],
      [...expected, 4_000],
    ]);
    expect(h.serverUser.events).toEqual(['request REGISTER']);
  });

  it('keeps its request when retransmissions can only match it the RFC 2543 way (no branch), and absorbs them', () => {
    const h = createHarness();
    const legacy = () => sipRequest({ method: 'OPTIONS', via: 'SIP/2.0/UDP 198.51.100.7:5060', callId: 'old-phone-1', cseq: 5, fromTag: 'a1' });
    h.layer.receiveRequest(legacy(), UDP_FLOW);
    const tx = h.serverUser.onlyTransaction as ServerNonInviteTransaction;
    const ok = createResponse(h.serverUser.onlyRequest, 200, { toTag: 'b1' });

    tx.sendResponse(ok);
    h.layer.receiveRequest(legacy(), UDP_FLOW);

    expect(tx.state).toBe('Completed');
    expect(tx.request).toBe(h.serverUser.onlyRequest);
    expect(h.sender.sent.map((s) => s.bytes.toString('latin1'))).toEqual([serializeMessage(ok).toString('latin1'), serializeMessage(ok).toString('latin1')]);
    expect(h.serverUser.events).toEqual(['request OPTIONS']);
  });

  it('ends each transaction 64*T1 after its own final response, whatever the others do', () => {
    const h = createHarness();
    const request = (n: number) => sipRequest({ method: 'REGISTER', uri: 'sip:voix.example', callId: `reg-${n}`, via: `SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKreg${n}` });
    const answer = (n: number) => {
      h.layer.receiveRequest(request(n), UDP_FLOW);
      const received = h.serverUser.requests.at(-1);
      received?.tx.sendResponse(createResponse(received.request, 200, { toTag: `t${n}` }));
    };
    const ended = () => h.serverUser.requests.filter((r) => r.tx.state === 'Terminated').length;

    answer(1);
    h.clock.advance(10_000);
    answer(2);
    answer(3);
    h.clock.advance(21_999);
    const justBeforeFirst = ended();
    h.clock.advance(1);
    const atFirst = ended();
    h.clock.advance(9_999);
    const justBeforeOthers = ended();
    h.layer.receiveRequest(request(3), UDP_FLOW);
    h.clock.advance(1);
    const atOthers = ended();

    expect([justBeforeFirst, atFirst, justBeforeOthers, atOthers]).toEqual([0, 1, 1, 3]);
    // The retransmission 1 ms before Timer J still got the 200 again, and no new transaction.
    expect(h.sender.responses(200).map((s) => s.at)).toEqual([0, 10_000, 10_000, 41_999]);
    expect(h.serverUser.requests).toHaveLength(3);
    expect(h.layer.serverTransactionCount).toBe(0);
  });
});

describe('ServerNonInviteTransaction over TCP', () => {
  it('ends as soon as the final response is sent (Timer J is zero)', () => {
    const h = createHarness();
    h.layer.receiveRequest(register(), TCP_FLOW);
    const tx = h.serverUser.onlyTransaction as ServerNonInviteTransaction;

    tx.sendResponse(createResponse(h.serverUser.onlyRequest, 200, { toTag: 'regtag' }));

    expect(tx.state).toBe('Terminated');
    expect(h.sender.sent[0]?.destination).toEqual({ transport: 'tcp', address: '198.51.100.7', port: 50123, connectionId: 17 });
    expect(h.layer.serverTransactionCount).toBe(0);
  });
});
