/**
 * The poller behind the media workers' memory gauges: a reading now and
 * every interval, one request at a time, failures logged once, nothing
 * after stop.
 */
import { describe, expect, it } from 'vitest';
import { MediaWorkerMemoryPoller } from '../../../src/admin/media-worker-memory.js';
import { createLogger } from '../../../src/log/logger.js';
import type { MediaWorkerMemory } from '../../../src/rtp/media-worker-protocol.js';
import { FakeClock } from '../../../src/util/clock.js';

function memory(workerIndex: number, heapUsedBytes: number): MediaWorkerMemory {
  return { workerIndex, heapUsedBytes, heapTotalBytes: 2 * heapUsedBytes, externalBytes: 1000 };
}

/** Lets the poller's awaited read settle. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function setup(read: () => Promise<readonly MediaWorkerMemory[]>) {
  const clock = new FakeClock();
  const readings: Array<readonly MediaWorkerMemory[]> = [];
  const logLines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => void logLines.push(line) });
  const poller = new MediaWorkerMemoryPoller({ clock, read, onReading: (m) => readings.push(m), logger, intervalMs: 15_000 });
  return { clock, readings, logLines, poller };
}

describe('MediaWorkerMemoryPoller', () => {
  it('reads at start, then once per interval, each reading after the previous one answered', async () => {
    let calls = 0;
    const { clock, readings, poller } = setup(async () => [memory(0, 1000 + 10 * calls++), memory(1, 5000)]);
    poller.start();
    await settle();
    expect(readings).toEqual([[memory(0, 1000), memory(1, 5000)]]);
    clock.advance(14_999);
    await settle();
    expect(calls).toBe(1);
    clock.advance(1);
    await settle();
    expect(calls).toBe(2);
    expect(readings[1]).toEqual([memory(0, 1010), memory(1, 5000)]);
  });

  it('never has two readings in flight: a slow worker delays the next one', async () => {
    const pending: Array<(m: readonly MediaWorkerMemory[]) => void> = [];
    const { clock, readings, poller } = setup(() => new Promise((resolve) => pending.push(resolve)));
    poller.start();
    clock.advance(60_000);
    await settle();
    expect(pending).toHaveLength(1);
    pending[0]?.([memory(0, 1)]);
    await settle();
    expect(readings).toHaveLength(1);
    clock.advance(15_000);
    await settle();
    expect(pending).toHaveLength(2);
  });

  it('logs a failure once while it lasts, keeps trying, and logs again after a success', async () => {
    let fail = true;
    const { clock, readings, logLines, poller } = setup(async () => {
      if (fail) throw new Error('media worker did not answer memory within 5000 ms');
      return [memory(0, 1)];
    });
    const warnings = () => logLines.filter((line) => line.includes('media workers: memory not read'));
    poller.start();
    await settle();
    clock.advance(15_000);
    await settle();
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toContain('did not answer memory');
    fail = false;
    clock.advance(15_000);
    await settle();
    expect(readings).toHaveLength(1);
    fail = true;
    clock.advance(15_000);
    await settle();
    expect(warnings()).toHaveLength(2);
  });

  it('stops: no timer left, and a reading still pending at stop is dropped', async () => {
    let resolveRead: ((m: readonly MediaWorkerMemory[]) => void) | undefined;
    const { clock, readings, poller } = setup(() => new Promise((resolve) => (resolveRead = resolve)));
    poller.start();
    poller.stop();
    resolveRead?.([memory(0, 1)]);
    await settle();
    expect(readings).toEqual([]);
    expect(clock.pendingCount).toBe(0);
  });

  it('a restart drops the reading its previous run left pending', async () => {
    const pending: Array<(m: readonly MediaWorkerMemory[]) => void> = [];
    const { clock, readings, poller } = setup(() => new Promise((resolve) => pending.push(resolve)));
    poller.start();
    poller.stop();
    poller.start();
    pending[0]?.([memory(0, 1)]);
    pending[1]?.([memory(0, 2)]);
    await settle();
    expect(readings).toEqual([[memory(0, 2)]]);
    expect(clock.pendingCount).toBe(1);
  });
});
