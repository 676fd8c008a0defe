/**
 * The RTP relay under load: N concurrent calls relayed by one media worker
 * thread, each call two 50 packets/s G.711 streams (A→B and B→A), from a
 * steady generator in another process on another core.
 *
 *   npx tsx bench/relay.ts [--calls 50,100,200,400,800] [--seconds 5] [--workers 1]
 *                          [--unconnected] [--no-capture] [--no-reference] [--no-pin]
 *
 * Per step it reports, on the receiving side:
 * - the relay's added delay per packet: kernel capture time (dumpcap on lo)
 *   of the packet leaving the relay minus that of the same packet entering
 *   it, matched by SSRC and sequence number (TESTING.md), as percentiles;
 * - loss in the relay (entered, never left) and end to end (sent by a
 *   generator phone, never received by the other);
 * - CPU time of the worker thread, per second and per relayed packet;
 * - the worker's heap per call: heap after allocating and configuring the
 *   relays minus heap before, both after a full GC, before any traffic;
 * - the worst event loop delay of the relay thread during the step (a
 *   stalled thread delays every packet it holds).
 *
 * Each step runs twice: voix, then a bare Node relay (a worker thread doing
 * only `a.on('message', m => b.send(m))` on connected sockets) under the
 * same harness, so the figures show what is Node's and this machine's and
 * what is voix's. It is a floor, not a peer: no peer is measured yet
 * (rtpengine comes with the benchmark harness).
 *
 * The relay thread is pinned alone to core 0; the generator, dumpcap and
 * this process's other threads (main, V8 helpers, the tsx loader) to core
 * 1 of this 2-core machine. They do not share the relay's core, but the
 * machine is the same, and the generator (a Node process too) shows its
 * own pacing error in its lateness column. Capture needs root and dumpcap.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createLogger } from '../src/log/logger.js';
import type { AllocatedRelay, LegConfig } from '../src/rtp/media-protocol.js';
import { WorkerMediaEngine } from '../src/rtp/worker-media-engine.js';
import { captureAvailable, matchRelayPackets, startCapture } from './relay-capture.js';
import type { GeneratorCommand, GeneratorReply, GeneratorRunResult } from './relay-generator.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Below the kernel's ephemeral range (32768+), where the generator's phones get their ports. */
const PORT_MIN = 20000;
const PORT_MAX = 29999;

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

const callSteps = (option('calls') ?? '50,100,200,400,800').split(',').map(Number).filter((n) => n > 0);
const seconds = Number(option('seconds') ?? 5);
const workers = Number(option('workers') ?? 1);
const connectSockets = !flag('unconnected');
const useCapture = !flag('no-capture') && captureAvailable();
const withReference = !flag('no-reference');

const hasTaskset = spawnSync('taskset', ['--version']).status === 0 && os.availableParallelism() >= 2 && !flag('no-pin');
function pinned(core: number): (args: string[]) => [string, string[]] {
  return (args) => {
    const [command = '', ...rest] = args;
    return hasTaskset ? ['taskset', ['-c', String(core), command, ...rest]] : [command, rest];
  };
}

class Generator {
  private readonly child: ChildProcess;
  private waiting: ((reply: GeneratorReply) => void) | null = null;

  constructor() {
    this.child = fork(path.join(HERE, 'relay-generator.ts'), [], { execArgv: ['--import', import.meta.resolve('tsx')] });
    if (hasTaskset && this.child.pid !== undefined) spawnSync('taskset', ['-a', '-p', '-c', '1', String(this.child.pid)], { stdio: 'ignore' });
    this.child.on('message', (reply: GeneratorReply) => {
      const waiting = this.waiting;
      this.waiting = null;
      waiting?.(reply);
    });
  }

  send<T extends GeneratorReply['type']>(command: GeneratorCommand, expected: T): Promise<Extract<GeneratorReply, { type: T }>> {
    return new Promise((resolve, reject) => {
      this.waiting = (reply) => (reply.type === expected ? resolve(reply as Extract<GeneratorReply, { type: T }>) : reject(new Error(`generator said ${reply.type}`)));
      this.child.send(command);
    });
  }

