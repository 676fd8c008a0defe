import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { startBaresip, useHarness, writeToneWav } from '../../harness/index.js';
import { calleeNumber } from '../callee-simulator.js';
import { exportCampaign, ms, startDialerLab, voixCli, waitForCompleted, writeContacts } from '../dialer-helpers.js';

useHarness();

const CONTACTS = 3;

it('AUTO-PROGRESSIF-01: a progressive campaign dials nobody while its agent is not registered, then one call at a time, each put through to the agent', async () => {
  const lab = await startDialerLab({
    campaigns: [{ name: 'progressif', purpose: 'customer', calls_per_second: 5, max_calls: 5, message: { text: 'Bonjour.' }, connect: '1002', progressive: true }],
  });
  const { voix, simulator } = lab;
  const phones = Array.from({ length: CONTACTS }, (_, i) => calleeNumber('answer', i + 1));
  await voixCli(voix, ['campaign', 'import', 'progressif', await writeContacts(lab, 'contacts.csv', phones.map((phone) => ({ phone })))]);
  await voixCli(voix, ['campaign', 'start', 'progressif']);
  await new Promise((resolve) => setTimeout(resolve, 2500));
  expect([...(await exportCampaign(voix, 'progressif')).values()].flatMap((c) => c.attempts), 'no agent registered: nobody is dialled').toEqual([]);

  const tone = await writeToneWav(join(lab.dir, 'agent.wav'), { frequencyHz: 600, seconds: 30 });
  const recordDir = join(lab.dir, 'agent-recordings');
  await mkdir(recordDir, { recursive: true });
  const agent = await startBaresip({ account: voix.account('1002', 'udp'), audioSource: `aufile,${tone}`, recordDir });
  expect(await agent.waitForRegistration(10_000)).toMatchObject({ ok: true });
  for (let i = 0; i < CONTACTS; i++) {
    const since = agent.mark();
    await agent.waitForEvent((e) => e.type === 'CALL_INCOMING', 20_000, since);
    expect((await agent.command('accept')).ok).toBe(true);
    await agent.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10_000, since);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await agent.command('hangup')).ok).toBe(true);
    await agent.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, since);
  }
  await waitForCompleted(voix, 'progressif', 20_000);

  const contacts = await exportCampaign(voix, 'progressif');
  const attempts = phones.map((phone) => {
    const contact = contacts.get(phone) as unknown as { result: string; resultDetail: string; attempts: Array<{ startedAt: string; endedAt: string }> };
    expect(contact).toMatchObject({ result: 'answered', resultDetail: 'put through to 1002: normal, hung up by callee' });
    expect(contact.attempts).toHaveLength(1);
    return { start: ms(contact.attempts[0]!.startedAt), end: ms(contact.attempts[0]!.endedAt) };
  });
  attempts.sort((a, b) => a.start - b.start);
  // One agent: each call starts only once the previous one is over.
  for (let i = 1; i < attempts.length; i++) expect(attempts[i]!.start).toBeGreaterThanOrEqual(attempts[i - 1]!.end);
  expect((await simulator.stop()).failed).toBe(0);
});
