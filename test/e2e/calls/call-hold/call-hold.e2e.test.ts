import { join } from 'node:path';
import { expect, it } from 'vitest';
import { writeToneWav } from '../../harness/audio.js';
import { startCapture } from '../../harness/capture.js';
import { startLinphone, useHarness, type TracedSipMessage } from '../../harness/index.js';
import type { RtpFlow } from '../../harness/rtp.js';
import { rtpFlows } from '../../harness/rtp.js';
import {
  TONE_A_HZ,
  TONE_B_HZ,
  classifyFlows,
  expectNoCallLeft,
  lastCall,
  letAudioFlow,
  relayPortsFromTraces,
  startCallLab,
  startTonePhone,
  waitForCallEnded,
} from '../call-helpers.js';

useHarness();

/** The media direction attribute of an SDP (sendrecv when none is written, RFC 3264 §5.1). */
function direction(message: TracedSipMessage): string {
  return /^a=(sendrecv|sendonly|recvonly|inactive)\r?$/m.exec(message.text)?.[1] ?? 'sendrecv';
}

/** Packets of a flow captured between two instants (ms since the epoch). */
function packetsBetween(flow: RtpFlow | undefined, fromMs: number, toMs: number): number {
  return flow === undefined ? 0 : flow.packets.filter((p) => p.time * 1000 >= fromMs && p.time * 1000 < toMs).length;
}

/** How long each phase lasts: enough for 50 packets per direction at 20 ms, the assertion is about that audio. */
const PHASE_MS = 1500;
/** Left out at the start of a phase: the re-INVITE's answer reaches the relay and the phones a few ms apart. */
const SETTLE_MS = 300;

it('APPEL-ATTENTE-01: hold and resume from the caller: voix relays the direction, media towards the held phone stops, then flows again', async () => {
  const lab = await startCallLab();
  const { voix, media } = lab;
  const toneA = await writeToneWav(join(lab.dir, 'tone-a.wav'), { frequencyHz: TONE_A_HZ, seconds: 20 });
  const capture = await startCapture({ filter: `udp portrange ${media.portMin}-${media.portMax}` });
  // A is Linphone (baresip 1.0 has no hold command); B is baresip, whose SIP trace shows what voix relayed.
  const a = await startLinphone({ account: voix.account('1001', 'udp') });
  expect(await a.waitForRegistration(10_000)).toMatchObject({ ok: true });
  const b = await startTonePhone(lab, voix.account('1002', 'udp'), TONE_B_HZ);

  const callId = await a.call(`sip:1002@127.0.0.1:${voix.ports.udp}`);
  await b.phone.waitForEvent((e) => e.type === 'CALL_INCOMING', 10_000);
  expect((await b.phone.command('accept')).ok).toBe(true);
  await a.waitForCallState('StreamsRunning', 10_000, { id: callId });
  await a.playFile(toneA, callId);
  await letAudioFlow(PHASE_MS);

  // Hold.
  const bSipBeforeHold = b.phone.sipMark();
  const aBeforeHold = a.mark();
  const aSipBeforeHold = a.sipMark();
  const holdAsked = Date.now();
  expect((await a.command(`call-pause ${callId}`)).ok).toBe(true);
  await a.waitForCallState('Paused', 10_000, { id: callId, since: aBeforeHold });
  const held = Date.now();
  const holdInviteToB = await b.phone.waitForSipMessage((m) => m.firstLine.startsWith('INVITE ') && m.text.includes('m=audio'), 5000, bSipBeforeHold);
  const holdAnswerFromB = await b.phone.waitForSipMessage((m) => /^SIP\/2\.0 200 /.test(m.firstLine) && m.text.includes('m=audio'), 5000, bSipBeforeHold);
  const holdAnswerToA = await a.waitForSipMessage((m) => m.direction === 'received' && /^SIP\/2\.0 200 /.test(m.firstLine) && m.text.includes('m=audio'), 5000, aSipBeforeHold);
  await letAudioFlow(PHASE_MS);

  // Resume.
  const bSipBeforeResume = b.phone.sipMark();
  const aBeforeResume = a.mark();
  const resumeAsked = Date.now();
  expect((await a.command(`call-resume ${callId}`)).ok).toBe(true);
  await a.waitForCallState('StreamsRunning', 10_000, { id: callId, since: aBeforeResume });
  const resumed = Date.now();
  const resumeInviteToB = await b.phone.waitForSipMessage((m) => m.firstLine.startsWith('INVITE ') && m.text.includes('m=audio'), 5000, bSipBeforeResume);
  await a.playFile(toneA, callId);
  await letAudioFlow(PHASE_MS);
  const hangupAsked = Date.now();

  const since = voix.mark();
  await a.terminate(callId);
  await b.phone.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000);
  await waitForCallEnded(voix, since);
  const cdr = await lastCall(voix);
  await capture.stop();

  // What voix relayed to B: A's hold as sendonly (B answers recvonly), then back to sendrecv.
  expect(direction(holdInviteToB)).toBe('sendonly');
  expect(direction(holdAnswerFromB)).toBe('recvonly');
  expect(direction(holdAnswerToA)).toBe('recvonly');
  expect(direction(resumeInviteToB)).toBe('sendrecv');

  const flows = classifyFlows(rtpFlows(await capture.udp()), relayPortsFromTraces(a, b.phone));
  const count = (flow: keyof typeof flows, from: number, to: number) => packetsBetween(flows[flow], from, to);
  const phases = {
    before: { toA: count('voixToCaller', holdAsked - PHASE_MS + SETTLE_MS, holdAsked), toB: count('voixToCallee', holdAsked - PHASE_MS + SETTLE_MS, holdAsked) },
    hold: { toA: count('voixToCaller', held + SETTLE_MS, resumeAsked), fromB: count('calleeToVoix', held + SETTLE_MS, resumeAsked) },
    after: { toA: count('voixToCaller', resumed + SETTLE_MS, hangupAsked), toB: count('voixToCallee', resumed + SETTLE_MS, hangupAsked) },
  };
  // Talking both ways before the hold.
  const seen = JSON.stringify(phases);
  expect(phases.before.toA, `voix → A before hold; packets per phase: ${seen}`).toBeGreaterThan(40);
  expect(phases.before.toB, 'voix → B before hold').toBeGreaterThan(40);
  // On hold: nothing goes towards the held direction (B → voix → A), whatever B still sends.
  expect(phases.hold.toA, `voix → A on hold (B sent ${phases.hold.fromB})`).toBe(0);
  // Resumed: both ways again.
  expect(phases.after.toA, 'voix → A after resume').toBeGreaterThan(40);
  expect(phases.after.toB, 'voix → B after resume').toBeGreaterThan(40);

  expect(cdr).toMatchObject({ caller: '1001', callee: '1002', status: 200, cause: 'normal', by: 'caller' });
  await expectNoCallLeft(lab);
});
