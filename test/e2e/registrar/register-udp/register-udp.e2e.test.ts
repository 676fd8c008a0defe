import { expect, it } from 'vitest';
import { startBaresip, startVoix, useHarness } from '../../harness/index.js';

useHarness();

it('REG-UDP-01: baresip registers over UDP with its password and voix lists the binding', async () => {
  const voix = await startVoix();
  const phone = await startBaresip({ account: voix.account('1001', 'udp') });

  const registration = await phone.waitForRegistration(10_000);
  const listing = await voix.cli(['registrations']);

  expect(registration).toMatchObject({ ok: true, status: '200 OK' });
  expect(listing.code).toBe(0);
  expect(listing.stdout).toMatch(/^1001\s+UDP\s+127\.0\.0\.1:\d+\s/m);
  expect(listing.stdout).toContain('1 registration(s)');
});
