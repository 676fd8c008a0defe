/**
 * The media engine of ARCHITECTURE.md's process model: RTP relays run in
 * worker threads (one per core by default), each owning a contiguous share
 * of the even-port range and the sockets in it, so the media path never
 * waits on SIP work. The main thread keeps only bookkeeping: which worker
 * holds which relay, and how loaded each is.
 *
 * A worker that dies takes its relays with it: they are logged and
 * reported (onRelaysLost), forgotten, and the worker is replaced on the
 * same ports, after a growing delay if it keeps dying young.
 */
import os from 'node:os';
import { isIP } from 'node:net';
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log/logger.js';
import type { G711Codec, MediaPlayout, PlayoutEvent, PlayRequest } from '../media/playout/playout-protocol.js';
import {
  MediaConfigurationError,
  MediaUnavailableError,
  UnknownRelayError,
  type AllocatedRelay,
  type AmdEvent,
  type DtmfEvent,
  type LegConfig,
  type LegName,
  type MediaEngine,
  type RelayStats,
} from './media-protocol.js';
import { MediaWorkerChannel } from './media-worker-channel.js';
import { locateMediaWorker, type MediaWorkerLaunch } from './media-worker-launch.js';
import {
  isMediaWorkerMessage,
  type MediaWorkerDiagnostics,
  type MediaWorkerMemory,
  type MediaWorkerMethod,
  type MediaWorkerMethods,
  type MediaWorkerError,
  type MediaUdpIo,
  type MediaWorkerPlayoutSettings,
  type MediaWorkerResult,
  type MediaWorkerSettings,
} from './media-worker-protocol.js';
import { evenPortsIn, splitPortRange, type PortRange } from './port-pool.js';

export interface WorkerMediaEngineOptions {
  /** Address the RTP sockets bind to (an IP literal). */
  readonly address: string;
  readonly portMin: number;
  readonly portMax: number;
  /** Worker threads; default os.availableParallelism(). Fewer when the range has too few pairs for that many. */
  readonly workers?: number;
  readonly logger: Logger;
  /** The worker script (.js, or .ts run through tsx); default media-worker next to this module (see media-worker-launch.ts). */
  readonly workerScript?: URL | string;
  /** How long a request to a worker may take; default 2000 ms. */
  readonly requestTimeoutMs?: number;
  /** How long a worker may take to start; default 20 s (loading TypeScript through tsx is the slow case). */
  readonly startTimeoutMs?: number;
  /** Connected senders (RelayPort); default true. false only to measure what they bring. */
  readonly connectSockets?: boolean;
  /** The relay's UDP sockets; default 'auto': the native addon when built, else dgram (docs/adr/0006). */
  readonly udpIo?: MediaUdpIo;
  /** SRTP's per-packet crypto; default the native addon when built, else TypeScript (docs/adr/0007). */
  readonly srtpCrypto?: 'native' | 'typescript';
  /** Called when a worker died with relays: the call core should end those calls. */
  readonly onRelaysLost?: (event: RelaysLostEvent) => void;
  /** News from the players (item ended, play ended), for the IVR. */
  readonly onPlayout?: (event: PlayoutEvent) => void;
  /** A digit a leg's phone sent, found by the leg's DTMF detection (LegConfig.dtmf), with the relay's call. */
  readonly onDtmf?: (event: DtmfEvent) => void;
  /** The verdict of a leg's answering-machine detection, with the relay's call. */
  readonly onAmd?: (event: AmdEvent) => void;
  /** The playout scheduler's tuning in every worker (benchmarks); its defaults otherwise. */
  readonly playout?: MediaWorkerPlayoutSettings;
}

export interface RelaysLostEvent {
  readonly workerIndex: number;
  readonly reason: string;
  readonly relays: ReadonlyArray<{ readonly relayId: number; readonly callId: string }>;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 2000;
const DEFAULT_START_TIMEOUT_MS = 20_000;
/** A worker that dies younger than this is restarted after a doubling delay, so a crash loop does not spin. */
const HEALTHY_LIFETIME_MS = 5000;
const FIRST_RESTART_DELAY_MS = 100;
const MAX_RESTART_DELAY_MS = 10_000;

class WorkerSlot {
  worker: Worker | null = null;
  channel: MediaWorkerChannel | null = null;
  ready = false;
  threadId = 0;
  /** Bumped per started worker: events of a replaced worker are recognised and ignored. */
  generation = 0;
  startedAt = 0;
  restartDelayMs = 0;
  restartTimer: ReturnType<typeof setTimeout> | null = null;
  readonly relays = new Set<number>();
  pendingAllocations = 0;
  readyWaiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  readonly portPairs: number;

