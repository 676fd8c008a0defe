/**
 * rtpengine as a benchmark peer (media relay, plain RTP): Debian 12's
 * package (`rtpengine-daemon`, with bookworm-security's updates, as a
 * Debian 12 server gets it) in a throwaway root file system built once with
 * mmdebstrap and cached outside the repository, run with chroot in a
 * private mount namespace (unshare -m) that bind-mounts /proc and /dev and
 * vanishes with the process, like bench/peers/kamailio.ts.
 *
 * It forwards in user space only (`--table=-1`: no kernel module, which
 * this machine cannot load and which a fair user-space comparison leaves
 * out), on 127.0.0.1, RTP ports in the range the benchmark captures, its
 * media handled by `--num-threads` worker threads, no configuration file
 * (`--config-file=none`: the package's /etc/rtpengine/rtpengine.conf asks
 * for kernel table 0), calls freed as soon as they are deleted
 * (`--delete-delay=0`: the next step reuses the ports).
 *
 * It is driven as a SIP proxy would drive it, over its ng control protocol
 * (bencoded dictionaries over UDP, each message prefixed with a cookie that
 * the reply repeats): `offer` with the caller's SDP, `answer` with the
 * callee's, `delete` at the end; the SDP it returns carries the port each
 * phone must send to.
 *
 * Cache: $VOIX_BENCH_CACHE or /var/cache/voix-bench; about 400 MB, a minute
 * to build (needs mmdebstrap and network access to the Debian mirror).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { debianMirror, ensureRootfs, type RootfsSpec } from './rootfs.js';


/** The security archive next to the mirror apt uses (deb822 sources), or Debian's. */
function securityMirror(): string {
  const file = '/etc/apt/sources.list.d/debian.sources';
  if (existsSync(file)) {
    const uri = /^URIs:\s*(\S*debian-security\S*)/m.exec(readFileSync(file, 'utf8'))?.[1];
    if (uri !== undefined) return uri;
  }
  return 'http://deb.debian.org/debian-security';
}

/** Debian 12's rtpengine (daemon only: user-space forwarding), security updates included. */
export const RTPENGINE_ROOTFS: RootfsSpec = {
  peer: 'rtpengine',
  name: 'rtpengine-bookworm',
  marker: 'usr/bin/rtpengine',
  describe: 'Debian 12, rtpengine-daemon',
  options: ['--include=rtpengine-daemon'],
  suite: 'bookworm',
  mirrors: () => [`deb ${debianMirror()} bookworm main`, `deb ${securityMirror()} bookworm-security main`],
};

/** The root file system with rtpengine, built when missing; returns its path. */
export function ensureRtpengineRootfs(say: (line: string) => void): string {
  return ensureRootfs(RTPENGINE_ROOTFS, say);
}

/** The package's version (dpkg in the root file system), e.g. "rtpengine 10.5.3.5-1+deb12u1". */
export function rtpengineVersion(rootfs: string): string {
  const version = (spawnSync('chroot', [rootfs, 'dpkg-query', '-W', '-f', '${Version}', 'rtpengine-daemon'], { encoding: 'utf8' }).stdout ?? '').trim();
  return `rtpengine ${version || 'unknown version'} (Debian 12)`;
}

// ---- bencode (the ng protocol's encoding) ----

export type Bencoded = string | number | Buffer | Bencoded[] | { readonly [key: string]: Bencoded };

export function bencode(value: Bencoded): Buffer {
  if (typeof value === 'number') return Buffer.from(`i${Math.trunc(value)}e`);
  if (typeof value === 'string' || Buffer.isBuffer(value)) {
    const bytes = typeof value === 'string' ? Buffer.from(value) : value;
    return Buffer.concat([Buffer.from(`${bytes.length}:`), bytes]);
  }
  if (Array.isArray(value)) return Buffer.concat([Buffer.from('l'), ...value.map(bencode), Buffer.from('e')]);
  // Dictionary keys in sorted order (bencode's rule).
  const keys = Object.keys(value).sort();
  return Buffer.concat([Buffer.from('d'), ...keys.flatMap((k) => [bencode(k), bencode((value as Record<string, Bencoded>)[k] as Bencoded)]), Buffer.from('e')]);
}

/** Decodes one bencoded value (strings as UTF-8 text); throws on malformed input. */
export function bdecode(data: Buffer): Bencoded {
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`bencode: ${why} at byte ${i}`);
  };
  const value = (): Bencoded => {
    const c = data[i];
    if (c === undefined) return fail('unexpected end');
    if (c === 0x69) {
      // i<digits>e
      const end = data.indexOf(0x65, i);
      if (end === -1) return fail('unterminated integer');
      const n = Number(data.toString('latin1', i + 1, end));
      i = end + 1;
      return n;
    }
    if (c === 0x6c || c === 0x64) {
      i++;
      const list: Bencoded[] = [];
      while (data[i] !== 0x65) {
        if (i >= data.length) return fail('unterminated list');
        list.push(value());
      }
      i++;
      if (c === 0x6c) return list;
      const dict: Record<string, Bencoded> = {};
      for (let k = 0; k + 1 < list.length; k += 2) dict[String(list[k])] = list[k + 1] as Bencoded;
      return dict;
    }
    const colon = data.indexOf(0x3a, i);
    if (colon === -1) return fail('string without length');
    const length = Number(data.toString('latin1', i, colon));
    if (!Number.isInteger(length)) return fail('bad string length');
    const text = data.toString('utf8', colon + 1, colon + 1 + length);
    i = colon + 1 + length;
    return text;
  };
  return value();
}

