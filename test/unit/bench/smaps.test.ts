import { describe, expect, it } from 'vitest';
import { anonymousByKind, kindOf, parseSmaps } from '../../../bench/smaps.js';

const SMAPS = [
  '01136d000-0119ad000 rw-p 00000000 00:00 0                                  [heap]',
  'Rss:                6300 kB',
  'Anonymous:          6240 kB',
  '7f8644000000-7f8644315000 rw-p 00000000 00:00 0 ',
  'Anonymous:          2980 kB',
  '7f8644315000-7f8648000000 ---p 00000000 00:00 0 ',
  'Anonymous:             0 kB',
  '1e42d80000-1e42dc0000 rw-p 00000000 00:00 0 ',
  'Anonymous:           256 kB',
  '7f8650000000-7f8658000000 rw-p 00000000 00:00 0 ',
  'Anonymous:           100 kB',
  '55d0a0000000-55d0a0100000 r--p 00000000 08:01 1234                       /usr/bin/node',
  'Anonymous:             0 kB',
  '55d0a2000000-55d0a2010000 rw-p 02000000 08:01 1234                       /usr/bin/node',
  'Anonymous:            40 kB',
  '7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]',
  'Anonymous:            68 kB',
].join('\n');

describe('smaps by kind of mapping', () => {
  it('reads each mapping with its anonymous pages', () => {
    const mappings = parseSmaps(SMAPS);

    expect(mappings.map((m) => [m.name, m.anonymousKiB])).toEqual([
      ['[heap]', 6240],
      ['', 2980],
      ['', 0],
      ['', 256],
      ['', 100],
      ['/usr/bin/node', 0],
      ['/usr/bin/node', 40],
      ['[stack]', 68],
    ]);
  });

  it('tells malloc arenas (brk, 64 MiB-aligned heaps) from other anonymous mappings and file mappings', () => {
    const mappings = parseSmaps(SMAPS);

    expect(mappings.map(kindOf)).toEqual(['main malloc arena', 'other malloc arenas', 'other anonymous', 'other anonymous', 'other anonymous', 'file mappings', 'file mappings', 'other anonymous']);
    // 7f8650000000 is 64 MiB-aligned but 128 MiB long: not one of glibc's heaps.
    expect(anonymousByKind(mappings)).toEqual({ 'main malloc arena': 6240, 'other malloc arenas': 2980, 'other anonymous': 256 + 100 + 68, 'file mappings': 40 });
  });
});
