/**
 * CPU per registration on voix's REGISTER path, in process, without network
 * nor SIPp: the real SIP stack wired as src/app.ts wires it (transport layer,
 * transaction layer, UAS core, digest authenticator with its nonces and bans,
 * registrar, SQLite binding store in WAL mode in a temporary data directory,
 * metrics, overload guard, JSON logger writing its lines to a file), from the
 * point a UDP datagram is received to the point the response bytes are handed
 * to the socket. The socket is a fake UdpEndpoint that keeps what would have
 * been sent.
 *
 * Each cycle is what SIPp's bench/scenarios/uac-register-digest.xml does for
 * one of 1000 users: REGISTER without credentials, read the 401's nonce,
 * REGISTER again with an MD5 digest answer, expect the 200. The first round
 * over the users creates their bindings; later rounds refresh them with a
 * new Call-ID, as SIPp's next pass does. One datagram per event-loop turn
 * (`--per-turn N` for more: under load libuv hands over up to 32 datagrams
 * read in one go), as at moderate rates. The first rounds warm the JIT up
 * and are not counted. On a core shared with other work the figures move by
 * ±15 % from run to run: compare two versions alternately (`--from DIR` on a
 * copy of each one's dist/) and take medians.
 *
 * Figures: CPU µs per cycle (process.cpuUsage, user + system, for the whole
 * process, minus the client's own work measured alone beforehand), wall µs
 * per cycle, GC counts and time (perf_hooks), and with `--profile DIR` a CPU
 * profile of the measured rounds (inspector: the same .cpuprofile as
 * `node --cpu-prof`) summarised by self and inclusive time. Heap live per
 * cycle: heap used after a forced full GC once the measured rounds are done,
 * minus the same before the warm-up rounds (the first rounds after a forced
 * GC run slower), over the cycles in between; what the completed
 * transactions keep until their Timer J (32 s over UDP) is in it, as long as
 * the warm-up and measured rounds take less than 32 s (the bench says when
 * they do not).
 *
 *   npm run build && taskset -c 1 npx tsx bench/register-path.ts [--from dist|src|DIR] [--rounds 12] [--warmup 8] [--per-turn 1] [--profile DIR] [--top 25] [--log-level info]
 *
 * Not in these figures: the kernel's receive and send of each datagram, and
 * libuv's event-loop work for them (the side-by-side bench, bench/register.ts,
 * has them).
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, readdirSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { UdpEndpoint, UdpTransportOptions } from '../src/sip/transport/udp-transport.js';
import type { VoixConfig } from '../src/config/types.js';
import type { LogLevel } from '../src/log/logger.js';
import { profileSummary, type CpuProfile } from './cpu-profile-top.js';
import { median } from './windows.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const USERS = 1000;
const DOMAIN = 'voix.bench';
const SERVER_PORT = 5060;
const CLIENT_ADDRESS = '127.0.0.1';
const CLIENT_PORT = 5061;

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i === -1 ? undefined : Number(process.argv[i + 1]);
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

function textArgument(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

/**
 * voix's modules, from dist/ (what `node dist/server.js` runs: tsc's output)
 * or from src/ through tsx, whose transform adds work of its own to every
 * closure created (esbuild's keepNames) and so skews the figures, or from
 * another directory holding a compiled tree (a copy of dist/ built from
 * another commit, to compare two versions in one session).
 */
async function loadVoix(from: string) {
  if (from === 'dist') {
    const built = existsSync(path.join(ROOT, 'dist/server.js')) ? statSync(path.join(ROOT, 'dist/server.js')).mtimeMs : 0;
    if (built < newestMtime(path.join(ROOT, 'src'))) throw new Error('dist/ is missing or older than src/: run `npm run build` first (or pass --from src)');
  }
  const base = from === 'dist' || from === 'src' ? path.join(ROOT, from) : path.resolve(from);
  const load = <T>(module: string): Promise<T> => import(pathToFileURL(path.join(base, from === 'src' ? module : module.replace(/\.ts$/, '.js'))).href) as Promise<T>;
  return {
    ...(await load<typeof import('../src/admin/voix-metrics.js')>('admin/voix-metrics.ts')),
    ...(await load<typeof import('../src/app.js')>('app.ts')),
    ...(await load<typeof import('../src/config/load.js')>('config/load.ts')),
    ...(await load<typeof import('../src/config/runtime-config.js')>('config/runtime-config.ts')),
    ...(await load<typeof import('../src/core/digest-authenticator.js')>('core/digest-authenticator.ts')),
    ...(await load<typeof import('../src/core/overload-guard.js')>('core/overload-guard.ts')),
    ...(await load<typeof import('../src/core/sip-core.js')>('core/sip-core.ts')),
    ...(await load<typeof import('../src/log/logger.js')>('log/logger.ts')),
    ...(await load<typeof import('../src/registrar/registrar.js')>('registrar/registrar.ts')),
    ...(await load<typeof import('../src/security/ban-list.js')>('security/ban-list.ts')),
    ...(await load<typeof import('../src/security/security-log.js')>('security/security-log.ts')),
    ...(await load<typeof import('../src/sip/auth/nonce.js')>('sip/auth/nonce.ts')),
    ...(await load<typeof import('../src/sip/transaction/transaction-layer.js')>('sip/transaction/transaction-layer.ts')),
    ...(await load<typeof import('../src/sip/transport/transport-layer.js')>('sip/transport/transport-layer.ts')),
    ...(await load<typeof import('../src/store/database.js')>('store/database.ts')),
    ...(await load<typeof import('../src/store/sqlite-binding-store.js')>('store/sqlite-binding-store.ts')),
    ...(await load<typeof import('../src/util/clock.js')>('util/clock.ts')),
  };
}

