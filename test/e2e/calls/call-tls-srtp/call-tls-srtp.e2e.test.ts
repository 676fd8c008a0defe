import { expect, it } from 'vitest';
import { byteEntropy, decodeG711, dominantFrequency } from '../../harness/audio.js';
import { startCapture } from '../../harness/capture.js';
import { useHarness, type VoixUser } from '../../harness/index.js';
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

/** TLS-only accounts: voix's default SRTP policy for them is "required". */
const TLS_USERS: readonly VoixUser[] = [
  { extension: '1001', name: 'Alice Martin', password: 'alice-e2e-secret-1001', transports: ['tls'] },
  { extension: '1002', name: 'Bruno Petit', password: 'bruno-e2e-secret-1002', transports: ['tls'] },
];

/** Text that must never appear in clear on the TLS port: SIP start lines and headers, SDP, SDES keys. */
const CLEARTEXT_MARKERS = ['SIP/2.0', 'INVITE sip:', 'REGISTER sip:', 'Via: SIP', 'm=audio', 'a=crypto', 'inline:'];

it('APPEL-TLS-SRTP-01: a call over TLS with SRTP on both legs: the phones hear the tones, the wire shows neither SIP nor audio', async () => {
  const lab = await startCallLab({ users: TLS_USERS });
  const { voix, media } = lab;
  const caFile = voix.caPath ?? undefined;
  expect(caFile).toBeDefined();
  const srtp = ';mediaenc=srtp-mand';
  const capture = await startCapture({ filter: `(udp portrange ${media.portMin}-${media.portMax}) or (tcp port ${voix.ports.tls})` });
  const a = await startTonePhone(lab, { ...voix.account('1001', 'tls'), extra: srtp }, TONE_A_HZ, { caFile });
  const b = await startTonePhone(lab, { ...voix.account('1002', 'tls'), extra: srtp }, TONE_B_HZ, { caFile });

  await establishCall(a.phone, b.phone, voix, '1002', { transport: 'tls' });
  const activeCalls = await voix.cli(['calls']);
  const socketsDuringCall = await relaySockets(lab);
  await letAudioFlow(2500);
  const since = voix.mark();
  const bSince = b.phone.mark();
  expect((await a.phone.command('hangup')).ok).toBe(true);
  await b.phone.waitForEvent((e) => e.type === 'CALL_CLOSED', 10_000, bSince);
  await waitForCallEnded(voix, since);
  const cdr = await lastCall(voix);
  await capture.stop();

  // The phones heard each other: SRTP was decrypted and re-encrypted correctly on each leg.
  await expectHeardTone(a.recordDir, TONE_B_HZ, 1.5, 'A (1001) heard');
  await expectHeardTone(b.recordDir, TONE_A_HZ, 1.5, 'B (1002) heard');
  expect(cdr).toMatchObject({ caller: '1001', callee: '1002', status: 200, cause: 'normal', by: 'caller' });
  expect(activeCalls.stdout, "voix calls during the call: SRTP caller/callee").toMatch(/^1001\s+1002\s+answered\s+\S+\s+\S+\s+yes\/yes\s/m);
  expect(voix.logs().find((log) => log.msg === 'call answered')).toMatchObject({ srtpCaller: true, srtpCallee: true });

  // SDP voix sent each phone (read in the phones' own traces, TLS decrypted): RTP/SAVP with an SDES key.
  // baresip enforces srtp-mand only on calls it places, so the callee's leg is checked here.
  const inviteToB = b.phone.sipMessages().find((m) => m.firstLine.startsWith('INVITE ') && m.text.includes('m=audio'));
  expect(inviteToB?.text).toMatch(/^m=audio \d+ RTP\/SAVP /m);
  expect(inviteToB?.text).toMatch(/^a=crypto:\d+ AES_CM_128_HMAC_SHA1_(80|32) inline:/m);
  const answerToA = [...a.phone.sipMessages()].reverse().find((m) => /^SIP\/2\.0 200 /.test(m.firstLine) && m.text.includes('m=audio'));
  expect(answerToA?.text).toMatch(/^m=audio \d+ RTP\/SAVP /m);
  expect(answerToA?.text).toMatch(/^a=crypto:\d+ AES_CM_128_HMAC_SHA1_(80|32) inline:/m);

  // SIP on the TLS port: TLS application data records (TLS 1.3 puts the type in opaque_type), no frame in
  // which tshark's SIP dissector, forced onto the port, finds a request or status line, no SIP/SDP text.
  const tlsPort = voix.ports.tls;
  const applicationData = await capture.count('tls.record.opaque_type == 23 || tls.record.content_type == 23', ['-d', `tcp.port==${tlsPort},tls`]);
  const sipFrames = await capture.count('sip.Method || sip.Status-Code', ['-d', `tcp.port==${tlsPort},sip`]);
  const tlsBytes = Buffer.concat((await capture.tcp(`tcp.port == ${tlsPort}`)).map((segment) => segment.payload)).toString('latin1');
  expect(applicationData).toBeGreaterThan(10);
  expect(sipFrames).toBe(0);
  for (const marker of CLEARTEXT_MARKERS) expect(tlsBytes.includes(marker), `"${marker}" in clear on the TLS port`).toBe(false);

  // RTP on both legs: headers intact (version 2, G.711 payload type, sequence and timestamp going up),
  // payloads that are not G.711 of either tone and look random.
  const ports = relayPortsFromTraces(a.phone, b.phone);
  const flows = classifyFlows(rtpFlows(await capture.udp()), ports);
  for (const direction of ['callerToVoix', 'voixToCallee', 'calleeToVoix', 'voixToCaller'] as const) {
    const flow = flows[direction];
    expect(flow?.packets.length ?? 0, `${direction}: RTP packets`).toBeGreaterThan(50);
    if (flow === undefined) continue;
    const check = checkRtpFlow(flow);
    expect(check.versions, `${direction}: RTP version`).toEqual([2]);
    expect(check.payloadTypes.length, `${direction}: payload types ${check.payloadTypes.join(',')}`).toBe(1);
    expect([0, 8]).toContain(check.payloadTypes[0]);
    expect(check.sequenceSteps / check.pairs, `${direction}: sequence numbers +1`).toBeGreaterThan(0.95);
    expect(check.timestampSteps / check.pairs, `${direction}: timestamps going up`).toBeGreaterThan(0.95);
    const payloads = flow.packets.map((p) => p.payload);
    const asG711 = dominantFrequency(decodeG711(payloads, check.payloadTypes[0] === 8 ? 8 : 0), 8000);
    expect(asG711.purity, `${direction}: payload read as G.711 has ${Math.round(asG711.purity * 100)}% of its power at ${asG711.frequencyHz} Hz`).toBeLessThan(0.1);
    expect(byteEntropy(payloads), `${direction}: payload entropy (bits/byte)`).toBeGreaterThan(7.5);
  }

  expect(socketsDuringCall.length).toBeGreaterThan(0);
  await expectNoCallLeft(lab);
});
