/**
 * The contract between the call core (main thread) and the media engine
 * (RTP relay in worker threads). A call gets one relay with two legs: leg
 * `a` faces the caller, leg `b` the callee. Each leg owns an RTP socket on
 * an even port and an RTCP socket on the next one. A packet that arrives on
 * leg a's socket from phone A leaves from leg b's socket towards phone B,
 * and the other way round; with SRTP, voix decrypts with the key the
 * sender gave and encrypts with the key voix gave the receiver, so each leg
 * has its own keys.
 */
import type { DtmfDigit } from '../media/dtmf/dtmf-digit.js';
import type { AmdReason, AmdSettings, AmdVerdict } from '../media/answering-machine-detector.js';

export type SrtpSuite = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';

/** An SDES master key (RFC 4568): 16-byte key and 14-byte salt for the AES_CM_128 suites. */
export interface SrtpKeying {
  readonly suite: SrtpSuite;
  readonly key: Uint8Array;
  readonly salt: Uint8Array;
}

export interface RemoteEndpoint {
  readonly address: string;
  readonly rtpPort: number;
  readonly rtcpPort: number;
}

export type LegName = 'a' | 'b';

/** What the call core tells the relay about one leg, from the SDP exchanged with that leg's phone. */
export interface LegConfig {
  /** Where the phone said it receives (SDP c= and m=); null until its SDP is known. */
  readonly remote: RemoteEndpoint | null;
  /**
   * Symmetric RTP (for NAT): the relay sends to the address and port packets
   * really come from, once one arrives. Only packets whose source address is
   * `expectedSource` (the address the phone's SIP came from) may move the
   * latch, so a stranger cannot hijack the stream; null accepts any source.
   */
  readonly expectedSource: string | null;
  /** null: plain RTP on this leg. */
  readonly srtp: {
    /** Key the phone gave in its SDP: decrypts what it sends. */
    readonly inbound: SrtpKeying;
    /** Key voix gave the phone in its SDP: encrypts what voix sends it. */
    readonly outbound: SrtpKeying;
  } | null;
  /** Whether media from this phone is forwarded to the other leg (false when it is on hold / inactive). */
  readonly forward: boolean;
  /** RTP clock rate per payload type, for the RFC 3550 jitter of what this leg receives. */
  readonly clockRates: Readonly<Record<number, number>>;
  /**
   * DTMF detection on what this leg's phone sends, reported as DtmfEvents;
   * absent or null: none. The call core asks only while voix itself
   * listens to the phone (a voice menu): detection costs CPU per packet.
   */
  readonly dtmf?: LegDtmfConfig | null;
  /**
   * Answering-machine detection on the first seconds of what this leg's
   * phone sends (a call voix placed); absent or null: none. One verdict,
   * reported as an AmdEvent.
   */
  readonly amd?: LegAmdConfig | null;
}

/** Answering-machine detection on a leg: the thresholds, and which packets carry the phone's G.711 voice. */
export interface LegAmdConfig extends AmdSettings {
  readonly law: 'PCMU' | 'PCMA';
  readonly payloadType: number;
}

/** The verdict of a leg's answering-machine detection (worker to main thread). */
export interface RelayAmdEvent {
  readonly relayId: number;
  readonly leg: LegName;
  readonly verdict: AmdVerdict;
  readonly reason: AmdReason;
  /** Audio analysed before the verdict (ms). */
  readonly afterMs: number;
}

/** A RelayAmdEvent with the call the relay belongs to. */
export interface AmdEvent extends RelayAmdEvent {
  readonly callId: string;
}

/** Which DTMF a leg looks for in what its phone sends. */
export interface LegDtmfConfig {
  /** Payload type of telephone-event/8000 (RFC 4733) the phone sends, from its SDP; null when it offered none. */
  readonly telephoneEvent: number | null;
  /** The G.711 law of the phone's voice packets, to detect DTMF tones in the audio itself; null: no in-band detection. */
  readonly inband: 'PCMU' | 'PCMA' | null;
  /**
   * Payload type of those voice packets (only they are fed to the in-band
   * detector); default RFC 3551's static number, 0 for PCMU and 8 for PCMA.
   */
  readonly inbandPayloadType?: number;
}

/** Where a digit came from: RFC 4733 telephone-event packets, or tones detected in the audio. */
export type MediaDtmfSource = 'rfc4733' | 'inband';

/** A digit the phone of a relay leg sent (worker to main thread). */
export interface RelayDtmfEvent {
  readonly relayId: number;
  readonly leg: LegName;
  readonly digit: DtmfDigit;
  readonly source: MediaDtmfSource;
}

/** A RelayDtmfEvent with the call the relay belongs to, as the media engine reports it. */
export interface DtmfEvent extends RelayDtmfEvent {
  readonly callId: string;
}

/** RFC 3550 view of what one leg received from its phone and sent to it. */
export interface LegStats {
  /** Packets accepted from the phone (right source, authenticated, well formed), forwarded or not. */
  readonly packetsReceived: number;
  /** UDP payload bytes of those packets, RTP header (and SRTP tag) included, as on the wire. */
  readonly bytesReceived: number;
  readonly packetsSent: number;
  readonly bytesSent: number;
  /**
   * Expected minus received, from the extended highest sequence number (RFC 3550 §6.4.1, A.3),
   * summed over the phone's successive sources; negative when duplicates outnumber losses.
   */
  readonly packetsLost: number;
  /** Extended highest sequence number received from the current source (RFC 3550 §6.4.1, A.1); 0 before any. */
  readonly extendedHighestSequence: number;
  /** Interarrival jitter in milliseconds (RFC 3550 §6.4.1, A.8). */
  readonly jitterMs: number;
  /**
   * Packets dropped: from the phone, SRTP authentication failure or replay, wrong source, malformed,
   * or arrived before the leg was configured; towards the phone, refused by SRTP protect.
   */
  readonly packetsDropped: number;
  readonly rtcpReceived: number;
  readonly rtcpSent: number;
  /** Where the relay sends RTP for this phone: the latched source once one arrived, the SDP address before; null if neither. */
  readonly latchedTo: { readonly address: string; readonly port: number } | null;
}

export interface RelayStats {
  readonly a: LegStats;
  readonly b: LegStats;
}

export interface AllocatedRelay {
  readonly relayId: number;
  /** Local RTP port of each leg (RTCP is port + 1). */
  readonly a: { readonly port: number };
  readonly b: { readonly port: number };
}

/** Raised when no port pair is free, or the engine is stopping. */
export class MediaUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MediaUnavailableError';
  }
}

/** The relay id is not (or no longer) known: released already, or its media worker died. */
export class UnknownRelayError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownRelayError';
  }
}

/** A LegConfig the relay cannot apply (address family, port, SRTP key); the call should refuse that SDP. */
export class MediaConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MediaConfigurationError';
  }
}

/** What the call core uses. One implementation runs relays in worker threads. */
export interface MediaEngine {
  /** Reserves a relay: two port pairs in one worker. Throws MediaUnavailableError when the pool is empty. */
  allocate(callId: string): Promise<AllocatedRelay>;
  configure(relayId: number, leg: LegName, config: LegConfig): Promise<void>;
  stats(relayId: number): Promise<RelayStats>;
  /** Closes the sockets, returns the ports to the pool, and gives the final statistics. */
  release(relayId: number): Promise<RelayStats>;
  /** Relays currently allocated (tests check it is 0 after every call). */
  activeRelays(): number;
  stop(): Promise<void>;
}
