import { describe, expect, it } from 'vitest';
import { createCancel, createResponse } from '../../../../src/sip/builders.js';
import type { SipRequest } from '../../../../src/sip/message.js';
import { ClientInviteTransaction } from '../../../../src/sip/transaction/client-invite-transaction.js';
import { ClientNonInviteTransaction } from '../../../../src/sip/transaction/client-non-invite-transaction.js';
import { ServerInviteTransaction } from '../../../../src/sip/transaction/server-invite-transaction.js';
import { ServerNonInviteTransaction } from '../../../../src/sip/transaction/server-non-invite-transaction.js';
import { responseDestination } from '../../../../src/sip/transaction/transaction-layer.js';
import type { Flow } from '../../../../src/sip/transport/types.js';
import {
  RecordingClientUser,
  TCP_FLOW,
  UDP_DESTINATION,
  UDP_FLOW,
  createHarness,
  peerResponse,
  sipRequest,
  type RequestSpec,
} from './fixtures.js';

describe('TransactionLayer: requests to server transactions (RFC 3261 §17.2.3)', () => {
  it('creates one transaction per new request and gives it to the TU', () => {
    const h = createHarness();

    h.layer.receiveRequest(sipRequest({ method: 'INVITE' }), UDP_FLOW);

    const [received] = h.serverUser.requests;
    expect(received?.tx).toBeInstanceOf(ServerInviteTransaction);
    expect(received?.flow).toBe(UDP_FLOW);
    expect(h.layer.serverTransactionCount).toBe(1);
  });

  it('matches on branch, sent-by and method: a CANCEL or another sent-by is a new transaction', () => {
    const h = createHarness();
    const branch = 'z9hG4bKsamebranch';
    h.layer.receiveRequest(sipRequest({ method: 'INVITE', via: `SIP/2.0/UDP 198.51.100.7:5060;branch=${branch}` }), UDP_FLOW);

    h.layer.receiveRequest(sipRequest({ method: 'INVITE', via: `SIP/2.0/UDP 198.51.100.7;branch=${branch}` }), UDP_FLOW);
    h.layer.receiveRequest(sipRequest({ method: 'CANCEL', via: `SIP/2.0/UDP 198.51.100.7:5060;branch=${branch}` }), UDP_FLOW);
    h.layer.receiveRequest(sipRequest({ method: 'INVITE', via: `SIP/2.0/UDP 198.51.100.8:5060;branch=${branch}` }), UDP_FLOW);

    // Port 5060 written or implied is the same sent-by: a retransmission.
    expect(h.serverUser.events).toEqual(['request INVITE', 'request CANCEL', 'request INVITE']);
    expect(h.serverUser.requests[1]?.tx).toBeInstanceOf(ServerNonInviteTransaction);
    expect(h.layer.serverTransactionCount).toBe(3);
  });

  it('keeps transactions of different transports apart, with or without an RFC 3261 branch', () => {
    const h = createHarness();
    const withBranch = 'SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKsame';
    const without = 'SIP/2.0/UDP 198.51.100.7:5060';
    h.layer.receiveRequest(sipRequest({ method: 'OPTIONS', via: withBranch }), UDP_FLOW);
    h.layer.receiveRequest(sipRequest({ method: 'INVITE', via: without }), UDP_FLOW);

    h.layer.receiveRequest(sipRequest({ method: 'OPTIONS', via: withBranch }), TCP_FLOW);
    h.layer.receiveRequest(sipRequest({ method: 'INVITE', via: without }), TCP_FLOW);

    expect(h.serverUser.events).toEqual(['request OPTIONS', 'request INVITE', 'request OPTIONS', 'request INVITE']);
    expect(h.serverUser.requests.map((r) => r.flow.transport)).toEqual(['udp', 'udp', 'tcp', 'tcp']);
  });

  it('never creates a transaction for an ACK that matches none', () => {
    const h = createHarness();
    const ack = sipRequest({ method: 'ACK', toTag: 'x' });

    h.layer.receiveRequest(ack, UDP_FLOW);

    expect(h.serverUser.acks).toEqual([{ ack, flow: UDP_FLOW, tx: null }]);
    expect(h.layer.serverTransactionCount).toBe(0);
  });
});

