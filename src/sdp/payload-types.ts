/**
 * RTP payload formats as SDP names them, and the codecs voix relays. voix
 * does not transcode: a codec passes when both phones have it, matched by
 * encoding name (case-insensitive, RFC 4855 §3) and clock rate, with the
 * payload type numbers each phone chose left as they are.
 */
import type { MediaDescription } from './session-description.js';
import { parsePayloadType, rtpmapsOf, type Rtpmap } from './media-attributes.js';

/**
 * RFC 3551 §6 Table 4: the static audio payload types, which an SDP may use
 * without an rtpmap (RFC 8866 §6.6). Video ones are left out: voix relays
 * audio only.
 */
const STATIC_AUDIO_PAYLOAD_TYPES: ReadonlyMap<number, Omit<Rtpmap, 'payloadType'>> = new Map([
  [0, { encodingName: 'PCMU', clockRate: 8000, channels: 1 }],
  [3, { encodingName: 'GSM', clockRate: 8000, channels: 1 }],
  [4, { encodingName: 'G723', clockRate: 8000, channels: 1 }],
  [5, { encodingName: 'DVI4', clockRate: 8000, channels: 1 }],
  [6, { encodingName: 'DVI4', clockRate: 16000, channels: 1 }],
  [7, { encodingName: 'LPC', clockRate: 8000, channels: 1 }],
  [8, { encodingName: 'PCMA', clockRate: 8000, channels: 1 }],
  // RFC 3551 §4.5.2: G.722's RTP clock rate is 8000 although it samples at 16 kHz.
  [9, { encodingName: 'G722', clockRate: 8000, channels: 1 }],
  [10, { encodingName: 'L16', clockRate: 44100, channels: 2 }],
  [11, { encodingName: 'L16', clockRate: 44100, channels: 1 }],
  [12, { encodingName: 'QCELP', clockRate: 8000, channels: 1 }],
  [13, { encodingName: 'CN', clockRate: 8000, channels: 1 }],
  [14, { encodingName: 'MPA', clockRate: 90000, channels: null }],
  [15, { encodingName: 'G728', clockRate: 8000, channels: 1 }],
  [16, { encodingName: 'DVI4', clockRate: 11025, channels: 1 }],
  [17, { encodingName: 'DVI4', clockRate: 22050, channels: 1 }],
  [18, { encodingName: 'G729', clockRate: 8000, channels: 1 }],
]);

export function staticPayloadFormat(payloadType: number): Rtpmap | null {
  const known = STATIC_AUDIO_PAYLOAD_TYPES.get(payloadType);
  return known === undefined ? null : { payloadType, ...known };
}

/** A codec voix passes between the legs. */
export interface RelayedCodec {
  readonly encodingName: string;
  readonly clockRate: number;
}

/** PCMU, PCMA, G.722, Opus and RFC 4733 events: what the phones voix serves commonly share. */
export const DEFAULT_RELAYED_CODECS: readonly RelayedCodec[] = [
  { encodingName: 'PCMU', clockRate: 8000 },
  { encodingName: 'PCMA', clockRate: 8000 },
  { encodingName: 'G722', clockRate: 8000 },
  // RFC 7587 §7: always opus/48000/2 in SDP, whatever the real rate and channels.
  { encodingName: 'opus', clockRate: 48000 },
  { encodingName: 'telephone-event', clockRate: 8000 },
];

/**
 * Formats that ride along a voice codec but are not one: a call whose only
 * common format is one of these has no common codec (telephone-event
 * RFC 4733, CN RFC 3389, redundancy and FEC).
 */
const NOT_A_VOICE_CODEC: ReadonlySet<string> = new Set(['telephone-event', 'cn', 'red', 'ulpfec', 'flexfec', 'rtx']);

export function isVoiceCodec(format: Rtpmap): boolean {
  return !NOT_A_VOICE_CODEC.has(format.encodingName.toLowerCase());
}

export function sameCodec(x: { encodingName: string; clockRate: number }, y: { encodingName: string; clockRate: number }): boolean {
  return x.encodingName.toLowerCase() === y.encodingName.toLowerCase() && x.clockRate === y.clockRate;
}

/** One entry of an m= format list that voix understood. */
export type PayloadFormat = Rtpmap;

export interface PayloadFormats {
  /** In m= order, the formats with an rtpmap or a static payload type. */
  readonly known: readonly PayloadFormat[];
  /** Formats that are not a payload type number, or dynamic ones without an rtpmap. */
  readonly unknown: readonly string[];
}

/** What each format of an RTP m= line is: its rtpmap, else the static table (RFC 8866 §6.6, RFC 3551 §6). */
export function payloadFormatsOf(media: MediaDescription): PayloadFormats {
  const rtpmaps = rtpmapsOf(media.attributes);
  const known: PayloadFormat[] = [];
  const unknown: string[] = [];
  for (const text of media.formats) {
    const pt = parsePayloadType(text);
    const format = pt === null ? null : (rtpmaps.get(pt) ?? staticPayloadFormat(pt));
    if (format === null) unknown.push(text);
    else known.push(format);
  }
  return { known, unknown };
}

export function isRelayed(format: PayloadFormat, codecs: readonly RelayedCodec[]): boolean {
  return codecs.some((c) => sameCodec(c, format));
}
