/**
 * The RFC 4475 torture messages (../shared/rfc4475, read as bytes) and what
 * voix does with each, following that folder's README. Unit tests check the
 * parser and the request checks against `parses`/`check`; the end-to-end
 * test checks what a peer sees on the wire against `answer`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const RFC4475_DIR = path.resolve(REPO_ROOT, '../shared/rfc4475');

export function readTorture(file: string): Buffer {
  return readFileSync(path.join(RFC4475_DIR, file));
}

/**
 * What a peer sees over UDP: a status code, or 'drop' for no answer at all.
 * 401/407 are the digest challenges voix gives to any unauthenticated
 * REGISTER/INVITE; 200 is voix answering OPTIONS itself; 481 a request in a
 * dialog voix does not know.
 */
export type WireAnswer = number | 'drop';

export interface TortureCase {
  readonly file: string;
  readonly section: string;
  /** Whether the parser accepts the message. */
  readonly parses: boolean;
  /** For a request that parses: the status of the UAS checks (RFC 3261 §8.2), or null when it passes them. */
  readonly check: number | null;
  /** What a peer sees over UDP. */
  readonly answer: WireAnswer;
  /** Over TCP/TLS, when it differs from UDP. */
  readonly streamAnswer?: WireAnswer | 'no-answer-until-body' | readonly number[];
  /** Whether voix closes the TCP/TLS connection after answering (framing lost). */
  readonly closesStream?: boolean;
}

export const TORTURE_CASES: readonly TortureCase[] = [
  // Its To tag makes it a mid-dialog INVITE for a dialog voix does not know (RFC 3261 §12.2.2).
  { file: 'wsinv.dat', section: '3.1.1.1', parses: true, check: null, answer: 481 },
  { file: 'intmeth.dat', section: '3.1.1.2', parses: true, check: 501, answer: 501 },
  { file: 'esc01.dat', section: '3.1.1.3', parses: true, check: null, answer: 407 },
  { file: 'escnull.dat', section: '3.1.1.4', parses: true, check: null, answer: 401 },
  { file: 'esc02.dat', section: '3.1.1.5', parses: true, check: 501, answer: 501 },
  { file: 'lwsdisp.dat', section: '3.1.1.6', parses: true, check: null, answer: 200 },
  { file: 'longreq.dat', section: '3.1.1.7', parses: true, check: null, answer: 407 },
  // UDP: the bytes after Content-Length are ignored; on a stream they are the next request.
  { file: 'dblreq.dat', section: '3.1.1.8', parses: true, check: null, answer: 401, streamAnswer: [401, 407] },
  { file: 'semiuri.dat', section: '3.1.1.9', parses: true, check: null, answer: 200 },
  { file: 'transports.dat', section: '3.1.1.10', parses: true, check: null, answer: 200 },
  { file: 'mpart01.dat', section: '3.1.1.11', parses: true, check: 405, answer: 405 },
  { file: 'unreason.dat', section: '3.1.1.12', parses: true, check: null, answer: 'drop' },
  { file: 'noreason.dat', section: '3.1.1.13', parses: true, check: null, answer: 'drop' },
  { file: 'badinv01.dat', section: '3.1.2.1', parses: false, check: 400, answer: 400 },
  // On a stream, a Content-Length beyond what was sent means "wait for the rest".
  { file: 'clerr.dat', section: '3.1.2.2', parses: false, check: 400, answer: 400, streamAnswer: 'no-answer-until-body' },
  { file: 'ncl.dat', section: '3.1.2.3', parses: false, check: 400, answer: 400, closesStream: true },
  { file: 'scalar02.dat', section: '3.1.2.4', parses: false, check: 400, answer: 400 },
  { file: 'scalarlg.dat', section: '3.1.2.5', parses: false, check: null, answer: 'drop' },
  { file: 'quotbal.dat', section: '3.1.2.6', parses: false, check: 400, answer: 400 },
  { file: 'ltgtruri.dat', section: '3.1.2.7', parses: false, check: 400, answer: 400 },
  { file: 'lwsruri.dat', section: '3.1.2.8', parses: false, check: 400, answer: 400 },
  { file: 'lwsstart.dat', section: '3.1.2.9', parses: false, check: 400, answer: 400 },
  { file: 'trws.dat', section: '3.1.2.10', parses: true, check: null, answer: 200 },
  { file: 'escruri.dat', section: '3.1.2.11', parses: true, check: null, answer: 407 },
  { file: 'baddate.dat', section: '3.1.2.12', parses: true, check: null, answer: 407 },
  { file: 'regbadct.dat', section: '3.1.2.13', parses: true, check: null, answer: 401 },
  { file: 'badaspec.dat', section: '3.1.2.14', parses: true, check: null, answer: 200 },
  { file: 'baddn.dat', section: '3.1.2.15', parses: true, check: null, answer: 200 },
  { file: 'badvers.dat', section: '3.1.2.16', parses: true, check: 505, answer: 505 },
  { file: 'mismatch01.dat', section: '3.1.2.17', parses: true, check: 400, answer: 400 },
  { file: 'mismatch02.dat', section: '3.1.2.18', parses: true, check: 400, answer: 400 },
  { file: 'bigcode.dat', section: '3.1.2.19', parses: false, check: null, answer: 'drop' },
  { file: 'badbranch.dat', section: '3.2.1', parses: true, check: null, answer: 200 },
  { file: 'insuf.dat', section: '3.3.1', parses: false, check: 400, answer: 400 },
  { file: 'unkscm.dat', section: '3.3.2', parses: true, check: 416, answer: 416 },
  { file: 'novelsc.dat', section: '3.3.3', parses: true, check: 416, answer: 416 },
  { file: 'unksm2.dat', section: '3.3.4', parses: true, check: null, answer: 401 },
  { file: 'bext01.dat', section: '3.3.5', parses: true, check: 420, answer: 420 },
  { file: 'invut.dat', section: '3.3.6', parses: true, check: 415, answer: 415 },
  { file: 'regaut01.dat', section: '3.3.7', parses: true, check: null, answer: 401 },
  { file: 'multi01.dat', section: '3.3.8', parses: false, check: 400, answer: 400 },
  { file: 'mcl01.dat', section: '3.3.9', parses: false, check: 400, answer: 400, closesStream: true },
  { file: 'bcast.dat', section: '3.3.10', parses: true, check: null, answer: 'drop' },
  { file: 'zeromf.dat', section: '3.3.11', parses: true, check: null, answer: 200 },
  { file: 'cparam01.dat', section: '3.3.12', parses: true, check: null, answer: 401 },
  { file: 'cparam02.dat', section: '3.3.13', parses: true, check: null, answer: 401 },
  { file: 'regescrt.dat', section: '3.3.14', parses: true, check: null, answer: 401 },
  { file: 'sdp01.dat', section: '3.3.15', parses: true, check: 406, answer: 406 },
  { file: 'inv2543.dat', section: '3.4.1', parses: true, check: null, answer: 407 },
];
