/**
 * The RTP relay under load: N concurrent calls relayed by voix's media
 * worker thread(s) (WorkerMediaEngine, driven directly: no SIP), each call
 * two 50 packets/s G.711 streams (A→B and B→A), from a steady generator in
 * another process on another core; the number of calls is stepped until
 * the relay no longer keeps up.
 *
 *   npm run bench:relay -- [--calls 100,200,300,400,500,600,800,1000,1200] [--seconds 10]
 *                          [--warmup 2] [--srtp] [--check-every 10] [--workers 1]
 *                          [--relay-cores 0] [--sample-every 4] [--no-stop] [--retries 2]
 *                          [--noise-max 15] [--wait-max 1] [--late-max-us 2000]
 *                          [--unconnected] [--no-capture] [--no-reference] [--no-pin] [--blaster]
 *   npm run bench:relay -- --sipp [...]    real server between two SIPp (bench/relay-sipp.ts)
 *
 * --blaster: the calls that are not sampled (see Sampling) are sent by
 * bench/relay-blaster.c, a C sender (libsrtp2, one sendmmsg per 1 ms slot)
 * on the same schedule, instead of the generator's Node phones: a Node
 * socket send costs about as much as the relay's own work per packet, so
 * with relay threads on both cores of this machine (--workers 2
 * --relay-cores 0,1) the Node generator alone cannot offer the load.
 * Needs gcc and libsrtp2-dev.
 *
 * --srtp: every relay has SRTP (AES_CM_128_HMAC_SHA1_80, keys from
 * generateSrtpKeying) on both legs. Phone A protects what it sends with
 * leg a's inbound key (the key A "gave" in its SDP), phone B with leg b's;
 * voix unprotects, and protects again with each leg's outbound key; each
 * phone unprotects one received packet in --check-every (10) with the key
 * voix gave it and checks the payload, so the figure is for real work.
 *
 * Each step starts all its calls at once and sends --warmup (2) seconds
 * of traffic that is not counted, then --seconds (10) that are: calls that
 * start together make the relay create every stream's state (statistics,
 * SRTP contexts and their first keystream batches) and the JIT compile in
 * the same few milliseconds, a burst that calls starting over time never
 * make. The capture leaves the warm-up out by RTP sequence number, the CPU
 * measures start when the generator says the warm-up is over.
 *
 * Per step it reports, on the receiving side (TESTING.md):
 * - loss in the relay: entered it (kernel capture, dumpcap on lo), never
 *   left; and end to end (sent by a generator phone, never received);
 * - RFC 3550 interarrival jitter (§6.4.1, A.8) of each stream as it leaves
 *   the relay towards the receiving phone, computed from the capture's
 *   kernel timestamps and the RTP timestamps: the mean over the stream's
 *   packets, then over streams ("jitter out"); the same on the way in
 *   ("jitter in": the generator's own pacing);
 * - the relay's added delay per packet: capture time of the packet leaving
 *   the relay minus that of the same packet entering it, matched by SSRC and
 *   sequence number, as percentiles;
 * - CPU time of the relay thread(s), per second, per packet and per call
 *   (user + system: the loopback delivery of the relay's sends runs in its
 *   thread and counts; that of the packets it receives runs on the sender's
 *   core), and how long it waited for its core while other processes ran
 *   there (its run-queue wait, from schedstat);
 * - memory per call: the workers' heap after the traffic (per-stream state
 *   included) minus before the relays, both after a full GC; and the
 *   process's resident memory after the traffic minus before the first
 *   step, per call (indicative);
 * - the worst event loop delay and GC pause of the relay thread(s).
 *
 * A step is good when relay loss ≤ 0.1% and mean jitter out ≤ 5 ms (and,
 * with SRTP, every packet checked was right) at the step's full rate, bad
 * otherwise; stepping stops at the first bad step. A failing relay whose
 * thread is saturated (≥ 90% of its core) is bad whatever else happened.
 * Otherwise a step is invalid instead, and run again (--retries), when its
 * load was not offered (the generator sent at less than 99% of the step's
 * rate), or when it is bad and something else could explain it
 * (judgeRow): other processes on this shared machine used more
 * than --noise-max (15) % of a core, or took the relay's own core while it
 * had work more than --wait-max (1) % of the time (the relay thread's run
 * queue wait, schedstat), or the generator fell behind (mean lateness >
 * --late-max-us, 2000 µs), sent with RFC 3550 jitter > 1.25 ms at the
 * relay's door, or did not take what the relay delivered, while the
 * relay's own measures (loss inside the relay, jitter it adds) were within
 * the limits. A capture that dropped packets makes any step invalid. Still
 * invalid after the retries: stepping stops there, and the result says why
 * (inconclusive beyond).
 * This machine's vCPUs also stall for a few ms now and then with nothing
 * else running (a spinning thread sees 3–5 ms gaps every few seconds):
 * lateness p99 and delay p99 carry that, means hardly.
 *
 * Sampling (--sample-every K, default 4): every call carries its traffic,
 * but only one call in K is captured (a BPF filter on the SSRC) and has
 * phones that read what they receive; the others' phones stop reading
 * their socket (the kernel queues, then drops). Capturing and reading
 * everything cost the generator's core as much as sending (and the capture
 * adds to the relay's own send path), and the figures are per packet.
 *
 * Each step runs voix, then (plain RTP only) a bare relay (a worker
 * thread doing only `a.on('message', m => b.send(m))` on connected sockets,
 * through voix's native UDP addon, or dgram with --udp-io dgram)
 * under the same harness, so the figures show what is Node's and this
 * machine's and what is voix's. It is a floor, not a peer: no peer is
 * measured yet (rtpengine comes with the benchmark harness).
 *
 * Cores: relay thread i alone on core --relay-cores[i mod n] (default 0);
 * the generator, dumpcap and this process's other threads (main, V8
 * helpers, the tsx loader) on the other core of this 2-core machine. They
 * do not share the relay's core, but the machine is the same. V8's helper
 * threads do the concurrent part of the relay's garbage collection there:
 * it is not in the relay thread's CPU time. (Running the
 * generator SCHED_FIFO was tried: its helper threads inherit the policy
 * and the process livelocks on its one core; it runs at normal priority.)
 * Capture needs root and dumpcap.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createLogger } from '../src/log/logger.js';
import type { AllocatedRelay, LegConfig, SrtpKeying } from '../src/rtp/media-protocol.js';
import { WorkerMediaEngine } from '../src/rtp/worker-media-engine.js';
import { generateSrtpKeying } from '../src/sdp/crypto-attribute.js';
import { analyseRelayCapture, captureAvailable, startCapture, type Capture, type RelayTiming } from './relay-capture.js';
import type { CallKeys, GeneratorCommand, GeneratorReply, GeneratorRunResult, WireKeying } from './relay-generator.js';
import { MachineLoad, hasTaskset, killOnExit, machineCores, machineLine, percentile, pin, pinnedTo, processCpuMs, table, threadSchedMs, waitForQuiet } from './relay-machine.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Below the kernel's ephemeral range (32768+), where the generator's phones get their ports. */
const PORT_MIN = 20000;
const PORT_MAX = 29999;

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

