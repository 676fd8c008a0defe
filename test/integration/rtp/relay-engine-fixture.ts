/**
 * A WorkerMediaEngine for one describe block of the relay's integration
 * tests, on the UDP sockets asked for: started before the block's tests,
 * stopped after them; after each test, the test's cleanups run and nothing
 * may be left allocated (no relay, no socket).
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createMemoryLogger } from '../../../src/log/logger.js';
import type { MediaUdpIo } from '../../../src/rtp/media-worker-protocol.js';
import { WorkerMediaEngine } from '../../../src/rtp/worker-media-engine.js';

/** Native UDP I/O (docs/adr/0006), and dgram where the addon is not built: both must relay alike. */
export const UDP_IO = ['native', 'dgram'] as const;

export function useRelayEngine(
  options: { readonly portMin: number; readonly portMax: number; readonly workers: number; readonly udpIo: Exclude<MediaUdpIo, 'auto'> },
  cleanups: Array<() => Promise<void>>,
  started: (engine: WorkerMediaEngine) => void,
): void {
  let engine: WorkerMediaEngine;
  beforeAll(async () => {
    engine = new WorkerMediaEngine({ address: '127.0.0.1', ...options, logger: createMemoryLogger().logger });
    await engine.start();
    started(engine);
  }, 30_000);

  afterAll(async () => {
    await engine.stop();
  });

  afterEach(async () => {
    const leaked = engine.activeRelays();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    expect(leaked).toBe(0);
    expect((await engine.diagnostics()).reduce((sum, worker) => sum + worker.openSockets, 0)).toBe(0);
  });

  it('runs on the UDP sockets asked for', async () => {
    expect((await engine.diagnostics()).map((worker) => worker.udpIo)).toEqual(Array.from({ length: engine.workerCount }, () => options.udpIo));
  });
}
