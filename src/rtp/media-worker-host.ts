/**
 * What a media worker does with the main thread's requests: allocate port
 * pairs from its share of the range and open the sockets, configure legs,
 * report and release. Kept apart from the worker entry (media-worker.ts)
 * so the entry is only the MessagePort wiring.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';
import { isIPv6 } from 'node:net';
import { threadId } from 'node:worker_threads';
import { MonotonicPlayoutClock } from '../media/playout/playout-clock.js';
import type { PlayoutEvent } from '../media/playout/playout-protocol.js';
import { PlayoutScheduler } from '../media/playout/playout-scheduler.js';
import { WorkerPlayout } from '../media/playout/worker-playout.js';
import {
  MediaConfigurationError,
  MediaUnavailableError,
  UnknownRelayError,
  type LegConfig,
  type LegName,
  type RelayAmdEvent,
  type RelayDtmfEvent,
  type RelayStats,
} from './media-protocol.js';
import { MediaRelay } from './media-relay.js';
import type {
  MediaWorkerDiagnostics,
  MediaWorkerError,
  MediaWorkerLogLevel,
  MediaWorkerRequest,
  MediaWorkerResult,
  MediaWorkerSettings,
} from './media-worker-protocol.js';
import { OutboundBufferRing } from './outbound-buffers.js';
import { createLegTransforms } from './packet-transform.js';
import { PortPool } from './port-pool.js';
import { DgramRelayPortOpener } from './dgram-relay-port.js';
import { loadUdpIoAddon, NativeRelayPortOpener, NativeUdp } from './native-relay-port.js';
import { RelayLeg, type RelayDtmfListener, type RelayWorkerContext } from './relay-leg.js';
import type { LegPorts, RelayPortOpener } from './relay-port.js';
import { RtpHeaderView } from './rtp-header.js';
import { errorCode, isPortTaken, type UdpFamily } from './udp-sockets.js';

export type WorkerLog = (level: MediaWorkerLogLevel, msg: string, fields: Record<string, unknown>) => void;

const LOG_LEVELS: readonly MediaWorkerLogLevel[] = ['debug', 'info', 'warn', 'error'];

export class MediaWorkerHost {
  private readonly pool: PortPool;
  private readonly relays = new Map<number, MediaRelay>();
  private readonly ports: RelayPortOpener;
  private readonly context: RelayWorkerContext;
  private readonly outboundBuffers = new OutboundBufferRing();
  private readonly family: UdpFamily;
  private shuttingDown = false;
  /** How late the worker's event loop runs (a stalled loop delays every packet); reset by each diagnostics(). */
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  /** Garbage collection pauses since the previous diagnostics(): the usual cause of a stalled loop. */
  private gcPauses = 0;
  private gcPauseMaxMs = 0;
  private readonly gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      this.gcPauses++;
      if (entry.duration > this.gcPauseMaxMs) this.gcPauseMaxMs = entry.duration;
    }
  });
  /** Relays whose sockets are being opened, and those of them released meanwhile (the main thread gave up waiting). */
  private readonly allocating = new Set<number>();
  private readonly cancelled = new Set<number>();

  private readonly log: WorkerLog;
  /** Players for the IVR and tones: one scheduler paces every stream this worker plays. */
  private readonly playout: WorkerPlayout;

  constructor(
    private readonly settings: MediaWorkerSettings,
    post: WorkerLog,
    now: () => number = () => performance.now(),
    emit: (event: PlayoutEvent) => void = () => undefined,
    /** A digit a leg's DTMF detection found (LegConfig.dtmf). */
    private readonly emitDtmf: (event: RelayDtmfEvent) => void = () => undefined,
    /** The verdict of a leg's answering-machine detection (LegConfig.amd). */
    private readonly emitAmd: (event: RelayAmdEvent) => void = () => undefined,
  ) {
    // Filtered here: a burst of debug lines (one per latch) would otherwise be cloned and posted for nothing.
    const minimum = LOG_LEVELS.indexOf(settings.logLevel);
    this.log = (level, msg, fields) => {
      if (LOG_LEVELS.indexOf(level) >= minimum) post(level, msg, fields);
    };
    const log = this.log;
    this.pool = new PortPool({ portMin: settings.portMin, portMax: settings.portMax });
    this.loopDelay.enable();
    this.gcObserver.observe({ entryTypes: ['gc'] });
    this.family = isIPv6(settings.address) ? 'udp6' : 'udp4';
    this.ports = openerFor(settings.udpIo ?? 'auto', this.family, log);
    this.context = {
      family: this.family,
      rtpHeader: new RtpHeaderView(),
      outboundBuffers: this.outboundBuffers,
      now,
      log,
      createTransforms: (srtp) => createLegTransforms(srtp, settings.srtpCrypto),
    };
    const { spinUs, ...schedulerOptions } = settings.playout ?? {};
    this.playout = new WorkerPlayout(new PlayoutScheduler(new MonotonicPlayoutClock({ spinUs }), schedulerOptions), emit);
  }

  /** Runs one request; never rejects: failures are values. */
  async handle(request: MediaWorkerRequest): Promise<MediaWorkerResult<unknown>> {
    try {
      return { ok: true, value: await this.dispatch(request) };
    } catch (err) {
      return { ok: false, error: this.toErrorValue(err, request) };
    }
  }

  private async dispatch(request: MediaWorkerRequest): Promise<unknown> {
    switch (request.method) {
      case 'allocate':
        return this.allocate(request.params.relayId, request.params.callId);
      case 'configure':
        this.configure(request.params.relayId, request.params.leg, request.params.config);
        return null;
      case 'stats':
        return this.relay(request.params.relayId).stats();
      case 'release':
        return this.release(request.params.relayId);
      case 'diagnostics':
        if (request.params.collectGarbage === true) (globalThis as { gc?: () => void }).gc?.();
        return this.diagnostics();
      case 'memory': {
        const memory = process.memoryUsage();
        return { workerIndex: this.settings.workerIndex, heapUsedBytes: memory.heapUsed, heapTotalBytes: memory.heapTotal, externalBytes: memory.external };
      }
      case 'loadPrompt':
        this.playout.loadPrompt(request.params.promptId, request.params.codec, request.params.samples);
        return null;
      case 'unloadPrompt':
        this.playout.unloadPrompt(request.params.promptId, request.params.codec);
        return null;
      case 'play': {
        const { relayId, leg, playId, request: play } = request.params;
        this.playout.play(relayId, leg, this.relay(relayId).leg(leg), playId, play);
        return null;
      }
      case 'stopPlay':
        this.relay(request.params.relayId);
        return this.playout.stop(request.params.relayId, request.params.leg);
      case 'shutdown':
        await this.shutdown();
        return null;
    }
  }

  private async allocate(relayId: number, callId: string): Promise<{ a: number; b: number }> {
    if (this.shuttingDown) throw new MediaUnavailableError('media worker is shutting down');
    if (this.relays.has(relayId) || this.allocating.has(relayId)) throw new Error(`relay ${relayId} allocated twice`);
    const logFields = { callId, relayId };
    this.allocating.add(relayId);
    let a: { port: number; ports: LegPorts };
    let b: { port: number; ports: LegPorts };
    try {
      a = await this.openLeg();
      try {
        b = await this.openLeg();
      } catch (err) {
        await this.closeLeg(a);
        throw err;
      }
      if (this.cancelled.has(relayId) || this.shuttingDown) {
        await Promise.all([this.closeLeg(a), this.closeLeg(b)]);
        throw new MediaUnavailableError(`relay ${relayId} was released before its allocation finished`);
      }
    } finally {
      this.allocating.delete(relayId);
      this.cancelled.delete(relayId);
    }
    const relay = new MediaRelay(
      relayId,
      callId,
      new RelayLeg('a', a.port, a.ports, this.context, logFields),
      new RelayLeg('b', b.port, b.ports, this.context, logFields),
    );
    const dtmfListener: RelayDtmfListener = {
      dtmfReceived: (leg, digit, source) => this.emitDtmf({ relayId, leg, digit, source }),
      answeringMachine: (leg, verdict, reason, afterMs) => this.emitAmd({ relayId, leg, verdict, reason, afterMs }),
    };
    relay.a.listenForDtmf(dtmfListener);
    relay.b.listenForDtmf(dtmfListener);
    this.relays.set(relayId, relay);
    this.log('debug', 'relay allocated', { ...logFields, portA: a.port, portB: b.port });
    return { a: a.port, b: b.port };
  }

  /**
   * A free pair with its sockets open. A pair another process holds is put
   * back at the end of the queue and the next one tried, at most once per
   * free pair.
   */
  private async openLeg(): Promise<{ port: number; ports: LegPorts }> {
    // With no free pair, the first acquire() throws MediaUnavailableError naming the range.
    let attempts = this.pool.available;
    do {
      const port = this.pool.acquire();
      try {
        const rtp = await this.ports.open(this.settings.address, port, this.settings.connectSockets);
        try {
          // RTCP is a packet every few seconds (RFC 3550 §6.2): a connected sender would not pay for its socket.
          const rtcp = await this.ports.open(this.settings.address, port + 1, false);
          return { port, ports: { rtp, rtcp } };
        } catch (err) {
          await rtp.close();
          throw err;
        }
      } catch (err) {
        this.pool.release(port);
        if (isPortTaken(err)) {
          this.log('warn', 'RTP port pair busy, trying another', { port, error: errorCode(err) });
          continue;
        }
        if (errorCode(err) === 'EMFILE' || errorCode(err) === 'ENFILE') {
          throw new MediaUnavailableError(`cannot open RTP sockets: out of file descriptors (${errorCode(err)}); raise LimitNOFILE`);
        }
        throw err;
      }
    } while (--attempts > 0);
    throw new MediaUnavailableError(`every free RTP port pair in ${this.settings.portMin}-${this.settings.portMax} is held by another process`);
  }

  private async closeLeg(leg: { port: number; ports: LegPorts }): Promise<void> {
    await Promise.all([leg.ports.rtp.close(), leg.ports.rtcp.close()]);
    this.pool.release(leg.port);
  }

  private configure(relayId: number, leg: LegName, config: LegConfig): void {
    this.relay(relayId).leg(leg).configure(config);
  }

  private async release(relayId: number): Promise<RelayStats> {
    if (this.allocating.has(relayId)) {
      this.cancelled.add(relayId);
      throw new UnknownRelayError(`relay ${relayId} released while its allocation was in progress; it is cancelled`);
    }
    const relay = this.relay(relayId);
    this.relays.delete(relayId);
    this.playout.releaseRelay(relayId);
    const stats = relay.stats();
    await relay.close();
    this.pool.release(relay.a.port);
    this.pool.release(relay.b.port);
    this.log('debug', 'relay released', { callId: relay.callId, relayId });
    return stats;
  }

  private async shutdown(): Promise<void> {
    this.shuttingDown = true;
    this.loopDelay.disable();
    this.gcObserver.disconnect();
    await Promise.all([...this.relays.keys()].map((relayId) => this.release(relayId)));
    this.playout.close();
  }

  diagnostics(): MediaWorkerDiagnostics {
    let socketErrors = 0;
    for (const relay of this.relays.values()) socketErrors += relay.a.errors + relay.b.errors;
    const loopDelayP99Ms = this.loopDelay.percentile(99) / 1e6;
    const loopDelayMaxMs = this.loopDelay.max / 1e6;
    this.loopDelay.reset();
    const gcPauses = this.gcPauses;
    const gcPauseMaxMs = this.gcPauseMaxMs;
    this.gcPauses = 0;
    this.gcPauseMaxMs = 0;
    return {
      workerIndex: this.settings.workerIndex,
      threadId,
      osThreadId: osThreadId(),
      relays: this.relays.size,
      udpIo: this.ports.kind,
      openSockets: this.ports.openSockets,
      portPairs: this.pool.capacity,
      freePortPairs: this.pool.available,
      heapUsedBytes: process.memoryUsage().heapUsed,
      threadCpuMs: threadCpuMs(),
      outboundBuffersReplaced: this.outboundBuffers.replacedSlots,
      socketErrors,
      loopDelayP99Ms,
      loopDelayMaxMs,
      gcPauses,
      gcPauseMaxMs,
      playout: this.playout.stats(true),
    };
  }

  private relay(relayId: number): MediaRelay {
    const relay = this.relays.get(relayId);
    if (relay === undefined) throw new UnknownRelayError(`relay ${relayId} is not allocated in media worker ${this.settings.workerIndex}`);
    return relay;
  }

  private toErrorValue(err: unknown, request: MediaWorkerRequest): MediaWorkerError {
    if (err instanceof MediaUnavailableError) return { name: 'MediaUnavailableError', message: err.message };
    if (err instanceof UnknownRelayError) return { name: 'UnknownRelayError', message: err.message };
    if (err instanceof MediaConfigurationError) return { name: 'MediaConfigurationError', message: err.message };
    const error = err instanceof Error ? err : new Error(String(err));
    this.log('error', 'media worker request failed', { method: request.method, error: { name: error.name, message: error.message, stack: error.stack } });
    return { name: 'InternalError', message: `${request.method}: ${error.message}` };
  }
}

