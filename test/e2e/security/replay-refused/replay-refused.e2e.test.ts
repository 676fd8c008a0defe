import { expect, it } from 'vitest';
import { sendRaw, startBaresip, startVoix, useHarness } from '../../harness/index.js';

useHarness();

it('SEC-REPLAY-01: replaying a captured authenticated REGISTER gets a new challenge, not a binding', async () => {
  const voix = await startVoix();
  const phone = await startBaresip({ account: voix.account('1001', 'udp') });
  await phone.waitForRegistration(10_000);
  const sent = phone.sipMessages().filter((m) => m.firstLine.startsWith('REGISTER') && /\r\nAuthorization: Digest /i.test(m.text));
  const captured = sent[sent.length - 1];

  // A new Via branch (not covered by the digest) makes it a new request, not a retransmission.
  const forged = (captured?.text ?? '').replace(/branch=[^;\r\n]+/, 'branch=z9hG4bKreplayed1');
  const replay = await sendRaw({ transport: 'udp', host: '127.0.0.1', port: voix.ports.udp }, Buffer.from(forged, 'latin1'), { timeoutMs: 3000 });
  const logged = await voix.waitForLog((l) => l.msg === 'security' && l['event'] === 'nonce_replay', 3000);

  expect(captured).toBeDefined();
  expect(replay.responses.map((r) => r.statusCode)).toEqual([401]);
  expect(logged).toMatchObject({ event: 'nonce_replay', user: '1001', method: 'REGISTER' });
});
