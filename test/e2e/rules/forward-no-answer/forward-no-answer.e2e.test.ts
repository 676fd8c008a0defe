import { expect, it } from 'vitest';
import { DEFAULT_USERS, traceHeader, traceStatus, useHarness, type VoixUser } from '../../harness/index.js';
import {
  TONE_A_HZ,
  TONE_B_HZ,
  dial,
  expectHeardTone,
  expectNoCallLeft,
  finalInviteResponse,
  lastCall,
  letAudioFlow,
  startCallLab,
  startTonePhone,
  waitForCallEnded,
} from '../../calls/call-helpers.js';

useHarness();

/** C's tone: apart from A's (1000 Hz) and B's (440 Hz), so A's recording says who answered. */
const TONE_C_HZ = 700;
/** forward.no_answer_after: the minimum the config accepts. */
const NO_ANSWER_AFTER_S = 5;
const USERS: readonly VoixUser[] = DEFAULT_USERS.map((user) =>
  user.extension === '1002' ? { ...user, forward: { no_answer: '1003', no_answer_after: NO_ANSWER_AFTER_S } } : user,
);

it('REGLES-RENVOI-01: nobody answers at 1002: after no_answer_after the call goes to its forward, 1003, which answers', async () => {
  const lab = await startCallLab({ users: USERS });
  const { voix } = lab;
  const a = await startTonePhone(lab, voix.account('1001', 'udp'), TONE_A_HZ);
  const b = await startTonePhone(lab, voix.account('1002', 'udp'), TONE_B_HZ);
  const c = await startTonePhone(lab, voix.account('1003', 'udp'), TONE_C_HZ);

  const since = voix.mark();
  await dial(a.phone, voix, '1002');
  await b.phone.waitForEvent((e) => e.type === 'CALL_INCOMING', 10_000);
  const bRangAt = Date.now();
  await a.phone.waitForEvent((e) => e.type === 'CALL_RINGING', 10_000);
  // The forward rings once B has rung for no_answer_after: bounded a little above it.
  await c.phone.waitForEvent((e) => e.type === 'CALL_INCOMING', (NO_ANSWER_AFTER_S + 5) * 1000);
  const cRangAfter = Date.now() - bRangAt;
  const bClosed = await b.phone.waitForEvent((e) => e.type === 'CALL_CLOSED', 5000);

  const accepted = await c.phone.command('accept');
  expect(accepted.ok, `accept: ${accepted.data}`).toBe(true);
  await c.phone.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10_000);
  await a.phone.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10_000);

  await letAudioFlow(1500);
  const cSince = c.phone.mark();
  expect((await a.phone.command('hangup')).ok).toBe(true);
  await c.phone.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, cSince);
  const ended = await waitForCallEnded(voix, since);
  const cdr = await lastCall(voix);

  // voix's hunt: 1002, then its no-answer forward.
  const logs = voix.logs().slice(since);
  expect(logs.filter((log) => log.msg === 'ringing').map((log) => [log['attempt'], log['target']])).toEqual([
    [1, 'user 1002'],
    [2, 'user 1003'],
  ]);
  expect(logs.find((log) => log.msg === 'call forwarded')).toMatchObject({ to: '1003', why: 'no-answer forward of 1002', by: '1002' });
  // B rang alone for no_answer_after (not less), then was cancelled and never answered.
  expect(cRangAfter).toBeGreaterThanOrEqual((NO_ANSWER_AFTER_S - 1) * 1000);
  const cancelToB = b.phone.sipMessages().find((m) => m.firstLine.startsWith('CANCEL '));
  expect(cancelToB?.source).toBe(`127.0.0.1:${voix.ports.udp}`);
  expect(finalInviteResponse(b.phone)?.firstLine).toMatch(/^SIP\/2\.0 487 /);
  expect(bClosed.type).toBe('CALL_CLOSED');
  expect(b.phone.events().some((e) => e.type === 'CALL_ESTABLISHED')).toBe(false);
  // C sees the call coming from A.
  const inviteToC = c.phone.sipMessages().find((m) => m.firstLine.startsWith('INVITE '));
  expect(traceHeader(inviteToC!, 'From')).toMatch(/<sip:1001@voix\.test>/);
  // The caller saw one ringing call: no final answer but the 200 (voix's digest challenge aside).
  const finalsToA = a.phone.sipMessages().filter((m) => {
    const status = traceStatus(m) ?? 0;
    return status >= 200 && status !== 401 && status !== 407 && /^CSeq: \d+ INVITE$/m.test(m.text.replace(/\r/g, ''));
  });
  expect(new Set(finalsToA.map((m) => traceStatus(m)))).toEqual(new Set([200]));
  // A talked with C.
  await expectHeardTone(a.recordDir, TONE_C_HZ, 1, 'A (1001) heard');
  await expectHeardTone(c.recordDir, TONE_A_HZ, 1, 'C (1003) heard');
  expect(ended).toMatchObject({ cause: 'normal', by: 'caller', status: 200 });
  expect(cdr).toMatchObject({ caller: '1001', callee: '1002', status: 200, cause: 'normal', by: 'caller' });
  await expectNoCallLeft(lab);
});
