/**
 * Runs a systemd service's commands as systemd would, where systemd does not
 * run (CI machines and chroots have no systemd as init): in a root file
 * system (debian-rootfs.ts), as the unit's user, with the part of its
 * sandbox that namespaces, mounts and setpriv can reproduce. The unit file is
 * read from the root file system, so what runs is what was installed.
 *
 * Reproduced (EMULATED): User=, Group= (setpriv: uid, gid, supplementary
 * groups), NoNewPrivileges=, CapabilityBoundingSet=, AmbientCapabilities=
 * (empty only), ProtectSystem=strict|full|yes with ReadWritePaths= (read-only
 * bind mounts), PrivateTmp= (tmpfs /tmp and /var/tmp), ProtectHome=yes (empty
 * inaccessible /home, /root, /run/user), PrivateDevices= (a /dev with null,
 * zero, full, random, urandom, tty only), PrivateMounts= (a private mount
 * namespace), RuntimeDirectory=, Environment=, WorkingDirectory=, UMask=,
 * LimitNOFILE=, StandardOutput=append:|file:|journal|inherit (the file is
 * opened by root before the sandbox, as systemd does), StandardError=,
 * ExecStartPre= (with the - and + prefixes).
 *
 * Not reproduced (NOT_EMULATED): what needs systemd itself or seccomp (the
 * syscall filter, address families, Protect{Kernel*,Clock,Hostname,Proc},
 * Restrict*, restarts, kill and stop handling). `systemd-analyze verify` and
 * `systemd-analyze security` check those settings; a setting in neither list
 * makes the helpers throw, so that a new one is classified deliberately.
 */
import { readFile } from 'node:fs/promises';
import type { Rootfs } from './debian-rootfs.js';
import { startProcess, runProcess, type ManagedProcess, type RunResult } from './process.js';

const EMULATED = new Set([
  'User',
  'Group',
  'ExecStart',
  'ExecStartPre',
  'Environment',
  'WorkingDirectory',
  'UMask',
  'LimitNOFILE',
  'NoNewPrivileges',
  'CapabilityBoundingSet',
  'AmbientCapabilities',
  'ProtectSystem',
  'ReadWritePaths',
  'PrivateTmp',
  'ProtectHome',
  'PrivateDevices',
  'PrivateMounts',
  'RuntimeDirectory',
  'StandardInput',
  'StandardOutput',
  'StandardError',
]);

const NOT_EMULATED = new Set([
  'Type',
  'ExecReload',
  'ExecStop',
  'RemainAfterExit',
  'PIDFile',
  'Restart',
  'RestartSec',
  'RestartPreventExitStatus',
  'KillMode',
  'TimeoutStopSec',
  'SyslogIdentifier',
  'ProtectKernelTunables',
  'ProtectKernelModules',
  'ProtectKernelLogs',
  'ProtectControlGroups',
  'ProtectClock',
  'ProtectHostname',
  'ProtectProc',
  'RestrictAddressFamilies',
  'RestrictNamespaces',
  'RestrictRealtime',
  'RestrictSUIDSGID',
  'LockPersonality',
  'RemoveIPC',
  'SystemCallArchitectures',
  'SystemCallFilter',
  'SystemCallErrorNumber',
  'MemoryDenyWriteExecute',
]);

/** systemd's PATH for services on a merged-/usr Debian. */
const SERVICE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Splits a unit-file value into words: spaces separate, double or single quotes group (systemd.syntax(7), simplified). */
export function splitWords(value: string): string[] {
  const words: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const match of value.matchAll(pattern)) words.push(match[1] ?? match[2] ?? match[3] ?? '');
  return words;
}

/** A unit file's [Service] (and other sections), with systemd's list semantics: an empty assignment resets a list. */
export class UnitFile {
  private constructor(
    readonly name: string,
    private readonly sections: ReadonlyMap<string, ReadonlyArray<readonly [string, string]>>,
  ) {}

  static parse(text: string, name: string): UnitFile {
    const sections = new Map<string, Array<[string, string]>>();
    let current: Array<[string, string]> | null = null;
    // Continuation lines (trailing backslash) joined first.
    for (const raw of text.replace(/\\\n/g, ' ').split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
      const section = /^\[(.+)\]$/.exec(line);
      if (section !== null) {
        current = sections.get(section[1] ?? '') ?? [];
        sections.set(section[1] ?? '', current);
        continue;
      }
      const eq = line.indexOf('=');
      if (current === null || eq < 0) throw new Error(`${name}: cannot read the line "${line}"`);
      current.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
    }
    return new UnitFile(name, sections);
  }