describe('TransactionLayer: RFC 2543 fallback matching (§17.2.3)', () => {
  const legacy = (spec: RequestSpec): SipRequest =>
    sipRequest({ via: 'SIP/2.0/UDP 198.51.100.7:5060', callId: 'old-phone-1', cseq: 5, fromTag: 'a1', ...spec });

  it('matches a retransmitted INVITE whose Via has no branch', () => {
    const h = createHarness();
    h.layer.receiveRequest(legacy({}), UDP_FLOW);
    const tx = h.serverUser.onlyTransaction as ServerInviteTransaction;
    const ringing = createResponse(tx.request, 180, { toTag: 'b1' });
    tx.sendResponse(ringing);

    h.layer.receiveRequest(legacy({}), UDP_FLOW);

    expect(h.serverUser.events).toEqual(['request INVITE']);
    expect(h.sender.sent.map((s) => s.message)).toEqual([ringing, ringing]);
  });

  it('treats a branch that is exactly the magic cookie as no branch (RFC 4475 §3.2.1)', () => {
    const h = createHarness();
    const cookieOnly = 'SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK';
    h.layer.receiveRequest(legacy({ via: cookieOnly }), UDP_FLOW);

    h.layer.receiveRequest(legacy({ via: cookieOnly }), UDP_FLOW);
    h.layer.receiveRequest(legacy({ via: cookieOnly, callId: 'old-phone-2' }), UDP_FLOW);
    h.layer.receiveRequest(legacy({ via: cookieOnly, cseq: 6 }), UDP_FLOW);
    h.layer.receiveRequest(legacy({ via: cookieOnly, fromTag: 'other' }), UDP_FLOW);

    // Only the exact retransmission is absorbed; Call-ID, CSeq and From tag
    // tell the others apart, though they share the "branch".
    expect(h.serverUser.events).toEqual(['request INVITE', 'request INVITE', 'request INVITE', 'request INVITE']);
  });

  it('tells requests apart by Request-URI and top Via, ignoring the received/rport our transport added', () => {
    const h = createHarness();
    h.layer.receiveRequest(legacy({ via: 'SIP/2.0/UDP 198.51.100.7:5060;rport=40312;received=198.51.100.7' }), UDP_FLOW);

    h.layer.receiveRequest(legacy({ via: 'SIP/2.0/UDP 198.51.100.7:5060;rport' }), UDP_FLOW);
    h.layer.receiveRequest(legacy({ uri: 'sip:carol@voix.example' }), UDP_FLOW);
    h.layer.receiveRequest(legacy({ via: 'SIP/2.0/UDP 198.51.100.7:5062' }), UDP_FLOW);

    expect(h.serverUser.events).toEqual(['request INVITE', 'request INVITE', 'request INVITE']);
  });

  it('matches the ACK of a non-2xx by the To tag of the response sent', () => {
    const h = createHarness();
    h.layer.receiveRequest(legacy({}), UDP_FLOW);
    const tx = h.serverUser.onlyTransaction as ServerInviteTransaction;
    tx.sendResponse(createResponse(tx.request, 486, { toTag: 'b1' }));

    h.layer.receiveRequest(legacy({ method: 'ACK', toTag: 'wrong' }), UDP_FLOW);
    const stateAfterWrongTag = tx.state;
    h.layer.receiveRequest(legacy({ method: 'ACK', toTag: 'b1' }), UDP_FLOW);

    expect(stateAfterWrongTag).toBe('Completed');
    expect(tx.state).toBe('Confirmed');
    expect(h.serverUser.acks.map((a) => a.tx)).toEqual([null]);
  });

  it('keeps legacy and RFC 3261 transactions of the same call apart and forgets both', () => {
    const h = createHarness();
    h.layer.receiveRequest(legacy({}), UDP_FLOW);
    h.layer.receiveRequest(legacy({ via: 'SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKnew1' }), UDP_FLOW);
    for (const { tx, request } of h.serverUser.requests) {
      (tx as ServerInviteTransaction).sendResponse(createResponse(request, 486, { toTag: 'b1' }));
    }

    h.clock.advance(32_000);

    expect(h.serverUser.events.filter((e) => e.startsWith('request'))).toHaveLength(2);
    expect(h.layer.serverTransactionCount).toBe(0);
  });
});

