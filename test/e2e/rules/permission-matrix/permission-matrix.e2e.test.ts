import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { getFreePort, runSipp, startBaresip, startSipp, useHarness, type VoixUser } from '../../harness/index.js';
import { dial, expectNoCallLeft, finalInviteResponse, startCallLab } from '../../calls/call-helpers.js';

useHarness();

const CARRIER = fileURLToPath(new URL('./uas-carrier-digest-answer-expect-bye.xml', import.meta.url));
/** The provider listens on another loopback address than the phones: voix recognises it by address and port. */
const CARRIER_ADDRESS = '127.0.0.2';
const ACCOUNT = { username: '0140000000', password: 'carrier-e2e-secret-0140' } as const;
const USERS: readonly VoixUser[] = [
  { extension: '1001', name: 'Alice Martin', password: 'alice-e2e-secret-1001', transports: ['udp'], permission: 'internal' },
  { extension: '1002', name: 'Bruno Petit', password: 'bruno-e2e-secret-1002', transports: ['udp'], permission: 'national', caller_id: { number: '+33123456789' } },
];

it('REGLES-DROITS-01: internal-only refused (403, nothing to the trunk), national reaches the trunk in E.164 after digest, 112 always, unauthenticated never', async () => {
  const carrierPort = await getFreePort();
  const carrier = await startSipp({
    scenario: CARRIER,
    transport: 'udp',
    localAddress: CARRIER_ADDRESS,
    localPort: carrierPort,
    bindLocal: true,
    calls: 2,
    keys: { user: ACCOUNT.username, password: ACCOUNT.password },
    timeoutMs: 60_000,
  });
  const lab = await startCallLab({
    users: USERS,
    config: {
      trunks: [
        { name: 'operateur', host: CARRIER_ADDRESS, port: carrierPort, transport: 'udp', domain: 'operator.test', username: ACCOUNT.username, password: ACCOUNT.password, register: false },
      ],
      outbound_routes: [
        { name: 'urgences', match: '1X', trunk: 'operateur' },
        { name: 'urgences-3', match: '11X', trunk: 'operateur' },
        { name: 'france', match: '0[1-79]XXXXXXXX', trunk: 'operateur' },
      ],
    },
  });
  const { voix } = lab;
  const a = await startBaresip({ account: voix.account('1001', 'udp') });
  const b = await startBaresip({ account: voix.account('1002', 'udp') });
  await a.waitForRegistration(10_000);
  await b.waitForRegistration(10_000);

  // 1. Internal-only user to a mobile number: refused here, never sent.
  const refusedSince = voix.mark();
  const aSince = a.mark();
  await dial(a, voix, '0612345678');
  await a.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, aSince);
  const refusal = await voix.waitForLog((log) => log.msg === 'security' && log['event'] === 'call_refused', 5000, refusedSince);
  expect(finalInviteResponse(a)?.firstLine).toBe('SIP/2.0 403 Forbidden');
  expect(refusal).toMatchObject({ src: '127.0.0.1', user: '1001', dialled: '0612345678', category: 'mobile' });

  // 2. National user to the same number: to the trunk in E.164, with its caller ID, after the carrier's challenge.
  const bSince = b.mark();
  await dial(b, voix, '0612345678');
  await b.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 15_000, bSince);
  expect((await b.command('hangup')).ok).toBe(true);
  await b.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, bSince);

  // 3. Emergency number from the internal-only user.
  const a2Since = a.mark();
  await dial(a, voix, '112');
  await a.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 15_000, a2Since);
  expect((await a.command('hangup')).ok).toBe(true);
  await a.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, a2Since);

  // 4. No credentials at all: challenged, and nothing reaches the carrier.
  const anonymous = await runSipp({ scenario: { builtin: 'uac' }, remote: `127.0.0.1:${voix.ports.udp}`, service: '0612345678', calls: 1, timeoutMs: 10_000 });

  const provider = await carrier.result(20_000);
  const invites = provider.messages.split('\n').filter((line) => line.startsWith('INVITE '));
  expect(anonymous.messages).toMatch(/SIP\/2\.0 407 Proxy Authentication Required/);
  expect(anonymous.successful).toBe(0);
  expect(provider.logs).toContain('invite ruri=sip:+33612345678@operator.test');
  expect(provider.logs).toMatch(/from= ?"Bruno Petit" <sip:\+33123456789@operator\.test>;tag=\S+ pai= ?<sip:\+33123456789@operator\.test>/);
  expect(provider.logs).toContain('invite ruri=sip:112@operator.test');
  expect(provider.logs.match(/invite digest valid=true/g)).toHaveLength(2);
  // Two calls, each INVITE twice (challenged, then with credentials): the refused and the anonymous calls are not there.
  expect(invites).toHaveLength(4);
  expect(provider, provider.errors).toMatchObject({ exitCode: 0, successful: 2, failed: 0 });
  await expectNoCallLeft(lab);
});
