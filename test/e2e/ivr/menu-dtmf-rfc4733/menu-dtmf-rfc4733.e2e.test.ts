import { join } from 'node:path';
import { expect, it } from 'vitest';
import { decodeG711, dominantFrequency, writeToneWav } from '../../harness/audio.js';
import { startCapture } from '../../harness/capture.js';
import { startLinphone, useHarness, type Linphone, type VoixLog, type VoixUser } from '../../harness/index.js';
import { rtpFlows } from '../../harness/rtp.js';
import {
  TONE_A_HZ,
  classifyFlows,
  expectHeardTone,
  expectNoCallLeft,
  lastCall,
  letAudioFlow,
  relayPortsFromTraces,
  startCallLab,
  startTonePhone,
  waitForCallEnded,
  type CallLab,
} from '../../calls/call-helpers.js';

useHarness();

const USERS: readonly VoixUser[] = [
  { extension: '1001', name: 'Alice Martin', password: 'alice-e2e-secret-1001', transports: ['udp'] },
  { extension: '1002', name: 'Bruno Petit', password: 'bruno-e2e-secret-1002', transports: ['udp'] },
];
const CONFIG = {
  messages: [{ number: '8000', name: 'Horaires', prompt: { text: 'Nos bureaux sont ouverts du lundi au vendredi, de neuf heures à dix-huit heures.' } }],
  menus: [
    {
      number: '3000',
      name: 'Standard',
      greeting: { text: 'Bienvenue chez Voix. Pour joindre l’accueil, tapez 1. Pour connaître nos horaires, tapez 2.' },
      options: { '1': '1002', '2': '8000' },
      inter_digit_timeout: 2,
    },
  ],
};
/** B's microphone: apart from A's 1000 Hz, from the 440 Hz of French ringback and from every DTMF frequency. */
const TONE_B_HZ = 600;
/** Part of the greeting is heard before the key: a caller who knows the menu barges in. */
const BEFORE_KEY_MS = 1000;

const dtmfLogs = (logs: readonly VoixLog[], since: number): VoixLog[] => logs.slice(since).filter((log) => log.msg === 'dtmf');

/** Linphone A (1001) calls the menu; resolves once voix answered it and entered the menu. */
async function callMenu(lab: CallLab, a: Linphone): Promise<{ id: number; since: number }> {
  const since = lab.voix.mark();
  const id = await a.call(`sip:3000@127.0.0.1:${lab.voix.ports.udp}`);
  await a.waitForCallState('StreamsRunning', 10_000, { id });
  await lab.voix.waitForLog((log) => log.msg === 'menu entered' && log['menu'] === '3000', 5000, since);
  return { id, since };
}

async function startCaller(lab: CallLab): Promise<Linphone> {
  const a = await startLinphone({ account: lab.voix.account('1001', 'udp') });
  expect(await a.waitForRegistration(10_000)).toMatchObject({ ok: true });
  return a;
}

/** voix's answer to A: its relay port (leg a) and the telephone-event payload type A sends. */
function answerToCaller(a: Linphone): { port: number; telephoneEvent: number | null } {
  const answer = [...a.sipMessages()].reverse().find((m) => m.direction === 'received' && /^SIP\/2\.0 200 /.test(m.firstLine) && m.text.includes('m=audio'));
  const port = Number(/^m=audio (\d+) /m.exec(answer?.text ?? '')?.[1]);
  const event = /^a=rtpmap:(\d+) telephone-event\/8000/m.exec(answer?.text ?? '')?.[1];
  return { port, telephoneEvent: event === undefined ? null : Number(event) };
}

it('SVI-DTMF-01: Linphone presses 2 (RFC 4733) in menu 3000: voix hears it once, plays message 8000 and hangs up', async () => {
  const lab = await startCallLab({ users: USERS, config: CONFIG });
  const { voix, media } = lab;
  const capture = await startCapture({ filter: `udp portrange ${media.portMin}-${media.portMax}` });
  const a = await startCaller(lab);

  const { id, since } = await callMenu(lab, a);
  await letAudioFlow(BEFORE_KEY_MS);
  const aBeforeKey = a.mark();
  await a.dtmf('2');
  const option = await voix.waitForLog((log) => log.msg === 'menu option', 5000, since);
  const played = await voix.waitForLog((log) => log.msg === 'announcement played', 30_000, since);
  const ended = await a.waitForCallState('End', 10_000, { id, since: aBeforeKey });
  const callEnded = await waitForCallEnded(voix, since);
  const cdr = await lastCall(voix);
  await capture.stop();

  // What Linphone sent for the key: an RFC 4733 event (RFC 4733 §2.5.1: start with M, updates, the end packet three times).
  const legA = answerToCaller(a);
  expect(legA.telephoneEvent).not.toBeNull();
  const events = rtpFlows(await capture.udp())
    .filter((flow) => flow.destinationPort === legA.port)
    .flatMap((flow) => flow.packets)
    .filter((p) => p.payloadType === legA.telephoneEvent);
  expect(events.length, 'telephone-event packets from A').toBeGreaterThanOrEqual(4);
  expect(new Set(events.map((p) => p.timestamp)).size, 'one event (one RTP timestamp)').toBe(1);
  expect(events.map((p) => p.payload[0])).toEqual(events.map(() => 2));
  expect(events.filter((p) => ((p.payload[1] ?? 0) & 0x80) !== 0).length, 'end packets').toBeGreaterThanOrEqual(3);
  // One key press, one digit, however many packets carried it.
  expect(dtmfLogs(voix.logs(), since).map((log) => [log['digit'], log['source']])).toEqual([['2', 'rfc4733']]);
  expect(option).toMatchObject({ menu: '3000', key: '2', choice: '8000' });
  expect(played).toMatchObject({ message: 'message 8000' });
  expect(ended.fields.Id).toBe(String(id));
  expect(callEnded).toMatchObject({ by: 'voix', cause: 'normal', status: 200 });
  expect(cdr).toMatchObject({ caller: '1001', callee: '3000', status: 200, cause: 'normal', by: 'voix' });
  await expectNoCallLeft(lab);
});

