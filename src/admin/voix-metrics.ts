/**
 * voix's metrics, every name prefixed `voix_`, served as Prometheus text on
 * the administration listener (GET /metrics). Two kinds:
 *
 * - events counted where they happen, all on the SIP/control path of the
 *   main thread: calls ended (by outcome), calls refused, requests received
 *   and refused for overload, security events, connections refused;
 * - state read when scraped (`attach`): registrations, calls, transactions,
 *   connections, bans, campaigns, event-loop lag, process figures.
 *
 * RTP loss and jitter come from each call's final statistics (what the
 * media worker hands back when the relay is released), so nothing is
 * counted on the per-packet path.
 */
import { readdirSync } from 'node:fs';
import type { CallEnd, EndCause } from '../calls/cdr-store.js';
import type { Campaign, CampaignProgress } from '../dialer/campaign-store.js';
import type { SecurityEvent } from '../security/security-log.js';
import type { MediaWorkerMemory } from '../rtp/media-worker-protocol.js';
import type { GcKind } from '../util/gc-pauses.js';
import { MetricsRegistry, type Counter, type GaugeSamples, type Histogram, type LabelValues } from './metrics-registry.js';

/** What the scrape-time gauges read; attached once the server's parts exist. */
export interface MetricsSources {
  readonly version: string;
  registrations(): number;
  activeCalls(): number;
  mediaRelays(): number;
  transactions(): { readonly server: number; readonly serverInProgress: number; readonly client: number };
  connections(): { readonly tcp: number; readonly tls: number };
  activeBans(): number;
  eventLoopLagMs(): number;
  /** Whether new requests are refused now (overload, or stopping). */
  overloaded(): boolean;
  campaigns(): readonly Campaign[];
  campaignProgress(campaign: Campaign): CampaignProgress;
}

/** Methods counted by name; any other (a scanner's invention) counts as "other", so labels stay few. */
const COUNTED_METHODS = new Set(['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'INFO', 'PRACK', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'PUBLISH']);

/** RFC 3550 interarrival jitter per leg, seconds: good below 20 ms, audible above 50 ms. */
const JITTER_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5];
/** Fraction of the packets expected from a phone that never arrived; le="0" counts the clean legs. */
const LOSS_BUCKETS = [0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];
/** Checkpoint durations, seconds: a few milliseconds as a rule, the fsync of a busy disk now and then 0.1 s. */
const CHECKPOINT_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];
/** Main-thread event-loop lag samples, seconds (the overload limit defaults to 0.1). */
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Main-thread garbage-collection pauses, seconds: scavenges take a millisecond or two, a full mark-sweep of a big heap tens. */
const GC_PAUSE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

function openFileDescriptors(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return Number.NaN;
  }
}

export class VoixMetrics {
  readonly registry = new MetricsRegistry();
  private sources: MetricsSources | null = null;
  /** Each campaign's progress, read once per scrape (several gauges show parts of it). */
  private readonly scrapeProgress = new Map<number, CampaignProgress>();
  /** The main thread's memory figures, read once per scrape (three gauges show parts of them). */
  private scrapeMemory: NodeJS.MemoryUsage | null = null;

  private readonly callsEnded: Counter;
  private readonly callsRefused: Counter;
  private readonly rtpJitter: Histogram;
  private readonly rtpLoss: Histogram;
  private readonly securityEvents: Counter;
  private readonly sipRequests: Counter;
  private readonly loopLag: Histogram;
  private readonly gcPauses: Histogram;
  private readonly overloadRefusals: Counter;
  private readonly connectionsRefused: Counter;
  private readonly messagesRefused: Counter;
  private readonly checkpointDuration: Histogram;
  private walFrames = 0;
  /** The media workers' latest memory reading (media-worker-memory.ts). */
  private workerMemory: readonly MediaWorkerMemory[] = [];

