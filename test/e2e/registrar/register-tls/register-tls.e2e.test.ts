import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { probeRequest, sendRaw, startBaresip, startVoix, useHarness } from '../../harness/index.js';

useHarness();

it('REG-TLS-01: voix creates a local CA, its certificate verifies against it, and baresip registers over TLS', async () => {
  const voix = await startVoix();
  const caLog = await voix.waitForLog((l) => l.msg === 'tls ca', 5000);
  const caPath = voix.caPath ?? '';
  const ca = new X509Certificate(await readFile(caPath));

  const verified = await sendRaw(
    { transport: 'tls', host: '127.0.0.1', port: voix.ports.tls, caFile: caPath, servername: 'voix.test' },
    probeRequest({ transport: 'tls', localAddress: '127.0.0.1', localPort: 5061, host: '127.0.0.1', port: voix.ports.tls, callId: 'tls-verified@test' }),
    { timeoutMs: 5000 },
  );
  const phone = await startBaresip({ account: voix.account('1003', 'tls'), caFile: caPath });
  const registration = await phone.waitForRegistration(10_000);
  const listing = await voix.cli(['registrations']);

  expect(caLog).toMatchObject({ caPath, fingerprint: ca.fingerprint256 });
  expect(ca.ca).toBe(true);
  expect(verified.responses.map((r) => r.statusCode)).toEqual([200]);
  expect(registration).toMatchObject({ ok: true, status: '200 OK' });
  expect(listing.stdout).toMatch(/^1003\s+TLS\s+127\.0\.0\.1:\d+\s/m);
});
