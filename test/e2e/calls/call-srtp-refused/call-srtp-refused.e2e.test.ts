import { expect, it } from 'vitest';
import { startBaresip, useHarness, type VoixUser } from '../../harness/index.js';
import { dial, expectNoCallLeft, finalInviteResponse, lastCall, startCallLab, waitForCallEnded } from '../call-helpers.js';

useHarness();

const USERS: readonly VoixUser[] = [
  // TLS only, SRTP required (written out, though it is also the default for a TLS-only account).
  { extension: '1001', name: 'Alice Martin', password: 'alice-e2e-secret-1001', transports: ['tls'], srtp: 'required' },
  { extension: '1002', name: 'Bruno Petit', password: 'bruno-e2e-secret-1002', transports: ['udp', 'tcp', 'tls'] },
];

it('APPEL-SRTP-REFUS-01: a user whose policy is SRTP required offers plain RTP: 488, the callee never rings', async () => {
  const lab = await startCallLab({ users: USERS });
  const { voix } = lab;
  const caFile = voix.caPath ?? undefined;
  // No mediaenc: baresip offers RTP/AVP without a=crypto.
  const a = await startBaresip({ account: voix.account('1001', 'tls'), caFile });
  const b = await startBaresip({ account: voix.account('1002', 'udp') });
  await a.waitForRegistration(10_000);
  await b.waitForRegistration(10_000);

  const since = voix.mark();
  await dial(a, voix, '1002', 'tls');
  const aClosed = await a.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000);
  await waitForCallEnded(voix, since);
  const cdr = await lastCall(voix);

  const offer = a.sipMessages().find((m) => m.firstLine.startsWith('INVITE ') && m.text.includes('m=audio'));
  expect(offer?.text).toMatch(/^m=audio \d+ RTP\/AVP /m);
  expect(offer?.text).not.toContain('a=crypto');
  expect(finalInviteResponse(a)?.firstLine).toMatch(/^SIP\/2\.0 488 /);
  expect(aClosed.param).toMatch(/^488 /);
  expect(b.events().some((e) => e.type === 'CALL_INCOMING')).toBe(false);
  expect(b.sipMessages().some((m) => m.firstLine.startsWith('INVITE '))).toBe(false);
  expect(cdr).toMatchObject({ caller: '1001', callee: '1002', status: 488, cause: 'media-refused' });
  await expectNoCallLeft(lab);
});
