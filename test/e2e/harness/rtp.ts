/**
 * RTP as the test reads it from a capture (RFC 3550 §5.1 fixed header,
 * parsed here, never with voix's code), and pcap files of RTP for SIPp's
 * `play_pcap_audio`.
 */
import { writeFile } from 'node:fs/promises';
import type { CapturedDatagram } from './capture.js';

export interface RtpPacket {
  readonly version: number;
  readonly padding: boolean;
  readonly extension: boolean;
  readonly marker: boolean;
  readonly payloadType: number;
  readonly sequence: number;
  readonly timestamp: number;
  readonly ssrc: number;
  /** After the fixed header, CSRCs and header extension: with SRTP, the encrypted payload and then the auth tag. */
  readonly payload: Buffer;
}

/** The RTP fixed header of a datagram; null when it is too short or is RTCP (RFC 5761 §4: PT 64–95 with the marker bit). */
export function parseRtp(datagram: Buffer): RtpPacket | null {
  if (datagram.length < 12) return null;
  const first = datagram[0] ?? 0;
  const second = datagram[1] ?? 0;
  const payloadType = second & 0x7f;
  if (payloadType >= 64 && payloadType <= 95) return null;
  const csrcCount = first & 0x0f;
  let offset = 12 + 4 * csrcCount;
  const extension = (first & 0x10) !== 0;
  if (extension) {
    if (datagram.length < offset + 4) return null;
    offset += 4 + 4 * datagram.readUInt16BE(offset + 2);
  }
  if (datagram.length < offset) return null;
  return {
    version: first >> 6,
    padding: (first & 0x20) !== 0,
    extension,
    marker: (second & 0x80) !== 0,
    payloadType,
    sequence: datagram.readUInt16BE(2),
    timestamp: datagram.readUInt32BE(4),
    ssrc: datagram.readUInt32BE(8),
    payload: datagram.subarray(offset),
  };
}

export interface RtpFlow {
  readonly source: string;
  readonly sourcePort: number;
  readonly destination: string;
  readonly destinationPort: number;
  readonly packets: readonly (RtpPacket & { readonly time: number })[];
}

/** Groups captured datagrams into one-way flows (source → destination), RTP only, in capture order. */
export function rtpFlows(datagrams: readonly CapturedDatagram[]): RtpFlow[] {
  const flows = new Map<string, { source: string; sourcePort: number; destination: string; destinationPort: number; packets: (RtpPacket & { time: number })[] }>();
  for (const datagram of datagrams) {
    const rtp = parseRtp(datagram.payload);
    if (rtp === null) continue;
    const key = `${datagram.source}:${datagram.sourcePort}>${datagram.destination}:${datagram.destinationPort}`;
    let flow = flows.get(key);
    if (flow === undefined) {
      flow = { source: datagram.source, sourcePort: datagram.sourcePort, destination: datagram.destination, destinationPort: datagram.destinationPort, packets: [] };
      flows.set(key, flow);
    }
    flow.packets.push({ ...rtp, time: datagram.time });
  }
  return [...flows.values()];
}

export interface RtpFlowCheck {
  readonly packets: number;
  readonly versions: readonly number[];
  readonly payloadTypes: readonly number[];
  readonly ssrcs: number;
  /** Consecutive packets (same SSRC) whose sequence number is the previous + 1 (mod 2^16). */
  readonly sequenceSteps: number;
  /** Consecutive packets (same SSRC) whose timestamp went forward (mod 2^32, by less than 2^31). */
  readonly timestampSteps: number;
  /** Pairs of consecutive packets of the same SSRC. */
  readonly pairs: number;
}

