/**
 * The composition root: builds voix's parts from a loaded configuration,
 * starts them in order and stops them in reverse. Nothing here parses or
 * decides protocol behaviour; it only wires.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CallCore } from './calls/call-core.js';
import { CallRouter } from './routing/call-router.js';
import { PlayoutTracker } from './media/playout-tracker.js';
import { PromptLibrary } from './media/prompt-library.js';
import type { PreparedPrompt } from './media/prompts/prompt-store.js';
import { TrunkIdentifier } from './trunks/trunk-identifier.js';
import { CdrStore } from './calls/cdr-store.js';
import { RelayCallMedia } from './calls/relay-call-media.js';
import type { ReloadOutcome } from './config/reload-controller.js';
import { planReload } from './config/reload-plan.js';
import { RuntimeConfig } from './config/runtime-config.js';
import type { VoixConfig } from './config/types.js';
import { DigestAuthenticator } from './core/digest-authenticator.js';
import { SipCore } from './core/sip-core.js';
import { MapUserDirectory, type DirectoryUser, type UserDirectory } from './core/users.js';
import type { Logger } from './log/logger.js';
import { Registrar } from './registrar/registrar.js';
import { BanList } from './security/ban-list.js';
import { BanStore } from './store/ban-store.js';
import { SecurityLog } from './security/security-log.js';
import { NonceManager } from './sip/auth/nonce.js';
import { TransactionLayer } from './sip/transaction/transaction-layer.js';
import { TrunkRegistrar } from './trunks/trunk-registrar.js';
import { SipTransportLayer, type TransportLimits } from './sip/transport/transport-layer.js';
import type { TransportProtocol } from './sip/transport/types.js';
import { databasePath, openDatabase, type Db } from './store/database.js';
import { WalCheckpointer } from './store/wal-checkpointer.js';
import { WorkerMediaEngine, withoutMemoryReducer } from './rtp/worker-media-engine.js';
import { SqliteBindingStore } from './store/sqlite-binding-store.js';
import { ensureServerCertificate } from './tls/certificates.js';
import { SystemClock, type Clock, type TimerHandle } from './util/clock.js';
import { CampaignCalls, campaignOrigin } from './dialer/campaign-calls.js';
import { CampaignStore } from './dialer/campaign-store.js';
import { Dialer } from './dialer/dialer.js';
import { AdminApi, type HealthState } from './admin/admin-api.js';
import { VoixMetrics } from './admin/voix-metrics.js';
import { EventLoopLagMonitor } from './util/event-loop-lag.js';
import { GcPauseObserver } from './util/gc-pauses.js';
import { MediaWorkerMemoryPoller } from './admin/media-worker-memory.js';
import { OverloadGuard } from './core/overload-guard.js';
import { VERSION } from './cli/args.js';
import { PromptStore } from './media/prompts/prompt-store.js';
import { newCallId } from './sip/builders.js';

export const SERVER_HEADER = 'voix';

/** Part of the shutdown grace kept for closing sockets, workers and the database. */
const CLOSE_RESERVE_MS = 2000;
/** How often the worker checkpoints the database's write-ahead log. */
const CHECKPOINT_INTERVAL_MS = 500;

export interface BoundListener {
  readonly transport: TransportProtocol;
  readonly address: string;
  readonly port: number;
}

export function usersFromConfig(config: VoixConfig): UserDirectory {
  const users: DirectoryUser[] = config.users.map((u) => ({
    extension: u.extension,
    name: u.displayName ?? u.extension,
    ha1: {
      ...(u.credentials.ha1Md5 !== null ? { MD5: u.credentials.ha1Md5 } : {}),
      ...(u.credentials.ha1Sha256 !== null ? { 'SHA-256': u.credentials.ha1Sha256 } : {}),
    },
    transports: u.transports,
    maxContacts: u.maxContacts,
    srtp: u.srtp,
  }));
  return new MapUserDirectory(users);
}

const lowerCasedLists = new WeakMap<readonly string[], readonly string[]>();