  keys(section: string): string[] {
    return [...new Set((this.sections.get(section) ?? []).map(([key]) => key))];
  }

  /** Every value of a key, in order, after the last empty assignment. */
  values(section: string, key: string): string[] {
    const values: string[] = [];
    for (const [k, v] of this.sections.get(section) ?? []) {
      if (k !== key) continue;
      if (v === '') values.length = 0;
      else values.push(v);
    }
    return values;
  }

  /** The last value of a key ('' when its last assignment is empty), or undefined. */
  value(section: string, key: string): string | undefined {
    const all = (this.sections.get(section) ?? []).filter(([k]) => k === key);
    return all.length === 0 ? undefined : (all[all.length - 1]?.[1] ?? undefined);
  }
}

const yes = (value: string | undefined) => value !== undefined && ['yes', 'true', 'on', '1'].includes(value.toLowerCase());
const shellQuote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

interface PasswdEntry {
  readonly name: string;
  readonly home: string;
  readonly shell: string;
}

async function passwdEntry(rootfs: Rootfs, user: string): Promise<PasswdEntry> {
  const line = (await readFile(rootfs.file('/etc/passwd'), 'utf8')).split('\n').find((l) => l.split(':')[0] === user);
  if (line === undefined) throw new Error(`user ${user} does not exist in ${rootfs.file('/etc/passwd')}`);
  const fields = line.split(':');
  return { name: user, home: fields[5] ?? '/', shell: fields[6] ?? '/bin/sh' };
}

/** Reads a unit installed in the root file system and checks that every [Service] setting is classified. */
export async function readUnit(rootfs: Rootfs, unitPath: string): Promise<UnitFile> {
  const unit = UnitFile.parse(await readFile(rootfs.file(unitPath), 'utf8'), unitPath);
  const unknown = unit.keys('Service').filter((key) => !EMULATED.has(key) && !NOT_EMULATED.has(key));
  if (unknown.length > 0) {
    throw new Error(`${unitPath}: [Service] ${unknown.join(', ')} neither reproduced nor listed as checked by systemd-analyze only (test/e2e/harness/systemd-unit.ts)`);
  }
  return unit;
}

export interface UnitRunOptions {
  /** Run in this network namespace (the host's network otherwise). */
  readonly netns?: string;
  readonly label?: string;
}

interface PreparedCommand {
  readonly program: string;
  readonly args: string[];
  /** Host path of the file StandardOutput= appends to, if any. */
  readonly outputFile: string | null;
}

/**
 * The command line (for `startProcess`) that runs one Exec line of the unit
 * in the root file system as systemd would: the output file opened by root,
 * then a private mount namespace with the sandbox, then chroot and setpriv.
 */
