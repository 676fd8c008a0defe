/**
 * The Prometheus text exposition format (version 0.0.4) as the registry
 * writes it: HELP and TYPE lines, label escaping, cumulative histogram
 * buckets with +Inf, _sum and _count, gauges read at scrape time.
 */
import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../../src/admin/metrics-registry.js';

describe('MetricsRegistry', () => {
  it('writes counters with HELP and TYPE, one line per label set, 0 for an unlabelled counter never incremented', () => {
    const registry = new MetricsRegistry();
    const calls = registry.counter('voix_calls_total', 'Calls ended, by outcome.', ['outcome']);
    registry.counter('voix_restarts_total', 'Never incremented.');

    calls.inc({ outcome: 'normal' });
    calls.inc({ outcome: 'normal' });
    calls.inc({ outcome: 'busy' }, 3);

    expect(registry.render()).toBe(
      [
        '# HELP voix_calls_total Calls ended, by outcome.',
        '# TYPE voix_calls_total counter',
        'voix_calls_total{outcome="normal"} 2',
        'voix_calls_total{outcome="busy"} 3',
        '# HELP voix_restarts_total Never incremented.',
        '# TYPE voix_restarts_total counter',
        'voix_restarts_total 0',
        '',
      ].join('\n'),
    );
  });

  it('escapes label values (backslash, quote, line feed) and HELP text (backslash, line feed)', () => {
    const registry = new MetricsRegistry();
    const gauge = registry.gauge('voix_campaign_contacts', 'Contacts\nper campaign \\ name.', { labelNames: ['campaign'] });

    gauge.set({ campaign: 'a "b"\\c\nd' }, 4);

    expect(registry.render().split('\n').slice(0, 3)).toEqual([
      '# HELP voix_campaign_contacts Contacts\\nper campaign \\\\ name.',
      '# TYPE voix_campaign_contacts gauge',
      'voix_campaign_contacts{campaign="a \\"b\\"\\\\c\\nd"} 4',
    ]);
  });

  it('reads collected gauges at each scrape', () => {
    const registry = new MetricsRegistry();
    let registrations = 2;
    registry.gauge('voix_registrations', 'Contacts registered.', { collect: () => registrations });
    registry.gauge('voix_sip_connections', 'Connections.', {
      labelNames: ['transport'],
      collect: () => [
        [{ transport: 'tcp' }, 1],
        [{ transport: 'tls' }, registrations * 2],
      ],
    });

    const first = registry.render();
    registrations = 5;
    const second = registry.render();

    expect(first).toContain('voix_registrations 2\n');
    expect(second).toContain('voix_registrations 5\n');
    expect(second).toContain('voix_sip_connections{transport="tcp"} 1\nvoix_sip_connections{transport="tls"} 10\n');
  });

  it('writes histograms with cumulative buckets, +Inf, _sum and _count', () => {
    const registry = new MetricsRegistry();
    const jitter = registry.histogram('voix_rtp_jitter_seconds', 'Jitter.', [0.01, 0.05, 0.1], ['leg']);

    for (const value of [0.002, 0.01, 0.03, 0.2]) jitter.observe({ leg: 'caller' }, value);

    expect(registry.render()).toBe(
      [
        '# HELP voix_rtp_jitter_seconds Jitter.',
        '# TYPE voix_rtp_jitter_seconds histogram',
        'voix_rtp_jitter_seconds_bucket{leg="caller",le="0.01"} 2',
        'voix_rtp_jitter_seconds_bucket{leg="caller",le="0.05"} 3',
        'voix_rtp_jitter_seconds_bucket{leg="caller",le="0.1"} 3',
        'voix_rtp_jitter_seconds_bucket{leg="caller",le="+Inf"} 4',
        'voix_rtp_jitter_seconds_sum{leg="caller"} 0.242',
        'voix_rtp_jitter_seconds_count{leg="caller"} 4',
        '',
      ].join('\n'),
    );
  });

  it('refuses invalid names, a missing label, a counter going down and a name registered twice', () => {
    const registry = new MetricsRegistry();
    const counter = registry.counter('voix_ok_total', 'Fine.', ['outcome']);

    expect(() => registry.counter('voix-bad', 'Dash.')).toThrow(/invalid metric name/);
    expect(() => registry.counter('voix_le_total', 'Reserved label.', ['le'])).toThrow(/invalid label name/);
    expect(() => counter.inc({})).toThrow(/label outcome missing/);
    expect(() => counter.inc({ outcome: 'x' }, -1)).toThrow(/cannot decrease/);
    expect(() => registry.gauge('voix_ok_total', 'Again.')).toThrow(/registered twice/);
    expect(() => registry.histogram('voix_h', 'Unsorted.', [1, 0.5])).toThrow(/buckets must increase/);
  });
});
