/**
 * Messages between WorkerMediaEngine (main thread) and a media worker,
 * over the worker's MessagePort. Every request carries an id and gets
 * exactly one response with that id; failures travel as values
 * ({ ok: false, error }) so nothing depends on an Error surviving
 * structured cloning.
 */
import type { G711Codec, PlayoutEvent, PlayRequest } from '../media/playout/playout-protocol.js';
import type { PlayoutSchedulerOptions } from '../media/playout/playout-scheduler.js';
import type { WorkerPlayoutStats } from '../media/playout/worker-playout.js';
import type { LegConfig, LegName, RelayAmdEvent, RelayDtmfEvent, RelayStats } from './media-protocol.js';

/** What a worker is given at start (in workerData.settings). */
export interface MediaWorkerSettings {
  readonly workerIndex: number;
  /** Address the RTP sockets bind to. */
  readonly address: string;
  /** This worker's share of the port range: whole even/odd pairs. */
  readonly portMin: number;
  readonly portMax: number;
  /** Connected senders for the relay (RelayPort); false only to measure the difference. */
  readonly connectSockets: boolean;
  /** The relay's UDP sockets: the native addon when built ('auto'), or Node's dgram (docs/adr/0006). */
  readonly udpIo?: MediaUdpIo;
  /** SRTP's per-packet crypto: the native addon when built (default), or TypeScript (docs/adr/0007; benchmarks). */
  readonly srtpCrypto?: 'native' | 'typescript';
  /** Lowest level the main thread's logger prints: the worker does not post what would be dropped. */
  readonly logLevel: MediaWorkerLogLevel;
  /** The playout scheduler's tuning (benchmarks); its defaults otherwise. */
  readonly playout?: MediaWorkerPlayoutSettings;
}

export type MediaUdpIo = 'auto' | 'native' | 'dgram';

export interface MediaWorkerPlayoutSettings extends PlayoutSchedulerOptions {
  /** Final microseconds of each precise wait spun rather than slept (MonotonicPlayoutClock). */
  readonly spinUs?: number;
}

export interface MediaWorkerDiagnostics {
  readonly workerIndex: number;
  readonly threadId: number;
  /** The kernel's id for the worker thread (Linux), e.g. to pin it to a core with taskset; null elsewhere. */
  readonly osThreadId: number | null;
  readonly relays: number;
  /** Which UDP sockets the relay uses (docs/adr/0006). */
  readonly udpIo: 'native' | 'dgram';
  readonly openSockets: number;
  readonly portPairs: number;
  readonly freePortPairs: number;
  /** The worker isolate's heap in use. */
  readonly heapUsedBytes: number;
  /** CPU time of the worker thread (Linux /proc/thread-self), null where unknown. */
  readonly threadCpuMs: number | null;
  /** Outbound buffers replaced because a backed-up socket still held them (overload sign). */
  readonly outboundBuffersReplaced: number;
  readonly socketErrors: number;
  /** Event loop delay since the previous diagnostics (perf_hooks.monitorEventLoopDelay, 10 ms resolution). */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  /** Garbage collections since the previous diagnostics, and the longest pause among them. */
  readonly gcPauses: number;
  readonly gcPauseMaxMs: number;
  /** Players and their scheduler (src/media/playout); counters since start, burstLatenessMaxUs since the previous diagnostics. */
  readonly playout: WorkerPlayoutStats;
}

/** One worker isolate's memory (process.memoryUsage() in the worker): what the main thread's figures leave out. */
export interface MediaWorkerMemory {
  readonly workerIndex: number;
  readonly heapUsedBytes: number;
  /** The heap V8 has reserved for the isolate, used or not. */
  readonly heapTotalBytes: number;
  /** Memory outside the heap held by the isolate's objects (ArrayBuffers, Buffers). */
  readonly externalBytes: number;
}

