/**
 * voix's metrics: what a call's end, a request and a security event add,
 * and the figures read from the server's parts at scrape time.
 */
import { describe, expect, it } from 'vitest';
import { VoixMetrics, type MetricsSources } from '../../../src/admin/voix-metrics.js';
import type { CallEnd } from '../../../src/calls/cdr-store.js';
import type { LegStats } from '../../../src/rtp/media-protocol.js';

function leg(received: number, lost: number, jitterMs: number): LegStats {
  return {
    packetsReceived: received,
    bytesReceived: received * 172,
    packetsSent: received,
    bytesSent: received * 172,
    packetsLost: lost,
    extendedHighestSequence: received + lost,
    jitterMs,
    packetsDropped: 0,
    rtcpReceived: 0,
    rtcpSent: 0,
    latchedTo: null,
  };
}

function end(cause: CallEnd['cause'], media: CallEnd['media']): CallEnd {
  return { endedAt: 0, status: 200, cause, hangupBy: 'caller', media };
}

/** The sample lines of one metric (name followed by `{` or a space). */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

const SOURCES: MetricsSources = {
  version: '0.1.0',
  registrations: () => 3,
  activeCalls: () => 2,
  mediaRelays: () => 2,
  transactions: () => ({ server: 40, serverInProgress: 1, client: 4 }),
  connections: () => ({ tcp: 1, tls: 5 }),
  activeBans: () => 1,
  eventLoopLagMs: () => 12,
  overloaded: () => false,
  campaigns: () => [{ id: 1, name: 'relance', purpose: 'customer', createdAt: 0, state: 'running' }],
  campaignProgress: () => ({ contacts: 10, results: { answered: 3, busy: 1 }, done: 4, inFlight: 2, waiting: { due: 4 }, attempts: 7, nextAttemptAt: null }),
};