// ---- the daemon ----

export interface RtpengineOptions {
  readonly rootfs: string;
  /** UDP port of the ng control protocol on 127.0.0.1. */
  readonly ngPort: number;
  readonly portMin: number;
  readonly portMax: number;
  /** Worker threads (`--num-threads`): those that receive and forward media. */
  readonly threads: number;
  /** taskset prefix for the process (all its threads), e.g. ['taskset', '-c', '0']; empty for none. */
  readonly pin: readonly string[];
}

export interface Rtpengine {
  readonly child: ChildProcess;
  /** PID of the rtpengine process itself (same PID space). */
  readonly pid: number;
  /** One ng command; resolves with the reply dictionary; rejects on a timeout or result "error". */
  ng(command: Readonly<Record<string, Bencoded>>): Promise<Record<string, Bencoded>>;
  /** The process's threads: id and name (comm). */
  threads(): Array<{ readonly tid: number; readonly name: string }>;
  /** rtpengine's log so far (stderr, last 20 kB). */
  log(): string;
  stop(): Promise<void>;
}

function threadsOf(pid: number): Array<{ tid: number; name: string }> {
  try {
    return readdirSync(`/proc/${pid}/task`).map((tid) => {
      let name = '';
      try {
        name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      } catch {
        // thread gone
      }
      return { tid: Number(tid), name };
    });
  } catch {
    return [];
  }
}

/** Starts rtpengine in its root file system; resolves once it answers a ng ping. */
export async function startRtpengine(options: RtpengineOptions): Promise<Rtpengine> {
  if (spawnSync('pgrep', ['-x', 'rtpengine']).status === 0) throw new Error('an rtpengine process is already running: the benchmark would talk to it or measure it (stop it first)');
  const root = options.rootfs;
  const daemon = [
    'rtpengine',
    '--config-file=none',
    '--foreground',
    '--log-stderr',
    '--log-level=5',
    '--table=-1',
    '--interface=127.0.0.1',
    `--listen-ng=127.0.0.1:${options.ngPort}`,
    `--port-min=${options.portMin}`,
    `--port-max=${options.portMax}`,
    `--num-threads=${options.threads}`,
    '--delete-delay=0',
    // No RTP for a while between steps is normal here.
    '--timeout=3600',
  ];
  const script = ['set -e', `mount --bind /proc ${root}/proc`, `mount --bind /dev ${root}/dev`, `exec ${[...options.pin, 'chroot', root, ...daemon].join(' ')}`].join('\n');
  const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));

  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  socket.unref();
  const waiting = new Map<string, { resolve(reply: Record<string, Bencoded>): void; reject(err: Error): void }>();
  socket.on('message', (message: Buffer) => {
    const space = message.indexOf(0x20);
    if (space === -1) return;
    const cookie = message.toString('latin1', 0, space);
    const entry = waiting.get(cookie);
    if (entry === undefined) return;
    waiting.delete(cookie);
    try {
      entry.resolve(bdecode(message.subarray(space + 1)) as Record<string, Bencoded>);
    } catch (err) {
      entry.reject(err as Error);
    }
  });
  let sequence = 0;
  const ng = (command: Readonly<Record<string, Bencoded>>, timeoutMs = 10_000): Promise<Record<string, Bencoded>> =>
    new Promise((resolve, reject) => {
      const cookie = `${process.pid}_${++sequence}`;
      const timer = setTimeout(() => {
        waiting.delete(cookie);
        reject(new Error(`rtpengine did not answer ${String(command['command'])} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiting.set(cookie, {
        resolve: (reply) => {
          clearTimeout(timer);
          if (reply['result'] === 'error') reject(new Error(`rtpengine refused ${String(command['command'])}: ${String(reply['error-reason'])}`));
          else resolve(reply);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      socket.send(Buffer.concat([Buffer.from(`${cookie} `), bencode(command)]), options.ngPort, '127.0.0.1');
    });

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`rtpengine exited (${child.exitCode}): ${output.slice(-2000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`rtpengine did not answer a ping within 30 s: ${output.slice(-2000)}`);
    }
    const pong = await ng({ command: 'ping' }, 500).catch(() => null);
    if (pong?.['result'] === 'pong') break;
  }
  const pid = Number((spawnSync('pgrep', ['-x', 'rtpengine'], { encoding: 'utf8' }).stdout ?? '').trim().split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error('rtpengine answers but its process was not found');
  return {
    child,
    pid,
    ng: (command) => ng(command),
    threads: () => threadsOf(pid),
    log: () => output,
    stop: async () => {
      socket.close();
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
        child.kill('SIGKILL');
      }, 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
