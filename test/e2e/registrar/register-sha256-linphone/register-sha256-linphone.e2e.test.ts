import { expect, it } from 'vitest';
import { parseDigest, startLinphone, startVoix, useHarness } from '../../harness/index.js';

useHarness();

function header(text: string, name: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/).slice(1)) {
    if (line === '') break;
    const colon = line.indexOf(':');
    if (line.slice(0, colon).trim().toLowerCase() === name) out.push(line.slice(colon + 1).trim());
  }
  return out;
}

it.each(['udp', 'tcp', 'tls'] as const)('REG-SHA256-01: Linphone registers over %s answering the SHA-256 challenge', async (transport) => {
  const voix = await startVoix();
  const phone = await startLinphone({ account: voix.account('1001', transport), ...(transport === 'tls' ? { caFile: voix.caPath ?? '', verifyServer: true } : {}) });

  const registration = await phone.waitForRegistration(10_000);
  const listing = await voix.cli(['registrations']);
  const unregistration = await phone.unregister();
  const challenge = phone.sipMessages().find((m) => m.direction === 'received' && m.firstLine.startsWith('SIP/2.0 401'));
  const answer = phone.sipMessages().find((m) => m.direction === 'sent' && m.firstLine.startsWith('REGISTER') && header(m.text, 'authorization').length > 0);
  const credentials = parseDigest(header(answer?.text ?? '', 'authorization')[0] ?? '');

  expect(registration).toMatchObject({ ok: true, status: '200 OK' });
  expect(header(challenge?.text ?? '', 'www-authenticate').map((v) => parseDigest(v)['algorithm'])).toEqual(['SHA-256', 'MD5']);
  expect(credentials).toMatchObject({ username: '1001', realm: 'voix.test', algorithm: 'SHA-256', qop: 'auth' });
  expect(credentials['response']).toMatch(/^[0-9a-f]{64}$/);
  expect(listing.stdout).toMatch(new RegExp(`^1001\\s+${transport.toUpperCase()}\\s`, 'm'));
  expect(unregistration.status).toBe('200 OK');
});
