import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { runSipp, startVoix, useHarness } from '../../harness/index.js';

useHarness();

const SCENARIO = fileURLToPath(new URL('./uac-register-digest-expect-200.xml', import.meta.url));

it.each(['udp', 'tcp'] as const)('REG-SIPP-01: SIPp registers with digest over %s', async (transport) => {
  const voix = await startVoix({ config: { auth: { algorithms: ['MD5'] } } });
  const user = voix.users[0]!;

  const result = await runSipp({
    scenario: SCENARIO,
    remote: `127.0.0.1:${transport === 'udp' ? voix.ports.udp : voix.ports.tcp}`,
    transport,
    service: user.extension,
    authUser: user.extension,
    authPassword: user.password,
    calls: 1,
    timeoutMs: 15_000,
  });

  expect(result.exitCode, result.errors).toBe(0);
  expect(result.successful).toBe(1);
  expect(result.messages).toMatch(/SIP\/2\.0 401 Unauthorized[\s\S]*WWW-Authenticate: Digest realm="voix\.test"[\s\S]*SIP\/2\.0 200 OK/);
});
