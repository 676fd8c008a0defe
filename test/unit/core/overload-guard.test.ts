/**
 * The overload guard: which requests it refuses with 503 and Retry-After,
 * on which signal, what always passes, and what it logs. Time and load are
 * set by the test.
 */
import { describe, expect, it } from 'vitest';
import { OverloadGuard, type OverloadSettings, type RefusalReason } from '../../../src/core/overload-guard.js';
import { createMemoryLogger } from '../../../src/log/logger.js';
import { FakeClock } from '../../../src/util/clock.js';
import { sipRequest } from '../sip/transaction/fixtures.js';

const OFF: OverloadSettings = { maxEventLoopLagMs: 0, maxTransactionsInProgress: 0, maxRequestsPerSecond: 0, retryAfterSeconds: 5 };

function guard(settings: Partial<OverloadSettings>, load: { lagMs?: number; inProgress?: number } = {}) {
  const clock = new FakeClock();
  const { logger, lines } = createMemoryLogger('debug');
  const refused: RefusalReason[] = [];
  const current = { lagMs: load.lagMs ?? 0, inProgress: load.inProgress ?? 0 };
  const g = new OverloadGuard({
    settings: () => ({ ...OFF, ...settings }),
    clock,
    eventLoopLagMs: () => current.lagMs,
    transactionsInProgress: () => current.inProgress,
    serverHeader: 'voix',
    logger,
    onRefused: (reason) => refused.push(reason),
  });
  return { g, clock, lines, refused, current };
}

const register = () => sipRequest({ method: 'REGISTER', uri: 'sip:voix.example' });

describe('OverloadGuard', () => {
  it('lets everything through when no limit is reached', () => {
    const { g } = guard({ maxEventLoopLagMs: 100, maxTransactionsInProgress: 10 }, { lagMs: 99, inProgress: 9 });

    expect([g.screen(register()), g.screen(sipRequest({ method: 'INVITE' }))]).toEqual([null, null]);
    expect(g.state()).toEqual({ refusing: false, reason: null, stopping: false, refused: 0 });
  });

  it('answers 503 with Retry-After, a To tag and Server when the event loop lags beyond the limit', () => {
    const { g, refused } = guard({ maxEventLoopLagMs: 100, retryAfterSeconds: 7 }, { lagMs: 150 });

    const response = g.screen(register());

    expect(response?.status).toBe(503);
    expect(response?.reason).toBe('Service Unavailable');
    expect(response?.headers.get('retry-after')).toBe('7');
    expect(response?.headers.get('server')).toBe('voix');
    expect(response?.to.params.some((p) => p.name === 'tag')).toBe(true);
    expect(refused).toEqual(['event-loop-lag']);
    expect(g.state()).toMatchObject({ refusing: true, reason: 'event-loop-lag' });
  });

  it('refuses when the requests in progress reach the limit', () => {
    const { g, current, refused } = guard({ maxTransactionsInProgress: 3 }, { inProgress: 3 });

    const atLimit = g.screen(register());
    current.inProgress = 2;
    const below = g.screen(register());

    expect([atLimit?.status, below]).toEqual([503, null]);
    expect(refused).toEqual(['transactions']);
  });

  it('never refuses in-dialog requests, CANCEL or ACK, even while stopping', () => {
    const { g } = guard({ maxEventLoopLagMs: 1 }, { lagMs: 1000 });
    g.startDraining();

    const passed = [
      sipRequest({ method: 'BYE', toTag: 'abc' }),
      sipRequest({ method: 'INVITE', toTag: 'abc' }),
      sipRequest({ method: 'CANCEL' }),
      sipRequest({ method: 'ACK', toTag: 'abc' }),
    ].map((r) => g.screen(r));

    expect(passed).toEqual([null, null, null, null]);
    expect(g.screen(sipRequest({ method: 'OPTIONS' }))?.status).toBe(503);
  });

  it('refuses every new out-of-dialog request once draining, whatever the load', () => {
    const { g, refused } = guard({});

    g.startDraining();
    const responses = [g.screen(register()), g.screen(sipRequest({ method: 'INVITE' }))];

    expect(responses.map((r) => r?.status)).toEqual([503, 503]);
    expect(refused).toEqual(['stopping', 'stopping']);
    expect(g.state()).toEqual({ refusing: true, reason: 'stopping', stopping: true, refused: 2 });
  });

  it('admits at most max_requests_per_second, with one second of burst, refilled as time passes', () => {
    const { g, clock } = guard({ maxRequestsPerSecond: 10 });
    const outcome = () => (g.screen(register()) === null ? 'ok' : '503');

    const burst = Array.from({ length: 12 }, outcome);
    clock.advance(100);
    const afterTenthOfASecond = [outcome(), outcome()];
    clock.advance(1000);
    const afterASecond = Array.from({ length: 11 }, outcome);

    expect(burst).toEqual([...Array(10).fill('ok'), '503', '503']);
    expect(afterTenthOfASecond).toEqual(['ok', '503']);
    expect(afterASecond).toEqual([...Array(10).fill('ok'), '503']);
    expect(g.state()).toMatchObject({ refusing: true, reason: 'request-rate', refused: 4 });
  });

  it('logs once when refusals start and once, with their count, after a quiet second', () => {
    const { g, clock, current, lines } = guard({ maxEventLoopLagMs: 100 }, { lagMs: 300 });

    for (let i = 0; i < 5; i++) g.screen(register());
    current.lagMs = 10;
    g.screen(register());
    clock.advance(1000);
    g.screen(register());
    g.screen(register());

    const overloadLines = lines.filter((l) => String(l['msg']).startsWith('overload'));
    expect(overloadLines.map((l) => [l['level'], l['msg']])).toEqual([
      ['warn', 'overload: refusing new requests with 503'],
      ['info', 'overload over: admitting new requests again'],
    ]);
    expect(overloadLines[0]).toMatchObject({ reason: 'event-loop-lag', eventLoopLagMs: 300, retryAfterSeconds: 5 });
    expect(overloadLines[1]).toMatchObject({ refused: 5 });
    expect(g.state()).toMatchObject({ refusing: false, refused: 5 });
  });
});
