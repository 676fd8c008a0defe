/**
 * The peers' root file systems (../shared/design/TESTING.md): Debian
 * packages installed by mmdebstrap into a folder of the cache
 * ($VOIX_BENCH_CACHE or /var/cache/voix-bench), built once and reused, run
 * with chroot. Built into `<dir>.partial` and renamed when complete, so an
 * interrupted build is never taken for a finished one.
 *
 * `ensureRootfs` builds one and waits (the benches and tests that need one
 * peer); `buildRootfs` builds in the background, so that `npm run bench`
 * builds the missing ones side by side on a fresh machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';

export const BENCH_CACHE = process.env.VOIX_BENCH_CACHE ?? '/var/cache/voix-bench';

export interface RootfsSpec {
  /** The peer, for messages: "Asterisk". */
  readonly peer: string;
  /** Folder name in the cache: "asterisk-sid". */
  readonly name: string;
  /** A file inside that exists once the packages are installed: "usr/sbin/asterisk". */
  readonly marker: string;
  /** What the message says is being built: "Debian unstable, asterisk". */
  readonly describe: string;
  /** mmdebstrap's arguments between its options and the target folder: suite (and options). */
  readonly options: readonly string[];
  readonly suite: string;
  /** The mirrors (mmdebstrap's last arguments), computed when the build starts. */
  readonly mirrors: () => readonly string[];
}

/** The mirror this machine's apt uses (deb822 sources, then the classic list). */
export function debianMirror(): string {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const uri = /^URIs:\s*(\S+)/m.exec(text)?.[1] ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/m.exec(text)?.[1];
    if (uri !== undefined) return uri;
  }
  return 'http://deb.debian.org/debian';
}

export function rootfsPath(spec: RootfsSpec): string {
  return path.join(BENCH_CACHE, spec.name);
}

export function rootfsReady(spec: RootfsSpec): boolean {
  return existsSync(path.join(rootfsPath(spec), spec.marker));
}

/** mmdebstrap's command line, after checking it is there and clearing a partial build. */
function prepare(spec: RootfsSpec, say: (line: string) => void): { partial: string; args: string[] } {
  if (spawnSync('mmdebstrap', ['--version']).status !== 0) throw new Error(`mmdebstrap is needed to build the ${spec.peer} root file system (apt-get install mmdebstrap)`);
  mkdirSync(BENCH_CACHE, { recursive: true });
  const partial = `${rootfsPath(spec)}.partial`;
  rmSync(partial, { recursive: true, force: true });
  say(`building ${rootfsPath(spec)} with mmdebstrap (${spec.describe}; about a minute)`);
  return { partial, args: ['--variant=minbase', ...spec.options, spec.suite, partial, ...spec.mirrors()] };
}

/** The root file system, built now when missing; returns its path. */
export function ensureRootfs(spec: RootfsSpec, say: (line: string) => void): string {
  if (rootfsReady(spec)) return rootfsPath(spec);
  const { partial, args } = prepare(spec, say);
  const built = spawnSync('mmdebstrap', args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`mmdebstrap failed for ${spec.peer}: ${built.stderr.slice(-2000)}`);
  renameSync(partial, rootfsPath(spec));
  return rootfsPath(spec);
}

/** The same, without blocking: several can build at once. */
export async function buildRootfs(spec: RootfsSpec, say: (line: string) => void): Promise<string> {
  if (rootfsReady(spec)) return rootfsPath(spec);
  const { partial, args } = prepare(spec, say);
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('mmdebstrap', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`mmdebstrap failed for ${spec.peer} (${code}): ${stderr}`))));
  });
  renameSync(partial, rootfsPath(spec));
  say(`${rootfsPath(spec)} built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return rootfsPath(spec);
}
