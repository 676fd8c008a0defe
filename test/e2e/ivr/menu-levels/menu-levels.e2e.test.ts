import { expect, it } from 'vitest';
import { dominantFrequency, readWav, sliceSeconds } from '../../harness/audio.js';
import { recordingsIn, useHarness, type VoixUser } from '../../harness/index.js';
import { TONE_A_HZ, dial, expectHeardTone, expectNoCallLeft, lastCall, letAudioFlow, startCallLab, startTonePhone, waitForCallEnded } from '../../calls/call-helpers.js';
import { logTime, menuEvents, waitForPlay, waitForPlayEnded } from '../ivr-helpers.js';

useHarness();

const USERS: readonly VoixUser[] = [
  { extension: '1001', name: 'Alice Martin', password: 'alice-e2e-secret-1001', transports: ['udp'] },
  { extension: '1002', name: 'Bruno Petit', password: 'bruno-e2e-secret-1002', transports: ['udp'] },
];
const CONFIG = {
  menus: [
    {
      number: '3000',
      name: 'Standard',
      greeting: { text: 'Bienvenue chez Voix. Pour joindre l’accueil, tapez 1. Pour le service technique, tapez 3. Pour réécouter ce message, tapez étoile.' },
      options: { '1': '1002', '3': '3100', '*': 'repeat' },
      direct_dial: false,
    },
    {
      number: '3100',
      name: 'Technique',
      greeting: { text: 'Service technique. Pour revenir au menu précédent, tapez 0.' },
      options: { '0': 'back' },
      direct_dial: false,
    },
  ],
};
/** B's microphone: apart from A's 1000 Hz, from the 440 Hz of French ringback and from every DTMF frequency. */
const TONE_B_HZ = 600;
const GREETING_3000 = ['menu/3000/greeting'];
const GREETING_3100 = ['menu/3100/greeting'];

it('SVI-NIVEAUX-01: baresip barges into menu 3000 with 3, goes back from sub-menu 3100 with 0, then 1 connects to 1002: each hears the other', async () => {
  const lab = await startCallLab({ users: USERS, config: CONFIG });
  const { voix } = lab;
  const a = await startTonePhone(lab, voix.account('1001', 'udp'), TONE_A_HZ);
  const b = await startTonePhone(lab, voix.account('1002', 'udp'), TONE_B_HZ);
  const since = voix.mark();
  const aSince = a.phone.mark();
  const bSince = b.phone.mark();

  await dial(a.phone, voix, '3000');
  await a.phone.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10_000, aSince);
  const entered = await voix.waitForLog((log) => log.msg === 'menu entered' && log['menu'] === '3000', 5000, since);
  await waitForPlay(voix, GREETING_3000, since);
  await letAudioFlow(800);

  // Barge-in: 3 during the greeting.
  const pressed3At = Date.now();
  await a.phone.pressKey('3');
  const sub = await voix.waitForLog((log) => log.msg === 'menu entered' && log['menu'] === '3100', 5000, since);
  const subGreeting = await waitForPlay(voix, GREETING_3100, since);
  const firstGreetingEnd = await waitForPlayEnded(voix, GREETING_3000, since);
  await letAudioFlow(500);

  // Back to 3000 during the sub-menu's greeting, then 1 at once.
  const backSince = voix.mark();
  await a.phone.pressKey('0');
  await voix.waitForLog((log) => log.msg === 'menu entered' && log['menu'] === '3000', 5000, backSince);
  await waitForPlay(voix, GREETING_3000, backSince);
  await a.phone.pressKey('1');
  await voix.waitForLog((log) => log.msg === 'menu option' && log['key'] === '1', 5000, backSince);
  await b.phone.waitForEvent((e) => e.type === 'CALL_INCOMING', 10_000, bSince);
  expect((await b.phone.command('accept')).ok).toBe(true);
  await b.phone.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10_000, bSince);
  const bridgedAt = Date.now();
  await letAudioFlow(2000);
  const hangupAt = Date.now();
  expect((await a.phone.command('hangup')).ok).toBe(true);
  await b.phone.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, bSince);
  await a.phone.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, aSince);
  const callEnded = await waitForCallEnded(voix, since);
  const cdr = await lastCall(voix);

  const events = menuEvents(voix.logs(), since);
  const keys = events.filter(([msg]) => msg === 'dtmf').map(([, fields]) => [fields['digit'], fields['source']]);
  expect(keys, 'each key once, from RFC 4733').toEqual([
    ['3', 'rfc4733'],
    ['0', 'rfc4733'],
    ['1', 'rfc4733'],
  ]);
  expect(events.filter(([msg]) => msg === 'menu option' || msg === 'menu entered')).toEqual([
    ['menu entered', { menu: '3000', name: 'Standard', via: 'start', depth: 1 }],
    ['menu option', { menu: '3000', key: '3', choice: '3100' }],
    ['menu entered', { menu: '3100', name: 'Technique', via: 'option', depth: 2 }],
    ['menu option', { menu: '3100', key: '0', choice: 'back' }],
    ['menu entered', { menu: '3000', name: 'Standard', via: 'back', depth: 1 }],
    ['menu option', { menu: '3000', key: '1', choice: '1002' }],
  ]);
  // The key acted during the greeting, not after it: the sub-menu's greeting started within a second of the key.
  expect(logTime(subGreeting) - pressed3At, 'from key 3 to the sub-menu’s greeting (ms)').toBeLessThan(1000);
  expect(logTime(sub)).toBeGreaterThanOrEqual(logTime(entered));
  expect(['replaced', 'stopped']).toContain(firstGreetingEnd['reason']);

  // B hears A's tone; A, after the prompts, hears B's.
  await expectHeardTone(b.recordDir, TONE_A_HZ, 1, 'B hears A');
  const recording = (await recordingsIn(a.recordDir)).at(-1);
  expect(recording, 'A’s recording').toBeDefined();
  const heardByA = await readWav(recording?.heard ?? '');
  // baresip records the audio it decoded, gaps left out: B's 2 s are the end of A's recording, after the prompts and the ringback.
  const heardSeconds = heardByA.samples.length / heardByA.sampleRate;
  const fromS = heardSeconds - (hangupAt - bridgedAt) / 1000 + 0.5;
  const toS = heardSeconds - 0.3;
  const peak = dominantFrequency(sliceSeconds(heardByA, fromS, toS), heardByA.sampleRate);
  expect(Math.abs(peak.frequencyHz - TONE_B_HZ), `A hears ${peak.frequencyHz} Hz after the bridge`).toBeLessThanOrEqual(20);
  expect(peak.purity).toBeGreaterThan(0.6);

  expect(callEnded).toMatchObject({ by: 'caller', cause: 'normal', status: 200 });
  expect(cdr).toMatchObject({ caller: '1001', callee: '3000', status: 200, cause: 'normal', by: 'caller' });
  await expectNoCallLeft(lab);
});
