import { expect, it } from 'vitest';
import { startBaresip, useHarness } from '../../harness/index.js';
import { dial, expectNoCallLeft, finalInviteResponse, lastCall, startCallLab, waitForCallEnded } from '../call-helpers.js';

useHarness();

it('APPEL-ANNULATION-01: the caller hangs up while the callee rings: CANCEL reaches the callee, the call ends as cancelled', async () => {
  const lab = await startCallLab();
  const { voix } = lab;
  const a = await startBaresip({ account: voix.account('1001', 'udp') });
  const b = await startBaresip({ account: voix.account('1002', 'udp') });
  await a.waitForRegistration(10_000);
  await b.waitForRegistration(10_000);

  const since = voix.mark();
  await dial(a, voix, '1002');
  await b.waitForEvent((e) => e.type === 'CALL_INCOMING', 10_000);
  await a.waitForEvent((e) => e.type === 'CALL_RINGING', 10_000);
  // hangup on a call that is not answered yet: baresip sends CANCEL.
  expect((await a.command('hangup')).ok).toBe(true);
  const bClosed = await b.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000);
  await a.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000);
  await waitForCallEnded(voix, since);
  const cdr = await lastCall(voix);

  expect(a.sipMessages().some((m) => m.firstLine.startsWith('CANCEL ') && m.source.startsWith('127.0.0.1:') && !m.source.endsWith(`:${voix.ports.udp}`))).toBe(true);
  // voix answered the caller's INVITE with 487 and cancelled its own INVITE to B.
  await a.waitForSipMessage((m) => m.firstLine.startsWith('SIP/2.0 487 '), 5000);
  expect(finalInviteResponse(a)?.firstLine).toMatch(/^SIP\/2\.0 487 /);
  const cancelToB = b.sipMessages().find((m) => m.firstLine.startsWith('CANCEL '));
  expect(cancelToB?.source).toBe(`127.0.0.1:${voix.ports.udp}`);
  expect(finalInviteResponse(b)?.firstLine).toMatch(/^SIP\/2\.0 487 /);
  expect(bClosed.type).toBe('CALL_CLOSED');
  expect(b.events().some((e) => e.type === 'CALL_ESTABLISHED')).toBe(false);
  expect(cdr).toMatchObject({ caller: '1001', callee: '1002', status: 487, cause: 'cancelled', by: 'caller' });
  await expectNoCallLeft(lab);
});
