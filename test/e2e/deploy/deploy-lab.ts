/**
 * What the deployment cases (DEPLOI-*) share: a fresh Debian 12 with Node.js
 * 20 (harness/debian-rootfs.ts), this checkout copied into it as a user's
 * clone, deploy/install.sh run there, and voix's units run as systemd would
 * (harness/systemd-unit.ts) in a network namespace of their own, reached over
 * a veth pair from the test's side:
 *
 *     root namespace (the test, phones, attackers)      server namespace
 *       clientAddress, attackerAddress ──veth──  serverAddress: voix, nft rules, fail2ban
 *
 * The install itself takes about a minute (Debian packages from the base's
 * apt cache, the TypeScript build). DEPLOI-01 always runs it on a fresh
 * root file system and keeps the result as an overlay layer in the test
 * cache, keyed by the content of the checkout and the base; the other cases
 * start from that layer (a writable copy of their own) and only run the
 * install when no layer matches. The layer is the state install.sh leaves,
 * nothing more.
 *
 * The checkout is what `git ls-files` lists (tracked and new files, not the
 * ignored ones) plus this worktree's node_modules: the test machine cannot
 * reach the npm registry from the root file system without its own
 * certificate setup, and npm ci is the same command README's Quick start
 * runs. install.sh still builds voix (npm run build: tsc and the native
 * addons, with the compilers it installed). The node_modules must match the
 * lock file (npm ci), which install.sh checks.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll } from 'vitest';
import { runProcess, type RunResult } from '../harness/process.js';
import { createNetns, createVeth, runIp } from '../harness/netns.js';
import { ensureDebian12Base, mountOverlay, pruneCache, TEST_CACHE, touch, type Rootfs } from '../harness/debian-rootfs.js';
import { followFile, type FollowedFile } from '../harness/followed-file.js';
import { startUnit, type StartedUnit } from '../harness/systemd-unit.js';
import { REPO_ROOT } from '../harness/voix.js';

/** What install.sh puts in place and uninstall.sh removes (deploy/lib.sh), as paths in the root file system. */
export const SERVICE_FILES = [
  '/opt/voix',
  '/usr/local/bin/voix',
  '/etc/systemd/system/voix.service',
  '/etc/systemd/system/voix-firewall.service',
  '/etc/systemd/system/multi-user.target.wants/voix.service',
  '/etc/systemd/system/sysinit.target.wants/voix-firewall.service',
  '/etc/fail2ban/filter.d/voix.conf',
  '/etc/fail2ban/jail.d/voix.conf',
  '/etc/logrotate.d/voix',
] as const;

/** Where the checkout goes in the root file system: root's clone. */
export const CHECKOUT = '/root/voix';
const LAYERS = join(TEST_CACHE, 'installed');
/** Bounds: the first base build, an install. */
export const BASE_TIMEOUT_MS = 600_000;
const INSTALL_TIMEOUT_MS = 600_000;

