/**
 * The player's pacing under load: N streams played by one media worker
 * (WorkerMediaEngine, one relay per stream, leg a facing a local UDP
 * socket), measured on the receiving side (TESTING.md: never from the
 * sender's clock).
 *
 *   npx tsx bench/playout.ts [--streams 1,100,500,1000] [--seconds 10] [--warmup 2]
 *                            [--phases 4] [--no-spread] [--guard-us 1500] [--spin-us 0]
 *                            [--srtp] [--recv] [--no-capture] [--no-pin] [--floor-seconds 5]
 *
 * Per step it reports:
 * - |inter-arrival − 20 ms| per packet (consecutive sequence numbers of
 *   one stream), p50 / p99 / max, from kernel timestamps (dumpcap on lo,
 *   when there and run as root), and with --recv (or without capture)
 *   from this process's own receive times (recvmsg as JavaScript sees it:
 *   adds this thread's delays). Without --recv the receiving sockets
 *   belong to a stopped child process: they exist (no ICMP port
 *   unreachable), the kernel drops what fills them, and receiving costs
 *   no CPU: 50 000 packets/s read in JavaScript would take most of the
 *   other core, which dumpcap needs;
 * - grid error: each packet's capture time minus its stream's ideal grid
 *   (first packet + 20 ms × sequence distance), less the stream's median:
 *   a drifting stream would grow it without bound;
 * - packets received vs 50/s × streams × seconds, and gaps in sequence;
 * - the worker thread's CPU (% of one core), its scheduler's wake-ups,
 *   time blocked in the precise wait (% of wall time), lateness of the
 *   bursts, deadlines caught up and dropped; event loop delay and GC.
 *
 * Cores: the media worker on core 0, this process's main thread (the
 * receiving sockets) and dumpcap on core 1 (taskset; --no-pin to leave
 * them to the kernel). No pass/fail: figures only, with the command line.
 * Another benchmark's /tmp/voix-bench.lock makes this one wait.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createMemoryLogger } from '../src/log/logger.js';
import { encodeLinear } from '../src/media/playout/g711.js';
import type { MediaWorkerDiagnostics } from '../src/rtp/media-worker-protocol.js';
import type { SrtpKeying } from '../src/rtp/media-protocol.js';
import { WorkerMediaEngine, withoutMemoryReducer } from '../src/rtp/worker-media-engine.js';
import { forEachRtpRecord, startCapture, type Capture } from './relay-capture.js';
import { pinnedTo, takeBenchLock } from './relay-machine.js';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

const streamSteps = (option('streams') ?? '1,100,500,1000').split(',').map(Number).filter((n) => n > 0);
const seconds = Number(option('seconds') ?? 10);
const warmupSeconds = Number(option('warmup') ?? 2);
const phases = Number(option('phases') ?? 4);
const spread = !flag('no-spread');
const guardUs = Number(option('guard-us') ?? 1500);
const spinUs = Number(option('spin-us') ?? 0);
const srtp = flag('srtp');
const pinning = !flag('no-pin') && spawnSync('taskset', ['--version']).status === 0 && os.cpus().length >= 2;
const floorSeconds = Number(option('floor-seconds') ?? 5);
// Before the floor's spinning worker: the flag reaches only workers started after it, and only if set before the first (ADR 0008).
withoutMemoryReducer();
/** Read the streams in this process (recvmsg times) as well as capturing them; default only without capture. */
const readInProcess = flag('recv') || flag('no-capture') || !(spawnSync('dumpcap', ['--version']).status === 0 && process.getuid?.() === 0);
const useCapture = !flag('no-capture') && spawnSync('dumpcap', ['--version']).status === 0 && process.getuid?.() === 0;

const PORT_MIN = 20000;
const PORT_MAX = 24999;
const PERIOD_US = 20_000;
const STREAMS_PER_RECEIVER = 100;

const say = (line: string): void => void process.stderr.write(`${line}\n`);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function pinThread(tid: number | null | undefined, core: number): void {
  if (pinning && tid !== null && tid !== undefined) spawnSync('taskset', ['-p', '-c', String(core), String(tid)], { stdio: 'ignore' });
}

