import { describe, expect, it } from 'vitest';
import { locateMediaWorker } from '../../../src/rtp/media-worker-launch.js';

describe('locateMediaWorker', () => {
  it('from the sources, loads media-worker.ts through a tsx bootstrap', () => {
    const launch = locateMediaWorker();
    expect(launch.entry).toMatch(/src\/rtp\/media-worker\.ts$/);
    expect(launch.eval).toBe(true);
    expect(launch.bootstrap?.tsxApi).toMatch(/^file:.*tsx/);
    expect(launch.bootstrap?.entry).toMatch(/^file:.*media-worker\.ts$/);
  });

  it('runs a given .js script as it is (what dist/ does with the file next to the engine)', () => {
    const launch = locateMediaWorker('/opt/voix/dist/rtp/media-worker.js');
    expect(launch).toMatchObject({ eval: false, bootstrap: null, entry: '/opt/voix/dist/rtp/media-worker.js' });
    expect(String(launch.script)).toBe('file:///opt/voix/dist/rtp/media-worker.js');
  });
});