  constructor(private readonly startedAtMs: number = Date.now()) {
    const r = this.registry;
    r.gauge('voix_build_info', 'Always 1; the label says which version runs.', {
      labelNames: ['version'],
      collect: () => (this.sources === null ? [] : [[{ version: this.sources.version }, 1]]),
    });
    r.gauge('voix_start_time_seconds', 'When this voix process started, seconds since the Unix epoch.', { collect: () => this.startedAtMs / 1000 });
    r.gauge('voix_registrations', 'Contacts registered now (phones reachable through voix).', { collect: () => this.read((s) => s.registrations()) });
    r.gauge('voix_calls_active', 'Calls in progress now (ringing or answered), campaign calls included.', { collect: () => this.read((s) => s.activeCalls()) });
    this.callsEnded = r.counter('voix_calls_total', 'Calls ended, by outcome (the end cause of the call record).', ['outcome']);
    this.callsRefused = r.counter('voix_calls_refused_total', 'INVITEs refused before any call started (routing, permissions, limits), by status code.', ['status']);
    r.gauge('voix_media_relays', 'RTP relays allocated in the media workers.', { collect: () => this.read((s) => s.mediaRelays()) });
    this.rtpJitter = r.histogram('voix_rtp_jitter_seconds', 'RFC 3550 interarrival jitter of what each call leg received from its phone, at the end of the call.', JITTER_BUCKETS, ['leg']);
    this.rtpLoss = r.histogram('voix_rtp_packet_loss_ratio', 'Fraction of the RTP packets expected from each call leg’s phone that never arrived, at the end of the call.', LOSS_BUCKETS, ['leg']);
    this.sipRequests = r.counter('voix_sip_requests_total', 'New SIP requests received (retransmissions absorbed by their transaction not counted), by method.', ['method']);
    r.gauge('voix_sip_transactions', 'SIP transactions alive, by side (server: requests received; client: requests voix sent).', {
      labelNames: ['side'],
      collect: () => {
        if (this.sources === null) return [];
        const t = this.sources.transactions();
        return [
          [{ side: 'server' }, t.server],
          [{ side: 'client' }, t.client],
        ];
      },
    });
    r.gauge('voix_sip_server_transactions_in_progress', 'Server transactions still waiting for their final response (the work in flight).', {
      collect: () => this.read((s) => s.transactions().serverInProgress),
    });
    r.gauge('voix_sip_connections', 'TCP and TLS connections open, by transport.', {
      labelNames: ['transport'],
      collect: () => {
        if (this.sources === null) return [];
        const c = this.sources.connections();
        return [
          [{ transport: 'tcp' }, c.tcp],
          [{ transport: 'tls' }, c.tls],
        ];
      },
    });
    this.connectionsRefused = r.counter('voix_sip_connections_refused_total', 'TCP/TLS connections refused or closed by a limit, by transport and reason (per-address-limit, total-limit, first-message-timeout).', ['transport', 'reason']);
    this.messagesRefused = r.counter('voix_sip_messages_refused_total', 'SIP messages refused by a limit, by transport and reason (message-too-large, too-many-headers).', ['transport', 'reason']);
    this.overloadRefusals = r.counter('voix_sip_requests_overload_refused_total', 'New out-of-dialog requests answered 503 with Retry-After, by reason (event-loop-lag, transactions, request-rate, stopping).', ['reason']);
    r.gauge('voix_overloaded', '1 while voix refuses new requests (overload, or stopping), else 0.', { collect: () => this.read((s) => (s.overloaded() ? 1 : 0)) });
    this.loopLag = r.histogram('voix_event_loop_lag_seconds', 'Main-thread event-loop lag, sampled ten times a second.', LAG_BUCKETS);
    r.gauge('voix_event_loop_lag_smoothed_seconds', 'The smoothed event-loop lag the overload protection compares with overload.max_event_loop_lag.', {
      collect: () => this.read((s) => s.eventLoopLagMs() / 1000),
    });
    this.gcPauses = r.histogram('voix_gc_pause_seconds', 'Main-thread garbage-collection pauses, by kind (minor: scavenge, major: mark-sweep, incremental: marking step, weakcb: weak callbacks); SIP waits while they run.', GC_PAUSE_BUCKETS, ['kind']);
    this.securityEvents = r.counter('voix_security_events_total', 'Security log events (auth_failed, unknown_user, ban, unban…), by event.', ['event']);
    r.gauge('voix_bans_active', 'Source addresses banned now.', { collect: () => this.read((s) => s.activeBans()) });
    r.gauge('voix_campaign_contacts', 'Contacts of each campaign.', { labelNames: ['campaign'], collect: () => this.campaignSamples((p) => [[{}, p.contacts]]) });
    r.gauge('voix_campaign_contacts_done', 'Contacts of each campaign with a final result, by result.', {
      labelNames: ['campaign', 'result'],
      collect: () => this.campaignSamples((p) => Object.entries(p.results).map(([result, n]) => [{ result }, n ?? 0])),
    });
    r.gauge('voix_campaign_calls_in_flight', 'Calls of each campaign in progress now.', { labelNames: ['campaign'], collect: () => this.campaignSamples((p) => [[{}, p.inFlight]]) });
    r.gauge('voix_campaign_attempts', 'Call attempts each campaign has made.', { labelNames: ['campaign'], collect: () => this.campaignSamples((p) => [[{}, p.attempts]]) });
    r.gauge('voix_campaign_state', 'Always 1; the state label says where each campaign is (created, running, paused, stopped, completed).', {
      labelNames: ['campaign', 'state'],
      collect: () => (this.sources === null ? [] : this.sources.campaigns().map((c) => [{ campaign: c.name, state: c.state }, 1] as const)),
    });
    this.checkpointDuration = r.histogram('voix_db_checkpoint_duration_seconds', 'Checkpoints of the database’s write-ahead log by the checkpoint worker (off the SIP thread), by duration.', CHECKPOINT_BUCKETS);
    r.gauge('voix_db_wal_frames', 'Pages in the database’s write-ahead log at the last checkpoint (it starts afresh once a checkpoint catches up).', { collect: () => this.walFrames });
    r.gauge('voix_process_resident_memory_bytes', 'Resident memory of the process (all threads).', { collect: () => process.memoryUsage.rss() });
    r.gauge('voix_process_heap_used_bytes', 'V8 heap in use on the main thread.', { collect: () => this.memory().heapUsed });
    r.gauge('voix_process_heap_total_bytes', 'V8 heap reserved by the main thread, used or not.', { collect: () => this.memory().heapTotal });
    r.gauge('voix_process_external_bytes', 'Memory outside the V8 heap held by the main thread’s objects (Buffers, ArrayBuffers).', { collect: () => this.memory().external });
    const perWorker = (value: (memory: MediaWorkerMemory) => number): GaugeSamples => this.workerMemory.map((m) => [{ worker: String(m.workerIndex) }, value(m)] as const);
    r.gauge('voix_media_worker_heap_used_bytes', 'V8 heap in use in each media worker (read every 15 s).', { labelNames: ['worker'], collect: () => perWorker((m) => m.heapUsedBytes) });
    r.gauge('voix_media_worker_heap_total_bytes', 'V8 heap reserved by each media worker, used or not (read every 15 s).', { labelNames: ['worker'], collect: () => perWorker((m) => m.heapTotalBytes) });
    r.gauge('voix_media_worker_external_bytes', 'Memory outside the V8 heap held by each media worker’s objects (read every 15 s).', { labelNames: ['worker'], collect: () => perWorker((m) => m.externalBytes) });
    r.gauge('voix_process_open_fds', 'File descriptors open (sockets included).', { collect: openFileDescriptors });
    r.gauge('voix_process_cpu_seconds', 'CPU time used by the process since it started (user + system), seconds.', {
      collect: () => {
        const usage = process.cpuUsage();
        return (usage.user + usage.system) / 1e6;
      },
    });
  }

