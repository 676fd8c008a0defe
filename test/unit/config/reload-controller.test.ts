import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ConfigReloadController, type ReloadOutcome, type ReloadRecord, type ReloadTarget } from '../../../src/config/reload-controller.js';
import type { ConfigResult, VoixConfig } from '../../../src/config/types.js';
import { createLogger } from '../../../src/log/logger.js';
import type { Clock } from '../../../src/util/clock.js';

const clock: Clock = { now: () => 1_700_000_000_000, setTimer: () => ({ id: 0 }), clearTimer: () => undefined };

class FakeServer implements ReloadTarget {
  generation = 1;
  readonly received: VoixConfig[] = [];
  reload(next: VoixConfig): ReloadOutcome {
    this.received.push(next);
    this.generation++;
    return { generation: this.generation, applied: ['users: added 1003'], warnings: ['server.listen changed: restart voix to apply'] };
  }
  configGeneration(): number {
    return this.generation;
  }
}

function setup(files: string[]) {
  const server = new FakeServer();
  const records: ReloadRecord[] = [];
  const logs: Record<string, unknown>[] = [];
  const reads: string[] = [];
  const controller = new ConfigReloadController({
    configPath: '/etc/voix/voix.yaml',
    load: async (path): Promise<ConfigResult> => {
      const text = files.shift() ?? '';
      reads.push(text);
      await Promise.resolve();
      return parseConfig(text, path);
    },
    target: server,
    record: (r) => records.push(r),
    clock,
    logger: createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) }),
  });
  return { server, records, logs, reads, controller };
}

const VALID = 'server: { domain: voix.test }\nusers:\n  - { extension: "1001", password: "alice-secret-1001" }\n';
const BROKEN = `${VALID}calls:\n  ring_timout: 20\n`;

describe('ConfigReloadController', () => {
  it('hands a valid file to the server and records what it applied', async () => {
    const { server, records, controller } = setup([VALID]);

    const record = await controller.request();

    expect(server.received).toHaveLength(1);
    expect(record).toEqual({
      status: 'applied',
      at: clock.now(),
      generation: 2,
      configWarnings: [],
      applied: ['users: added 1003'],
      warnings: ['server.listen changed: restart voix to apply'],
    });
    expect(records).toEqual([record]);
  });

  it('refuses a broken file without touching the server: each error logged at error level, with line and key', async () => {
    const { server, records, logs, controller } = setup([BROKEN]);

    const record = await controller.request();

    expect(server.received).toEqual([]);
    expect(record).toMatchObject({ status: 'refused', generation: 1, errors: ['/etc/voix/voix.yaml:5:3 calls.ring_timout: unknown key (did you mean "ring_timeout"?)'] });
    expect(records).toEqual([record]);
    expect(logs.filter((l) => l['level'] === 'error')).toEqual([
      expect.objectContaining({ msg: 'config reload refused', error: expect.stringContaining(':5:3 calls.ring_timout: unknown key') }),
    ]);
  });

  it('a request during a reload runs once more afterwards, and several such requests share that run', async () => {
    const { server, reads, controller } = setup([VALID, VALID, VALID]);

    const results = await Promise.all([controller.request(), controller.request(), controller.request()]);

    expect(reads).toHaveLength(2);
    expect(server.received).toHaveLength(2);
    expect(results.map((r) => r.generation)).toEqual([2, 3, 3]);
  });

  it('a server that throws while applying is recorded as refused, said to be a bug', async () => {
    const { server, controller } = setup([VALID]);
    server.reload = () => {
      throw new Error('boom');
    };

    const record = await controller.request();

    expect(record).toMatchObject({ status: 'refused', errors: [expect.stringMatching(/internal error .*\(a bug\): boom/)] });
  });
});
