import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { startCapture } from '../../harness/capture.js';
import { startBaresip, useHarness } from '../../harness/index.js';
import { rtpFlows } from '../../harness/rtp.js';
import {
  TONE_A_HZ,
  TONE_B_HZ,
  classifyFlows,
  establishCall,
  expectHeardTone,
  expectNoCallLeft,
  lastCall,
  letAudioFlow,
  relayPortsFromTraces,
  startCallLab,
  startTonePhone,
  waitForCallEnded,
} from '../../calls/call-helpers.js';

useHarness();

/** What `after` holds beyond `before`, when the only change is one insertion; null otherwise. */
function insertedText(before: string, after: string): string | null {
  let prefix = 0;
  while (prefix < before.length && before[prefix] === after[prefix]) prefix++;
  const suffix = before.length - prefix;
  return after.slice(0, prefix) + after.slice(after.length - suffix) === before ? after.slice(prefix, after.length - suffix) : null;
}

it('CONF-RELOAD-01: voix reload during an established call adds a user who can register, and the call keeps its media and ends with a BYE', async () => {
  const lab = await startCallLab();
  const { voix, media } = lab;
  const a = await startTonePhone(lab, voix.account('1001', 'udp'), TONE_A_HZ);
  const b = await startTonePhone(lab, voix.account('1002', 'udp'), TONE_B_HZ);
  const capture = await startCapture({ filter: `udp portrange ${media.portMin}-${media.portMax}` });
  await establishCall(a.phone, b.phone, voix, '1002');
  await letAudioFlow(1000);
  const fileBefore = await readFile(voix.configPath, 'utf8');

  // The operator adds a user to the file, then reloads.
  const added = await voix.cli(['user', 'add', '1004', '--transports', 'udp', '--json']);
  const fileAfter = await readFile(voix.configPath, 'utf8');
  const since = voix.mark();
  const reload = await voix.cli(['reload']);
  const reloadedAt = Date.now() / 1000;
  const reloadedLog = await voix.waitForLog((log) => log.msg === 'config reloaded', 5000, since);
  const { password } = JSON.parse(added.stdout) as { password: string };
  const c = await startBaresip({ account: { user: '1004', password, domain: `127.0.0.1:${voix.ports.udp}`, transport: 'udp' } });
  const registration = await c.waitForRegistration(10_000);
  const active = await voix.cli(['calls', '--json']);
  const status = await voix.cli(['status', '--json']);
  const registrations = await voix.cli(['registrations', '--json']);
  await letAudioFlow(2000);
  const callEnd = voix.mark();
  const bSince = b.phone.mark();
  expect((await a.phone.command('hangup')).ok).toBe(true);
  const bClosed = await b.phone.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, bSince);
  await waitForCallEnded(voix, callEnd);
  const cdr = await lastCall(voix);
  await capture.stop();

  // The file got the new entry and nothing else changed; the password was shown once, strong.
  expect(added.code, added.stderr).toBe(0);
  expect(password).toMatch(/^[A-Za-z2-9]{16,}$/);
  expect(insertedText(fileBefore, fileAfter)).toMatch(/^ *- extension: "1004"\n *password: "[A-Za-z2-9]+"\n *transports: \[udp\]\n$/);
  // The reload applied it, and the new user registers.
  expect(reload.code, reload.stderr).toBe(0);
  expect(reload.stdout).toContain('applied: users: added 1004');
  expect(reloadedLog).toMatchObject({ generation: 2, applied: ['users: added 1004'] });
  expect(registration).toMatchObject({ ok: true, status: '200 OK' });
  // The call is still there, answered; the other registrations too.
  expect(JSON.parse(active.stdout)).toEqual([expect.objectContaining({ caller: '1001', callee: '1002', answeredAt: expect.any(String), endedAt: null })]);
  expect(JSON.parse(status.stdout)).toMatchObject({ running: true, generation: 2, activeCalls: 1, lastReload: { status: 'applied' } });
  expect((JSON.parse(registrations.stdout) as { extension: string }[]).map((r) => r.extension).sort()).toEqual(['1001', '1002', '1004']);
  // Media kept flowing through the relay after the reload, both ways, and each phone heard the other.
  const flows = classifyFlows(rtpFlows(await capture.udp()), relayPortsFromTraces(a.phone, b.phone));
  for (const direction of ['voixToCallee', 'voixToCaller'] as const) {
    const afterReload = flows[direction]?.packets.filter((p) => p.time > reloadedAt).length ?? 0;
    expect(afterReload, `${direction}: RTP packets after the reload`).toBeGreaterThan(50);
  }
  await expectHeardTone(a.recordDir, TONE_B_HZ, 2.5, 'A (1001) heard');
  await expectHeardTone(b.recordDir, TONE_A_HZ, 2.5, 'B (1002) heard');
  // The BYE still works: B saw the end, the CDR says a normal end by the caller.
  expect(bClosed.param).toMatch(/reset by peer/i);
  expect(cdr).toMatchObject({ caller: '1001', callee: '1002', status: 200, cause: 'normal', by: 'caller' });
  await expectNoCallLeft(lab);
});
