/**
 * A fresh Debian machine for the deployment cases, without a virtual
 * machine: a root file system built once with mmdebstrap and cached, then
 * mounted for each test as an overlay (a writable layer over the cached
 * tree, thrown away after the test), and commands run in it with chroot in a
 * private mount namespace that bind-mounts /proc and /dev and vanishes with
 * the command (like bench/peers/asterisk.ts). Needs root (CI is root),
 * mmdebstrap and the Debian mirror this machine's apt uses.
 *
 * The base is what README's Quick start expects of a user's machine: Debian
 * 12 (minbase, systemd, ca-certificates) with Node.js 20 installed by apt as
 * a `nodejs` package, as NodeSource's is. That package is made from this
 * machine's own Node.js (its files as they are on disk: npm included), so
 * the test runs the same Node as the rest of the suite and needs no
 * download from nodejs.org. The Debian packages a test will install are
 * downloaded into the base's apt cache (not installed), so that installing
 * them reads no mirror. A policy-rc.d forbids package scripts to start
 * daemons, as in every chroot: nothing started there outlives a test.
 *
 * Cache: $VOIX_TEST_CACHE or /var/cache/voix-test. The first build takes
 * 45 s to 95 s here and 640 MB (mmdebstrap 35 s to 90 s depending on the
 * mirror, the nodejs package about 6 s); a base is rebuilt when this
 * machine's Node.js or the package list changes. Overlays live in
 * <cache>/work and are removed by the cleanup.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, realpath, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { registerCleanup } from './cleanup.js';
import { runProcess, type RunResult } from './process.js';

export const TEST_CACHE = process.env['VOIX_TEST_CACHE'] ?? '/var/cache/voix-test';
const COMPLETE = '.voix-test-complete';
const CHROOT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

async function run(command: string, args: readonly string[], timeoutMs: number, label?: string): Promise<RunResult> {
  const result = await runProcess(command, args, { timeoutMs, label: label ?? `${command} ${args.join(' ')}` });
  if (result.code !== 0) {
    throw new Error(`${label ?? command} failed (${String(result.code ?? result.signal)}):\n${(result.stderr + result.stdout).slice(-4000)}`);
  }
  return result;
}

/** The mirror this machine's apt reads (no other is reachable here). */
export async function debianMirror(): Promise<string> {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    if (!existsSync(file)) continue;
    const text = await readFile(file, 'utf8');
    const uri = /^URIs:\s*(\S+)/m.exec(text)?.[1] ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/m.exec(text)?.[1];
    if (uri !== undefined) return uri;
  }
  return 'http://deb.debian.org/debian';
}

/**
 * A `nodejs` .deb of the Node.js running the tests, files as they are on disk
 * (dpkg-repack would miss files that an `npm install -g npm` added after the
 * package was installed). When that Node.js is the Debian package nodejs
 * (NodeSource's), the .deb has its version and control fields (Depends:
 * python3, ca-certificates…); otherwise (a nodejs.org tarball in /usr/local,
 * say) the version is Node's own plus "-local1", with the same paths, and
 * links in /usr/local/bin when its prefix is elsewhere. Cached by version.
 */
