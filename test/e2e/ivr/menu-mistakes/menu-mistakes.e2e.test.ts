import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { readWav } from '../../harness/audio.js';
import { startCapture } from '../../harness/capture.js';
import { recordingsIn, startBaresip, useHarness, type VoixUser } from '../../harness/index.js';
import { rtpFlows } from '../../harness/rtp.js';
import { dial, expectNoCallLeft, lastCall, startCallLab, waitForCallEnded } from '../../calls/call-helpers.js';
import { logTime, loudShare, menuEvents, relayPortFor, sentAudio, waitForPlay, waitForPlayEnded } from '../ivr-helpers.js';

useHarness();

const USERS: readonly VoixUser[] = [
  { extension: '1001', name: 'Alice Martin', password: 'alice-e2e-secret-1001', transports: ['udp'] },
  { extension: '1002', name: 'Bruno Petit', password: 'bruno-e2e-secret-1002', transports: ['udp'] },
];
const CONFIG = {
  messages: [{ number: '8000', name: 'Horaires', prompt: { text: 'Nos bureaux sont ouverts du lundi au vendredi.' } }],
  menus: [
    {
      number: '3000',
      name: 'Standard',
      greeting: { text: 'Bienvenue chez Voix. Pour joindre l’accueil, tapez 1. Pour le service technique, tapez 3.' },
      options: { '1': '1002', '3': '3100' },
      direct_dial: false,
      timeout: 2,
      max_retries: 2,
      invalid_prompt: { text: 'Ce choix n’existe pas.' },
      timeout_prompt: { text: 'Je n’ai pas entendu votre choix.' },
      on_failure: '8000',
    },
    { number: '3100', name: 'Technique', greeting: { text: 'Service technique.' }, options: { '0': 'back' } },
  ],
};
const GREETING = ['menu/3000/greeting'];
const AFTER_INVALID = ['menu/3000/invalid', 'menu/3000/greeting'];
const AFTER_TIMEOUT = ['menu/3000/timeout', 'menu/3000/greeting'];
/** Kept off each edge of a window: log times and capture times are a few ms apart, and a prompt's first and last words are quieter. */
const MARGIN_MS = 300;

