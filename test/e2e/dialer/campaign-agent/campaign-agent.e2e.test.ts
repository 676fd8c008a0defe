import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { startBaresip, useHarness, writeToneWav } from '../../harness/index.js';
import { calleeNumber } from '../callee-simulator.js';
import { exportCampaign, startDialerLab, voixCli, waitForCompleted, writeContacts } from '../dialer-helpers.js';

useHarness();

it('AUTO-AGENT-01: after the message, the called party reaches a voice menu, presses 1 and is put through to an agent (1002); the agent hangs up, voix ends the trunk leg', async () => {
  const lab = await startDialerLab({
    config: {
      menus: [{ number: '3000', name: 'Campagne', greeting: { text: 'Pour parler à un conseiller, tapez 1. Pour ne plus être appelé, tapez 9.' }, options: { '1': '1002' }, direct_dial: false }],
    },
    campaigns: [{ name: 'conseil', purpose: 'customer', message: { text: 'Bonjour.' }, connect: '3000' }],
  });
  const { voix, simulator } = lab;
  const tone = await writeToneWav(join(lab.dir, 'agent.wav'), { frequencyHz: 600, seconds: 20 });
  const recordDir = join(lab.dir, 'agent-recordings');
  await mkdir(recordDir, { recursive: true });
  const agent = await startBaresip({ account: voix.account('1002', 'udp'), audioSource: `aufile,${tone}`, recordDir });
  expect(await agent.waitForRegistration(10_000)).toMatchObject({ ok: true });

  const phone = calleeNumber('press-1', 1);
  await voixCli(voix, ['campaign', 'import', 'conseil', await writeContacts(lab, 'contacts.csv', [{ phone }])]);
  const since = voix.mark();
  await voixCli(voix, ['campaign', 'start', 'conseil']);

  await agent.waitForEvent((e) => e.type === 'CALL_INCOMING', 20_000);
  expect((await agent.command('accept')).ok).toBe(true);
  await agent.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10_000);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect((await agent.command('hangup')).ok).toBe(true);
  await waitForCompleted(voix, 'conseil', 20_000, since);

  const events = voix
    .logs()
    .slice(since)
    .filter((l) => ['put through', 'menu option', 'call transferred', 'dtmf'].includes(String(l.msg)))
    .map((l) => [l.msg, l['destination'] ?? l['key'] ?? l['digit'] ?? l['contact'] ?? null]);
  expect(events[0]).toEqual(['put through', '3000']);
  expect(events).toContainEqual(['menu option', '1']);
  expect(events.filter(([msg]) => msg === 'call transferred')).toHaveLength(1);
  const contact = (await exportCampaign(voix, 'conseil')).get(phone) as unknown as { result: string; resultDetail: string; attempts: unknown[] };
  expect(contact).toMatchObject({ result: 'answered', resultDetail: 'put through to 3000: normal, hung up by callee' });
  expect(contact.attempts).toHaveLength(1);
  // voix hung up the trunk leg once the agent did: the simulator got its BYE and failed nothing.
  expect((await simulator.stop()).failed).toBe(0);
});