describe('TransactionLayer: CANCEL lookup (§9.2)', () => {
  it('finds the INVITE server transaction with the same branch and sent-by', () => {
    const h = createHarness();
    const invite = sipRequest({ method: 'INVITE' });
    h.layer.receiveRequest(invite, UDP_FLOW);
    const cancel = createCancel(invite);

    h.layer.receiveRequest(cancel, UDP_FLOW);

    expect(h.layer.findInviteServerTransaction(cancel, UDP_FLOW)).toBe(h.serverUser.requests[0]?.tx);
    expect(h.serverUser.requests[1]?.tx).toBeInstanceOf(ServerNonInviteTransaction);
  });

  it('finds nothing for a CANCEL with another branch or after the INVITE transaction ended', () => {
    const h = createHarness();
    const invite = sipRequest({ method: 'INVITE' });
    h.layer.receiveRequest(invite, UDP_FLOW);
    const tx = h.serverUser.onlyTransaction as ServerInviteTransaction;
    const stranger = sipRequest({ method: 'CANCEL', via: 'SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKother' });

    const beforeEnd = h.layer.findInviteServerTransaction(stranger, UDP_FLOW);
    tx.sendResponse(createResponse(tx.request, 200, { toTag: 'b' }));
    h.clock.advance(32_000);

    expect(beforeEnd).toBeNull();
    expect(h.layer.findInviteServerTransaction(createCancel(invite), UDP_FLOW)).toBeNull();
  });

  it('finds the INVITE of an RFC 2543 peer by Request-URI, tags, Call-ID, CSeq number and Via', () => {
    const h = createHarness();
    const invite = sipRequest({ method: 'INVITE', via: 'SIP/2.0/UDP 198.51.100.7:5060' });
    h.layer.receiveRequest(invite, UDP_FLOW);

    const found = h.layer.findInviteServerTransaction(createCancel(invite), UDP_FLOW);
    const otherCseq = h.layer.findInviteServerTransaction(
      sipRequest({ method: 'CANCEL', via: 'SIP/2.0/UDP 198.51.100.7:5060', cseq: 1 }),
      UDP_FLOW,
    );

    expect(found).toBe(h.serverUser.requests[0]?.tx);
    expect(otherCseq).toBeNull();
  });
});

describe('TransactionLayer: responses to client transactions (§17.1.3)', () => {
  const ourVia = 'SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKshared';

  it('matches on branch and CSeq method, so an INVITE and its CANCEL get their own responses', () => {
    const h = createHarness();
    const inviteUser = new RecordingClientUser();
    const cancelUser = new RecordingClientUser();
    const invite = sipRequest({ method: 'INVITE', via: ourVia });
    const inviteTx = h.layer.sendRequest(invite, UDP_DESTINATION, inviteUser);
    const cancel = createCancel(invite);
    const cancelTx = h.layer.sendRequest(cancel, UDP_DESTINATION, cancelUser);

    h.layer.receiveResponse(peerResponse(cancel, 200), UDP_FLOW);
    h.layer.receiveResponse(peerResponse(invite, 487), UDP_FLOW);

    expect(inviteTx).toBeInstanceOf(ClientInviteTransaction);
    expect(cancelTx).toBeInstanceOf(ClientNonInviteTransaction);
    expect(cancelUser.events).toEqual(['response 200']);
    expect(inviteUser.events).toEqual(['response 487']);
  });

  it('drops a response that matches no transaction and logs it at debug', () => {
    const h = createHarness();
    const stray = peerResponse(sipRequest({ method: 'INVITE', via: ourVia, callId: 'stray-1' }), 200);

    h.layer.receiveResponse(stray, UDP_FLOW);

    expect(h.sender.sent).toHaveLength(0);
    expect(h.serverUser.events).toEqual([]);
    expect(h.logLines).toEqual([
      expect.objectContaining({ level: 'debug', msg: 'response matches no transaction, dropped', callId: 'stray-1', status: 200 }),
    ]);
  });

  it('refuses to start a transaction for an ACK, a request without an RFC 3261 branch, or a reused branch', () => {
    const h = createHarness();
    const user = new RecordingClientUser();
    h.layer.sendRequest(sipRequest({ method: 'BYE', via: ourVia }), UDP_DESTINATION, user);

    expect(() => h.layer.sendRequest(sipRequest({ method: 'ACK', via: ourVia }), UDP_DESTINATION, user)).toThrow(/§17\.1\.1\.3/);
    expect(() =>
      h.layer.sendRequest(sipRequest({ method: 'BYE', via: 'SIP/2.0/UDP 203.0.113.1;branch=z9hG4bK' }), UDP_DESTINATION, user),
    ).toThrow(/§8\.1\.1\.7/);
    expect(() => h.layer.sendRequest(sipRequest({ method: 'BYE', via: ourVia }), UDP_DESTINATION, user)).toThrow(/already used/);
    expect(h.layer.clientTransactionCount).toBe(1);
  });
});