it('SVI-DTMF-01: Linphone presses 1 (RFC 4733), which also starts 1001 and 1002: after the inter-digit timeout, 1002 rings and answers, audio flows both ways', async () => {
  const lab = await startCallLab({ users: USERS, config: CONFIG });
  const { voix, media } = lab;
  const toneA = await writeToneWav(join(lab.dir, 'tone-a.wav'), { frequencyHz: TONE_A_HZ, seconds: 20 });
  const capture = await startCapture({ filter: `udp portrange ${media.portMin}-${media.portMax}` });
  const a = await startCaller(lab);
  const b = await startTonePhone(lab, voix.account('1002', 'udp'), TONE_B_HZ);

  const { id, since } = await callMenu(lab, a);
  await letAudioFlow(BEFORE_KEY_MS);
  const bSince = b.phone.mark();
  const pressedAt = Date.now();
  await a.dtmf('1');
  const option = await voix.waitForLog((log) => log.msg === 'menu option', 10_000, since);
  const chosenAt = Date.now();
  await b.phone.waitForEvent((e) => e.type === 'CALL_INCOMING', 10_000, bSince);
  expect((await b.phone.command('accept')).ok).toBe(true);
  await b.phone.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10_000, bSince);
  const bridgedAt = Date.now();
  await a.playFile(toneA, id);
  await letAudioFlow(2000);
  const hangupAt = Date.now();
  const status = await a.callStatus(id);
  await a.terminate(id);
  await b.phone.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, bSince);
  const callEnded = await waitForCallEnded(voix, since);
  const cdr = await lastCall(voix);
  await capture.stop();

  expect(dtmfLogs(voix.logs(), since).map((log) => [log['digit'], log['source']])).toEqual([['1', 'rfc4733']]);
  // 1 could be the start of 1001 or 1002: the menu waited for more digits, then took option 1 (no direct dialling).
  expect(option).toMatchObject({ menu: '3000', key: '1', choice: '1002' });
  expect(chosenAt - pressedAt, 'from the key to the option: the inter-digit timeout').toBeGreaterThanOrEqual(1800);
  expect(voix.logs().slice(since).some((log) => log.msg === 'menu direct dial')).toBe(false);
  expect(status.fields).toMatchObject({ State: 'LinphoneCallStreamsRunning' });

  // B hears A's tone through the relay; A is sent B's tone (Linphone has no sound card to record it: read in the capture).
  await expectHeardTone(b.recordDir, TONE_A_HZ, 1, 'B hears A');
  const flows = classifyFlows(rtpFlows(await capture.udp()), relayPortsFromTraces(a, b.phone));
  const toA = (flows.voixToCaller?.packets ?? []).filter((p) => p.time * 1000 >= bridgedAt + 300 && p.time * 1000 < hangupAt && (p.payloadType === 0 || p.payloadType === 8));
  expect(toA.length, 'voix → A packets after the bridge').toBeGreaterThan(50);
  const heardByA = dominantFrequency(decodeG711(toA.map((p) => p.payload), toA[0]?.payloadType === 8 ? 8 : 0), 8000);
  expect(Math.abs(heardByA.frequencyHz - TONE_B_HZ), `A is sent ${heardByA.frequencyHz} Hz`).toBeLessThanOrEqual(20);
  expect(heardByA.purity).toBeGreaterThan(0.6);

  expect(callEnded).toMatchObject({ by: 'caller', cause: 'normal', status: 200 });
  expect(cdr).toMatchObject({ caller: '1001', callee: '3000', status: 200, cause: 'normal', by: 'caller' });
  await expectNoCallLeft(lab);
});
