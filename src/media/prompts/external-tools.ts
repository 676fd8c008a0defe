/**
 * Finding ffmpeg, ffprobe and espeak-ng on the machine and reading their
 * versions. The versions go into every cache key, so upgrading either
 * package re-renders the prompts instead of serving audio from the old one.
 * A tool that is absent is an error naming the Debian package to install.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ExternalTool, PromptError } from './prompt-error.js';
import { lastLine, toolMissing } from './prompt-error.js';

export interface ToolInfo {
  readonly tool: ExternalTool;
  /** Absolute path of the executable. */
  readonly path: string;
  /** As the tool prints it, e.g. `5.1.9-0+deb12u1` or `1.51`. */
  readonly version: string;
}

export type ToolProbe = { readonly ok: true; readonly info: ToolInfo } | { readonly ok: false; readonly error: PromptError };

const VERSION_ARGUMENT: Readonly<Record<ExternalTool, string>> = {
  ffmpeg: '-version',
  ffprobe: '-version',
  'espeak-ng': '--version',
};

const VERSION_PATTERN: Readonly<Record<ExternalTool, RegExp>> = {
  ffmpeg: /^ffmpeg version (\S+)/m,
  ffprobe: /^ffprobe version (\S+)/m,
  'espeak-ng': /text-to-speech:\s*(\S+)/,
};

async function isExecutableFile(candidate: string): Promise<boolean> {
  try {
    const info = await stat(candidate);
    if (!info.isFile()) return false;
    await access(candidate, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `command` itself when it holds a slash, else the first match in PATH; null when none. */
export async function findExecutable(command: string, searchPath = process.env.PATH ?? ''): Promise<string | null> {
  if (command.includes('/')) return (await isExecutableFile(command)) ? path.resolve(command) : null;
  for (const dir of searchPath.split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, command);
    if (await isExecutableFile(candidate)) return path.resolve(candidate);
  }
  return null;
}

function runVersion(executable: string, argument: string): Promise<{ stdout: string; stderr: string } | { failure: string }> {
  return new Promise((resolve) => {
    execFile(executable, [argument], { timeout: 10_000, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) resolve({ failure: lastLine(String(stderr)) || error.message });
      else resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/**
 * Where `command` resolves now, with what identifies that file (inode, size,
 * mtime): a package upgrade replaces the file, so a changed identity means the
 * version must be asked again. null when it is not found.
 */
export async function locateExecutable(command: string): Promise<{ readonly path: string; readonly identity: string } | null> {
  const executable = await findExecutable(command);
  if (executable === null) return null;
  try {
    const info = await stat(executable);
    return { path: executable, identity: `${executable}:${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}` };
  } catch {
    return null;
  }
}

/** Finds `tool` (as `command`, a name or a path) and asks it its version. */
export async function probeTool(tool: ExternalTool, command: string = tool): Promise<ToolProbe> {
  const executable = await findExecutable(command);
  if (executable === null) return { ok: false, error: toolMissing(tool, command) };
  const run = await runVersion(executable, VERSION_ARGUMENT[tool]);
  if ('failure' in run) return { ok: false, error: toolMissing(tool, executable, run.failure) };
  const output = `${run.stdout}\n${run.stderr}`;
  const version = VERSION_PATTERN[tool].exec(output)?.[1] ?? lastLine(run.stdout.split('\n')[0] ?? '');
  return { ok: true, info: { tool, path: executable, version } };
}
