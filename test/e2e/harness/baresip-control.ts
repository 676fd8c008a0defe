/**
 * Client of baresip's ctrl_tcp module: JSON messages framed as netstrings
 * (`<length>:<json>,`) on one TCP connection, in both directions.
 *
 * What baresip 1.0's ctrl_tcp does, read from its source and checked here:
 * - a command is `{"command": name, "params": text, "token": text}`; the
 *   module runs the long command "name params" (the menu module's /commands)
 *   and answers `{"response": true, "ok": bool, "data": text, "token": …}`.
 *   "name params" is formatted into a 256-byte buffer: longer commands are
 *   cut silently, so this client refuses them.
 * - every UA event is pushed as `{"event": true, "class": …, "type": …,
 *   "accountaor": …, "param": …}` (calls add id, direction, peeruri…).
 * - one connection at a time: a new one replaces the previous.
 */
import { Socket, connect } from 'node:net';
import { EventLog } from './event-log.js';

export interface BaresipEvent {
  readonly event: true;
  /** register, call, … */
  readonly class?: string;
  /** REGISTERING, REGISTER_OK, REGISTER_FAIL, UNREGISTERING, CALL_INCOMING, CALL_ESTABLISHED, CALL_CLOSED, … */
  readonly type: string;
  /** Status line for REGISTER_OK/REGISTER_FAIL ("200 OK", "403 Forbidden", "Connection refused"), peer URI or reason for calls. */
  readonly param?: string;
  readonly accountaor?: string;
  readonly [field: string]: unknown;
}

export interface BaresipResponse {
  readonly ok: boolean;
  /** What the command printed (may hold ANSI colour codes). */
  readonly data: string;
}

/** ctrl_tcp formats "command params" into char[256], NUL included. */
export const MAX_COMMAND_LENGTH = 255;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Splits a stream of netstrings; returns the complete payloads and what is left over. */
export function decodeNetstrings(buffer: Buffer): { payloads: Buffer[]; rest: Buffer } {
  const payloads: Buffer[] = [];
  let rest = buffer;
  for (;;) {
    const colon = rest.indexOf(0x3a);
    if (colon < 0) break;
    const lengthText = rest.subarray(0, colon).toString('latin1');
    if (!/^\d+$/.test(lengthText)) throw new Error(`ctrl_tcp: bad netstring length "${lengthText.slice(0, 20)}"`);
    const length = Number(lengthText);
    const end = colon + 1 + length;
    if (rest.length < end + 1) break;
    if (rest[end] !== 0x2c) throw new Error('ctrl_tcp: netstring without its trailing comma');
    payloads.push(rest.subarray(colon + 1, end));
    rest = rest.subarray(end + 1);
  }
  return { payloads, rest };
}

export function encodeNetstring(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}:`, 'latin1'), body, Buffer.from(',', 'latin1')]);
}

interface Pending {
  readonly resolve: (response: BaresipResponse) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class BaresipControl {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly pending = new Map<string, Pending>();
  /** The UA events pushed so far, in order. */
  readonly events = new EventLog<BaresipEvent>();
  private nextToken = 1;
  private closedError: Error | null = null;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => this.fail(new Error('ctrl_tcp connection closed')));
    socket.on('error', (error) => this.fail(error));
  }

  static async connect(host: string, port: number, timeoutMs: number): Promise<BaresipControl> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const attempt = connect({ host, port });
      const timer = setTimeout(() => {
        attempt.destroy();
        reject(new Error(`ctrl_tcp: no connection to ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      attempt.once('connect', () => {
        clearTimeout(timer);
        resolve(attempt);
      });
      attempt.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`ctrl_tcp: cannot connect to ${host}:${port}: ${error.message}`));
      });
    });
    return new BaresipControl(socket);
  }

  private fail(error: Error): void {
    this.closedError ??= error;
    for (const [token, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.pending.delete(token);
    }
  }

  private receive(chunk: Buffer): void {
    const { payloads, rest } = decodeNetstrings(Buffer.concat([this.buffer, chunk]));
    this.buffer = rest;
    for (const payload of payloads) {
      let message: unknown;
      try {
        message = JSON.parse(payload.toString('utf8'));
      } catch {
        continue;
      }
      if (!isRecord(message)) continue;
      if (message['response'] === true) this.handleResponse(message);
      else if (message['event'] === true && typeof message['type'] === 'string') this.events.push(message as unknown as BaresipEvent);
    }
  }

  private handleResponse(message: Record<string, unknown>): void {
    const token = typeof message['token'] === 'string' ? message['token'] : undefined;
    const pending = token === undefined ? undefined : this.pending.get(token);
    if (token === undefined || pending === undefined) return;
    this.pending.delete(token);
    clearTimeout(pending.timer);
    pending.resolve({ ok: message['ok'] === true, data: typeof message['data'] === 'string' ? message['data'] : '' });
  }

  /** Runs a long command (as typed after "/" in baresip's menu). */
  command(name: string, params: string | undefined, timeoutMs: number): Promise<BaresipResponse> {
    if (this.closedError !== null) return Promise.reject(this.closedError);
    const line = params === undefined ? name : `${name} ${params}`;
    if (line.length > MAX_COMMAND_LENGTH) {
      return Promise.reject(new Error(`ctrl_tcp command too long (${line.length} > ${MAX_COMMAND_LENGTH} characters, baresip would cut it): ${line.slice(0, 60)}…`));
    }
    const token = `h${this.nextToken}`;
    this.nextToken += 1;
    return new Promise<BaresipResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new Error(`ctrl_tcp: no response to "${line}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(token, { resolve, reject, timer });
      const message: Record<string, string> = { command: name, token };
      if (params !== undefined) message['params'] = params;
      this.socket.write(encodeNetstring(JSON.stringify(message)));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
