/**
 * DTMF detection on one relay leg: what the leg's phone sends, after SRTP
 * and the header checks, is fed to an RFC 4733 TelephoneEventReceiver
 * (packets of the telephone-event payload type) and to an in-band Goertzel
 * detector (packets of the G.711 voice payload type), whichever the leg's
 * LegDtmfConfig asks for. Built once when the leg is configured; per
 * packet it compares a payload type and hands the payload to the detector
 * in place, allocating nothing.
 *
 * RFC 4733 takes precedence: once the phone has sent one telephone-event
 * packet, in-band detections are ignored, since a phone that sends both
 * (events, and the tones left in its audio) would otherwise give every
 * digit twice. The receiver's end-of-event timeout (all end packets lost,
 * RFC 4733 §2.5.2.2) is checked on the phone's other packets: a worker has
 * no periodic tick, and no stream gets a timer of its own.
 */
import type { DtmfDigit } from '../media/dtmf/dtmf-digit.js';
import { GoertzelDtmfDetector, type DtmfToneSink } from '../media/dtmf/goertzel-detector.js';
import { TelephoneEventReceiver, type TelephoneEventEnding, type TelephoneEventSink } from '../media/dtmf/rfc4733-receiver.js';
import type { LegDtmfConfig, MediaDtmfSource } from './media-protocol.js';
import type { RtpHeaderView } from './rtp-header.js';

/** RFC 3551 §6: the static payload types of G.711. */
const STATIC_PAYLOAD_TYPE = { PCMU: 0, PCMA: 8 } as const;
/** Matches no 7-bit payload type. */
const NONE = -1;

export type DtmfReport = (digit: DtmfDigit, source: MediaDtmfSource) => void;

export class RelayLegDtmf implements TelephoneEventSink, DtmfToneSink {
  private readonly receiver: TelephoneEventReceiver | null;
  private readonly detector: GoertzelDtmfDetector | null;
  private readonly telephoneEventType: number;
  private readonly voiceType: number;
  private readonly mulaw: boolean;
  /** The phone sends RFC 4733 events: in-band detections are its audio echoing them. */
  private telephoneEventsSeen = false;

  constructor(
    readonly config: LegDtmfConfig,
    private readonly report: DtmfReport,
  ) {
    this.telephoneEventType = config.telephoneEvent ?? NONE;
    this.receiver = config.telephoneEvent === null ? null : new TelephoneEventReceiver(this);
    this.voiceType = config.inband === null ? NONE : (config.inbandPayloadType ?? STATIC_PAYLOAD_TYPE[config.inband]);
    this.detector = config.inband === null ? null : new GoertzelDtmfDetector(this);
    this.mulaw = config.inband === 'PCMU';
  }

  /** True when the phone sent at least one telephone-event packet since this leg's DTMF was configured. */
  get receivedTelephoneEvents(): boolean {
    return this.telephoneEventsSeen;
  }

  /** One packet from the phone, `packet[0, length)` in clear, its header parsed into `header`. */
  receivedRtp(packet: Buffer, header: RtpHeaderView, nowMs: number): void {
    const payloadType = header.payloadType;
    const receiver = this.receiver;
    if (payloadType === this.telephoneEventType) {
      this.telephoneEventsSeen = true;
      if (receiver !== null) {
        // Signed (same bits): a small integer, never boxed on the way in.
        receiver.receive(packet, header.headerLength, header.payloadLength, header.timestamp | 0, header.marker, nowMs);
      }
      return;
    }
    // An event whose end packets were all lost ends after the receiver's timeout: voice packets keep coming meanwhile.
    if (receiver !== null) receiver.expire(nowMs);
    const detector = this.detector;
    if (detector === null || payloadType !== this.voiceType || this.telephoneEventsSeen) return;
    if (this.mulaw) detector.processMulaw(packet, header.headerLength, header.payloadLength);
    else detector.processAlaw(packet, header.headerLength, header.payloadLength);
  }

  /** The same detection as `config` asks for (a re-INVITE that changes nothing keeps the state of a digit in progress). */
  sameAs(config: LegDtmfConfig): boolean {
    const own = this.config;
    return (
      own.telephoneEvent === config.telephoneEvent &&
      own.inband === config.inband &&
      (own.inband === null || this.voiceType === (config.inbandPayloadType ?? STATIC_PAYLOAD_TYPE[own.inband]))
    );
  }

  // ---- sinks: once per digit ----

  dtmfEnded(digit: DtmfDigit, _rtpTimestamp: number, _durationUnits: number, _ending: TelephoneEventEnding): void {
    this.report(digit, 'rfc4733');
  }

  dtmfToneDetected(digit: DtmfDigit, _startSample: number): void {
    this.report(digit, 'inband');
  }
}

/** Checks a LegDtmfConfig from the main thread; the reason when it cannot be used, null when it can. */
export function legDtmfConfigProblem(config: LegDtmfConfig): string | null {
  const pt = (value: unknown): boolean => typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 127;
  if (config.telephoneEvent !== null && !pt(config.telephoneEvent)) {
    return `telephone-event payload type ${String(config.telephoneEvent)} is not an RTP payload type (0-127)`;
  }
  if (config.inband !== null && config.inband !== 'PCMU' && config.inband !== 'PCMA') {
    return `in-band DTMF needs PCMU or PCMA, not ${String(config.inband)}`;
  }
  if (config.inbandPayloadType !== undefined && !pt(config.inbandPayloadType)) {
    return `in-band payload type ${String(config.inbandPayloadType)} is not an RTP payload type (0-127)`;
  }
  if (config.inband !== null && config.telephoneEvent !== null && (config.inbandPayloadType ?? STATIC_PAYLOAD_TYPE[config.inband]) === config.telephoneEvent) {
    return `payload type ${config.telephoneEvent} cannot be both telephone-event and ${config.inband}`;
  }
  return null;
}
