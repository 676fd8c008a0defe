import { expect, it } from 'vitest';
import { useHarness } from '../../harness/index.js';
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

it('REGLES-GROUPE-01: a simultaneous group rings every member; the first to answer gets the call, the others are cancelled', async () => {
  const lab = await startCallLab({
    config: { groups: [{ number: '2000', name: 'Accueil', strategy: 'simultaneous', members: ['1002', '1003'], ring_time: 20 }] },
  });
  const { voix } = lab;
  const a = await startTonePhone(lab, voix.account('1001', 'udp'), TONE_A_HZ);
  const b = await startTonePhone(lab, voix.account('1002', 'udp'), TONE_B_HZ);
  const c = await startTonePhone(lab, voix.account('1003', 'udp'), TONE_C_HZ);

  const since = voix.mark();
  await dial(a.phone, voix, '2000');
  // Both members ring at once.
  await Promise.all([
    b.phone.waitForEvent((e) => e.type === 'CALL_INCOMING', 10_000),
    c.phone.waitForEvent((e) => e.type === 'CALL_INCOMING', 10_000),
    a.phone.waitForEvent((e) => e.type === 'CALL_RINGING', 10_000),
  ]);
  const ringing = await voix.waitForLog((log) => log.msg === 'ringing', 5000, since);

  const accepted = await c.phone.command('accept');
  expect(accepted.ok, `accept: ${accepted.data}`).toBe(true);
  await c.phone.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10_000);
  await a.phone.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10_000);
  // B stops ringing: voix cancels its INVITE.
  const bClosed = await b.phone.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000);

  await letAudioFlow(1500);
  const cSince = c.phone.mark();
  expect((await a.phone.command('hangup')).ok).toBe(true);
  const cClosed = await c.phone.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, cSince);
  const ended = await waitForCallEnded(voix, since);
  const cdr = await lastCall(voix);

  // One attempt: the whole group, both phones.
  expect(ringing).toMatchObject({ attempt: 1, target: 'group 2000', contacts: 2 });
  expect(voix.logs().slice(since).filter((log) => log.msg === 'ringing')).toHaveLength(1);
  // B: INVITE, then CANCEL from voix, answered 487, never established.
  const cancelToB = b.phone.sipMessages().find((m) => m.firstLine.startsWith('CANCEL '));
  expect(cancelToB?.source).toBe(`127.0.0.1:${voix.ports.udp}`);
  expect(finalInviteResponse(b.phone)?.firstLine).toMatch(/^SIP\/2\.0 487 /);
  expect(bClosed.type).toBe('CALL_CLOSED');
  expect(b.phone.events().some((e) => e.type === 'CALL_ESTABLISHED')).toBe(false);
  // A talked with C, not with B.
  expect(cClosed.param).toMatch(/reset by peer/i);
  await expectHeardTone(a.recordDir, TONE_C_HZ, 1, 'A (1001) heard');
  await expectHeardTone(c.recordDir, TONE_A_HZ, 1, 'C (1003) heard');
  expect(ended).toMatchObject({ cause: 'normal', by: 'caller', status: 200 });
  expect(cdr).toMatchObject({ caller: '1001', callee: '2000', status: 200, cause: 'normal', by: 'caller' });
  expect(cdr.media?.caller.received ?? 0).toBeGreaterThan(25);
  expect(cdr.media?.callee.received ?? 0).toBeGreaterThan(25);
  await expectNoCallLeft(lab);
});
