/**
 * Cuts a TCP or TLS byte stream into SIP messages (RFC 3261 §18.3): header
 * section up to the blank line, then exactly Content-Length bytes of body.
 * Handles messages split across reads and several messages in one read,
 * and the RFC 5626 §3.5.1 CRLF keep-alive (a double CRLF "ping" between
 * messages, answered with a single CRLF "pong").
 */
import { parseBoundedInt } from '../grammar.js';
import type { AnySipMessage } from '../message.js';
import { MAX_CONTENT_LENGTH, findHeadEnd, parseHead, rawHeaderValues, type SipParseFailure } from '../parser.js';

/** The reason phrase of a message refused for its size (RFC 3261 §21.4.11). */
export const MESSAGE_TOO_LARGE = 'Message Too Large';

export type FrameEvent =
  | { readonly type: 'message'; readonly message: AnySipMessage }
  | { readonly type: 'ping' }
  /**
   * A message that could not be parsed. When `fatal`, the stream can no
   * longer be framed (unknown or contradictory Content-Length, oversized
   * header section) and the connection must be closed after answering.
   */
  | { readonly type: 'error'; readonly failure: SipParseFailure; readonly fatal: boolean };

export interface StreamFramerOptions {
  /** Largest header section accepted, in bytes (default 64 KiB, and never more than maxMessageBytes). */
  readonly maxHeadBytes?: number;
  /**
   * Largest message, header section and body together: a longer one is
   * answered 513 (when its header section could be read) and ends the
   * stream, since what follows can no longer be trusted to be framed.
   */
  readonly maxMessageBytes?: number;
  /** Most header fields in a message; more is a 400 for that message (parser.ts). */
  readonly maxHeaders?: number;
}

const EMPTY = Buffer.alloc(0);
const PING = [0x0d, 0x0a, 0x0d, 0x0a];

export class StreamFramer {
  private buffer: Buffer = EMPTY;
  private pendingHead: { message: AnySipMessage; length: number } | null = null;
  private pendingSkip = 0;
  private broken = false;
  private readonly maxHeadBytes: number;
  private readonly maxMessageBytes: number;
  private readonly maxHeaders: number | undefined;

  constructor(options: StreamFramerOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? MAX_CONTENT_LENGTH + 64 * 1024;
    this.maxHeadBytes = Math.min(options.maxHeadBytes ?? 64 * 1024, this.maxMessageBytes);
    this.maxHeaders = options.maxHeaders;
  }

  /** Bytes received but not yet consumed. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** Feeds bytes read from the stream; returns the events they complete. */
  push(chunk: Buffer): FrameEvent[] {
    if (this.broken) return [];
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const events: FrameEvent[] = [];
    for (;;) {
      if (this.pendingSkip > 0) {
        // Body of a message that failed to parse but whose length is known.
        const n = Math.min(this.pendingSkip, this.buffer.length);
        this.buffer = this.buffer.subarray(n);
        this.pendingSkip -= n;
        if (this.pendingSkip > 0) break;
      }
      if (this.pendingHead !== null) {
        if (this.buffer.length < this.pendingHead.length) break;
        const { message, length } = this.pendingHead;
        if (length > 0) message.body = Buffer.from(this.buffer.subarray(0, length));
        this.buffer = this.buffer.subarray(length);
        this.pendingHead = null;
        events.push({ type: 'message', message });
        continue;
      }
      // Between messages: CRLF CRLF is a keep-alive ping; a lone CRLF is a pong or noise.
      let i = 0;
      let waitForMore = false;
      while (i < this.buffer.length) {
        const rest = this.buffer.length - i;
        if (rest >= 4 && this.startsWithPing(i, 4)) {
          events.push({ type: 'ping' });
          i += 4;
        } else if (rest < 4 && this.startsWithPing(i, rest)) {
          waitForMore = true; // the rest of a ping may still be on its way
          break;
        } else if (this.buffer[i] === 0x0d || this.buffer[i] === 0x0a) {
          i++;
        } else {
          break;
        }
      }
      this.buffer = this.buffer.subarray(i);
      if (waitForMore || this.buffer.length === 0) break;

      const bounds = findHeadEnd(this.buffer, 0);
      if (bounds === null) {
        if (this.buffer.length > this.maxHeadBytes) {
          events.push(this.fatal('Header section too large', null));
        }
        break;
      }
      if (bounds.headEnd > this.maxHeadBytes) {
        events.push(this.fatal('Header section too large', null));
        break;
      }
      const head = this.buffer.toString('utf8', 0, bounds.headEnd);
      const headBytes = bounds.bodyStart;
      this.buffer = this.buffer.subarray(bounds.bodyStart);
      const parsed = this.maxHeaders === undefined ? parseHead(head) : parseHead(head, { maxHeaders: this.maxHeaders });
      if (!parsed.ok) {
        // Keep the stream usable when the length of what to skip is still certain (and within the limit).
        const lengths = rawHeaderValues(head, 'content-length');
        const length = lengths.length === 1 ? parseBoundedInt(lengths[0] as string, MAX_CONTENT_LENGTH) : lengths.length === 0 ? 0 : null;
        if (length === null || headBytes + length > this.maxMessageBytes) {
          events.push(this.fatalFailure(parsed));
          break;
        }
        events.push({ type: 'error', failure: parsed, fatal: false });
        this.pendingSkip = length;
        continue;
      }
      const length = parsed.contentLength ?? 0;
      if (headBytes + length > this.maxMessageBytes) {
        events.push(this.fatalFailure({ ok: false, status: 513, reason: MESSAGE_TOO_LARGE, isRequest: parsed.message.kind === 'request', head }));
        break;
      }
      this.pendingHead = { message: parsed.message, length };
    }
    // Do not pin a large read buffer for a few leftover bytes.
    if (this.buffer.length > 0 && this.buffer.byteOffset > 64 * 1024) this.buffer = Buffer.from(this.buffer);
    return events;
  }

  /** True when the `n` bytes at `i` are the start of CRLF CRLF. */
  private startsWithPing(i: number, n: number): boolean {
    for (let k = 0; k < n; k++) if (this.buffer[i + k] !== PING[k]) return false;
    return true;
  }

  private fatal(reason: string, head: string | null): FrameEvent {
    return this.fatalFailure({ ok: false, status: 400, reason, isRequest: true, head });
  }

  private fatalFailure(failure: SipParseFailure): FrameEvent {
    this.broken = true;
    this.buffer = EMPTY;
    return { type: 'error', failure, fatal: true };
  }
}
