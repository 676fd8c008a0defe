/**
 * What bench/relay.ts needs from a relay under test (voix's engine, the
 * bare relay, rtpengine, a SIP server driven by bench/relay-sip-ua.ts), and
 * small helpers they share.
 */
import { readFileSync } from 'node:fs';
import type { SrtpKeying } from '../src/rtp/media-protocol.js';
import type { CallKeys, WireKeying } from './relay-generator.js';

/**
 * The phones of the sampled calls (those that listen, and that the
 * benchmark captures) are bound to even ports in this range, below the
 * kernel's ephemeral range and above the relays' (20000–29999): the capture
 * filter is this port range, whatever SSRC and sequence numbers the relay
 * writes. Even ports only: a relay sends RTCP to port + 1.
 */
export const SAMPLED_PHONE_PORT_MIN = 30000;
export const SAMPLED_PHONE_PORT_MAX = 32766;

export interface Sample {
  readonly cpuMs: number;
  /** Node relays only (NaN otherwise): the worst event loop delay and GC pause since the previous sample. */
  readonly loopDelayMaxMs: number;
  readonly gcPauseMaxMs: number;
}

export interface RelayPorts {
  readonly a: number;
  readonly b: number;
  readonly keys?: CallKeys;
}

/** What a step needs from a relay: ports for the phones, its threads' CPU time, its memory. */
export interface RelayUnderTest {
  readonly name: string;
  /** Judged against the criteria and stepped until it fails (false: the bare relay, a floor run alongside). */
  readonly judged: boolean;
  /** The process the relay threads belong to. */
  readonly pid: number;
  /**
   * How the capture matches a packet leaving the relay with the one that
   * entered it: by SSRC and sequence number, which most relays forward
   * unchanged; or, for a relay that rewrites them (Asterisk when it cannot
   * bridge natively, e.g. SRTP), by RTP timestamp, which it keeps.
   */
  readonly matchBy: 'ssrc' | 'timestamp';
  /** Its threads were started on the relay core(s) (taskset at start): not to be pinned one by one. */
  readonly pinnedAtStart: boolean;
  /**
   * Memory per call from the relay's start rather than from just before the
   * step: a C allocator keeps what the previous step freed and hands it out
   * again, so "after minus before the step" would miss it.
   */
  readonly memoryFromStart: boolean;
  setUp(phones: ReadonlyArray<{ readonly a: number; readonly b: number }>): Promise<RelayPorts[]>;
  /** Relay threads' CPU time so far; Node relays: the worst event loop delay since the previous sample. */
  sample(): Promise<Sample>;
  /** The relay's own per-call state: a Node relay's worker heap after a full GC; a C relay's anonymous resident memory (its malloc heap). */
  memoryBytes(): Promise<number>;
  /** Resident memory of the relay's process (voix and the bare relay: the bench's own process), or NaN when not meaningful. */
  rssBytes(): number;
  /** Linux thread ids of the relay threads: pinned alone on their core, their run-queue waits measured. */
  osThreadIds(): Promise<number[]>;
  /**
   * Time (ms so far) the relay waited for its core because of other
   * processes; by default the sum of osThreadIds' run-queue waits.
   */
  waitMs?(): number;
  /** A relay with several kinds of threads: CPU time so far (ms) by thread name, for the report. */
  cpuByThread?(): Map<string, number>;
  tearDown(): Promise<void>;
  stop(): Promise<void>;
  /** For the report: its version; what it is and how its CPU, memory and packets are measured. */
  readonly version: string;
  readonly description: string;
}

/** An SDES master key as the generator takes it over IPC (hex). */
export const wire = (k: SrtpKeying): WireKeying => ({ suite: k.suite, key: Buffer.from(k.key).toString('hex'), salt: Buffer.from(k.salt).toString('hex') });

/** An audio offer or answer of a phone at 127.0.0.1:port: PCMU at 20 ms, plain RTP. */
export function phoneSdp(port: number, session: number): string {
  return ['v=0', `o=- ${session} 1 IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=ptime:20', 'a=sendrecv', ''].join('\r\n');
}

/** The audio port of an SDP body (its first m=audio line). */
export function sdpAudioPort(sdp: unknown): number {
  const port = typeof sdp === 'string' ? Number(/^m=audio (\d+) /m.exec(sdp)?.[1]) : Number.NaN;
  if (!Number.isInteger(port) || port <= 0) throw new Error(`no audio port in the SDP: ${String(sdp)}`);
  return port;
}

/** A status field of /proc/<pid>/status in bytes (VmRSS, RssAnon), NaN when absent. */
export function procStatusBytes(pid: number, field: string): number {
  try {
    const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? Number.NaN : Number(kb) * 1024;
  } catch {
    return Number.NaN;
  }
}