/** The list lower-cased, made once per list (the authenticator reads it at each challenge; a reload brings a new list). */
export function lowerCased(list: readonly string[]): readonly string[] {
  let lower = lowerCasedLists.get(list);
  if (lower === undefined) lowerCasedLists.set(list, (lower = list.map((s) => s.toLowerCase())));
  return lower;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Every name and address a Request-URI may use for this server. */
export function localHostNames(config: VoixConfig): Set<string> {
  const names = new Set<string>([config.server.domain, ...config.server.aliases, 'localhost', os.hostname().toLowerCase()]);
  if (config.server.publicAddress !== null) names.add(config.server.publicAddress.toLowerCase());
  for (const list of Object.values(os.networkInterfaces())) {
    for (const info of list ?? []) names.add(info.address.toLowerCase());
  }
  const { udp, tcp, tls } = config.server.listen;
  for (const l of [udp, tcp, tls]) if (l !== null) names.add(l.address.toLowerCase());
  return names;
}

function tlsMaterial(config: VoixConfig, hosts: Set<string>, logger: Logger): { key: string; cert: string } | null {
  const tls = config.server.listen.tls;
  if (tls === null) return null;
  if (tls.certificate !== null) {
    return { key: readFileSync(tls.certificate.keyFile, 'utf8'), cert: readFileSync(tls.certificate.certificateFile, 'utf8') };
  }
  const hostnames: string[] = [];
  const ipAddresses: string[] = [];
  for (const h of hosts) {
    const bare = stripBrackets(h);
    if (bare === '0.0.0.0' || bare === '::') continue;
    if (isIP(bare) !== 0) ipAddresses.push(bare);
    else if (/^[a-z0-9.-]+$/.test(bare)) hostnames.push(bare);
  }
  const generated = ensureServerCertificate({ dir: path.join(config.server.dataDir, 'tls'), hostnames, ipAddresses });
  logger.info('tls ca', {
    caPath: generated.caCertPath,
    fingerprint: generated.caFingerprintSha256,
    created: generated.created,
    reissued: generated.reissued,
  });
  return { key: generated.keyPem, cert: generated.certPem };
}

/**
 * The address written in SDP for media: the media bind address when it is a
 * specific one, else the host voix advertises in SIP.
 */
function mediaAddress(config: VoixConfig, sipHost: string): string {
  const bind = config.media.address;
  return bind !== '0.0.0.0' && bind !== '::' ? bind : (config.server.publicAddress ?? sipHost);
}

export interface StartOptions {
  /**
   * The wall clock time conditions read (opening hours, holidays); the
   * system clock by default. server.ts shifts it for end-to-end tests
   * (VOIX_CALENDAR_START) without touching protocol timers or stored times.
   */
  readonly calendarNow?: () => number;
  /** The configuration's prompts, prepared (load-with-prompts.ts): loaded into the media workers at start. */
  readonly prompts?: ReadonlyMap<string, PreparedPrompt>;
  /** The configuration file's directory: relative prompt files are found from it. */
  readonly configDir?: string;
}

export class VoixServer {
  private constructor(
    readonly listeners: readonly BoundListener[],
    private readonly transport: SipTransportLayer,
    private readonly calls: CallCore,
    private readonly media: WorkerMediaEngine,
    private readonly registrar: Registrar,
    private readonly bans: BanList,
    private readonly banStore: BanStore,
    private readonly db: Db,
    private readonly checkpointer: WalCheckpointer,
    private readonly logger: Logger,
    /** The running configuration: read through it, subscribe to its changes (reload). */
    readonly runtime: RuntimeConfig,
    /** Registrations to the SIP providers (trunks with register: true); status() for `voix status`. */
    readonly trunks: TrunkRegistrar,
    /** The prompts in the media workers: a reload loads the new configuration's before it applies it. */
    readonly prompts: PromptLibrary,
    /** The campaign dialer: calls out while a campaign runs. */
    private readonly dialer: Dialer,
    /** The read-only HTTP API, when admin.listen enables it. */
    private readonly admin: AdminApi | null,
    /** The /metrics figures. */
    readonly metrics: VoixMetrics,
    private readonly lag: EventLoopLagMonitor,
    private readonly gcPauses: GcPauseObserver,
    private readonly workerMemory: MediaWorkerMemoryPoller,
    /** Refuses new requests beyond the configured load, and all of them once stopping. */
    readonly overload: OverloadGuard,
    private readonly transactions: TransactionLayer,
    private readonly clock: Clock,
  ) {}

  static async start(config: VoixConfig, logger: Logger, clock: Clock = new SystemClock(), options: StartOptions = {}): Promise<VoixServer> {
    mkdirSync(config.server.dataDir, { recursive: true, mode: 0o750 });
    const db = openDatabase(config.server.dataDir);
    const hosts = localHostNames(config);
    const isLocalHost = (host: string) => hosts.has(stripBrackets(host).toLowerCase()) || hosts.has(host.toLowerCase());
    const runtime = new RuntimeConfig(config);
    let users = usersFromConfig(config);
    runtime.onChange('users', ({ current }) => {
      users = usersFromConfig(current);
    });
    const metrics = new VoixMetrics(clock.now());
    // Checkpoints (and their fsyncs) run in a worker thread, not in the SIP thread's commits (wal-checkpointer.ts, ADR 0009).
    // It is the process's first worker: V8's memory reducer goes first, or it would stay on in the media workers too (ADR 0008).
    withoutMemoryReducer();
    const checkpointer = WalCheckpointer.start({
      file: databasePath(config.server.dataDir),
      intervalMs: CHECKPOINT_INTERVAL_MS,
      connections: [db],
      logger,
      onCheckpoint: (result) => metrics.databaseCheckpoint(result),
    });
    const lag = new EventLoopLagMonitor({ clock, now: () => performance.now(), onSample: (lagMs) => metrics.eventLoopLagSample(lagMs) });
    const gcPauses = new GcPauseObserver((kind, durationMs) => metrics.gcPause(kind, durationMs));
    const securityLog = new SecurityLog(logger, (event) => metrics.securityEvent(event));
    // Bans live in the database too: a restart keeps them, and the CLI lists and lifts them (ban-store.ts).
    const banStore = new BanStore(db);
    banStore.purgeExpired(clock.now());
    const bans = new BanList({
      clock,
      maxFailures: config.security.ban.maxFailures,
      windowSeconds: config.security.ban.windowSeconds,
      banSeconds: config.security.ban.durationSeconds,
      onBan: (ban) => banStore.record({ source: ban.source, bannedAt: clock.now(), expiresAt: ban.expiresAt }),
      onUnban: (source, reason) => {
        banStore.remove(source);
        securityLog.record('unban', { src: source, reason });
      },
    });
    let restored = 0;
    for (const ban of banStore.active(clock.now())) {
      // A row that cannot be restored (expired meanwhile) goes.
      if (bans.restore(ban.source, ban.expiresAt)) restored++;
      else banStore.remove(ban.source);
    }
    if (restored > 0) logger.info('bans restored', { bans: restored });
    runtime.onChange('security.ban', ({ current }) => {
      const ban = current.security.ban;
      bans.reconfigure({ maxFailures: ban.maxFailures, windowSeconds: ban.windowSeconds, banSeconds: ban.durationSeconds });
    });
    const { udp, tcp } = config.server.listen;
    const tlsListen = config.server.listen.tls;
    const material = tlsMaterial(config, hosts, logger);
    const transportLimits = (c: VoixConfig): TransportLimits => ({
      idleTimeoutMs: c.limits.idleTimeoutSeconds * 1000,
      firstMessageTimeoutMs: c.limits.firstMessageTimeoutSeconds * 1000,
      maxConnectionsPerAddress: c.limits.maxConnectionsPerAddress,
      maxConnections: c.limits.maxConnections,
      maxMessageBytes: c.limits.maxMessageSize,
      maxHeaders: c.limits.maxHeaders,
    });
    let limits = transportLimits(config);
    runtime.onChange('limits', ({ current }) => {
      limits = transportLimits(current);
    });
    const transport = new SipTransportLayer({
      udp,
      tcp,
      tls: tlsListen !== null && material !== null ? { address: tlsListen.address, port: tlsListen.port, ...material } : null,
      publicAddress: config.server.publicAddress,
      isBlocked: (address) => bans.isBanned(address),
      limits: () => limits,
      onLimit: (event) => (event.kind === 'connection' ? metrics.connectionRefused(event.transport, event.reason) : metrics.messageRefused(event.transport, event.reason)),
      serverHeader: SERVER_HEADER,
      logger,
    });
    const registrar = new Registrar({
      clock,
      store: new SqliteBindingStore(db),
      settings: runtime.view((c) => c.registrar),
      logger: logger.child({ component: 'registrar' }),
      isLocalHost,
    });
    const authenticator = new DigestAuthenticator({
      realm: config.server.realm,
      get algorithms() {
        return runtime.current().auth.algorithms;
      },
      get md5OnlyUserAgents() {
        return lowerCased(runtime.current().auth.md5OnlyUserAgents);
      },
      users: () => users,
      nonces: new NonceManager({ clock, lifetimeSeconds: config.auth.nonceLifetimeSeconds }),
      bans,
      securityLog,
      onBanned: (source) => transport.disconnect(source),
      logger,
    });
    const trunkIdentifier = new TrunkIdentifier(logger.child({ component: 'trunks' }));
    await trunkIdentifier.update(config.trunks);
    runtime.onChange('trunks', ({ previous, current }) => {
      if (previous.trunks === current.trunks) return;
      trunkIdentifier.update(current.trunks).catch((err: unknown) => logger.error('trunk addresses not updated', { error: err }));
    });
    const core = new SipCore({
      registrar,
      authenticator,
      securityLog,
      isLocalHost,
      serverHeader: SERVER_HEADER,
      logger,
      identifyTrunk: (address, port) => trunkIdentifier.identify(address, port),
    });
    let transactions: TransactionLayer;
    const overload = new OverloadGuard({
      settings: () => runtime.current().overload,
      clock,
      eventLoopLagMs: () => lag.lagMs,
      transactionsInProgress: () => transactions.serverTransactionsInProgress,
      serverHeader: SERVER_HEADER,
      logger: logger.child({ component: 'overload' }),
      onRefused: (reason) => metrics.overloadRefused(reason),
    });
    transactions = new TransactionLayer({
      sender: transport,
      clock,
      user: core,
      logger: logger.child({ component: 'transaction' }),
      screen: (request) => {
        metrics.requestReceived(request.method);
        return overload.screen(request);
      },
    });
    const trunks = new TrunkRegistrar({
      trunks: config.trunks,
      transactions,
      clock,
      logger: logger.child({ component: 'trunks' }),
      localEndpoint: (t) => transport.localEndpoint(t),
      userAgent: SERVER_HEADER,
    });
    runtime.onChange('trunks', ({ previous, current }) => {
      if (previous.trunks === current.trunks) return;
      trunks.reload(current.trunks).catch((err: unknown) => logger.error('trunk reload failed', { error: err }));
    });
    const playout = new PlayoutTracker();
    const media = new WorkerMediaEngine({
      address: config.media.address,
      portMin: config.media.portMin,
      portMax: config.media.portMax,
      ...(config.media.workers > 0 ? { workers: config.media.workers } : {}),
      logger,
      // A media worker that dies takes its relays with it: those calls are ended cleanly.
      onRelaysLost: (event) => void calls.mediaLost(event.relays.map((r) => r.callId)),
      onPlayout: (event) => playout.onEvent(event),
      // Keys the caller sends while voix answers it (menus): RFC 4733 events or in-band tones, found in the workers.
      onDtmf: (event) => calls.onDtmf(event.callId, event.digit, event.source),
      // Whether a call voix placed reached a person or an answering machine.
      onAmd: (event) => calls.onAmd(event.callId, event.verdict, event.reason),
    });
    const cdrs = new CdrStore(db, (end) => metrics.callEnded(end));
    const stale = cdrs.closeStaleCalls(clock.now());
    if (stale > 0) logger.warn('calls left open by the previous run closed', { calls: stale });
    let router: CallRouter;
    const calls: CallCore = new CallCore({
      transactions,
      sender: transport,
      clock,
      logger: logger.child({ component: 'calls' }),
      settings: runtime.view((c) => c.calls),
      serverHeader: SERVER_HEADER,
      domain: config.server.domain,
      localEndpoint: (t) => transport.localEndpoint(t),
      cdrs,
      config: () => runtime.current(),
      router: (router = new CallRouter({
        config: () => runtime.current(),
        registrar,
        clock,
        securityLog,
        logger: logger.child({ component: 'routing' }),
        trunkCalls: (trunk): number => calls.callsThrough(trunk),
        ...(options.calendarNow !== undefined ? { calendarNow: options.calendarNow } : {}),
      })),
      openMedia: async (callId, caller) => {
        const relay = await media.allocate(callId);
        const sdpAddress = config.media.publicAddress ?? mediaAddress(config, transport.localEndpoint(caller.transport).host);
        return new RelayCallMedia(media, relay, sdpAddress, caller, { engine: media, tracker: playout });
      },
      onRefused: (status) => metrics.callRefused(status),
    });
    core.attach(transactions, calls);
    transport.setHandler({
      onRequest: (request, flow) => transactions.receiveRequest(request, flow),
      onResponse: (response, flow) => transactions.receiveResponse(response, flow),
    });
    registrar.start();
    let listeners: BoundListener[];
    try {
      await media.start();
      listeners = await transport.start();
    } catch (err) {
      registrar.stop();
      bans.dispose();
      await transport.stop();
      await media.stop();
      await checkpointer.stop();
      db.close();
      throw err;
    }
    const prompts = new PromptLibrary(media);
    await prompts.load(options.prompts ?? new Map());
    for (const l of listeners) logger.info('listening', { transport: l.transport, address: l.address, port: l.port });
    trunks.start();
    const calendarNow = options.calendarNow ?? (() => clock.now());
    const campaignCalls = new CampaignCalls({
      trunks: () => runtime.current().trunks,
      target: (trunk, number, campaign) => router.trunkTarget(runtime.current(), trunk, number, { number: campaign.callerId, name: null }),
      originate: (request) => calls.originate(request),
      prompts: PromptStore.forDataDir(config.server.dataDir, options.configDir !== undefined ? { baseDir: options.configDir } : {}),
      playout: media,
      logger: logger.child({ component: 'dialer' }),
      now: calendarNow,
    });
    const campaignStore = new CampaignStore(db);
    const dialer = new Dialer({
      store: campaignStore,
      clock,
      now: calendarNow,
      campaigns: () => runtime.current().campaigns,
      trunks: () => runtime.current().trunks,
      trunkCalls: (trunk) => calls.callsThrough(trunk),
      place: (call) => campaignCalls.place(call),
      freeAgents: (campaign) => {
        const config = runtime.current();
        const group = config.groups.find((g) => g.number === campaign.connect);
        const agents = group?.members ?? (campaign.connect === null ? [] : [campaign.connect]);
        const occupied = calls.occupiedUsers();
        const free = agents.filter((agent) => !occupied.has(agent) && registrar.lookup(agent).length > 0).length;
        return free - calls.placedCallsWithoutUser(campaignOrigin(campaign.name));
      },
      newCallId: () => newCallId(),
      logger: logger.child({ component: 'dialer' }),
    });
    dialer.start();
    metrics.attach({
      version: VERSION,
      registrations: () => registrar.all().length,
      activeCalls: () => calls.activeCallCount(),
      mediaRelays: () => media.activeRelays(),
      transactions: () => ({ server: transactions.serverTransactionCount, serverInProgress: transactions.serverTransactionsInProgress, client: transactions.clientTransactionCount }),
      connections: () => transport.connectionCounts(),
      activeBans: () => bans.bans().length,
      eventLoopLagMs: () => lag.lagMs,
      overloaded: () => overload.state().refusing,
      campaigns: () => campaignStore.campaigns(),
      campaignProgress: (campaign) => campaignStore.progress(campaign.id),
    });
    lag.start();
    gcPauses.start();
    const workerMemory = new MediaWorkerMemoryPoller({
      clock,
      read: () => media.memory(),
      onReading: (memory) => metrics.mediaWorkerMemory(memory),
      logger: logger.child({ component: 'metrics' }),
    });
    workerMemory.start();
    const startedAt = clock.now();
    const health = (): HealthState => {
      const state = overload.state();
      return state.stopping ? 'stopping' : state.refusing ? 'overloaded' : 'ok';
    };
    const liveStatus = (): Record<string, unknown> => ({
      status: health(),
      overload: overload.state(),
      version: VERSION,
      pid: process.pid,
      startedAt: new Date(startedAt).toISOString(),
      uptimeSeconds: Math.floor((clock.now() - startedAt) / 1000),
      registrations: registrar.all().length,
      activeCalls: calls.activeCallCount(),
      mediaRelays: media.activeRelays(),
      transactions: { server: transactions.serverTransactionCount, serverInProgress: transactions.serverTransactionsInProgress, client: transactions.clientTransactionCount },
      connections: transport.connectionCounts(),
      bans: bans.bans().length,
      eventLoopLagMs: Math.round(lag.lagMs * 10) / 10,
      memory: { rssBytes: process.memoryUsage.rss() },
    });
    const adminListen = config.admin.listen;
    const admin =
      adminListen === null
        ? null
        : new AdminApi({
            address: adminListen.address,
            port: adminListen.port,
            campaigns: campaignStore,
            configuredCampaigns: () => runtime.current().campaigns,
            now: calendarNow,
            logger: logger.child({ component: 'admin' }),
            metrics: () => metrics.render(),
            status: liveStatus,
            health,
          });
    await admin?.start();
    logger.info('ready', { domain: config.server.domain, users: users.all().length, registrations: registrar.all().length });
    return new VoixServer(listeners, transport, calls, media, registrar, bans, banStore, db, checkpointer, logger, runtime, trunks, prompts, dialer, admin, metrics, lag, gcPauses, workerMemory, overload, transactions, clock);
  }

  /**
   * Lifts the bans the operator deleted from the database (`voix unban`,
   * then SIGUSR2): every ban in force whose row is gone. Returns the
   * sources freed.
   */
  syncBans(): string[] {
    const stored = new Set(this.banStore.active(this.clock.now()).map((b) => b.source));
    const lifted = this.bans
      .bans()
      .map((b) => b.source)
      .filter((source) => !stored.has(source));
    for (const source of lifted) this.bans.unban(source);
    return lifted;
  }

  /** Another connection to the server's database (server.ts's runtime state): it leaves checkpoints to the worker too. */
  adoptDatabaseConnection(db: Db): void {
    this.checkpointer.adopt(db);
  }

  configGeneration(): number {
    return this.runtime.generation();
  }

  /**
   * Runs with `next` from now on, as far as a running server can: calls in
   * progress and registrations stay; settings read once at start (sockets,
   * data dir, media, domain and realm) wait for a restart and are listed as
   * warnings. Parts with state of their own follow through runtime.onChange.
   */
  reload(next: VoixConfig): ReloadOutcome {
    const plan = planReload(this.runtime.current(), next);
    const failures = this.runtime.replace(plan.effective);
    return {
      generation: this.runtime.generation(),
      applied: plan.applied,
      warnings: [...plan.restartRequired, ...failures.map((f) => `${f.listener}: not applied: ${f.message}`)],
    };
  }

  /**
   * Stops within `graceMs` (server.shutdown_grace): new out-of-dialog
   * requests get 503 with Retry-After and TCP/TLS accept no new connection;
   * the dialer stops; every call is ended by voix (BYE once answered,
   * CANCEL towards phones still ringing, 503 to callers still waiting) and
   * its record completed; trunk registrations are withdrawn; then voix
   * waits for the answers to what it sent, and closes everything. Whatever
   * is still unanswered when the grace runs out is left (and logged): the
   * sockets close in time for the process to exit within the grace.
   */
  async stop(graceMs = this.runtime.current().server.shutdownGraceSeconds * 1000): Promise<void> {
    const startedAt = this.clock.now();
    // Closing the sockets, the workers and the database takes a moment of its own.
    const deadline = startedAt + graceMs - Math.min(CLOSE_RESERVE_MS, graceMs / 4);
    const left = () => Math.max(0, deadline - this.clock.now());
    this.overload.startDraining();
    this.transport.stopAccepting();
    this.dialer.stopDialing();
    const calls = this.calls.activeCallCount();
    this.logger.info('stopping: refusing new requests, ending calls', { calls, graceSeconds: graceMs / 1000 });
    const ended = await this.within(this.calls.hangUpAll('server-stopped'), left());
    // The campaign calls just ended are recorded before the database closes.
    const recorded = await this.within(this.dialer.idle(), left());
    // The unregistrations leave (and their challenges are answered) while the transports still run.
    const unregistered = await this.within(this.trunks.stop(), left());
    // The BYEs and CANCELs are answered (or retransmitted until they are) before the sockets close.
    const answered = await this.transactions.settled(left());
    if (!ended || !recorded || !unregistered || !answered) {
      this.logger.warn('stopping: grace time reached, closing anyway', {
        callsEnded: ended,
        campaignCallsRecorded: recorded,
        trunksUnregistered: unregistered,
        requestsUnanswered: this.transactions.clientTransactionsOutstanding,
      });
    }
    await this.admin?.stop();
    await this.transport.stop();
    this.workerMemory.stop();
    await this.media.stop();
    this.registrar.stop();
    this.bans.dispose();
    this.lag.stop();
    this.gcPauses.stop();
    await this.checkpointer.stop();
    this.db.close();
    this.logger.info('stopped', { calls, durationMs: this.clock.now() - startedAt });
  }

  /** Waits for `work`, at most `ms`: true when it finished in time. */
  private async within(work: Promise<unknown>, ms: number): Promise<boolean> {
    let timer: TimerHandle | undefined;
    const timeout = new Promise<false>((resolve) => (timer = this.clock.setTimer(ms, () => resolve(false))));
    try {
      return await Promise.race([work.then(() => true as const), timeout]);
    } finally {
      this.clock.clearTimer(timer);
    }
  }
}
