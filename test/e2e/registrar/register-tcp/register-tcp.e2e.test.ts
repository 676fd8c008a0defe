import { expect, it } from 'vitest';
import { startBaresip, startVoix, useHarness } from '../../harness/index.js';

useHarness();

it('REG-TCP-01: baresip registers over TCP and voix lists the binding', async () => {
  const voix = await startVoix();
  const phone = await startBaresip({ account: voix.account('1002', 'tcp') });

  const registration = await phone.waitForRegistration(10_000);
  const listing = await voix.cli(['registrations']);

  expect(registration).toMatchObject({ ok: true, status: '200 OK' });
  expect(listing.stdout).toMatch(/^1002\s+TCP\s+127\.0\.0\.1:\d+\s/m);
});
