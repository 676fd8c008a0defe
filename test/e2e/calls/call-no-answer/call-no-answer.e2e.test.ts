import { expect, it } from 'vitest';
import { startBaresip, useHarness } from '../../harness/index.js';
import { dial, expectNoCallLeft, finalInviteResponse, lastCall, startCallLab, waitForCallEnded } from '../call-helpers.js';

useHarness();

const RING_TIMEOUT_S = 5;

it('APPEL-NONREPONSE-01: nobody answers: after the ring timeout the caller gets 480 and the callee stops ringing', async () => {
  const lab = await startCallLab({ config: { calls: { ring_timeout: RING_TIMEOUT_S } } });
  const { voix } = lab;
  const a = await startBaresip({ account: voix.account('1001', 'udp') });
  const b = await startBaresip({ account: voix.account('1002', 'udp') });
  await a.waitForRegistration(10_000);
  await b.waitForRegistration(10_000);

  const since = voix.mark();
  await dial(a, voix, '1002');
  await b.waitForEvent((e) => e.type === 'CALL_INCOMING', 10_000);
  const ringingSince = Date.now();
  // Bounded a little above the ring timeout: 480 must come by itself, B never answers.
  const aClosed = await a.waitForEvent((e) => e.type === 'CALL_CLOSED', (RING_TIMEOUT_S + 5) * 1000);
  const ringingFor = Date.now() - ringingSince;
  const bClosed = await b.waitForEvent((e) => e.type === 'CALL_CLOSED', 5000);
  await waitForCallEnded(voix, since);
  const cdr = await lastCall(voix);

  expect(finalInviteResponse(a)?.firstLine).toBe('SIP/2.0 480 No Answer');
  expect(aClosed.param).toMatch(/^480 /);
  // voix let it ring for the configured time (not less), then CANCELled B's INVITE.
  expect(ringingFor).toBeGreaterThanOrEqual((RING_TIMEOUT_S - 1) * 1000);
  expect(b.sipMessages().some((m) => m.firstLine.startsWith('CANCEL '))).toBe(true);
  expect(bClosed.type).toBe('CALL_CLOSED');
  expect(b.events().some((e) => e.type === 'CALL_ESTABLISHED')).toBe(false);
  expect(cdr).toMatchObject({ caller: '1001', callee: '1002', status: 480, cause: 'no-answer', by: 'voix' });
  await expectNoCallLeft(lab);
});
