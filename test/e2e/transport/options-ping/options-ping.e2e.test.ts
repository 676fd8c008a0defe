import { expect, it } from 'vitest';
import { runProcess, startVoix, useHarness } from '../../harness/index.js';

useHarness();

/** The reply sipsak printed, headers after the status line, without those that name the request. */
function reply(stdout: string): { status: string; headers: string[] } {
  const start = stdout.indexOf('SIP/2.0 ');
  const lines = stdout.slice(start).split(/\r?\n/);
  const headers: string[] = [];
  for (const line of lines.slice(1)) {
    if (line.trim() === '') break;
    if (!/^(via|from|to|call-id|cseq):/i.test(line)) headers.push(line);
  }
  return { status: lines[0] ?? '', headers };
}

it('OPT-01: OPTIONS to an existing and to a missing extension get the same 200 with voix capabilities', async () => {
  const voix = await startVoix();

  const existing = await runProcess('sipsak', ['-vv', '-s', `sip:1001@127.0.0.1:${voix.ports.udp}`], { timeoutMs: 10_000 });
  const missing = await runProcess('sipsak', ['-vv', '-s', `sip:4242@127.0.0.1:${voix.ports.udp}`], { timeoutMs: 10_000 });
  const a = reply(existing.stdout);
  const b = reply(missing.stdout);

  expect(existing.code, existing.stdout + existing.stderr).toBe(0);
  expect(a.status).toBe('SIP/2.0 200 OK');
  expect(a.headers).toContain('Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, UPDATE, INFO');
  expect(a.headers).toContain('Accept: application/sdp');
  expect(a.headers.some((h) => h.startsWith('Supported:'))).toBe(true);
  expect(b).toEqual(a);
});
