/**
 * DTMF carried in SIP INFO bodies (legacy INFO usage, RFC 6086 §2, before
 * Info packages): the two formats phones send.
 *
 *   Content-Type: application/dtmf-relay      Content-Type: application/dtmf
 *
 *   Signal=5                                  5
 *   Duration=160
 *
 * `application/dtmf-relay` (Cisco's format) has `key=value` lines; Duration
 * is in milliseconds. Phones differ in case, spacing and line endings
 * (`signal = *`, LF-only lines, a trailing blank line), and some send the
 * RFC 4733 event code instead of the character (`Signal=11` for #); all of
 * that is accepted. Errors are values with a reason and the status code to
 * answer the INFO with; nothing here throws.
 */

import { DTMF_DIGITS, DTMF_EVENT_CODE_MAX, type DtmfDigit } from './dtmf-digit.js';

export const DTMF_RELAY_CONTENT_TYPE = 'application/dtmf-relay';
export const DTMF_CONTENT_TYPE = 'application/dtmf';

export type SipInfoDtmf =
  | {
      readonly ok: true;
      readonly digit: DtmfDigit;
      /** From the Duration line of application/dtmf-relay; undefined when absent or unusable. */
      readonly durationMs: number | undefined;
    }
  | {
      readonly ok: false;
      /** 415 for a body that is not DTMF, 400 for a DTMF body that cannot be read. */
      readonly status: 400 | 415;
      readonly reason: string;
    };

/** RFC 4733 §3.2 event 16; some phones send it as `Signal=!` or `Signal=16`. */
const HOOK_FLASH_EVENT = 16;

/**
 * The digit in an INFO request, chosen by its Content-Type (parameters and
 * case ignored). `body` is the message body as received.
 */
export function parseSipInfoDtmf(contentType: string | undefined, body: string | Uint8Array): SipInfoDtmf {
  const mediaType = (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
  if (mediaType === DTMF_RELAY_CONTENT_TYPE) return parseDtmfRelayBody(body);
  if (mediaType === DTMF_CONTENT_TYPE) return parseDtmfBody(body);
  return {
    ok: false,
    status: 415,
    reason:
      mediaType === ''
        ? 'INFO without a Content-Type: not DTMF'
        : `Content-Type ${mediaType} is not ${DTMF_RELAY_CONTENT_TYPE} or ${DTMF_CONTENT_TYPE}`,
  };
}

/** An application/dtmf-relay body: `Signal=<digit>` and an optional `Duration=<ms>`, other lines ignored. */
export function parseDtmfRelayBody(body: string | Uint8Array): SipInfoDtmf {
  const text = bodyText(body);
  let signal: string | undefined;
  let duration: string | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    const separator = line.search(/[=:]/);
    if (separator < 0) continue;
    const key = line.slice(0, separator).trim().toLowerCase();
    const value = line.slice(separator + 1).trim();
    if (key === 'signal' && signal === undefined) signal = value;
    else if (key === 'duration' && duration === undefined) duration = value;
  }
  if (signal === undefined) {
    return { ok: false, status: 400, reason: text.trim() === '' ? 'empty dtmf-relay body' : 'dtmf-relay body without a Signal line' };
  }
  const digit = signalDigit(signal);
  if (typeof digit !== 'string') return { ok: false, status: 400, reason: `Signal=${signal}: ${digit.reason}` };
  return { ok: true, digit, durationMs: durationValue(duration) };
}

/** An application/dtmf body: the digit alone (or its RFC 4733 event code). */
export function parseDtmfBody(body: string | Uint8Array): SipInfoDtmf {
  const value = bodyText(body).trim();
  if (value === '') return { ok: false, status: 400, reason: 'empty application/dtmf body' };
  const digit = signalDigit(value);
  if (typeof digit !== 'string') return { ok: false, status: 400, reason: `application/dtmf body "${value}": ${digit.reason}` };
  return { ok: true, digit, durationMs: undefined };
}

function bodyText(body: string | Uint8Array): string {
  const text = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** A digit character (a–d in either case) or an RFC 4733 event code 0–15. */
function signalDigit(value: string): DtmfDigit | { reason: string } {
  if (value === '') return { reason: 'no digit' };
  if (value.length === 1) {
    if (value === '!') return { reason: 'hook flash is not a DTMF digit' };
    const index = DTMF_DIGITS.indexOf(value.toUpperCase() as DtmfDigit);
    if (index >= 0) return DTMF_DIGITS[index] as DtmfDigit;
    return { reason: 'not a DTMF digit (0-9, *, #, A-D)' };
  }
  if (/^\d{1,3}$/.test(value)) {
    const code = Number(value);
    if (code <= DTMF_EVENT_CODE_MAX) return DTMF_DIGITS[code] as DtmfDigit;
    if (code === HOOK_FLASH_EVENT) return { reason: 'hook flash (event 16) is not a DTMF digit' };
    return { reason: `event code ${code} is not a DTMF digit (0-15)` };
  }
  return { reason: 'not a DTMF digit (0-9, *, #, A-D)' };
}

function durationValue(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,6}$/.test(value)) return undefined;
  const ms = Number(value);
  return ms > 0 ? ms : undefined;
}
