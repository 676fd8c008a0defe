import { expect, it } from 'vitest';
import { DEFAULT_USERS, startBaresip, useHarness, type VoixUser } from '../../harness/index.js';
import { dial, expectNoCallLeft, finalInviteResponse, lastCall, startCallLab, waitForCallEnded } from '../../calls/call-helpers.js';

useHarness();

const USERS: readonly VoixUser[] = [
  ...DEFAULT_USERS.map((user): VoixUser => {
    if (user.extension === '1002') return { ...user, dnd: true };
    if (user.extension === '1003') return { ...user, dnd: true, forward: { busy: '1004' } };
    return user;
  }),
  { extension: '1004', name: 'Denis Moreau', password: 'denis-e2e-secret-1004', transports: ['udp'], max_contacts: 3 },
];

it('REGLES-NPD-01: a user in do-not-disturb never rings: the caller gets 486 Busy Here, or the busy forward rings instead', async () => {
  const lab = await startCallLab({ users: USERS });
  const { voix } = lab;
  const phones = await Promise.all(['1001', '1002', '1003', '1004'].map((extension) => startBaresip({ account: voix.account(extension, 'udp') })));
  const [a, b, c, d] = phones as [(typeof phones)[number], (typeof phones)[number], (typeof phones)[number], (typeof phones)[number]];
  for (const phone of phones) expect((await phone.waitForRegistration(10_000)).ok).toBe(true);

  // 1. 1002 in do-not-disturb, no forward: busy at once.
  const dndSince = voix.mark();
  const aSince = a.mark();
  await dial(a, voix, '1002');
  const aClosed = await a.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, aSince);
  const refused = await waitForCallEnded(voix, dndSince);
  const refusedCdr = await lastCall(voix);

  expect(finalInviteResponse(a)?.firstLine).toBe('SIP/2.0 486 Busy Here');
  expect(aClosed.param).toMatch(/486 Busy Here/);
  expect(a.events().slice(aSince).some((e) => e.type === 'CALL_RINGING' || e.type === 'CALL_ESTABLISHED')).toBe(false);
  expect(voix.logs().slice(dndSince).find((log) => log.msg === 'do not disturb')).toMatchObject({ callee: '1002' });
  expect(voix.logs().slice(dndSince).some((log) => log.msg === 'ringing')).toBe(false);
  expect(refused).toMatchObject({ cause: 'busy', status: 486 });
  expect(refusedCdr).toMatchObject({ caller: '1001', callee: '1002', status: 486, cause: 'busy', by: 'callee' });

  // 2. 1003 in do-not-disturb with a busy forward to 1004: D rings instead of C.
  const fwdSince = voix.mark();
  const a2Since = a.mark();
  await dial(a, voix, '1003');
  await d.waitForEvent((e) => e.type === 'CALL_INCOMING', 10_000);
  await a.waitForEvent((e) => e.type === 'CALL_RINGING', 10_000, a2Since);
  const accepted = await d.command('accept');
  expect(accepted.ok, `accept: ${accepted.data}`).toBe(true);
  await d.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10_000);
  await a.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10_000, a2Since);
  const dSince = d.mark();
  expect((await a.command('hangup')).ok).toBe(true);
  await d.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, dSince);
  const ended = await waitForCallEnded(voix, fwdSince);
  const forwardedCdr = await lastCall(voix);

  const logs = voix.logs().slice(fwdSince);
  expect(logs.find((log) => log.msg === 'do not disturb')).toMatchObject({ callee: '1003' });
  expect(logs.find((log) => log.msg === 'call forwarded')).toMatchObject({ to: '1004', why: 'busy forward of 1003', by: '1003' });
  expect(logs.filter((log) => log.msg === 'ringing').map((log) => log['target'])).toEqual(['user 1004']);
  expect(ended).toMatchObject({ cause: 'normal', by: 'caller', status: 200 });
  expect(forwardedCdr).toMatchObject({ caller: '1001', callee: '1003', status: 200, cause: 'normal', by: 'caller' });

  // Neither phone in do-not-disturb ever got an INVITE or rang.
  for (const [label, phone] of [['B (1002)', b], ['C (1003)', c]] as const) {
    expect(phone.sipMessages().filter((m) => m.firstLine.startsWith('INVITE ')), `${label}: INVITEs received`).toEqual([]);
    expect(phone.events().some((e) => e.type === 'CALL_INCOMING'), `${label}: rang`).toBe(false);
  }
  await expectNoCallLeft(lab);
});
