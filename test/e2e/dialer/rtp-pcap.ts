/**
 * What the callee simulator says once it answers, as a pcap SIPp's
 * play_pcap_audio plays (PCMU, 20 ms packets; harness/rtp.ts writes the
 * file): segments of voice or silence, to sound like a person or like a
 * voicemail greeting.
 */
import { writeFile } from 'node:fs/promises';
import { linearToMulaw } from '../../../src/media/prompts/g711.js';
import { rtpPcap } from '../harness/rtp.js';

/** [voice?, ms]: voice is a syllable-like 300–900 Hz glide at about −12 dBFS; silence is faint noise. */
export type AudioSegment = readonly [boolean, number];

const SAMPLES_PER_PACKET = 160;

export async function writeSpeechPcap(file: string, segments: readonly AudioSegment[]): Promise<void> {
  const samples: number[] = [];
  for (const [voice, ms] of segments) {
    for (let i = 0; i < ms * 8; i++) {
      const t = samples.length / 8000;
      const envelope = 0.55 + 0.45 * Math.sin(2 * Math.PI * 4 * t);
      samples.push(voice ? Math.round(8000 * envelope * Math.sin(2 * Math.PI * (600 + 300 * Math.sin(2 * Math.PI * 0.7 * t)) * t)) : ((i * 7919) % 41) - 20);
    }
  }
  const payloads: Buffer[] = [];
  for (let p = 0; (p + 1) * SAMPLES_PER_PACKET <= samples.length; p++) {
    payloads.push(Buffer.from(samples.slice(p * SAMPLES_PER_PACKET, (p + 1) * SAMPLES_PER_PACKET).map(linearToMulaw)));
  }
  await writeFile(file, rtpPcap({ payloads, payloadType: 0 }));
}
