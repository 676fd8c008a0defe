/**
 * One leg of a relay: the RTP and RTCP ports facing one phone, the latch
 * that says where that phone really is, and the RFC 3550 statistics of
 * what it sends. A packet from the phone is checked, goes through the
 * leg's inbound transform, is counted, and is handed to the peer leg, which
 * sends it through its outbound transform to its own phone.
 *
 * The receive and send methods run once per packet: they read and write
 * fields of preallocated objects and call methods, and create no objects,
 * arrays, closures or promises (STYLE.md rule 8). On the native ports
 * (docs/adr/0006) nothing else is allocated either; on dgram's, Node
 * allocates the received Buffer, its rinfo object and its send request.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { DtmfDigit } from '../media/dtmf/dtmf-digit.js';
import {
  MediaConfigurationError,
  type LegConfig,
  type LegDtmfConfig,
  type LegName,
  type LegStats,
  type MediaDtmfSource,
  type RemoteEndpoint,
} from './media-protocol.js';
import { copyPacket, type OutboundBufferRing } from './outbound-buffers.js';
import { PLAIN_LEG, type LegTransforms } from './packet-transform.js';
import { RtpReceptionStatistics } from './reception-statistics.js';
import { legDtmfConfigProblem, RelayLegDtmf } from './relay-leg-dtmf.js';
import { AnsweringMachineDetector, type AmdReason, type AmdVerdict } from '../media/answering-machine-detector.js';
import type { LegPorts, RelayPort } from './relay-port.js';
import { checkRtcpCompound, RtcpStatus } from './rtcp-header.js';
import { parseRtpHeader, RtpHeaderStatus, type RtpHeaderView } from './rtp-header.js';
import { errorCode, type UdpFamily } from './udp-sockets.js';

/** What the legs of one worker share; one thread, so one of each is enough. */
export interface RelayWorkerContext {
  readonly family: UdpFamily;
  readonly rtpHeader: RtpHeaderView;
  readonly outboundBuffers: OutboundBufferRing;
  /** Arrival time in milliseconds, monotonic (performance.now in the worker). */
  readonly now: () => number;
  readonly log: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;
  /** The per-leg transforms for a LegConfig.srtp (packet-transform.ts); tests substitute their own. */
  readonly createTransforms: (srtp: LegConfig['srtp']) => LegTransforms;
}

/**
 * Sees every RTP packet the leg accepts from its phone (after SRTP and the
 * header checks, `packet[0, length)` in clear), whether it is forwarded or
 * not (DTMF detection has its own slot, relay-leg-dtmf.ts). Runs per packet:
 * it must not keep `packet`, which is lent for this one call.
 */
export interface ReceivedRtpObserver {
  receivedRtp(packet: Buffer, length: number, header: RtpHeaderView): void;
}

/** Told each DTMF digit the leg's phone sent, once per key press (the media worker host posts it to the main thread). */
export interface RelayDtmfListener {
  dtmfReceived(leg: LegName, digit: DtmfDigit, source: MediaDtmfSource): void;
  /** The leg's answering-machine detection decided (LegConfig.amd). */
  answeringMachine(leg: LegName, verdict: AmdVerdict, reason: AmdReason, afterMs: number): void;
}

/** Payload types are 7 bits (RFC 3550 §5.1). */
const PAYLOAD_TYPES = 128;

export class RelayLeg {
  private readonly rtp: RelayPort;
  private readonly rtcp: RelayPort;
  private peer: RelayLeg | null = null;

