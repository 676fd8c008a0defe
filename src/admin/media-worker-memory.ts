/**
 * The media workers' memory for /metrics. Each media worker is a V8
 * isolate of its own: the main thread's process.memoryUsage() sees none of
 * its heap, yet the process's resident memory holds it. Reading it takes a
 * message to each worker, which a scrape (synchronous) cannot wait for, so
 * it is read every `intervalMs` and the gauges show the latest reading.
 */
import type { Logger } from '../log/logger.js';
import type { MediaWorkerMemory } from '../rtp/media-worker-protocol.js';
import type { Clock, TimerHandle } from '../util/clock.js';

export interface MediaWorkerMemoryOptions {
  readonly clock: Clock;
  /** The workers' memory (WorkerMediaEngine.memory). */
  readonly read: () => Promise<readonly MediaWorkerMemory[]>;
  readonly onReading: (memory: readonly MediaWorkerMemory[]) => void;
  readonly logger: Logger;
  /** Default 15 s: the usual Prometheus scrape interval. */
  readonly intervalMs?: number;
}

export class MediaWorkerMemoryPoller {
  private readonly intervalMs: number;
  private timer: TimerHandle | undefined;
  private running = false;
  /** Which start a reading belongs to: one still pending when stop() and start() came is dropped. */
  private generation = 0;
  /** A failure is logged once, not every interval, until a reading succeeds again. */
  private failing = false;

  constructor(private readonly options: MediaWorkerMemoryOptions) {
    this.intervalMs = options.intervalMs ?? 15_000;
  }

  /** Reads now, then every interval. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.generation += 1;
    void this.poll(this.generation);
  }

  stop(): void {
    this.running = false;
    this.options.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  private async poll(generation: number): Promise<void> {
    const current = (): boolean => this.running && generation === this.generation;
    try {
      const memory = await this.options.read();
      if (!current()) return;
      this.options.onReading(memory);
      this.failing = false;
    } catch (err) {
      if (!current()) return;
      if (!this.failing) this.options.logger.warn('media workers: memory not read', { error: err instanceof Error ? err.message : String(err) });
      this.failing = true;
    }
    // The next reading is scheduled once this one is done: a worker slow to answer never piles requests up.
    this.timer = this.options.clock.setTimer(this.intervalMs, () => void this.poll(generation));
  }
}
