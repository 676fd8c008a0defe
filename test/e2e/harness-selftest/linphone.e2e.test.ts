/**
 * The Linphone peer (linphone-daemon, liblinphone 5.1) against fake servers,
 * without voix:
 * - a SIPp registrar offering two challenges, SHA-256 first and MD5 second
 *   (qop=auth): linphone answers the SHA-256 one, correctly (RFC 7616
 *   digest recomputed here), over UDP and TCP;
 * - the MD5 registrar of the baresip self-test: register, unregister, 403;
 * - a small TLS registrar (node:tls): with verifyServer, linphone refuses a
 *   certificate from another CA and accepts one from the CA it was given;
 *   name checks (verifyServerName) only match DNS names, never 127.0.0.1 as
 *   an IP address;
 * - calls to and from SIPp, a call between two linphones (SRTP, DTMF), and
 *   the SDES offer with media_encryption=srtp.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { traceHeader } from '../harness/baresip-trace.js';
import { makeTestCertificates } from '../harness/certificates.js';
import { registerCleanup, useHarness } from '../harness/cleanup.js';
import { DaemonControl, parseDigest, startLinphone } from '../harness/linphone.js';
import { frameStream, readSipMessage } from '../harness/raw-sip.js';
import { startSipp } from '../harness/sipp.js';

useHarness();

const CHALLENGER = fileURLToPath(new URL('./sipp/uas-registrar-challenges-from-keys.xml', import.meta.url));
const MD5_REGISTRAR = fileURLToPath(new URL('./sipp/uas-registrar-401-then-200.xml', import.meta.url));
const CALLEE = fileURLToPath(new URL('./sipp/uas-answer-then-expect-bye.xml', import.meta.url));
const USER = '1001';
const PASSWORD = 'harness-password-1001';
const SHA256_CHALLENGE = 'WWW-Authenticate: Digest realm="harness.test", nonce="sha256nonce", algorithm=SHA-256, qop="auth"';
const MD5_CHALLENGE = 'WWW-Authenticate: Digest realm="harness.test", nonce="md5nonce", algorithm=MD5, qop="auth"';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('linphone answers digest challenges', () => {
  it.each(['udp', 'tcp'] as const)('answers the SHA-256 challenge of a 401 offering SHA-256 then MD5 (%s)', async (transport) => {
    const registrar = await startSipp({
      scenario: CHALLENGER,
      transport,
      calls: 1,
      keys: { challenge1: SHA256_CHALLENGE, challenge2: MD5_CHALLENGE },
      timeoutMs: 20_000,
    });
    const phone = await startLinphone({
      account: { user: USER, password: PASSWORD, domain: `127.0.0.1:${registrar.localPort}`, transport },
    });

    const registration = await phone.waitForRegistration(10_000);
    const sipp = await registrar.result();
    const authenticated = phone.sipMessages().find((m) => m.direction === 'sent' && traceHeader(m, 'Authorization') !== undefined);
    const authorization = authenticated === undefined ? undefined : traceHeader(authenticated, 'Authorization');
    const digest = parseDigest(authorization ?? '');

    expect(registration).toMatchObject({ ok: true, status: '200 OK', code: 200 });
    expect(sipp).toMatchObject({ exitCode: 0, successful: 1 });
    // linphone leaves ;transport= out of the Request-URI.
    expect(authenticated?.firstLine).toBe(`REGISTER sip:127.0.0.1:${registrar.localPort} SIP/2.0`);
    expect(authenticated?.transport).toBe(transport.toUpperCase());
    expect(digest).toMatchObject({
      algorithm: 'SHA-256',
      username: USER,
      realm: 'harness.test',
      nonce: 'sha256nonce',
      uri: `sip:127.0.0.1:${registrar.localPort}`,
      qop: 'auth',
      nc: '00000001',
    });
    expect(digest.response).toMatch(/^[0-9a-f]{64}$/);
    // RFC 7616 §3.4.1 with SHA-256, from the values linphone sent.
    const ha1 = sha256(`${USER}:${digest.realm}:${PASSWORD}`);
    const ha2 = sha256(`REGISTER:${digest.uri}`);
    expect(digest.response).toBe(sha256(`${ha1}:${digest.nonce}:${digest.nc}:${digest.cnonce}:${digest.qop}:${ha2}`));
    // What SIPp received is what linphone logged.
    expect(sipp.logs).toContain(`response="${digest.response}"`);
  });

  it('registers to an MD5 registrar, then unregisters (SIPp checks both digests)', async () => {
    const registrar = await startSipp({ scenario: MD5_REGISTRAR, calls: 1, keys: { user: USER, password: PASSWORD }, timeoutMs: 20_000 });
    const phone = await startLinphone({
      account: { user: USER, password: PASSWORD, domain: `127.0.0.1:${registrar.localPort}`, transport: 'udp', regint: 600 },
    });

    const registration = await phone.waitForRegistration(10_000);
    const unregistration = await phone.unregister();
    const sipp = await registrar.result();
    const registers = phone.sipMessages().filter((m) => m.direction === 'sent' && m.firstLine.startsWith('REGISTER '));

    expect(registration).toMatchObject({ ok: true, status: '200 OK' });
    expect(unregistration.status).toBe('200 OK');
    expect(sipp.logs).toContain('register digest valid=true');
    expect(sipp.logs).toContain('unregister digest valid=true');
    expect(sipp).toMatchObject({ exitCode: 0, successful: 1, failed: 0 });
    expect(registers.map((m) => traceHeader(m, 'Expires'))).toEqual(['600', '600', '0', '0']);
    expect(new Set(registers.map((m) => traceHeader(m, 'Call-ID'))).size).toBe(1);
    // linphone leaves the port of the identity out of From and To.
    expect(registers.map((m) => traceHeader(m, 'To'))).toContain('sip:1001@127.0.0.1');
  });

  it('reports the status of a refused registration', async () => {
    const registrar = await startSipp({ scenario: MD5_REGISTRAR, calls: 1, keys: { user: USER, password: PASSWORD } });
    const phone = await startLinphone({
      account: { user: USER, password: 'not-the-right-password', domain: `127.0.0.1:${registrar.localPort}`, transport: 'udp' },
    });

    const registration = await phone.waitForRegistration(10_000);
    const sipp = await registrar.result();

    expect(registration).toMatchObject({ ok: false, state: 'LinphoneRegistrationFailed', status: '403 Forbidden', code: 403 });
    expect(sipp.logs).toContain('register digest valid=false');
  });
});

/** A TLS registrar answering 200 to every REGISTER; counts the handshakes it lost. */
async function tlsRegistrar(keyFile: string, certFile: string): Promise<{ port: number; requests: string[]; handshakeErrors: string[] }> {
  const requests: string[] = [];
  const handshakeErrors: string[] = [];
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
  server.on('tlsClientError', (error) => handshakeErrors.push(error.message));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  registerCleanup('close TLS registrar', () => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  return { port: typeof address === 'object' && address !== null ? address.port : 0, requests, handshakeErrors };
}

describe('linphone over TLS checks the server certificate', () => {
  it('refuses a server whose certificate comes from another CA than the one given', async () => {
    const certificates = await makeTestCertificates();
    const registrar = await tlsRegistrar(certificates.keyFile, certificates.certFile);
    const phone = await startLinphone({
      caFile: certificates.otherCaFile,
      verifyServer: true,
      account: { user: USER, password: PASSWORD, domain: `127.0.0.1:${registrar.port}`, transport: 'tls' },
    });

    const registration = await phone.waitForRegistration(10_000);

    expect(registration).toMatchObject({ ok: false, status: '503 io error' });
    expect(registrar.requests).toEqual([]);
    expect(registrar.handshakeErrors.length).toBeGreaterThan(0);
    expect(phone.logLines(/Found certificate depth=\[0\], flags=\[.*not-trusted/).length).toBeGreaterThan(0);
  });

  it('registers to a server whose certificate comes from the CA given', async () => {
    const certificates = await makeTestCertificates();
    const registrar = await tlsRegistrar(certificates.keyFile, certificates.certFile);
    const phone = await startLinphone({
      caFile: certificates.caFile,
      verifyServer: true,
      account: { user: USER, password: PASSWORD, domain: `127.0.0.1:${registrar.port}`, transport: 'tls' },
    });

    const registration = await phone.waitForRegistration(10_000);

    expect(registration).toMatchObject({ ok: true, status: '200 OK' });
    expect(registrar.requests[0]).toBe(`REGISTER sip:127.0.0.1:${registrar.port} SIP/2.0`);
    expect(phone.sipMessages()[0]).toMatchObject({ transport: 'TLS', direction: 'sent', remote: `127.0.0.1:${registrar.port}` });
    // The chain is trusted; CN-mismatch is reported but ignored (verifyServerName is off).
    const serverCertificate = phone.logLines(/Found certificate depth=\[0\], flags=/);
    expect(serverCertificate.length).toBeGreaterThan(0);
    expect(serverCertificate.filter((line) => line.text.includes('not-trusted'))).toEqual([]);
  });

  it.each([
    ['refuses 127.0.0.1 when the certificate names it as an IP address only (mbedTLS 2.28)', ['DNS:voix.test', 'IP:127.0.0.1'], false],
    ['accepts 127.0.0.1 named as a DNS name', ['DNS:127.0.0.1', 'IP:127.0.0.1'], true],
  ] as const)('with verifyServerName, %s', async (_name, subjectAltNames, ok) => {
    const certificates = await makeTestCertificates({ subjectAltNames });
    const registrar = await tlsRegistrar(certificates.keyFile, certificates.certFile);
    const phone = await startLinphone({
      caFile: certificates.caFile,
      verifyServer: true,
      verifyServerName: true,
      account: { user: USER, password: PASSWORD, domain: `127.0.0.1:${registrar.port}`, transport: 'tls' },
    });

    const registration = await phone.waitForRegistration(10_000);

    expect(registration.ok).toBe(ok);
    expect(phone.logLines(/Found certificate depth=\[0\], flags=\[CN-mismatch/).length > 0).toBe(!ok);
  });
});

describe('linphone calls', () => {
  it('places a call that SIPp answers, then hangs up', async () => {
    const callee = await startSipp({ scenario: CALLEE, calls: 1 });
    const phone = await startLinphone();

    const id = await phone.call(`sip:service@127.0.0.1:${callee.localPort}`);
    const running = await phone.waitForCallState('StreamsRunning', 10_000, { id });
    const status = await phone.callStatus(id);
    // Without a sound card nothing is sent until a file is played into the call.
    const played = await phone.playFile('/usr/share/sounds/linphone/hello8000.wav', id);
    await phone.terminate(id);
    const ended = await phone.waitForCallState('End', 10_000, { id });
    const sipp = await callee.result();
    const invite = phone.sipMessages().find((m) => m.direction === 'sent' && m.firstLine.startsWith('INVITE '));

    expect(running.fields.From).toBe('sip:linphone@127.0.0.1');
    expect(status.fields).toMatchObject({ State: 'LinphoneCallStreamsRunning', Direction: 'out' });
    expect(ended.fields.Id).toBe(String(id));
    expect(played.ok).toBe(true);
    expect(phone.logLines(/MSFilePlayer\[\w+\]: \/usr\/share\/sounds\/linphone\/hello8000\.wav opened/).length).toBe(1);
    expect(sipp).toMatchObject({ exitCode: 0, successful: 1 });
    expect(invite?.text).toMatch(/\r\nc=IN IP4 127\.0\.0\.1\r\n/);
    const audioPort = Number(/\r\nm=audio (\d+) RTP\/AVP [0-9 ]*\b0\b/.exec(invite?.text ?? '')?.[1]);
    expect(audioPort).toBeGreaterThanOrEqual(phone.rtpPort);
    expect(audioPort).toBeLessThan(phone.rtpPort + 10);
  });

  it('answers a call from SIPp, which then hangs up; quit ends the daemon cleanly', async () => {
    const phone = await startLinphone();

    const caller = await startSipp({ scenario: { builtin: 'uac' }, remote: `127.0.0.1:${phone.sipPort}`, service: 'linphone', calls: 1 });
    const incoming = await phone.waitForCallState('IncomingReceived', 10_000);
    await phone.answer(Number(incoming.fields.Id));
    const ended = await phone.waitForCallState('End', 10_000);
    const sipp = await caller.result();
    await phone.stop();

    expect(incoming.fields.From).toMatch(/^"sipp" <sip:sipp@127\.0\.0\.1:\d+>$/);
    expect(ended.fields.Id).toBe(incoming.fields.Id);
    expect(sipp).toMatchObject({ exitCode: 0, successful: 1 });
    expect(phone.process.exit).toEqual({ code: 0, signal: null });
  });

  it('calls another linphone with SRTP mandatory on both sides; the callee receives the DTMF sent', async () => {
    const callee = await startLinphone({ autoAnswer: true, mediaEncryption: 'srtp', mediaEncryptionMandatory: true, label: 'linphone callee' });
    const caller = await startLinphone({ mediaEncryption: 'srtp', mediaEncryptionMandatory: true, label: 'linphone caller' });

    const id = await caller.call(`sip:callee@127.0.0.1:${callee.sipPort}`);
    await caller.waitForCallState('StreamsRunning', 10_000, { id });
    await callee.waitForCallState('StreamsRunning', 10_000);
    await caller.dtmf('5');
    const tone = await callee.waitForEvent((event) => event.type === 'receiving-tone', 5000);
    await caller.terminate(id);
    await callee.waitForCallState('End', 10_000);
    const answer = caller.sipMessages().find((m) => m.direction === 'received' && m.firstLine.startsWith('SIP/2.0 200 ') && m.text.includes('m=audio'));

    expect(tone.fields).toMatchObject({ Tone: '5', From: 'sip:linphone@127.0.0.1' });
    expect(answer?.text).toMatch(/\r\nm=audio \d+ RTP\/SAVP /);
    expect(answer?.text).toMatch(/\r\na=crypto:\d+ AES_CM_128_HMAC_SHA1_80 inline:/);
  });

  it('offers SDES-SRTP (RTP/SAVP, a=crypto) with mediaEncryption srtp, mandatory, and fails on a plain RTP answer', async () => {
    const callee = await startSipp({ scenario: CALLEE, calls: 1 });
    const phone = await startLinphone({ mediaEncryption: 'srtp', mediaEncryptionMandatory: true });

    const id = await phone.call(`sip:service@127.0.0.1:${callee.localPort}`);
    const invite = await phone.waitForSipMessage((m) => m.direction === 'sent' && m.firstLine.startsWith('INVITE '), 10_000);
    // SIPp answers RTP/AVP, PCMU, no a=crypto.
    const failed = await phone.waitForCallState('Error', 10_000, { id });

    expect(invite.text).toMatch(/\r\nm=audio \d+ RTP\/SAVP /);
    expect(invite.text).toMatch(/\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:[A-Za-z0-9+/=]{40}\r\n/);
    expect(failed.fields.Id).toBe(String(id));
    expect(phone.events().some((e) => e.fields.Event === 'LinphoneCallStreamsRunning')).toBe(false);
  });
});

describe('the control socket of a daemon that does not start', () => {
  it('says the daemon exited when it died before opening its socket, and marks the failure as a start failure', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'voix-selftest-ctl-'));
    registerCleanup('remove the control socket directory', () => rm(dir, { recursive: true, force: true }));
    const error: unknown = await DaemonControl.connect(join(dir, 'never.sock'), 5000, () => false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/before linphone-daemon exited$/);
    expect(error).toMatchObject({ controlNeverOpened: true });
  });

  it('says how long it waited for a daemon still running, then connects once the socket is there', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'voix-selftest-ctl-'));
    registerCleanup('remove the control socket directory', () => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'ctl.sock');
    const error: unknown = await DaemonControl.connect(path, 200, () => true).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/within 200 ms$/);
    expect(error).toMatchObject({ controlNeverOpened: true });
    const server = createNetServer((socket) => {
      socket.on('error', () => undefined);
      socket.on('data', () => socket.write('Status: Ok\n\nVersion: selftest\n'));
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    registerCleanup('close the fake control socket', () => new Promise<void>((resolve) => server.close(() => resolve())));
    const control = await DaemonControl.connect(path, 5000, () => true);
    expect(await control.command('version', 5000)).toBe('Status: Ok\n\nVersion: selftest\n');
    control.close();
  });
});