export interface MediaWorkerMethods {
  allocate: { params: { readonly relayId: number; readonly callId: string }; result: { readonly a: number; readonly b: number } };
  configure: { params: { readonly relayId: number; readonly leg: LegName; readonly config: LegConfig }; result: null };
  stats: { params: { readonly relayId: number }; result: RelayStats };
  release: { params: { readonly relayId: number }; result: RelayStats };
  /** `collectGarbage`: a full GC first when the process exposes gc() (benchmarks measuring heap per call). */
  diagnostics: { params: { readonly collectGarbage?: boolean }; result: MediaWorkerDiagnostics };
  /** The isolate's memory, read without resetting what diagnostics counts since its previous call (/metrics). */
  memory: { params: Record<string, never>; result: MediaWorkerMemory };
  /** A prompt for every later play, shared (not copied) with the main thread and the other workers. */
  loadPrompt: { params: { readonly promptId: string; readonly codec: G711Codec; readonly samples: SharedArrayBuffer }; result: null };
  unloadPrompt: { params: { readonly promptId: string; readonly codec: G711Codec }; result: null };
  /** The leg's phone hears the playlist instead of the other leg; `playId` (the main thread's) marks its events. */
  play: { params: { readonly relayId: number; readonly leg: LegName; readonly playId: number; readonly request: PlayRequest }; result: null };
  /** true when a play was stopped. */
  stopPlay: { params: { readonly relayId: number; readonly leg: LegName }; result: boolean };
  /** Closes every relay; the worker then waits to be terminated. */
  shutdown: { params: Record<string, never>; result: null };
}

export type MediaWorkerMethod = keyof MediaWorkerMethods;

export type MediaWorkerRequest = {
  [M in MediaWorkerMethod]: { readonly method: M; readonly params: MediaWorkerMethods[M]['params'] };
}[MediaWorkerMethod];

export type MediaWorkerErrorName =
  | 'MediaUnavailableError'
  | 'UnknownRelayError'
  | 'MediaConfigurationError'
  /** A bug in the worker; the message says what. */
  | 'InternalError'
  /** No answer within the request timeout (set by the main thread). */
  | 'TimeoutError'
  /** The worker ended before answering (set by the main thread). */
  | 'WorkerExitedError';

export interface MediaWorkerError {
  readonly name: MediaWorkerErrorName;
  readonly message: string;
}

export type MediaWorkerResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: MediaWorkerError };

export interface MediaWorkerRequestMessage {
  readonly kind: 'request';
  readonly id: number;
  readonly request: MediaWorkerRequest;
}

export type MediaWorkerLogLevel = 'debug' | 'info' | 'warn' | 'error';

export type MediaWorkerMessage =
  | { readonly kind: 'ready'; readonly threadId: number }
  | { readonly kind: 'response'; readonly id: number; readonly result: MediaWorkerResult<unknown> }
  | { readonly kind: 'log'; readonly level: MediaWorkerLogLevel; readonly msg: string; readonly fields: Record<string, unknown> }
  /** Unsolicited news from the worker's players. */
  | { readonly kind: 'playout'; readonly event: PlayoutEvent }
  /** Unsolicited: a digit a leg's DTMF detection found (LegConfig.dtmf). */
  | { readonly kind: 'dtmf'; readonly event: RelayDtmfEvent }
  /** Unsolicited: the verdict of a leg's answering-machine detection (LegConfig.amd). */
  | { readonly kind: 'amd'; readonly event: RelayAmdEvent };

export function isMediaWorkerMessage(value: unknown): value is MediaWorkerMessage {
  if (typeof value !== 'object' || value === null || !('kind' in value)) return false;
  return value.kind === 'ready' || value.kind === 'response' || value.kind === 'log' || value.kind === 'playout' || value.kind === 'dtmf' || value.kind === 'amd';
}

export function isMediaWorkerRequestMessage(value: unknown): value is MediaWorkerRequestMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    'kind' in value &&
    value.kind === 'request' &&
    'id' in value &&
    typeof value.id === 'number' &&
    'request' in value &&
    typeof value.request === 'object' &&
    value.request !== null
  );
}