  /** Until the call core configures the leg, nobody is known: whatever arrives is dropped. */
  private configured = false;
  private remote: RemoteEndpoint | null = null;
  private expectedSource: string | null = null;
  private forward = true;
  private srtp: LegConfig['srtp'] = null;
  private transforms: LegTransforms = PLAIN_LEG;
  /** A player (src/media/playout) sends to this leg's phone: what the peer leg relays is not sent to it meanwhile. */
  private playing = false;
  private rtpObserver: ReceivedRtpObserver | null = null;
  /** DTMF detection, only while the call core asks for it (LegConfig.dtmf). */
  private dtmf: RelayLegDtmf | null = null;
  private dtmfListener: RelayDtmfListener | null = null;
  /** Answering-machine detection, once, when the call core asks for it (LegConfig.amd). */
  private amd: AnsweringMachineDetector | null = null;
  private amdPayloadType = -1;
  private amdMulaw = true;
  private readonly reportAmd = (verdict: AmdVerdict, reason: AmdReason, afterMs: number): void => {
    this.dtmfListener?.answeringMachine(this.name, verdict, reason, afterMs);
  };
  private readonly reportDtmf = (digit: DtmfDigit, source: MediaDtmfSource): void => {
    this.dtmfListener?.dtmfReceived(this.name, digit, source);
  };
  /** Clock rate per payload type, 0 when unknown: a typed array, so the per-packet lookup is an indexed load. */
  private readonly clockRates = new Float64Array(PAYLOAD_TYPES);

  /** Where the phone's packets come from; port 0 before the first one. */
  private rtpLatchAddress = '';
  private rtpLatchPort = 0;
  private rtcpLatchAddress = '';
  private rtcpLatchPort = 0;

  private readonly reception = new RtpReceptionStatistics();
  private packetsReceived = 0;
  private bytesReceived = 0;
  private packetsSent = 0;
  private bytesSent = 0;
  private packetsDropped = 0;
  private rtcpReceived = 0;
  private rtcpSent = 0;
  private socketErrors = 0;

  constructor(
    readonly name: LegName,
    readonly port: number,
    ports: LegPorts,
    private readonly context: RelayWorkerContext,
    private readonly logFields: Record<string, unknown>,
  ) {
    const onError = (err: Error): void => {
      this.socketErrors++;
      // ECONNREFUSED: the phone's port is closed (ICMP unreachable on a connected socket); expected when a phone hangs up first.
      if (errorCode(err) !== 'ECONNREFUSED') {
        this.context.log('warn', 'relay socket error', { ...this.logFields, leg: this.name, error: err.message });
      }
    };
    this.rtp = ports.rtp;
    this.rtcp = ports.rtcp;
    this.rtp.listen((packet, length, address, remotePort) => this.receiveRtp(packet, length, address, remotePort), onError);
    this.rtcp.listen((packet, length, address, remotePort) => this.receiveRtcp(packet, length, address, remotePort), onError);
  }

  pairWith(peer: RelayLeg | null): void {
    this.peer = peer;
  }

  /**
   * Applies what the SDP says about this leg's phone. A new remote address
   * or expected source forgets the latch (the phone changed, e.g. after a
   * transfer); the same SRTP keys keep their sessions, so a re-INVITE that
   * only changes direction keeps rollover counters and replay windows
   * (RFC 3711 §3.3.1).
   */
  configure(config: LegConfig): void {
    const remote = config.remote === null ? null : this.checkedRemote(config.remote);
    const expectedSource = config.expectedSource === null ? null : this.socketAddress(config.expectedSource, 'expectedSource');
    const transforms = sameSrtp(this.srtp, config.srtp) ? this.transforms : this.context.createTransforms(config.srtp);
    const clockRates = new Float64Array(PAYLOAD_TYPES);
    for (const [payloadType, rate] of Object.entries(config.clockRates)) {
      const pt = Number(payloadType);
      if (!Number.isInteger(pt) || pt < 0 || pt >= PAYLOAD_TYPES || !(rate > 0)) {
        throw new MediaConfigurationError(`leg ${this.name}: clock rate ${String(rate)} for payload type ${payloadType} is not usable`);
      }
      clockRates[pt] = rate;
    }
    const dtmf = this.dtmfFor(config.dtmf ?? null);

    const moved = !sameRemote(this.remote, remote) || expectedSource !== this.expectedSource;
    this.configured = true;
    this.remote = remote;
    this.expectedSource = expectedSource;
    this.forward = config.forward;
    this.srtp = config.srtp;
    this.transforms = transforms;
    this.clockRates.set(clockRates);
    this.dtmf = dtmf;
    const amd = config.amd ?? null;
    if (amd === null) this.amd = null;
    else if (this.amd === null) {
      this.amd = new AnsweringMachineDetector(amd, this.reportAmd);
      this.amdPayloadType = amd.payloadType;
      this.amdMulaw = amd.law === 'PCMU';
    }
    if (moved) {
      this.rtpLatchAddress = '';
      this.rtpLatchPort = 0;
      this.rtcpLatchAddress = '';
      this.rtcpLatchPort = 0;
    }
    this.updateDestinations();
  }

