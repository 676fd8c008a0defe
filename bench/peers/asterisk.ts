/**
 * Asterisk 22 as a benchmark peer: Debian unstable's packages in a
 * throwaway root file system (../shared/design/TESTING.md), built once with
 * mmdebstrap and cached outside the repository, run with chroot in a private
 * mount namespace (unshare -m) that bind-mounts /proc and /dev and vanishes
 * with the process.
 *
 * Configured like voix in the same benchmark, and fairly: PJSIP on UDP
 * 127.0.0.1 with digest authentication, media_address and
 * bind_rtp_to_media_address set (no resolver here: without them Asterisk
 * looks up its own name for every stream, TESTING.md), PCMU only, and the
 * timerfd timing module (res_timing_timerfd, loaded by autoload).
 *
 * Cache: $VOIX_BENCH_CACHE or /var/cache/voix-bench; the root file system
 * is about 370 MB and takes about a minute to build (needs mmdebstrap and
 * network access to the Debian mirror apt already uses).
 *
 * The end-to-end case DOC-ASTERISK-01 (test/e2e/docs/asterisk-config) runs
 * the configuration of docs/asterisk.md with the same functions: its own
 * pjsip.conf and extensions.conf (configFiles), its TLS key under
 * /etc/asterisk/keys, and its prompts and log directory bind-mounted (binds).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { debianMirror, ensureRootfs, type RootfsSpec } from './rootfs.js';

/** Where `sounds` go inside the root file system: Playback() takes an absolute path without the extension. */
export const ASTERISK_SOUNDS_DIR = '/var/lib/voix-bench';

export { debianMirror } from './rootfs.js';

/** Debian unstable's asterisk (Asterisk 22). */
export const ASTERISK_ROOTFS: RootfsSpec = {
  peer: 'Asterisk',
  name: 'asterisk-sid',
  marker: 'usr/sbin/asterisk',
  describe: 'Debian unstable, asterisk',
  options: ['--aptopt=Acquire::Check-Valid-Until "false"', '--include=asterisk'],
  suite: 'sid',
  mirrors: () => [debianMirror()],
};

/** The root file system with Asterisk, built when missing; returns its path. */
export function ensureAsteriskRootfs(say: (line: string) => void): string {
  return ensureRootfs(ASTERISK_ROOTFS, say);
}

/** Asterisk's version line (`asterisk -V` in the root file system). */
export function asteriskVersion(rootfs: string): string {
  return (spawnSync('chroot', [rootfs, 'asterisk', '-V'], { encoding: 'utf8' }).stdout ?? '').trim();
}

export interface AsteriskOptions {
  readonly rootfs: string;
  readonly sipPort: number;
  readonly rtpStart: number;
  readonly rtpEnd: number;
  /** extension → password, PJSIP endpoints that authenticate like voix's users. */
  readonly users: Readonly<Record<string, string>>;
  /** The [bench] context of extensions.conf, lines after the context header. */
  readonly dialplan: readonly string[];
  /** Files to place in ASTERISK_SOUNDS_DIR (name → contents), e.g. a µ-law prompt for Playback(<dir>/<name without extension>). */
  readonly sounds?: Readonly<Record<string, Buffer>>;
  /** taskset prefix for the process, e.g. ['taskset', '-c', '0']; empty for none. */
  readonly pin: readonly string[];
  /** More pjsip.conf sections, e.g. a trunk endpoint with a static contact. */
  readonly pjsip?: readonly string[];
  /** More lines for every PJSIP endpoint, e.g. ['media_encryption = sdes']. */
  readonly endpointOptions?: readonly string[];
  /**
   * Files of /etc/asterisk written after the generated ones, replacing a
   * generated file of the same name: a whole pjsip.conf, or keys/asterisk.crt.
   */
  readonly configFiles?: Readonly<Record<string, string | Buffer>>;
  /**
   * Host directories bind-mounted into the root file system, in Asterisk's
   * private mount namespace only (nothing is left in the cached tree but the
   * empty mount point): a temp dir over /var/log/asterisk, say.
   */
  readonly binds?: readonly { readonly source: string; readonly target: string }[];
  /** More names for /etc/hosts (there is no resolver here): name → address. */
  readonly hosts?: Readonly<Record<string, string>>;
}

