import { describe, expect, it } from 'vitest';
import { BanList, BanListConfigError, parseCidr, type BanListOptions, type UnbanReason } from '../../../src/security/ban-list.js';
import { FakeClock } from '../../../src/util/clock.js';

const SOURCE = '203.0.113.7';

function setup(settings: Partial<BanListOptions> = {}): { clock: FakeClock; list: BanList; unbans: Array<[string, UnbanReason, number]> } {
  const clock = new FakeClock();
  const unbans: Array<[string, UnbanReason, number]> = [];
  const list = new BanList({ clock, onUnban: (source, reason) => unbans.push([source, reason, clock.now()]), ...settings });
  return { clock, list, unbans };
}

function fail(list: BanList, source: string, times: number): Array<{ banned: boolean; newlyBanned: boolean }> {
  return Array.from({ length: times }, () => list.recordFailure(source));
}

describe('BanList', () => {
  it('bans a source at the fifth failure within the window', () => {
    const { clock, list } = setup();
    const results = [];
    for (let i = 0; i < 5; i++) {
      results.push(list.recordFailure(SOURCE));
      clock.advance(10_000);
    }

    expect(results.slice(0, 4).every((r) => !r.banned)).toBe(true);
    expect(results[4]).toEqual({ banned: true, newlyBanned: true });
    expect(list.isBanned(SOURCE)).toBe(true);
  });

  it('takes new thresholds on a configuration reload, keeping the failures counted and the bans in force', () => {
    const { clock, list } = setup({ maxFailures: 5, banSeconds: 900 });
    list.recordFailure('198.51.100.1');
    fail(list, SOURCE, 5);

    list.reconfigure({ maxFailures: 2, banSeconds: 60 });
    const second = list.recordFailure('198.51.100.1');
    clock.advance(60_000);

    expect(second).toEqual({ banned: true, newlyBanned: true });
    expect(list.isBanned('198.51.100.1')).toBe(false);
    expect(list.isBanned(SOURCE)).toBe(true);
  });

  it('does not ban when the failures are spread beyond the window', () => {
    const { clock, list } = setup();

    const results = [];
    for (let i = 0; i < 20; i++) {
      results.push(list.recordFailure(SOURCE));
      clock.advance(15_000);
    }

    expect(results.some((r) => r.banned)).toBe(false);
    expect(list.isBanned(SOURCE)).toBe(false);
    expect(list.failureCount(SOURCE)).toBe(3);
  });

  it('counts a failure that slid out of the window no more', () => {
    const { clock, list } = setup({ maxFailures: 3, windowSeconds: 60 });
    list.recordFailure(SOURCE);
    clock.advance(59_999);
    list.recordFailure(SOURCE);
    clock.advance(1);

    const third = list.recordFailure(SOURCE);

    expect(third.banned).toBe(false);
    expect(list.failureCount(SOURCE)).toBe(2);
  });

  it('reports a banned source as banned but not newly so', () => {
    const { list } = setup();
    fail(list, SOURCE, 5);

    expect(list.recordFailure(SOURCE)).toEqual({ banned: true, newlyBanned: false });
  });

  it('keeps sources apart', () => {
    const { list } = setup();
    fail(list, SOURCE, 4);

    fail(list, '198.51.100.1', 4);

    expect(list.isBanned(SOURCE)).toBe(false);
    expect(list.isBanned('198.51.100.1')).toBe(false);
  });

  it('reports the unban on time when the ban expires', () => {
    const { clock, list, unbans } = setup({ banSeconds: 900 });
    fail(list, SOURCE, 5);
    const bannedAt = clock.now();

    clock.advance(899_999);
    const before = list.isBanned(SOURCE);
    clock.advance(1);

    expect(before).toBe(true);
    expect(list.isBanned(SOURCE)).toBe(false);
    expect(unbans).toEqual([[SOURCE, 'expired', bannedAt + 900_000]]);
  });

  it('lists bans with their expiry, soonest first', () => {
    const { clock, list } = setup();
    fail(list, SOURCE, 5);
    clock.advance(5_000);
    fail(list, '2001:db8::1', 5);

    expect(list.bans()).toEqual([
      { source: SOURCE, expiresAt: clock.now() - 5_000 + 900_000 },
      { source: '2001:db8::1', expiresAt: clock.now() + 900_000 },
    ]);
  });

  it('lifts a ban by hand, cancels its timer and starts counting afresh', () => {
    const { clock, list, unbans } = setup();
    fail(list, SOURCE, 5);

    const lifted = list.unban(SOURCE);
    const again = list.unban(SOURCE);
    const afterOne = list.recordFailure(SOURCE);

    expect([lifted, again]).toEqual([true, false]);
    expect(afterOne.banned).toBe(false);
    expect(clock.pendingCount).toBe(0);
    expect(unbans).toEqual([[SOURCE, 'manual', clock.now()]]);
  });

  it('forgets the failures after a success by default', () => {
    const { list } = setup();
    fail(list, SOURCE, 4);

    list.recordSuccess(SOURCE);
    const next = list.recordFailure(SOURCE);

    expect(next.banned).toBe(false);
    expect(list.failureCount(SOURCE)).toBe(1);
  });

  it('keeps the failures after a success when told to', () => {
    const { list } = setup({ successClearsFailures: false });
    fail(list, SOURCE, 4);

    list.recordSuccess(SOURCE);

    expect(list.recordFailure(SOURCE).newlyBanned).toBe(true);
  });

  it('caps the sources tracked, forgetting the least recently failed', () => {
    const { list } = setup({ maxTrackedSources: 2 });
    fail(list, 'a', 4);
    fail(list, 'b', 1);

    fail(list, 'c', 1);

    expect(list.failureCount('a')).toBe(0);
    expect(list.failureCount('b')).toBe(1);
    expect(list.failureCount('c')).toBe(1);
  });

  it('caps the bans held, reporting the evicted one', () => {
    const { clock, list, unbans } = setup({ maxTrackedSources: 2, maxFailures: 1 });

    for (const s of ['a', 'b', 'c']) list.recordFailure(s);

    expect(list.bans().map((b) => b.source)).toEqual(['b', 'c']);
    expect(unbans).toEqual([['a', 'evicted', clock.now()]]);
    expect(clock.pendingCount).toBe(2);
  });

  it('never bans an exempt network, IPv4 or IPv6', () => {
    const { list } = setup({ exempt: ['192.168.0.0/16', '2001:db8:1::/48', '10.1.2.3'] });

    const results = [
      ...fail(list, '192.168.44.5', 10),
      ...fail(list, '::ffff:192.168.1.1', 10),
      ...fail(list, '[2001:db8:1::99]', 10),
      ...fail(list, '10.1.2.3', 10),
    ];

    expect(results.some((r) => r.banned)).toBe(false);
    expect(fail(list, '2001:db8:2::1', 5)[4]?.newlyBanned).toBe(true);
    expect(fail(list, '10.1.2.4', 5)[4]?.newlyBanned).toBe(true);
  });

  it('refuses an exemption that is not a network, naming the entry', () => {
    expect(() => setup({ exempt: ['10.0.0.0/8', '10.0.0.0/33'] })).toThrow(BanListConfigError);
    expect(() => setup({ exempt: ['nowhere'] })).toThrow(/exempt\[0\]/);
  });

  it('cancels every timer on dispose without reporting unbans', () => {
    const { clock, list, unbans } = setup();
    fail(list, SOURCE, 5);

    list.dispose();
    clock.advance(1_000_000);

    expect(clock.pendingCount).toBe(0);
    expect(unbans).toEqual([]);
  });
});

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', { address: '10.0.0.0', prefix: 8, family: 'ipv4' }],
    ['2001:db8::/32', { address: '2001:db8::', prefix: 32, family: 'ipv6' }],
    ['::1', { address: '::1', prefix: 128, family: 'ipv6' }],
  ])('reads %s', (text, expected) => {
    expect(parseCidr(text)).toEqual(expected);
  });

  it.each(['10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/33', '2001:db8::/129', 'example.com/24', '10.0.0/8'])('refuses %s', (text) => {
    expect(parseCidr(text)).toBeNull();
  });

  it('reports each new ban with its expiry, and not a restored one', () => {
    const bans: Array<{ source: string; expiresAt: number }> = [];
    const { clock, list } = setup({ banSeconds: 900, onBan: (ban) => bans.push(ban) });
    const t0 = clock.now();
    clock.advance(1000);
    fail(list, SOURCE, 5);
    list.restore('198.51.100.9', clock.now() + 60_000);

    expect(bans).toEqual([{ source: SOURCE, expiresAt: t0 + 1000 + 900_000 }]);
    expect(list.isBanned('198.51.100.9')).toBe(true);
  });

  it('restores a ban from before a restart until its own expiry, and lifts it then as expired', () => {
    const { clock, list, unbans } = setup({ banSeconds: 900 });
    const t0 = clock.now();
    const restored = list.restore(SOURCE, t0 + 30_000);
    clock.advance(29_999);
    const stillBanned = list.isBanned(SOURCE);
    clock.advance(1);

    expect(restored).toBe(true);
    expect(stillBanned).toBe(true);
    expect(list.isBanned(SOURCE)).toBe(false);
    expect(unbans).toEqual([[SOURCE, 'expired', t0 + 30_000]]);
  });

  it('does not restore an expired ban, a source exempt by now, or one already banned', () => {
    const { clock, list } = setup({ exempt: ['10.0.0.0/8'] });
    fail(list, SOURCE, 5);
    const expiresAt = list.bans()[0]?.expiresAt;

    expect(list.restore('198.51.100.1', clock.now())).toBe(false);
    expect(list.restore('10.1.2.3', clock.now() + 60_000)).toBe(false);
    expect(list.restore(SOURCE, clock.now() + 1)).toBe(false);
    expect(list.bans()).toEqual([{ source: SOURCE, expiresAt }]);
  });
});