  constructor(
    readonly index: number,
    readonly range: PortRange,
  ) {
    this.portPairs = evenPortsIn(range).length;
  }

  /** Relays held or being allocated: what "least loaded" compares. */
  get load(): number {
    return this.relays.size + this.pendingAllocations;
  }

  get hasRoom(): boolean {
    return this.portPairs - 2 * this.load >= 2;
  }
}

/**
 * V8's memory reducer off (docs/adr/0008): when an isolate's allocation
 * rate drops, the reducer runs up to three full mark-compacts, some 600 ms
 * apart, to shrink its heap. A media worker with few calls is exactly such
 * an isolate, and each of those collections stopped its thread for 3 to
 * 17 ms: packets that many ms late. Measured on Node 20, the flag reaches a
 * worker's isolate only when set before the process's first worker starts:
 * the engine sets it before starting its workers, which are the first in
 * voix's process (a program that starts workers of its own first must call
 * this before them). The cost: heaps that do not shrink after a busy hour.
 * Process-wide and idempotent.
 */
export function withoutMemoryReducer(): void {
  v8.setFlagsFromString('--no-memory-reducer');
}

export class WorkerMediaEngine implements MediaEngine, MediaPlayout {
  private readonly slots: WorkerSlot[];
  /** Loaded prompts, by codec and id: every worker has them, a replacement worker gets them before anything else. */
  private readonly prompts = new Map<string, { readonly promptId: string; readonly codec: G711Codec; readonly samples: SharedArrayBuffer }>();
  private nextPlayId = 1;
  private readonly relays = new Map<number, { readonly slot: WorkerSlot; readonly callId: string }>();
  private readonly launch: MediaWorkerLaunch;
  private readonly log: Logger;
  private readonly requestTimeoutMs: number;
  private readonly startTimeoutMs: number;
  private nextRelayId = 1;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';

  constructor(private readonly options: WorkerMediaEngineOptions) {
    const { address, portMin, portMax } = options;
    if (isIP(address) === 0) throw new MediaConfigurationError(`media address ${JSON.stringify(address)} is not an IP address`);
    if (!Number.isInteger(portMin) || !Number.isInteger(portMax) || portMin < 1 || portMax > 65535 || portMin > portMax) {
      throw new MediaConfigurationError(`RTP port range ${portMin}-${portMax} is not a range of UDP ports`);
    }
    const requested = options.workers ?? os.availableParallelism();
    const shares = splitPortRange({ portMin, portMax }, requested);
    if (shares.length === 0) {
      throw new MediaConfigurationError(`RTP port range ${portMin}-${portMax} has fewer than 2 even/odd port pairs: a relay needs two`);
    }
    this.slots = shares.map((range, index) => new WorkerSlot(index, range));
    this.log = options.logger.child({ component: 'media' });
    if (shares.length < requested) {
      this.log.warn('fewer media workers than asked: the RTP port range is small', { requested, workers: shares.length, portMin, portMax });
    }
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    this.launch = locateMediaWorker(options.workerScript);
  }

  get workerCount(): number {
    return this.slots.length;
  }

