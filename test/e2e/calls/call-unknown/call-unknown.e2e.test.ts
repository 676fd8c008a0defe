import { expect, it } from 'vitest';
import { startBaresip, useHarness } from '../../harness/index.js';
import { dial, expectNoCallLeft, finalInviteResponse, startCallLab } from '../call-helpers.js';

useHarness();

it('APPEL-INCONNU-01: a call to an extension that does not exist gets 404 Not Found', async () => {
  const lab = await startCallLab();
  const { voix } = lab;
  const a = await startBaresip({ account: voix.account('1001', 'udp') });
  await a.waitForRegistration(10_000);

  await dial(a, voix, '1999');
  const aClosed = await a.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000);
  const logged = await voix.waitForLog((log) => log.msg === 'call not routed', 5000);
  const security = await voix.waitForLog((log) => log.msg === 'security' && log['event'] === 'call_refused', 5000);
  const recent = await voix.cli(['calls', '--recent', '5']);

  expect(finalInviteResponse(a)?.firstLine).toBe('SIP/2.0 404 Not Found');
  expect(aClosed.param).toMatch(/^404 /);
  expect(logged).toMatchObject({ caller: '1001', status: 404 });
  // 1999 is neither a local number nor in a range of the French plan: refused, and a security line says so.
  expect(security).toMatchObject({ src: '127.0.0.1', user: '1001', dialled: '1999', category: 'unknown' });
  // Refused before any call was set up: no CDR, no relay.
  expect(recent.stdout).toContain('0 call(s)');
  await expectNoCallLeft(lab);
});
