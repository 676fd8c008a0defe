import { expect, it } from 'vitest';
import { startBaresip, startVoix, useHarness } from '../../harness/index.js';

useHarness();

it('REG-UNREG-01: baresip unregisters and voix forgets the binding', async () => {
  const voix = await startVoix();
  const phone = await startBaresip({ account: voix.account('1001', 'udp') });
  await phone.waitForRegistration(10_000);
  const before = await voix.cli(['registrations']);

  const since = voix.mark();
  const outcome = await phone.unregister();
  const logged = await voix.waitForLog((l) => l.msg === 'unregistered' && l['aor'] === '1001', 5000, since);
  const after = await voix.cli(['registrations']);

  expect(before.stdout).toContain('1 registration(s)');
  expect(outcome.status).toBe('200 OK');
  expect(logged).toBeDefined();
  expect(after.stdout).toContain('0 registration(s)');
});
