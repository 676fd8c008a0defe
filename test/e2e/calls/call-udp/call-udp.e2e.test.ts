import { expect, it } from 'vitest';
import { byteEntropy, decodeG711, dominantFrequency } from '../../harness/audio.js';
import { startCapture } from '../../harness/capture.js';
import { useHarness } from '../../harness/index.js';
import { checkRtpFlow, rtpFlows } from '../../harness/rtp.js';
import {
  TONE_A_HZ,
  TONE_B_HZ,
  classifyFlows,
  establishCall,
  expectHeardTone,
  expectNoCallLeft,
  lastCall,
  letAudioFlow,
  relayPortsFromTraces,
  relaySockets,
  startCallLab,
  startTonePhone,
  waitForCallEnded,
} from '../call-helpers.js';

useHarness();

it('APPEL-UDP-01: two baresip phones over UDP hear each other through the relay, the caller hangs up', async () => {
  const lab = await startCallLab();
  const { voix, media } = lab;
  const a = await startTonePhone(lab, voix.account('1001', 'udp'), TONE_A_HZ);
  const b = await startTonePhone(lab, voix.account('1002', 'udp'), TONE_B_HZ);
  const capture = await startCapture({ filter: `udp portrange ${media.portMin}-${media.portMax}` });

  await establishCall(a.phone, b.phone, voix, '1002');
  const socketsDuringCall = await relaySockets(lab);
  await letAudioFlow(2500);
  const since = voix.mark();
  const bSince = b.phone.mark();
  expect((await a.phone.command('hangup')).ok).toBe(true);
  const bClosed = await b.phone.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, bSince);
  await waitForCallEnded(voix, since);
  const cdr = await lastCall(voix);
  await capture.stop();

  // Both phones heard the other one's tone, through voix.
  await expectHeardTone(a.recordDir, TONE_B_HZ, 1.5, 'A (1001) heard');
  await expectHeardTone(b.recordDir, TONE_A_HZ, 1.5, 'B (1002) heard');
  // B saw the BYE; the CDR says a normal end, hung up by the caller, media both ways.
  expect(bClosed.param).toMatch(/reset by peer/i);
  expect(cdr).toMatchObject({ caller: '1001', callee: '1002', status: 200, cause: 'normal', by: 'caller' });
  expect(cdr.media?.caller.received ?? 0).toBeGreaterThan(50);
  expect(cdr.media?.callee.received ?? 0).toBeGreaterThan(50);
  // voix offered each phone a port of its relay, plain RTP (RTP/AVP, no a=crypto).
  const ports = relayPortsFromTraces(a.phone, b.phone);
  const inviteToB = b.phone.sipMessages().find((m) => m.firstLine.startsWith('INVITE ') && m.text.includes('m=audio'));
  expect(inviteToB?.text).toMatch(/^m=audio \d+ RTP\/AVP /m);
  expect(inviteToB?.text).not.toContain('a=crypto');
  for (const port of [ports.a, ports.b]) {
    expect(port).toBeGreaterThanOrEqual(media.portMin);
    expect(port).toBeLessThanOrEqual(media.portMax);
  }
  // On the wire, in clear: G.711 whose payloads are the tones (the check APPEL-TLS-SRTP-01 turns around).
  const flows = classifyFlows(rtpFlows(await capture.udp()), ports);
  const expected = { callerToVoix: TONE_A_HZ, voixToCallee: TONE_A_HZ, calleeToVoix: TONE_B_HZ, voixToCaller: TONE_B_HZ } as const;
  for (const [direction, toneHz] of Object.entries(expected) as [keyof typeof expected, number][]) {
    const flow = flows[direction];
    expect(flow?.packets.length ?? 0, `${direction}: RTP packets`).toBeGreaterThan(50);
    if (flow === undefined) continue;
    const check = checkRtpFlow(flow);
    expect(check.versions, direction).toEqual([2]);
    expect(check.payloadTypes, direction).toEqual([0]);
    const payloads = decodeG711(flow.packets.map((p) => p.payload), 0);
    const peak = dominantFrequency(payloads, 8000);
    expect(Math.abs(peak.frequencyHz - toneHz), `${direction}: payload dominant frequency ${peak.frequencyHz} Hz`).toBeLessThanOrEqual(20);
    expect(peak.purity, `${direction}: payload purity`).toBeGreaterThan(0.6);
    expect(byteEntropy(flow.packets.map((p) => p.payload)), `${direction}: payload entropy (bits/byte)`).toBeLessThan(6);
  }
  // Nothing left behind.
  expect(socketsDuringCall.length).toBeGreaterThan(0);
  await expectNoCallLeft(lab);
});