  /** Starts every worker; rejects (and stops what started) if one does not come up. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`media engine cannot start: it is ${this.state}`);
    this.state = 'starting';
    try {
      await Promise.all(this.slots.map((slot) => this.spawn(slot)));
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.state = 'running';
    this.log.info('media workers ready', {
      workers: this.slots.length,
      address: this.options.address,
      portMin: this.options.portMin,
      portMax: this.options.portMax,
      script: this.launch.entry,
    });
  }

  async allocate(callId: string): Promise<AllocatedRelay> {
    if (this.state !== 'running') throw new MediaUnavailableError(`media engine is ${this.state}`);
    const candidates = this.slots.filter((slot) => slot.ready && slot.hasRoom).sort((x, y) => x.load - y.load);
    if (candidates.length === 0) {
      throw new MediaUnavailableError(
        `no RTP port pairs left for a relay in ${this.options.portMin}-${this.options.portMax}: ${this.relays.size} relays active`,
      );
    }
    let lastError: MediaWorkerError | null = null;
    for (const slot of candidates) {
      const channel = slot.channel;
      if (channel === null || !slot.ready) continue;
      const generation = slot.generation;
      const relayId = this.nextRelayId++;
      slot.pendingAllocations++;
      let result: MediaWorkerResult<{ readonly a: number; readonly b: number }>;
      try {
        result = await channel.call('allocate', { relayId, callId });
      } finally {
        slot.pendingAllocations--;
      }
      if (result.ok) {
        // The worker may have died, or the engine stopped, while the answer was on its way.
        if (slot.generation !== generation || this.state !== 'running') {
          lastError = { name: 'WorkerExitedError', message: `media worker ${slot.index} went away during allocation` };
          continue;
        }
        this.relays.set(relayId, { slot, callId });
        slot.relays.add(relayId);
        return { relayId, a: { port: result.value.a }, b: { port: result.value.b } };
      }
      lastError = result.error;
      if (result.error.name === 'TimeoutError') {
        // It may still complete: the worker cancels an allocation released while in progress.
        void channel.call('release', { relayId });
        this.log.warn('media worker slow to allocate', { callId, mediaWorker: slot.index, error: result.error.message });
        continue;
      }
      if (result.error.name === 'MediaUnavailableError' || result.error.name === 'WorkerExitedError') continue;
      throw this.toError(result.error, slot);
    }
    throw new MediaUnavailableError(lastError?.message ?? 'no media worker could allocate a relay');
  }

  async configure(relayId: number, leg: LegName, config: LegConfig): Promise<void> {
    const { slot } = this.relay(relayId);
    this.unwrap(await this.channelOf(slot, relayId).call('configure', { relayId, leg, config }), slot);
  }

  async stats(relayId: number): Promise<RelayStats> {
    const { slot } = this.relay(relayId);
    return this.unwrap(await this.channelOf(slot, relayId).call('stats', { relayId }), slot);
  }

  async release(relayId: number): Promise<RelayStats> {
    const { slot } = this.relay(relayId);
    // Forgotten at once: even if the worker fails to answer, the call core is done with this relay.
    this.relays.delete(relayId);
    slot.relays.delete(relayId);
    return this.unwrap(await this.channelOf(slot, relayId).call('release', { relayId }), slot);
  }

  activeRelays(): number {
    return this.relays.size;
  }

  // ---- playout (src/media/playout) ----

  async loadPrompt(promptId: string, codec: G711Codec, samples: Uint8Array): Promise<void> {
    if (typeof promptId !== 'string' || promptId === '') throw new MediaConfigurationError('a prompt needs a non-empty id');
    if (codec !== 'PCMU' && codec !== 'PCMA') throw new MediaConfigurationError(`prompt ${promptId}: codec ${String(codec)} is not PCMU or PCMA`);
    // One copy in shared memory, mapped by every worker: none per worker, none per play.
    const shared = new SharedArrayBuffer(samples.length);
    new Uint8Array(shared).set(samples);
    const prompt = { promptId, codec, samples: shared };
    // Recorded first: a worker that becomes ready meanwhile gets it from there.
    this.prompts.set(`${codec}:${promptId}`, prompt);
    await this.callEachReady('loadPrompt', prompt);
  }

  async unloadPrompt(promptId: string, codec: G711Codec): Promise<void> {
    this.prompts.delete(`${codec}:${promptId}`);
    await this.callEachReady('unloadPrompt', { promptId, codec });
  }

  async play(relayId: number, leg: LegName, request: PlayRequest): Promise<number> {
    const { slot } = this.relay(relayId);
    const playId = this.nextPlayId++;
    this.unwrap(await this.channelOf(slot, relayId).call('play', { relayId, leg, playId, request }), slot);
    return playId;
  }

  async stopPlay(relayId: number, leg: LegName): Promise<boolean> {
    const { slot } = this.relay(relayId);
    return this.unwrap(await this.channelOf(slot, relayId).call('stopPlay', { relayId, leg }), slot);
  }

  /**
   * Per worker: relays, open sockets, free pairs, heap, thread CPU time, event loop delay (for tests
   * and the bench; the delay and GC figures count since the previous call, so /metrics reads memory() instead). `collectGarbage` runs a full GC first where gc() is exposed: benchmarks only.
   */
  diagnostics(options: { readonly collectGarbage?: boolean } = {}): Promise<MediaWorkerDiagnostics[]> {
    return this.callEachReady('diagnostics', options);
  }

  /** Each running worker's isolate memory (the /metrics gauges; media-worker-memory.ts polls it). */
  memory(): Promise<MediaWorkerMemory[]> {
    return this.callEachReady('memory', {});
  }