async function prepare(rootfs: Rootfs, unit: UnitFile, execLine: string, options: UnitRunOptions): Promise<PreparedCommand> {
  const s = (key: string) => unit.value('Service', key);
  let line = execLine;
  let privileged = false;
  while (/^[-+@!:]/.test(line)) {
    if (line.startsWith('+')) privileged = true;
    if (line.startsWith('@') || line.startsWith('!') || line.startsWith(':')) throw new Error(`${unit.name}: Exec prefix ${line[0]} is not reproduced`);
    line = line.slice(1);
  }
  const argv = splitWords(line);
  if (argv.length === 0 || !(argv[0] ?? '').startsWith('/')) throw new Error(`${unit.name}: "${execLine}" does not start with an absolute path`);

  const user = s('User') ?? 'root';
  const group = s('Group');
  const account = await passwdEntry(rootfs, user);
  const env: string[] = [`PATH=${SERVICE_PATH}`];
  if (user !== 'root' || s('User') !== undefined) env.push(`HOME=${account.home}`, `USER=${user}`, `LOGNAME=${user}`, `SHELL=${account.shell}`);
  for (const assignment of unit.values('Service', 'Environment')) env.push(...splitWords(assignment));

  const inner: string[] = ['set -e', 'R=$1; shift'];
  const protectSystem = (s('ProtectSystem') ?? 'no').toLowerCase();
  if (!privileged && protectSystem !== 'no' && protectSystem !== 'false') {
    const readOnly = protectSystem === 'strict' ? ['/'] : protectSystem === 'full' ? ['/usr', '/boot', '/efi', '/etc'] : ['/usr', '/boot', '/efi'];
    const writable = unit.values('Service', 'ReadWritePaths').flatMap(splitWords).map((p) => p.replace(/^-/, ''));
    for (const dir of readOnly) inner.push(`if [ -d "$R${dir}" ]; then mount --bind "$R${dir}" "$R${dir}"; fi`);
    for (const dir of writable) inner.push(`mount --bind "$R${dir}" "$R${dir}"`);
    for (const dir of readOnly) inner.push(`if [ -d "$R${dir}" ]; then mount -o remount,bind,ro "$R${dir}"; fi`);
  }
  inner.push('mount --bind /proc "$R/proc"');
  if (!privileged && yes(s('PrivateDevices'))) {
    inner.push(
      'mount -t tmpfs -o nosuid,noexec,mode=0755 tmpfs "$R/dev"',
      'for d in null zero full random urandom tty; do touch "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done',
      'mkdir "$R/dev/shm" && mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$R/dev/shm"',
      'ln -s /proc/self/fd "$R/dev/fd"; ln -s /proc/self/fd/0 "$R/dev/stdin"; ln -s /proc/self/fd/1 "$R/dev/stdout"; ln -s /proc/self/fd/2 "$R/dev/stderr"',
    );
  } else {
    inner.push('mount --bind /dev "$R/dev"');
  }
  if (!privileged && yes(s('PrivateTmp'))) {
    inner.push('mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$R/tmp"', 'mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$R/var/tmp"');
  }
  const protectHome = (s('ProtectHome') ?? 'no').toLowerCase();
  if (!privileged && protectHome !== 'no' && protectHome !== 'false') {
    if (!yes(protectHome)) throw new Error(`${unit.name}: ProtectHome=${protectHome} is not reproduced (only yes)`);
    inner.push('for d in /home /root /run/user; do if [ -d "$R$d" ]; then mount -t tmpfs -o ro,nosuid,nodev,noexec,mode=000 tmpfs "$R$d"; fi; done');
  }
  const limit = s('LimitNOFILE');
  // Raising the hard limit needs CAP_SYS_RESOURCE, which systemd has; where the test runs without it, the
  // machine's hard limit is the most a process can get (see nofileLimit()).
  if (limit !== undefined) inner.push(`ulimit -n ${Number(limit.split(':')[0])} 2>/dev/null || ulimit -n "$(ulimit -H -n)"`);
  inner.push(`umask ${s('UMask') ?? '0022'}`);

  const setpriv: string[] = ['setpriv'];
  if (!privileged) {
    if (s('User') !== undefined) setpriv.push(`--reuid=${user}`, `--regid=${group ?? user}`, '--init-groups');
    else if (group !== undefined) setpriv.push(`--regid=${group}`, '--keep-groups');
    if (yes(s('NoNewPrivileges'))) setpriv.push('--no-new-privs');
    const bounding = s('CapabilityBoundingSet');
    if (bounding !== undefined) {
      const caps = splitWords(bounding).map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`);
      setpriv.push(`--bounding-set=${['-all', ...caps].join(',')}`);
    }
    if ((s('AmbientCapabilities') ?? '') !== '') throw new Error(`${unit.name}: AmbientCapabilities= other than empty is not reproduced`);
    setpriv.push('--inh-caps=-all');
  }
  const workingDirectory = s('WorkingDirectory')?.replace(/^-/, '');
  const command = [...setpriv, '--', 'env', '-i', ...(workingDirectory === undefined ? [] : [`--chdir=${workingDirectory}`]), ...env, ...argv];
  inner.push(`exec chroot "$R" ${command.map(shellQuote).join(' ')}`);

  // Outside the sandbox, as root, like systemd: runtime directories and the output file.
  const outer: string[] = ['set -e', 'R=$1'];
  for (const dir of unit.values('Service', 'RuntimeDirectory').flatMap(splitWords)) {
    outer.push(`install -d -m 0755 "$R/run/${dir}"`, `chroot "$R" chown ${shellQuote(`${user}:${group ?? user}`)} /run/${shellQuote(dir)}`);
  }
  let outputFile: string | null = null;
  const stdout = s('StandardOutput') ?? 'journal';
  const stdoutFile = /^(append|file):(.+)$/.exec(stdout);
  if (stdoutFile !== null) {
    outputFile = rootfs.file(stdoutFile[2] ?? '');
    outer.push(`exec ${stdoutFile[1] === 'append' ? '>>' : '1<>'}${shellQuote(outputFile)}`);
  } else if (!['journal', 'inherit', 'journal+console'].includes(stdout)) {
    throw new Error(`${unit.name}: StandardOutput=${stdout} is not reproduced`);
  }
  const stderr = s('StandardError') ?? 'inherit';
  if (stderr === 'inherit') outer.push('exec 2>&1');
  else if (!['journal', 'journal+console'].includes(stderr)) throw new Error(`${unit.name}: StandardError=${stderr} is not reproduced`);
  const stdin = s('StandardInput') ?? 'null';
  if (stdin !== 'null') throw new Error(`${unit.name}: StandardInput=${stdin} is not reproduced`);
  outer.push(`exec unshare -m --propagation private sh -c ${shellQuote(inner.join('\n'))} sh "$R"`);

  const run = ['sh', '-c', outer.join('\n'), 'sh', rootfs.path];
  const full = options.netns === undefined ? run : ['ip', 'netns', 'exec', options.netns, ...run];
  return { program: full[0] ?? 'sh', args: full.slice(1), outputFile };
}

/**
 * The open files limit a unit's process gets here: LimitNOFILE=, or this
 * machine's hard limit when it is lower and cannot be raised (no
 * CAP_SYS_RESOURCE, as in some CI sandboxes).
 */
export async function nofileLimit(unit: UnitFile): Promise<number | null> {
  const wanted = unit.value('Service', 'LimitNOFILE');
  if (wanted === undefined) return null;
  const own = await readFile('/proc/self/limits', 'utf8');
  const hard = Number(/^Max open files\s+\d+\s+(\d+)/m.exec(own)?.[1] ?? Infinity);
  const capabilities = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)/m.exec(await readFile('/proc/self/status', 'utf8'))?.[1] ?? '0'}`);
  const canRaise = (capabilities & (1n << 24n)) !== 0n; // CAP_SYS_RESOURCE
  const value = Number(wanted.split(':')[0]);
  return canRaise ? value : Math.min(value, hard);
}

export interface StartedUnit {
  readonly unit: UnitFile;
  /** The main process (its pid is the service's: every step execs the next). */
  readonly process: ManagedProcess;
  /** Host path of the file the service's standard output goes to (StandardOutput=append:…), or null. */
  readonly outputFile: string | null;
}

async function runStartPre(rootfs: Rootfs, unit: UnitFile, options: UnitRunOptions): Promise<void> {
  for (const line of unit.values('Service', 'ExecStartPre')) {
    const command = await prepare(rootfs, unit, line, options);
    const result = await runProcess(command.program, command.args, { timeoutMs: 60_000, label: `${unit.name} ExecStartPre` });
    if (result.code !== 0 && !line.replace(/^[+@!:]*/, '').startsWith('-')) {
      throw new Error(`${unit.name}: ExecStartPre=${line} exited with ${String(result.code ?? result.signal)}:\n${result.stdout}${result.stderr}`);
    }
  }
}

/**
 * Starts a long-running service (Type=simple or exec) from its unit file in
 * the root file system; stopped (SIGTERM, as systemd) by the cleanup.
 */
export async function startUnit(rootfs: Rootfs, unitPath: string, options: UnitRunOptions = {}): Promise<StartedUnit> {
  const unit = await readUnit(rootfs, unitPath);
  const [execStart, ...more] = unit.values('Service', 'ExecStart');
  if (execStart === undefined || more.length > 0) throw new Error(`${unitPath}: a long-running service has exactly one ExecStart`);
  await runStartPre(rootfs, unit, options);
  const command = await prepare(rootfs, unit, execStart, options);
  const process = startProcess({ command: command.program, args: command.args, label: options.label ?? unitPath.split('/').pop() ?? unitPath });
  return { unit, process, outputFile: command.outputFile };
}

/** Runs a Type=oneshot service (ExecStartPre then each ExecStart) to completion; the results of the ExecStart lines. */
export async function runOneshotUnit(rootfs: Rootfs, unitPath: string, options: UnitRunOptions & { readonly timeoutMs?: number } = {}): Promise<RunResult[]> {
  const unit = await readUnit(rootfs, unitPath);
  await runStartPre(rootfs, unit, options);
  return runUnitCommands(rootfs, unit, 'ExecStart', options);
}

/**
 * Runs each line of one of the unit's Exec settings (ExecReload, what
 * `systemctl reload` runs; ExecStop…) to completion, as systemd would (same
 * user and sandbox). `$MAINPID` and other variables are not substituted.
 */
export async function runUnitCommands(
  rootfs: Rootfs,
  unit: UnitFile,
  key: 'ExecStart' | 'ExecReload' | 'ExecStop',
  options: UnitRunOptions & { readonly timeoutMs?: number } = {},
): Promise<RunResult[]> {
  const results: RunResult[] = [];
  for (const line of unit.values('Service', key)) {
    if (line.includes('$')) throw new Error(`${unit.name}: ${key}=${line} uses a variable, which is not substituted here`);
    const command = await prepare(rootfs, unit, line, options);
    results.push(await runProcess(command.program, command.args, { timeoutMs: options.timeoutMs ?? 60_000, label: options.label ?? `${unit.name} ${key}` }));
  }
  return results;
}
