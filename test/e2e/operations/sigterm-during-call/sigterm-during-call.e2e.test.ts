import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { RawSipConnection, getFreePort, probeRequest, runSipp, sendRaw, startSipp, useHarness } from '../../harness/index.js';
import { TONE_A_HZ, dial, lastCall, letAudioFlow, startCallLab, startTonePhone } from '../../calls/call-helpers.js';

useHarness();

const HERE = dirname(fileURLToPath(import.meta.url));
/** server.shutdown_grace of the case: short enough for a test, long enough to cover the callee's 3 s wait. */
const GRACE_SECONDS = 10;

it('OPS-SIGTERM-01: SIGTERM during a call: new requests get 503, both phones get a BYE, the CDR is written, voix exits within the grace', async () => {
  const lab = await startCallLab({ config: { auth: { algorithms: ['MD5'] }, server: { shutdown_grace: GRACE_SECONDS } } });
  const { voix } = lab;
  const remote = `127.0.0.1:${voix.ports.udp}`;
  const calleePassword = voix.users.find((u) => u.extension === '1002')?.password ?? '';
  // The callee: SIPp registers 1002, then answers calls on the same port and takes 3 s to answer a BYE.
  const calleePort = await getFreePort();
  const registration = await runSipp({ scenario: join(HERE, 'uac-register-expect-200.xml'), remote, service: '1002', authUser: '1002', authPassword: calleePassword, localPort: calleePort, calls: 1, timeoutMs: 10_000 });
  expect(registration.exitCode, registration.errors).toBe(0);
  const callee = await startSipp({ scenario: join(HERE, 'uas-answer-then-answer-bye-after-pause.xml'), localPort: calleePort, calls: 1, timeoutMs: 30_000 });
  const caller = await startTonePhone(lab, voix.account('1001', 'udp'), TONE_A_HZ);
  const callerSince = caller.phone.mark();
  await dial(caller.phone, voix, '1002');
  await caller.phone.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10_000, callerSince);
  await letAudioFlow(1000);

  const since = voix.mark();
  voix.process.signal('SIGTERM');
  await voix.waitForLog((l) => l.msg === 'stopping' && l['signal'] === 'SIGTERM', 5000, since);
  await voix.waitForLog((l) => l.msg === 'stopping: refusing new requests, ending calls', 5000, since);
  // While voix waits for the callee's answer to its BYE: a new request gets 503, a new TCP connection is refused.
  const options = await sendRaw(
    { transport: 'udp', host: '127.0.0.1', port: voix.ports.udp },
    probeRequest({ transport: 'udp', localAddress: '127.0.0.1', localPort: 5060, host: '127.0.0.1', port: voix.ports.udp, callId: 'during-shutdown' }),
    { viaToLocal: true, timeoutMs: 2000 },
  );
  const tcp = await RawSipConnection.open({ transport: 'tcp', host: '127.0.0.1', port: voix.ports.tcp }).then(
    (connection) => {
      connection.close();
      return 'connected';
    },
    (error: unknown) => String(error),
  );
  const callerClosed = await caller.phone.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, callerSince);
  // Exits by itself within the grace (bounded wait; the harness would kill it only after).
  const exit = await voix.process.waitForExit(GRACE_SECONDS * 1000);
  const calleeResult = await callee.result(10_000);
  const cdr = await lastCall(voix);
  const status = await voix.cli(['status']);

  expect(options.responses.map((r) => r.statusCode)).toEqual([503]);
  expect(options.responses[0]?.text).toMatch(/^Retry-After: 5\r?$/m);
  expect(tcp).toMatch(/ECONNREFUSED/);
  expect(callerClosed.type).toBe('CALL_CLOSED');
  expect(calleeResult.messages).toMatch(/^BYE sip:/m);
  expect(calleeResult.exitCode, calleeResult.errors).toBe(0);
  expect(exit).toEqual({ code: 0, signal: null });
  expect(voix.logs().some((l) => l.msg === 'stopping: grace time reached, closing anyway')).toBe(false);
  expect(voix.logs().find((l) => l.msg === 'stopped')).toMatchObject({ calls: 1 });
  expect(cdr).toMatchObject({ caller: '1001', callee: '1002', status: 200, cause: 'server-stopped', by: 'voix' });
  expect(cdr.media?.caller.received ?? 0).toBeGreaterThan(10);
  expect(status.code).toBe(3);
  expect(status.stdout).toMatch(/voix is not running: it stopped at/);
});