describe('TransactionLayer: no leaks', () => {
  it('forgets every transaction once it is terminated', () => {
    const h = createHarness();
    const user = new RecordingClientUser();
    h.serverUser.answer = (tx, request) => {
      if (request.method === 'INVITE') (tx as ServerInviteTransaction).sendResponse(createResponse(request, 200, { toTag: 't' }));
      else (tx as ServerNonInviteTransaction).sendResponse(createResponse(request, 200, { toTag: 't' }));
    };
    for (let i = 0; i < 20; i++) {
      const invite = i % 2 === 0;
      const incoming = sipRequest({
        method: invite ? 'INVITE' : 'OPTIONS',
        via: `SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKs${i}`,
        callId: `c${i}`,
      });
      const outgoing = sipRequest({ method: invite ? 'INVITE' : 'BYE', via: `SIP/2.0/UDP 203.0.113.1;branch=z9hG4bKc${i}` });
      h.layer.receiveRequest(incoming, UDP_FLOW);
      h.layer.sendRequest(outgoing, UDP_DESTINATION, user);
    }
    const during = [h.layer.serverTransactionCount, h.layer.clientTransactionCount];

    h.clock.advance(64_000);

    expect(during).toEqual([20, 20]);
    expect([h.layer.serverTransactionCount, h.layer.clientTransactionCount]).toEqual([0, 0]);
    expect(h.clock.pendingCount).toBe(0);
  });
});

describe('TransactionLayer: requests the TU never answers', () => {
  it('drops a non-INVITE server transaction once its client has given up (64*T1), with a warning, and stops sweeping', () => {
    const h = createHarness();
    h.serverUser.answer = () => undefined;
    h.layer.receiveRequest(sipRequest({ method: 'OPTIONS', via: 'SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKlost' }), UDP_FLOW);
    const tx = h.serverUser.onlyTransaction as ServerNonInviteTransaction;

    h.clock.advance(31_999);
    expect(tx.state).toBe('Trying');
    expect(h.layer.serverTransactionsInProgress).toBe(1);

    h.clock.advance(8_001);
    expect(tx.state).toBe('Terminated');
    expect([h.layer.serverTransactionCount, h.layer.serverTransactionsInProgress]).toEqual([0, 0]);
    expect(h.logLines.filter((l) => l['level'] === 'warn').map((l) => [l['msg'], l['method']])).toEqual([['request never answered: transaction dropped', 'OPTIONS']]);
    expect(h.clock.pendingCount).toBe(0);
  });

  it('leaves a request answered in time alone, and an INVITE however long it rings', () => {
    const h = createHarness();
    h.serverUser.answer = () => undefined;
    h.layer.receiveRequest(sipRequest({ method: 'OPTIONS', via: 'SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKslow', callId: 'slow' }), UDP_FLOW);
    h.layer.receiveRequest(sipRequest({ method: 'INVITE', via: 'SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKring', callId: 'ring' }), UDP_FLOW);
    const [options, invite] = h.serverUser.requests;

    h.clock.advance(20_000);
    (options?.tx as ServerNonInviteTransaction).sendResponse(createResponse(options?.request as SipRequest, 200, { toTag: 't' }));
    h.clock.advance(100_000);

    expect((options?.tx as ServerNonInviteTransaction).state).toBe('Terminated');
    expect((invite?.tx as ServerInviteTransaction).state).toBe('Proceeding');
    expect(h.logLines.filter((l) => l['level'] === 'warn')).toEqual([]);
  });
});

