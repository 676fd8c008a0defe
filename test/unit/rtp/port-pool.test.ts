import { describe, expect, it } from 'vitest';
import { MediaUnavailableError } from '../../../src/rtp/media-protocol.js';
import { evenPortsIn, PortPool, splitPortRange } from '../../../src/rtp/port-pool.js';

describe('evenPortsIn', () => {
  it('keeps even ports whose odd neighbour is in the range too (RFC 3550 §11)', () => {
    expect(evenPortsIn({ portMin: 10001, portMax: 10010 })).toEqual([10002, 10004, 10006, 10008]);
    expect(evenPortsIn({ portMin: 10000, portMax: 10000 })).toEqual([]);
  });
});

describe('splitPortRange', () => {
  it('gives each worker a contiguous share of whole pairs, sizes differing by at most one', () => {
    const shares = splitPortRange({ portMin: 20000, portMax: 20019 }, 3);
    expect(shares).toEqual([
      { portMin: 20000, portMax: 20007 },
      { portMin: 20008, portMax: 20013 },
      { portMin: 20014, portMax: 20019 },
    ]);
  });

  it('makes fewer shares than asked when a share would hold fewer than two pairs', () => {
    expect(splitPortRange({ portMin: 20000, portMax: 20007 }, 4)).toHaveLength(2);
    expect(splitPortRange({ portMin: 20000, portMax: 20002 }, 2)).toEqual([]);
  });
});

describe('PortPool', () => {
  it('hands out even ports, oldest released first', () => {
    const pool = new PortPool({ portMin: 30000, portMax: 30007 });
    expect(pool.capacity).toBe(4);
    const first = pool.acquire();
    const second = pool.acquire();
    expect([first, second]).toEqual([30000, 30002]);
    pool.release(first);
    // A port just given back is reused last, so late packets of the old call do not reach a new one.
    expect(pool.acquire()).toBe(30004);
    expect(pool.acquire()).toBe(30006);
    expect(pool.acquire()).toBe(30000);
    expect(pool.available).toBe(0);
    expect(pool.used).toBe(4);
  });

  it('throws MediaUnavailableError naming the range when exhausted, and recovers after a release', () => {
    const pool = new PortPool({ portMin: 30000, portMax: 30003 });
    const ports = [pool.acquire(), pool.acquire()];
    expect(() => pool.acquire()).toThrow(MediaUnavailableError);
    expect(() => pool.acquire()).toThrow(/30000-30003.*2 pairs in use/);
    pool.release(ports[1] ?? 0);
    expect(pool.acquire()).toBe(30002);
  });

  it('refuses to release a port that is not in use', () => {
    const pool = new PortPool({ portMin: 30000, portMax: 30003 });
    expect(() => pool.release(30000)).toThrow(/not in use/);
    const port = pool.acquire();
    pool.release(port);
    expect(() => pool.release(port)).toThrow(/not in use/);
  });

  it('cycles through many allocations without growing', () => {
    const pool = new PortPool({ portMin: 30000, portMax: 30099 });
    for (let i = 0; i < 10_000; i++) pool.release(pool.acquire());
    expect(pool.available).toBe(50);
    expect(pool.used).toBe(0);
  });
});
