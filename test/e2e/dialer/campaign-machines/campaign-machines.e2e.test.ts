import { expect, it } from 'vitest';
import { useHarness } from '../../harness/index.js';
import { calleeNumber } from '../callee-simulator.js';
import { exportCampaign, startDialerLab, voixCli, waitForCompleted, writeContacts } from '../dialer-helpers.js';

useHarness();

it('AUTO-REPONDEUR-01: with answering-machine detection, a voicemail greeting is hung up on (or gets the message) and a person who says "Allô ?" hears the message', async () => {
  const lab = await startDialerLab({
    campaigns: [
      { name: 'raccrocher', purpose: 'customer', calls_per_second: 5, answering_machine: 'hangup' },
      { name: 'deposer', purpose: 'customer', calls_per_second: 5, answering_machine: 'message' },
    ],
  });
  const { voix, simulator } = lab;
  const hangup = [calleeNumber('machine', 1), calleeNumber('machine', 2), calleeNumber('person', 1), calleeNumber('person', 2)];
  const leave = [calleeNumber('machine', 11), calleeNumber('person', 11)];
  await voixCli(voix, ['campaign', 'import', 'raccrocher', await writeContacts(lab, 'raccrocher.csv', hangup.map((phone) => ({ phone })))]);
  await voixCli(voix, ['campaign', 'import', 'deposer', await writeContacts(lab, 'deposer.csv', leave.map((phone) => ({ phone })))]);
  await voixCli(voix, ['campaign', 'start', 'raccrocher']);
  await voixCli(voix, ['campaign', 'start', 'deposer']);
  await waitForCompleted(voix, 'raccrocher', 60_000);
  await waitForCompleted(voix, 'deposer', 60_000);

  const first = await exportCampaign(voix, 'raccrocher');
  const second = await exportCampaign(voix, 'deposer');
  const summary = (c: { result: string | null; attempts: ReadonlyArray<{ outcome: string | null }> } | undefined) => [c?.result, c?.attempts.length];
  expect(hangup.map((phone) => summary(first.get(phone)))).toEqual([
    ['machine', 1],
    ['machine', 1],
    ['answered', 1],
    ['answered', 1],
  ]);
  expect(leave.map((phone) => summary(second.get(phone)))).toEqual([
    ['machine', 1],
    ['answered', 1],
  ]);
  const verdicts = voix.logs().filter((l) => l.msg === 'answering machine detection');
  expect(verdicts.filter((l) => l['verdict'] === 'machine')).toHaveLength(3);
  expect(verdicts.filter((l) => l['verdict'] === 'human')).toHaveLength(3);
  // A machine in hang-up mode is hung up on at once: no message played; in message mode it gets the message.
  const ended = voix.logs().filter((l) => l.msg === 'call ended');
  const detailOf = (phone: string) => ended.find((l) => String(l['callee']).endsWith(phone))?.['detail'];
  expect(detailOf(hangup[0]!)).toMatch(/^answering machine \((long-greeting|many-words)\): hung up$/);
  expect(detailOf(leave[0]!)).toMatch(/^answering machine \((long-greeting|many-words)\): message left$/);
  expect(detailOf(hangup[2]!)).toBe('message played');
  expect((await simulator.stop()).failed).toBe(0);
});
