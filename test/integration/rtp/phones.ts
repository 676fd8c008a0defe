/**
 * Phones for the relay's integration tests: a pair of loopback UDP sockets
 * (RTP, RTCP) that send what a test gives them and keep what they receive,
 * with where it came from.
 */
import dgram from 'node:dgram';
import type { LegConfig, RemoteEndpoint } from '../../../src/rtp/media-protocol.js';

export interface Received {
  readonly data: Buffer;
  readonly address: string;
  readonly port: number;
}

async function bound(address: string): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket;
}

export class Phone {
  readonly rtp: Received[] = [];
  readonly rtcp: Received[] = [];

  private constructor(
    readonly address: string,
    private readonly rtpSocket: dgram.Socket,
    private readonly rtcpSocket: dgram.Socket,
  ) {
    rtpSocket.on('message', (data, remote) => this.rtp.push({ data, address: remote.address, port: remote.port }));
    rtcpSocket.on('message', (data, remote) => this.rtcp.push({ data, address: remote.address, port: remote.port }));
  }

  static async open(address = '127.0.0.1'): Promise<Phone> {
    return new Phone(address, await bound(address), await bound(address));
  }

  get rtpPort(): number {
    return this.rtpSocket.address().port;
  }

  get rtcpPort(): number {
    return this.rtcpSocket.address().port;
  }

  /** What this phone's SDP would say. */
  endpoint(): RemoteEndpoint {
    return { address: this.address, rtpPort: this.rtpPort, rtcpPort: this.rtcpPort };
  }

  /** A LegConfig for this phone: plain RTP, PCMU/PCMA/telephone-event at 8 kHz, latching on its address. */
  legConfig(overrides: Partial<LegConfig> = {}): LegConfig {
    return { remote: this.endpoint(), expectedSource: this.address, srtp: null, forward: true, clockRates: { 0: 8000, 8: 8000, 101: 8000 }, ...overrides };
  }

  sendRtp(packet: Buffer, port: number): Promise<void> {
    return send(this.rtpSocket, packet, port);
  }

  sendRtcp(packet: Buffer, port: number): Promise<void> {
    return send(this.rtcpSocket, packet, port);
  }

  close(): Promise<void> {
    return Promise.all([close(this.rtpSocket), close(this.rtcpSocket)]).then(() => undefined);
  }
}

function send(socket: dgram.Socket, packet: Buffer, port: number): Promise<void> {
  return new Promise((resolve, reject) => socket.send(packet, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
}

function close(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

export interface RtpFields {
  readonly sequenceNumber: number;
  readonly timestamp?: number;
  readonly ssrc?: number;
  readonly payloadType?: number;
  readonly marker?: boolean;
  readonly payload?: Buffer;
}

/** An RTP packet (RFC 3550 §5.1); the payload defaults to 160 bytes that depend on the sequence number. */
export function rtpPacket(fields: RtpFields): Buffer {
  const payload = fields.payload ?? Buffer.alloc(160, fields.sequenceNumber & 0xff);
  const packet = Buffer.alloc(12 + payload.length);
  packet[0] = 0x80;
  packet[1] = (fields.marker === true ? 0x80 : 0) | (fields.payloadType ?? 0);
  packet.writeUInt16BE(fields.sequenceNumber & 0xffff, 2);
  packet.writeUInt32BE((fields.timestamp ?? fields.sequenceNumber * 160) >>> 0, 4);
  packet.writeUInt32BE((fields.ssrc ?? 0x11223344) >>> 0, 8);
  payload.copy(packet, 12);
  return packet;
}

/** RFC 4733 §2.3 telephone-event payload: event, E bit and volume, duration. */
export function telephoneEvent(event: number, end: boolean, duration: number): Buffer {
  const payload = Buffer.alloc(4);
  payload[0] = event;
  payload[1] = (end ? 0x80 : 0) | 10;
  payload.writeUInt16BE(duration, 2);
  return payload;
}

/** An RTCP receiver report with one report block, plus an SDES CNAME (RFC 3550 §6.4.2, §6.5). */
export function rtcpCompound(ssrc: number): Buffer {
  const rr = Buffer.alloc(32);
  rr[0] = 0x81;
  rr[1] = 201;
  rr.writeUInt16BE(7, 2);
  rr.writeUInt32BE(ssrc >>> 0, 4);
  rr.writeUInt32BE(0x99999999, 8);
  const cname = Buffer.from('phone@127.0.0.1');
  const sdesLength = Math.ceil((8 + 2 + cname.length + 1) / 4) * 4;
  const sdes = Buffer.alloc(sdesLength);
  sdes[0] = 0x81;
  sdes[1] = 202;
  sdes.writeUInt16BE(sdesLength / 4 - 1, 2);
  sdes.writeUInt32BE(ssrc >>> 0, 4);
  sdes[8] = 1;
  sdes[9] = cname.length;
  cname.copy(sdes, 10);
  return Buffer.concat([rr, sdes]);
}

/** Polls `condition` until it holds; fails after `timeoutMs` with `what`. */
export async function waitUntil(what: string, condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Gives packets in flight time to arrive, for tests that check something did not. */
export function settle(ms = 100): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
