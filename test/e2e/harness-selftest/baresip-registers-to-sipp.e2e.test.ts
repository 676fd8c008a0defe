/**
 * The harness against real peers, without voix: SIPp plays a registrar
 * (401, then 200 when the digest is right) and baresip registers to it.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startBaresip } from '../harness/baresip.js';
import { registerCleanup, useHarness } from '../harness/cleanup.js';
import { startSipp } from '../harness/sipp.js';

useHarness();

const REGISTRAR = fileURLToPath(new URL('./sipp/uas-registrar-401-then-200.xml', import.meta.url));
const CALLEE = fileURLToPath(new URL('./sipp/uas-answer-then-expect-bye.xml', import.meta.url));
const USER = '1001';
const PASSWORD = 'harness-password-1001';

describe('baresip against a SIPp registrar', () => {
  it.each(['udp', 'tcp'] as const)('registers over %s, then unregisters (401 answered both times)', async (transport) => {
    const registrar = await startSipp({
      scenario: REGISTRAR,
      transport,
      calls: 1,
      keys: { user: USER, password: PASSWORD },
      timeoutMs: 20_000,
    });
    const phone = await startBaresip({
      account: { user: USER, password: PASSWORD, domain: `127.0.0.1:${registrar.localPort}`, transport, regint: 600 },
    });

    const registration = await phone.waitForRegistration(10_000);
    const unregistration = await phone.unregister();
    const sipp = await registrar.result();

    expect(registration).toMatchObject({ ok: true, status: '200 OK' });
    expect(unregistration.status).toBe('200 OK');
    expect(sipp.logs).toContain('register digest valid=true');
    expect(sipp.logs).toContain('unregister digest valid=true contact expires=0 seen=expires=0');
    expect(sipp).toMatchObject({ exitCode: 0, successful: 1, failed: 0 });
    expect(sipp.messages).toContain(`REGISTER sip:127.0.0.1:${registrar.localPort};transport=${transport}`);
  });

  it('reports the status line of a refused registration (REGISTER_FAIL)', async () => {
    const registrar = await startSipp({ scenario: REGISTRAR, calls: 1, keys: { user: USER, password: PASSWORD } });
    const phone = await startBaresip({
      account: { user: USER, password: 'not-the-right-password', domain: `127.0.0.1:${registrar.localPort}`, transport: 'udp' },
    });

    const registration = await phone.waitForRegistration(10_000);
    const sipp = await registrar.result();

    expect(registration).toMatchObject({ ok: false, status: '403 Forbidden' });
    expect(sipp.logs).toContain('register digest valid=false');
  });

  it('registers an AOR on a domain name through an outbound proxy (no DNS needed)', async () => {
    const registrar = await startSipp({ scenario: REGISTRAR, calls: 1, keys: { user: USER, password: PASSWORD } });
    const phone = await startBaresip({
      account: { user: USER, password: PASSWORD, domain: 'harness.test', outbound: `127.0.0.1:${registrar.localPort}`, transport: 'udp' },
    });

    const registration = await phone.waitForRegistration(10_000);
    await phone.unregister();
    const sipp = await registrar.result();

    expect(registration.ok).toBe(true);
    expect(phone.aor).toBeNull();
    expect(sipp.messages).toContain('REGISTER sip:harness.test;transport=udp SIP/2.0');
    expect(sipp.messages).toContain(`Route: <sip:127.0.0.1:${registrar.localPort};transport=udp;lr>`);
    expect(sipp.messages).toContain('To: <sip:1001@harness.test>');
  });

  it('sends UDP from the local address it is given', async () => {
    // An independent observer: a bare UDP socket noting where REGISTERs come from.
    const sources: RemoteInfo[] = [];
    const registrar = createSocket('udp4');
    registerCleanup('close UDP observer', () => new Promise<void>((resolve) => registrar.close(() => resolve())));
    registrar.on('message', (message, source) => {
      sources.push(source);
      const request = message.toString('latin1');
      const headers = request
        .split('\r\n')
        .filter((line) => /^(via|from|to|call-id|cseq|contact):/i.test(line))
        .map((line) => (/^to:/i.test(line) ? `${line};tag=observer` : line));
      registrar.send(`SIP/2.0 200 OK\r\n${headers.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`, source.port, source.address);
    });
    await new Promise<void>((resolve) => registrar.bind(0, '127.0.0.1', () => resolve()));
    const phone = await startBaresip({
      localAddress: '127.0.0.5',
      account: { user: USER, password: PASSWORD, domain: `127.0.0.1:${registrar.address().port}`, transport: 'udp' },
    });

    const registration = await phone.waitForRegistration(10_000);

    expect(registration.ok).toBe(true);
    expect(sources.map((source) => source.address)).toEqual(['127.0.0.5']);
    await phone.stop({ force: true });
  });
});

describe('baresip calling SIPp', () => {
  it('places a call that SIPp answers, then hangs up', async () => {
    const callee = await startSipp({ scenario: CALLEE, calls: 1 });
    const phone = await startBaresip({
      account: { user: '2001', password: 'unused-password-2001', domain: `127.0.0.1:${callee.localPort}`, transport: 'udp', regint: 0 },
    });

    const dialed = await phone.command('dial', `sip:service@127.0.0.1:${callee.localPort}`);
    const established = await phone.waitForEvent((event) => event.type === 'CALL_ESTABLISHED', 10_000);
    const hungUp = await phone.command('hangup');
    const closed = await phone.waitForEvent((event) => event.type === 'CALL_CLOSED', 10_000);
    const sipp = await callee.result();

    expect(dialed.ok).toBe(true);
    expect(established.param).toContain(`127.0.0.1:${callee.localPort}`);
    expect(hungUp.ok).toBe(true);
    expect(closed.type).toBe('CALL_CLOSED');
    expect(sipp).toMatchObject({ exitCode: 0, successful: 1 });
  });
});