  /** Gives the scrape-time gauges their sources. */
  attach(sources: MetricsSources): void {
    this.sources = sources;
  }

  render(): string {
    this.scrapeProgress.clear();
    this.scrapeMemory = null;
    try {
      return this.registry.render();
    } finally {
      this.scrapeProgress.clear();
      this.scrapeMemory = null;
    }
  }

  private memory(): NodeJS.MemoryUsage {
    this.scrapeMemory ??= process.memoryUsage();
    return this.scrapeMemory;
  }

  /** A call's record was completed: its outcome, and the RTP loss and jitter of each leg that received media. */
  callEnded(end: CallEnd): void {
    this.callsEnded.inc({ outcome: end.cause });
    const media = end.media;
    if (media === null) return;
    for (const [leg, stats] of [
      ['caller', media.a],
      ['callee', media.b],
    ] as const) {
      if (stats.packetsReceived === 0) continue;
      const lost = Math.max(0, stats.packetsLost);
      this.rtpJitter.observe({ leg }, stats.jitterMs / 1000);
      this.rtpLoss.observe({ leg }, lost / (stats.packetsReceived + lost));
    }
  }

  callRefused(status: number): void {
    this.callsRefused.inc({ status: String(status) });
  }

  requestReceived(method: string): void {
    this.sipRequests.inc({ method: COUNTED_METHODS.has(method) ? method : 'other' });
  }

