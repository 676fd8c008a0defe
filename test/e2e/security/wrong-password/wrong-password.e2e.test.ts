import { expect, it } from 'vitest';
import { startBaresip, startVoix, useHarness } from '../../harness/index.js';

useHarness();

it('SEC-AUTH-01: a wrong password gets 401 and no binding', async () => {
  const voix = await startVoix({ config: { security: { ban: { max_failures: 50 } } } });
  const phone = await startBaresip({ account: { ...voix.account('1001', 'udp'), password: 'this-is-not-the-password' } });

  const registration = await phone.waitForRegistration(15_000);
  const listing = await voix.cli(['registrations']);
  const failures = voix.logs().filter((l) => l.msg === 'security');

  expect(registration).toMatchObject({ ok: false, status: '401 Unauthorized' });
  expect(listing.stdout).toContain('0 registration(s)');
  expect(failures.length).toBeGreaterThan(0);
  for (const line of failures) expect(line).toMatchObject({ level: 'warn', event: 'auth_failed', src: '127.0.0.1', user: '1001', method: 'REGISTER' });
});
