import { expect, it } from 'vitest';
import { probeRequest, sendRaw, startBaresip, startVoix, useHarness } from '../../harness/index.js';

useHarness();

const ATTACKER = '127.0.0.66';

async function optionsFrom(localAddress: string, port: number): Promise<{ statuses: Array<number | null>; timedOut: boolean }> {
  const probe = probeRequest({ transport: 'udp', localAddress, localPort: 5060, host: '127.0.0.1', port, callId: `ban-probe-${localAddress}` });
  const exchange = await sendRaw({ transport: 'udp', host: '127.0.0.1', port, localAddress }, probe, { timeoutMs: 1500 });
  return { statuses: exchange.responses.map((m) => m.statusCode), timedOut: exchange.timedOut };
}

it('SEC-BAN-01: repeated wrong passwords get the source banned, then unbanned', async () => {
  const voix = await startVoix({ config: { security: { ban: { duration: 5 } } } });
  const guesser = await startBaresip({ localAddress: ATTACKER, account: { ...voix.account('1001', 'udp'), password: 'this-is-not-the-password' } });

  const ban = await voix.waitForLog((l) => l.msg === 'security' && l['event'] === 'ban', 10_000);
  await guesser.stop({ force: true });
  const fromAttacker = await optionsFrom(ATTACKER, voix.ports.udp);
  const fromOther = await optionsFrom('127.0.0.1', voix.ports.udp);
  const unban = await voix.waitForLog((l) => l.msg === 'security' && l['event'] === 'unban', 10_000);
  const honest = await startBaresip({ localAddress: ATTACKER, account: voix.account('1001', 'udp') });
  const afterUnban = await honest.waitForRegistration(10_000);
  const security = voix.logs().filter((l) => l.msg === 'security' && l['src'] === ATTACKER);
  const beforeBan = security.slice(0, security.findIndex((l) => l['event'] === 'ban'));

  expect(beforeBan.map((l) => l['event'])).toEqual(['auth_failed', 'auth_failed', 'auth_failed', 'auth_failed', 'auth_failed']);
  expect(guesser.events().some((e) => e.type === 'REGISTER_OK')).toBe(false);
  expect(ban).toMatchObject({ level: 'warn', event: 'ban', src: ATTACKER });
  expect(fromAttacker).toEqual({ statuses: [], timedOut: true });
  expect(fromOther.statuses).toEqual([200]);
  expect(unban).toMatchObject({ event: 'unban', src: ATTACKER, reason: 'expired' });
  expect(afterUnban).toMatchObject({ ok: true, status: '200 OK' });
});