async function checkoutFiles(): Promise<string[]> {
  const listed = await runProcess('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: REPO_ROOT, timeoutMs: 30_000, label: 'git ls-files' });
  if (listed.code !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  return listed.stdout.split('\0').filter((f) => f !== '' && existsSync(join(REPO_ROOT, f)));
}

/** The Debian packages install.sh installs (downloaded into the base, so that the install reads no mirror). */
export async function installPackages(): Promise<string[]> {
  const result = await runProcess(join(REPO_ROOT, 'deploy/install.sh'), ['--print-packages'], { timeoutMs: 10_000, label: 'install.sh --print-packages' });
  if (result.code !== 0) throw new Error(`install.sh --print-packages failed: ${result.stderr}`);
  return result.stdout.trim().split(/\s+/);
}

/** The cached Debian 12 + Node.js 20 base, built when missing (bounded by BASE_TIMEOUT_MS). */
export async function debian12Base(): Promise<string> {
  return ensureDebian12Base({ downloadOnly: await installPackages(), timeoutMs: BASE_TIMEOUT_MS });
}

/**
 * Once per test file: builds the base when missing, in a hook of its own
 * bound (the first build takes one to two minutes), so that a test's own
 * timeout covers the test only. Resolves to the base's directory.
 */
export function useDebian12Base(): () => string {
  let base: string | null = null;
  beforeAll(async () => {
    base = await debian12Base();
  }, BASE_TIMEOUT_MS);
  return () => {
    if (base === null) throw new Error('the Debian 12 base is not ready (useDebian12Base() must be called at the top level of the test file)');
    return base;
  };
}

/** Copies this checkout (tracked and new files) and its node_modules to CHECKOUT in the root file system. */
export async function copyCheckout(rootfs: Rootfs): Promise<void> {
  const dest = rootfs.file(CHECKOUT);
  await mkdir(dest, { recursive: true });
  const files = await checkoutFiles();
  for (let i = 0; i < files.length; i += 400) {
    const copied = await runProcess('cp', ['-a', '--parents', '-t', dest, ...files.slice(i, i + 400)], { cwd: REPO_ROOT, timeoutMs: 60_000, label: 'cp checkout' });
    if (copied.code !== 0) throw new Error(`copying the checkout failed: ${copied.stderr}`);
  }
  const modules = await runProcess('cp', ['-a', join(REPO_ROOT, 'node_modules'), dest], { timeoutMs: 120_000, label: 'cp node_modules' });
  if (modules.code !== 0) throw new Error(`copying node_modules failed: ${modules.stderr}`);
}

/** Runs deploy/install.sh (or uninstall.sh) from the checkout, as root, in the host's network (apt reads its lists). */
export function runDeployScript(rootfs: Rootfs, script: 'install.sh' | 'uninstall.sh', args: readonly string[] = []): Promise<RunResult> {
  return rootfs.run(`${CHECKOUT}/deploy/${script}`, args, { timeoutMs: INSTALL_TIMEOUT_MS, label: `deploy/${script} ${args.join(' ')}`.trim() });
}

/** What install.sh reads from the checkout (tests, docs and benchmarks do not change what it installs). */
const INSTALL_INPUTS = /^(deploy|src|scripts|schema)\/|^package(-lock)?\.json$|^tsconfig[^/]*\.json$/;

/** What the install layer depends on: the base, and the content of every file install.sh reads. */
async function layerKey(base: string): Promise<string> {
  const hash = createHash('sha256').update(base);
  const inputs = (await checkoutFiles()).filter((file) => INSTALL_INPUTS.test(file)).sort();
  for (const file of inputs) {
    const mode = (await stat(join(REPO_ROOT, file))).mode & 0o777;
    hash.update(`${file} ${mode.toString(8)}\0`).update(await readFile(join(REPO_ROOT, file)));
  }
  hash.update(await readFile(join(REPO_ROOT, 'node_modules/.package-lock.json')).catch(() => Buffer.alloc(0)));
  return hash.digest('hex').slice(0, 16);
}

export interface FreshInstall {
  /** The first run of install.sh on the fresh root file system. */
  readonly result: RunResult;
  readonly seconds: number;
  /** The kept layer (lower directory) holding what the install changed. */
  readonly layer: string;
}

/**
 * Runs install.sh on a fresh Debian 12 (overlay over the base) and keeps
 * what it changed as the install layer for this checkout. Throws with the
 * script's output if it fails.
 */
export async function installOnFreshDebian12(base: string): Promise<FreshInstall> {
  const key = await layerKey(base);
  const overlay = await mountOverlay([base]);
  await copyCheckout(overlay.rootfs);
  const started = Date.now();
  const result = await runDeployScript(overlay.rootfs, 'install.sh');
  const seconds = (Date.now() - started) / 1000;
  if (result.code !== 0) throw new Error(`install.sh exited with ${String(result.code ?? result.signal)}:\n${(result.stdout + result.stderr).slice(-8000)}`);
  const name = `${key}-${randomBytes(3).toString('hex')}`;
  await overlay.keepLayerAs(join(LAYERS, name));
  // Layers (about 1.2 GB each) of other checkout states go once unused for 15 minutes (a test
  // mounts its layer for a few seconds); this state's older ones right away.
  await pruneCache(LAYERS, `${key}-`, [name], 0);
  await pruneCache(LAYERS, '', [name], 15 * 60_000);
  return { result, seconds, layer: join(LAYERS, name) };
}

/** A writable Debian 12 where install.sh has run for this checkout (from the kept layer, or installing now). */
export async function installedDebian12(): Promise<Rootfs> {
  const base = await debian12Base();
  const key = await layerKey(base);
  const existing = existsSync(LAYERS) ? (await readdir(LAYERS)).find((name) => name.startsWith(`${key}-`)) : undefined;
  const layer = existing === undefined ? (await installOnFreshDebian12(base)).layer : join(LAYERS, existing);
  await touch(layer);
  return (await mountOverlay([layer, base])).rootfs;
}

export interface ServerLab {
  readonly netns: string;
  /** voix's address, in the server namespace. */
  readonly serverAddress: string;
  /** A well-behaved client's address, in the root namespace. */
  readonly clientAddress: string;
  /** An attacker's address, in the root namespace too. */
  readonly attackerAddress: string;
}

/** A server namespace joined to the root namespace by a veth pair; removed by the cleanup. */
export async function createServerLab(): Promise<ServerLab> {
  const id = randomBytes(3).toString('hex');
  const taken = (await runIp(['-4', '-o', 'address', 'show'])).stdout;
  let block = Math.floor(Math.random() * 200) + 20;
  for (let attempt = 0; attempt < 200 && taken.includes(`10.80.${block}.`); attempt += 1) block = ((block + 1) % 220) + 20;
  if (taken.includes(`10.80.${block}.`)) throw new Error('no free 10.80.x.0/24 block for the server namespace');
  const subnet = `10.80.${block}`;
  const netns = await createNetns(`voix-e2e-${id}-server`);
  const outside = `vx${id}s0`;
  await createVeth({ name: outside, address: `${subnet}.1/24` }, { name: `vx${id}s1`, netns, address: `${subnet}.2/24` });
  await runIp(['address', 'add', `${subnet}.66/24`, 'dev', outside]);
  return { netns, serverAddress: `${subnet}.2`, clientAddress: `${subnet}.1`, attackerAddress: `${subnet}.66` };
}

export interface VoixService extends StartedUnit {
  /** /var/log/voix/voix.log as voix writes it. */
  readonly log: FollowedFile;
}

/** JSON lines of voix's log (other lines skipped). */
export function jsonLines(lines: readonly string[]): Array<Record<string, unknown>> {
  return lines.flatMap((line) => {
    try {
      const value: unknown = JSON.parse(line);
      return typeof value === 'object' && value !== null ? [value as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

function logged(line: string, predicate: (entry: Record<string, unknown>) => boolean): boolean {
  const [entry] = jsonLines([line]);
  return entry !== undefined && predicate(entry);
}

/** Starts voix.service as systemd would, in the lab's namespace; resolves once SIP over TLS and the admin API listen. */
export async function startVoixService(rootfs: Rootfs, lab: ServerLab): Promise<VoixService> {
  const started = await startUnit(rootfs, '/etc/systemd/system/voix.service', { netns: lab.netns, label: 'voix.service' });
  if (started.outputFile === null) throw new Error('voix.service writes no log file (StandardOutput=append:…)');
  const log = followFile(started.outputFile);
  const since = log.mark();
  const failed = started.process.exited.then((exit) => {
    throw new Error(`voix.service exited (${String(exit.code ?? exit.signal)}):\n${started.process.output(50)}\n${log.lines().slice(-30).join('\n')}`);
  });
  await Promise.race([
    Promise.all([
      log.waitForLine((l) => logged(l, (e) => e['msg'] === 'listening' && e['transport'] === 'tls'), 30_000, { since }),
      log.waitForLine((l) => logged(l, (e) => e['msg'] === 'listening' && e['purpose'] === 'admin api'), 30_000, { since }),
    ]),
    failed,
  ]);
  failed.catch(() => undefined);
  return { ...started, log };
}

/**
 * Waits until `check` (a look at state that sends no event, such as an
 * nftables set) holds, looking every 100 ms, for at most timeoutMs.
 */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** An HTTP GET from inside the namespace (the admin API listens on its loopback): status and body. */
export async function httpGetIn(netns: string, url: string): Promise<{ status: number; body: string }> {
  const script = `fetch(process.argv[1]).then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() })), (e) => { console.error(String(e)); process.exit(1); })`;
  const result = await runProcess('ip', ['netns', 'exec', netns, process.execPath, '-e', script, url], { timeoutMs: 15_000, label: `GET ${url}` });
  if (result.code !== 0) throw new Error(`GET ${url} in ${netns} failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as { status: number; body: string };
}