export async function hostNodePackage(say: (line: string) => void): Promise<string> {
  const node = await realpath(process.execPath);
  const prefix = dirname(dirname(node));
  const owner = await runProcess('dpkg-query', ['-S', node], { timeoutMs: 10_000, label: 'dpkg-query -S node' });
  const fromDebianPackage = owner.code === 0 && /^nodejs(:[a-z0-9]+)?: /.test(owner.stdout);
  const field = async (name: string) => (await run('dpkg-query', ['-W', `-f=\${${name}}`, 'nodejs'], 10_000)).stdout.trim();
  const version = fromDebianPackage ? await field('Version') : `${process.versions.node}-local1`;
  const deb = join(TEST_CACHE, `nodejs_${version}_amd64.deb`);
  if (existsSync(deb)) return deb;
  say(`packaging this machine's Node.js ${version} (${node}) as ${deb}`);
  await mkdir(TEST_CACHE, { recursive: true });
  const staging = join(TEST_CACHE, `nodejs-staging-${randomBytes(4).toString('hex')}`);
  const find = async (dir: string) =>
    existsSync(dir) ? (await run('find', [dir, '(', '-type', 'f', '-o', '-type', 'l', ')'], 30_000)).stdout.split('\n') : [];
  try {
    const listed = fromDebianPackage
      ? (await run('dpkg', ['-L', 'nodejs'], 10_000)).stdout.split('\n').filter((f) => f.startsWith('/usr/') && !f.startsWith('/usr/share/doc/'))
      : [node, ...['npm', 'npx', 'corepack'].map((tool) => join(prefix, 'bin', tool)), ...(await find(join(prefix, 'include/node')))];
    const files = [...new Set([...listed, ...(await find(join(prefix, 'lib/node_modules')))].filter((f) => f !== ''))];
    // tar keeps symbolic links (npm, npx), modes and the paths.
    const existing: string[] = [];
    for (const file of files) {
      const info = await lstat(file).catch(() => null);
      if (info !== null && !info.isDirectory()) existing.push(file.slice(1));
    }
    await mkdir(staging, { recursive: true });
    const list = `${staging}.files`;
    await writeFile(list, existing.join('\n') + '\n');
    try {
      await run('sh', ['-c', 'tar -C / --no-recursion -cf - -T "$1" | tar -C "$2" -xf -', 'sh', list, staging], 120_000, 'tar node files');
    } finally {
      await rm(list, { force: true });
    }
    if (!fromDebianPackage && prefix !== '/usr' && prefix !== '/usr/local') {
      await mkdir(join(staging, 'usr/local/bin'), { recursive: true });
      for (const tool of ['node', 'npm', 'npx']) {
        if (existsSync(join(prefix, 'bin', tool))) await symlink(join(prefix, 'bin', tool), join(staging, 'usr/local/bin', tool));
      }
    }
    const fields = fromDebianPackage
      ? [`Depends: ${await field('Depends')}`, `Provides: ${await field('Provides')}`, `Conflicts: ${await field('Conflicts')}`, `Replaces: ${await field('Replaces')}`]
      : ['Depends: python3, ca-certificates'];
    const control = [
      'Package: nodejs',
      `Version: ${version}`,
      'Architecture: amd64',
      'Maintainer: voix tests <root@localhost>',
      ...fields,
      'Section: web',
      'Priority: optional',
      "Description: Node.js as installed on the test machine (voix's deployment tests)",
      '',
    ].filter((line) => !/^[A-Za-z]+: $/.test(line));
    await mkdir(join(staging, 'DEBIAN'), { recursive: true });
    await writeFile(join(staging, 'DEBIAN', 'control'), control.join('\n'));
    const partial = `${deb}.partial-${process.pid}`;
    await run('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z1', '--build', staging, partial], 300_000, 'dpkg-deb --build nodejs');
    await rename(partial, deb);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return deb;
}

export interface DebianBaseOptions {
  /** Debian packages to download into the apt cache (not installed). */
  readonly downloadOnly: readonly string[];
  readonly say?: (line: string) => void;
  /** Upper bound on the whole build; default 10 minutes. */
  readonly timeoutMs?: number;
}

/**
 * The cached base (Debian 12 + Node.js 20 + downloaded packages), built when
 * missing; resolves with its directory. Concurrent builders (two worktrees)
 * each build apart and the first to finish wins.
 */
