/**
 * Edits the users of a configuration text for `voix user add|passwd`, the
 * way an operator would by hand: the yaml Document API finds the nodes, and
 * only their bytes are replaced or inserted, so every comment, blank line and
 * alignment elsewhere stays as it was (re-serialising the document would
 * reflow it). Every edit is checked by loading the result with the real
 * loader; an edit that would not load is refused with the loader's issues.
 * Pure: text in, text out.
 */
import { createHash, randomInt } from 'node:crypto';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, stringify, type Document, type Pair, type YAMLMap, type YAMLSeq } from 'yaml';
import { parseConfig } from './load.js';
import { MIN_PASSWORD_LENGTH } from './schema.js';
import type { ConfigIssue, Transport, VoixConfig } from './types.js';

/** Letters and digits that no font confuses: no 0/O/o, 1/l/I/i. No symbols, so a phone keypad can type it. */
export const PASSWORD_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789';
export const DEFAULT_PASSWORD_LENGTH = 20;
export const MIN_GENERATED_PASSWORD_LENGTH = 16;
export const MAX_PASSWORD_LENGTH = 128;

/**
 * A random password over PASSWORD_ALPHABET (log2(55) ≈ 5.8 bits a
 * character: 115 bits at the default length), with at least one upper-case
 * letter, one lower-case letter and one digit, for provisioning tools that
 * insist. `pick` is crypto.randomInt unless a test injects one.
 */
export function generatePassword(length = DEFAULT_PASSWORD_LENGTH, pick: (max: number) => number = randomInt): string {
  if (!Number.isInteger(length) || length < MIN_GENERATED_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH) {
    throw new RangeError(`password length must be ${MIN_GENERATED_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH}`);
  }
  for (;;) {
    let password = '';
    for (let i = 0; i < length; i++) password += PASSWORD_ALPHABET[pick(PASSWORD_ALPHABET.length)];
    if (/[A-Z]/.test(password) && /[a-z]/.test(password) && /[0-9]/.test(password)) return password;
  }
}

export interface NewUser {
  readonly extension: string;
  readonly name?: string;
  /** Omitted: the schema's default (TLS only). */
  readonly transports?: readonly Transport[];
  readonly password: string;
}

export type UserEdit =
  | {
      readonly ok: true;
      readonly text: string;
      /** The configuration the new text loads to. */
      readonly config: VoixConfig;
      /** The loader's warnings on the new text. */
      readonly warnings: readonly ConfigIssue[];
      /** 1-based line of the user's entry in the new text. */
      readonly line: number;
    }
  | {
      readonly ok: false;
      /** One sentence for the operator. */
      readonly reason: string;
      /** The loader's issues, when the text does not load. */
      readonly issues: readonly ConfigIssue[];
    };

export type PasswordEdit =
  | (Extract<UserEdit, { ok: true }> & { /** `password`, or `ha1` when the user keeps digest hashes only. */ readonly storedAs: 'password' | 'ha1' })
  | Extract<UserEdit, { ok: false }>;

function refused(reason: string, issues: readonly ConfigIssue[] = []): { ok: false; reason: string; issues: readonly ConfigIssue[] } {
  return { ok: false, reason, issues };
}

/** A YAML scalar for `value` on one line, quoted when it has to be (`yes`, `: `, leading `#`). */
function inlineScalar(value: string): string {
  return stringify(value, { lineWidth: 0 }).trimEnd();
}

/** Always a double-quoted string: digits-only or hex values must stay strings (the schema wants them so). */
function quoted(value: string): string {
  return JSON.stringify(value);
}

interface ParsedText {
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
  readonly root: YAMLMap;
}

