import { expect, it } from 'vitest';
import { startBaresip, startVoix, useHarness } from '../../harness/index.js';

useHarness();

it('REG-PERSIST-01: a binding survives a restart of voix', async () => {
  const voix = await startVoix();
  const phone = await startBaresip({ account: voix.account('1002', 'udp') });
  await phone.waitForRegistration(10_000);

  await voix.stop();
  const whileStopped = await voix.cli(['registrations']);
  await voix.restart();
  const ready = await voix.waitForLog((l) => l.msg === 'ready', 10_000);
  const afterRestart = await voix.cli(['registrations']);

  expect(whileStopped.stdout).toMatch(/^1002\s+UDP\s/m);
  expect(ready).toMatchObject({ registrations: 1 });
  expect(afterRestart.stdout).toMatch(/^1002\s+UDP\s/m);
});
