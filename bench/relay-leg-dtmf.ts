/**
 * What DTMF detection adds to a relay leg's receive path (LegConfig.dtmf,
 * src/rtp/relay-leg-dtmf.ts): RelayLeg.receiveRtp driven in process, one
 * thread, no socket I/O (the peer leg has no destination, so everything up
 * to the send runs and the send itself does not), 172-byte PCMU packets at
 * ns per packet, for a leg without detection, with the RFC 4733 receiver
 * (voice packets only check its end timeout) and with in-band detection on
 * speech-like audio and on silence. The socket receive and send that a
 * real relay pays per packet (bench/relay.ts) are not in these figures.
 *
 *   npx tsx bench/relay-leg-dtmf.ts [--seconds 2] [--rounds 3]
 */
import dgram from 'node:dgram';
import os from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { linearToMulaw } from '../src/media/prompts/g711.js';
import type { LegConfig } from '../src/rtp/media-protocol.js';
import { OutboundBufferRing } from '../src/rtp/outbound-buffers.js';
import { PLAIN_LEG } from '../src/rtp/packet-transform.js';
import { RelayLeg } from '../src/rtp/relay-leg.js';
import type { LegPorts } from '../src/rtp/relay-port.js';
import { dgramLegPorts } from '../test/unit/rtp/dgram-leg-ports.js';
import { RtpHeaderView } from '../src/rtp/rtp-header.js';
import { speechLike } from '../test/unit/media/dtmf/dtmf-signals.js';

const FRAME = 160;

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i === -1 ? undefined : Number(process.argv[i + 1]);
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

const sockets: dgram.Socket[] = [];
function legSockets(): LegPorts {
  return dgramLegPorts(sockets);
}

let gcCount = 0;
new PerformanceObserver((list) => {
  gcCount += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });

/** Whole milliseconds: a clock that allocates nothing (performance.now() does on Node 20). */
let clockMs = 0;

function leg(forward: boolean, dtmf: LegConfig['dtmf']): RelayLeg {
  const context = {
    family: 'udp4' as const,
    rtpHeader: new RtpHeaderView(),
    outboundBuffers: new OutboundBufferRing(),
    now: () => clockMs,
    log: () => undefined,
    createTransforms: () => PLAIN_LEG,
  };
  const a = new RelayLeg('a', 40000, legSockets(), context, {});
  const b = new RelayLeg('b', 40002, legSockets(), context, {});
  a.pairWith(b);
  b.pairWith(a);
  a.listenForDtmf({ dtmfReceived: () => undefined, answeringMachine: () => undefined });
  const base = { expectedSource: '127.0.0.1', srtp: null, clockRates: { 0: 8000, 101: 8000 } };
  a.configure({ ...base, remote: { address: '127.0.0.1', rtpPort: 1, rtcpPort: 1 }, forward, dtmf });
  b.configure({ ...base, remote: null, forward: true });
  return a;
}

/** Packets of `audio` (PCMU) ready to receive, one per 20 ms frame, headers filled in. */
function packetsOf(audio: Uint8Array): Buffer[] {
  const packets: Buffer[] = [];
  for (let offset = 0, seq = 0; offset + FRAME <= audio.length; offset += FRAME, seq++) {
    const packet = Buffer.alloc(12 + FRAME);
    packet[0] = 0x80;
    packet[1] = 0;
    packet.writeUInt16BE(seq & 0xffff, 2);
    packet.writeUInt32BE(offset >>> 0, 4);
    packet.writeUInt32BE(0x5eed, 8);
    packet.set(audio.subarray(offset, offset + FRAME), 12);
    packets.push(packet);
  }
  return packets;
}

function measure(a: RelayLeg, packets: readonly Buffer[], seconds: number): { ns: number; gcs: number } {
  const batch = 5000;
  let count = 0;
  const gcBefore = gcCount;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < batch; i++) {
      // Timestamps and sequence numbers restart with the recording: one stream, looping, like a long call.
      { const p = packets[(count + i) % packets.length] as Buffer; a.receiveRtp(p, p.length, '127.0.0.1', 5004); }
      clockMs += 20;
    }
    count += batch;
    now = process.hrtime.bigint();
  }
  return { ns: Number(now - start) / count, gcs: gcCount - gcBefore };
}

const median = (values: readonly number[]): number => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? 0;

async function main(): Promise<void> {
  const seconds = argument('seconds', 2);
  const rounds = argument('rounds', 3);
  const speech = packetsOf(Uint8Array.from(speechLike(10, 1), (s) => linearToMulaw(s)));
  const silence = packetsOf(new Uint8Array(8000 * 10).fill(0xff));
  const cases: { name: string; a: RelayLeg; packets: Buffer[] }[] = [
    { name: 'relayed (forward), no DTMF', a: leg(true, undefined), packets: speech },
    { name: 'voix answers (no forward), no DTMF', a: leg(false, null), packets: speech },
    { name: 'RFC 4733 receiver, voice packets', a: leg(false, { telephoneEvent: 101, inband: null }), packets: speech },
    { name: 'in-band PCMU, speech-like audio', a: leg(false, { telephoneEvent: null, inband: 'PCMU' }), packets: speech },
    { name: 'in-band PCMU, silence', a: leg(false, { telephoneEvent: null, inband: 'PCMU' }), packets: silence },
  ];
  const rows: { name: string; ns: number; gcs: number }[] = [];
  for (const c of cases) {
    measure(c.a, c.packets, 0.3);
    const results = Array.from({ length: rounds }, () => measure(c.a, c.packets, seconds));
    rows.push({ name: c.name, ns: median(results.map((r) => r.ns)), gcs: results.reduce((sum, r) => sum + r.gcs, 0) });
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  for (const s of sockets) s.close();

  console.log(`command: npx tsx bench/relay-leg-dtmf.ts --seconds ${seconds} --rounds ${rounds}`);
  console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}, one thread`);
  console.log('RelayLeg.receiveRtp, 172-byte PCMU packets, no socket I/O; median of the rounds');
  console.log('');
  console.log('| leg | ns/packet | GCs |');
  console.log('|---|---:|---:|');
  for (const row of rows) console.log(`| ${row.name} | ${row.ns.toFixed(0)} | ${row.gcs} |`);
}

await main();