// ---- the receiving side ----

/** Arrival times (µs, this thread's clock) and sequence numbers per stream, keyed by the relay port it comes from. */
class Receivers {
  readonly sockets: dgram.Socket[] = [];
  private readonly index = new Map<number, number>();
  readonly times: Float64Array[] = [];
  readonly sequences: Uint16Array[] = [];
  readonly counts: Int32Array;
  recording = false;

  constructor(private readonly capacity: number, streams: number) {
    this.counts = new Int32Array(streams);
  }

  async open(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const socket = dgram.createSocket('udp4');
      socket.on('message', (data, remote) => this.receive(data, remote.port));
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      this.sockets.push(socket);
    }
  }

  expect(relayPort: number): void {
    this.index.set(relayPort, this.times.length);
    this.times.push(new Float64Array(this.capacity));
    this.sequences.push(new Uint16Array(this.capacity));
  }

  private receive(data: Buffer, port: number): void {
    const at = performance.now() * 1000;
    if (!this.recording) return;
    const i = this.index.get(port);
    if (i === undefined) return;
    const n = this.counts[i] ?? 0;
    const times = this.times[i];
    const sequences = this.sequences[i];
    if (times === undefined || sequences === undefined || n >= times.length) return;
    times[n] = at;
    sequences[n] = data.readUInt16BE(2);
    this.counts[i] = n + 1;
  }

  close(): Promise<void> {
    return Promise.all(this.sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(() => undefined);
  }
}

/** Sockets that exist and are never read: a child process that binds them, says their ports, and is stopped. */
async function silentSinks(count: number): Promise<{ ports: number[]; close: () => void }> {
  const script = `const dgram = require('node:dgram'); const sockets = [];
let bound = 0; for (let i = 0; i < ${count}; i++) { const s = dgram.createSocket('udp4'); sockets.push(s);
s.bind(0, '127.0.0.1', () => { if (++bound === ${count}) process.stdout.write(JSON.stringify(sockets.map((x) => x.address().port)) + '\\n'); }); }`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  process.once('exit', () => child.kill('SIGKILL'));
  const ports = await new Promise<number[]>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(JSON.parse(out) as number[]);
    });
    child.once('exit', (code) => reject(new Error(`sink process exited (${code})`)));
  });
  child.kill('SIGSTOP');
  return { ports, close: () => void child.kill('SIGKILL') };
}

// ---- capture ----

/** Captures what the relay ports send to `destinationPorts` (other processes may use the same port numbers meanwhile). */
function startPlayoutCapture(file: string, destinationPorts: readonly number[]): Promise<Capture> {
  const filter = `udp and src portrange ${PORT_MIN}-${PORT_MAX} and (${destinationPorts.map((p) => `dst port ${p}`).join(' or ')})`;
  return startCapture(file, filter, pinnedTo(1, pinning));
}

/** Capture time (µs, wall clock) and sequence number of each RTP packet, per source port. */
function readCapture(file: string, fromUs: number, toUs: number): Map<number, { times: number[]; sequences: number[] }> {
  const streams = new Map<number, { times: number[]; sequences: number[] }>();
  forEachRtpRecord(file, (timeUs, sourcePort, _destinationPort, rtp, data) => {
    if (timeUs < fromUs || timeUs > toUs) return;
    let stream = streams.get(sourcePort);
    if (stream === undefined) streams.set(sourcePort, (stream = { times: [], sequences: [] }));
    stream.times.push(timeUs);
    stream.sequences.push(data.readUInt16BE(rtp + 2));
  });
  return streams;
}

// ---- figures ----

interface Timing {
  readonly packets: number;
  /** Sequence jumps other than +1 (losses, reordering). */
  readonly gaps: number;
  /** |inter-arrival − 20 ms| between consecutive sequence numbers, µs, sorted. */
  readonly deltaUs: Float64Array;
  /** |arrival − own grid − median|, µs, sorted (capture only). */
  readonly gridUs: Float64Array;
  /** Per stream: (time span − sequence span × 20 ms) / sequence span × 20 ms, in ppm; mean and worst |·|. */
  readonly driftPpmMean: number;
  readonly driftPpmMax: number;
}