const callSteps = (option('calls') ?? '100,200,300,400,500,600,800,1000,1200').split(',').map(Number).filter((n) => n > 0);
const seconds = Number(option('seconds') ?? 10);
/** Packets per second of a G.711 stream at 20 ms. */
const PACKETS_PER_SECOND = 50;
/** Traffic before the measured part, not counted (relay-generator.ts, run()): whole 20 ms periods. */
const warmupPeriods = Math.round(Number(option('warmup') ?? 2) * PACKETS_PER_SECOND);
const workers = Number(option('workers') ?? 1);
const relayCores = (option('relay-cores') ?? '0').split(',').map(Number);
const srtp = flag('srtp');
const checkEvery = Number(option('check-every') ?? 10);
/** One call in `sampleEvery` (a power of two) is captured and has phones that read: see the header. */
const sampleEvery = 2 ** Math.round(Math.log2(Math.max(1, Number(option('sample-every') ?? 4))));
const connectSockets = !flag('unconnected');
/** The calls not sampled are sent by bench/relay-blaster.c (relay-generator.ts): for relays on both cores. */
const useBlaster = flag('blaster');
/** The relay's UDP sockets (docs/adr/0006): voix's native addon (default) or Node's dgram; the bare relay uses the same. */
const udpIo = option('udp-io') === 'dgram' ? 'dgram' : 'native';
/** SRTP's per-packet crypto (docs/adr/0007): the native addon (default) or the TypeScript one. */
const srtpCrypto = option('srtp-crypto') === 'typescript' ? 'typescript' : 'native';
const bareAddon = udpIo === 'native' ? fileURLToPath(new URL('../dist/rtp/native/udp-io.node', import.meta.url)) : undefined;
const useCapture = !flag('no-capture') && captureAvailable();
const withReference = !flag('no-reference') && !srtp;
const stopAtFirstBad = !flag('no-stop');
const retries = Number(option('retries') ?? 2);
const noiseMaxPercent = Number(option('noise-max') ?? 15);
/**
 * The relay's own core is where noise hurts: a relay at 80% of its core
 * has no room for another process's 20%. Alone on its core, the relay
 * thread waits for it (runnable, not running) only when something else
 * runs there; up to --wait-max % of the time is tolerated.
 */
const relayWaitMaxPercent = Number(option('wait-max') ?? 1);
const lateMaxUs = Number(option('late-max-us') ?? 2000);
const pinning = hasTaskset && !flag('no-pin');
/** The core for the generator, dumpcap and this process: the first one no relay thread is on. */
const generatorCore = [...Array(machineCores).keys()].find((c) => !relayCores.includes(c)) ?? 1;
const onGeneratorCore = pinnedTo(generatorCore, pinning);
/** Whether the relay threads have their core(s) to themselves: then whatever else ran there is noise. */
const relayCoresExclusive = pinning && !relayCores.includes(generatorCore);

/** Loss and jitter limits of a good step (the calls issue's). */
const MAX_LOSS = 0.001;
const MAX_MEAN_JITTER_MS = 5;
/** A step counts only when the generator sent its packets at ≥ 99% of the step's rate (it ended < 1% late). */
const MIN_OFFERED = 0.99;
/** A relay thread using this much of its core has no room left: when it fails, it is the limit. */
const SATURATED_PERCENT = 90;
const SUITE = 'AES_CM_128_HMAC_SHA1_80';

/** The generator process (relay-generator.ts), one command at a time over the fork IPC channel. */
class Generator {
  private readonly child: ChildProcess;
  private waiting: { readonly expected: GeneratorReply['type']; resolve(reply: GeneratorReply): void; reject(err: Error): void } | null = null;
  private onWarm: (() => void) | null = null;