  overloadRefused(reason: string): void {
    this.overloadRefusals.inc({ reason });
  }

  connectionRefused(transport: string, reason: string): void {
    this.connectionsRefused.inc({ transport, reason });
  }

  messageRefused(transport: string, reason: string): void {
    this.messagesRefused.inc({ transport, reason });
  }

  securityEvent(event: SecurityEvent): void {
    this.securityEvents.inc({ event });
  }

  eventLoopLagSample(lagMs: number): void {
    this.loopLag.observe(undefined, lagMs / 1000);
  }

  /** One garbage-collection pause of the main thread (gc-pauses.ts). */
  gcPause(kind: GcKind, durationMs: number): void {
    this.gcPauses.observe({ kind }, durationMs / 1000);
  }

  /** One checkpoint of the write-ahead log by the worker (wal-checkpointer.ts). */
  databaseCheckpoint(result: { readonly log: number; readonly durationMs: number }): void {
    this.checkpointDuration.observe(undefined, result.durationMs / 1000);
    this.walFrames = result.log;
  }

  /** The media workers' memory, as last read. */
  mediaWorkerMemory(memory: readonly MediaWorkerMemory[]): void {
    this.workerMemory = memory;
  }

  /** How many calls ended with `cause` (tests, `voix status`). */
  callsEndedWith(cause: EndCause): number {
    return this.callsEnded.get({ outcome: cause });
  }

  private read(get: (sources: MetricsSources) => number): GaugeSamples | number {
    return this.sources === null ? [] : get(this.sources);
  }

  private campaignSamples(samples: (progress: CampaignProgress) => Array<readonly [LabelValues, number]>): GaugeSamples {
    const sources = this.sources;
    if (sources === null) return [];
    const out: Array<readonly [LabelValues, number]> = [];
    for (const campaign of sources.campaigns()) {
      for (const [labels, value] of samples(this.progressOf(sources, campaign))) out.push([{ campaign: campaign.name, ...labels }, value]);
    }
    return out;
  }

  private progressOf(sources: MetricsSources, campaign: Campaign): CampaignProgress {
    let progress = this.scrapeProgress.get(campaign.id);
    if (progress === undefined) {
      progress = sources.campaignProgress(campaign);
      this.scrapeProgress.set(campaign.id, progress);
    }
    return progress;
  }
}
