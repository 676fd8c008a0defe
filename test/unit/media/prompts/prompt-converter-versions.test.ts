import { chmod, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FfmpegPromptConverter } from '../../../../src/media/prompts/prompt-converter.js';

/** Fake ffmpeg and ffprobe scripts that log each run: how often the converter spawns them. */
describe('FfmpegPromptConverter.engineVersions', () => {
  let dir: string;
  let log: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'voix-engines-'));
    log = path.join(dir, 'runs.log');
    await writeFile(log, '');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function fakeTool(name: string, version: string): Promise<string> {
    const file = path.join(dir, name);
    const temporary = `${file}.new`;
    await writeFile(temporary, `#!/bin/sh\necho ${name} >> '${log}'\necho "${name} version ${version} Copyright"\n`);
    await chmod(temporary, 0o755);
    // Like dpkg: the new file replaces the old one by rename.
    await rename(temporary, file);
    return file;
  }

  async function runs(): Promise<string[]> {
    return (await readFile(log, 'utf8')).split('\n').filter((line) => line !== '');
  }

  it('asks each tool its version once, however many prompts and reloads', async () => {
    const converter = new FfmpegPromptConverter({ ffmpegCommand: await fakeTool('ffmpeg', '5.1.9'), ffprobeCommand: await fakeTool('ffprobe', '5.1.9') });
    const results = await Promise.all([converter.engineVersions('file'), converter.engineVersions('file'), converter.engineVersions('file')]);
    await converter.engineVersions('file');
    expect(results[0]).toEqual({ ok: true, versions: { pipeline: '1', ffmpeg: '5.1.9', ffprobe: '5.1.9' } });
    expect((await runs()).sort()).toEqual(['ffmpeg', 'ffprobe']);
  });

  it('asks again when an upgrade replaced the executable', async () => {
    const ffmpeg = await fakeTool('ffmpeg', '5.1.9');
    const converter = new FfmpegPromptConverter({ ffmpegCommand: ffmpeg, ffprobeCommand: await fakeTool('ffprobe', '5.1.9') });
    await converter.engineVersions('file');
    await fakeTool('ffmpeg', '5.1.10');
    expect(await converter.engineVersions('file')).toMatchObject({ ok: true, versions: { ffmpeg: '5.1.10', ffprobe: '5.1.9' } });
    expect((await runs()).filter((tool) => tool === 'ffmpeg')).toHaveLength(2);
  });

  it('finds a tool installed after it was reported missing', async () => {
    const converter = new FfmpegPromptConverter({ ffmpegCommand: path.join(dir, 'ffmpeg'), ffprobeCommand: await fakeTool('ffprobe', '5.1.9') });
    expect(await converter.engineVersions('file')).toMatchObject({ ok: false, error: { reason: 'tool-missing', debianPackage: 'ffmpeg' } });
    await fakeTool('ffmpeg', '5.1.9');
    expect(await converter.engineVersions('file')).toMatchObject({ ok: true });
  });
});
