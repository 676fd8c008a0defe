import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { getFreePort, runSipp, useHarness } from '../../harness/index.js';
import { TONE_A_HZ, TONE_B_HZ, establishCall, expectNoCallLeft, startCallLab, startTonePhone, waitForCallEnded } from '../../calls/call-helpers.js';

useHarness();

const HERE = dirname(fileURLToPath(import.meta.url));
const LIMIT_PER_SECOND = 50;
const FLOOD_CALLS = 1000;
const FLOOD_RATE = 500;

/** The final responses SIPp received, by status, read from its message trace. */
function finalStatuses(trace: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const match of trace.matchAll(/^SIP\/2\.0 ([2-6]\d\d) /gm)) {
    const status = Number(match[1]);
    counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  return counts;
}

/** Polls GET /health until it says `ok` (bounded): voix no longer refuses new requests. */
async function waitForHealthOk(base: string, timeoutMs: number): Promise<string[]> {
  const seen: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const body = (await (await fetch(`${base}/health`)).json()) as { status: string };
    if (seen[seen.length - 1] !== body.status) seen.push(body.status);
    if (body.status === 'ok') return seen;
    if (Date.now() > deadline) throw new Error(`/health still says ${body.status} after ${timeoutMs} ms (seen: ${seen.join(', ')})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

it('OPS-OVERLOAD-01: a SIPp INVITE flood beyond the limit gets 503 with Retry-After, and a normal call succeeds right after', async () => {
  const adminPort = await getFreePort('127.0.0.1');
  const lab = await startCallLab({
    config: { overload: { max_requests_per_second: LIMIT_PER_SECOND }, admin: { listen: { address: '127.0.0.1', port: adminPort } } },
  });
  const { voix } = lab;
  const base = `http://127.0.0.1:${adminPort}`;
  const a = await startTonePhone(lab, voix.account('1001', 'udp'), TONE_A_HZ);
  const b = await startTonePhone(lab, voix.account('1002', 'udp'), TONE_B_HZ);

  const flood = await runSipp({
    scenario: join(HERE, 'uac-invite-flood-expect-407-or-503.xml'),
    remote: `127.0.0.1:${voix.ports.udp}`,
    service: '1002',
    calls: FLOOD_CALLS,
    rate: FLOOD_RATE,
    timeoutMs: 30_000,
  });
  // The flood is over: voix says so on /health within a second or so (no refusal for a second), and the next call goes through.
  const health = await waitForHealthOk(base, 5000);
  await establishCall(a.phone, b.phone, voix, '1002');
  const since = voix.mark();
  expect((await a.phone.command('hangup')).ok).toBe(true);
  const ended = await waitForCallEnded(voix, since);
  const metrics = await (await fetch(`${base}/metrics`)).text();

  const statuses = finalStatuses(flood.messages);
  const refused = statuses.get(503) ?? 0;
  const challenged = statuses.get(407) ?? 0;
  expect(flood.exitCode, flood.errors).toBe(0);
  expect(flood.successful).toBe(FLOOD_CALLS);
  expect(refused + challenged).toBe(FLOOD_CALLS);
  // Most of the flood is refused: what passes is the limit's share of a flood ten times faster.
  expect(refused).toBeGreaterThan(FLOOD_CALLS / 2);
  expect(challenged).toBeGreaterThan(0);
  const first503 = /^SIP\/2\.0 503 Service Unavailable\r?\n(?:[^\r\n]+\r?\n)*?Retry-After: 5\r?$/m.exec(flood.messages);
  expect(first503, 'a 503 with Retry-After: 5').not.toBeNull();
  expect(health[health.length - 1]).toBe('ok');
  expect(ended).toMatchObject({ cause: 'normal' });
  expect(metrics).toMatch(new RegExp(`^voix_sip_requests_overload_refused_total\\{reason="request-rate"\\} ${refused}$`, 'm'));
  expect(voix.logs().find((l) => l.msg === 'overload: refusing new requests with 503')).toMatchObject({ level: 'warn', reason: 'request-rate' });
  expect(voix.logs().some((l) => l.msg === 'security' && l['event'] === 'ban')).toBe(false);
  await expectNoCallLeft(lab);
});