/** What the headers of a flow look like: version, payload types, sequence and timestamp progressions. */
export function checkRtpFlow(flow: RtpFlow): RtpFlowCheck {
  const versions = new Set<number>();
  const payloadTypes = new Set<number>();
  const last = new Map<number, RtpPacket>();
  let sequenceSteps = 0;
  let timestampSteps = 0;
  let pairs = 0;
  for (const packet of flow.packets) {
    versions.add(packet.version);
    payloadTypes.add(packet.payloadType);
    const previous = last.get(packet.ssrc);
    if (previous !== undefined) {
      pairs += 1;
      if (packet.sequence === ((previous.sequence + 1) & 0xffff)) sequenceSteps += 1;
      const delta = (packet.timestamp - previous.timestamp) >>> 0;
      if (delta > 0 && delta < 2 ** 31) timestampSteps += 1;
    }
    last.set(packet.ssrc, packet);
  }
  return {
    packets: flow.packets.length,
    versions: [...versions].sort(),
    payloadTypes: [...payloadTypes].sort((a, b) => a - b),
    ssrcs: last.size,
    sequenceSteps,
    timestampSteps,
    pairs,
  };
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map((part) => Number(part)));
}

function ipv4Checksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface RtpPcapOptions {
  /** One RTP payload per packet (e.g. 160 bytes of G.711 for 20 ms). */
  readonly payloads: readonly Buffer[];
  readonly payloadType: number;
  /** Packet interval in ms and RTP timestamp step per packet; default 20 ms and 160 (8 kHz). */
  readonly ptimeMs?: number;
  readonly timestampStep?: number;
  readonly ssrc?: number;
  /** Addresses and ports written in the IP/UDP headers (SIPp replaces them when it plays the file). */
  readonly source?: { readonly address: string; readonly port: number };
  readonly destination?: { readonly address: string; readonly port: number };
}

/**
 * A classic pcap (Ethernet, IPv4, UDP, RTP) of an RTP stream at a steady
 * pace: what SIPp's `play_pcap_audio` plays (it keeps the payloads and the
 * timing, and sends from the call's media port to the SDP peer).
 */
export function rtpPcap(options: RtpPcapOptions): Buffer {
  const ptimeMs = options.ptimeMs ?? 20;
  const step = options.timestampStep ?? 160;
  const ssrc = options.ssrc ?? 0x5eed1234;
  const source = options.source ?? { address: '10.0.0.1', port: 6000 };
  const destination = options.destination ?? { address: '10.0.0.2', port: 6002 };
  const globalHeader = Buffer.alloc(24);
  globalHeader.writeUInt32LE(0xa1b2c3d4, 0);
  globalHeader.writeUInt16LE(2, 4);
  globalHeader.writeUInt16LE(4, 6);
  globalHeader.writeUInt32LE(65_535, 16);
  globalHeader.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  const records: Buffer[] = [globalHeader];
  options.payloads.forEach((payload, index) => {
    const rtp = Buffer.alloc(12);
    rtp[0] = 0x80;
    rtp[1] = (index === 0 ? 0x80 : 0) | (options.payloadType & 0x7f);
    rtp.writeUInt16BE((1000 + index) & 0xffff, 2);
    rtp.writeUInt32BE((16_000 + index * step) >>> 0, 4);
    rtp.writeUInt32BE(ssrc >>> 0, 8);
    const udpLength = 8 + rtp.length + payload.length;
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(source.port, 0);
    udp.writeUInt16BE(destination.port, 2);
    udp.writeUInt16BE(udpLength, 4); // checksum 0: none (RFC 768)
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + udpLength, 2);
    ip.writeUInt16BE(index & 0xffff, 4);
    ip[8] = 64;
    ip[9] = 17;
    ipv4Bytes(source.address).copy(ip, 12);
    ipv4Bytes(destination.address).copy(ip, 16);
    ip.writeUInt16BE(ipv4Checksum(ip), 10);
    const ethernet = Buffer.alloc(14);
    ethernet.writeUInt16BE(0x0800, 12);
    const frame = Buffer.concat([ethernet, ip, udp, rtp, payload]);
    const record = Buffer.alloc(16);
    const micros = index * ptimeMs * 1000;
    record.writeUInt32LE(1_700_000_000 + Math.floor(micros / 1e6), 0);
    record.writeUInt32LE(micros % 1e6, 4);
    record.writeUInt32LE(frame.length, 8);
    record.writeUInt32LE(frame.length, 12);
    records.push(record, frame);
  });
  return Buffer.concat(records);
}

export async function writeRtpPcap(path: string, options: RtpPcapOptions): Promise<string> {
  await writeFile(path, rtpPcap(options));
  return path;
}