  snapshot(): LegStats {
    return {
      packetsReceived: this.packetsReceived,
      bytesReceived: this.bytesReceived,
      packetsSent: this.packetsSent,
      bytesSent: this.bytesSent,
      packetsLost: this.reception.packetsLost,
      extendedHighestSequence: this.reception.extendedHighestSequence,
      jitterMs: this.reception.jitterMs,
      packetsDropped: this.packetsDropped,
      rtcpReceived: this.rtcpReceived,
      rtcpSent: this.rtcpSent,
      latchedTo: this.rtp.destination,
    };
  }

  get errors(): number {
    return this.socketErrors;
  }

  setPlaying(playing: boolean): void {
    this.playing = playing;
  }

  /** The observer of what the phone sends (one per leg; null removes it). */
  observeRtp(observer: ReceivedRtpObserver | null): void {
    this.rtpObserver = observer;
  }

  /** Who hears the digits DTMF detection finds (one per leg; null: they are dropped). */
  listenForDtmf(listener: RelayDtmfListener | null): void {
    this.dtmfListener = listener;
  }

  close(): Promise<void> {
    this.peer = null;
    this.dtmf = null;
    this.amd = null;
    return Promise.all([this.rtp.close(), this.rtcp.close()]).then(() => undefined);
  }

  // ---- per packet ----

  /** `packet[0, received)` arrived from `address:port`; `packet` may be longer (room to grow in, see RelayPort). */
  receiveRtp(packet: Buffer, received: number, address: string, port: number): void {
    // Symmetric RTP: only the phone's own address may send (and move the latch); strangers are counted and dropped.
    if (!this.configured || (this.expectedSource !== null && address !== this.expectedSource)) {
      this.packetsDropped++;
      return;
    }
    const length = this.transforms.rtp.inbound(packet, received);
    if (length < 0) {
      this.packetsDropped++;
      return;
    }
    const header = this.context.rtpHeader;
    if (parseRtpHeader(packet, length, header) !== RtpHeaderStatus.Ok) {
      this.packetsDropped++;
      return;
    }
    // Latching after authentication: with SRTP a forged packet cannot redirect the stream.
    if (port !== this.rtpLatchPort || address !== this.rtpLatchAddress) this.latchRtp(address, port);
    this.packetsReceived++;
    this.bytesReceived += received;
    const now = this.context.now();
    // SSRC and timestamp as signed 32-bit (same bits): small integers, so passing them never boxes a heap number.
    this.reception.receive(
      header.ssrc | 0,
      header.sequenceNumber,
      header.timestamp | 0,
      header.payloadType,
      now,
      this.clockRates[header.payloadType] ?? 0,
    );
    const dtmf = this.dtmf;
    if (dtmf !== null) dtmf.receivedRtp(packet, header, now);
    const amd = this.amd;
    if (amd !== null && !amd.done && header.payloadType === this.amdPayloadType) {
      if (this.amdMulaw) amd.processMulaw(packet, header.headerLength, header.payloadLength);
      else amd.processAlaw(packet, header.headerLength, header.payloadLength);
    }
    const observer = this.rtpObserver;
    if (observer !== null) observer.receivedRtp(packet, length, header);
    if (!this.forward) return;
    const peer = this.peer;
    if (peer !== null) peer.sendRtp(packet, length);
  }

