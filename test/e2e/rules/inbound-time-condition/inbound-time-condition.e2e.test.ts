import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { getFreePort, startBaresip, startSipp, useHarness, type Baresip, type VoixUser } from '../../harness/index.js';
import { expectNoCallLeft, startCallLab, type CallLab } from '../../calls/call-helpers.js';

useHarness();

const CARRIER = fileURLToPath(new URL('./uac-carrier-invite-did-expect-answer-then-bye.xml', import.meta.url));
const CARRIER_CLOSED = fileURLToPath(new URL('./uac-carrier-invite-did-expect-answer-then-bye-from-voix.xml', import.meta.url));
const CARRIER_ADDRESS = '127.0.0.2';
const DID = '+33140000001';
const USERS: readonly VoixUser[] = [
  { extension: '1002', name: 'Bruno Petit', password: 'bruno-e2e-secret-1002', transports: ['udp'] },
  { extension: '1003', name: 'Chloé Durand', password: 'chloe-e2e-secret-1003', transports: ['udp'] },
];

function rulesConfig(carrierPort: number): Record<string, unknown> {
  return {
    trunks: [{ name: 'operateur', host: CARRIER_ADDRESS, port: carrierPort, transport: 'udp', domain: 'operator.test', username: '0140000000', password: 'carrier-e2e-secret-0140', register: false }],
    groups: [{ number: '2000', name: 'Accueil', members: ['1002'] }],
    time_conditions: { bureau: { weekly: { 'mon-fri': ['09:00-18:00'] } } },
    messages: [{ number: '8000', name: 'Fermeture', prompt: { text: 'Nos bureaux sont fermés.' } }],
    inbound_routes: [{ did: '0140000001', trunk: 'operateur', time_condition: 'bureau', open: '2000', closed: '8000' }],
  };
}

/** voix with its time-condition clock at `calendarStart`, B and C registered; the carrier calls the DID; `answerer` answers. */
async function carrierCallsAt(calendarStart: string, expectRinging: 'b' | 'c'): Promise<{ lab: CallLab; rang: Baresip; other: Baresip; decision: string }> {
  const carrierPort = await getFreePort();
  const lab = await startCallLab({ users: USERS, config: rulesConfig(carrierPort), env: { VOIX_CALENDAR_START: calendarStart } });
  const { voix } = lab;
  const b = await startBaresip({ account: voix.account('1002', 'udp') });
  const c = await startBaresip({ account: voix.account('1003', 'udp') });
  await b.waitForRegistration(10_000);
  await c.waitForRegistration(10_000);
  const [rang, other] = expectRinging === 'b' ? [b, c] : [c, b];

  const carrier = await startSipp({
    scenario: CARRIER,
    remote: `127.0.0.1:${voix.ports.udp}`,
    transport: 'udp',
    localAddress: CARRIER_ADDRESS,
    localPort: carrierPort,
    service: DID,
    calls: 1,
    timeoutMs: 30_000,
  });
  const incoming = await rang.waitForEvent((e) => e.type === 'CALL_INCOMING', 10_000);
  expect((await rang.command('accept')).ok).toBe(true);
  const result = await carrier.result(20_000);
  await rang.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000);
  const decision = await voix.waitForLog((log) => log.msg === 'time condition', 1000);

  expect(result, result.errors).toMatchObject({ exitCode: 0, successful: 1, failed: 0 });
  expect(result.messages).not.toMatch(/SIP\/2\.0 40[17] /);
  expect(incoming.param ?? '').toContain('+33612345678');
  expect(other.events().some((e) => e.type === 'CALL_INCOMING')).toBe(false);
  await expectNoCallLeft(lab);
  return { lab, rang, other, decision: String(decision['decision']) };
}

it('REGLES-ENTRANT-01: a call from the trunk to the DID goes to the group during opening hours, and to the closing message on a public holiday', async () => {
  const open = await carrierCallsAt('2026-11-30T10:00:00+01:00', 'b');
  expect(open.decision).toMatch(/^open/);
  await open.lab.voix.stop();

  // Christmas, a Friday: closed by the French holiday calendar, not by the weekly hours.
  const carrierPort = await getFreePort();
  const lab = await startCallLab({ users: USERS, config: rulesConfig(carrierPort), env: { VOIX_CALENDAR_START: '2026-12-25T10:00:00+01:00' } });
  const { voix } = lab;
  const b = await startBaresip({ account: voix.account('1002', 'udp') });
  const c = await startBaresip({ account: voix.account('1003', 'udp') });
  await b.waitForRegistration(10_000);
  await c.waitForRegistration(10_000);
  const carrier = await startSipp({
    scenario: CARRIER_CLOSED,
    remote: `127.0.0.1:${voix.ports.udp}`,
    transport: 'udp',
    localAddress: CARRIER_ADDRESS,
    localPort: carrierPort,
    service: DID,
    calls: 1,
    timeoutMs: 40_000,
  });
  const result = await carrier.result(40_000);
  const decision = await voix.waitForLog((log) => log.msg === 'time condition', 1000);
  const played = await voix.waitForLog((log) => log.msg === 'announcement played', 1000);

  expect(String(decision['decision'])).toMatch(/^closed \(holiday/);
  expect(played).toMatchObject({ message: 'message 8000' });
  expect(result, result.errors).toMatchObject({ exitCode: 0, successful: 1, failed: 0 });
  expect(b.events().some((e) => e.type === 'CALL_INCOMING')).toBe(false);
  expect(c.events().some((e) => e.type === 'CALL_INCOMING')).toBe(false);
  await expectNoCallLeft(lab);
});