export async function ensureDebian12Base(options: DebianBaseOptions): Promise<string> {
  const say = options.say ?? ((line: string) => void process.stderr.write(`[debian-rootfs] ${line}\n`));
  const deb = await hostNodePackage(say);
  const packages = [...options.downloadOnly].sort();
  const key = createHash('sha256').update(`${deb}\n${packages.join(' ')}`).digest('hex').slice(0, 12);
  const dir = join(TEST_CACHE, `debian12-${key}`);
  if (existsSync(join(dir, COMPLETE))) {
    await touch(dir);
    return dir;
  }
  if ((await run('mmdebstrap', ['--version'], 10_000).catch(() => null)) === null) {
    throw new Error('mmdebstrap is needed to build the Debian 12 root file system (apt-get install mmdebstrap)');
  }
  const partial = `${dir}.partial-${randomBytes(4).toString('hex')}`;
  const started = Date.now();
  say(`building ${dir} with mmdebstrap (Debian 12, Node.js from ${deb}; one to two minutes)`);
  try {
    const debInside = `/tmp/${deb.split('/').pop() ?? 'nodejs.deb'}`;
    await run(
      'mmdebstrap',
      [
        '--variant=minbase',
        '--include=systemd,systemd-sysv,ca-certificates',
        '--skip=cleanup/apt/cache',
        `--customize-hook=copy-in ${deb} /tmp`,
        `--customize-hook=chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${debInside} && rm "$1${debInside}"`,
        `--customize-hook=chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get install --download-only -y -qq --no-install-recommends ${packages.join(' ')}`,
        '--customize-hook=printf "#!/bin/sh\\n# chroot: package scripts start no daemon\\nexit 101\\n" > "$1/usr/sbin/policy-rc.d" && chmod 755 "$1/usr/sbin/policy-rc.d"',
        'bookworm',
        partial,
        await debianMirror(),
      ],
      options.timeoutMs ?? 600_000,
      'mmdebstrap (Debian 12 base)',
    );
    await writeFile(join(partial, COMPLETE), `${new Date().toISOString()}\n`);
    if (existsSync(join(dir, COMPLETE))) {
      await rm(partial, { recursive: true, force: true });
    } else {
      await rm(dir, { recursive: true, force: true });
      await rename(partial, dir);
    }
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
  say(`built ${dir} in ${Math.round((Date.now() - started) / 1000)} s`);
  // Bases for another Node.js or package list go once unused for a day.
  await pruneCache(TEST_CACHE, 'debian12-', [dir.split('/').pop() ?? ''], 86_400_000);
  return dir;
}

export interface ChrootRunOptions {
  readonly timeoutMs: number;
  /** Environment inside, added to PATH, HOME=/root, LANG=C.UTF-8. */
  readonly env?: Readonly<Record<string, string>>;
  /** Run in this network namespace (`ip netns exec`). */
  readonly netns?: string;
  readonly label?: string;
}

/** A mounted overlay: a writable Debian tree of its own. */
export class Rootfs {
  constructor(
    /** The merged tree, as the host sees it. */
    readonly path: string,
  ) {}

  /** Host path of a path inside the root file system. */
  file(inside: string): string {
    return join(this.path, inside);
  }

  /** Runs a command inside (chroot, /proc and /dev bind-mounted), as root; bounded, whole output. */
  run(command: string, args: readonly string[], options: ChrootRunOptions): Promise<RunResult> {
    const env = Object.entries({ PATH: CHROOT_PATH, HOME: '/root', LANG: 'C.UTF-8', ...options.env }).map(([k, v]) => `${k}=${v}`);
    const script = 'R=$1; shift; mount --bind /proc "$R/proc" && mount --bind /dev "$R/dev" && exec chroot "$R" "$@"';
    const inner = ['unshare', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh', this.path, 'env', '-i', ...env, command, ...args];
    const [program, ...rest] = options.netns === undefined ? inner : ['ip', 'netns', 'exec', options.netns, ...inner];
    return runProcess(program ?? 'unshare', rest, { timeoutMs: options.timeoutMs, label: options.label ?? `[chroot] ${command} ${args.join(' ')}` });
  }

  /** Like run(), but throws with the output unless the command exits 0. */
  async check(command: string, args: readonly string[], options: ChrootRunOptions): Promise<RunResult> {
    const result = await this.run(command, args, options);
    if (result.code !== 0) {
      throw new Error(`${options.label ?? `${command} ${args.join(' ')}`} (in the root file system) exited with ${String(result.code ?? result.signal)}:\n${(result.stdout + result.stderr).slice(-6000)}`);
    }
    return result;
  }
}

export interface MountedOverlay {
  readonly rootfs: Rootfs;
  /**
   * Unmounts and keeps the writable layer at `dest` (same file system,
   * renamed), to serve as a lower layer later; the cleanup then only
   * unregisters. Throws if dest exists.
   */
  keepLayerAs(dest: string): Promise<void>;
}

/**
 * Mounts an overlay of `lowers` (the first is the top one) with a fresh
 * writable layer; unmounted and removed by the cleanup.
 */
export async function mountOverlay(lowers: readonly string[]): Promise<MountedOverlay> {
  const work = join(TEST_CACHE, 'work', randomBytes(6).toString('hex'));
  const upper = join(work, 'upper');
  const scratch = join(work, 'scratch');
  const merged = join(work, 'merged');
  for (const dir of [upper, scratch, merged]) await mkdir(dir, { recursive: true });
  let mounted = false;
  const unmount = async () => {
    if (mounted) {
      // Lazy: a process of the test still inside (its cleanup comes later) must not keep the layer mounted.
      await runProcess('umount', ['-l', merged], { timeoutMs: 30_000, label: `umount ${merged}` });
      mounted = false;
    }
  };
  const unregister = registerCleanup(`remove the overlay ${work}`, async () => {
    await unmount();
    await rm(work, { recursive: true, force: true });
  });
  await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${scratch}`, merged], 30_000);
  mounted = true;
  return {
    rootfs: new Rootfs(merged),
    keepLayerAs: async (dest: string) => {
      if (existsSync(dest)) throw new Error(`${dest} exists already`);
      await unmount();
      await mkdir(dirname(dest), { recursive: true });
      await rename(upper, dest);
      await rm(work, { recursive: true, force: true });
      unregister();
    },
  };
}

/**
 * Removes the entries of `parent` whose names start with `prefix`, except
 * `keep`, once unused (not touched, see touch()) for `idleMs`: another
 * worktree's run may still have one mounted.
 */
export async function pruneCache(parent: string, prefix: string, keep: readonly string[], idleMs = 3_600_000): Promise<void> {
  if (!existsSync(parent)) return;
  for (const name of await readdir(parent)) {
    if (!name.startsWith(prefix) || keep.includes(name)) continue;
    const info = await lstat(join(parent, name)).catch(() => null);
    if (info !== null && Date.now() - info.mtimeMs > idleMs) await rm(join(parent, name), { recursive: true, force: true });
  }
}

/** Marks a cache entry as used now (see pruneCache). */
export async function touch(path: string): Promise<void> {
  const now = new Date();
  await utimes(path, now, now);
}