/** /proc/thread-self links to /proc/<pid>/task/<tid>. */
function osThreadId(): number | null {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) ? tid : null;
  } catch {
    return null;
  }
}

/**
 * CPU time of the calling thread: /proc/thread-self/schedstat gives
 * nanoseconds on CPU; /proc/thread-self/stat utime + stime in clock ticks
 * (USER_HZ, 100 on Linux) as a fallback; null elsewhere.
 */
export function threadCpuMs(): number | null {
  try {
    const schedstat = readFileSync('/proc/thread-self/schedstat', 'utf8');
    const ns = Number(schedstat.split(' ')[0]);
    if (Number.isFinite(ns)) return ns / 1e6;
  } catch {
    // not Linux, or no schedstat: try stat
  }
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat(5), counted from field 3 after the command name.
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : null;
  } catch {
    return null;
  }
}

/**
 * The native UDP ports when the addon loads (docs/adr/0006), dgram's when
 * asked or, with a warning, when the addon is not built; 'native' insists.
 */
function openerFor(choice: 'auto' | 'native' | 'dgram', family: UdpFamily, log: WorkerLog): RelayPortOpener {
  if (choice === 'dgram') return new DgramRelayPortOpener(family);
  const loaded = loadUdpIoAddon();
  if ('addon' in loaded) return new NativeRelayPortOpener(family, new NativeUdp(loaded.addon));
  if (choice === 'native') throw new Error(`native UDP I/O unavailable: ${loaded.reason}; run npm run build`);
  log('warn', 'native UDP I/O unavailable, relaying with node:dgram (more CPU per packet); run npm run build', { reason: loaded.reason });
  return new DgramRelayPortOpener(family);
}
