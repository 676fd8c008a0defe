import { expect, it } from 'vitest';
import { probeRequest, sendRaw, startBaresip, startVoix, useHarness } from '../../harness/index.js';

useHarness();

const ATTACKER = '127.0.0.67';

async function optionsFrom(localAddress: string, port: number, tag: string): Promise<{ statuses: Array<number | null>; timedOut: boolean }> {
  const probe = probeRequest({ transport: 'udp', localAddress, localPort: 5060, host: '127.0.0.1', port, callId: `unban-probe-${tag}` });
  const exchange = await sendRaw({ transport: 'udp', host: '127.0.0.1', port, localAddress }, probe, { timeoutMs: 1500 });
  return { statuses: exchange.responses.map((m) => m.statusCode), timedOut: exchange.timedOut };
}

it('SEC-BAN-03: a ban survives a restart, voix bans lists it and voix unban lifts it at once', async () => {
  const voix = await startVoix({ config: { security: { ban: { duration: 600 } } } });
  const guesser = await startBaresip({ localAddress: ATTACKER, account: { ...voix.account('1001', 'udp'), password: 'this-is-not-the-password' } });
  await voix.waitForLog((l) => l.msg === 'security' && l['event'] === 'ban' && l['src'] === ATTACKER, 10_000);
  await guesser.stop({ force: true });
  const listed = await voix.cli(['bans', '--json']);

  await voix.restart();
  const restored = await voix.waitForLog((l) => l.msg === 'bans restored', 5000);
  const afterRestart = await optionsFrom(ATTACKER, voix.ports.udp, 'restart');
  const unban = await voix.cli(['unban', ATTACKER]);
  const unbanLine = await voix.waitForLog((l) => l.msg === 'security' && l['event'] === 'unban' && l['src'] === ATTACKER, 5000);
  const afterUnban = await optionsFrom(ATTACKER, voix.ports.udp, 'unban');
  const honest = await startBaresip({ localAddress: ATTACKER, account: voix.account('1001', 'udp') });
  const registered = await honest.waitForRegistration(10_000);
  const listedAfter = await voix.cli(['bans', '--json']);

  expect(listed.code, listed.stderr).toBe(0);
  const bans = JSON.parse(listed.stdout) as Array<{ source: string; expiresInSeconds: number }>;
  expect(bans.map((b) => b.source)).toEqual([ATTACKER]);
  expect(bans[0]?.expiresInSeconds).toBeGreaterThan(590);
  expect(bans[0]?.expiresInSeconds).toBeLessThanOrEqual(600);
  expect(restored).toMatchObject({ bans: 1 });
  expect(afterRestart).toEqual({ statuses: [], timedOut: true });
  expect(unban.code, unban.stderr).toBe(0);
  expect(unban.stdout).toContain(`ban on ${ATTACKER} lifted`);
  expect(unban.stdout).toContain(`fail2ban-client set voix unbanip ${ATTACKER}`);
  expect(unbanLine).toMatchObject({ event: 'unban', src: ATTACKER, reason: 'manual' });
  expect(afterUnban.statuses).toEqual([200]);
  expect(registered).toMatchObject({ ok: true, status: '200 OK' });
  expect(listedAfter.code, listedAfter.stderr).toBe(0);
  expect(JSON.parse(listedAfter.stdout)).toEqual([]);
});
