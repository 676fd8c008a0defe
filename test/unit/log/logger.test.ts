import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log/logger.js';

function capture(level: 'debug' | 'info' = 'debug') {
  const lines: string[] = [];
  const logger = createLogger({ level, write: (line) => void lines.push(line), now: () => Date.UTC(2026, 10, 27, 12, 0, 0) });
  return { logger, lines };
}

describe('JSON logger', () => {
  it('writes time, level and msg first, then the fields of each child from the oldest, then the line fields', () => {
    const { logger, lines } = capture();

    logger.child({ component: 'transaction' }).child({ callId: 'c1', method: 'REGISTER' }).info('sent', { status: 200 });

    expect(lines).toEqual([
      '{"time":"2026-11-27T12:00:00.000Z","level":"info","msg":"sent","component":"transaction","callId":"c1","method":"REGISTER","status":200}\n',
    ]);
  });

  it('lets a younger child and the line override a field at the place it first appeared', () => {
    const { logger, lines } = capture();

    logger.child({ a: 1, b: 2 }).child({ a: 3 }).warn('w', { b: 4, c: 5 });

    expect(lines).toEqual(['{"time":"2026-11-27T12:00:00.000Z","level":"warn","msg":"w","a":3,"b":4,"c":5}\n']);
  });

  it('keeps a parent unchanged by its children', () => {
    const { logger, lines } = capture();
    const parent = logger.child({ component: 'registrar' });

    parent.child({ aor: '1001' });
    parent.info('expired');

    expect(lines).toEqual(['{"time":"2026-11-27T12:00:00.000Z","level":"info","msg":"expired","component":"registrar"}\n']);
  });

  it('writes nothing below its level, from children too', () => {
    const { logger, lines } = capture('info');

    logger.debug('hidden');
    logger.child({ x: 1 }).debug('hidden too');
    logger.child({ x: 1 }).error('shown', { error: new Error('boom') });

    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ level: 'error', msg: 'shown', x: 1, error: { name: 'Error', message: 'boom' } });
  });
});

describe('JSON logger values', () => {
  it('writes errors, bigints and nested objects as before, and plain values as JSON', () => {
    const { logger, lines } = capture();
    const error = new Error('boom');

    logger.info('plain', { s: 'a"b', n: 1.5, t: true, z: null, u: undefined });
    logger.info('rich', { big: 12n, nested: { error, list: [1n, 'x'] } });

    expect(lines[0]).toBe('{"time":"2026-11-27T12:00:00.000Z","level":"info","msg":"plain","s":"a\\"b","n":1.5,"t":true,"z":null}\n');
    expect(JSON.parse(lines[1] as string)).toEqual({
      time: '2026-11-27T12:00:00.000Z',
      level: 'info',
      msg: 'rich',
      big: '12',
      nested: { error: { name: 'Error', message: 'boom', stack: error.stack }, list: ['1', 'x'] },
    });
  });
});
