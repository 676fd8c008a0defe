/**
 * `voix user list|add|passwd`: the accounts in the configuration file. Edits
 * keep the file as the operator wrote it (config/user-editor.ts), are checked
 * with the loader before anything is written, and replace the file
 * atomically with its mode and owner. A password is shown once, on standard
 * output, and never logged; the running server takes it at `voix reload`.
 */
import { readFile } from 'node:fs/promises';
import { formatConfigIssue } from '../config/load.js';
import { TRANSPORTS } from '../config/schema.js';
import type { ConfigIssue, Transport } from '../config/types.js';
import { DEFAULT_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH, MIN_GENERATED_PASSWORD_LENGTH, addUser, generatePassword, setUserPassword, type UserEdit } from '../config/user-editor.js';
import { readBindings } from '../store/sqlite-binding-store.js';
import { ConcurrentEditError, replaceFileAtomically } from '../util/atomic-file.js';
import { loadConfigReporting } from './args.js';
import { parseOptions, type ParsedOptions } from './options.js';
import { EXIT_OK, EXIT_USER, UserError, err, formatTable, openExistingDatabase, out, printJson } from './output.js';

export const USER_USAGE = `usage: voix user list [--json]
       voix user add EXT [--name NAME] [--transports tls,udp,tcp] [--password-length N | --password-stdin] [--json]
       voix user passwd EXT [--password-length N | --password-stdin] [--json]`;

