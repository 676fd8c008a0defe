/**
 * SipCore, the transaction user: what it does when its own handling of a
 * request throws (a bug) rather than answering.
 */
import { describe, expect, it } from 'vitest';
import { SipCore } from '../../../src/core/sip-core.js';
import { createMemoryLogger } from '../../../src/log/logger.js';
import type { Registrar } from '../../../src/registrar/registrar.js';
import { SecurityLog } from '../../../src/security/security-log.js';
import { TransactionLayer } from '../../../src/sip/transaction/transaction-layer.js';
import { FakeClock } from '../../../src/util/clock.js';
import { RecordingSender, UDP_FLOW, sipRequest } from '../sip/transaction/fixtures.js';

function coreThatFails(): { layer: TransactionLayer; sender: RecordingSender } {
  const clock = new FakeClock();
  const sender = new RecordingSender(clock);
  const { logger } = createMemoryLogger('debug');
  const core = new SipCore({
    // Never reached: the authenticator throws first.
    registrar: {} as Registrar,
    authenticator: {
      authenticate: () => {
        throw new Error('bug in the authenticator');
      },
    },
    securityLog: new SecurityLog(logger),
    isLocalHost: () => true,
    serverHeader: 'voix-test',
    logger,
  });
  const layer = new TransactionLayer({ sender, clock, user: core, logger });
  core.attach(layer, null);
  return { layer, sender };
}

describe('SipCore', () => {
  it('answers 500 when its handling of a request throws, and lets the error through to be logged', () => {
    const { layer, sender } = coreThatFails();
    const register = sipRequest({ method: 'REGISTER', uri: 'sip:voix.test', via: 'SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKbug' });

    expect(() => layer.receiveRequest(register, UDP_FLOW)).toThrow('bug in the authenticator');

    expect(sender.responses(500)).toHaveLength(1);
    expect(layer.serverTransactionsInProgress).toBe(0);
    // A retransmission gets the same 500 from the transaction, without running the handler again.
    layer.receiveRequest(register, UDP_FLOW);
    expect(sender.responses(500)).toHaveLength(2);
  });
});
