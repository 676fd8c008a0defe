import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findExecutable, probeTool } from '../../../../src/media/prompts/external-tools.js';

describe('external tools', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'voix-tools-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function script(name: string, body: string, mode = 0o755): Promise<string> {
    const file = path.join(dir, name);
    await writeFile(file, `#!/bin/sh\n${body}\n`);
    await chmod(file, mode);
    return file;
  }

  it('finds a command in the search path, and only executable files', async () => {
    await script('ffmpeg', 'exit 0');
    await script('espeak-ng', 'exit 0', 0o644);
    expect(await findExecutable('ffmpeg', `/nonexistent${path.delimiter}${dir}`)).toBe(path.join(dir, 'ffmpeg'));
    expect(await findExecutable('espeak-ng', dir)).toBeNull();
  });

  it('reads the version each tool prints', async () => {
    const ffmpeg = await script('ffmpeg', 'echo "ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers"');
    const espeak = await script('espeak-ng', 'printf "eSpeak NG text-to-speech: 1.51  Data at: /usr/lib"');
    expect(await probeTool('ffmpeg', ffmpeg)).toEqual({ ok: true, info: { tool: 'ffmpeg', path: ffmpeg, version: '5.1.9-0+deb12u1' } });
    expect(await probeTool('espeak-ng', espeak)).toMatchObject({ ok: true, info: { version: '1.51' } });
  });

  it('names the Debian package when a tool is missing', async () => {
    const result = await probeTool('ffprobe', path.join(dir, 'ffprobe'));
    expect(result).toMatchObject({ ok: false, error: { reason: 'tool-missing', tool: 'ffprobe', debianPackage: 'ffmpeg' } });
    expect(!result.ok && result.error.message).toBe(`ffprobe was not found at ${path.join(dir, 'ffprobe')}: install the Debian package ffmpeg (apt-get install ffmpeg)`);
  });

  it('treats a tool that does not run as missing, with its error', async () => {
    const broken = await script('espeak-ng', 'echo "error while loading shared libraries: libespeak-ng.so.1" >&2; exit 127');
    const result = await probeTool('espeak-ng', broken);
    expect(result).toMatchObject({ ok: false, error: { reason: 'tool-missing', debianPackage: 'espeak-ng' } });
    expect(!result.ok && result.error.message).toContain('libespeak-ng.so.1');
  });
});
