import { expect, it } from 'vitest';
import { getFreePort, startBaresip, useHarness } from '../../harness/index.js';
import { TONE_A_HZ, TONE_B_HZ, establishCall, expectNoCallLeft, letAudioFlow, startCallLab, startTonePhone, waitForCallEnded } from '../../calls/call-helpers.js';

useHarness();

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The Prometheus text format read by the test's own code: samples, and the names given a TYPE line. */
function parsePrometheus(text: string): { samples: Sample[]; typed: Map<string, string>; helped: Set<string> } {
  const samples: Sample[] = [];
  const typed = new Map<string, string>();
  const helped = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type !== null) typed.set(type[1] ?? '', type[2] ?? '');
    const help = /^# HELP (\S+) /.exec(line);
    if (help !== null) helped.add(help[1] ?? '');
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] ?? ''] = pair[2] ?? '';
    samples.push({ name: match[1] ?? '', labels, value: match[3] === '+Inf' ? Infinity : Number(match[3]) });
  }
  return { samples, typed, helped };
}

function value(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

it('OPS-METRICS-01: /metrics shows registrations, a call by outcome with its RTP quality, security events; voix status shows the live figures', async () => {
  const adminPort = await getFreePort('127.0.0.1');
  const lab = await startCallLab({ config: { admin: { listen: { address: '127.0.0.1', port: adminPort } } } });
  const { voix } = lab;
  const base = `http://127.0.0.1:${adminPort}`;
  const a = await startTonePhone(lab, voix.account('1001', 'udp'), TONE_A_HZ);
  const b = await startTonePhone(lab, voix.account('1002', 'udp'), TONE_B_HZ);

  const before = await fetch(`${base}/metrics`);
  const beforeText = await before.text();
  await establishCall(a.phone, b.phone, voix, '1002');
  await letAudioFlow(2000);
  const since = voix.mark();
  expect((await a.phone.command('hangup')).ok).toBe(true);
  await waitForCallEnded(voix, since);
  const failedSince = voix.mark();
  const guesser = await startBaresip({ account: { ...voix.account('1003', 'udp'), password: 'not-the-password-of-1003' } });
  await voix.waitForLog((l) => l.msg === 'security' && l['event'] === 'auth_failed', 10_000, failedSince);
  await guesser.stop({ force: true });
  const after = parsePrometheus(await (await fetch(`${base}/metrics`)).text());
  // Garbage collection: a light load may not fill the young generation; scrapes allocate until one scavenge shows (bounded).
  let scavenges = value(after.samples, 'voix_gc_pause_seconds_count', { kind: 'minor' }) ?? 0;
  for (let scrape = 0; scrape < 3000 && scavenges === 0; scrape++) {
    scavenges = value(parsePrometheus(await (await fetch(`${base}/metrics`)).text()).samples, 'voix_gc_pause_seconds_count', { kind: 'minor' }) ?? 0;
  }
  const health = await fetch(`${base}/health`);
  const status = await voix.cli(['status']);
  const statusJson = await voix.cli(['status', '--json']);

  // The format: text 0.0.4, every name voix_, every metric with HELP and TYPE.
  expect(before.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  expect(value(parsePrometheus(beforeText).samples, 'voix_registrations')).toBe(2);
  expect(after.samples.every((s) => s.name.startsWith('voix_'))).toBe(true);
  for (const name of after.typed.keys()) expect(after.helped.has(name), `HELP for ${name}`).toBe(true);
  expect(after.typed.get('voix_calls_total')).toBe('counter');
  expect(after.typed.get('voix_rtp_jitter_seconds')).toBe('histogram');
  // What happened: one normal call, over, with one loss and one jitter observation per leg.
  const s = after.samples;
  expect(value(s, 'voix_registrations')).toBe(2);
  expect(value(s, 'voix_calls_total', { outcome: 'normal' })).toBe(1);
  expect(value(s, 'voix_calls_active')).toBe(0);
  for (const leg of ['caller', 'callee']) {
    expect(value(s, 'voix_rtp_jitter_seconds_count', { leg }), `jitter observations, ${leg}`).toBe(1);
    expect(value(s, 'voix_rtp_packet_loss_ratio_count', { leg }), `loss observations, ${leg}`).toBe(1);
    expect(value(s, 'voix_rtp_jitter_seconds_bucket', { leg, le: '+Inf' })).toBe(1);
  }
  expect(value(s, 'voix_sip_requests_total', { method: 'INVITE' }) ?? 0).toBeGreaterThanOrEqual(1);
  expect(value(s, 'voix_sip_requests_total', { method: 'BYE' }) ?? 0).toBeGreaterThanOrEqual(1);
  expect(value(s, 'voix_security_events_total', { event: 'auth_failed' }) ?? 0).toBeGreaterThanOrEqual(1);
  expect(value(s, 'voix_event_loop_lag_seconds_count') ?? 0).toBeGreaterThan(0);
  // The main thread's scavenges are counted once they happen.
  expect(after.typed.get('voix_gc_pause_seconds')).toBe('histogram');
  expect(scavenges).toBeGreaterThan(0);
  expect(value(s, 'voix_process_resident_memory_bytes') ?? 0).toBeGreaterThan(10 * 1024 * 1024);
  expect(value(s, 'voix_process_open_fds') ?? 0).toBeGreaterThan(0);
  // Each media worker's own heap, which the main thread's figures leave out.
  const workerHeaps = s.filter((sample) => sample.name === 'voix_media_worker_heap_used_bytes');
  expect(workerHeaps.length).toBeGreaterThan(0);
  for (const heap of workerHeaps) {
    expect(heap.value, `heap of media worker ${heap.labels.worker}`).toBeGreaterThan(1024 * 1024);
    expect(value(s, 'voix_media_worker_heap_total_bytes', { worker: heap.labels.worker ?? '' }) ?? 0).toBeGreaterThanOrEqual(heap.value);
  }
  expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
  // voix status: the database's view plus the live figures of the administration API.
  expect(status.code, status.stderr).toBe(0);
  expect(status.stdout).toMatch(/^voix is running \(pid \d+/m);
  expect(status.stdout).toMatch(/^ {2}state {10}ok$/m);
  expect(status.stdout).toMatch(/^ {2}overload {7}admitting new requests, 0 refused since start$/m);
  expect(status.stdout).toMatch(/^ {2}load {11}event-loop lag \d+\.\d ms, \d+ request\(s\) in progress/m);
  expect(status.stdout).toMatch(/^ {2}connections {4}tcp \d+, tls \d+$/m);
  expect(status.stdout).toMatch(/^ {2}bans {11}\d+ source\(s\) banned$/m);
  expect(status.stdout).toMatch(/^ {2}memory {9}\d+\.\d MiB resident$/m);
  const json = JSON.parse(statusJson.stdout) as { running: boolean; live: Record<string, unknown> | null };
  expect(json.running).toBe(true);
  expect(json.live).toMatchObject({ status: 'ok', registrations: 2, activeCalls: 0, pid: voix.process.pid, overload: { refusing: false, stopping: false, refused: 0 } });
  await expectNoCallLeft(lab);
});