  /**
   * Ends a worker as a crash would (its relays are lost and reported) and
   * resolves once its replacement is ready. For operators who need to
   * recycle a worker, and for tests of the crash path.
   */
  async terminateWorker(index: number): Promise<void> {
    const slot = this.slots[index];
    if (slot === undefined || slot.worker === null) throw new Error(`no media worker ${index}`);
    const replaced = this.whenReady(slot);
    await slot.worker.terminate();
    await replaced;
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.restartTimer !== null) clearTimeout(slot.restartTimer);
        slot.restartTimer = null;
        const worker = slot.worker;
        if (worker === null) return;
        // Closing sockets first is tidier than terminate() alone, which also frees them.
        if (slot.ready && slot.channel !== null) await slot.channel.call('shutdown', {});
        await worker.terminate();
      }),
    );
    for (const slot of this.slots) {
      slot.relays.clear();
      this.rejectWaiters(slot, new MediaUnavailableError('media engine stopped'));
    }
    this.relays.clear();
    this.state = 'stopped';
  }

  // ---- workers ----

  private spawn(slot: WorkerSlot): Promise<void> {
    const generation = ++slot.generation;
    const settings: MediaWorkerSettings = {
      workerIndex: slot.index,
      address: this.options.address,
      portMin: slot.range.portMin,
      portMax: slot.range.portMax,
      connectSockets: this.options.connectSockets ?? true,
      ...(this.options.udpIo === undefined ? {} : { udpIo: this.options.udpIo }),
      ...(this.options.srtpCrypto === undefined ? {} : { srtpCrypto: this.options.srtpCrypto }),
      logLevel: (['debug', 'info', 'warn', 'error'] as const).find((level) => this.log.isLevelEnabled(level)) ?? 'error',
      ...(this.options.playout === undefined ? {} : { playout: this.options.playout }),
    };
    const ready = this.whenReady(slot);
    withoutMemoryReducer();
    const worker = new Worker(this.launch.script, { eval: this.launch.eval, workerData: { settings, bootstrap: this.launch.bootstrap } });
    slot.worker = worker;
    slot.ready = false;
    slot.startedAt = Date.now();
    slot.channel = new MediaWorkerChannel((message) => worker.postMessage(message), this.requestTimeoutMs);
    const startTimer = setTimeout(() => {
      if (slot.generation === generation && !slot.ready) {
        this.log.error('media worker did not start in time', { mediaWorker: slot.index, timeoutMs: this.startTimeoutMs });
        void worker.terminate();
      }
    }, this.startTimeoutMs);
    worker.on('message', (message: unknown) => this.onWorkerMessage(slot, generation, message));
    worker.on('error', (err) => {
      this.log.error('media worker failed', { mediaWorker: slot.index, error: err });
    });
    worker.once('exit', (exitCode) => {
      clearTimeout(startTimer);
      this.onWorkerExit(slot, generation, exitCode);
    });
    void ready.then(
      () => clearTimeout(startTimer),
      () => clearTimeout(startTimer),
    );
    return ready;
  }

  private onWorkerMessage(slot: WorkerSlot, generation: number, message: unknown): void {
    if (generation !== slot.generation || !isMediaWorkerMessage(message)) return;
    switch (message.kind) {
      case 'ready':
        // Posted before anything else can be: a play that follows finds its prompts (the port keeps the order).
        for (const prompt of this.prompts.values()) {
          void slot.channel?.call('loadPrompt', prompt).then((result) => {
            if (!result.ok) this.log.error('media worker refused a prompt', { mediaWorker: slot.index, promptId: prompt.promptId, error: result.error.message });
          });
        }
        slot.ready = true;
        slot.threadId = message.threadId;
        for (const waiter of slot.readyWaiters.splice(0)) waiter.resolve();
        return;
      case 'response':
        slot.channel?.settle(message.id, message.result);
        return;
      case 'log':
        this.log[message.level](message.msg, { mediaWorker: slot.index, ...message.fields });
        return;
      case 'playout':
        this.options.onPlayout?.(message.event);
        return;
      case 'dtmf': {
        // A relay released meanwhile (its call is over) has no call to tell.
        const relay = this.relays.get(message.event.relayId);
        if (relay !== undefined) this.options.onDtmf?.({ ...message.event, callId: relay.callId });
        return;
      }
      case 'amd': {
        const relay = this.relays.get(message.event.relayId);
        if (relay !== undefined) this.options.onAmd?.({ ...message.event, callId: relay.callId });
        return;
      }
    }
  }

  private onWorkerExit(slot: WorkerSlot, generation: number, exitCode: number): void {
    if (generation !== slot.generation) return;
    const wasReady = slot.ready;
    slot.ready = false;
    slot.worker = null;
    const reason = `media worker ${slot.index} exited with code ${exitCode}`;
    slot.channel?.failAll({ name: 'WorkerExitedError', message: reason });
    if (this.state === 'stopping' || this.state === 'stopped') return;

    const lost = [...slot.relays].map((relayId) => ({ relayId, callId: this.relays.get(relayId)?.callId ?? '' }));
    for (const { relayId } of lost) this.relays.delete(relayId);
    slot.relays.clear();
    this.log.error('media worker exited', {
      mediaWorker: slot.index,
      threadId: slot.threadId,
      exitCode,
      wasReady,
      relaysLost: lost.length,
      callIds: lost.slice(0, 50).map((r) => r.callId),
    });
    if (lost.length > 0) this.options.onRelaysLost?.({ workerIndex: slot.index, reason, relays: lost });

    if (this.state === 'starting') {
      // start() fails on its own: do not replace a worker that never came up.
      this.rejectWaiters(slot, new Error(`${reason} before it was ready`));
      return;
    }
    const lived = Date.now() - slot.startedAt;
    slot.restartDelayMs =
      lived >= HEALTHY_LIFETIME_MS ? 0 : Math.min(MAX_RESTART_DELAY_MS, Math.max(FIRST_RESTART_DELAY_MS, slot.restartDelayMs * 2));
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = null;
      if (this.state !== 'running') return;
      this.spawn(slot).then(
        () => this.log.info('media worker replaced', { mediaWorker: slot.index, threadId: slot.threadId }),
        // Its exit handler schedules the next attempt.
        () => undefined,
      );
    }, slot.restartDelayMs);
  }

  private whenReady(slot: WorkerSlot): Promise<void> {
    return new Promise((resolve, reject) => slot.readyWaiters.push({ resolve, reject }));
  }

  private rejectWaiters(slot: WorkerSlot, err: Error): void {
    for (const waiter of slot.readyWaiters.splice(0)) waiter.reject(err);
  }

  // ---- helpers ----

  private relay(relayId: number): { readonly slot: WorkerSlot; readonly callId: string } {
    const entry = this.relays.get(relayId);
    if (entry === undefined) throw new UnknownRelayError(`relay ${relayId} is not allocated (released, or its media worker died)`);
    return entry;
  }

  /** Sends one request to every worker that is ready; their answers in worker order (the first error is thrown). */
  private async callEachReady<M extends MediaWorkerMethod>(method: M, params: MediaWorkerMethods[M]['params']): Promise<Array<MediaWorkerMethods[M]['result']>> {
    const results = await Promise.all(this.readySlots().map(async ({ slot, channel }) => [await channel.call(method, params), slot] as const));
    return results.map(([result, slot]) => this.unwrap(result, slot));
  }

  private readySlots(): Array<{ readonly slot: WorkerSlot; readonly channel: MediaWorkerChannel }> {
    const ready: Array<{ readonly slot: WorkerSlot; readonly channel: MediaWorkerChannel }> = [];
    for (const slot of this.slots) if (slot.ready && slot.channel !== null) ready.push({ slot, channel: slot.channel });
    return ready;
  }

  private channelOf(slot: WorkerSlot, relayId: number): MediaWorkerChannel {
    if (slot.channel === null || !slot.ready) throw new UnknownRelayError(`relay ${relayId} was lost with media worker ${slot.index}`);
    return slot.channel;
  }

  private unwrap<T>(result: MediaWorkerResult<T>, slot: WorkerSlot): T {
    if (result.ok) return result.value;
    throw this.toError(result.error, slot);
  }

  private toError(error: MediaWorkerError, slot: WorkerSlot): Error {
    switch (error.name) {
      case 'MediaUnavailableError':
        return new MediaUnavailableError(error.message);
      case 'UnknownRelayError':
        return new UnknownRelayError(error.message);
      case 'MediaConfigurationError':
        return new MediaConfigurationError(error.message);
      case 'TimeoutError':
        return new MediaUnavailableError(`media worker ${slot.index}: ${error.message}`);
      case 'WorkerExitedError':
        return new UnknownRelayError(error.message);
      case 'InternalError':
        return new Error(`media worker ${slot.index}: ${error.message}`);
    }
  }
}