describe('responseDestination (RFC 3261 §18.2.2, RFC 3581)', () => {
  const udpFlow: Flow = { ...UDP_FLOW, remoteAddress: '198.51.100.7', remotePort: 40312 };
  const withVia = (via: string): SipRequest => sipRequest({ method: 'OPTIONS', via });

  it('answers on the same connection over a reliable transport', () => {
    const request = withVia('SIP/2.0/TCP phone.example:5070;branch=z9hG4bKt;received=198.51.100.7');

    expect(responseDestination(request, TCP_FLOW, { forceRport: false })).toEqual({
      transport: 'tcp',
      address: '198.51.100.7',
      port: 50123,
      connectionId: 17,
    });
  });

  it('sends to maddr, at the sent-by port or 5060, only when told to honour maddr', () => {
    const withPort = withVia('SIP/2.0/UDP phone.example:5070;branch=z9hG4bKm;maddr=239.255.255.1');
    const withoutPort = withVia('SIP/2.0/UDP phone.example;branch=z9hG4bKm;maddr=239.255.255.1');

    expect(responseDestination(withPort, udpFlow, { forceRport: true, honorMaddr: true })).toEqual({
      transport: 'udp',
      address: '239.255.255.1',
      port: 5070,
    });
    expect(responseDestination(withoutPort, udpFlow, { forceRport: false, honorMaddr: true })).toEqual({
      transport: 'udp',
      address: '239.255.255.1',
      port: 5060,
    });
  });

  it('ignores maddr by default, so a sender cannot aim responses at a third party', () => {
    const request = withVia('SIP/2.0/UDP phone.example:5070;branch=z9hG4bKm;maddr=192.0.2.99');

    expect(responseDestination(request, udpFlow, { forceRport: true })).toEqual({
      transport: 'udp',
      address: udpFlow.remoteAddress,
      port: udpFlow.remotePort,
    });
  });

  it('sends to the received address and the rport value when the client asked for rport', () => {
    const request = withVia('SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKr;rport=40312;received=198.51.100.7');

    expect(responseDestination(request, udpFlow, { forceRport: false })).toEqual({
      transport: 'udp',
      address: '198.51.100.7',
      port: 40312,
    });
  });

  it('without rport, sends to the received address at the sent-by port, or 5060', () => {
    const withPort = withVia('SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bKr;received=198.51.100.7');
    const withoutPort = withVia('SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKr;received=198.51.100.7');

    expect(responseDestination(withPort, udpFlow, { forceRport: false })).toEqual({
      transport: 'udp',
      address: '198.51.100.7',
      port: 5070,
    });
    expect(responseDestination(withoutPort, udpFlow, { forceRport: false })).toEqual({
      transport: 'udp',
      address: '198.51.100.7',
      port: 5060,
    });
  });

  it('with forceRport, always answers at the source port', () => {
    const request = withVia('SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bKr;received=198.51.100.7');

    expect(responseDestination(request, udpFlow, { forceRport: true })).toEqual({ transport: 'udp', address: '198.51.100.7', port: 40312 });
  });

  it('is what a server transaction uses, forceRport being the layer default', () => {
    const h = createHarness();
    h.layer.receiveRequest(withVia('SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bKd;received=198.51.100.7'), udpFlow);
    const tx = h.serverUser.onlyTransaction as ServerNonInviteTransaction;

    tx.sendResponse(createResponse(h.serverUser.onlyRequest, 200, { toTag: 'x' }));

    expect(h.sender.sent[0]?.destination).toEqual({ transport: 'udp', address: '198.51.100.7', port: 40312 });
  });
});

