import { expect, it } from 'vitest';
import { useHarness } from '../../harness/index.js';
import {
  TONE_A_HZ,
  TONE_B_HZ,
  establishCall,
  expectNoCallLeft,
  lastCall,
  letAudioFlow,
  startCallLab,
  startTonePhone,
  waitForCallEnded,
} from '../call-helpers.js';

useHarness();

it('APPEL-RACCROCHE-02: the callee hangs up: the caller sees the call closed, the CDR says hung up by the callee', async () => {
  const lab = await startCallLab();
  const { voix } = lab;
  const a = await startTonePhone(lab, voix.account('1001', 'udp'), TONE_A_HZ);
  const b = await startTonePhone(lab, voix.account('1002', 'udp'), TONE_B_HZ);

  await establishCall(a.phone, b.phone, voix, '1002');
  await letAudioFlow(1000);
  const since = voix.mark();
  const aSince = a.phone.mark();
  const aSipSince = a.phone.sipMark();
  expect((await b.phone.command('hangup')).ok).toBe(true);
  const aClosed = await a.phone.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, aSince);
  await waitForCallEnded(voix, since);
  const cdr = await lastCall(voix);

  // The BYE A received comes from voix (its own dialog with A), not from B.
  const byeToA = await a.phone.waitForSipMessage((m) => m.firstLine.startsWith('BYE '), 5000, aSipSince);
  expect(byeToA.source).toBe(`127.0.0.1:${voix.ports.udp}`);
  expect(aClosed.param).toMatch(/reset by peer/i);
  expect(cdr).toMatchObject({ caller: '1001', callee: '1002', status: 200, cause: 'normal', by: 'callee' });
  expect(cdr.media?.caller.received ?? 0).toBeGreaterThan(0);
  expect(cdr.media?.callee.received ?? 0).toBeGreaterThan(0);
  await expectNoCallLeft(lab);
});
