/**
 * DTMF on the per-packet path: what one 20 ms frame costs the in-band
 * detector (Goertzel, fed a 160-byte G.711 payload as the media worker
 * would), by content — silence and quiet frames take the energy-only path,
 * speech and noise run the eight filters, DTMF tones also the harmonic
 * filters — and what an RFC 4733 packet costs the receiver. One thread, no
 * pass/fail: the figures are for sizing the per-stream budget (a stream
 * sends 50 frames per second). Garbage collections during each measurement
 * are counted: the per-packet path should cause none.
 *
 *   npx tsx bench/dtmf.ts [--seconds 2] [--rounds 3]
 */
import os from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { GoertzelDtmfDetector, type DtmfToneSink } from '../src/media/dtmf/goertzel-detector.js';
import { linearToMulaw } from '../src/media/prompts/g711.js';
import { TelephoneEventReceiver, type TelephoneEventSink } from '../src/media/dtmf/rfc4733-receiver.js';
import { TelephoneEventSender } from '../src/media/dtmf/rfc4733-sender.js';
import {
  SignalBuilder,
  addNoise,
  amplitudeOfDbm0,
  digitRecording,
  seededRandom,
  speechLike,
  toInt16,
} from '../test/unit/media/dtmf/dtmf-signals.js';

const FRAME = 160;

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i === -1 ? undefined : Number(process.argv[i + 1]);
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

function mulaw(samples: Int16Array): Uint8Array {
  return Uint8Array.from(samples, (sample) => linearToMulaw(sample));
}

let gcCount = 0;
new PerformanceObserver((list) => {
  gcCount += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });

interface Result {
  readonly nsPerOp: number;
  readonly gcs: number;
}

/** Runs `op(i)` in batches until `seconds` have passed; ns per call and the GCs seen meanwhile. */
function measure(op: (i: number) => void, seconds: number): Result {
  const batch = 5000;
  let count = 0;
  const gcBefore = gcCount;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < batch; i += 1) op(count + i);
    count += batch;
    now = process.hrtime.bigint();
  }
  return { nsPerOp: Number(now - start) / count, gcs: gcCount - gcBefore };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function main(): Promise<void> {
  const seconds = argument('seconds', 2);
  const rounds = argument('rounds', 3);

  const noise = new Float64Array(8000 * 10);
  addNoise(noise, amplitudeOfDbm0(-15), seededRandom(3));
  const contents: { name: string; payload: Uint8Array }[] = [
    { name: 'silence (digital zero)', payload: mulaw(new Int16Array(8000 * 10)) },
    { name: 'speech-like, -6 dBm0 peak', payload: mulaw(speechLike(10, 1)) },
    { name: 'white noise, -15 dBm0', payload: mulaw(toInt16(noise)) },
    { name: 'DTMF tones, 60 ms on/60 ms off', payload: mulaw(digitRecording({ seed: 1 })) },
    {
      name: 'DTMF tone, continuous',
      payload: mulaw(toInt16(new SignalBuilder().digit('5', 10_000, -10).build())),
    },
  ];

  const toneSink: DtmfToneSink = { dtmfToneDetected: () => {}, dtmfToneEnded: () => {} };
  const rows: { name: string; ns: number; gcs: number }[] = [];
  for (const content of contents) {
    const detector = new GoertzelDtmfDetector(toneSink);
    const frames = Math.floor(content.payload.length / FRAME);
    const op = (i: number): void => detector.processMulaw(content.payload, (i % frames) * FRAME, FRAME);
    measure(op, 0.3); // warm-up
    const results: Result[] = [];
    for (let r = 0; r < rounds; r += 1) results.push(measure(op, seconds));
    rows.push({
      name: content.name,
      ns: median(results.map((result) => result.nsPerOp)),
      gcs: results.reduce((sum, result) => sum + result.gcs, 0),
    });
  }

  // RFC 4733: a sender's packets (7 per 100 ms digit) through the receiver.
  const packets: Uint8Array[] = [];
  const timestamps: number[] = [];
  const markers: boolean[] = [];
  const sender = new TelephoneEventSender();
  for (let d = 0; d < 100; d += 1) {
    sender.begin(d % 16, d * 4000, 800);
    while (sender.active) {
      const packet = new Uint8Array(4);
      sender.writeNext(packet, 0);
      packets.push(packet);
      timestamps.push(sender.timestamp);
      markers.push(sender.marker);
    }
  }
  const eventSink: TelephoneEventSink = { dtmfEnded: () => {} };
  const receiver = new TelephoneEventReceiver(eventSink);
  const receiveOp = (i: number): void => {
    const k = i % packets.length;
    if (k === 0) receiver.reset();
    receiver.receive(packets[k] as Uint8Array, 0, 4, timestamps[k] as number, markers[k] as boolean, i * 20);
  };
  measure(receiveOp, 0.3);
  const receiveResults: Result[] = [];
  for (let r = 0; r < rounds; r += 1) receiveResults.push(measure(receiveOp, seconds));
  const receiveNs = median(receiveResults.map((result) => result.nsPerOp));
  const receiveGcs = receiveResults.reduce((sum, result) => sum + result.gcs, 0);

  // Let the observer deliver the last GC entries.
  await new Promise((resolve) => setTimeout(resolve, 50));

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`command: npx tsx bench/dtmf.ts --seconds ${seconds} --rounds ${rounds}`);
  console.log(`machine: ${cpu}, ${os.cpus().length} cores, Node ${process.version}, one thread`);
  console.log('in-band detector: GoertzelDtmfDetector.processMulaw, one 20 ms frame (160 bytes PCMU), default options');
  console.log('');
  console.log('content                              ns/frame     frames/s   streams/core*   GCs');
  for (const row of rows) {
    const perSecond = 1e9 / row.ns;
    console.log(
      `${row.name.padEnd(36)} ${row.ns.toFixed(0).padStart(8)} ${Math.round(perSecond).toString().padStart(12)} ${Math.round(perSecond / 50).toString().padStart(15)} ${row.gcs.toString().padStart(5)}`,
    );
  }
  console.log('* frames/s ÷ 50: streams one core could scan if it did nothing else.');
  console.log('');
  console.log(
    `RFC 4733 receiver: ${receiveNs.toFixed(0)} ns/packet (${Math.round(1e9 / receiveNs)} packets/s), GCs: ${receiveGcs}`,
  );
}

await main();