  receiveRtcp(packet: Buffer, received: number, address: string, port: number): void {
    if (!this.configured || (this.expectedSource !== null && address !== this.expectedSource)) {
      this.packetsDropped++;
      return;
    }
    const length = this.transforms.rtcp.inbound(packet, received);
    if (length < 0 || checkRtcpCompound(packet, length) !== RtcpStatus.Ok) {
      this.packetsDropped++;
      return;
    }
    if (port !== this.rtcpLatchPort || address !== this.rtcpLatchAddress) this.latchRtcp(address, port);
    this.rtcpReceived++;
    // RFC 3264 §5.1: RTCP is still sent and received on sendonly, recvonly and inactive streams, so `forward` does not apply.
    const peer = this.peer;
    if (peer !== null) peer.sendRtcp(packet, length);
  }

  /**
   * A packet from the peer leg's phone, `packet[0, length)` in clear, for
   * this leg's phone. `packet` is the buffer it was received in and the
   * caller does not read it again: the outbound transform may work in it.
   */
  sendRtp(packet: Buffer, length: number): void {
    // The phone hears the player instead.
    if (this.playing) return;
    const transform = this.transforms.rtp;
    // In the receive buffer when nothing grows (plain RTP), when the port
    // sends from any buffer (native: the receive slot has room for any tag),
    // or when the inbound SRTP tag's bytes can take the outbound tag (same
    // size): dgram then sends the whole Buffer as it is (no copy, no view).
    const room = packet.length - length - transform.outboundOverhead;
    if (transform.outboundOverhead === 0 || room === 0 || (room > 0 && this.rtp.sendsFromAnyBuffer)) {
      const outLength = transform.outbound(packet, length);
      if (outLength < 0) {
        this.packetsDropped++;
        return;
      }
      if (!this.rtp.send(packet, outLength)) return;
      this.packetsSent++;
      this.bytesSent += outLength;
      return;
    }
    this.sendRtpCopy(packet, length);
  }

  /**
   * A packet the leg's player made, `packet[0, length)` in clear, for this
   * leg's phone. Always copied into the outbound ring first, even without
   * SRTP: the player writes its next packet into the same Buffer, which a
   * backed-up dgram socket may still hold, and SRTP must not encrypt the
   * player's own bytes.
   */
  sendPlayedRtp(packet: Buffer, length: number): void {
    this.sendRtpCopy(packet, length);
  }

  /** Copies `packet[0, length)` into the outbound ring, protects it there (SRTP grows it) and sends it. */
  private sendRtpCopy(packet: Buffer, length: number): void {
    const transform = this.transforms.rtp;
    const ring = this.context.outboundBuffers;
    if (length + transform.outboundOverhead > ring.slotBytes) {
      this.packetsDropped++;
      return;
    }
    const out = ring.take(length + transform.outboundOverhead);
    copyPacket(packet, length, out);
    const outLength = transform.outbound(out, length);
    if (outLength < 0) {
      this.packetsDropped++;
      return;
    }
    if (!this.rtp.send(out, outLength)) return;
    this.rtp.sentFromRing(ring);
    this.packetsSent++;
    this.bytesSent += outLength;
  }

  sendRtcp(packet: Buffer, length: number): void {
    const transform = this.transforms.rtcp;
    if (transform.outboundOverhead === 0) {
      const outLength = transform.outbound(packet, length);
      if (outLength < 0 || !this.rtcp.send(packet, outLength)) return;
      this.rtcpSent++;
      return;
    }
    const ring = this.context.outboundBuffers;
    if (length + transform.outboundOverhead > ring.slotBytes) return;
    const out = ring.take(length + transform.outboundOverhead);
    copyPacket(packet, length, out);
    const outLength = transform.outbound(out, length);
    if (outLength < 0) return;
    if (!this.rtcp.send(out, outLength)) return;
    this.rtcp.sentFromRing(ring);
    this.rtcpSent++;
  }

  // ---- cold path ----

  /** The leg's DTMF detection for `config`: the current one when nothing changed (a digit in progress survives a re-INVITE). */
  private dtmfFor(config: LegDtmfConfig | null): RelayLegDtmf | null {
    if (config === null || (config.telephoneEvent === null && config.inband === null)) return null;
    const problem = legDtmfConfigProblem(config);
    if (problem !== null) throw new MediaConfigurationError(`leg ${this.name}: ${problem}`);
    const current = this.dtmf;
    return current !== null && current.sameAs(config) ? current : new RelayLegDtmf(config, this.reportDtmf);
  }

