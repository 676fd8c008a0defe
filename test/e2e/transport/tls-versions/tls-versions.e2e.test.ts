import { expect, it } from 'vitest';
import { runProcess, startVoix, useHarness } from '../../harness/index.js';

useHarness();

async function sClient(port: number, caFile: string, args: string[]) {
  // -brief prints the negotiated protocol and cipher; stdin is empty so it quits after the handshake.
  return runProcess('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'voix.test', '-CAfile', caFile, '-verify_return_error', '-brief', ...args], {
    timeoutMs: 10_000,
  });
}

it('TRA-TLS-01: TLS 1.1 and weak suites are refused, TLS 1.2 and 1.3 accepted with a verified certificate', async () => {
  const voix = await startVoix();
  const ca = voix.caPath ?? '';

  const tls11 = await sClient(voix.ports.tls, ca, ['-tls1_1']);
  const tls12 = await sClient(voix.ports.tls, ca, ['-tls1_2']);
  const tls13 = await sClient(voix.ports.tls, ca, ['-tls1_3']);
  const weak = await sClient(voix.ports.tls, ca, ['-tls1_2', '-cipher', 'AES256-SHA']);

  expect(tls11.code).not.toBe(0);
  expect(tls12.code, tls12.stderr).toBe(0);
  expect(tls12.stderr + tls12.stdout).toMatch(/Protocol version: TLSv1\.2/);
  expect(tls12.stderr + tls12.stdout).toMatch(/Ciphersuite: ECDHE-(RSA|ECDSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)/);
  expect(tls12.stderr + tls12.stdout).toMatch(/Verification: OK/);
  expect(tls13.code, tls13.stderr).toBe(0);
  expect(tls13.stderr + tls13.stdout).toMatch(/Protocol version: TLSv1\.3/);
  expect(weak.code).not.toBe(0);
});
