import { expect, it } from 'vitest';
import { startBaresip, useHarness } from '../../harness/index.js';
import { dial, expectNoCallLeft, finalInviteResponse, lastCall, startCallLab, waitForCallEnded } from '../call-helpers.js';

useHarness();

it('APPEL-OCCUPE-01: the callee rejects the ringing call as busy: the caller gets 486 Busy Here', async () => {
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
  // baresip's hangup on a call that is still ringing rejects it: 486 (reason phrase "Rejected").
  expect((await b.command('hangup')).ok).toBe(true);
  const aClosed = await a.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000);
  const ended = await waitForCallEnded(voix, since);
  const cdr = await lastCall(voix);

  const rejectionByB = finalInviteResponse(b);
  const finalToA = finalInviteResponse(a);
  expect(rejectionByB?.firstLine).toMatch(/^SIP\/2\.0 486 /);
  expect(finalToA?.firstLine).toBe('SIP/2.0 486 Busy Here');
  expect(aClosed.param).toMatch(/486 Busy Here/);
  expect(a.events().some((e) => e.type === 'CALL_ESTABLISHED')).toBe(false);
  expect(ended).toMatchObject({ cause: 'busy', status: 486 });
  expect(cdr).toMatchObject({ caller: '1001', callee: '1002', status: 486, cause: 'busy', by: 'callee' });
  await expectNoCallLeft(lab);
});