  constructor() {
    this.child = fork(path.join(HERE, 'relay-generator.ts'), [], { execArgv: ['--import', import.meta.resolve('tsx')] });
    killOnExit(this.child);
    if (pinning && this.child.pid !== undefined) pin(this.child.pid, String(generatorCore), true);
    this.child.on('message', (reply: GeneratorReply) => {
      // 'warm' comes in the middle of a run, before its reply.
      if (reply.type === 'warm') return this.onWarm?.();
      const waiting = this.waiting;
      this.waiting = null;
      if (waiting === null) return;
      if (reply.type === waiting.expected) waiting.resolve(reply);
      else waiting.reject(new Error(`generator said ${reply.type}, expected ${waiting.expected}`));
    });
    this.child.once('exit', (code, signal) => this.waiting?.reject(new Error(`generator exited (${code ?? signal})`)));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  send<T extends GeneratorReply['type']>(command: GeneratorCommand, expected: T): Promise<Extract<GeneratorReply, { type: T }>> {
    return new Promise((resolve, reject) => {
      this.waiting = { expected, resolve: (reply) => resolve(reply as Extract<GeneratorReply, { type: T }>), reject };
      this.child.send(command);
    });
  }

  /** Starts the traffic: `warm` resolves when the warm-up ends and the measured part begins, `ran` with the result. */
  run(seconds: number, warmupPeriods: number): { readonly warm: Promise<void>; readonly ran: Promise<GeneratorRunResult> } {
    const warm = new Promise<void>((resolve) => (this.onWarm = resolve));
    return { warm, ran: this.send({ type: 'run', seconds, warmupPeriods }, 'ran') };
  }

  stop(): void {
    this.child.kill();
  }
}

interface Sample {
  readonly cpuMs: number;
  readonly loopDelayMaxMs: number;
  readonly gcPauseMaxMs: number;
}

interface RelayPorts {
  readonly a: number;
  readonly b: number;
  readonly keys?: CallKeys;
}

/** What a step needs from a relay: ports for the phones, its thread's CPU time, its heap. */
interface RelayUnderTest {
  readonly name: string;
  setUp(phones: ReadonlyArray<{ readonly a: number; readonly b: number }>): Promise<RelayPorts[]>;
  /** Thread CPU time so far, and the worst event loop delay since the previous sample. */
  sample(): Promise<Sample>;
  heapBytes(): Promise<number>;
  /** Linux thread ids of the relay threads, to pin them alone on their core. */
  osThreadIds(): Promise<number[]>;
  tearDown(): Promise<void>;
}

const wire = (k: SrtpKeying): WireKeying => ({ suite: k.suite, key: Buffer.from(k.key).toString('hex'), salt: Buffer.from(k.salt).toString('hex') });

/** voix: WorkerMediaEngine, symmetric RTP latching on, RFC 3550 statistics, connected senders; SRTP on both legs with --srtp. */
class VoixRelay implements RelayUnderTest {
  readonly name = 'voix';
  private relays: AllocatedRelay[] = [];
  constructor(private readonly engine: WorkerMediaEngine) {}

