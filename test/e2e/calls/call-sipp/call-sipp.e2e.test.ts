import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { decodeG711, dominantFrequency, linearToMulaw } from '../../harness/audio.js';
import { startCapture } from '../../harness/capture.js';
import { getFreePort, runSipp, startSipp, useHarness } from '../../harness/index.js';
import { rtpFlows, writeRtpPcap } from '../../harness/rtp.js';
import type { RelayPorts } from '../call-helpers.js';
import { classifyFlows, expectNoCallLeft, lastCall, startCallLab, waitForCallEnded } from '../call-helpers.js';

useHarness();

const HERE = dirname(fileURLToPath(import.meta.url));
const TONE_HZ = 1000;
/** 2 s of PCMU at 20 ms: 100 packets. */
const PACKETS = 100;
/** The UAC waits this long after starting the pcap (2 s) before its BYE: the stream is over by then. */
const PAUSE_MS = 2500;

interface LegStats {
  readonly packetsReceived: number;
  readonly packetsSent: number;
  readonly packetsLost: number;
  readonly packetsDropped: number;
}

/** 160-byte PCMU payloads of a tone, one per 20 ms packet. */
function tonePayloads(count: number): Buffer[] {
  const payloads: Buffer[] = [];
  for (let packet = 0; packet < count; packet += 1) {
    const payload = Buffer.alloc(160);
    for (let i = 0; i < 160; i += 1) payload[i] = linearToMulaw(0.5 * Math.sin((2 * Math.PI * TONE_HZ * (packet * 160 + i)) / 8000));
    payloads.push(payload);
  }
  return payloads;
}

function sdpAudioPort(messages: string, firstLine: RegExp): number {
  const blocks = messages.split(/^-{10,}.*$/m);
  const block = blocks.find((text) => firstLine.test(text) && /^m=audio /m.test(text));
  return Number(/^m=audio (\d+) /m.exec(block ?? '')?.[1]);
}

it('APPEL-SIPP-01: SIPp calls SIPp through voix with RTP from a pcap: the CDR counts what was sent', async () => {
  const lab = await startCallLab({ config: { auth: { algorithms: ['MD5'] } } });
  const { voix, media } = lab;
  const password = (extension: string) => voix.users.find((u) => u.extension === extension)?.password ?? '';
  const remote = `127.0.0.1:${voix.ports.udp}`;
  const pcap = await writeRtpPcap(join(lab.dir, 'pcmu-1000hz-2s.pcap'), { payloads: tonePayloads(PACKETS), payloadType: 0 });
  const uacScenario = join(lab.dir, 'uac-invite-play-pcap-then-bye.xml');
  const template = await readFile(join(HERE, 'uac-invite-play-pcap-then-bye.xml'), 'utf8');
  await writeFile(uacScenario, template.replaceAll('{{pcap}}', pcap).replaceAll('{{pause_ms}}', String(PAUSE_MS)));

  // The callee: SIPp registers 1002 from a port, then a SIPp UAS (-rtp_echo) takes the calls on that port.
  const calleePort = await getFreePort();
  const registration = await runSipp({
    scenario: join(HERE, 'uac-register-expect-200.xml'),
    remote,
    service: '1002',
    authUser: '1002',
    authPassword: password('1002'),
    localPort: calleePort,
    calls: 1,
    timeoutMs: 10_000,
  });
  expect(registration.exitCode, registration.errors).toBe(0);
  const callee = await startSipp({
    scenario: join(HERE, 'uas-answer-pcmu-echo-expect-bye.xml'),
    localPort: calleePort,
    extraArgs: ['-rtp_echo'],
    timeoutMs: 30_000,
  });
  const capture = await startCapture({ filter: `udp portrange ${media.portMin}-${media.portMax}` });

  const since = voix.mark();
  const caller = await runSipp({
    scenario: uacScenario,
    remote,
    service: '1002',
    authUser: '1001',
    authPassword: password('1001'),
    calls: 1,
    timeoutMs: 20_000,
  });
  await waitForCallEnded(voix, since);
  const cdr = await lastCall(voix);
  const calleeRun = await callee.stop();
  await capture.stop();

  expect(caller.exitCode, `${caller.errors}\n${caller.messages}`).toBe(0);
  expect(caller.successful).toBe(1);
  expect(calleeRun.messages).toMatch(/^BYE /m);
  // What went over the wire, from the capture: the UAC's stream to leg a, voix's to the UAS, the echo back.
  const ports: RelayPorts = {
    a: sdpAudioPort(caller.messages, /SIP\/2\.0 200 OK[\s\S]*CSeq: 2 INVITE/),
    b: sdpAudioPort(calleeRun.messages, /INVITE sip:/),
  };
  const flows = classifyFlows(rtpFlows(await capture.udp()), ports);
  const onWire = {
    callerToVoix: flows.callerToVoix?.packets.length ?? 0,
    voixToCallee: flows.voixToCallee?.packets.length ?? 0,
    calleeToVoix: flows.calleeToVoix?.packets.length ?? 0,
    voixToCaller: flows.voixToCaller?.packets.length ?? 0,
  };
  // SIPp played the whole pcap.
  expect(onWire.callerToVoix, JSON.stringify(onWire)).toBe(PACKETS);

  // The CDR as the operator sees it, and in full in the database.
  const db = new Database(join(voix.dataDir, 'voix.db'), { readonly: true, fileMustExist: true });
  const row = db.prepare('SELECT media_stats FROM calls ORDER BY id DESC LIMIT 1').get() as { media_stats: string | null } | undefined;
  db.close();
  const stats = JSON.parse(row?.media_stats ?? 'null') as { a: LegStats; b: LegStats } | null;
  const detail = `CDR: ${cdr.line.trim()} | media_stats: ${row?.media_stats ?? 'null'} | on the wire: ${JSON.stringify(onWire)}`;

  // Tolerance: 1 packet. On loopback at 50 packets/s nothing is lost, and the stream ends 500 ms before
  // the BYE, so nothing is in flight when the relay is released; the one packet allows for an echo of
  // the last packet crossing the teardown on the callee leg.
  expect(cdr, detail).toMatchObject({ caller: '1001', callee: '1002', status: 200, cause: 'normal', by: 'caller' });
  expect(Math.abs((cdr.media?.caller.received ?? -99) - onWire.callerToVoix), detail).toBeLessThanOrEqual(1);
  expect(cdr.media?.caller.lost, detail).toBe(0);
  expect(Math.abs((stats?.b.packetsSent ?? -99) - onWire.voixToCallee), detail).toBeLessThanOrEqual(1);
  expect(Math.abs((stats?.b.packetsReceived ?? -99) - onWire.calleeToVoix), detail).toBeLessThanOrEqual(1);
  expect(Math.abs((stats?.a.packetsSent ?? -99) - onWire.voixToCaller), detail).toBeLessThanOrEqual(1);
  expect(onWire.voixToCallee, detail).toBeGreaterThanOrEqual(PACKETS - 1);
  expect(onWire.voixToCaller, detail).toBeGreaterThanOrEqual(PACKETS - 2);
  // The relay carried the payload unchanged: what came back to the UAC is still the tone.
  const back = dominantFrequency(decodeG711(flows.voixToCaller?.packets.map((p) => p.payload) ?? [], 0), 8000);
  expect(Math.abs(back.frequencyHz - TONE_HZ)).toBeLessThanOrEqual(20);
  await expectNoCallLeft(lab);
});
