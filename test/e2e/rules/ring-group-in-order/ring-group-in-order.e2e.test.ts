import { expect, it } from 'vitest';
import { traceStatus, useHarness } from '../../harness/index.js';
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
/** Ring time of each member: the minimum the config accepts. */
const RING_TIME_S = 5;

it('REGLES-GROUPE-02: an in-order group rings its members one after the other, each for ring_time, until one answers', async () => {
  const lab = await startCallLab({
    config: { groups: [{ number: '2000', name: 'Accueil', strategy: 'in_order', members: ['1002', '1003'], ring_time: RING_TIME_S }] },
  });
  const { voix } = lab;
  const a = await startTonePhone(lab, voix.account('1001', 'udp'), TONE_A_HZ);
  const b = await startTonePhone(lab, voix.account('1002', 'udp'), TONE_B_HZ);
  const c = await startTonePhone(lab, voix.account('1003', 'udp'), TONE_C_HZ);

  const since = voix.mark();
  await dial(a.phone, voix, '2000');
  await b.phone.waitForEvent((e) => e.type === 'CALL_INCOMING', 10_000);
  const bRangAt = Date.now();
  await a.phone.waitForEvent((e) => e.type === 'CALL_RINGING', 10_000);
  // C's turn comes once B has rung for ring_time: bounded a little above it.
  await c.phone.waitForEvent((e) => e.type === 'CALL_INCOMING', (RING_TIME_S + 5) * 1000);
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

  // voix's hunt: member 1002, then member 1003.
  const attempts = voix.logs().slice(since).filter((log) => log.msg === 'ringing');
  expect(attempts.map((log) => [log['attempt'], log['target'], log['contacts']])).toEqual([
    [1, 'group 2000, member 1002', 1],
    [2, 'group 2000, member 1003', 1],
  ]);
  // B rang alone for ring_time (not less), then was cancelled and never answered.
  expect(cRangAfter).toBeGreaterThanOrEqual((RING_TIME_S - 1) * 1000);
  const cancelToB = b.phone.sipMessages().find((m) => m.firstLine.startsWith('CANCEL '));
  expect(cancelToB?.source).toBe(`127.0.0.1:${voix.ports.udp}`);
  expect(finalInviteResponse(b.phone)?.firstLine).toMatch(/^SIP\/2\.0 487 /);
  expect(bClosed.type).toBe('CALL_CLOSED');
  expect(b.phone.events().some((e) => e.type === 'CALL_ESTABLISHED')).toBe(false);
  // C got exactly one INVITE (retransmissions aside): only its own turn.
  const invitesToC = new Set(c.phone.sipMessages().filter((m) => m.firstLine.startsWith('INVITE ')).map((m) => /^CSeq: (\d+)/m.exec(m.text)?.[1]));
  expect(invitesToC.size).toBe(1);
  // The caller saw the hunt as one ringing call: no final answer but the 200 (voix's digest challenge aside).
  const finalsToA = a.phone.sipMessages().filter((m) => {
    const status = traceStatus(m) ?? 0;
    return status >= 200 && status !== 401 && status !== 407 && /^CSeq: \d+ INVITE$/m.test(m.text.replace(/\r/g, ''));
  });
  expect(new Set(finalsToA.map((m) => traceStatus(m)))).toEqual(new Set([200]));
  // A talked with C.
  await expectHeardTone(a.recordDir, TONE_C_HZ, 1, 'A (1001) heard');
  await expectHeardTone(c.recordDir, TONE_A_HZ, 1, 'C (1003) heard');
  expect(ended).toMatchObject({ cause: 'normal', by: 'caller', status: 200 });
  expect(cdr).toMatchObject({ caller: '1001', callee: '2000', status: 200, cause: 'normal', by: 'caller' });
  await expectNoCallLeft(lab);
});
