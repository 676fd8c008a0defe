/** Command-line arguments shared by `dist/server.js` and the `voix` CLI. */
import { readFileSync } from 'node:fs';
import { formatConfigIssue, loadConfigFile } from '../config/load.js';
import { loadConfigWithPrompts } from '../config/load-with-prompts.js';
import type { ConfigIssue, VoixConfig } from '../config/types.js';
import type { PreparedPrompt } from '../media/prompts/prompt-store.js';

export const DEFAULT_CONFIG_PATH = '/etc/voix/voix.yaml';

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export const VERSION = readVersion();

export type CommonArgs =
  | { readonly kind: 'run'; readonly configPath: string; readonly rest: readonly string[] }
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'error'; readonly message: string };

/** Reads `--config FILE` (or `--config=FILE`), `--help`, `--version`; other words are returned in `rest`. */
export function parseCommonArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CommonArgs {
  let configPath = env['VOIX_CONFIG'] ?? DEFAULT_CONFIG_PATH;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (arg === '--version') return { kind: 'version' };
    if (arg === '--config' || arg === '-c') {
      const value = argv[i + 1];
      if (value === undefined) return { kind: 'error', message: `${arg} needs a file path` };
      configPath = value;
      i++;
    } else if (arg.startsWith('--config=')) {
      configPath = arg.slice('--config='.length);
    } else {
      rest.push(arg);
    }
  }
  return { kind: 'run', configPath, rest };
}

/**
 * Loads a configuration for a command-line entry point, writing each warning
 * and error to standard error as `file:line:column key: message`. Returns
 * the number of errors when the file has some (the caller exits with code 2).
 */
export async function loadConfigReporting(configPath: string): Promise<{ config: VoixConfig } | { errors: number }> {
  return reportLoaded(await loadConfigFile(configPath));
}

/** The configuration and its prompts (load-with-prompts.ts), problems printed: what `voix check` and the server check. */
export async function loadConfigAndPromptsReporting(configPath: string): Promise<{ config: VoixConfig; prompts: ReadonlyMap<string, PreparedPrompt> } | { errors: number }> {
  const loaded = await loadConfigWithPrompts(configPath);
  const reported = reportLoaded(loaded);
  if ('errors' in reported) return reported;
  return loaded.ok ? { config: loaded.config, prompts: loaded.prompts } : { errors: 0 };
}

function reportLoaded(loaded: { readonly ok: boolean; readonly warnings: readonly ConfigIssue[]; readonly errors?: readonly ConfigIssue[]; readonly config?: VoixConfig }): { config: VoixConfig } | { errors: number } {
  for (const w of loaded.warnings) process.stderr.write(`warning: ${formatConfigIssue(w)}\n`);
  if (loaded.ok && loaded.config !== undefined) return { config: loaded.config };
  const errors = loaded.errors ?? [];
  for (const e of errors) process.stderr.write(`error: ${formatConfigIssue(e)}\n`);
  return { errors: errors.length };
}
