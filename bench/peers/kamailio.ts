/**
 * Kamailio as a benchmark peer (registrar with digest authentication):
 * Debian 12's package in a throwaway root file system built once with
 * mmdebstrap and cached outside the repository, run with chroot in a
 * private mount namespace (unshare -m) that bind-mounts /proc and /dev and
 * vanishes with the process, like bench/peers/asterisk.ts.
 *
 * Configured like voix in the same benchmark: UDP on 127.0.0.1, the same
 * users and passwords (an htable filled at start-up, checked with
 * pv_www_authenticate), MD5 digest, and registrations kept in SQLite
 * (usrloc db_mode 2, db_sqlite: written back every second), as voix
 * writes each registration to its SQLite database and Asterisk to its
 * astdb. Write-through (db_mode 1) fails registrations from 250/s on here:
 * SQLite's locking between Kamailio's UDP children.
 *
 * Cache: $VOIX_BENCH_CACHE or /var/cache/voix-bench; about 130 MB, a minute
 * to build (needs mmdebstrap and network access to the Debian mirror).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { debianMirror, ensureRootfs, type RootfsSpec } from './rootfs.js';

/** Inside the root file system. */
const DATABASE = '/var/lib/voix-bench/kamailio.sqlite';

/** Debian 12's Kamailio 5.6 with its SQLite modules. */
export const KAMAILIO_ROOTFS: RootfsSpec = {
  peer: 'Kamailio',
  name: 'kamailio-bookworm',
  marker: 'usr/sbin/kamailio',
  describe: 'Debian 12, kamailio',
  options: ['--include=kamailio,kamailio-sqlite-modules'],
  suite: 'bookworm',
  mirrors: () => [debianMirror()],
};

/** The root file system with Kamailio, built when missing; returns its path. */
export function ensureKamailioRootfs(say: (line: string) => void): string {
  return ensureRootfs(KAMAILIO_ROOTFS, say);
}

/** Kamailio's version line (`kamailio -v` in the root file system). */
export function kamailioVersion(rootfs: string): string {
  return ((spawnSync('chroot', [rootfs, 'kamailio', '-v'], { encoding: 'utf8' }).stdout ?? '').split('\n')[0] ?? '').trim();
}

export interface KamailioOptions {
  readonly rootfs: string;
  readonly sipPort: number;
  /** username → password */
  readonly users: Readonly<Record<string, string>>;
  /** UDP worker processes (Kamailio's `children`). */
  readonly children: number;
  /** taskset prefix for the process tree, e.g. ['taskset', '-c', '0']; empty for none. */
  readonly pin: readonly string[];
}

export interface Kamailio {
  readonly child: ChildProcess;
  /** PIDs of every kamailio process (main and children). */
  pids(): number[];
  /** Contacts in the location table (what was written through to SQLite). */
  registeredContacts(): number;
  stop(): Promise<void>;
}

function configuration(options: KamailioOptions): string {
  const passwords = Object.entries(options.users).map(([user, password]) => `\t$sht(passwords=>${user}) = "${password}";`);
  return [
    '#!KAMAILIO',
    'debug=1',
    'log_stderror=yes',
    'memdbg=5',
    'memlog=5',
    `children=${options.children}`,
    'auto_aliases=no',
    'disable_tcp=yes',
    `listen=udp:127.0.0.1:${options.sipPort}`,
    '',
    'loadmodule "kex.so"',
    'loadmodule "corex.so"',
    'loadmodule "tm.so"',
    'loadmodule "sl.so"',
    'loadmodule "pv.so"',
    'loadmodule "maxfwd.so"',
    'loadmodule "textops.so"',
    'loadmodule "htable.so"',
    'loadmodule "db_sqlite.so"',
    'loadmodule "usrloc.so"',
    'loadmodule "registrar.so"',
    'loadmodule "auth.so"',
    '',
    'modparam("htable", "htable", "passwords=>size=12;")',
    `modparam("usrloc", "db_url", "sqlite://${DATABASE}")`,
    // Write-back every second: with write-through (db_mode 1) SQLite's locking between the UDP children fails registrations from 250/s on.
    'modparam("usrloc", "db_mode", 2)',
    'modparam("usrloc", "timer_interval", 1)',
    '',
    'event_route[htable:mod-init] {',
    ...passwords,
    '}',
    '',
    'request_route {',
    '\tif (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }',
    '\tif (!is_method("REGISTER")) { sl_send_reply("405", "Method Not Allowed"); exit; }',
    '\tif (!is_present_hf("Authorization")) { www_challenge("$td", "0"); exit; }',
    '\tif (pv_www_authenticate("$td", "$sht(passwords=>$au)", "0") < 0) { www_challenge("$td", "0"); exit; }',
    '\tconsume_credentials();',
    '\tif (!save("location")) sl_reply_error();',
    '\texit;',
    '}',
    '',
  ].join('\n');
}

