/**
 * SDP bodies from real phones, kept as files in fixtures/ with LF line ends
 * and read back with the CRLF the wire has.
 *
 * - baresip-1.0-*: captured from Debian's baresip 1.0.0 placing a call
 *   (mediaenc=srtp: RTP/AVP with a=crypto; mediaenc=srtp-mand: RTP/SAVP),
 *   modules opus, g722, g711.
 * - linphone-5.1-srtp-offer: captured from Debian's linphone-daemon
 *   (liblinphone 5.1) with media_encryption=srtp.
 * - sipp-3.6-uac-offer: captured from SIPp 3.6.1's built-in `uac` scenario.
 * - yealink-style-offer: hand-written after Yealink T4x/T5x offers (s=SDP
 *   data, G.722 first, G.729 annexb=no, two SDES suites with |2^31, a video
 *   line); not a capture.
 * - asterisk-22-answer: hand-written after chan_pjsip answers (s=Asterisk,
 *   ptime 20, maxptime 150, explicit sendrecv); not a capture.
 *
 * Captures were made on loopback; the addresses were changed to
 * documentation ones (RFC 5737), nothing else.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSessionDescription } from '../../../src/sdp/parser.js';
import type { SessionDescription } from '../../../src/sdp/session-description.js';

export const FIXTURES = [
  'baresip-1.0-srtp-best-effort-offer',
  'baresip-1.0-srtp-mand-offer',
  'linphone-5.1-srtp-offer',
  'sipp-3.6-uac-offer',
  'yealink-style-offer',
  'asterisk-22-answer',
] as const;

export type FixtureName = (typeof FIXTURES)[number];

/** The fixture's text with CRLF line ends. */
export function fixtureText(name: FixtureName): string {
  const text = readFileSync(fileURLToPath(new URL(`./fixtures/${name}.sdp`, import.meta.url)), 'utf8');
  return text.replace(/\r?\n/g, '\r\n');
}

/** Parses SDP written in a test (LF line ends welcome) and fails the test when it does not parse. */
export function sdp(text: string): SessionDescription {
  const r = parseSessionDescription(text);
  if (!r.ok) throw new Error(`test SDP does not parse: ${r.reason}`);
  return r.description;
}

export function fixture(name: FixtureName): SessionDescription {
  return sdp(fixtureText(name));
}
