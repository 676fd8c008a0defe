/**
 * Options of one `voix` subcommand: `--name VALUE` or `--name=VALUE` for
 * valued options, `--flag` for switches, the rest positional. Anything the
 * command does not know is a user error that names it.
 */
import { UserError } from './output.js';

export type OptionKind = 'flag' | 'value';

export interface ParsedOptions {
  readonly positionals: readonly string[];
  readonly flags: ReadonlySet<string>;
  readonly values: ReadonlyMap<string, string>;
}

export function parseOptions(words: readonly string[], spec: Readonly<Record<string, OptionKind>>, usage: string): ParsedOptions {
  const positionals: string[] = [];
  const flags = new Set<string>();
  const values = new Map<string, string>();
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (!word.startsWith('--')) {
      positionals.push(word);
      continue;
    }
    const equals = word.indexOf('=');
    const name = equals === -1 ? word.slice(2) : word.slice(2, equals);
    const kind = spec[name];
    if (kind === undefined) throw new UserError(`unknown option --${name}\n${usage}`);
    if (kind === 'flag') {
      if (equals !== -1) throw new UserError(`--${name} takes no value\n${usage}`);
      flags.add(name);
      continue;
    }
    const value = equals === -1 ? words[++i] : word.slice(equals + 1);
    if (value === undefined || value === '') throw new UserError(`--${name} needs a value\n${usage}`);
    values.set(name, value);
  }
  return { positionals, flags, values };
}

/** For commands whose only option is `--json`: whether it was given. */
export function jsonOnly(words: readonly string[], usage: string): boolean {
  const parsed = parseOptions(words, { json: 'flag' }, usage);
  if (parsed.positionals.length > 0) throw new UserError(`unexpected argument: ${parsed.positionals[0]}\n${usage}`);
  return parsed.flags.has('json');
}