type Voix = Awaited<ReturnType<typeof loadVoix>>;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(file) : statSync(file).mtimeMs);
  }
  return newest;
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

interface BenchUser {
  readonly extension: string;
  readonly password: string;
  /** H(user:realm:password), as SIPp computes it from the injection file. */
  readonly ha1: string;
}

/** The same YAML as bench/register.ts gives `node dist/server.js`. */
function benchConfig(voix: Voix, dir: string, users: readonly BenchUser[], logLevel: string): VoixConfig {
  const yaml = [
    'server:',
    `  domain: ${DOMAIN}`,
    '  aliases: [127.0.0.1]',
    `  data_dir: ${dir}/data`,
    `  log_level: ${logLevel}`,
    '  listen:',
    `    udp: { address: 127.0.0.1, port: ${SERVER_PORT} }`,
    '    tcp: false',
    '    tls: false',
    'auth:',
    '  algorithms: [MD5]',
    'users:',
    ...users.map((u) => `  - { extension: "${u.extension}", password: "${u.password}", transports: [udp] }`),
  ];
  const file = path.join(dir, 'voix.yaml');
  writeFileSync(file, `${yaml.join('\n')}\n`);
  const result = voix.parseConfig(`${yaml.join('\n')}\n`, file);
  if (!result.ok) throw new Error(`bench configuration refused: ${JSON.stringify(result.errors)}`);
  return result.config;
}

