import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { runSipp, startVoix, useHarness, type VoixServer } from '../../harness/index.js';

useHarness();

const SCENARIO = fileURLToPath(new URL('./uac-register-wrong-credentials-expect-401.xml', import.meta.url));

/** The responses of a SIPp message trace, each as [status line, header names in order, normalized header values]. */
function responsesOf(trace: string): Array<{ status: string; names: string[]; values: string[] }> {
  const out: Array<{ status: string; names: string[]; values: string[] }> = [];
  for (const block of trace.split(/message received[^\n]*\n/).slice(1)) {
    const text = block.replace(/^\s+/, '');
    const lines = text.split(/\r?\n/);
    const status = lines[0] ?? '';
    if (!status.startsWith('SIP/2.0')) continue;
    const names: string[] = [];
    const values: string[] = [];
    for (const line of lines.slice(1)) {
      if (line.trim() === '') break;
      const colon = line.indexOf(':');
      const name = line.slice(0, colon);
      names.push(name);
      // What legitimately differs per exchange: ids chosen by the client, tags and nonces chosen by voix.
      if (!/^(via|from|to|call-id|contact)$/i.test(name)) values.push(`${name}:${line.slice(colon + 1).replace(/nonce="[^"]*"/, 'nonce="*"')}`);
    }
    out.push({ status, names, values });
  }
  return out;
}

async function exchange(voix: VoixServer, transport: 'udp' | 'tcp', user: string, password: string) {
  const result = await runSipp({
    scenario: SCENARIO,
    remote: `127.0.0.1:${transport === 'udp' ? voix.ports.udp : voix.ports.tcp}`,
    transport,
    service: user,
    authUser: user,
    authPassword: password,
    calls: 1,
    timeoutMs: 15_000,
  });
  expect(result.exitCode, result.errors).toBe(0);
  return responsesOf(result.messages);
}

it.each(['udp', 'tcp'] as const)('SEC-ENUM-01: an unknown user and a wrong password get indistinguishable answers over %s', async (transport) => {
  const voix = await startVoix({ config: { auth: { algorithms: ['MD5'] }, security: { ban: { max_failures: 10 } } } });

  const wrongPassword = await exchange(voix, transport, '1001', 'not-the-right-password');
  const unknownUser = await exchange(voix, transport, '9999', 'not-the-right-password');
  const events = (await voix.waitForLog((l) => l.msg === 'security' && l['event'] === 'unknown_user', 5000)) && voix.logs().filter((l) => l.msg === 'security').map((l) => [l['event'], l['user']]);

  expect(wrongPassword.map((r) => r.status)).toEqual(['SIP/2.0 401 Unauthorized', 'SIP/2.0 401 Unauthorized']);
  expect(unknownUser).toEqual(wrongPassword);
  expect(events).toEqual([
    ['auth_failed', '1001'],
    ['unknown_user', '9999'],
  ]);
});
