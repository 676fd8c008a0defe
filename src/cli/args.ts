/** Command-line arguments shared by `dist/server.js` and the `voix` CLI. */
import { readFileSync } from 'node:fs';

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