/** A fresh SQLite database with Kamailio's version and location tables, from the schema files its package ships. */
function createDatabase(rootfs: string): void {
  const file = path.join(rootfs, DATABASE);
  mkdirSync(path.dirname(file), { recursive: true });
  rmSync(file, { force: true });
  const db = new Database(file);
  try {
    for (const schema of ['standard-create.sql', 'usrloc-create.sql']) db.exec(readFileSync(path.join(rootfs, 'usr/share/kamailio/db_sqlite', schema), 'utf8'));
  } finally {
    db.close();
  }
}

/** Starts Kamailio in its root file system; resolves once it answers on its port. */
export async function startKamailio(options: KamailioOptions): Promise<Kamailio> {
  if (spawnSync('pgrep', ['-x', 'kamailio']).status === 0) throw new Error('a kamailio process is already running: the benchmark would talk to it (pkill -x kamailio)');
  const root = options.rootfs;
  writeFileSync(path.join(root, 'etc/kamailio/voix-bench.cfg'), configuration(options));
  createDatabase(root);
  const check = spawnSync('chroot', [root, 'kamailio', '-c', '-f', '/etc/kamailio/voix-bench.cfg'], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`kamailio refused its configuration: ${(check.stderr ?? '').slice(-2000)}`);
  const script = [
    'set -e',
    `mount --bind /proc ${root}/proc`,
    `mount --bind /dev ${root}/dev`,
    `exec ${[...options.pin, 'chroot', root, 'kamailio', '-DD', '-E', '-f', '/etc/kamailio/voix-bench.cfg', '-m', '256', '-M', '16'].join(' ')}`,
  ].join('\n');
  const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  const pids = (): number[] =>
    (spawnSync('pgrep', ['-x', 'kamailio'], { encoding: 'utf8' }).stdout ?? '')
      .trim()
      .split('\n')
      .map(Number)
      .filter((pid) => Number.isInteger(pid) && pid > 0);
  const deadline = Date.now() + 30_000;
  // Ready when the listening socket is there: `ss` lists UDP sockets bound to the port.
  for (;;) {
    if (child.exitCode !== null) throw new Error(`kamailio exited (${child.exitCode}): ${output.slice(-2000)}`);
    if (Date.now() > deadline) {
      spawnSync('pkill', ['-KILL', '-x', 'kamailio']);
      throw new Error(`kamailio did not start within 30 s: ${output.slice(-2000)}`);
    }
    const listening = spawnSync('ss', ['-Hlun', `sport = :${options.sipPort}`], { encoding: 'utf8' }).stdout ?? '';
    if (listening.trim() !== '' && pids().length > options.children) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    child,
    pids,
    registeredContacts: () => {
      const db = new Database(path.join(root, DATABASE), { readonly: true });
      try {
        return (db.prepare('SELECT COUNT(*) AS n FROM location').get() as { n: number }).n;
      } finally {
        db.close();
      }
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      // Kamailio's main process ends its children itself: one of them may be gone before it is signalled.
      const signal = (name: NodeJS.Signals): void => {
        for (const pid of pids()) {
          try {
            process.kill(pid, name);
          } catch {
            // Already exited.
          }
        }
      };
      signal('SIGTERM');
      const timer = setTimeout(() => {
        signal('SIGKILL');
        child.kill('SIGKILL');
      }, 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
