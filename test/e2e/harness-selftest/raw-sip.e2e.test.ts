/**
 * The raw-sip helper against SIPp (UDP, TCP) and a bare Node TLS server
 * (SIPp has no TLS in Debian), and its Via rewriting on torture messages.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makeTestCertificates } from '../harness/certificates.js';
import { registerCleanup, useHarness } from '../harness/cleanup.js';
import { RawSipConnection, frameStream, pointTopViaAt, readSipMessage, sendRaw, sendWithProbe } from '../harness/raw-sip.js';
import { startSipp } from '../harness/sipp.js';

useHarness();

const ANSWERS_OPTIONS = fileURLToPath(new URL('./sipp/uas-options-200.xml', import.meta.url));
const RFC4475 = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../shared/rfc4475');

function options(callId: string): string {
  return [
    'OPTIONS sip:service@127.0.0.1 SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKrawsiptest',
    'Max-Forwards: 70',
    'From: <sip:test@raw-sip.harness>;tag=1',
    'To: <sip:service@127.0.0.1>',
    `Call-ID: ${callId}`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('raw-sip against SIPp', () => {
  it.each(['udp', 'tcp'] as const)('over %s: an answered message is not "dropped", garbage is', async (transport) => {
    const uas = await startSipp({ scenario: ANSWERS_OPTIONS, transport, calls: 4 });
    const target = { transport, host: '127.0.0.1', port: uas.localPort };

    const answered = await sendWithProbe(target, options('answer-me@test'));
    const ignored = await sendWithProbe(target, 'HELLO\r\n\r\n');
    const plain = await sendRaw(target, options('plain@test'));

    expect(answered.probeResponse?.statusCode).toBe(200);
    expect(answered.responses.map((r) => [r.statusCode, r.callId])).toEqual([[200, 'answer-me@test']]);
    expect(answered.dropped).toBe(false);
    expect(ignored.probeResponse?.statusCode).toBe(200);
    expect(ignored.dropped).toBe(true);
    expect(plain.responses.map((r) => r.firstLine)).toEqual(['SIP/2.0 200 OK']);
    expect(plain.responses[0]?.cseq).toBe('1 OPTIONS');
    // Two OPTIONS and two probes answered; the garbage made no call.
    expect(await uas.result()).toMatchObject({ exitCode: 0, successful: 4 });
  });
});

describe('raw-sip over TLS', () => {
  it('verifies the server certificate against the CA it is given, and frames the answers', async () => {
    const files = await makeTestCertificates();
    // Answers every request with 200 OK, two messages per TLS record to exercise framing.
    const server = createTlsServer({ key: await readFile(files.keyFile), cert: await readFile(files.certFile) }, (socket) => {
      let buffered: Buffer = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        const { messages, rest } = frameStream(Buffer.concat([buffered, chunk]));
        buffered = rest;
        for (const text of messages) {
          const request = readSipMessage(text);
          const answer = `SIP/2.0 200 OK\r\nCall-ID: ${request.callId ?? ''}\r\nCSeq: ${request.cseq ?? ''}\r\nContent-Length: 4\r\n\r\nbody`;
          socket.write(`\r\n${answer}`);
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
    registerCleanup('close TLS server', () => new Promise<void>((done) => server.close(() => done())));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;

    const outcome = await sendWithProbe({ transport: 'tls', host: '127.0.0.1', port, caFile: files.caFile }, options('over-tls@test'));
    const byName = await sendRaw({ transport: 'tls', host: '127.0.0.1', port, caFile: files.caFile, servername: 'voix.test' }, options('by-name@test'));
    const wrongCa = await RawSipConnection.open({ transport: 'tls', host: '127.0.0.1', port, caFile: files.otherCaFile }).then(
      () => 'connected',
      (error: unknown) => String(error),
    );
    const wrongName = await RawSipConnection.open({ transport: 'tls', host: '127.0.0.1', port, caFile: files.caFile, servername: 'not-voix.test' }).then(
      () => 'connected',
      (error: unknown) => String(error),
    );

    expect(outcome.responses.map((r) => r.callId)).toEqual(['over-tls@test']);
    expect(outcome.probeResponse?.statusCode).toBe(200);
    expect(outcome.messages.every((m) => m.text.endsWith('\r\n\r\nbody'))).toBe(true);
    expect(byName.responses.map((r) => r.callId)).toEqual(['by-name@test']);
    expect(wrongCa).toMatch(/self[- ]signed|unable to (get|verify)/i);
    expect(wrongName).toMatch(/altnames|Hostname/i);
  });
});

describe('pointTopViaAt', () => {
  it('rewrites only the sent-by of the top Via, folded or not', async () => {
    const wsinv = await readFile(join(RFC4475, 'wsinv.dat'));
    const dblreq = await readFile(join(RFC4475, 'dblreq.dat'));

    const rewrittenWsinv = pointTopViaAt(wsinv, '127.0.0.1', 40000).toString('latin1');
    const rewrittenDblreq = pointTopViaAt(dblreq, '127.0.0.1', 40001).toString('latin1');

    expect(rewrittenWsinv).toContain('127.0.0.1:40000;branch=390skdjuw');
    expect(rewrittenWsinv).not.toContain('192.0.2.2;branch=390skdjuw');
    expect(rewrittenWsinv.length).toBe(wsinv.length - '192.0.2.2'.length + '127.0.0.1:40000'.length);
    expect(rewrittenDblreq).toContain('Via: SIP/2.0/UDP 127.0.0.1:40001;branch=z9hG4bKkdjuw23492');
    // The second request of dblreq.dat keeps its own Via.
    expect(rewrittenDblreq.split('127.0.0.1:40001')).toHaveLength(2);
  });
});