describe('TransactionLayer: screening new requests (stateless refusals)', () => {
  it('sends the screen’s response statelessly: no transaction, the TU never sees the request, a retransmission is screened again', () => {
    const screened: string[] = [];
    const h = createHarness({
      screen: (request) => {
        screened.push(request.method);
        return request.method === 'REGISTER' ? createResponse(request, 503, { toTag: 'busy' }) : null;
      },
    });
    const register = sipRequest({ method: 'REGISTER' });

    h.layer.receiveRequest(register, UDP_FLOW);
    h.layer.receiveRequest(register, UDP_FLOW);
    h.layer.receiveRequest(sipRequest({ method: 'OPTIONS', via: 'SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKother' }), UDP_FLOW);

    expect(h.sender.responses(503).map((s) => s.destination)).toEqual([
      { transport: 'udp', address: '198.51.100.7', port: 40312 },
      { transport: 'udp', address: '198.51.100.7', port: 40312 },
    ]);
    expect(h.serverUser.events).toEqual(['request OPTIONS']);
    expect(h.layer.serverTransactionCount).toBe(1);
    expect(screened).toEqual(['REGISTER', 'REGISTER', 'OPTIONS']);
  });

  it('never screens a retransmission of a request that has its transaction, nor an ACK', () => {
    const screened: string[] = [];
    const h = createHarness({
      screen: (request) => {
        screened.push(request.method);
        return null;
      },
    });
    const invite = sipRequest({ method: 'INVITE' });

    h.layer.receiveRequest(invite, UDP_FLOW);
    h.layer.receiveRequest(invite, UDP_FLOW);
    h.layer.receiveRequest(sipRequest({ method: 'ACK', toTag: 'x' }), UDP_FLOW);

    expect(screened).toEqual(['INVITE']);
  });
});

describe('TransactionLayer: work in flight', () => {
  it('counts server transactions until their final response, whatever their state afterwards', () => {
    const h = createHarness();
    h.layer.receiveRequest(sipRequest({ method: 'INVITE', via: 'SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKa' }), UDP_FLOW);
    h.layer.receiveRequest(sipRequest({ method: 'OPTIONS', via: 'SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKb' }), UDP_FLOW);
    h.layer.receiveRequest(sipRequest({ method: 'REGISTER', via: 'SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKc' }), UDP_FLOW);
    const [invite, options, register] = h.serverUser.requests;
    const inFlight = [h.layer.serverTransactionsInProgress];

    invite?.tx.sendResponse(createResponse(invite.request, 180, { toTag: 't' }));
    inFlight.push(h.layer.serverTransactionsInProgress);
    invite?.tx.sendResponse(createResponse(invite.request, 486, { toTag: 't' }));
    options?.tx.sendResponse(createResponse(options.request, 200, { toTag: 't' }));
    inFlight.push(h.layer.serverTransactionsInProgress);
    register?.tx.sendResponse(createResponse(register.request, 401, { toTag: 't' }));
    inFlight.push(h.layer.serverTransactionsInProgress);

    expect(inFlight).toEqual([3, 3, 1, 0]);
    // Completed transactions stay (absorbing retransmissions) without counting as work.
    expect(h.layer.serverTransactionCount).toBe(3);
  });

  it('settled() resolves once every client transaction has its final response', async () => {
    const h = createHarness();
    const user = new RecordingClientUser();
    const bye = sipRequest({ method: 'BYE', via: 'SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKbye1' });
    const cancelled = sipRequest({ method: 'BYE', via: 'SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKbye2', callId: 'other' });
    h.layer.sendRequest(bye, UDP_DESTINATION, user);
    h.layer.sendRequest(cancelled, UDP_DESTINATION, user);
    let settled: boolean | null = null;
    void h.layer.settled(10_000).then((all) => (settled = all));

    h.layer.receiveResponse(peerResponse(bye, 200), UDP_FLOW);
    await Promise.resolve();
    const afterOne = settled;
    h.layer.receiveResponse(peerResponse(cancelled, 100), UDP_FLOW);
    await Promise.resolve();
    const afterProvisional = settled;
    h.layer.receiveResponse(peerResponse(cancelled, 481), UDP_FLOW);
    await Promise.resolve();

    expect([afterOne, afterProvisional, settled]).toEqual([null, null, true]);
    expect(h.layer.clientTransactionsOutstanding).toBe(0);
    expect(user.events).toEqual(['response 200', 'response 100', 'response 481']);
  });

  it('settled() gives up after its timeout when a peer never answers, and resolves at once when nothing is outstanding', async () => {
    const h = createHarness();
    const idle = await h.layer.settled(1000);
    h.layer.sendRequest(sipRequest({ method: 'BYE', via: 'SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKlost' }), UDP_DESTINATION, new RecordingClientUser());
    const waiting = h.layer.settled(3000);

    h.clock.advance(3000);

    expect(idle).toBe(true);
    await expect(waiting).resolves.toBe(false);
    expect(h.layer.clientTransactionsOutstanding).toBe(1);
  });
});