  private latchRtp(address: string, port: number): void {
    const first = this.rtpLatchPort === 0;
    this.rtpLatchAddress = address;
    this.rtpLatchPort = port;
    this.context.log(first ? 'debug' : 'info', first ? 'rtp latched' : 'rtp latch moved', { ...this.logFields, leg: this.name, address, port });
    this.updateDestinations();
  }

  private latchRtcp(address: string, port: number): void {
    this.rtcpLatchAddress = address;
    this.rtcpLatchPort = port;
    this.updateDestinations();
  }

  /**
   * Destinations towards the phone: where its packets come from once they
   * do, otherwise what its SDP said. RTCP without a latch of its own goes
   * to the SDP's RTCP port when the phone is where its SDP said, else next
   * to the latched RTP port (RFC 3550 §11) until its own RTCP latches.
   */
  private updateDestinations(): void {
    const remote = this.remote;
    const sdpUsable = remote !== null && !isUnspecified(remote.address);
    if (this.rtpLatchPort !== 0) this.rtp.setDestination(this.rtpLatchAddress, this.rtpLatchPort);
    else if (sdpUsable) this.rtp.setDestination(remote.address, remote.rtpPort);
    else this.rtp.setDestination('', 0);

    if (this.rtcpLatchPort !== 0) this.rtcp.setDestination(this.rtcpLatchAddress, this.rtcpLatchPort);
    else if (sdpUsable && (this.rtpLatchPort === 0 || this.rtpLatchAddress === remote.address)) {
      this.rtcp.setDestination(remote.address, remote.rtcpPort);
    } else if (this.rtpLatchPort !== 0) this.rtcp.setDestination(this.rtpLatchAddress, this.rtpLatchPort + 1);
    else this.rtcp.setDestination('', 0);
  }

  private checkedRemote(remote: RemoteEndpoint): RemoteEndpoint {
    for (const port of [remote.rtpPort, remote.rtcpPort]) {
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new MediaConfigurationError(`leg ${this.name}: remote port ${String(port)} is not a UDP port`);
      }
    }
    return { address: this.socketAddress(remote.address, 'remote address'), rtpPort: remote.rtpPort, rtcpPort: remote.rtcpPort };
  }

  /**
   * An IP literal in the form the sockets report sources in: IPv4 peers of
   * an IPv6 socket appear as IPv4-mapped addresses. No names: the worker
   * does no DNS.
   */
  private socketAddress(address: string, what: string): string {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    const plain = mapped?.[1] ?? address;
    if (isIPv4(plain)) return this.context.family === 'udp6' ? `::ffff:${plain}` : plain;
    if (this.context.family === 'udp6' && isIPv6(plain)) return plain.toLowerCase();
    throw new MediaConfigurationError(
      `leg ${this.name}: ${what} ${JSON.stringify(address)} is not an IP${this.context.family === 'udp4' ? 'v4' : ''} address the RTP sockets can reach`,
    );
  }
}

function sameRemote(a: RemoteEndpoint | null, b: RemoteEndpoint | null): boolean {
  if (a === null || b === null) return a === b;
  return a.address === b.address && a.rtpPort === b.rtpPort && a.rtcpPort === b.rtcpPort;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function sameSrtp(a: LegConfig['srtp'], b: LegConfig['srtp']): boolean {
  if (a === null || b === null) return a === b;
  const same = (x: typeof a.inbound, y: typeof a.inbound): boolean => x.suite === y.suite && sameBytes(x.key, y.key) && sameBytes(x.salt, y.salt);
  return same(a.inbound, b.inbound) && same(a.outbound, b.outbound);
}

/** RFC 3264 §8.4: c=0.0.0.0 (an old way to put a call on hold) means "do not send". */
function isUnspecified(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '::ffff:0.0.0.0';
}
