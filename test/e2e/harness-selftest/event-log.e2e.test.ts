/**
 * event-log.ts, the log behind every waitFor… of the harness: what already
 * came, what comes, the timeout, an early end, and indexes past a limit.
 */
import { describe, expect, it } from 'vitest';
import { EventLog } from '../harness/event-log.js';

const describeSeen = (seen: readonly unknown[]): string => `seen: ${seen.join(', ') || 'none'}`;

describe('EventLog', () => {
  it('finds an item already pushed, or waits for one from `since` on', async () => {
    const log = new EventLog<number>();
    log.push(1);
    log.push(2);
    const since = log.mark();
    const later = log.waitFor((n) => n % 2 === 0, 1000, { since, describe: describeSeen });
    log.push(3);
    log.push(4);

    expect(await log.waitFor((n) => n % 2 === 0, 1000, { describe: describeSeen })).toBe(2);
    expect(since).toBe(2);
    expect(await later).toBe(4);
    expect(log.items()).toEqual([1, 2, 3, 4]);
  });

  it('fails after the timeout with what was seen since `since`, or with the error of `end`', async () => {
    const log = new EventLog<number>();
    log.push(1);
    log.push(2);

    const ended = log.waitFor(() => false, 5000, { describe: describeSeen, end: Promise.resolve(new Error('gone')) });
    await expect(ended).rejects.toThrow(/^gone$/);
    const timedOut = log.waitFor(() => false, 50, { since: 1, describe: describeSeen });
    await expect(timedOut).rejects.toThrow(/^seen: 2$/);
  });

  it('keeps the last `limit` items, indexes counting on', async () => {
    const log = new EventLog<string>(2);
    const indexes: number[] = [];
    const unsubscribe = log.onItem((_, index) => indexes.push(index));
    for (const item of ['a', 'b', 'c']) log.push(item);
    unsubscribe();
    log.push('d');

    expect(log.items()).toEqual(['c', 'd']);
    expect(log.mark()).toBe(4);
    expect(indexes).toEqual([0, 1, 2]);
    expect(await log.waitFor(() => true, 1000, { since: 1, describe: describeSeen })).toBe('c');
    await expect(log.waitFor(() => false, 10, { since: 3, describe: describeSeen })).rejects.toThrow(/^seen: d$/);
  });
});
