import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { startSipp, startVoix, useHarness } from '../../harness/index.js';

useHarness();

const REGISTRAR = fileURLToPath(new URL('./uas-registrar-digest-expect-unregister.xml', import.meta.url));
const ACCOUNT = { username: '0140000000', authUsername: 'auth-0140', password: 'operator-e2e-secret-0140' } as const;

it.each(['udp', 'tcp'] as const)('TRUNK-REG-01: voix registers its trunk to a SIPp registrar with digest over %s, then unregisters on stop', async (transport) => {
  const provider = await startSipp({
    scenario: REGISTRAR,
    transport,
    calls: 1,
    keys: { user: ACCOUNT.authUsername, password: ACCOUNT.password },
    timeoutMs: 40_000,
  });
  const voix = await startVoix({
    config: {
      trunks: [
        {
          name: 'operator',
          host: '127.0.0.1',
          port: provider.localPort,
          transport,
          domain: 'operator.test',
          username: ACCOUNT.username,
          auth_username: ACCOUNT.authUsername,
          password: ACCOUNT.password,
          register: true,
          register_expires: 600,
        },
      ],
    },
  });

  const registered = await voix.waitForLog((log) => log.msg === 'trunk registered' && log['trunk'] === 'operator', 10_000);
  // The operator's view: `voix status` lists the trunk as registered (the server refreshes it every 5 s).
  let shown: unknown = null;
  for (let tries = 0; tries < 30 && shown === null; tries++) {
    const status = await voix.cli(['status', '--json']);
    const trunk = (JSON.parse(status.stdout) as { trunks?: Array<{ trunk: string; state: string }> }).trunks?.find((t) => t.trunk === 'operator');
    if (trunk?.state === 'registered') shown = trunk;
    else await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await voix.stop();
  const sipp = await provider.result();

  expect(registered).toMatchObject({ component: 'trunks', status: 200, expires: 120 });
  expect(shown).toMatchObject({ trunk: 'operator', state: 'registered', lastStatus: 200, failures: 0 });
  expect(sipp.logs).toContain('register asked expires=600');
  expect(sipp.logs).toContain(`register digest valid=true username="${ACCOUNT.authUsername}"`);
  expect(sipp.logs).toContain('unregister digest valid=true expires=0');
  expect(sipp, sipp.errors).toMatchObject({ exitCode: 0, successful: 1, failed: 0 });
  expect(sipp.messages).toContain('REGISTER sip:operator.test SIP/2.0');
  expect(sipp.messages).toContain(`From: <sip:${ACCOUNT.username}@operator.test>;tag=`);
  expect(sipp.messages).toContain(`To: <sip:${ACCOUNT.username}@operator.test>`);
  expect(sipp.messages).toMatch(new RegExp(`Contact: <sip:${ACCOUNT.username}@127\\.0\\.0\\.1:${voix.ports[transport]};transport=${transport}>`));
  expect(voix.logs().some((log) => log.msg === 'trunk unregistered' && log['trunk'] === 'operator')).toBe(true);
  expect(JSON.stringify(voix.logs())).not.toContain(ACCOUNT.password);
});
