import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MediaWorkerChannel } from '../../../src/rtp/media-worker-channel.js';
import type { MediaWorkerRequestMessage } from '../../../src/rtp/media-worker-protocol.js';

describe('MediaWorkerChannel', () => {
  let posted: MediaWorkerRequestMessage[];
  let channel: MediaWorkerChannel;
  beforeEach(() => {
    vi.useFakeTimers();
    posted = [];
    channel = new MediaWorkerChannel((message) => posted.push(message), 1000);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('numbers requests and matches responses by id, in any order', async () => {
    const first = channel.call('stats', { relayId: 7 });
    const second = channel.call('allocate', { relayId: 8, callId: 'c' });
    expect(posted.map((m) => [m.id, m.request.method])).toEqual([
      [1, 'stats'],
      [2, 'allocate'],
    ]);
    channel.settle(2, { ok: true, value: { a: 40000, b: 40002 } });
    channel.settle(1, { ok: false, error: { name: 'UnknownRelayError', message: 'relay 7' } });
    await expect(second).resolves.toEqual({ ok: true, value: { a: 40000, b: 40002 } });
    await expect(first).resolves.toEqual({ ok: false, error: { name: 'UnknownRelayError', message: 'relay 7' } });
    expect(channel.pendingRequests).toBe(0);
  });

  it('answers TimeoutError when the worker stays silent, and ignores the late response', async () => {
    const call = channel.call('diagnostics', {});
    vi.advanceTimersByTime(1000);
    await expect(call).resolves.toMatchObject({ ok: false, error: { name: 'TimeoutError' } });
    expect(channel.settle(1, { ok: true, value: null })).toBe(false);
  });

  it('fails every pending request when the worker exits', async () => {
    const calls = [channel.call('stats', { relayId: 1 }), channel.call('release', { relayId: 2 })];
    channel.failAll({ name: 'WorkerExitedError', message: 'media worker 0 exited with code 1' });
    for (const call of calls) await expect(call).resolves.toMatchObject({ ok: false, error: { name: 'WorkerExitedError' } });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('turns a failing postMessage into an error value', async () => {
    const broken = new MediaWorkerChannel(() => {
      throw new Error('port closed');
    }, 1000);
    await expect(broken.call('shutdown', {})).resolves.toMatchObject({ ok: false, error: { name: 'WorkerExitedError', message: /port closed/ } });
  });
});
