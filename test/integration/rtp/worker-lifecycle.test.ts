/**
 * The engine's bookkeeping over real workers: port pairs handed out and
 * given back, the least loaded worker chosen, a dead worker reported and
 * replaced, everything closed on stop.
 */
import dgram from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLogger, type LogFields } from '../../../src/log/logger.js';
import { MediaConfigurationError, MediaUnavailableError, UnknownRelayError } from '../../../src/rtp/media-protocol.js';
import { WorkerMediaEngine, type RelaysLostEvent } from '../../../src/rtp/worker-media-engine.js';
import { Phone, rtpPacket, waitUntil } from './phones.js';

/** 8 pairs over 2 workers: 4 pairs each (42200-42207 and 42208-42215), so 2 relays per worker. */
let engine: WorkerMediaEngine;
let lines: LogFields[];
const lost: RelaysLostEvent[] = [];

beforeAll(async () => {
  const memory = createMemoryLogger();
  lines = memory.lines;
  engine = new WorkerMediaEngine({
    address: '127.0.0.1',
    portMin: 42200,
    portMax: 42215,
    workers: 2,
    logger: memory.logger,
    onRelaysLost: (event) => lost.push(event),
  });
  await engine.start();
}, 30_000);

afterAll(async () => {
  await engine.stop();
});

afterEach(async () => {
  const open = (await engine.diagnostics()).reduce((sum, worker) => sum + worker.openSockets, 0);
  expect({ active: engine.activeRelays(), open }).toEqual({ active: 0, open: 0 });
});

function bindExternally(port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  return new Promise((resolve) => socket.bind(port, '127.0.0.1', () => resolve(socket)));
}

describe('WorkerMediaEngine', () => {
  it('puts each new relay on the least loaded worker, both legs in one worker', async () => {
    const relays = [await engine.allocate('c1'), await engine.allocate('c2')];
    const perWorker = (await engine.diagnostics()).map((d) => d.relays);
    expect(perWorker).toEqual([1, 1]);
    for (const relay of relays) {
      // Legs of one relay come from the same worker's share of the range.
      expect(Math.abs(relay.a.port - relay.b.port)).toBeLessThan(8);
      await engine.release(relay.relayId);
    }
  });

  it('hands out every pair, refuses one more with MediaUnavailableError, and gets them all back on release', async () => {
    const first = await Promise.all([1, 2, 3, 4].map((i) => engine.allocate(`c${i}`)));
    const ports = first.flatMap((r) => [r.a.port, r.b.port]).sort((x, y) => x - y);
    expect(ports).toEqual([42200, 42202, 42204, 42206, 42208, 42210, 42212, 42214]);
    await expect(engine.allocate('one too many')).rejects.toThrow(MediaUnavailableError);
    // Per leg: RTP listener + connected sender, RTCP listener.
    expect((await engine.diagnostics()).map((d) => d.openSockets)).toEqual([12, 12]);

    for (const relay of first) await engine.release(relay.relayId);
    expect(engine.activeRelays()).toBe(0);
    expect((await engine.diagnostics()).map((d) => [d.openSockets, d.freePortPairs])).toEqual([
      [0, 4],
      [0, 4],
    ]);

    const second = await Promise.all([1, 2, 3, 4].map((i) => engine.allocate(`again${i}`)));
    expect(second.flatMap((r) => [r.a.port, r.b.port]).sort((x, y) => x - y)).toEqual(ports);
    await expect(engine.release(first[0]?.relayId ?? 0)).rejects.toThrow(UnknownRelayError);
    for (const relay of second) await engine.release(relay.relayId);
  });

  it('skips a pair another process holds, and falls back to another worker', async () => {
    // Worker 0 keeps 3 usable pairs: room for one relay, then its next allocation fails and worker 1 takes it.
    const holder = await bindExternally(42204);
    try {
      const relays = [await engine.allocate('c1'), await engine.allocate('c2'), await engine.allocate('c3')];
      const ports = relays.flatMap((r) => [r.a.port, r.b.port]);
      expect(ports).not.toContain(42204);
      expect((await engine.diagnostics()).map((d) => d.relays)).toEqual([1, 2]);
      expect(lines.some((l) => l.msg === 'RTP port pair busy, trying another' && l.port === 42204)).toBe(true);
      await expect(engine.allocate('c4')).rejects.toThrow(MediaUnavailableError);
      for (const relay of relays) await engine.release(relay.relayId);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it('reports the relays of a worker that dies, forgets them, and replaces the worker', async () => {
    const [A, B] = [await Phone.open(), await Phone.open()];
    try {
      const r1 = await engine.allocate('call-on-0');
      const r2 = await engine.allocate('call-on-1');
      const onWorker0 = r1.a.port < 42208 ? r1 : r2;
      const onWorker1 = onWorker0 === r1 ? r2 : r1;
      await engine.configure(onWorker1.relayId, 'a', A.legConfig());
      await engine.configure(onWorker1.relayId, 'b', B.legConfig());

      await engine.terminateWorker(0);

      expect(lost).toEqual([{ workerIndex: 0, reason: expect.stringMatching(/exited/), relays: [{ relayId: onWorker0.relayId, callId: expect.any(String) }] }]);
      expect(lines.some((l) => l.level === 'error' && l.msg === 'media worker exited' && l.relaysLost === 1)).toBe(true);
      expect(engine.activeRelays()).toBe(1);
      await expect(engine.stats(onWorker0.relayId)).rejects.toThrow(UnknownRelayError);
      // The other worker's call goes on.
      await A.sendRtp(rtpPacket({ sequenceNumber: 1 }), onWorker1.a.port);
      await waitUntil('media through the surviving worker', () => B.rtp.length === 1);
      // The replacement serves worker 0's ports again.
      const again = await engine.allocate('after-restart');
      expect(again.a.port).toBeLessThan(42208);
      await engine.release(again.relayId);
      await engine.release(onWorker1.relayId);
    } finally {
      await A.close();
      await B.close();
    }
  }, 30_000);

  it('closes everything on stop and refuses work afterwards', async () => {
    const own = new WorkerMediaEngine({ address: '127.0.0.1', portMin: 42300, portMax: 42307, workers: 1, logger: createMemoryLogger().logger });
    await own.start();
    await own.allocate('left open');
    await own.stop();
    expect(own.activeRelays()).toBe(0);
    await expect(own.allocate('late')).rejects.toThrow(MediaUnavailableError);
    // Its sockets are closed: the ports can be bound exclusively again.
    const sockets = await Promise.all([42300, 42301, 42302, 42303].map(bindExternally));
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }, 30_000);

  it('refuses a range too small for one relay, and an address that is not an IP', () => {
    const logger = createMemoryLogger().logger;
    expect(() => new WorkerMediaEngine({ address: '127.0.0.1', portMin: 42300, portMax: 42302, logger })).toThrow(MediaConfigurationError);
    expect(() => new WorkerMediaEngine({ address: 'localhost', portMin: 42300, portMax: 42399, logger })).toThrow(/not an IP address/);
  });
});