function timing(streams: Iterable<{ times: ArrayLike<number>; sequences: ArrayLike<number>; count: number }>, withGrid: boolean): Timing {
  const deltas: number[] = [];
  const grid: number[] = [];
  let packets = 0;
  let gaps = 0;
  let driftSum = 0;
  let driftMax = 0;
  let driftStreams = 0;
  for (const { times, sequences, count } of streams) {
    packets += count;
    const offsets: number[] = [];
    let extended = 0;
    for (let k = 0; k < count; k++) {
      if (k > 0) {
        const step = ((sequences[k] ?? 0) - (sequences[k - 1] ?? 0) + 65536) % 65536;
        extended += step;
        if (step === 1) deltas.push(Math.abs((times[k] ?? 0) - (times[k - 1] ?? 0) - PERIOD_US));
        else gaps++;
      }
      if (withGrid) offsets.push((times[k] ?? 0) - (times[0] ?? 0) - extended * PERIOD_US);
    }
    if (extended > 0) {
      const nominal = extended * PERIOD_US;
      const ppm = (((times[count - 1] ?? 0) - (times[0] ?? 0) - nominal) / nominal) * 1e6;
      driftSum += ppm;
      driftMax = Math.max(driftMax, Math.abs(ppm));
      driftStreams++;
    }
    if (withGrid && offsets.length > 0) {
      const median = Float64Array.from(offsets).sort()[offsets.length >> 1] ?? 0;
      for (const o of offsets) grid.push(Math.abs(o - median));
    }
  }
  return {
    packets,
    gaps,
    deltaUs: Float64Array.from(deltas).sort(),
    gridUs: Float64Array.from(grid).sort(),
    driftPpmMean: driftStreams === 0 ? Number.NaN : driftSum / driftStreams,
    driftPpmMax: driftMax,
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

const us = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : '—');
const ms = (v: number): string => (Number.isFinite(v) ? (v / 1000).toFixed(2) : '—');
const triple = (s: Float64Array, fmt: (v: number) => string): string => `${fmt(percentile(s, 0.5))} / ${fmt(percentile(s, 0.99))} / ${fmt(s[s.length - 1] ?? Number.NaN)}`;

function machineBusyMs(): number {
  const [, user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).map(Number);
  return (user + nice + system + irq + softirq) * 10;
}

// ---- one step ----

interface Row {
  readonly streams: number;
  readonly cells: string[];
}

async function step(streams: number): Promise<Row> {
  const engine = new WorkerMediaEngine({
    address: '127.0.0.1',
    portMin: PORT_MIN,
    portMax: PORT_MAX,
    workers: 1,
    logger: createMemoryLogger('warn').logger,
    playout: { phases, spread, guardUs, spinUs },
  });
  await engine.start();
  const receivers = new Receivers(Math.ceil((seconds + warmupSeconds + 5) * 50 * 1.2), streams);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'voix-playout-'));
  let sinks: { ports: number[]; close: () => void } | null = null;
  try {
    const [worker] = await engine.diagnostics();
    pinThread(worker?.osThreadId, 0);
    pinThread(process.pid, 1);
    const receiverCount = Math.ceil(streams / STREAMS_PER_RECEIVER);
    let destinationPorts: number[];
    if (readInProcess) {
      await receivers.open(receiverCount);
      destinationPorts = receivers.sockets.map((socket) => socket.address().port);
    } else {
      sinks = await silentSinks(receiverCount);
      destinationPorts = sinks.ports;
    }

    // A prompt of noise long enough for the run, then the ringback: a real playlist, prompt bytes from shared memory.
    const promptSeconds = Math.ceil(seconds + warmupSeconds + 2);
    const samples = Float64Array.from({ length: promptSeconds * 8000 }, () => (Math.random() - 0.5) * 12000);
    await engine.loadPrompt('bench', 'PCMU', encodeLinear('PCMU', samples));

    const relays: number[] = [];
    for (let i = 0; i < streams; i++) {
      const relay = await engine.allocate(`bench-${i}`);
      const port = destinationPorts[Math.floor(i / STREAMS_PER_RECEIVER)];
      if (port === undefined) throw new Error('no receiver');
      const keying = (): SrtpKeying => ({ suite: 'AES_CM_128_HMAC_SHA1_80', key: randomBytes(16), salt: randomBytes(14) });
      await engine.configure(relay.relayId, 'a', {
        remote: { address: '127.0.0.1', rtpPort: port, rtcpPort: port },
        expectedSource: '127.0.0.1',
        srtp: srtp ? { inbound: keying(), outbound: keying() } : null,
        forward: true,
        clockRates: { 0: 8000 },
      });
      receivers.expect(relay.a.port);
      relays.push(relay.relayId);
    }

    const capture = useCapture ? await startPlayoutCapture(path.join(dir, 'playout.pcap'), destinationPorts) : null;
    // Every play asked at once, as a campaign answering many calls would.
    await Promise.all(relays.map((relayId) => engine.play(relayId, 'a', { playlist: [{ kind: 'prompt', prompt: 'bench' }, { kind: 'tone', tone: 'ringback', ms: null }], codec: 'PCMU', payloadType: 0 })));
    await sleep(warmupSeconds * 1000);

    const before = (await engine.diagnostics())[0];
    const busyBefore = machineBusyMs();
    const fromUs = Date.now() * 1000;
    const wallBefore = performance.now();
    receivers.recording = true;
    await sleep(seconds * 1000);
    receivers.recording = false;
    const wallMs = performance.now() - wallBefore;
    const toUs = Date.now() * 1000;
    const busy = machineBusyMs() - busyBefore;
    const after = (await engine.diagnostics())[0];

    await Promise.all(relays.map((relayId) => engine.stopPlay(relayId, 'a')));
    const dropped = capture === null ? Number.NaN : await capture.stop();
    if (before === undefined || after === undefined) throw new Error('no worker diagnostics');

    const received = timing(
      receivers.times.map((times, i) => ({ times, sequences: receivers.sequences[i] ?? new Uint16Array(0), count: receivers.counts[i] ?? 0 })),
      false,
    );
    const captured =
      capture === null
        ? null
        : timing(
            [...readCapture(path.join(dir, 'playout.pcap'), fromUs, toUs).values()].map((s) => ({ ...s, count: s.times.length })),
            true,
          );
    return { streams, cells: cells(streams, wallMs, before, after, received, captured, dropped, busy) };
  } finally {
    await engine.stop();
    await receivers.close();
    sinks?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function cells(
  streams: number,
  wallMs: number,
  before: MediaWorkerDiagnostics,
  after: MediaWorkerDiagnostics,
  received: Timing,
  captured: Timing | null,
  captureDropped: number,
  machineBusy: number,
): string[] {
  const p = after.playout;
  const q = before.playout;
  const wallUs = wallMs * 1000;
  const cpu = after.threadCpuMs !== null && before.threadCpuMs !== null ? ((after.threadCpuMs - before.threadCpuMs) / wallMs) * 100 : Number.NaN;
  const bursts = p.bursts - q.bursts;
  return [
    String(streams),
    `${((p.deadlinesServed - q.deadlinesServed) / streams / (wallMs / 1000)).toFixed(2)}`,
    readInProcess ? `${received.packets} / ${p.deadlinesServed - q.deadlinesServed}${received.gaps > 0 ? ` (${received.gaps} gaps)` : ''}` : '—',
    captured === null ? '—' : `${captured.driftPpmMean.toFixed(1)} / ${captured.driftPpmMax.toFixed(1)}${captured.gaps > 0 ? ` (${captured.gaps} gaps)` : ''}`,
    captured === null ? '—' : triple(captured.deltaUs, us),
    captured === null ? '—' : triple(captured.gridUs, us),
    readInProcess ? triple(received.deltaUs, us) : '—',
    `${cpu.toFixed(1)} %`,
    `${(((p.wakeups - q.wakeups) * 1e6) / wallUs).toFixed(0)} (${(((p.earlyWakeups - q.earlyWakeups) * 1e6) / wallUs).toFixed(0)} early)`,
    `${(((p.waitUs - q.waitUs) / wallUs) * 100).toFixed(1)} %`,
    `${(((p.heldUs - q.heldUs) / wallUs) * 100).toFixed(1)} % / ${ms(p.heldMaxUs)}`,
    `${bursts > 0 ? ((p.burstLatenessSumUs - q.burstLatenessSumUs) / bursts).toFixed(0) : '—'} / ${ms(p.burstLatenessMaxUs)}`,
    `${p.deadlinesCaughtUp - q.deadlinesCaughtUp} / ${p.deadlinesDropped - q.deadlinesDropped}`,
    `${after.loopDelayP99Ms.toFixed(1)} / ${after.loopDelayMaxMs.toFixed(1)}`,
    `${after.gcPauses} / ${after.gcPauseMaxMs.toFixed(1)}`,
    p.streamsPerPhase.join(' '),
    `${((machineBusy / (wallMs * os.cpus().length)) * 100).toFixed(0)} %${Number.isFinite(captureDropped) && captureDropped > 0 ? `, capture dropped ${captureDropped}` : ''}`,
  ];
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/**
 * The machine's own floor: a thread spinning on the clock on the worker's
 * core sees every moment it did not run (other processes, vCPU steal).
 * Gaps of a few ms here are in every figure above as well.
 */
function machineFloor(): string {
  if (floorSeconds <= 0) return 'not measured';
  const script = `let last = performance.now(); const end = last + ${floorSeconds * 1000}; const gaps = [];
while (last < end) { const now = performance.now(); if (now - last > 1) gaps.push(now - last); last = now; }
gaps.sort((a, b) => b - a); process.stdout.write(JSON.stringify({ n: gaps.length, worst: gaps.slice(0, 3) }));`;
  const [command, args] = pinning ? ['taskset', ['-c', '0', process.execPath, '-e', script]] : [process.execPath, ['-e', script]];
  const result = spawnSync(command, args, { encoding: 'utf8' });
  try {
    const { n, worst } = JSON.parse(result.stdout) as { n: number; worst: number[] };
    return `a thread spinning ${floorSeconds} s on core 0 was off the CPU > 1 ms ${n} times, worst ${worst.map((w) => w.toFixed(1)).join(', ')} ms`;
  } catch {
    return `not measured (${result.stderr.trim()})`;
  }
}

// ---- main ----

await takeBenchLock('bench/playout.ts', say);
const command = `npx tsx bench/playout.ts ${process.argv.slice(2).join(' ')}`.trim();
say(`${command}: capture ${useCapture ? 'on' : 'off'}, pinning ${pinning ? 'on' : 'off'}`);
const loadBefore = os.loadavg();
const floor = machineFloor();
const rows: Row[] = [];
for (const streams of streamSteps) {
  say(`${streams} streams…`);
  rows.push(await step(streams));
}
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
process.stdout.write(
  [
    '',
    `\`${command}\``,
    '',
    `${os.cpus().length} × ${cpu}, Node ${process.version}, load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}; ` +
      `scheduler: ${phases} phases, ${spread ? 'spread' : 'not spread'}, guard ${guardUs} µs, spin ${spinUs} µs${srtp ? ', SRTP' : ''}; ` +
      `worker on core 0, ${readInProcess ? 'receiving thread' : 'receiving sockets not read'}${useCapture ? ', dumpcap' : ''} on core 1${pinning ? '' : ' (not pinned)'}; ${seconds} s per step after ${warmupSeconds} s.`,
    `Machine floor: ${floor}.`,
    '',
    table(
      [
        'streams',
        'sent/s per stream',
        'received / sent ≈ (recvmsg)',
        'drift ppm mean / worst (capture)',
        '|Δ−20ms| µs p50/p99/max (capture)',
        'grid error µs p50/p99/max (capture)',
        '|Δ−20ms| µs p50/p99/max (recvmsg)',
        'worker CPU',
        'wake-ups/s',
        'blocked in wait',
        'loop held % / max ms',
        'burst late µs mean / max ms',
        'caught up / dropped',
        'loop delay p99/max ms',
        'GC n / max ms',
        'streams per phase',
        'machine busy',
      ],
      rows.map((r) => r.cells),
    ),
    '',
  ].join('\n'),
);
process.exit(0);