it('SVI-ERREURS-01: baresip in menu 3000: greeting heard, unknown key → invalid prompt and greeting, no key → timeout prompt and greeting, a third mistake → fallback message, then voix hangs up', async () => {
  const lab = await startCallLab({ users: USERS, config: CONFIG });
  const { voix, media } = lab;
  const capture = await startCapture({ filter: `udp portrange ${media.portMin}-${media.portMax}` });
  // baresip's own sine as microphone: a WAV source would end the call when the file ends, and this call is long.
  const recordDir = join(lab.dir, 'recordings-1001');
  await mkdir(recordDir, { recursive: true });
  const phone = await startBaresip({ account: voix.account('1001', 'udp'), recordDir });
  expect(await phone.waitForRegistration(10_000)).toMatchObject({ ok: true });
  const a = { phone, recordDir };
  const since = voix.mark();
  const aSince = a.phone.mark();

  await dial(a.phone, voix, '3000');
  await a.phone.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10_000, aSince);
  await voix.waitForLog((log) => log.msg === 'menu entered' && log['menu'] === '3000', 5000, since);
  const greetingStart = await waitForPlay(voix, GREETING, since);
  const greetingEnd = await waitForPlayEnded(voix, GREETING, since);
  expect(greetingEnd['reason']).toBe('completed');

  // An unknown key, a second after the greeting.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await a.phone.pressKey('9');
  // No key: the key timeout (2 s) runs from the end of the greeting.
  const afterInvalidEnd = await waitForPlayEnded(voix, AFTER_INVALID, since);
  const timeoutMistake = await voix.waitForLog((log) => log.msg === 'menu mistake' && log['kind'] === 'timeout', 10_000, since);
  await waitForPlayEnded(voix, AFTER_TIMEOUT, since);
  // Still no key: the third mistake, past max_retries, goes to on_failure.
  await voix.waitForLog((log) => log.msg === 'announcement played', 30_000, since);
  await a.phone.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, aSince);
  const callEnded = await waitForCallEnded(voix, since);
  const cdr = await lastCall(voix);
  await capture.stop();

  expect(menuEvents(voix.logs(), since)).toEqual([
    ['menu entered', { menu: '3000', name: 'Standard', via: 'start', depth: 1 }],
    ['menu play', { prompts: GREETING }],
    ['menu play ended', { prompts: GREETING, reason: 'completed' }],
    ['dtmf', { digit: '9', source: 'rfc4733' }],
    ['menu mistake', { menu: '3000', kind: 'invalid', input: '9', mistakes: 1, maxRetries: 2 }],
    ['menu play', { prompts: AFTER_INVALID }],
    ['menu play ended', { prompts: AFTER_INVALID, reason: 'completed' }],
    ['menu mistake', { menu: '3000', kind: 'timeout', input: null, mistakes: 2, maxRetries: 2 }],
    ['menu play', { prompts: AFTER_TIMEOUT }],
    ['menu play ended', { prompts: AFTER_TIMEOUT, reason: 'completed' }],
    ['menu mistake', { menu: '3000', kind: 'timeout', input: null, mistakes: 3, maxRetries: 2 }],
    ['menu failure', { menu: '3000', mistakes: 3, onFailure: '8000' }],
    ['menu transfer', { menu: '3000', destination: '8000', via: 'failure' }],
    ['announcement played', { message: 'message 8000' }],
  ]);
  const timeoutAfterS = (logTime(timeoutMistake) - logTime(afterInvalidEnd)) / 1000;
  expect(timeoutAfterS, 'the key timeout runs from the end of the greeting').toBeGreaterThanOrEqual(1.9);
  expect(timeoutAfterS).toBeLessThan(3);
  expect(callEnded).toMatchObject({ by: 'voix', cause: 'normal', status: 200 });
  expect(cdr).toMatchObject({ caller: '1001', callee: '3000', status: 200, cause: 'normal', by: 'voix' });

  // On the wire: voix sends speech while the greeting plays, and nothing loud while it waits for a key.
  const flows = rtpFlows(await capture.udp());
  const port = relayPortFor(a.phone);
  const greeting = sentAudio(flows, port, logTime(greetingStart) + MARGIN_MS, logTime(greetingEnd) - MARGIN_MS);
  const waiting = sentAudio(flows, port, logTime(afterInvalidEnd) + MARGIN_MS, logTime(timeoutMistake) - MARGIN_MS);
  const greetingMs = logTime(greetingEnd) - logTime(greetingStart) - 2 * MARGIN_MS;
  expect(greeting.packets, 'packets while the greeting played (one per 20 ms)').toBeGreaterThanOrEqual(0.9 * (greetingMs / 20));
  expect(greeting.loudShare, 'share of loud packets while the greeting played').toBeGreaterThan(0.5);
  expect(waiting.packets === 0 || waiting.loudShare < 0.05, `while voix waited for a key: ${JSON.stringify(waiting)}`).toBe(true);
  // And A heard it: baresip records what it decoded (packets only, gaps left out), speech for most of it.
  const recording = (await recordingsIn(a.recordDir)).at(-1);
  expect(recording, 'A’s recording').toBeDefined();
  const heard = await readWav(recording?.heard ?? '');
  const heardSeconds = heard.samples.length / heard.sampleRate;
  expect(heardSeconds, 'seconds of audio A decoded').toBeGreaterThanOrEqual(greetingMs / 1000);
  expect(loudShare(heard, 0, heardSeconds), 'share of loud 20 ms frames in what A heard').toBeGreaterThan(0.5);
  await expectNoCallLeft(lab);
});