async function readConfigText(configPath: string): Promise<string> {
  try {
    return await readFile(configPath, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read ${configPath}: ${(error as Error).message}`);
  }
}

/** The first line of standard input (a password piped in, or typed and ended with Enter). */
async function readFirstLineOfStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  process.stdin.destroy();
  return text.split('\n')[0]?.replace(/\r$/, '') ?? '';
}

async function choosePassword(parsed: ParsedOptions): Promise<{ password: string; generated: boolean }> {
  const lengthText = parsed.values.get('password-length');
  if (parsed.flags.has('password-stdin')) {
    if (lengthText !== undefined) throw new UserError(`--password-length and --password-stdin do not go together\n${USER_USAGE}`);
    const password = await readFirstLineOfStdin();
    if (password === '') throw new UserError('no password on standard input');
    return { password, generated: false };
  }
  const length = lengthText === undefined ? DEFAULT_PASSWORD_LENGTH : Number(lengthText);
  if (!Number.isInteger(length) || length < MIN_GENERATED_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH) {
    throw new UserError(`--password-length must be a whole number from ${MIN_GENERATED_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH}`);
  }
  return { password: generatePassword(length), generated: true };
}

function parseTransports(text: string | undefined): Transport[] | undefined {
  if (text === undefined) return undefined;
  const list = text.split(',').map((t) => t.trim().toLowerCase()).filter((t) => t !== '');
  const known: readonly string[] = TRANSPORTS;
  const unknown = list.find((t) => !known.includes(t));
  if (unknown !== undefined || list.length === 0) throw new UserError(`--transports takes a comma-separated list of ${TRANSPORTS.join(', ')}`);
  return list as Transport[];
}

function extensionArgument(parsed: ParsedOptions): string {
  const [extension, extra] = parsed.positionals;
  if (extension === undefined) throw new UserError(`missing extension\n${USER_USAGE}`);
  if (extra !== undefined) throw new UserError(`unexpected argument: ${extra}\n${USER_USAGE}`);
  if (!/^\d{2,10}$/.test(extension)) throw new UserError(`extension must be 2 to 10 digits, like 1005 (got "${extension}")`);
  return extension;
}

async function writeEdited(configPath: string, text: string, original: string): Promise<void> {
  try {
    await replaceFileAtomically(configPath, text, original);
  } catch (error) {
    if (error instanceof ConcurrentEditError) throw new UserError(error.message);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new UserError(`cannot write ${configPath} (or a file beside it): ${(error as Error).message}`);
    throw error;
  }
}

function reportRefusal(edit: Extract<UserEdit, { ok: false }>): number {
  for (const issue of edit.issues) err(`error: ${formatConfigIssue(issue)}`);
  err(`voix user: ${edit.reason}`);
  return EXIT_USER;
}

function reportWarnings(warnings: readonly ConfigIssue[]): void {
  for (const warning of warnings) err(`warning: ${formatConfigIssue(warning)}`);
}

async function list(configPath: string, words: readonly string[]): Promise<number> {
  const parsed = parseOptions(words, { json: 'flag' }, USER_USAGE);
  if (parsed.positionals.length > 0) throw new UserError(`unexpected argument: ${parsed.positionals[0]}\n${USER_USAGE}`);
  const loaded = await loadConfigReporting(configPath);
  if ('errors' in loaded) throw new UserError(`${loaded.errors} error(s) in ${configPath}`);
  const { config } = loaded;
  // Registrations are a bonus here: the list stands without a database.
  const db = openExistingDatabase(config, { quiet: true });
  const registered = new Map<string, number>();
  if (db !== null) {
    try {
      for (const b of readBindings(db, Date.now())) registered.set(b.aor, (registered.get(b.aor) ?? 0) + 1);
    } finally {
      db.close();
    }
  }
  const users = config.users.map((u) => ({
    extension: u.extension,
    name: u.displayName,
    transports: u.transports,
    srtp: u.srtp,
    maxContacts: u.maxContacts,
    registered: db === null ? null : (registered.get(u.extension) ?? 0),
  }));
  if (parsed.flags.has('json')) {
    printJson(users);
    return EXIT_OK;
  }
  const rows = [['EXTENSION', 'NAME', 'TRANSPORTS', 'SRTP', 'REGISTERED', 'MAX CONTACTS']];
  for (const u of users) {
    rows.push([u.extension, u.name ?? '-', u.transports.join(','), u.srtp, u.registered === null ? '-' : String(u.registered), String(u.maxContacts)]);
  }
  for (const line of formatTable(rows)) out(line);
  out(`${users.length} user(s)`);
  return EXIT_OK;
}

function printPassword(extension: string, password: string): void {
  out(`password for ${extension}: ${password}`);
  out('(shown once: set it in the phone now)');
}

async function add(configPath: string, words: readonly string[]): Promise<number> {
  const parsed = parseOptions(
    words,
    { name: 'value', transports: 'value', 'password-length': 'value', 'password-stdin': 'flag', json: 'flag' },
    USER_USAGE,
  );
  const extension = extensionArgument(parsed);
  const transports = parseTransports(parsed.values.get('transports'));
  const name = parsed.values.get('name');
  const { password, generated } = await choosePassword(parsed);
  const text = await readConfigText(configPath);
  const edit = addUser(text, configPath, { extension, password, ...(name !== undefined ? { name } : {}), ...(transports !== undefined ? { transports } : {}) });
  if (!edit.ok) return reportRefusal(edit);
  await writeEdited(configPath, edit.text, text);
  reportWarnings(edit.warnings);
  if (parsed.flags.has('json')) {
    printJson({ extension, ...(generated ? { password } : {}), file: configPath, line: edit.line });
    return EXIT_OK;
  }
  out(`added user ${extension} to ${configPath} (line ${edit.line})`);
  if (generated) printPassword(extension, password);
  out('run "voix reload" to let the running server know');
  return EXIT_OK;
}

async function passwd(configPath: string, words: readonly string[]): Promise<number> {
  const parsed = parseOptions(words, { 'password-length': 'value', 'password-stdin': 'flag', json: 'flag' }, USER_USAGE);
  const extension = extensionArgument(parsed);
  const { password, generated } = await choosePassword(parsed);
  const text = await readConfigText(configPath);
  const edit = setUserPassword(text, configPath, extension, password);
  if (!edit.ok) return reportRefusal(edit);
  await writeEdited(configPath, edit.text, text);
  reportWarnings(edit.warnings);
  if (parsed.flags.has('json')) {
    printJson({ extension, ...(generated ? { password } : {}), storedAs: edit.storedAs, file: configPath, line: edit.line });
    return EXIT_OK;
  }
  out(`new password for ${extension} in ${configPath} (line ${edit.line}${edit.storedAs === 'ha1' ? ', stored as ha1 digests' : ''})`);
  if (generated) printPassword(extension, password);
  out('run "voix reload" to let the running server know');
  return EXIT_OK;
}

export function user(configPath: string, words: readonly string[]): Promise<number> {
  const [action, ...rest] = words;
  switch (action) {
    case 'list':
      return list(configPath, rest);
    case 'add':
      return add(configPath, rest);
    case 'passwd':
      return passwd(configPath, rest);
    default:
      throw new UserError(action === undefined ? USER_USAGE : `unknown user command: ${action}\n${USER_USAGE}`);
  }
}