function parseForEdit(text: string, fileName: string): ParsedText | { ok: false; reason: string; issues: readonly ConfigIssue[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  if (doc.errors.length > 0 || !isMap(doc.contents)) {
    const loaded = parseConfig(text, fileName);
    return refused(`${fileName} is not a YAML mapping that voix can edit: fix it first`, loaded.ok ? [] : loaded.errors);
  }
  return { doc, lines, root: doc.contents };
}

function keyText(pair: Pair): string | null {
  return isScalar(pair.key) && (typeof pair.key.value === 'string' || typeof pair.key.value === 'number') ? String(pair.key.value) : null;
}

function findPair(map: YAMLMap, key: string): Pair | undefined {
  // The last one wins, as in the loader's reading of duplicate keys.
  return [...map.items].reverse().find((pair) => keyText(pair) === key);
}

function scalarText(node: unknown): string | null {
  return isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number') ? String(node.value) : null;
}

function findUser(users: YAMLSeq, extension: string): YAMLMap | undefined {
  return users.items.find((item): item is YAMLMap => isMap(item) && scalarText(findPair(item, 'extension')?.value) === extension);
}

function rangeOf(node: unknown): readonly [number, number, number] | null {
  if (node === null || typeof node !== 'object' || !('range' in node)) return null;
  const range = (node as { range?: unknown }).range;
  return Array.isArray(range) && range.length === 3 ? (range as [number, number, number]) : null;
}

/** Offset just after the line holding `offset - 1` (after its newline), or the end of the text. */
function afterLine(text: string, offset: number): number {
  if (offset > 0 && text[offset - 1] === '\n') return offset;
  const newline = text.indexOf('\n', offset);
  return newline === -1 ? text.length : newline + 1;
}

function insertLines(text: string, offset: number, block: string): string {
  const before = text.slice(0, offset);
  const separator = before === '' || before.endsWith('\n') ? '' : '\n';
  return `${before}${separator}${block}${text.slice(offset)}`;
}

/** The new user's entry as block lines: `- ` at column `itemIndent`, keys at `keyIndent` (0-based). */
function blockEntry(user: NewUser, itemIndent: number, keyIndent: number): string {
  const fields = userFields(user);
  const dash = `${' '.repeat(itemIndent)}-${' '.repeat(Math.max(1, keyIndent - itemIndent - 1))}`;
  return fields.map(([key, value], i) => `${i === 0 ? dash : ' '.repeat(keyIndent)}${key}: ${value}\n`).join('');
}

function flowEntry(user: NewUser): string {
  return `{ ${userFields(user).map(([key, value]) => `${key}: ${value}`).join(', ')} }`;
}

function userFields(user: NewUser): Array<readonly [string, string]> {
  const fields: Array<readonly [string, string]> = [['extension', quoted(user.extension)]];
  if (user.name !== undefined) fields.push(['name', inlineScalar(user.name)]);
  fields.push(['password', quoted(user.password)]);
  if (user.transports !== undefined) fields.push(['transports', `[${user.transports.join(', ')}]`]);
  return fields;
}

/** Loads the edited text; refuses when it does not load, naming whose fault it is. */
function checkEdited(
  original: string,
  edited: string,
  fileName: string,
): { ok: true; config: VoixConfig; warnings: readonly ConfigIssue[] } | { ok: false; reason: string; issues: readonly ConfigIssue[] } {
  const after = parseConfig(edited, fileName);
  if (after.ok) return { ok: true, config: after.config, warnings: after.warnings };
  const before = parseConfig(original, fileName);
  return before.ok
    ? refused('the change would make the configuration invalid; nothing was written', after.errors)
    : refused(`${fileName} has errors already: fix them first; nothing was written`, before.errors);
}

function lineOf(text: string, extension: string, fileName: string): number {
  const parsed = parseForEdit(text, fileName);
  if (!('root' in parsed)) return 0;
  const users = findPair(parsed.root, 'users')?.value;
  const entry = isSeq(users) ? findUser(users, extension) : undefined;
  const range = rangeOf(entry);
  return range === null ? 0 : parsed.lines.linePos(range[0]).line;
}

/** Appends `user` to the `users:` list (creating the list when there is none); refuses an extension already there. */
export function addUser(text: string, fileName: string, user: NewUser): UserEdit {
  if (user.name !== undefined && /[\u0000-\u001f\u007f]/.test(user.name)) return refused('the name must not hold control characters (tab, new line…)');
  const parsed = parseForEdit(text, fileName);
  if (!('root' in parsed)) return parsed;
  const { root, lines } = parsed;
  const usersPair = findPair(root, 'users');
  const users = usersPair?.value;

  let edited: string;
  if (usersPair === undefined) {
    edited = insertLines(text, text.length, `users:\n${blockEntry(user, 2, 4)}`);
  } else if (isSeq(users) && users.items.length > 0) {
    const existing = findUser(users, user.extension);
    if (existing !== undefined) {
      const line = lines.linePos(rangeOf(existing)?.[0] ?? 0).line;
      return refused(`extension ${user.extension} already exists (line ${line}); use "voix user passwd ${user.extension}" to change its password`);
    }
    const seqRange = rangeOf(users);
    const last = users.items[users.items.length - 1];
    const lastRange = rangeOf(last);
    if (seqRange === null || lastRange === null) return refused('cannot locate the users list in the file');
    if (users.flow === true) {
      // `users: [ {…}, {…} ]`: the new entry goes right after the last one.
      edited = `${text.slice(0, lastRange[1])}, ${flowEntry(user)}${text.slice(lastRange[1])}`;
    } else {
      const itemIndent = lines.linePos(seqRange[0]).col - 1;
      const firstKey = isMap(last) ? rangeOf(last.items[0]?.key) : null;
      const keyIndent = firstKey === null ? itemIndent + 2 : lines.linePos(firstKey[0]).col - 1;
      edited = insertLines(text, afterLine(text, lastRange[1]), blockEntry(user, itemIndent, keyIndent));
    }
  } else if (users === null || users === undefined || (isScalar(users) && users.value === null) || (isSeq(users) && users.items.length === 0)) {
    // `users:` or `users: []`: becomes a block list under the key.
    const keyRange = rangeOf(usersPair.key);
    if (keyRange === null) return refused('cannot locate the users key in the file');
    const keyIndent = lines.linePos(keyRange[0]).col - 1;
    let base = text;
    const emptyFlow = isSeq(users) ? rangeOf(users) : null;
    if (emptyFlow !== null) base = text.slice(0, emptyFlow[0]) + text.slice(emptyFlow[1]);
    edited = insertLines(base, afterLine(base, keyRange[1]), blockEntry(user, keyIndent + 2, keyIndent + 4));
  } else {
    return refused('users is not a list in this file: fix it first', parseConfigErrors(text, fileName));
  }

  const checked = checkEdited(text, edited, fileName);
  if (!checked.ok) return checked;
  if (!checked.config.users.some((u) => u.extension === user.extension)) return refused('the edited file does not hold the new user; nothing was written');
  return { ok: true, text: edited, config: checked.config, warnings: checked.warnings, line: lineOf(edited, user.extension, fileName) };
}

function parseConfigErrors(text: string, fileName: string): readonly ConfigIssue[] {
  const loaded = parseConfig(text, fileName);
  return loaded.ok ? [] : loaded.errors;
}

function ha1(algorithm: 'md5' | 'sha256', extension: string, realm: string, password: string): string {
  return createHash(algorithm).update(`${extension}:${realm}:${password}`, 'utf8').digest('hex');
}

/**
 * Gives `extension` a new password. A user with `password:` gets the new one
 * there; a user that keeps digest hashes only (`ha1_md5` / `ha1_sha256`)
 * keeps doing so: the hashes of the new password replace the old ones (RFC
 * 7616 §3.4.2, with the realm of this configuration), and no clear password
 * enters the file.
 */
export function setUserPassword(text: string, fileName: string, extension: string, password: string): PasswordEdit {
  if (password.length < MIN_PASSWORD_LENGTH) return refused(`the password is too weak: use at least ${MIN_PASSWORD_LENGTH} characters`);
  if (/[\u0000-\u001f\u007f]/.test(password)) return refused('the password must not hold control characters (tab, new line…)');
  const before = parseConfig(text, fileName);
  if (!before.ok) return refused(`${fileName} has errors already: fix them first; nothing was written`, before.errors);
  const parsed = parseForEdit(text, fileName);
  if (!('root' in parsed)) return parsed;
  const users = findPair(parsed.root, 'users')?.value;
  const entry = isSeq(users) ? findUser(users, extension) : undefined;
  if (entry === undefined) return refused(`no user with extension ${extension} in ${fileName}`);

  const realm = before.config.server.realm;
  const replacements: Array<{ start: number; end: number; text: string }> = [];
  const passwordPair = findPair(entry, 'password');
  let storedAs: 'password' | 'ha1';
  if (passwordPair !== undefined) {
    const range = rangeOf(passwordPair.value);
    if (range === null) return refused(`cannot locate the password of ${extension} in the file`);
    replacements.push({ start: range[0], end: range[1], text: quoted(password) });
    storedAs = 'password';
  } else {
    for (const [key, algorithm] of [['ha1_md5', 'md5'], ['ha1_sha256', 'sha256']] as const) {
      const pair = findPair(entry, key);
      if (pair === undefined) continue;
      const range = rangeOf(pair.value);
      if (range === null) return refused(`cannot locate ${key} of ${extension} in the file`);
      replacements.push({ start: range[0], end: range[1], text: quoted(ha1(algorithm, extension, realm, password)) });
    }
    if (replacements.length === 0) return refused(`user ${extension} has neither password nor ha1_md5/ha1_sha256`);
    storedAs = 'ha1';
  }
  let edited = text;
  for (const r of replacements.sort((a, b) => b.start - a.start)) edited = edited.slice(0, r.start) + r.text + edited.slice(r.end);

  const checked = checkEdited(text, edited, fileName);
  if (!checked.ok) return checked;
  // The loader's own hashes prove the edit landed on this user and nowhere else.
  const loadedUser = checked.config.users.find((u) => u.extension === extension);
  const expected = { md5: ha1('md5', extension, realm, password), sha256: ha1('sha256', extension, realm, password) };
  const { ha1Md5, ha1Sha256 } = loadedUser?.credentials ?? { ha1Md5: null, ha1Sha256: null };
  if ((ha1Md5 !== null && ha1Md5 !== expected.md5) || (ha1Sha256 !== null && ha1Sha256 !== expected.sha256) || (ha1Md5 === null && ha1Sha256 === null)) {
    return refused('the edited file does not give the user the new password; nothing was written');
  }
  return { ok: true, text: edited, config: checked.config, warnings: checked.warnings, line: lineOf(edited, extension, fileName), storedAs };
}
