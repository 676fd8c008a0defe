/**
 * The SIP trace baresip prints on stdout when started with `-s`: one block
 * per message sent or received,
 *
 *     ESC[36;1m#
 *     UDP 127.0.0.1:43892 -> 127.0.0.1:15060
 *     REGISTER sip:… SIP/2.0
 *     …headers, blank line, body…
 *     ESC[;m
 *
 * It is what baresip itself saw on the wire (TLS decrypted), which lets a
 * test see, for instance, the answer to the REGISTER that unregisters (ctrl_tcp
 * reports no event for it in baresip 1.0).
 */
import { EventLog } from './event-log.js';
import type { ManagedProcess } from './process.js';

export interface TracedSipMessage {
  readonly transport: string;
  /** ip:port as baresip printed them. */
  readonly source: string;
  readonly destination: string;
  /** The first line: a request line or a status line. */
  readonly firstLine: string;
  /** The whole message, lines joined with CRLF. */
  readonly text: string;
}

const ANSI = /\u001b\[[0-9;]*m/g;
const HEADER = /^(UDP|TCP|TLS|WS|WSS) (\S+) -> (\S+)$/;
const END_MARK = '\u001b[;m';

/** A header value of a traced message (first occurrence, compact forms for Call-ID/CSeq included). */
export function traceHeader(message: TracedSipMessage, name: string): string | undefined {
  const names = [name.toLowerCase()];
  if (names[0] === 'call-id') names.push('i');
  for (const line of message.text.split('\r\n').slice(1)) {
    if (line.length === 0) break;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    if (names.includes(line.slice(0, colon).trim().toLowerCase())) return line.slice(colon + 1).trim();
  }
  return undefined;
}

/** Status code of a response, or null for a request. */
export function traceStatus(message: TracedSipMessage): number | null {
  const match = /^SIP\/2\.0 (\d{3})/.exec(message.firstLine);
  return match?.[1] === undefined ? null : Number(match[1]);
}

export class BaresipTrace {
  /** The messages traced so far, in order. */
  readonly messages = new EventLog<TracedSipMessage>();
  private state: 'idle' | 'header' | 'body' = 'idle';
  private current: { transport: string; source: string; destination: string; lines: string[] } | null = null;

  constructor(process: ManagedProcess) {
    process.onLine((line) => {
      if (line.stream === 'stdout') this.feed(line.text);
    });
  }

  private feed(raw: string): void {
    const text = raw.replace(ANSI, '');
    if (this.state === 'body' && this.current !== null) {
      if (raw.startsWith(END_MARK) || (raw.includes(END_MARK) && text.trim().length === 0)) {
        this.finish();
      } else {
        this.current.lines.push(text);
      }
      return;
    }
    if (text === '#') {
      this.state = 'header';
      return;
    }
    if (this.state === 'header') {
      const match = HEADER.exec(text);
      if (match?.[1] !== undefined && match[2] !== undefined && match[3] !== undefined) {
        this.current = { transport: match[1], source: match[2], destination: match[3], lines: [] };
        this.state = 'body';
      } else {
        this.state = 'idle';
      }
    }
  }

  private finish(): void {
    const current = this.current;
    this.current = null;
    this.state = 'idle';
    if (current === null) return;
    const lines = [...current.lines];
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    this.messages.push({
      transport: current.transport,
      source: current.source,
      destination: current.destination,
      firstLine: lines[0] ?? '',
      text: `${lines.join('\r\n')}\r\n`,
    });
  }
}
