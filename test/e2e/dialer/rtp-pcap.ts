/**
 * A pcap file of one RTP stream (PCMU, 20 ms packets, Ethernet/IPv4/UDP as
 * SIPp's play_pcap_audio reads it), from segments of voice or silence: how
 * the callee simulator sounds like a person or like a voicemail greeting.
 */
import { writeFile } from 'node:fs/promises';
import { linearToMulaw } from '../../../src/media/prompts/g711.js';

/** [voice?, ms]: voice is a syllable-like 300–900 Hz glide at about −12 dBFS; silence is faint noise. */
export type AudioSegment = readonly [boolean, number];

const SAMPLES_PER_PACKET = 160;

function ipv4Checksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export async function writeRtpPcap(file: string, segments: readonly AudioSegment[]): Promise<void> {
  const samples: number[] = [];
  for (const [voice, ms] of segments) {
    for (let i = 0; i < ms * 8; i++) {
      const t = samples.length / 8000;
      const envelope = 0.55 + 0.45 * Math.sin(2 * Math.PI * 4 * t);
      samples.push(voice ? Math.round(8000 * envelope * Math.sin(2 * Math.PI * (600 + 300 * Math.sin(2 * Math.PI * 0.7 * t)) * t)) : ((i * 7919) % 41) - 20);
    }
  }
  const packets = Math.floor(samples.length / SAMPLES_PER_PACKET);
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0);
  global.writeUInt16LE(2, 4);
  global.writeUInt16LE(4, 6);
  global.writeUInt32LE(65_535, 16);
  global.writeUInt32LE(1, 20); // Ethernet
  const records: Buffer[] = [global];
  for (let p = 0; p < packets; p++) {
    const rtp = Buffer.alloc(12 + SAMPLES_PER_PACKET);
    rtp[0] = 0x80;
    rtp[1] = p === 0 ? 0x80 : 0x00; // marker on the first packet, PT 0 (PCMU)
    rtp.writeUInt16BE(p & 0xffff, 2);
    rtp.writeUInt32BE(p * SAMPLES_PER_PACKET, 4);
    rtp.writeUInt32BE(0x5eed1234, 8);
    for (let i = 0; i < SAMPLES_PER_PACKET; i++) rtp[12 + i] = linearToMulaw(samples[p * SAMPLES_PER_PACKET + i] ?? 0);
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(40_000, 0);
    udp.writeUInt16BE(40_002, 2);
    udp.writeUInt16BE(8 + rtp.length, 4);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + udp.length + rtp.length, 2);
    ip[8] = 64;
    ip[9] = 17;
    Buffer.from([127, 0, 0, 1]).copy(ip, 12);
    Buffer.from([127, 0, 0, 1]).copy(ip, 16);
    ip.writeUInt16BE(ipv4Checksum(ip), 10);
    const ethernet = Buffer.alloc(14);
    ethernet.writeUInt16BE(0x0800, 12);
    const frame = Buffer.concat([ethernet, ip, udp, rtp]);
    const header = Buffer.alloc(16);
    const us = p * 20_000;
    header.writeUInt32LE(Math.floor(us / 1_000_000), 0);
    header.writeUInt32LE(us % 1_000_000, 4);
    header.writeUInt32LE(frame.length, 8);
    header.writeUInt32LE(frame.length, 12);
    records.push(header, frame);
  }
  await writeFile(file, Buffer.concat(records));
}
