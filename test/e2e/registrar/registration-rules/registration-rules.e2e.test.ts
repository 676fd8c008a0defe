import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { runSipp, startVoix, useHarness, type VoixServer } from '../../harness/index.js';

useHarness();

const SCENARIO = fileURLToPath(new URL('./uac-register-rules.xml', import.meta.url));

/** Status lines and Contact values of the responses in a SIPp message trace, in order. */
function responses(trace: string): Array<{ status: string; contacts: string[] }> {
  const out: Array<{ status: string; contacts: string[] }> = [];
  for (const block of trace.split(/message received[^\n]*\n/).slice(1)) {
    const lines = block.replace(/^\s+/, '').split(/\r?\n/);
    if (!(lines[0] ?? '').startsWith('SIP/2.0')) continue;
    const contacts: string[] = [];
    for (const line of lines.slice(1)) {
      if (line.trim() === '') break;
      if (/^contact:/i.test(line)) contacts.push(line.slice(line.indexOf(':') + 1).trim());
    }
    out.push({ status: lines[0] ?? '', contacts });
  }
  return out;
}

it('REG-RULES-01: 423 below min_expires, 403 above max_contacts, two contacts bound, Contact * removes all', async () => {
  const voix: VoixServer = await startVoix({
    config: { auth: { algorithms: ['MD5'] } },
    users: [{ extension: '1001', password: 'alice-e2e-secret-1001', transports: ['udp'], max_contacts: 2 }],
  });

  const run = await runSipp({
    scenario: SCENARIO,
    remote: `127.0.0.1:${voix.ports.udp}`,
    transport: 'udp',
    service: '1001',
    authUser: '1001',
    authPassword: 'alice-e2e-secret-1001',
    calls: 1,
    timeoutMs: 15_000,
  });
  const seen = responses(run.messages);
  const finals = seen.filter((r) => !r.status.startsWith('SIP/2.0 401'));
  const afterRun = await voix.cli(['registrations']);

  expect(run.exitCode, run.errors).toBe(0);
  expect(finals.map((r) => r.status)).toEqual([
    'SIP/2.0 423 Interval Too Brief',
    'SIP/2.0 403 Forbidden: at most 2 contacts',
    'SIP/2.0 200 OK',
    'SIP/2.0 200 OK',
  ]);
  expect(finals[2]?.contacts.map((c) => c.replace(/@[^>]*>/, '@…>'))).toEqual(['<sip:1001@…>;expires=120', '<sip:1001-desk@…>;expires=120']);
  expect(finals[3]?.contacts).toEqual([]);
  expect(afterRun.stdout).toContain('0 registration(s)');
});