  async setUp(phones: ReadonlyArray<{ readonly a: number; readonly b: number }>): Promise<RelayPorts[]> {
    const leg = (port: number, keys: LegConfig['srtp']): LegConfig => ({
      remote: { address: '127.0.0.1', rtpPort: port, rtcpPort: port + 1 },
      expectedSource: '127.0.0.1',
      srtp: keys,
      forward: true,
      clockRates: { 0: 8000 },
    });
    const ports: RelayPorts[] = [];
    for (const [i, phone] of phones.entries()) {
      const relay = await this.engine.allocate(`bench-${i}`);
      const a = srtp ? { inbound: generateSrtpKeying(SUITE), outbound: generateSrtpKeying(SUITE) } : null;
      const b = srtp ? { inbound: generateSrtpKeying(SUITE), outbound: generateSrtpKeying(SUITE) } : null;
      await this.engine.configure(relay.relayId, 'a', leg(phone.a, a));
      await this.engine.configure(relay.relayId, 'b', leg(phone.b, b));
      this.relays.push(relay);
      ports.push(
        a === null || b === null
          ? { a: relay.a.port, b: relay.b.port }
          : {
              a: relay.a.port,
              b: relay.b.port,
              keys: { aSend: wire(a.inbound), aReceive: wire(a.outbound), bSend: wire(b.inbound), bReceive: wire(b.outbound) },
            },
      );
    }
    return ports;
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
const NATIVE = require('node:worker_threads').workerData?.addon;
let bound = (port, peer) => new Promise((resolve) => {
  const s = dgram.createSocket('udp4');
  s.bind(port, '127.0.0.1', () => s.connect(peer, '127.0.0.1', () => resolve(s)));
});
if (NATIVE) {
  const io = require(NATIVE);
  const rx = new Uint8Array(64 * 2048), meta = new Uint32Array(64 * 8);
  const views = []; for (let i = 0; i < 64; i++) views.push(rx.subarray(i * 2048, (i + 1) * 2048));
  const peerOf = [];
  io.init(rx, meta, (fd, n) => { const peer = peerOf[fd]; for (let i = 0; i < n; i++) io.send(peer, views[i], meta[i * 8]); });
  const pending = [];
  bound = (port, peer) => {
    const fd = io.open(false, '127.0.0.1', port, false);
    io.connect(fd, '127.0.0.1', peer);
    const s = { fd, on(event, handler) { if (pending.length) { const other = pending.pop(); peerOf[fd] = other.fd; peerOf[other.fd] = fd; } else pending.push(this); }, send() {}, close(cb) { io.close(fd); cb(); } };
    return Promise.resolve(s);
  };
}
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
  private readonly worker = new Worker(BARE_RELAY, { eval: true, workerData: { addon: bareAddon } });
  readonly name = udpIo === 'native' ? 'bare native relay' : 'bare Node relay';

  private ask<T>(message: Record<string, unknown>): Promise<T> {
    return new Promise((resolve) => {
      this.worker.once('message', (reply: T) => resolve(reply));
      this.worker.postMessage(message);
    });
  }

  setUp(phones: ReadonlyArray<{ readonly a: number; readonly b: number }>): Promise<RelayPorts[]> {
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

type Verdict = 'good' | 'bad' | 'invalid' | '-';

interface Row {
  relay: string;
  calls: number;
  attempt: number;
  ppsIn: number;
  generator: GeneratorRunResult;
  timing: RelayTiming | null;
  /** Relay loss (capture) as a fraction; end loss when there is no capture. */
  loss: number;
  endLost: number;
  /** What left the relay (capture) but the phones did not take: the generator's share of the end loss. */
  generatorDropped: number;
  workerCpuPercent: number;
  /** Time the relay thread(s) waited for their core while ready to run, % of the measured time. */
  relayWaitPercent: number;
  cpuUsPerPacket: number;
  heapPerCallKb: number;
  rssPerCallKb: number;
  loopDelayMaxMs: number;
  gcPauseMaxMs: number;
  captureDrops: number;
  captureCpuPercent: number;
  othersPercent: number;
  busiestOther: string;
  verdict: Verdict;
  reasons: string[];
}

let rssBaseline = 0;

/**
 * The relay ports, and of them the calls sampled: phones A and B of call i
 * send SSRC 2i + 1 and 2i + 2 (relay-generator.ts), so call i is sampled
 * when i % K = 0, i.e. SSRC mod 2K is 1 or 2. The SSRC is the RTP header's
 * bytes 8–11, in clear with SRTP too.
 */
function captureFilter(): string {
  const ports = `udp portrange ${PORT_MIN}-${PORT_MAX}`;
  if (sampleEvery === 1) return ports;
  const mask = 2 * sampleEvery - 1;
  return `${ports} and ((udp[16:4] & ${mask}) = 1 or (udp[16:4] & ${mask}) = 2)`;
}

/** What the measured part of a step used: relay thread(s), the rest of the machine. */
interface StepUsage {
  readonly relayCpuMs: number;
  /** Time the relay thread(s) were ready to run but waited for their core: others using it. */
  readonly relayWaitMs: number;
  readonly loopDelayMaxMs: number;
  readonly gcPauseMaxMs: number;
  readonly captureCpuMs: number;
  readonly othersPercent: number;
  readonly busiestOther: string;
}

/** Summed scheduler times of the relay's threads (threads of this process). */
function relayThreadsSched(tids: readonly number[]): { cpuMs: number; waitMs: number } {
  let cpuMs = 0;
  let waitMs = 0;
  for (const tid of tids) {
    const t = threadSchedMs(process.pid, tid);
    cpuMs += t.cpuMs;
    waitMs += t.waitMs;
  }
  return { cpuMs, waitMs };
}

/**
 * Starts the measures of a step's measured part (after the generator's
 * warm-up); the function it resolves with ends them, once the generator's
 * result is in.
 */
async function startUsage(relay: RelayUnderTest, generator: Generator, capture: Capture | null): Promise<() => Promise<StepUsage>> {
  const tids = await relay.osThreadIds();
  const before = await relay.sample();
  const schedBefore = relayThreadsSched(tids);
  const captureBefore = processCpuMs(capture?.pid);
  const load = new MachineLoad();
  return async () => {
    const captureCpuMs = processCpuMs(capture?.pid) - captureBefore;
    const others = load.others(new Set([process.pid, generator.pid ?? 0, capture?.pid ?? 0]));
    // After the generator's last packets: what the relay still had queued is done by the time it answers.
    const after = await relay.sample();
    return {
      relayCpuMs: after.cpuMs - before.cpuMs,
      relayWaitMs: relayThreadsSched(tids).waitMs - schedBefore.waitMs,
      loopDelayMaxMs: after.loopDelayMaxMs,
      gcPauseMaxMs: after.gcPauseMaxMs,
      captureCpuMs,
      othersPercent: others.percent,
      busiestOther: others.busiest,
    };
  };
}

/** Relay port → the other leg's port, from the relays the bench set up. */
function partnersOf(relays: readonly RelayPorts[]): Map<number, number> {
  const partners = new Map<number, number>();
  for (const r of relays) {
    partners.set(r.a, r.b);
    partners.set(r.b, r.a);
  }
  return partners;
}

/**
 * One step: N calls set up, a warm-up (not counted), `seconds` of measured
 * traffic under capture, then the calls torn down and the capture analysed.
 */
async function step(relay: RelayUnderTest, generator: Generator, calls: number, dir: string, attempt: number, judge: boolean): Promise<Row> {
  await waitForQuiet(noiseMaxPercent / 2, 180_000, (line) => process.stderr.write(`${line}\n`));
  const idleHeap = await relay.heapBytes();
  const { phones } = await generator.send({ type: 'open', calls }, 'opened');
  const relays = await relay.setUp(phones);
  await generator.send({ type: 'connect', relays, checkEvery, listenEvery: sampleEvery, blaster: useBlaster }, 'connected');

  const file = path.join(dir, `relay-${calls}.pcap`);
  const capture = useCapture ? await startCapture(file, captureFilter(), onGeneratorCore) : null;
  const { warm, ran } = generator.run(seconds, warmupPeriods);
  await warm;
  const finishUsage = await startUsage(relay, generator, capture);
  const generated = await ran;
  const usage = await finishUsage();
  // After the traffic: the per-stream state (reception statistics, SRTP contexts) exists by now.
  const loadedHeap = await relay.heapBytes();
  const rss = process.memoryUsage().rss;
  const captureDrops = capture === null ? Number.NaN : await capture.stop();
  await relay.tearDown();
  await generator.send({ type: 'close' }, 'closed');

  let timing: RelayTiming | null = null;
  if (capture !== null) {
    const partners = partnersOf(relays);
    timing = analyseRelayCapture(file, { isRelayPort: (port) => partners.has(port), partners, firstSequence: warmupPeriods });
    if (process.env.KEEP_PCAP === undefined) rmSync(file, { force: true });
  }
  const endLost = generated.sentToListening - generated.received;
  let generatorDropped = 0;
  for (const [ssrc, received] of generated.receivedBySsrc) generatorDropped += Math.max(0, (timing?.egressBySsrc.get(ssrc) ?? 0) - received);
  const loss = timing === null ? endLost / Math.max(1, generated.sentToListening) : timing.unmatched / Math.max(1, timing.ingress);
  const measuredMs = seconds * 1000;
  const row: Row = {
    relay: relay.name,
    calls,
    attempt,
    ppsIn: generated.sent / seconds,
    generator: generated,
    timing,
    loss,
    endLost,
    generatorDropped,
    // Over the measured traffic's duration: what the relay did after it (its queue) belongs to it.
    workerCpuPercent: (100 * usage.relayCpuMs) / measuredMs,
    relayWaitPercent: (100 * usage.relayWaitMs) / measuredMs,
    cpuUsPerPacket: (1000 * usage.relayCpuMs) / Math.max(1, generated.sent),
    heapPerCallKb: (loadedHeap - idleHeap) / calls / 1024,
    rssPerCallKb: (rss - rssBaseline) / calls / 1024,
    loopDelayMaxMs: usage.loopDelayMaxMs,
    gcPauseMaxMs: usage.gcPauseMaxMs,
    captureDrops,
    captureCpuPercent: (100 * usage.captureCpuMs) / measuredMs,
    othersPercent: usage.othersPercent,
    busiestOther: usage.busiestOther,
    verdict: '-',
    reasons: [],
  };
  if (judge) judgeRow(row);
  return row;
}

/** What fails the issue's criteria (an empty list: a good step). */
function failures(row: Row): string[] {
  const bad: string[] = [];
  if (row.loss > MAX_LOSS) bad.push(`loss ${(100 * row.loss).toFixed(2)}% > ${100 * MAX_LOSS}%`);
  const jitter = row.timing?.jitterOut.meanMs ?? Number.NaN;
  if (jitter > MAX_MEAN_JITTER_MS) bad.push(`mean jitter ${jitter.toFixed(2)} ms > ${MAX_MEAN_JITTER_MS} ms`);
  if (row.generator.checkFailed > 0) bad.push(`${row.generator.checkFailed} of ${row.generator.checked} SRTP packets checked failed`);
  if (srtp && row.generator.checked === 0) bad.push('no SRTP packet checked');
  return bad;
}

/** Other processes on the machine, or on the relay's own core, beyond the limits. */
function noiseOf(row: Row): string[] {
  const noise: string[] = [];
  if (row.othersPercent > noiseMaxPercent) noise.push(`other processes used ${row.othersPercent.toFixed(0)}% of a core${row.busiestOther === '' ? '' : ` (${row.busiestOther})`}`);
  if (relayCoresExclusive && row.relayWaitPercent > relayWaitMaxPercent) noise.push(`the relay waited for its core ${row.relayWaitPercent.toFixed(1)}% of the time (other processes on it)`);
  return noise;
}

/** What the generator did wrong: late, bursty at the relay's door, or not reading what it was sent. */
function generatorFaults(row: Row): string[] {
  const faults: string[] = [];
  if (row.generator.latenessMeanUs > lateMaxUs) faults.push(`generator behind (mean lateness ${(row.generator.latenessMeanUs / 1000).toFixed(1)} ms > ${lateMaxUs / 1000} ms)`);
  const jitterIn = row.timing?.jitterIn.meanMs ?? 0;
  if (jitterIn > MAX_MEAN_JITTER_MS / 4) faults.push(`generator sends with jitter ${jitterIn.toFixed(2)} ms > ${MAX_MEAN_JITTER_MS / 4} ms`);
  if (row.generatorDropped > MAX_LOSS * row.generator.sentToListening) faults.push(`generator phones did not take ${row.generatorDropped} packets the relay delivered`);
  return faults;
}

/**
 * Good or bad by the issue's criteria, or invalid (run again):
 * - a capture that dropped packets makes any step invalid;
 * - a good step counts only if the generator offered the step's rate (it
 *   sent everything at ≥ 99% of it); otherwise the relay carried less;
 * - a bad step is bad when the relay itself fails: its own measures (loss
 *   inside it, the jitter it adds, SRTP checks) fail while its thread is
 *   saturated (≥ 90% of its core): then no noise or generator fault is the
 *   explanation, whatever else happened;
 * - otherwise a bad step is invalid when the generator did not offer the
 *   load, when other processes used more than --noise-max % of a core or
 *   took the relay's core more than --wait-max % of the time, or when the
 *   generator was at fault (late, bursty, not reading) while the relay's
 *   own measures, which do not depend on the sender's pacing, were within
 *   the limits.
 */
function judgeRow(row: Row): void {
  const bad = failures(row);
  const noise = noiseOf(row);
  const generatorFault = generatorFaults(row);
  const relayOwnFault = row.timing !== null && (row.loss > MAX_LOSS || row.timing.jitterAdded.meanMs > MAX_MEAN_JITTER_MS || row.generator.checkFailed > 0);
  const threadPercent = row.workerCpuPercent / workers;
  // Sending it all took that much longer than planned: the relay was offered a lower rate than the step's.
  const offered = seconds / (seconds + row.generator.latenessLastUs / 1e6);
  const notOffered = offered < MIN_OFFERED ? [`the generator offered ${(100 * offered).toFixed(1)}% of the step's packet rate: it did not keep up`] : [];
  const decide = (verdict: Verdict, reasons: string[]): void => {
    row.verdict = verdict;
    row.reasons = reasons;
  };
  if (row.captureDrops > 0) decide('invalid', [`dumpcap dropped ${row.captureDrops} packets`, ...bad]);
  else if (bad.length === 0 && notOffered.length > 0) decide('invalid', notOffered);
  // Good despite the noise: the relay coped; its figures (CPU per packet) may carry some of it.
  else if (bad.length === 0) decide('good', noise.length > 0 ? [`(${noise.join('; ')})`] : []);
  else if (relayOwnFault && threadPercent >= SATURATED_PERCENT) decide('bad', [...bad, `relay thread saturated (${threadPercent.toFixed(0)}% of its core)`]);
  else if (notOffered.length > 0 || noise.length > 0 || (!relayOwnFault && generatorFault.length > 0)) {
    decide('invalid', [...bad, ...notOffered, ...noise, ...(relayOwnFault ? [] : generatorFault)]);
  } else decide('bad', [...bad, ...generatorFault.map((r) => `${r}, but the relay's own measures fail too`)]);
}

const ms = (x: number): string => (Number.isNaN(x) ? 'n/a' : x.toFixed(2));
const us = (x: number): string => (Number.isNaN(x) ? 'n/a' : x.toFixed(0));

function mainTable(rows: Row[]): string {
  const header = ['relay', 'calls', 'try', 'pkt/s in', 'loss %', 'jitter out ms', 'delay p50 µs', 'p99 µs', 'worker CPU %', 'CPU µs/pkt', 'CPU ms/s per call', 'heap/call KB', 'RSS/call KB', 'verdict'];
  return table(
    header,
    rows.map((r) => [
      r.relay,
      String(r.calls),
      String(r.attempt),
      r.ppsIn.toFixed(0),
      (100 * r.loss).toFixed(3),
      ms(r.timing?.jitterOut.meanMs ?? Number.NaN),
      us(percentile(r.timing?.delaysUs ?? new Float64Array(), 0.5)),
      us(percentile(r.timing?.delaysUs ?? new Float64Array(), 0.99)),
      r.workerCpuPercent.toFixed(1),
      r.cpuUsPerPacket.toFixed(2),
      ((r.cpuUsPerPacket * 100) / 1000).toFixed(2),
      r.heapPerCallKb.toFixed(1),
      r.relay === 'voix' ? r.rssPerCallKb.toFixed(0) : '-',
      r.verdict === '-' ? '-' : `${r.verdict}${r.reasons.length > 0 ? `: ${r.reasons.join('; ')}` : ''}`,
    ]),
  );
}

function detailTable(rows: Row[]): string {
  const header = [
    'relay',
    'calls',
    'try',
    'relay loss',
    'end loss',
    'jitter in ms',
    'jitter out max ms',
    'added jitter ms',
    'delay p99.9 µs',
    'max µs',
    'loop delay max ms',
    'GC pause max ms',
    'gen late mean/p99 µs',
    'gen CPU %',
    'SRTP checked/failed',
    'dumpcap CPU %',
    'others %',
    'relay waited %',
    'capture drops',
  ];
  return table(
    header,
    rows.map((r) => {
      const t = r.timing;
      return [
        r.relay,
        String(r.calls),
        String(r.attempt),
        t === null ? 'n/a' : `${t.unmatched}/${t.ingress}`,
        `${r.endLost}/${r.generator.sentToListening}`,
        ms(t?.jitterIn.meanMs ?? Number.NaN),
        ms(t?.jitterOut.maxMs ?? Number.NaN),
        ms(t?.jitterAdded.meanMs ?? Number.NaN),
        us(percentile(t?.delaysUs ?? new Float64Array(), 0.999)),
        us(percentile(t?.delaysUs ?? new Float64Array(), 1)),
        r.loopDelayMaxMs.toFixed(1),
        r.gcPauseMaxMs.toFixed(1),
        `${r.generator.latenessMeanUs.toFixed(0)}/${r.generator.latenessP99Us.toFixed(0)}`,
        r.generator.cpuPercent.toFixed(0),
        srtp && r.relay === 'voix' ? `${r.generator.checked}/${r.generator.checkFailed}` : '-',
        Number.isNaN(r.captureCpuPercent) ? 'n/a' : r.captureCpuPercent.toFixed(0),
        `${r.othersPercent.toFixed(0)}${r.busiestOther === '' ? '' : ` (${r.busiestOther})`}`,
        r.relayWaitPercent.toFixed(2),
        Number.isNaN(r.captureDrops) ? 'n/a' : String(r.captureDrops),
      ];
    }),
  );
}

/** Each relay thread alone on its core (--relay-cores, in turn); returns what went where, for the report. */
async function pinRelayThreads(relays: readonly RelayUnderTest[]): Promise<string[]> {
  const assignment: string[] = [];
  for (const relay of relays) {
    for (const [i, tid] of (await relay.osThreadIds()).entries()) {
      const core = relayCores[i % relayCores.length] ?? 0;
      if (pinning) pin(tid, String(core), false);
      assignment.push(`${relay.name} thread ${i + 1} on core ${core}`);
    }
  }
  return assignment;
}

interface Outcome {
  readonly rows: Row[];
  lastGood: number | null;
  stoppedBecause: string;
}

/**
 * The steps in turn: voix (run again while invalid, up to --retries more
 * times), then the bare relay once at the same step; stops at the first
 * step that is not good (unless --no-stop).
 */
async function runSteps(voix: RelayUnderTest, bare: RelayUnderTest | null, generator: Generator, dir: string, outcome: Outcome): Promise<void> {
  for (const calls of callSteps) {
    let row: Row | null = null;
    for (let attempt = 1; attempt <= 1 + retries; attempt++) {
      row = await step(voix, generator, calls, dir, attempt, true);
      outcome.rows.push(row);
      process.stderr.write(`voix: ${calls} calls, try ${attempt}: ${row.verdict}${row.reasons.length > 0 ? ` (${row.reasons.join('; ')})` : ''}\n`);
      if (row.verdict !== 'invalid') break;
    }
    if (bare !== null) {
      outcome.rows.push(await step(bare, generator, calls, dir, 1, false));
      process.stderr.write(`${bare.name}: ${calls} calls done\n`);
    }
    if (row === null) return;
    const stillGood = outcome.stoppedBecause === '';
    if (row.verdict === 'good') {
      if (stillGood) outcome.lastGood = calls;
      continue;
    }
    const why = `${calls} calls: ${row.verdict} (${row.reasons.join('; ')})`;
    if (stillGood) outcome.stoppedBecause = row.verdict === 'invalid' ? `${why}, after ${1 + retries} tries: inconclusive beyond` : why;
    if (stopAtFirstBad) return;
  }
}

async function main(): Promise<void> {
  // Workers created after this get gc(): heap per call is measured after a full collection.
  v8.setFlagsFromString('--expose-gc');
  if (process.env.TRACE_GC) v8.setFlagsFromString('--trace-gc');
  // Everything of this process on the generator's core; then each relay thread alone on its core.
  if (pinning) pin(process.pid, String(generatorCore), true);
  const engine = new WorkerMediaEngine({
    address: '127.0.0.1',
    portMin: PORT_MIN,
    portMax: PORT_MAX,
    workers,
    connectSockets,
    udpIo,
    srtpCrypto,
    logger: createLogger({ level: 'warn' }),
    // An overloaded relay answers its control messages late (they queue behind the packets): a bench does not give up on it.
    requestTimeoutMs: 60_000,
  });
  await engine.start();
  const generator = new Generator();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'voix-bench-relay-'));
  const voix = new VoixRelay(engine);
  const bare = withReference ? new BareRelay() : null;
  const assignment = await pinRelayThreads(bare === null ? [voix] : [voix, bare]);
  rssBaseline = process.memoryUsage().rss;
  const outcome: Outcome = { rows: [], lastGood: null, stoppedBecause: '' };
  try {
    await runSteps(voix, bare, generator, dir, outcome);
  } finally {
    generator.stop();
    await bare?.stop();
    await engine.stop();
    if (process.env.KEEP_PCAP === undefined) rmSync(dir, { recursive: true, force: true });
    else console.log('pcaps in', dir);
  }
  printReport(outcome, assignment);
}

function printReport(outcome: Outcome, assignment: readonly string[]): void {
  console.log(`command: npm run bench:relay -- ${process.argv.slice(2).join(' ')}`.trimEnd());
  console.log(`machine: ${machineLine()}`);
  console.log(
    `cores: ${pinning ? `${assignment.join(', ')}; generator, dumpcap and the bench's other threads on core ${generatorCore}` : 'not pinned (no taskset, or --no-pin)'}`,
  );
  console.log(
    `workload: per call 2 RTP streams (A→B, B→A), G.711 20 ms (172-byte RTP${srtp ? ` + 10-byte tag: SRTP ${SUITE} on both legs, voix unprotects and protects every packet; phones check 1 received packet in ${checkEvery}` : ', plain'}), streams spread evenly over the 20 ms; ${warmupPeriods / PACKETS_PER_SECOND} s of warm-up (not counted) then ${seconds} s measured per step; ${workers} relay thread(s); ${connectSockets ? 'connected' : 'unconnected'} relay sockets`,
  );
  console.log(
    useCapture
      ? 'capture: dumpcap on lo, kernel timestamps; packets matched egress↔ingress by relay leg, SSRC and sequence number'
      : 'capture: none (no dumpcap or not root; --no-capture): no delay, no jitter, loss end to end only',
  );
  console.log(
    `sample: ${sampleEvery === 1 ? 'every call' : `1 call in ${sampleEvery}`} captured (BPF on the SSRC) and with phones that read what they receive; the others' phones leave their sockets unread; every call carries traffic${useBlaster ? "; the others' streams are sent by bench/relay-blaster.c (C, libsrtp2, one sendmmsg per 1 ms slot from one socket, same schedule; its packets and CPU are in the generator's figures, its lateness is per slot)" : ''}`,
  );
  console.log('loss %: relay loss (entered the relay, never left), from the capture; end loss: sent by a phone, never received by its peer (sampled calls)');
  console.log('jitter out: RFC 3550 interarrival jitter (A.8) of each stream leaving the relay, from capture time and RTP timestamp, mean over packets then over streams; jitter in: the same entering the relay (generator pacing); added jitter: the same estimator over consecutive added delays');
  console.log("delay: egress − ingress capture time per packet (the relay's added delay)");
  console.log(
    "worker CPU: CPU time of the relay thread(s) (user + system, the loopback delivery of its sends included) over the measured seconds; relay waited: time the relay thread was ready to run but its core was taken; others: CPU of every other process (reaped children included); CPU ms/s per call: relay CPU per second of one call (100 packets/s); heap/call: worker heap after full GC, after the traffic (per-stream state included) minus before the relays; RSS/call: process RSS after the traffic minus before the first step (buffers, uncollected garbage, the bare relay's leftovers: indicative)",
  );
  console.log(
    `criterion: good when loss ≤ ${100 * MAX_LOSS}% and mean jitter out ≤ ${MAX_MEAN_JITTER_MS} ms${srtp ? ' and every SRTP packet checked unprotects to what was sent' : ''} with the step's rate offered (the generator sent at ≥ ${100 * MIN_OFFERED}% of it); bad when not, and always when the relay's own measures (loss, added jitter${srtp ? ', SRTP checks' : ''}) fail with its thread saturated (≥ ${SATURATED_PERCENT}% of its core); invalid (run again, ${retries} more tries) when a bad step could be explained otherwise: rate not offered, other processes used > ${noiseMaxPercent}% of a core, the relay thread waited for its own core > ${relayWaitMaxPercent}% of the time, or the generator was at fault (mean lateness > ${lateMaxUs} µs, jitter in > ${MAX_MEAN_JITTER_MS / 4} ms, its phones missed > ${100 * MAX_LOSS}% of what the relay delivered) while the relay's own loss and added jitter are within the limits; any step with capture drops is invalid`,
  );
  if (withReference) {
    console.log(
      `bare relay: a worker thread doing only a.on("message", m => b.send(m)) on connected sockets${udpIo === 'native' ? " through voix's native UDP addon (recvmmsg, send)" : ' (dgram)'}, in the same run: the floor of Node and this machine, not a peer`,
    );
  } else if (srtp) {
    console.log('bare relay: not run with --srtp (it does no SRTP)');
  }
  console.log(`UDP sockets: ${udpIo === 'native' ? 'native addon (docs/adr/0006)' : 'node:dgram'} for voix and the bare relay`);
  if (srtp) console.log(`SRTP crypto: ${srtpCrypto === 'native' ? 'native addon (docs/adr/0007)' : 'TypeScript (docs/adr/0004)'}`);
  console.log('peer: none measured yet (rtpengine comes with the benchmark harness)');
  console.log('');
  console.log(mainTable(outcome.rows));
  console.log('');
  console.log(detailTable(outcome.rows));
  console.log('');
  const floor = floorRatios(outcome.rows);
  if (floor !== '') console.log(`voix / bare relay, CPU per packet: ${floor}`);
  const { lastGood } = outcome;
  const best = outcome.rows.filter((r) => r.relay === 'voix' && r.calls === lastGood && r.verdict === 'good').at(-1);
  console.log(
    `last good step (${srtp ? 'SRTP' : 'plain RTP'}): ${best === undefined ? 'none' : `${best.calls} calls: ${best.cpuUsPerPacket.toFixed(1)} µs CPU per packet, ${((best.cpuUsPerPacket * 100) / 1000).toFixed(2)} ms CPU per second per call, worker at ${best.workerCpuPercent.toFixed(0)}% of its core, heap ${best.heapPerCallKb.toFixed(1)} KB per call`}; stopped ${outcome.stoppedBecause === '' ? 'after the last step: every step was good' : `at ${outcome.stoppedBecause}`}`,
  );
}

/** Per step: voix's CPU per packet over the bare relay's (the last try of each), e.g. "100 calls 1.15, 200 calls 1.12". */
function floorRatios(rows: readonly Row[]): string {
  const ratios: string[] = [];
  for (const bare of rows.filter((r) => r.relay !== 'voix')) {
    const voix = rows.filter((r) => r.relay === 'voix' && r.calls === bare.calls).at(-1);
    if (voix !== undefined) ratios.push(`${bare.calls} calls ${(voix.cpuUsPerPacket / bare.cpuUsPerPacket).toFixed(2)}`);
  }
  return ratios.join(', ');
}

if (flag('sipp')) {
  const { main: sipp } = await import('./relay-sipp.js');
  await sipp();
} else {
  await main();
}