export interface Asterisk {
  readonly child: ChildProcess;
  /** PID of the asterisk process itself (inside the namespace, same PID space). */
  asteriskPid(): number | null;
  /** Runs a CLI command (asterisk -rx) and returns its output. */
  cli(command: string): string;
  /** What the process printed so far (its console, stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

function writeConfig(rootfs: string, options: AsteriskOptions): void {
  const etc = path.join(rootfs, 'etc/asterisk');
  // A fresh configuration each run: only what the benchmark needs, everything else from modules' defaults.
  const files: Record<string, string> = {
    'asterisk.conf': ['[directories]', 'astetcdir => /etc/asterisk', '[options]', 'verbose = 0', 'debug = 0', 'nofork = yes', 'maxload = 0', 'maxcalls = 0', ''].join('\n'),
    'modules.conf': [
      '[modules]',
      'autoload = yes',
      // Channel drivers and services the benchmark does not use: not loaded, so they cost nothing.
      'noload = chan_iax2.so',
      'noload = chan_dahdi.so',
      'noload = chan_mobile.so',
      'noload = chan_unistim.so',
      'noload = chan_console.so',
      'noload = res_ari.so',
      'noload = res_http_websocket.so',
      'noload = cdr_csv.so',
      'noload = cdr_sqlite3_custom.so',
      'noload = cel_sqlite3_custom.so',
      'noload = res_hep.so',
      '',
    ].join('\n'),
    'logger.conf': ['[general]', '[logfiles]', 'console => error', ''].join('\n'),
    'rtp.conf': ['[general]', `rtpstart = ${options.rtpStart}`, `rtpend = ${options.rtpEnd}`, ''].join('\n'),
    'pjsip.conf': [
      '[transport-udp]',
      'type = transport',
      'protocol = udp',
      `bind = 127.0.0.1:${options.sipPort}`,
      '',
      ...Object.entries(options.users).flatMap(([user, password]) => [
        `[${user}]`,
        'type = endpoint',
        'context = bench',
        'disallow = all',
        'allow = ulaw',
        `auth = ${user}-auth`,
        `aors = ${user}`,
        'media_address = 127.0.0.1',
        'bind_rtp_to_media_address = yes',
        'rtp_symmetric = yes',
        'direct_media = no',
        ...(options.endpointOptions ?? []),
        `[${user}-auth]`,
        'type = auth',
        'auth_type = userpass',
        `username = ${user}`,
        `password = ${password}`,
        `[${user}]`,
        'type = aor',
        'max_contacts = 1',
        // A phone that registers again from elsewhere (a new SIPp port, a contact left in astdb by an earlier run) replaces its contact.
        'remove_existing = yes',
        '',
      ]),
      ...(options.pjsip ?? []),
      '',
    ].join('\n'),
    'extensions.conf': ['[general]', '[bench]', ...options.dialplan, ''].join('\n'),
    'cdr.conf': ['[general]', 'enable = no', ''].join('\n'),
  };
  rmSync(etc, { recursive: true, force: true });
  mkdirSync(etc, { recursive: true });
  for (const [name, text] of Object.entries({ ...files, ...options.configFiles })) {
    mkdirSync(path.dirname(path.join(etc, name)), { recursive: true });
    writeFileSync(path.join(etc, name), text);
  }
  // A fresh database each run: contacts registered in an earlier run (of a benchmark, or of DOC-ASTERISK-01,
  // which share this root file system and its user names) would be dialled too.
  rmSync(path.join(rootfs, 'var/lib/asterisk/astdb.sqlite3'), { force: true });
  for (const bind of options.binds ?? []) mkdirSync(path.join(rootfs, bind.target), { recursive: true });
  const sounds = path.join(rootfs, ASTERISK_SOUNDS_DIR);
  mkdirSync(sounds, { recursive: true });
  for (const [name, data] of Object.entries(options.sounds ?? {})) writeFileSync(path.join(sounds, name), data);
  // No resolver here: the host's own name must resolve from /etc/hosts (TESTING.md).
  const hostname = (spawnSync('hostname', { encoding: 'utf8' }).stdout ?? 'localhost').trim();
  const hosts = Object.entries(options.hosts ?? {}).map(([name, address]) => `${address} ${name}\n`);
  writeFileSync(path.join(rootfs, 'etc/hosts'), [`127.0.0.1 localhost ${hostname}\n`, ...hosts].join(''));
  // /var/run is an absolute symbolic link to /run: resolved from outside the chroot it would be the host's.
  mkdirSync(path.join(rootfs, 'run/asterisk'), { recursive: true });
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Starts Asterisk in its root file system; resolves once it is fully booted. */
export async function startAsterisk(options: AsteriskOptions): Promise<Asterisk> {
  if (spawnSync('pgrep', ['-x', 'asterisk']).status === 0) throw new Error('an asterisk process is already running: the benchmark would talk to it (pkill -x asterisk)');
  writeConfig(options.rootfs, options);
  const root = options.rootfs;
  const script = [
    'set -e',
    `mount --bind /proc ${root}/proc`,
    `mount --bind /dev ${root}/dev`,
    ...(options.binds ?? []).map((bind) => `mount --bind ${shellQuote(bind.source)} ${shellQuote(path.join(root, bind.target))}`),
    `exec ${[...options.pin, 'chroot', root, 'asterisk', '-f', '-n', '-q'].join(' ')}`,
  ].join('\n');
  const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const cli = (command: string): string => {
    const run = spawnSync('chroot', [root, 'asterisk', '-rx', command], { encoding: 'utf8', timeout: 30_000 });
    return `${run.stdout ?? ''}${run.stderr ?? ''}`;
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`asterisk exited (${child.exitCode}): ${output.slice(-2000)}`);
    if (Date.now() > deadline) {
      spawnSync('pkill', ['-KILL', '-x', 'asterisk']);
      throw new Error(`asterisk did not boot within 60 s: ${output.slice(-2000)}`);
    }
    if (existsSync(path.join(root, 'run/asterisk/asterisk.ctl')) && /fully booted/i.test(cli('core waitfullybooted'))) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const asteriskPid = (): number | null => {
    const text = spawnSync('pgrep', ['-x', 'asterisk'], { encoding: 'utf8' }).stdout ?? '';
    const pid = Number(text.trim().split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  };
  return {
    child,
    asteriskPid,
    cli,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      cli('core stop now');
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const timer = setTimeout(() => {
        const pid = asteriskPid();
        if (pid !== null) process.kill(pid, 'SIGKILL');
        child.kill('SIGKILL');
      }, 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
