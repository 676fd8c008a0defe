/**
 * Reads the voix YAML configuration: syntax, duplicate keys, then the zod
 * schema, with every issue located at its YAML node (file, line, column, key
 * path). User mistakes are values, never exceptions; as many as possible are
 * reported in one pass.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { compileDialplan, type CompiledDialplan } from './dialplan-checks.js';
import { configErrorMap, configSchema, knownKeysAt, type RawConfig } from './schema.js';
import type { ConfigIssue, ConfigResult, ListenEndpoint, TlsListenEndpoint, Transport, UserConfig, VoixConfig } from './types.js';

type KeyPath = readonly (string | number)[];

/** Which part of a `key: value` pair an issue is about. */
type Target = 'key' | 'value';

interface PendingIssue {
  readonly path: KeyPath;
  readonly target: Target;
  readonly message: string;
  /** Where the thing this one repeats was first written; its line is added to the message. */
  readonly firstDefinedAt?: KeyPath;
}

const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `users[2].password`; keys that are not identifiers are quoted: `server["odd key"]`. */
export function formatKeyPath(path: KeyPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (SIMPLE_KEY.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** `examples/demo.yaml:14:7 users[2].extension: must be 2 to 10 digits` */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.column}` : issue.file;
  return issue.path === '' ? `${where} ${issue.message}` : `${where} ${issue.path}: ${issue.message}`;
}

/** Finds YAML nodes by key path and turns offsets into positions. */
class SourceMap {
  constructor(
    private readonly file: string,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  issue(offset: number, path: KeyPath, message: string): ConfigIssue {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, column: col, path: formatKeyPath(path), message };
  }

  issueAt(path: KeyPath, target: Target, message: string): ConfigIssue {
    return this.issue(this.offsetOf(path, target), path, message);
  }

  lineOf(path: KeyPath, target: Target): number {
    return this.lines.linePos(this.offsetOf(path, target)).line;
  }

  /**
   * Start of the node at `path`. A key that is absent points at its parent
   * mapping (at the parent's own key when it has one); an empty value points
   * at its key.
   */
  offsetOf(path: KeyPath, target: Target): number {
    let node: unknown = this.doc.contents;
    let holderKey: unknown = null;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i];
      const container = isAlias(node) ? node.resolve(this.doc) : node;
      let key: unknown = null;
      let value: unknown;
      let found = false;
      if (isMap(container) && typeof segment === 'string') {
        // The last of duplicate keys is the one whose value was validated.
        for (const pair of container.items) {
          if (scalarKeyText(pair.key) === segment) {
            key = pair.key;
            value = pair.value;
            found = true;
          }
        }
      } else if (isSeq(container) && typeof segment === 'number' && segment < container.items.length) {
        value = container.items[segment];
        found = true;
      }
      if (!found) return startOf(holderKey) ?? startOf(container) ?? 0;
      if (i === path.length - 1) {
        if (target === 'key') return startOf(key) ?? startOf(value) ?? startOf(container) ?? 0;
        if (!isEmptyScalar(value)) return startOf(value) ?? startOf(key) ?? 0;
        return startOf(key) ?? startOf(container) ?? 0;
      }
      holderKey = key;
      node = value;
    }
    return startOf(node) ?? 0;
  }
}

function startOf(node: unknown): number | null {
  return isNode(node) && node.range ? node.range[0] : null;
}

function isEmptyScalar(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null && node.range !== undefined && node.range !== null && node.range[0] === node.range[1]);
}

function scalarKeyText(key: unknown): string | null {
  if (!isScalar(key)) return null;
  const value = key.value;
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : null;
}

/** The yaml package can refuse duplicates itself, but without saying where the first one was. */
function findDuplicateKeys(node: unknown, path: KeyPath, map: SourceMap, out: ConfigIssue[]): void {
  if (isMap(node)) {
    const seen = new Map<string, unknown>();
    for (const pair of node.items) {
      const text = scalarKeyText(pair.key);
      if (text === null) continue;
      const first = seen.get(text);
      if (first === undefined) seen.set(text, pair.key);
      else {
        const firstOffset = startOf(first) ?? 0;
        const firstLine = map.issue(firstOffset, [], '').line;
        out.push(map.issue(startOf(pair.key) ?? 0, [...path, text], `duplicate key (first defined at line ${firstLine})`));
      }
      findDuplicateKeys(pair.value, [...path, text], map, out);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => findDuplicateKeys(item, [...path, index], map, out));
  }
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function suggestKey(key: string, known: readonly string[]): string | null {
  const normalize = (s: string): string => s.toLowerCase().replace(/[-_\s]/g, '');
  const wanted = normalize(key);
  let best: string | null = null;
  let bestDistance = wanted.length >= 5 ? 2 : 1;
  for (const candidate of known) {
    const distance = editDistance(wanted, normalize(candidate));
    if (distance <= bestDistance && candidate !== key) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function toKeyPath(path: readonly PropertyKey[]): (string | number)[] {
  return path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
}

/** Rewrites zod issues into located, user-sized ones: one per unknown key, union branches opened. */
function flattenIssue(issue: z.core.$ZodIssue, base: KeyPath, out: PendingIssue[]): void {
  const path = [...base, ...toKeyPath(issue.path)];
  switch (issue.code) {
    case 'invalid_union': {
      // `false | { … }`: when the value is a mapping, the mapping branch's own issues say what is wrong.
      const informative = issue.errors.filter(
        (branch) => !branch.every((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value')),
      );
      const only = informative.length === 1 ? informative[0] : undefined;
      if (only !== undefined) for (const inner of only) flattenIssue(inner, path, out);
      else out.push({ path, target: 'value', message: issue.message });
      return;
    }
    case 'unrecognized_keys':
      for (const key of issue.keys) {
        const suggestion = suggestKey(key, knownKeysAt(path));
        out.push({ path: [...path, key], target: 'key', message: suggestion === null ? 'unknown key' : `unknown key (did you mean "${suggestion}"?)` });
      }
      return;
    case 'custom': {
      const relative: unknown = issue.params?.['firstDefinedAt'];
      if (Array.isArray(relative) && relative.length <= path.length) {
        const firstDefinedAt = [...path.slice(0, path.length - relative.length), ...toKeyPath(relative as PropertyKey[])];
        out.push({ path, target: 'value', message: issue.message, firstDefinedAt });
        return;
      }
      out.push({ path, target: 'value', message: issue.message });
      return;
    }
    default:
      out.push({ path, target: 'value', message: issue.message });
  }
}

function yamlErrorMessage(error: { code: string; message: string }): string {
  if (error.code === 'MULTIPLE_DOCS') return 'the file must hold a single YAML document (remove the "---" separators)';
  return `YAML syntax error: ${error.message}`;
}

function sortAndDedupe(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  const unique = issues.filter((issue) => {
    const key = `${issue.line}:${issue.column}:${issue.path}:${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique.sort((a, b) => a.line - b.line || a.column - b.column);
}

function ha1(algorithm: 'md5' | 'sha256', username: string, realm: string, password: string): string {
  return createHash(algorithm).update(`${username}:${realm}:${password}`, 'utf8').digest('hex');
}

function endpoint(raw: false | { address: string; port: number }): ListenEndpoint | null {
  return raw === false ? null : { address: raw.address, port: raw.port };
}

function toVoixConfig(raw: RawConfig, dialplan: CompiledDialplan, baseDir: string): VoixConfig {
  const domain = raw.server.domain.toLowerCase();
  const realm = raw.server.realm ?? domain;
  const aliases = [...new Set(raw.server.aliases.map((a) => a.toLowerCase()))].filter((a) => a !== domain);
  const tlsRaw = raw.server.listen.tls;
  const tls: TlsListenEndpoint | null =
    tlsRaw === false
      ? null
      : {
          address: tlsRaw.address,
          port: tlsRaw.port,
          certificate:
            tlsRaw.certificate !== undefined && tlsRaw.key !== undefined
              ? { certificateFile: resolve(baseDir, tlsRaw.certificate), keyFile: resolve(baseDir, tlsRaw.key) }
              : null,
        };
  const users = raw.users.map((user): UserConfig => {
    const password = user.password;
    return {
      extension: user.extension,
      displayName: user.name ?? null,
      credentials:
        password !== undefined
          ? { ha1Md5: ha1('md5', user.extension, realm, password), ha1Sha256: ha1('sha256', user.extension, realm, password) }
          : { ha1Md5: user.ha1_md5?.toLowerCase() ?? null, ha1Sha256: user.ha1_sha256?.toLowerCase() ?? null },
      transports: user.transports,
      maxContacts: user.max_contacts,
      // Secure by default: a TLS-only account gets SRTP required; one that allows plain transports, optional.
      srtp: user.srtp ?? (user.transports.every((t) => t === 'tls') ? 'required' : 'optional'),
      permissionClass: user.permission,
      forward: {
        always: user.forward.always ?? null,
        busy: user.forward.busy ?? null,
        noAnswer: user.forward.no_answer ?? null,
        noAnswerSeconds: user.forward.no_answer_after,
      },
      dnd: user.dnd,
      callerId: { name: user.caller_id.name ?? null, number: user.caller_id.number ?? null },
    };
  });
  return {
    server: {
      domain,
      realm,
      aliases,
      publicAddress: raw.server.public_address?.toLowerCase() ?? null,
      dataDir: resolve(baseDir, raw.server.data_dir),
      logLevel: raw.server.log_level,
      shutdownGraceSeconds: raw.server.shutdown_grace,
      listen: { udp: endpoint(raw.server.listen.udp), tcp: endpoint(raw.server.listen.tcp), tls },
    },
    registrar: {
      minExpires: raw.registrar.min_expires,
      maxExpires: raw.registrar.max_expires,
      defaultExpires: raw.registrar.default_expires,
    },
    auth: { algorithms: raw.auth.algorithms, nonceLifetimeSeconds: raw.auth.nonce_lifetime, md5OnlyUserAgents: raw.auth.md5_only_user_agents },
    users,
    media: {
      address: raw.media.address,
      publicAddress: raw.media.public_address ?? null,
      portMin: raw.media.port_min,
      portMax: raw.media.port_max,
      workers: raw.media.workers,
    },
    calls: {
      ringTimeoutSeconds: raw.calls.ring_timeout,
      sessionExpiresSeconds: raw.calls.session_expires,
      minSeSeconds: raw.calls.min_se,
    },
    security: {
      ban: {
        maxFailures: raw.security.ban.max_failures,
        windowSeconds: raw.security.ban.window,
        durationSeconds: raw.security.ban.duration,
      },
      sdesOverPlaintext: raw.security.sdes_over_plaintext,
    },
    admin: { listen: endpoint(raw.admin.listen) },
    overload: {
      maxEventLoopLagMs: raw.overload.max_event_loop_lag,
      maxTransactionsInProgress: raw.overload.max_transactions,
      maxRequestsPerSecond: raw.overload.max_requests_per_second,
      retryAfterSeconds: raw.overload.retry_after,
    },
    limits: {
      maxMessageSize: raw.limits.max_message_size,
      maxHeaders: raw.limits.max_headers,
      maxConnectionsPerAddress: raw.limits.max_connections_per_address,
      maxConnections: raw.limits.max_connections,
      idleTimeoutSeconds: raw.limits.idle_timeout,
      firstMessageTimeoutSeconds: raw.limits.first_message_timeout,
    },
    ...dialplan,
  };
}

/** Valid but probably not what the operator meant. */
function findWarnings(config: VoixConfig, map: SourceMap): ConfigIssue[] {
  const warnings: ConfigIssue[] = [];
  if (config.users.length === 0) {
    warnings.push(map.issueAt(['users'], 'value', 'no users are defined: no phone can register'));
  }
  const enabled = new Set<Transport>(
    (['udp', 'tcp', 'tls'] as const).filter((t) => config.server.listen[t] !== null),
  );
  config.users.forEach((user, index) => {
    if (user.transports.some((t) => enabled.has(t))) return;
    const list = user.transports.join(', ');
    warnings.push(
      map.issueAt(['users', index, 'transports'], 'value', `allows only ${list}, disabled in server.listen: this user cannot register`),
    );
  });
  return warnings;
}

/**
 * Parses and checks a configuration text. `fileName` names the file in
 * issues and anchors relative paths (data_dir, certificates) at its folder.
 */
export function parseConfig(text: string, fileName: string): ConfigResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false });
  const map = new SourceMap(fileName, doc, lines);
  const warnings = doc.warnings.map((w) => map.issue(w.pos[0], [], w.message));
  const errors: ConfigIssue[] = doc.errors.map((e) => map.issue(e.pos[0], [], yamlErrorMessage(e)));
  findDuplicateKeys(doc.contents, [], map, errors);
  // After a syntax error the tree is a guess; checking it would mostly report noise.
  if (doc.errors.length > 0) return { ok: false, errors: sortAndDedupe(errors), warnings };
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    errors.push({ file: fileName, line: 1, column: 1, path: '', message: 'the file is empty: at least server.domain is required' });
    return { ok: false, errors, warnings };
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    errors.push(map.issue(0, [], `cannot read the YAML document: ${error instanceof Error ? error.message : String(error)}`));
    return { ok: false, errors, warnings };
  }

  const parsed = configSchema.safeParse(data, { error: configErrorMap });
  if (!parsed.success) {
    const pending: PendingIssue[] = [];
    for (const issue of parsed.error.issues) flattenIssue(issue, [], pending);
    for (const p of pending) {
      const message = p.firstDefinedAt === undefined ? p.message : `${p.message} (first defined at line ${map.lineOf(p.firstDefinedAt, 'value')})`;
      errors.push(map.issueAt(p.path, p.target, message));
    }
  }
  if (errors.length > 0 || !parsed.success) return { ok: false, errors: sortAndDedupe(errors), warnings };

  const { dialplan, issues } = compileDialplan(parsed.data, dirname(resolve(fileName)));
  for (const issue of issues) (issue.severity === 'error' ? errors : warnings).push(map.issueAt(issue.path, 'value', issue.message));
  if (dialplan === null) return { ok: false, errors: sortAndDedupe(errors), warnings: sortAndDedupe(warnings) };

  const config = toVoixConfig(parsed.data, dialplan, dirname(resolve(fileName)));
  return { ok: true, config, warnings: sortAndDedupe([...warnings, ...findWarnings(config, map)]) };
}

/** A file read error as a few words: "no such file", "permission denied", … */
export function describeReadError(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, not a file';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Problems found after loading (prompts that cannot be prepared), placed at
 * their key in the file: a configuration error like the loader's own.
 */
export async function locateInConfigFile(path: string, problems: ReadonlyArray<{ readonly path: readonly (string | number)[]; readonly message: string }>): Promise<ConfigIssue[]> {
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return problems.map((p) => ({ file: path, line: 0, column: 0, path: formatKeyPath(p.path), message: p.message }));
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false });
  const map = new SourceMap(path, doc, lines);
  return problems.map((p) => map.issueAt(p.path, 'value', p.message));
}

/** Reads and parses a configuration file; an unreadable file is an issue with line 0. */
export async function loadConfigFile(path: string): Promise<ConfigResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { ok: false, errors: [{ file: path, line: 0, column: 0, path: '', message: `cannot read the configuration: ${describeReadError(error)}` }], warnings: [] };
  }
  return parseConfig(text, path);
}