  stop(): void {
    this.child.kill();
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

interface Sample {
  readonly cpuMs: number;
  readonly loopDelayMaxMs: number;
  readonly gcPauseMaxMs: number;
}

/** What a step needs from a relay: ports for the phones, its thread's CPU time, its heap. */
interface RelayUnderTest {
  readonly name: string;
  setUp(phones: ReadonlyArray<{ readonly a: number; readonly b: number }>): Promise<Array<{ a: number; b: number }>>;
  /** Thread CPU time so far, and the worst event loop delay since the previous sample. */
  sample(): Promise<Sample>;
  heapBytes(): Promise<number>;
  /** Linux thread id of the relay thread, to pin it alone on its core. */
  osThreadIds(): Promise<number[]>;
  tearDown(): Promise<void>;
}

/** voix: WorkerMediaEngine, symmetric RTP latching on, RFC 3550 statistics, connected senders. */
class VoixRelay implements RelayUnderTest {
  readonly name = 'voix';
  private relays: AllocatedRelay[] = [];
  constructor(private readonly engine: WorkerMediaEngine) {}

  async setUp(phones: ReadonlyArray<{ readonly a: number; readonly b: number }>): Promise<Array<{ a: number; b: number }>> {
    const leg = (port: number): LegConfig => ({
      remote: { address: '127.0.0.1', rtpPort: port, rtcpPort: port + 1 },
      expectedSource: '127.0.0.1',
      srtp: null,
      forward: true,
      clockRates: { 0: 8000 },
    });
    for (const [i, phone] of phones.entries()) {
      const relay = await this.engine.allocate(`bench-${i}`);
      await this.engine.configure(relay.relayId, 'a', leg(phone.a));
      await this.engine.configure(relay.relayId, 'b', leg(phone.b));
      this.relays.push(relay);
    }
    return this.relays.map((r) => ({ a: r.a.port, b: r.b.port }));
  }

  async sample(): Promise<Sample> {
    const diagnostics = await this.engine.diagnostics();
    return {
      cpuMs: diagnostics.reduce((n, d) => n + (d.threadCpuMs ?? 0), 0),
      loopDelayMaxMs: Math.max(...diagnostics.map((d) => d.loopDelayMaxMs)),
      gcPauseMaxMs: Math.max(...diagnostics.map((d) => d.gcPauseMaxMs)),
    };
  }

  async heapBytes(): Promise<number> {
    return (await this.engine.diagnostics({ collectGarbage: true })).reduce((n, d) => n + d.heapUsedBytes, 0);
  }

  async tearDown(): Promise<void> {
    for (const relay of this.relays.splice(0)) await this.engine.release(relay.relayId);
  }

  async osThreadIds(): Promise<number[]> {
    return (await this.engine.diagnostics()).flatMap((d) => (d.osThreadId === null ? [] : [d.osThreadId]));
  }
}

/**
 * The floor under the same harness: the least a Node relay can do, in a
 * worker thread too: a connected socket per leg and
 * `a.on('message', m => b.send(m))`, no checks, no latching, no statistics.
 * Not a peer: it tells the machine's and Node's share of the figures from
 * voix's.
 */
const BARE_RELAY = `
const dgram = require('node:dgram');
const { readFileSync } = require('node:fs');
const { parentPort } = require('node:worker_threads');
const { monitorEventLoopDelay, PerformanceObserver } = require('node:perf_hooks');
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
let gcPauseMaxMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcPauseMaxMs = Math.max(gcPauseMaxMs, entry.duration);
}).observe({ entryTypes: ['gc'] });
let sockets = [];
const bound = (port, peer) => new Promise((resolve) => {
  const s = dgram.createSocket('udp4');
  s.bind(port, '127.0.0.1', () => s.connect(peer, '127.0.0.1', () => resolve(s)));
});
parentPort.on('message', async (m) => {
  if (m.type === 'setUp') {
    const ports = [];
    let port = m.portMin;
    for (const phone of m.phones) {
      const a = await bound(port, phone.a);
      const b = await bound(port + 2, phone.b);
      a.on('message', (p) => b.send(p));
      b.on('message', (p) => a.send(p));
      sockets.push(a, b);
      ports.push({ a: port, b: port + 2 });
      port += 4;
    }
    parentPort.postMessage(ports);
  } else if (m.type === 'sample') {
    const cpuMs = Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
    parentPort.postMessage({ cpuMs, loopDelayMaxMs: loopDelay.max / 1e6, gcPauseMaxMs });
    loopDelay.reset();
    gcPauseMaxMs = 0;
  } else if (m.type === 'heap') {
    globalThis.gc?.();
    parentPort.postMessage(process.memoryUsage().heapUsed);
  } else if (m.type === 'tid') {
    parentPort.postMessage(Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()));
  } else if (m.type === 'tearDown') {
    await Promise.all(sockets.map((s) => new Promise((resolve) => s.close(resolve))));
    sockets = [];
    parentPort.postMessage(null);
  }
});
`;

class BareRelay implements RelayUnderTest {
  readonly name = 'bare Node relay';
  private readonly worker = new Worker(BARE_RELAY, { eval: true });

  private ask<T>(message: Record<string, unknown>): Promise<T> {
    return new Promise((resolve) => {
      this.worker.once('message', (reply: T) => resolve(reply));
      this.worker.postMessage(message);
    });
  }

  setUp(phones: ReadonlyArray<{ readonly a: number; readonly b: number }>): Promise<Array<{ a: number; b: number }>> {
    return this.ask({ type: 'setUp', phones, portMin: PORT_MIN });
  }
  sample(): Promise<Sample> {
    return this.ask({ type: 'sample' });
  }
  heapBytes(): Promise<number> {
    return this.ask({ type: 'heap' });
  }
  tearDown(): Promise<void> {
    return this.ask({ type: 'tearDown' });
  }
  async osThreadIds(): Promise<number[]> {
    return [await this.ask<number>({ type: 'tid' })];
  }
  stop(): Promise<number> {
    return this.worker.terminate();
  }
}

interface Row {
  relay: string;
  calls: number;
  ppsIn: number;
  relayLoss: string;
  endLoss: string;
  delays: Float64Array | null;
  workerCpuPercent: number;
  cpuUsPerPacket: number;
  heapPerCallKb: number;
  loopDelayMaxMs: number;
  gcPauseMaxMs: number;
  generator: GeneratorRunResult;
  captureDrops: number;
}

async function step(relay: RelayUnderTest, generator: Generator, calls: number, dir: string): Promise<Row> {
  const idleHeap = await relay.heapBytes();
  const { phones } = await generator.send({ type: 'open', calls }, 'opened');
  const relays = await relay.setUp(phones);
  await generator.send({ type: 'connect', relays }, 'connected');
  const loadedHeap = await relay.heapBytes();

  const file = path.join(dir, `relay-${calls}.pcap`);
  const capture = useCapture ? await startCapture(file, PORT_MIN, PORT_MAX, pinned(1)) : null;
  const before = await relay.sample();
  const wallBefore = performance.now();
  const generated = await generator.send({ type: 'run', seconds }, 'ran');
  const after = await relay.sample();
  const cpuMs = after.cpuMs - before.cpuMs;
  const wallMs = performance.now() - wallBefore;
  const captureDrops = capture === null ? Number.NaN : await capture.stop();
  await relay.tearDown();
  await generator.send({ type: 'close' }, 'closed');

  let delays: Float64Array | null = null;
  let relayLoss = 'n/a';
  if (capture !== null) {
    const ports = new Set(relays.flatMap((r) => [r.a, r.b]));
    const timing = matchRelayPackets(file, (port) => ports.has(port));
    if (process.env.KEEP_PCAP === undefined) rmSync(file, { force: true });
    delays = timing.delaysUs;
    relayLoss = `${timing.unmatched}/${timing.ingress}`;
  }
  return {
    relay: relay.name,
    calls,
    ppsIn: generated.sent / seconds,
    relayLoss,
    endLoss: `${generated.sent - generated.received}/${generated.sent}`,
    delays,
    workerCpuPercent: (100 * cpuMs) / wallMs,
    cpuUsPerPacket: (1000 * cpuMs) / Math.max(1, generated.sent),
    heapPerCallKb: (loadedHeap - idleHeap) / calls / 1024,
    loopDelayMaxMs: after.loopDelayMaxMs,
    gcPauseMaxMs: after.gcPauseMaxMs,
    generator: generated,
    captureDrops,
  };
}

function format(rows: Row[]): string {
  const header = ['relay', 'calls', 'streams', 'pkt/s in', 'relay loss', 'end loss', 'delay p50 µs', 'p99', 'p99.9', 'max', 'worker CPU %', 'CPU µs/pkt', 'heap/call KB', 'loop delay max ms', 'GC pause max ms', 'gen late p99 µs', 'gen CPU %', 'capture drops'];
  const lines = rows.map((r) => [
    r.relay,
    String(r.calls),
    String(r.generator.streams),
    r.ppsIn.toFixed(0),
    r.relayLoss,
    r.endLoss,
    ...(r.delays === null ? ['n/a', 'n/a', 'n/a', 'n/a'] : [0.5, 0.99, 0.999, 1].map((p) => percentile(r.delays ?? new Float64Array(), p).toFixed(0))),
    r.workerCpuPercent.toFixed(1),
    r.cpuUsPerPacket.toFixed(2),
    r.heapPerCallKb.toFixed(1),
    r.loopDelayMaxMs.toFixed(1),
    r.gcPauseMaxMs.toFixed(1),
    r.generator.latenessP99Us.toFixed(0),
    r.generator.cpuPercent.toFixed(0),
    Number.isNaN(r.captureDrops) ? 'n/a' : String(r.captureDrops),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  return [header, ...lines].map((cells) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

async function main(): Promise<void> {
  // Workers created after this get gc(): heap per call is measured after a full collection.
  v8.setFlagsFromString('--expose-gc');
  if (process.env.TRACE_GC) v8.setFlagsFromString('--trace-gc');
  const cores = os.availableParallelism();
  // Everything of this process on core 1 (with the generator and dumpcap); then each relay thread alone on core 0.
  if (hasTaskset) spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const engine = new WorkerMediaEngine({
    address: '127.0.0.1',
    portMin: PORT_MIN,
    portMax: PORT_MAX,
    workers,
    connectSockets,
    logger: createLogger({ level: 'warn' }),
  });
  await engine.start();
  const generator = new Generator();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'voix-bench-relay-'));
  const rows: Row[] = [];
  const voix = new VoixRelay(engine);
  const bare = withReference ? new BareRelay() : null;
  if (hasTaskset) {
    for (const relay of bare === null ? [voix] : [voix, bare]) {
      for (const tid of await relay.osThreadIds()) spawnSync('taskset', ['-p', '-c', '0', String(tid)], { stdio: 'ignore' });
    }
  }
  try {
    for (const calls of callSteps) {
      for (const relay of bare === null ? [voix] : [voix, bare]) {
        rows.push(await step(relay, generator, calls, dir));
        process.stderr.write(`${relay.name}: ${calls} calls done\n`);
      }
    }
  } finally {
    generator.stop();
    await bare?.stop();
    await engine.stop();
    if (process.env.KEEP_PCAP === undefined) rmSync(dir, { recursive: true, force: true });
    else console.log('pcaps in', dir);
  }

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`command: npx tsx bench/relay.ts ${process.argv.slice(2).join(' ')}`.trimEnd());
  console.log(`machine: ${cpu}, ${cores} cores, Node ${process.version}; ${workers} relay thread(s) ${hasTaskset ? 'alone on core 0' : '(no taskset: not pinned)'}; generator, dumpcap and the bench's other threads ${hasTaskset ? 'on core 1' : 'unpinned'}`);
  console.log(`workload: per call 2 RTP streams (A→B, B→A), 172-byte packets every 20 ms, spread evenly; ${seconds} s per step; ${connectSockets ? 'connected' : 'unconnected'} relay sockets; plain RTP`);
  console.log(
    useCapture
      ? 'delay: egress − ingress per packet from kernel timestamps (dumpcap on lo), matched by SSRC + sequence number'
      : 'delay: not measured (no dumpcap or not root; --no-capture)',
  );
  console.log('relay loss: entered the relay, never left; end loss: sent by a generator phone, never received by its peer');
  if (withReference) {
    console.log('bare Node relay: a worker thread doing only a.on("message", m => b.send(m)) on connected sockets, in the same run: the floor of Node and this machine, not a peer');
  }
  console.log('peer: none measured yet (rtpengine comes with the benchmark harness)');
  console.log('');
  console.log(format(rows));
}

await main();