describe('VoixMetrics', () => {
  it('counts calls by outcome and observes RTP loss and jitter of each leg that received media', () => {
    const metrics = new VoixMetrics(0);

    metrics.callEnded(end('normal', { a: leg(990, 10, 4), b: leg(1000, 0, 25) }));
    metrics.callEnded(end('normal', null));
    metrics.callEnded(end('busy', { a: leg(0, 0, 0), b: leg(0, 0, 0) }));
    const text = metrics.render();

    expect(samples(text, 'voix_calls_total')).toEqual(['voix_calls_total{outcome="normal"} 2', 'voix_calls_total{outcome="busy"} 1']);
    expect(samples(text, 'voix_rtp_packet_loss_ratio_bucket').filter((l) => l.includes('le="0"') || l.includes('le="0.01"'))).toEqual([
      'voix_rtp_packet_loss_ratio_bucket{leg="caller",le="0"} 0',
      'voix_rtp_packet_loss_ratio_bucket{leg="caller",le="0.01"} 1',
      'voix_rtp_packet_loss_ratio_bucket{leg="callee",le="0"} 1',
      'voix_rtp_packet_loss_ratio_bucket{leg="callee",le="0.01"} 1',
    ]);
    expect(samples(text, 'voix_rtp_jitter_seconds_count')).toEqual(['voix_rtp_jitter_seconds_count{leg="caller"} 1', 'voix_rtp_jitter_seconds_count{leg="callee"} 1']);
    expect(samples(text, 'voix_rtp_jitter_seconds_bucket').filter((l) => l.includes('le="0.005"') || l.includes('le="0.03"'))).toEqual([
      'voix_rtp_jitter_seconds_bucket{leg="caller",le="0.005"} 1',
      'voix_rtp_jitter_seconds_bucket{leg="caller",le="0.03"} 1',
      'voix_rtp_jitter_seconds_bucket{leg="callee",le="0.005"} 0',
      'voix_rtp_jitter_seconds_bucket{leg="callee",le="0.03"} 1',
    ]);
  });

  it('counts requests by method, an invented method as "other", and security events by event', () => {
    const metrics = new VoixMetrics(0);

    for (const method of ['REGISTER', 'REGISTER', 'INVITE', 'XYZZY', 'OPTIONS']) metrics.requestReceived(method);
    metrics.securityEvent('auth_failed');
    metrics.securityEvent('auth_failed');
    metrics.securityEvent('ban');
    metrics.callRefused(404);
    const text = metrics.render();

    expect(samples(text, 'voix_sip_requests_total')).toEqual([
      'voix_sip_requests_total{method="REGISTER"} 2',
      'voix_sip_requests_total{method="INVITE"} 1',
      'voix_sip_requests_total{method="other"} 1',
      'voix_sip_requests_total{method="OPTIONS"} 1',
    ]);
    expect(samples(text, 'voix_security_events_total')).toEqual(['voix_security_events_total{event="auth_failed"} 2', 'voix_security_events_total{event="ban"} 1']);
    expect(samples(text, 'voix_calls_refused_total')).toEqual(['voix_calls_refused_total{status="404"} 1']);
  });

  it('reads the state of the server at scrape time once attached, and nothing before', () => {
    const metrics = new VoixMetrics(1_700_000_000_000);
    const before = metrics.render();

    metrics.attach(SOURCES);
    const text = metrics.render();

    expect(samples(before, 'voix_registrations')).toEqual([]);
    expect(samples(text, 'voix_build_info')).toEqual(['voix_build_info{version="0.1.0"} 1']);
    expect(samples(text, 'voix_start_time_seconds')).toEqual(['voix_start_time_seconds 1700000000']);
    expect(samples(text, 'voix_registrations')).toEqual(['voix_registrations 3']);
    expect(samples(text, 'voix_calls_active')).toEqual(['voix_calls_active 2']);
    expect(samples(text, 'voix_sip_transactions')).toEqual(['voix_sip_transactions{side="server"} 40', 'voix_sip_transactions{side="client"} 4']);
    expect(samples(text, 'voix_sip_server_transactions_in_progress')).toEqual(['voix_sip_server_transactions_in_progress 1']);
    expect(samples(text, 'voix_sip_connections')).toEqual(['voix_sip_connections{transport="tcp"} 1', 'voix_sip_connections{transport="tls"} 5']);
    expect(samples(text, 'voix_bans_active')).toEqual(['voix_bans_active 1']);
    expect(samples(text, 'voix_event_loop_lag_smoothed_seconds')).toEqual(['voix_event_loop_lag_smoothed_seconds 0.012']);
    expect(samples(text, 'voix_campaign_contacts')).toEqual(['voix_campaign_contacts{campaign="relance"} 10']);
    expect(samples(text, 'voix_campaign_contacts_done')).toEqual(['voix_campaign_contacts_done{campaign="relance",result="answered"} 3', 'voix_campaign_contacts_done{campaign="relance",result="busy"} 1']);
    expect(samples(text, 'voix_campaign_calls_in_flight')).toEqual(['voix_campaign_calls_in_flight{campaign="relance"} 2']);
    expect(samples(text, 'voix_campaign_state')).toEqual(['voix_campaign_state{campaign="relance",state="running"} 1']);
    expect(samples(text, 'voix_process_open_fds')[0]).toMatch(/^voix_process_open_fds \d+$/);
  });

  it('reads each campaign’s progress once per scrape', () => {
    const metrics = new VoixMetrics(0);
    let reads = 0;
    metrics.attach({ ...SOURCES, campaignProgress: (c) => (reads++, SOURCES.campaignProgress(c)) });

    metrics.render();
    metrics.render();

    expect(reads).toBe(2);
  });

  it('observes event-loop lag samples in seconds', () => {
    const metrics = new VoixMetrics(0);

    metrics.eventLoopLagSample(3);
    metrics.eventLoopLagSample(120);
    const text = metrics.render();

    expect(samples(text, 'voix_event_loop_lag_seconds_bucket').filter((l) => /le="(0\.005|0\.1|0\.25)"/.test(l))).toEqual([
      'voix_event_loop_lag_seconds_bucket{le="0.005"} 1',
      'voix_event_loop_lag_seconds_bucket{le="0.1"} 1',
      'voix_event_loop_lag_seconds_bucket{le="0.25"} 2',
    ]);
  });

  it('observes garbage-collection pauses in seconds, by kind', () => {
    const metrics = new VoixMetrics(0);

    metrics.gcPause('minor', 0.8);
    metrics.gcPause('minor', 2);
    metrics.gcPause('major', 30);
    const text = metrics.render();

    expect(samples(text, 'voix_gc_pause_seconds_bucket').filter((l) => /le="(0\.001|0\.025|0\.05)"/.test(l))).toEqual([
      'voix_gc_pause_seconds_bucket{kind="minor",le="0.001"} 1',
      'voix_gc_pause_seconds_bucket{kind="minor",le="0.025"} 2',
      'voix_gc_pause_seconds_bucket{kind="minor",le="0.05"} 2',
      'voix_gc_pause_seconds_bucket{kind="major",le="0.001"} 0',
      'voix_gc_pause_seconds_bucket{kind="major",le="0.025"} 0',
      'voix_gc_pause_seconds_bucket{kind="major",le="0.05"} 1',
    ]);
    expect(samples(text, 'voix_gc_pause_seconds_count')).toEqual(['voix_gc_pause_seconds_count{kind="minor"} 2', 'voix_gc_pause_seconds_count{kind="major"} 1']);
  });

  it('observes the checkpoint worker: durations in seconds, and the log pages at the last one', () => {
    const metrics = new VoixMetrics(0);

    metrics.databaseCheckpoint({ log: 2400, durationMs: 4 });
    metrics.databaseCheckpoint({ log: 180, durationMs: 95 });
    const text = metrics.render();

    expect(samples(text, 'voix_db_checkpoint_duration_seconds_bucket').filter((l) => /le="(0\.005|0\.05|0\.1)"/.test(l))).toEqual([
      'voix_db_checkpoint_duration_seconds_bucket{le="0.005"} 1',
      'voix_db_checkpoint_duration_seconds_bucket{le="0.05"} 1',
      'voix_db_checkpoint_duration_seconds_bucket{le="0.1"} 2',
    ]);
    expect(samples(text, 'voix_db_wal_frames')).toEqual(['voix_db_wal_frames 180']);
  });

  it('shows each media worker’s memory as last read, and no sample before the first reading', () => {
    const metrics = new VoixMetrics(0);
    expect(samples(metrics.render(), 'voix_media_worker_heap_used_bytes')).toEqual([]);

    metrics.mediaWorkerMemory([
      { workerIndex: 0, heapUsedBytes: 7_000_000, heapTotalBytes: 9_000_000, externalBytes: 300_000 },
      { workerIndex: 1, heapUsedBytes: 6_500_000, heapTotalBytes: 8_000_000, externalBytes: 250_000 },
    ]);
    metrics.mediaWorkerMemory([
      { workerIndex: 0, heapUsedBytes: 7_100_000, heapTotalBytes: 9_000_000, externalBytes: 310_000 },
      { workerIndex: 1, heapUsedBytes: 6_400_000, heapTotalBytes: 8_500_000, externalBytes: 250_000 },
    ]);
    const text = metrics.render();

    expect(samples(text, 'voix_media_worker_heap_used_bytes')).toEqual([
      'voix_media_worker_heap_used_bytes{worker="0"} 7100000',
      'voix_media_worker_heap_used_bytes{worker="1"} 6400000',
    ]);
    expect(samples(text, 'voix_media_worker_heap_total_bytes')).toEqual([
      'voix_media_worker_heap_total_bytes{worker="0"} 9000000',
      'voix_media_worker_heap_total_bytes{worker="1"} 8500000',
    ]);
    expect(samples(text, 'voix_media_worker_external_bytes')).toEqual([
      'voix_media_worker_external_bytes{worker="0"} 310000',
      'voix_media_worker_external_bytes{worker="1"} 250000',
    ]);
  });
});
