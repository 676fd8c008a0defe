import { expect, it } from 'vitest';
import { runProcess, startVoix, useHarness } from '../../harness/index.js';

useHarness();

async function sClient(port: number, caFile: string, args: string[]) {
  // -brief prints the negotiated protocol and cipher; stdin is empty so it quits after the handshake.
  return runProcess('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'voix.test', '-CAfile', caFile, '-verify_return_error', '-brief', ...args], {
    timeoutMs: 10_000,
  });
}

/** Every TLS 1.2 suite this OpenSSL knows, weak and obsolete ones included (security level 0). */
async function allTls12Suites(): Promise<string[]> {
  const listed = await runProcess('openssl', ['ciphers', 'ALL:COMPLEMENTOFALL:@SECLEVEL=0'], { timeoutMs: 10_000 });
  return listed.stdout.trim().split(':').filter((suite) => suite !== '');
}

/** The TLS 1.2 suites the server agrees to, each offered alone by a client at security level 0. */
async function acceptedTls12Suites(port: number, ca: string): Promise<string[]> {
  const accepted: string[] = [];
  for (const suite of await allTls12Suites()) {
    const attempt = await sClient(port, ca, ['-tls1_2', '-cipher', `${suite}:@SECLEVEL=0`]);
    if (attempt.code === 0) accepted.push(suite);
  }
  return accepted;
}

it('TRA-TLS-01: TLS 1.1 and weak suites are refused, TLS 1.2 and 1.3 accepted with a verified certificate', async () => {
  const voix = await startVoix();
  const ca = voix.caPath ?? '';

  const tls11 = await sClient(voix.ports.tls, ca, ['-tls1_1']);
  // A client that really offers TLS 1.1 and 1.0 (security level 0): the refusal is the server's alert, not the client's policy.
  const tls11Offered = await sClient(voix.ports.tls, ca, ['-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0']);
  const tls10Offered = await sClient(voix.ports.tls, ca, ['-tls1', '-cipher', 'DEFAULT:@SECLEVEL=0']);
  const tls12 = await sClient(voix.ports.tls, ca, ['-tls1_2']);
  const tls13 = await sClient(voix.ports.tls, ca, ['-tls1_3']);
  const weak = await sClient(voix.ports.tls, ca, ['-tls1_2', '-cipher', 'AES256-SHA']);
  const suites = await acceptedTls12Suites(voix.ports.tls, ca);

  expect(tls11.code).not.toBe(0);
  for (const refused of [tls11, tls11Offered, tls10Offered]) {
    expect(refused.code).not.toBe(0);
    // SSL alert 70, protocol_version (RFC 5246 §7.2.2), received from voix.
    expect(refused.stderr + refused.stdout).toMatch(/alert protocol version/);
  }
  expect(tls12.code, tls12.stderr).toBe(0);
  expect(tls12.stderr + tls12.stdout).toMatch(/Protocol version: TLSv1\.2/);
  expect(tls12.stderr + tls12.stdout).toMatch(/Ciphersuite: ECDHE-(RSA|ECDSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)/);
  expect(tls12.stderr + tls12.stdout).toMatch(/Verification: OK/);
  expect(tls13.code, tls13.stderr).toBe(0);
  expect(tls13.stderr + tls13.stdout).toMatch(/Protocol version: TLSv1\.3/);
  expect(weak.code).not.toBe(0);
  // Of the ~160 suites OpenSSL knows, the server takes only forward-secret AEAD ones (its certificate is RSA).
  expect(suites.length).toBeGreaterThan(0);
  for (const suite of suites) expect(suite).toMatch(/^ECDHE-(RSA|ECDSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
});
