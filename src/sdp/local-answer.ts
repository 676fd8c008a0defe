/**
 * voix answering a caller's offer itself (an announcement, a voice menu):
 * the caller's leg is negotiated exactly as in a relayed call, with voix's
 * own media endpoint standing in for the other phone. That endpoint speaks
 * G.711 only (PCMU, else PCMA: what prompts are stored in) and accepts
 * telephone-event for DTMF (RFC 4733), so the caller's leg gets the same
 * checks, SRTP policy, keys and SDP as any call, from the same code.
 */
import { relayAnswer, relayOffer, type MediaSession, type RelayOptions } from './offer-answer.js';
import { parseSessionDescription } from './parser.js';
import type { SessionDescription } from './session-description.js';

export type G711Codec = 'PCMU' | 'PCMA';

export interface LocalAnswer {
  readonly ok: true;
  /** The answer to send to the caller. */
  readonly answer: SessionDescription;
  /** Keep it: the caller's later offers (hold, refresh) are answered from it. */
  readonly session: MediaSession;
  readonly codec: G711Codec;
  /** The payload type numbers the caller uses. */
  readonly payloadType: number;
  readonly telephoneEvent: number | null;
}

export type LocalAnswerResult = LocalAnswer | { readonly ok: false; readonly status: number; readonly reason: string };

/**
 * `options.legs.b` describes voix's endpoint: its address and a port (the
 * relay's leg b, which carries nothing); its SRTP settings are ignored.
 */
export function answerLocally(offer: SessionDescription, options: RelayOptions): LocalAnswerResult {
  const endpoint = { ...options.legs.b, srtp: 'off' as const, cryptoAllowed: false };
  const relayed = relayOffer(offer, 'a', { ...options, legs: { a: options.legs.a, b: endpoint } });
  if (!relayed.ok) return { ok: false, status: relayed.status, reason: relayed.reason };
  const formats = relayed.pending.stream.formats;
  const pcmu = formats.find((f) => f.encodingName.toUpperCase() === 'PCMU' && f.clockRate === 8000);
  const pcma = formats.find((f) => f.encodingName.toUpperCase() === 'PCMA' && f.clockRate === 8000);
  const voice = pcmu ?? pcma;
  if (voice === undefined) return { ok: false, status: 488, reason: 'voix plays prompts in G.711 (PCMU or PCMA), which the offer does not have' };
  const event = formats.find((f) => f.encodingName.toLowerCase() === 'telephone-event' && f.clockRate === 8000);
  const payloadTypes = [voice.payloadType, ...(event !== undefined ? [event.payloadType] : [])];
  const address = endpoint.address;
  const family = address.includes(':') ? 'IP6' : 'IP4';
  const text = [
    'v=0',
    `o=- 1 1 IN ${family} ${address}`,
    's=voix',
    `c=IN ${family} ${address}`,
    't=0 0',
    `m=audio ${endpoint.port} RTP/AVP ${payloadTypes.join(' ')}`,
    `a=rtpmap:${voice.payloadType} ${voice.encodingName}/8000`,
    ...(event !== undefined ? [`a=rtpmap:${event.payloadType} telephone-event/8000`, `a=fmtp:${event.payloadType} 0-15`] : []),
    'a=ptime:20',
    'a=sendrecv',
    '',
  ].join('\r\n');
  const parsed = parseSessionDescription(text);
  if (!parsed.ok) return { ok: false, status: 500, reason: `voix's own answer does not parse: ${parsed.reason}` };
  // relayOffer put the caller's stream at its own index; voix's endpoint answers that m= line and refuses the others.
  const index = relayed.pending.stream.index;
  const ownLine = parsed.description.media[0];
  if (ownLine === undefined) return { ok: false, status: 500, reason: "voix's own answer has no m= line" };
  const media = relayed.offer.media.map((m, i) => (i === index ? ownLine : { ...m, port: 0, attributes: [], bandwidths: [], connection: null }));
  const synthetic: SessionDescription = { ...parsed.description, media };
  const answered = relayAnswer(synthetic, relayed.pending, { ...options, legs: { a: options.legs.a, b: endpoint } });
  if (!answered.ok) return { ok: false, status: answered.status, reason: answered.reason };
  return {
    ok: true,
    answer: answered.answer,
    session: answered.session,
    codec: voice === pcmu ? 'PCMU' : 'PCMA',
    payloadType: voice.payloadType,
    telephoneEvent: event?.payloadType ?? null,
  };
}
