/**
 * What the Debian peers can and cannot do, recorded as tests so that a
 * package upgrade that changes it shows up here first (voix's tests and
 * config defaults depend on it):
 * - baresip 1.0 answers MD5 challenges only, and gives up when any
 *   challenge of the 401 is SHA-256;
 * - SIPp 3.6's [authentication] reads the first challenge of the 401;
 * - baresip 1.0 does not verify the TLS server's certificate.
 */
import { readFile } from 'node:fs/promises';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startBaresip } from '../harness/baresip.js';
import { makeTestCertificates } from '../harness/certificates.js';
import { registerCleanup, useHarness } from '../harness/cleanup.js';
import { frameStream, readSipMessage } from '../harness/raw-sip.js';
import { runSipp, startSipp } from '../harness/sipp.js';

useHarness();

const CHALLENGER = fileURLToPath(new URL('./sipp/uas-registrar-challenges-from-keys.xml', import.meta.url));
const REGISTERING_UAC = fileURLToPath(new URL('./sipp/uac-register-with-auth.xml', import.meta.url));

const MD5 = 'WWW-Authenticate: Digest realm="harness.test", nonce="md5nonce", algorithm=MD5, qop="auth"';
const SHA256 = 'WWW-Authenticate: Digest realm="harness.test", nonce="sha256nonce", algorithm=SHA-256, qop="auth"';
const NOTHING = 'X-Harness: no second challenge';

describe('digest algorithms of the peers', () => {
  it.each([
    ['SHA-256 alone', SHA256, NOTHING],
    ['SHA-256 then MD5', SHA256, MD5],
    ['MD5 then SHA-256', MD5, SHA256],
  ])('baresip 1.0 fails to register when offered %s', async (_name, challenge1, challenge2) => {
    const registrar = await startSipp({ scenario: CHALLENGER, calls: 1, keys: { challenge1, challenge2 } });
    const phone = await startBaresip({
      account: { user: '1001', password: 'harness-password-1001', domain: `127.0.0.1:${registrar.localPort}`, transport: 'udp' },
    });

    const registration = await phone.waitForRegistration(10_000);

    expect(registration).toMatchObject({ ok: false, status: 'Function not implemented' });
  });

  it('baresip 1.0 registers when offered MD5 alone', async () => {
    const registrar = await startSipp({ scenario: CHALLENGER, calls: 1, keys: { challenge1: MD5, challenge2: NOTHING } });
    const phone = await startBaresip({
      account: { user: '1001', password: 'harness-password-1001', domain: `127.0.0.1:${registrar.localPort}`, transport: 'udp' },
    });

    const registration = await phone.waitForRegistration(10_000);
    const sipp = await registrar.result();

    expect(registration).toMatchObject({ ok: true, status: '200 OK' });
    expect(sipp.logs).toMatch(/authorization= Digest username="1001", realm="harness.test", nonce="md5nonce"/);
  });

  it.each([
    ['MD5 then SHA-256', MD5, SHA256, 0],
    ['SHA-256 then MD5', SHA256, MD5, 255],
  ])('SIPp 3.6 [authentication] answers the first challenge only (%s)', async (_name, challenge1, challenge2, exitCode) => {
    const registrar = await startSipp({ scenario: CHALLENGER, calls: 1, keys: { challenge1, challenge2 } });

    const uac = await runSipp({
      scenario: REGISTERING_UAC,
      remote: `127.0.0.1:${registrar.localPort}`,
      service: '1001',
      authUser: '1001',
      authPassword: 'harness-password-1001',
      calls: 1,
      timeoutMs: 5000,
    });

    expect(uac.exitCode).toBe(exitCode);
    if (exitCode !== 0) expect(uac.errors).toContain('createAuthHeader: authentication must use MD5 or AKAv1-MD5');
  });
});

/** A TLS "registrar" answering 200 to every REGISTER, noting the request lines. */
async function tlsRegistrar(keyFile: string, certFile: string): Promise<{ port: number; requests: string[] }> {
  const requests: string[] = [];
  const server = createTlsServer({ key: await readFile(keyFile), cert: await readFile(certFile) }, (socket: TLSSocket) => {
    let buffered: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      const { messages, rest } = frameStream(Buffer.concat([buffered, chunk]));
      buffered = rest;
      for (const text of messages) {
        const request = readSipMessage(text);
        requests.push(request.firstLine);
        const copied = text
          .split('\r\n')
          .filter((line) => /^(via|from|to|call-id|cseq|contact):/i.test(line))
          .map((line) => (/^to:/i.test(line) ? `${line};tag=tls-registrar` : line));
        socket.write(`SIP/2.0 200 OK\r\n${copied.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  registerCleanup('close TLS registrar', () => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  return { port: typeof address === 'object' && address !== null ? address.port : 0, requests };
}

describe('baresip 1.0 over TLS', () => {
  it.each([
    ['the CA that signed it', 'caFile'],
    ['an unrelated CA (baresip 1.0 does not verify)', 'otherCaFile'],
  ] as const)('registers to a server whose certificate does not chain to %s', async (_name, trusted) => {
    const certificates = await makeTestCertificates();
    const registrar = await tlsRegistrar(certificates.keyFile, certificates.certFile);
    const phone = await startBaresip({
      caFile: certificates[trusted],
      account: { user: '1001', password: 'harness-password-1001', domain: `127.0.0.1:${registrar.port}`, transport: 'tls' },
    });

    const registration = await phone.waitForRegistration(10_000);

    expect(registration).toMatchObject({ ok: true, status: '200 OK' });
    expect(registrar.requests[0]).toBe(`REGISTER sip:127.0.0.1:${registrar.port};transport=tls SIP/2.0`);
    expect(phone.sipMessages()[0]?.transport).toBe('TLS');
    await phone.stop({ force: true });
  });
});
