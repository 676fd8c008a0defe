import { expect, it } from 'vitest';
import { useHarness, type VoixUser } from '../../harness/index.js';
import { TONE_A_HZ, dial, expectNoCallLeft, heardTone, lastCall, startCallLab, startTonePhone, waitForCallEnded } from '../../calls/call-helpers.js';

useHarness();

const USERS: readonly VoixUser[] = [{ extension: '1001', name: 'Alice Martin', password: 'alice-e2e-secret-1001', transports: ['tls'] }];
const MESSAGE = 'Bonjour. Nos bureaux sont fermés. Merci de rappeler demain à partir de neuf heures.';

it('REGLES-MESSAGE-01: calling a message number: voix answers, the caller hears the spoken message, then voix hangs up', async () => {
  const lab = await startCallLab({ users: USERS, config: { messages: [{ number: '8000', name: 'Fermeture', prompt: { text: MESSAGE } }] } });
  const { voix } = lab;
  const a = await startTonePhone(lab, { ...voix.account('1001', 'tls'), extra: ';mediaenc=srtp-mand' }, TONE_A_HZ, { caFile: voix.caPath ?? undefined });

  const since = voix.mark();
  const aSince = a.phone.mark();
  await dial(a.phone, voix, '8000', 'tls');
  await a.phone.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10_000, aSince);
  const closed = await a.phone.waitForEvent((e) => e.type === 'CALL_CLOSED', 30_000, aSince);
  const played = await voix.waitForLog((log) => log.msg === 'announcement played', 1000, since);
  const ended = await waitForCallEnded(voix, since);
  const heard = await heardTone(a.recordDir);
  const cdr = await lastCall(voix);

  expect(played).toMatchObject({ message: 'message 8000' });
  // baresip reports a BYE from the other side as "Connection reset by peer" or the BYE's reason: what matters is that voix ended it.
  expect(ended).toMatchObject({ by: 'voix', cause: 'normal', status: 200 });
  expect(closed.type).toBe('CALL_CLOSED');
  // Speech: more than a second of sound, spread over many frequencies (a tone would have most of its power in one).
  expect(heard.seconds).toBeGreaterThan(1);
  expect(heard.purity).toBeLessThan(0.5);
  expect(cdr).toMatchObject({ caller: '1001', callee: '8000', status: 200, cause: 'normal', by: 'voix' });
  await expectNoCallLeft(lab);
});