/** The UDP socket, faked: datagrams are pushed in by the bench, what voix sends is kept. */
class FakeUdp implements UdpEndpoint {
  readonly sent: Buffer[] = [];
  constructor(readonly options: UdpTransportOptions) {}
  listen(): Promise<{ address: string; port: number }> {
    return Promise.resolve({ address: this.options.address, port: this.options.port });
  }
  get address(): string {
    return this.options.address;
  }
  get port(): number {
    return this.options.port;
  }
  send(data: Buffer): void {
    this.sent.push(data);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  receive(data: Buffer): void {
    this.options.onDatagram(data, CLIENT_ADDRESS, CLIENT_PORT);
  }
}

/** voix's signalling parts as src/app.ts builds them (no calls, media, trunks, dialer or admin API). */
async function startStack(voix: Voix, config: VoixConfig, logFile: string): Promise<{ udp: FakeUdp; close: () => Promise<void> }> {
  const fd = openSync(logFile, 'a');
  // Like process.stdout to a file or a pipe under systemd: a synchronous write per line.
  const logger = voix.createLogger({ level: config.server.logLevel, write: (line) => void writeSync(fd, line) });
  const clock = new voix.SystemClock();
  const db = voix.openDatabase(config.server.dataDir);
  const hosts = new Set([DOMAIN, '127.0.0.1', 'localhost']);
  const isLocalHost = (host: string) => hosts.has(host.toLowerCase());
  const runtime = new voix.RuntimeConfig(config);
  const users = voix.usersFromConfig(config);
  const metrics = new voix.VoixMetrics(clock.now());
  const securityLog = new voix.SecurityLog(logger, (event) => metrics.securityEvent(event));
  const bans = new voix.BanList({
    clock,
    maxFailures: config.security.ban.maxFailures,
    windowSeconds: config.security.ban.windowSeconds,
    banSeconds: config.security.ban.durationSeconds,
  });
  const limits = {
    idleTimeoutMs: config.limits.idleTimeoutSeconds * 1000,
    firstMessageTimeoutMs: config.limits.firstMessageTimeoutSeconds * 1000,
    maxConnectionsPerAddress: config.limits.maxConnectionsPerAddress,
    maxConnections: config.limits.maxConnections,
    maxMessageBytes: config.limits.maxMessageSize,
    maxHeaders: config.limits.maxHeaders,
  };
  let udp: FakeUdp | null = null;
  const transport = new voix.SipTransportLayer({
    udp: config.server.listen.udp,
    tcp: null,
    tls: null,
    publicAddress: config.server.publicAddress,
    isBlocked: (address) => bans.isBanned(address),
    limits: () => limits,
    onLimit: () => undefined,
    serverHeader: 'voix',
    logger,
    createUdp: (options) => (udp = new FakeUdp(options)),
  });
  const registrar = new voix.Registrar({
    clock,
    store: new voix.SqliteBindingStore(db),
    settings: runtime.view((c) => c.registrar),
    logger: logger.child({ component: 'registrar' }),
    isLocalHost,
  });
  const authenticator = new voix.DigestAuthenticator({
    realm: config.server.realm,
    get algorithms() {
      return runtime.current().auth.algorithms;
    },
    get md5OnlyUserAgents() {
      // As app.ts reads it (lowerCased, once per list); a tree built before it existed lower-cases at each challenge.
      const list = runtime.current().auth.md5OnlyUserAgents;
      return (voix as Partial<Pick<Voix, 'lowerCased'>>).lowerCased?.(list) ?? list.map((p) => p.toLowerCase());
    },
    users: () => users,
    nonces: new voix.NonceManager({ clock, lifetimeSeconds: config.auth.nonceLifetimeSeconds }),
    bans,
    securityLog,
    onBanned: (source) => transport.disconnect(source),
    logger,
  });
  const core = new voix.SipCore({ registrar, authenticator, securityLog, isLocalHost, serverHeader: 'voix', logger });
  let transactions: InstanceType<Voix['TransactionLayer']>;
  const overload = new voix.OverloadGuard({
    settings: () => runtime.current().overload,
    clock,
    eventLoopLagMs: () => 0,
    transactionsInProgress: () => transactions.serverTransactionsInProgress,
    serverHeader: 'voix',
    logger: logger.child({ component: 'overload' }),
    onRefused: (reason) => metrics.overloadRefused(reason),
  });
  transactions = new voix.TransactionLayer({
    sender: transport,
    clock,
    user: core,
    logger: logger.child({ component: 'transaction' }),
    screen: (request) => {
      metrics.requestReceived(request.method);
      return overload.screen(request);
    },
  });
  core.attach(transactions, null);
  transport.setHandler({
    onRequest: (request, flow) => transactions.receiveRequest(request, flow),
    onResponse: (response, flow) => transactions.receiveResponse(response, flow),
  });
  registrar.start();
  await transport.start();
  if (udp === null) throw new Error('the transport layer made no UDP socket');
  return {
    udp,
    close: async () => {
      registrar.stop();
      bans.dispose();
      await transport.stop();
      db.close();
      closeSync(fd);
    },
  };
}

/** SIPp's first REGISTER of uac-register-digest.xml, as it sends it. */
function firstRegister(user: BenchUser, call: number): Buffer {
  return Buffer.from(
    `REGISTER sip:${DOMAIN} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${CLIENT_ADDRESS}:${CLIENT_PORT};branch=z9hG4bK-4242-${call}-0;rport\r\n` +
      `From: <sip:${user.extension}@${DOMAIN}>;tag=4242SIPpTag00${call}\r\n` +
      `To: <sip:${user.extension}@${DOMAIN}>\r\n` +
      `Call-ID: ${call}-4242@${CLIENT_ADDRESS}\r\n` +
      `CSeq: 1 REGISTER\r\n` +
      `Contact: <sip:${user.extension}@${CLIENT_ADDRESS}:${CLIENT_PORT}>\r\n` +
      `Max-Forwards: 70\r\n` +
      `Expires: 3600\r\n` +
      `Content-Length: 0\r\n\r\n`,
  );
}

const HA2 = md5(`REGISTER:sip:${DOMAIN}`);

/** SIPp's second REGISTER, with its Authorization header laid out as SIPp 3.6 writes it (auth.cpp). */
function secondRegister(user: BenchUser, call: number, nonce: string, realm: string): Buffer {
  const cnonce = (0x6b8b4567 + call).toString(16);
  const response = md5(`${user.ha1}:${nonce}:00000001:${cnonce}:auth:${HA2}`);
  return Buffer.from(
    `REGISTER sip:${DOMAIN} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${CLIENT_ADDRESS}:${CLIENT_PORT};branch=z9hG4bK-4242-${call}-2;rport\r\n` +
      `From: <sip:${user.extension}@${DOMAIN}>;tag=4242SIPpTag00${call}\r\n` +
      `To: <sip:${user.extension}@${DOMAIN}>\r\n` +
      `Call-ID: ${call}-4242@${CLIENT_ADDRESS}\r\n` +
      `CSeq: 2 REGISTER\r\n` +
      `Contact: <sip:${user.extension}@${CLIENT_ADDRESS}:${CLIENT_PORT}>\r\n` +
      `Authorization: Digest username="${user.extension}",realm="${realm}",cnonce="${cnonce}",nc=00000001,qop=auth,` +
      `uri="sip:${DOMAIN}",nonce="${nonce}",response="${response}",algorithm=MD5\r\n` +
      `Max-Forwards: 70\r\n` +
      `Expires: 3600\r\n` +
      `Content-Length: 0\r\n\r\n`,
  );
}

function statusOf(response: Buffer): number {
  return Number(response.toString('latin1', 8, 11));
}

function nonceOf(challenge: Buffer): string {
  const text = challenge.toString('latin1');
  const start = text.indexOf('nonce="');
  if (start === -1) throw new Error(`no nonce in:\n${text}`);
  return text.slice(start + 7, text.indexOf('"', start + 7));
}

function take(udp: FakeUdp): Buffer {
  const out = udp.sent.shift();
  if (out === undefined) throw new Error('voix sent nothing');
  if (udp.sent.length > 0) throw new Error(`voix sent ${udp.sent.length + 1} datagrams for one`);
  return out;
}

interface Round {
  readonly cycles: number;
  readonly cpuUs: number;
  readonly wallUs: number;
}

/**
 * One pass over the users. `serve` false runs the client's side alone
 * (building both REGISTERs, reading a nonce, the digest), to subtract it.
 */
async function round(udp: FakeUdp, users: readonly BenchUser[], firstCall: number, perTurn: number, realm: string, replies: readonly Buffer[] | null): Promise<Round> {
  const cpu0 = process.cpuUsage();
  const wall0 = process.hrtime.bigint();
  let call = firstCall;
  let inTurn = 0;
  for (const user of users) {
    call++;
    const first = firstRegister(user, call);
    let challenge: Buffer;
    if (replies === null) {
      udp.receive(first);
      challenge = take(udp);
      if (statusOf(challenge) !== 401) throw new Error(`expected 401, got:\n${challenge.toString()}`);
    } else {
      challenge = replies[0] as Buffer;
    }
    if (++inTurn >= perTurn) {
      inTurn = 0;
      await nextTurn();
    }
    const second = secondRegister(user, call, nonceOf(challenge), realm);
    if (replies === null) {
      udp.receive(second);
      const ok = take(udp);
      if (statusOf(ok) !== 200) throw new Error(`expected 200, got:\n${ok.toString()}`);
    }
    if (++inTurn >= perTurn) {
      inTurn = 0;
      await nextTurn();
    }
  }
  const cpu = process.cpuUsage(cpu0);
  return { cycles: users.length, cpuUs: cpu.user + cpu.system, wallUs: Number(process.hrtime.bigint() - wall0) / 1000 };
}

interface GcCounts {
  minor: number;
  major: number;
  incremental: number;
  weakcb: number;
  ms: number;
}

function watchGc(): { counts: GcCounts; stop: () => void } {
  const counts: GcCounts = { minor: 0, major: 0, incremental: 0, weakcb: 0, ms: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
      counts.ms += entry.duration;
      if (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) counts.minor++;
      else if (kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) counts.major++;
      else if (kind === perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL) counts.incremental++;
      else counts.weakcb++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return { counts, stop: () => observer.disconnect() };
}

/** Heap used after a full GC, in bytes (gc() exposed at run time, no node flag needed). */
function heapAfterGc(): number {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function main(): Promise<void> {
  const rounds = argument('rounds', 12);
  const warmup = argument('warmup', 8);
  const perTurn = argument('per-turn', 1);
  const top = argument('top', 25);
  const profileDir = textArgument('profile');
  const logLevel = (textArgument('log-level') ?? 'info') as LogLevel;
  const from = textArgument('from') ?? 'dist';
  const voix = await loadVoix(from);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'voix-register-path-'));
  try {
    const users: BenchUser[] = Array.from({ length: USERS }, (_, i) => {
      const extension = String(100000 + i);
      const password = `bench-${i.toString(16).padStart(6, '0')}`;
      return { extension, password, ha1: md5(`${extension}:${DOMAIN}:${password}`) };
    });
    const config = benchConfig(voix, dir, users, logLevel);
    if (config.server.realm !== DOMAIN) throw new Error(`realm ${config.server.realm}, expected ${DOMAIN}`);
    const logFile = path.join(dir, 'voix.log');
    const { udp, close } = await startStack(voix, config, logFile);

    // The client's own work, alone: building both requests, reading the nonce, the MD5s.
    const sample = firstRegister(users[0] as BenchUser, 0);
    udp.receive(sample);
    const sampleChallenge = take(udp);
    const clientRuns: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await round(udp, users, 1_000_000 + i * USERS, perTurn, config.server.realm, [sampleChallenge]);
      clientRuns.push(r.cpuUs / r.cycles);
    }
    const clientUs = median(clientRuns);

    let call = 0;
    const run = async (): Promise<Round> => {
      const r = await round(udp, users, call, perTurn, config.server.realm, null);
      call += USERS;
      return r;
    };
    const startedAt = performance.now();
    const creation = await run();
    // Before the warm-up, whose rounds absorb what a forced full GC costs the next allocations: the measured rounds do not see it.
    const heapBefore = heapAfterGc();
    let warmupCycles = 0;
    for (let i = 0; i < warmup; i++) warmupCycles += (await run()).cycles;

    const logBytesBefore = statSync(logFile).size;
    const gc = watchGc();
    let session: Session | null = null;
    if (profileDir !== undefined) {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
      await session.post('Profiler.start');
    }
    const measured: Round[] = [];
    for (let i = 0; i < rounds; i++) measured.push(await run());
    let profile: CpuProfile | null = null;
    if (session !== null) {
      const { profile: p } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
      profile = p;
      session.disconnect();
    }
    // Let the last GC entries arrive.
    await nextTurn();
    gc.stop();
    const heapAfter = heapAfterGc();
    const elapsedS = (performance.now() - startedAt) / 1000;
    const logBytes = statSync(logFile).size - logBytesBefore;
    await close();

    const cycles = measured.reduce((n, r) => n + r.cycles, 0);
    const perCycle = measured.map((r) => r.cpuUs / r.cycles - clientUs);
    console.log(`voix REGISTER path, in process (bench/register-path.ts): ${USERS} users, MD5 digest, SQLite binding store (WAL), log level ${logLevel}, voix from ${from}, ${perTurn} datagram(s) per event-loop turn`);
    console.log(`Node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, pid ${process.pid}`);
    console.log(`client work alone (subtracted): ${clientUs.toFixed(1)} µs per cycle`);
    console.log(`first round (bindings created): ${(creation.cpuUs / creation.cycles - clientUs).toFixed(1)} µs CPU per cycle`);
    console.log(`refresh rounds (${rounds} x ${USERS} cycles, after ${warmup} warm-up rounds): CPU µs per cycle ${perCycle.map((v) => v.toFixed(1)).join(' ')}`);
    const meanUs = measured.reduce((n, r) => n + r.cpuUs, 0) / cycles - clientUs;
    console.log(`  mean ${meanUs.toFixed(1)} µs CPU per REGISTER→401→REGISTER→200 cycle (GC included), median of the rounds ${median(perCycle).toFixed(1)}; wall ${median(measured.map((r) => r.wallUs / r.cycles)).toFixed(1)} µs per cycle`);
    console.log(`  GC: ${gc.counts.minor} minor, ${gc.counts.major} major, ${gc.counts.incremental} incremental, ${gc.counts.weakcb} other; ${gc.counts.ms.toFixed(1)} ms in GC (${((gc.counts.ms * 1000) / cycles).toFixed(1)} µs per cycle), ${((gc.counts.minor * 1000) / cycles).toFixed(2)} minor GCs per 1000 cycles`);
    console.log(`  heap live: ${((heapAfter - heapBefore) / (warmupCycles + cycles)).toFixed(0)} bytes per cycle after a forced GC (${(heapBefore / 1e6).toFixed(1)} MB before the warm-up rounds, ${(heapAfter / 1e6).toFixed(1)} MB after the measured ones; ${elapsedS.toFixed(1)} s since the first round${elapsedS >= 32 ? ', over 32 s: some Timer J expired, the figure is low' : ''})`);
    console.log(`  log: ${(logBytes / cycles).toFixed(0)} bytes per cycle`);
    if (profile !== null && profileDir !== undefined) {
      mkdirSync(profileDir, { recursive: true });
      const file = path.join(profileDir, `register-path-${Date.now()}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      console.log(`\nCPU profile of the refresh rounds: ${file} (sampling every 100 µs; inclusive time counts a function once per sample even when recursive)`);
      console.log(profileSummary(profile, top));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
