/**
 * The RTP relay under load: N concurrent calls relayed by voix's media
 * worker thread(s) (WorkerMediaEngine, driven directly: no SIP), and with
 * --relays by the whole voix server, rtpengine and Asterisk in the same
 * run, each call two 50 packets/s G.711 streams (A→B and B→A), from a steady generator in
 * another process on another core; the number of calls is stepped until
 * the relay no longer keeps up.
 *
 *   npm run bench:relay -- [--calls 100,200,300,400,500,600,800,1000,1200] [--seconds 10]
 *                          [--relays voix[,voix-server][,rtpengine][,asterisk]] [--json out.json]
 *                          [--warmup 2] [--srtp] [--check-every 10] [--workers 1]
 *                          [--relay-cores 0] [--sample-every 4] [--no-stop] [--retries 2] [--confirm 1]
 *                          [--noise-max 15] [--wait-max 1] [--late-max-us 2000]
 *                          [--unconnected] [--no-capture] [--no-reference] [--no-pin] [--blaster]
 *   npm run bench:relay -- --sipp [...]    real server between two SIPp (bench/relay-sipp.ts)
 *
 * --relays (default voix): the relays measured, in this order at each
 * step, each judged and stepped on its own (a relay stops at its first step
 * that is not good, the others go on): voix (its media engine, driven
 * directly), voix-server (the whole server, node dist/server.js: needs
 * `npm run build`), rtpengine (plain RTP only) and asterisk (Asterisk 22).
 * voix-server and asterisk are SIP servers (relay-sip-servers.ts): the
 * bench's own SIP user agent (relay-sip-ua.ts) sets every call of a step up
 * through them before the traffic, with the phones' ports and, with
 * --srtp, SDES keys on both legs; the generator's phones then send and
 * check with the keys the servers wrote in their SDP. Asterisk with SRTP
 * rewrites SSRC and sequence numbers (it bridges through its core) but
 * keeps RTP timestamps: its packets are matched by leg and timestamp.
 * Ratios: rtpengine against voix (both relays driven directly), Asterisk
 * against voix-server when it ran (both whole servers), else voix. The
 * SIP servers' signalling idles while the media is measured, but their
 * processes (and rtpengine's) stay up through the run, idle during the
 * other relays' steps (their CPU shows in "others %" there).
 *
 * rtpengine is Debian 12's (bench/peers/rtpengine.ts: its root file system
 * is built with mmdebstrap on first use), forwarding in user space (--table=-1, no kernel module)
 * with --workers media threads (--num-threads), all its threads started on
 * the relay core(s) with taskset; it is set up as a SIP proxy would do it,
 * over its ng control protocol (offer with phone A's SDP, answer with phone
 * B's: PCMU 20 ms, RTP/AVP), plain RTP only (not with --srtp). It forwards
 * plain RTP with SSRC and sequence numbers unchanged (checked from a
 * capture), so the same capture analysis applies. Its CPU is that of its
 * whole process (every thread, schedstat), its memory per call its
 * anonymous resident memory (RssAnon) after the traffic minus at its start.
 * The report ends with voix/peer ratios: the highest good steps, and, at the
 * highest step both were good at, CPU per packet and state per call.
 *
 * --json FILE: the raw data for an orchestrator: command, machine,
 * versions, settings, the report's header lines, every row (every try)
 * with its figures and verdict, each relay's outcome, and the ratios
 * (voix / peer).
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
 * the relay unprotects, and protects again with each leg's outbound key;
 * each phone unprotects one received packet in --check-every (10) with the
 * key the relay gave it and checks the payload, so the figure is for real
 * work. (For the SIP servers the keys are those of the SDP exchanged.)
 *
 * Each step starts all its calls at once and sends --warmup (2) seconds
 * of traffic that is not counted, then --seconds (10) that are: calls that
 * start together make the relay create every stream's state (statistics,
 * SRTP contexts and their first keystream batches) and the JIT compile in
 * the same few milliseconds, a burst that calls starting over time never
 * make. The capture leaves the warm-up out by the sequence number the
 * generator sent, the CPU measures start when the generator says the
 * warm-up is over.
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
 *
 * --confirm N (npm run bench gives 3): once stepping is over, the steps
 * the figures are read at run again until each has N good runs: each
 * relay's highest good step (a run there that is not good takes it one
 * step down, confirmed in turn, as bench/ramp.ts does for rates), then the
 * step of each peer ratio for both relays. CPU per packet and state per
 * call at those steps are the medians of the N good runs.
 * This machine's vCPUs also stall for a few ms now and then with nothing
 * else running (a spinning thread sees 3–5 ms gaps every few seconds):
 * lateness p99 and delay p99 carry that, means hardly.
 *
 * Sampling (--sample-every K, default 4): every call carries its traffic,
 * but only one call in K is captured (its phones are bound in their own
 * port range, 30000–32766, and the capture filter is that range, whatever
 * the relay writes in the RTP header) and has
 * phones that read what they receive; the others' phones stop reading
 * their socket (the kernel queues, then drops). Capturing and reading
 * everything cost the generator's core as much as sending (and the capture
 * adds to the relay's own send path), and the figures are per packet.
 *
 * Each step runs voix, then (plain RTP only) a bare relay (a worker
 * thread doing only `a.on('message', m => b.send(m))` on connected sockets,
 * through voix's native UDP addon, or dgram with --udp-io dgram)
 * under the same harness, so the figures show what is Node's and this
 * machine's and what is voix's. It is a floor, not a peer (the peer is
 * rtpengine, with --relays).
 *
 * Cores: relay thread i alone on core --relay-cores[i mod n] (default 0);
 * rtpengine, all its threads on the --relay-cores (taskset at its start);
 * the generator, dumpcap and this process's other threads (main, V8
 * helpers, the tsx loader) on the other core of this 2-core machine. They
 * do not share the relay's core, but the machine is the same. V8's helper
 * threads do the concurrent part of the relay's garbage collection there:
 * it is not in the relay thread's CPU time. (Running the
 * generator SCHED_FIFO was tried: its helper threads inherit the policy
 * and the process livelocks on its one core; it runs at normal priority.)
 * Capture needs root and dumpcap.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createLogger } from '../src/log/logger.js';
import type { AllocatedRelay, LegConfig } from '../src/rtp/media-protocol.js';
import { WorkerMediaEngine } from '../src/rtp/worker-media-engine.js';
import { generateSrtpKeying } from '../src/sdp/crypto-attribute.js';
import { analyseRelayCapture, captureAvailable, startCapture, type Capture, type RelayTiming } from './relay-capture.js';
import type { GeneratorCommand, GeneratorReply, GeneratorRunResult } from './relay-generator.js';
import { MachineLoad, freePort, hasTaskset, killOnExit, machineCores, machineLine, percentile, pin, pinnedTo, processCpuMs, table, takeBenchLock, threadSchedMs, waitForQuiet } from './relay-machine.js';
import { ensureRtpengineRootfs, rtpengineVersion, startRtpengine, type Rtpengine } from './peers/rtpengine.js';
import { startAsteriskServer, startVoixServer } from './relay-sip-servers.js';
import { median } from './windows.js';
import { SAMPLED_PHONE_PORT_MAX, SAMPLED_PHONE_PORT_MIN, phoneSdp, procStatusBytes, sdpAudioPort, wire, type RelayPorts, type RelayUnderTest, type Sample } from './relay-under-test.js';

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
/**
 * Good runs wanted at each step a figure is read at (--confirm, default 1):
 * each judged relay's highest good step, and the step each peer ratio is
 * read at. With 3, those steps run again until they have 3 good runs, and
 * their figures (CPU per packet, state per call) are the medians of the 3.
 */
const confirmRuns = Math.max(1, Math.round(Number(option('confirm') ?? 1)));
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
/** The relays measured, in this order at each step (the bare relay comes after voix unless --no-reference). */
const RELAY_NAMES = ['voix', 'voix-server', 'rtpengine', 'asterisk'] as const;
type RelayName = (typeof RELAY_NAMES)[number];
const relayNames = (option('relays') ?? 'voix').split(',').filter((n) => n !== '') as RelayName[];
/** Raw figures for an orchestrator (bench/all.ts): every row, verdicts, versions, ratios. */
const jsonFile = option('json');
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

/** voix: WorkerMediaEngine, symmetric RTP latching on, RFC 3550 statistics, connected senders; SRTP on both legs with --srtp. */
class VoixRelay implements RelayUnderTest {
  readonly name = 'voix';
  readonly judged = true;
  readonly matchBy = 'ssrc';
  readonly pid = process.pid;
  readonly pinnedAtStart = false;
  readonly memoryFromStart = false;
  readonly version = `voix ${gitCommit()}, Node ${process.version}, ${udpIo === 'native' ? 'native UDP addon' : 'node:dgram'}${srtp ? `, ${srtpCrypto === 'native' ? 'native' : 'TypeScript'} SRTP crypto` : ''}`;
  readonly description = `voix's media engine (WorkerMediaEngine) driven directly, no SIP: symmetric RTP latching, RFC 3550 statistics, ${connectSockets ? 'connected' : 'unconnected'} senders${srtp ? ', SRTP on both legs (unprotect, protect)' : ''}; CPU: its media worker thread(s); relay waited: their run-queue wait; state/call: the workers' heap after a full GC, after the traffic minus before the step's calls; RSS/call: the benchmark process's, which hosts the engine (buffers, garbage, the bare relay's leftovers: indicative), after the traffic minus before the first step; it keeps SSRC and sequence numbers`;
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

  async memoryBytes(): Promise<number> {
    return (await this.engine.diagnostics({ collectGarbage: true })).reduce((n, d) => n + d.heapUsedBytes, 0);
  }

  rssBytes(): number {
    return process.memoryUsage().rss;
  }

  async tearDown(): Promise<void> {
    for (const relay of this.relays.splice(0)) await this.engine.release(relay.relayId);
  }

  stop(): Promise<void> {
    return this.engine.stop();
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
let bound = (port, peer) => new Promise((resolve, reject) => {
  const s = dgram.createSocket('udp4');
  s.once('error', reject);
  s.bind(port, '127.0.0.1', () => s.connect(peer, '127.0.0.1', () => resolve(s)));
});
if (NATIVE) {
  const io = require(NATIVE);
  const rx = new Uint8Array(64 * 2048), meta = new Uint32Array(64 * 8);
  const views = []; for (let i = 0; i < 64; i++) views.push(rx.subarray(i * 2048, (i + 1) * 2048));
  const peerOf = [];
  io.init(rx, meta, (fd, n) => { const peer = peerOf[fd]; for (let i = 0; i < n; i++) io.send(peer, views[i], meta[i * 8]); });
  const pending = [];
  // A port in use throws in the executor: a rejection.
  bound = (port, peer) => new Promise((resolve) => {
    const fd = io.open(false, '127.0.0.1', port, false);
    io.connect(fd, '127.0.0.1', peer);
    const s = { fd, on(event, handler) { if (pending.length) { const other = pending.pop(); peerOf[fd] = other.fd; peerOf[other.fd] = fd; } else pending.push(this); }, send() {}, close(cb) { io.close(fd); cb(); } };
    resolve(s);
  });
}
parentPort.on('message', async (m) => {
  if (m.type === 'setUp') {
    const ports = [];
    let port = m.portMin;
    for (const phone of m.phones) {
      // Ports another program holds (this machine is shared) are skipped.
      let a = null, b = null;
      while (b === null) {
        if (port + 2 > m.portMax) throw new Error('bare relay: no free ports left');
        a = await bound(port, phone.a).catch(() => null);
        b = a === null ? null : await bound(port + 2, phone.b).catch(() => null);
        if (b === null) {
          if (a !== null) await new Promise((resolve) => a.close(resolve));
          port += 4;
        }
      }
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
  readonly judged = false;
  readonly matchBy = 'ssrc';
  readonly pid = process.pid;
  readonly pinnedAtStart = false;
  readonly memoryFromStart = false;
  readonly version = `Node ${process.version}`;
  readonly description = `a worker thread doing only a.on("message", m => b.send(m)) on connected sockets${udpIo === 'native' ? " through voix's native UDP addon (recvmmsg, send)" : ' (dgram)'}: the floor of Node and this machine, not a peer; CPU: its thread`;

  private ask<T>(message: Record<string, unknown>): Promise<T> {
    return new Promise((resolve) => {
      this.worker.once('message', (reply: T) => resolve(reply));
      this.worker.postMessage(message);
    });
  }

  setUp(phones: ReadonlyArray<{ readonly a: number; readonly b: number }>): Promise<RelayPorts[]> {
    return this.ask({ type: 'setUp', phones, portMin: PORT_MIN, portMax: PORT_MAX });
  }
  sample(): Promise<Sample> {
    return this.ask({ type: 'sample' });
  }
  memoryBytes(): Promise<number> {
    return this.ask({ type: 'heap' });
  }
  rssBytes(): number {
    return Number.NaN;
  }
  tearDown(): Promise<void> {
    return this.ask({ type: 'tearDown' });
  }
  async osThreadIds(): Promise<number[]> {
    return [await this.ask<number>({ type: 'tid' })];
  }
  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * rtpengine (Debian 12's, bench/peers/rtpengine.ts): user-space forwarding,
 * --workers media threads, driven over its ng control protocol as a SIP
 * proxy would: per call an offer with phone A's SDP and an answer with
 * phone B's (PCMU 20 ms, RTP/AVP); the SDP it returns gives the port each
 * phone sends to. Its CPU is that of all its threads (schedstat: the media
 * threads, "poller", and its timers), all of them started on the relay
 * core(s); its memory per call is its anonymous resident memory (RssAnon:
 * its malloc heap) after the traffic minus at start, per call.
 */
class RtpengineRelay implements RelayUnderTest {
  readonly name = 'rtpengine';
  readonly judged = true;
  readonly matchBy = 'ssrc';
  readonly pinnedAtStart = true;
  readonly memoryFromStart = true;
  private calls: string[] = [];
  private steps = 0;
  private constructor(
    private readonly daemon: Rtpengine,
    readonly version: string,
  ) {}

  get description(): string {
    return `${this.version}: user-space forwarding (--table=-1, no kernel module), ${workers} media thread(s) (--num-threads), all its threads on the relay core(s); calls set up over its ng protocol (offer with phone A's SDP, answer with phone B's, PCMU 20 ms, RTP/AVP); CPU: its whole process (every thread's schedstat); relay waited: its "poller" threads' wait minus the CPU its other threads used; state/call: anonymous resident memory (RssAnon, its malloc heap) after the traffic minus at its start (glibc keeps what a step freed for the next); RSS/call: its VmRSS, the same way; it keeps SSRC and sequence numbers (checked from a capture)`;
  }

  static async start(say: (line: string) => void): Promise<RtpengineRelay> {
    if (srtp) throw new Error('rtpengine is measured with plain RTP only: run --relays voix,rtpengine without --srtp');
    const rootfs = ensureRtpengineRootfs(say);
    const daemon = await startRtpengine({
      rootfs,
      ngPort: await freePort(),
      portMin: PORT_MIN,
      portMax: PORT_MAX,
      threads: workers,
      pin: pinning ? ['taskset', '-c', relayCores.join(',')] : [],
    });
    killOnExit(daemon.child);
    return new RtpengineRelay(daemon, rtpengineVersion(rootfs));
  }

  get pid(): number {
    return this.daemon.pid;
  }

  async setUp(phones: ReadonlyArray<{ readonly a: number; readonly b: number }>): Promise<RelayPorts[]> {
    this.steps++;
    const ports: RelayPorts[] = [];
    for (const [i, phone] of phones.entries()) {
      const callId = `voix-bench-${this.steps}-${i}`;
      const offer = await this.daemon.ng({ command: 'offer', 'call-id': callId, 'from-tag': 'a', sdp: phoneSdp(phone.a, 2 * i + 1) });
      const answer = await this.daemon.ng({ command: 'answer', 'call-id': callId, 'from-tag': 'a', 'to-tag': 'b', sdp: phoneSdp(phone.b, 2 * i + 2) });
      this.calls.push(callId);
      // Phone B sends to the port in the offer rtpengine rewrote (what B was offered), phone A to the one in the answer.
      ports.push({ a: sdpAudioPort(answer['sdp']), b: sdpAudioPort(offer['sdp']) });
    }
    return ports;
  }

  private sched(): Array<{ readonly name: string; readonly cpuMs: number; readonly waitMs: number }> {
    return this.daemon.threads().map((t) => ({ name: t.name, ...threadSchedMs(this.pid, t.tid) }));
  }

  cpuByThread(): Map<string, number> {
    const byName = new Map<string, number>();
    for (const t of this.sched()) if (!Number.isNaN(t.cpuMs)) byName.set(t.name, (byName.get(t.name) ?? 0) + t.cpuMs);
    return byName;
  }

  sample(): Promise<Sample> {
    const cpuMs = this.sched().reduce((n, t) => n + (Number.isNaN(t.cpuMs) ? 0 : t.cpuMs), 0);
    return Promise.resolve({ cpuMs, loopDelayMaxMs: Number.NaN, gcPauseMaxMs: Number.NaN });
  }

  /**
   * Its media threads ("poller") also wait while its own timer threads run
   * on the same core: that is rtpengine's, not noise. The noise is their
   * wait beyond the CPU its other threads used (a counter: the step takes
   * the difference, clamped at 0).
   */
  waitMs(): number {
    let wait = 0;
    let others = 0;
    for (const t of this.sched()) {
      if (t.name === 'poller') wait += t.waitMs;
      else others += t.cpuMs;
    }
    return wait - others;
  }

  memoryBytes(): Promise<number> {
    return Promise.resolve(procStatusBytes(this.pid, 'RssAnon'));
  }

  rssBytes(): number {
    return procStatusBytes(this.pid, 'VmRSS');
  }

  osThreadIds(): Promise<number[]> {
    return Promise.resolve(this.daemon.threads().map((t) => t.tid));
  }

  async tearDown(): Promise<void> {
    for (const callId of this.calls.splice(0)) await this.daemon.ng({ command: 'delete', 'call-id': callId, 'from-tag': 'a' });
  }

  stop(): Promise<void> {
    return this.daemon.stop();
  }
}

type Verdict = 'good' | 'bad' | 'invalid' | '-';

interface Row {
  relay: string;
  calls: number;
  attempt: number;
  /** 'step' while stepping up; 'confirm' for the runs again at a figure's step (--confirm). */
  phase: 'step' | 'confirm';
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
  /** Where the relay's CPU went, for relays with several kinds of threads (rtpengine): "poller 93%, poller timer 2%". */
  relayThreads: string;
  verdict: Verdict;
  reasons: string[];
}

/** Per relay, before its first step: its memory (memoryFromStart relays) and resident memory. */
const baselines = new Map<RelayUnderTest, { readonly memory: number; readonly rss: number }>();

/**
 * The traffic between the relay ports and the phones of the sampled calls:
 * those (call i with i % K = 0) are bound in their own port range
 * (relay-generator.ts), so the filter holds whatever SSRC and sequence
 * numbers the relay writes.
 */
function captureFilter(): string {
  return `udp portrange ${PORT_MIN}-${PORT_MAX} and udp portrange ${SAMPLED_PHONE_PORT_MIN}-${SAMPLED_PHONE_PORT_MAX}`;
}

/** What the measured part of a step used: relay thread(s), the rest of the machine. */
interface StepUsage {
  readonly relayCpuMs: number;
  /** Time the relay thread(s) were ready to run but waited for their core: others using it. */
  readonly relayWaitMs: number;
  readonly relayThreads: string;
  readonly loopDelayMaxMs: number;
  readonly gcPauseMaxMs: number;
  readonly captureCpuMs: number;
  readonly othersPercent: number;
  readonly busiestOther: string;
}

/** Summed scheduler times of the relay's threads (threads of process `pid`). */
function relayThreadsSched(pid: number, tids: readonly number[]): { cpuMs: number; waitMs: number } {
  let cpuMs = 0;
  let waitMs = 0;
  for (const tid of tids) {
    const t = threadSchedMs(pid, tid);
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
  const waited = (): number => relay.waitMs?.() ?? relayThreadsSched(relay.pid, tids).waitMs;
  const before = await relay.sample();
  const waitBefore = waited();
  const threadsBefore = relay.cpuByThread?.() ?? new Map<string, number>();
  const captureBefore = processCpuMs(capture?.pid);
  const load = new MachineLoad();
  return async () => {
    const captureCpuMs = processCpuMs(capture?.pid) - captureBefore;
    const others = load.others(new Set([process.pid, relay.pid, generator.pid ?? 0, capture?.pid ?? 0]));
    // After the generator's last packets: what the relay still had queued is done by the time it answers.
    const after = await relay.sample();
    const relayCpuMs = after.cpuMs - before.cpuMs;
    const threads = [...(relay.cpuByThread?.() ?? new Map<string, number>())]
      .map(([name, ms]) => [name, ms - (threadsBefore.get(name) ?? 0)] as const)
      .sort((x, y) => y[1] - x[1])
      .filter(([, ms]) => ms >= 0.005 * relayCpuMs)
      .map(([name, ms]) => `${name} ${((100 * ms) / Math.max(1e-9, relayCpuMs)).toFixed(0)}%`);
    return {
      relayCpuMs,
      relayWaitMs: Math.max(0, waited() - waitBefore),
      relayThreads: threads.join(', '),
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
  const idleMemory = relay.memoryFromStart ? (baselines.get(relay)?.memory ?? Number.NaN) : await relay.memoryBytes();
  const { phones } = await generator.send({ type: 'open', calls, sampleEvery }, 'opened');
  let relays: RelayPorts[];
  try {
    relays = await relay.setUp(phones);
  } catch (err) {
    // A server that cannot set this many calls up: what it did set up is hung up, and the step fails.
    await relay.tearDown().catch(() => undefined);
    await generator.send({ type: 'close' }, 'closed');
    throw new SetUpFailed(err instanceof Error ? err.message : String(err));
  }
  await generator.send({ type: 'connect', relays, checkEvery, listenEvery: sampleEvery, blaster: useBlaster, checkSsrc: relay.matchBy === 'ssrc' }, 'connected');

  const file = path.join(dir, `relay-${calls}.pcap`);
  const capture = useCapture ? await startCapture(file, captureFilter(), onGeneratorCore) : null;
  const { warm, ran } = generator.run(seconds, warmupPeriods);
  await warm;
  const finishUsage = await startUsage(relay, generator, capture);
  const generated = await ran;
  const usage = await finishUsage();
  // After the traffic: the per-stream state (reception statistics, SRTP contexts) exists by now.
  const loadedMemory = await relay.memoryBytes();
  const rss = relay.rssBytes();
  const captureDrops = capture === null ? Number.NaN : await capture.stop();
  await relay.tearDown();
  await generator.send({ type: 'close' }, 'closed');

  let timing: RelayTiming | null = null;
  if (capture !== null) {
    const partners = partnersOf(relays);
    timing = analyseRelayCapture(file, { isRelayPort: (port) => partners.has(port), partners, firstSequence: warmupPeriods, matchBy: relay.matchBy });
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
    phase: 'step',
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
    heapPerCallKb: (loadedMemory - idleMemory) / calls / 1024,
    rssPerCallKb: (rss - (baselines.get(relay)?.rss ?? Number.NaN)) / calls / 1024,
    loopDelayMaxMs: usage.loopDelayMaxMs,
    gcPauseMaxMs: usage.gcPauseMaxMs,
    captureDrops,
    captureCpuPercent: (100 * usage.captureCpuMs) / measuredMs,
    othersPercent: usage.othersPercent,
    busiestOther: usage.busiestOther,
    relayThreads: usage.relayThreads,
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

function mainTable(rows: readonly Row[]): string {
  const header = ['relay', 'calls', 'try', 'pkt/s in', 'loss %', 'jitter out ms', 'delay p50 µs', 'p99 µs', 'relay CPU %', 'CPU µs/pkt', 'CPU ms/s per call', 'state/call KB', 'RSS/call KB', 'verdict'];
  return table(
    header,
    rows.map((r) => [
      r.relay,
      String(r.calls),
      r.phase === 'confirm' ? `again ${r.attempt}` : String(r.attempt),
      r.ppsIn.toFixed(0),
      (100 * r.loss).toFixed(3),
      ms(r.timing?.jitterOut.meanMs ?? Number.NaN),
      us(percentile(r.timing?.delaysUs ?? new Float64Array(), 0.5)),
      us(percentile(r.timing?.delaysUs ?? new Float64Array(), 0.99)),
      r.workerCpuPercent.toFixed(1),
      r.cpuUsPerPacket.toFixed(2),
      ((r.cpuUsPerPacket * 100) / 1000).toFixed(2),
      Number.isNaN(r.heapPerCallKb) ? '-' : r.heapPerCallKb.toFixed(1),
      Number.isNaN(r.rssPerCallKb) ? '-' : r.rssPerCallKb.toFixed(0),
      r.verdict === '-' ? '-' : `${r.verdict}${r.reasons.length > 0 ? `: ${r.reasons.join('; ')}` : ''}`,
    ]),
  );
}

function detailTable(rows: readonly Row[]): string {
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
    'relay threads',
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
        Number.isNaN(r.loopDelayMaxMs) ? '-' : r.loopDelayMaxMs.toFixed(1),
        Number.isNaN(r.gcPauseMaxMs) ? '-' : r.gcPauseMaxMs.toFixed(1),
        `${r.generator.latenessMeanUs.toFixed(0)}/${r.generator.latenessP99Us.toFixed(0)}`,
        r.generator.cpuPercent.toFixed(0),
        srtp ? `${r.generator.checked}/${r.generator.checkFailed}` : '-',
        Number.isNaN(r.captureCpuPercent) ? 'n/a' : r.captureCpuPercent.toFixed(0),
        `${r.othersPercent.toFixed(0)}${r.busiestOther === '' ? '' : ` (${r.busiestOther})`}`,
        r.relayWaitPercent.toFixed(2),
        Number.isNaN(r.captureDrops) ? 'n/a' : String(r.captureDrops),
        r.relayThreads === '' ? '-' : r.relayThreads,
      ];
    }),
  );
}

/**
 * Each relay thread alone on its core (--relay-cores, in turn); a relay
 * started on the relay cores (rtpengine: taskset at start) keeps all its
 * threads there. Returns what went where, for the report.
 */
async function pinRelayThreads(relays: readonly RelayUnderTest[]): Promise<string[]> {
  const assignment: string[] = [];
  for (const relay of relays) {
    const tids = await relay.osThreadIds();
    if (relay.pinnedAtStart) {
      assignment.push(`${relay.name} (all ${tids.length} threads) on core${relayCores.length > 1 ? 's' : ''} ${relayCores.join(',')}`);
      continue;
    }
    for (const [i, tid] of tids.entries()) {
      const core = relayCores[i % relayCores.length] ?? 0;
      if (pinning) pin(tid, String(core), false);
      assignment.push(`${relay.name} thread ${i + 1} on core ${core}`);
    }
  }
  return assignment;
}

/** Where a judged relay's stepping ended. */
interface Outcome {
  readonly relay: string;
  readonly version: string;
  lastGood: number | null;
  /** Empty while every step has been good. */
  stoppedBecause: string;
  /** The step at which it could not set its calls up (a SIP server refusing calls): no step beyond. */
  setUpFailedAt?: number;
}

/** A relay could not set a step's calls up (e.g. a server answered an INVITE with an error). */
class SetUpFailed extends Error {
  constructor(reason: string) {
    super(`call set-up failed: ${reason}`);
  }
}

/**
 * The steps in turn; at each, every judged relay still stepping (run again
 * while invalid, up to --retries more times), and the bare relay once after
 * them. A judged relay stops at its first step that is not good (unless
 * --no-stop); stepping ends when none is left.
 */
async function runSteps(relays: readonly RelayUnderTest[], generator: Generator, dir: string, rows: Row[], outcomes: ReadonlyMap<string, Outcome>): Promise<void> {
  const stepping = (relay: RelayUnderTest): boolean => {
    const outcome = outcomes.get(relay.name);
    return relay.judged && outcome?.setUpFailedAt === undefined && (!stopAtFirstBad || outcome?.stoppedBecause === '');
  };
  for (const calls of callSteps) {
    if (!relays.some(stepping)) return;
    const judgedNow = relays.filter(stepping);
    for (const relay of relays) {
      if (!relay.judged) {
        rows.push(await step(relay, generator, calls, dir, 1, false));
        process.stderr.write(`${relay.name}: ${calls} calls done\n`);
        continue;
      }
      if (!judgedNow.includes(relay)) continue;
      const outcome = outcomes.get(relay.name);
      let row: Row | null = null;
      let failedSetUp = '';
      for (let attempt = 1; attempt <= 1 + retries; attempt++) {
        try {
          row = await step(relay, generator, calls, dir, attempt, true);
        } catch (err) {
          if (!(err instanceof SetUpFailed)) throw err;
          failedSetUp = err.message;
          process.stderr.write(`${relay.name}: ${calls} calls, try ${attempt}: ${err.message}\n`);
          break;
        }
        rows.push(row);
        process.stderr.write(`${relay.name}: ${calls} calls, try ${attempt}: ${row.verdict}${row.reasons.length > 0 ? ` (${row.reasons.join('; ')})` : ''}\n`);
        if (row.verdict !== 'invalid') break;
      }
      if (outcome === undefined) continue;
      if (failedSetUp !== '') {
        // No traffic ran: nothing to judge, and no step beyond for this relay.
        if (outcome.stoppedBecause === '') outcome.stoppedBecause = `${calls} calls: bad (${failedSetUp})`;
        outcome.setUpFailedAt = calls;
        continue;
      }
      if (row === null) continue;
      const stillGood = outcome.stoppedBecause === '';
      if (row.verdict === 'good') {
        if (stillGood) outcome.lastGood = calls;
        continue;
      }
      const why = `${calls} calls: ${row.verdict} (${row.reasons.join('; ')})`;
      if (stillGood) outcome.stoppedBecause = row.verdict === 'invalid' ? `${why}, after ${1 + retries} tries: inconclusive beyond` : why;
    }
  }
}

/** Good runs of `relay` at `calls`, stepping and confirmations together. */
function goodRows(rows: readonly Row[], relay: string, calls: number): Row[] {
  return rows.filter((r) => r.relay === relay && r.calls === calls && r.verdict === 'good');
}

/** The step below `calls` in --calls, or null. */
function stepBelow(calls: number): number | null {
  const below = callSteps.filter((c) => c < calls);
  return below.length === 0 ? null : (below.at(-1) as number);
}

/**
 * The steps a figure is read at, run again until each has --confirm good
 * runs (an invalid run is retried as while stepping, up to --retries more
 * times). A bad run (or one still invalid) at a relay's highest good step
 * takes that relay's highest good step one step down, which is then
 * confirmed in turn: the same rule as the registration and call set-up
 * ramps (bench/ramp.ts). Then the step of each peer ratio (the highest
 * step good for both) is confirmed for both relays.
 */
async function confirmSteps(relays: readonly RelayUnderTest[], generator: Generator, dir: string, rows: Row[], outcomes: ReadonlyMap<string, Outcome>): Promise<void> {
  const byName = new Map(relays.map((r) => [r.name, r]));
  /** Whether `relay` has its good runs at `calls`, running it again as needed; false on a run that is not good. */
  const confirm = async (relay: RelayUnderTest, calls: number): Promise<boolean> => {
    while (goodRows(rows, relay.name, calls).length < confirmRuns) {
      let row: Row | null = null;
      for (let attempt = 1; attempt <= 1 + retries; attempt++) {
        try {
          row = { ...(await step(relay, generator, calls, dir, attempt, true)), phase: 'confirm' };
        } catch (err) {
          if (!(err instanceof SetUpFailed)) throw err;
          process.stderr.write(`${relay.name}: ${calls} calls, confirmation try ${attempt}: ${err.message}\n`);
          return false;
        }
        rows.push(row);
        process.stderr.write(`${relay.name}: ${calls} calls, confirmation ${goodRows(rows, relay.name, calls).length}/${confirmRuns}, try ${attempt}: ${row.verdict}${row.reasons.length > 0 ? ` (${row.reasons.join('; ')})` : ''}\n`);
        if (row.verdict !== 'invalid') break;
      }
      if (row?.verdict !== 'good') return false;
    }
    return true;
  };
  for (const outcome of outcomes.values()) {
    const relay = byName.get(outcome.relay);
    if (relay === undefined) continue;
    while (outcome.lastGood !== null && !(await confirm(relay, outcome.lastGood))) {
      const failed = outcome.lastGood;
      const note = `${failed} calls: good, then not good when run again`;
      outcome.stoppedBecause = outcome.stoppedBecause === '' ? note : `${note}; ${outcome.stoppedBecause}`;
      outcome.lastGood = stepBelow(failed);
    }
  }
  for (const [voixName, peerName] of ratioPairs(outcomes)) {
    const voix = outcomes.get(voixName);
    const peer = outcomes.get(peerName);
    if (voix?.lastGood == null || peer?.lastGood == null) continue;
    const common = Math.min(voix.lastGood, peer.lastGood);
    for (const name of [voixName, peerName]) {
      const relay = byName.get(name);
      // Below a relay's confirmed highest good step: a run that is not good there is reported, not used.
      if (relay !== undefined) await confirm(relay, common);
    }
  }
}

/** [voix relay, peer] for each peer ratio: Asterisk against voix-server when it ran, every peer against voix's engine otherwise. */
function ratioPairs(outcomes: ReadonlyMap<string, Outcome>): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const peer of [...outcomes.values()].filter((o) => !o.relay.startsWith('voix'))) {
    const voix = (peer.relay === 'asterisk' ? outcomes.get('voix-server') : undefined) ?? outcomes.get('voix');
    if (voix !== undefined) pairs.push([voix.relay, peer.relay]);
  }
  return pairs;
}

const say = (line: string): void => void process.stderr.write(`${line}\n`);

function gitCommit(): string {
  return (spawnSync('git', ['-C', HERE, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout ?? '').trim() || 'unknown commit';
}

async function main(): Promise<void> {
  const unknown = relayNames.filter((n) => !RELAY_NAMES.includes(n));
  if (unknown.length > 0 || relayNames.length === 0) throw new Error(`--relays: ${unknown.join(',') || '(none)'}: expected some of ${RELAY_NAMES.join(',')}`);
  await takeBenchLock('bench/relay.ts', say);
  // Workers created after this get gc(): heap per call is measured after a full collection.
  v8.setFlagsFromString('--expose-gc');
  if (process.env.TRACE_GC) v8.setFlagsFromString('--trace-gc');
  // Everything of this process on the generator's core; then each relay thread alone on its core.
  if (pinning) pin(process.pid, String(generatorCore), true);
  const relays: RelayUnderTest[] = [];
  const generator = new Generator();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'voix-bench-relay-'));
  const rows: Row[] = [];
  const outcomes = new Map<string, Outcome>();
  let assignment: string[] = [];
  try {
    for (const name of relayNames) {
      if (name === 'voix') {
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
        relays.push(new VoixRelay(engine));
        // The floor right after voix, at each step.
        if (withReference) relays.push(new BareRelay());
      } else if (name === 'rtpengine') {
        relays.push(await RtpengineRelay.start(say));
      } else {
        const options = { srtp, workers, portMin: PORT_MIN, portMax: PORT_MAX, pin: pinning ? ['taskset', '-c', relayCores.join(',')] : [], say };
        relays.push(name === 'asterisk' ? await startAsteriskServer(options) : await startVoixServer(options, dir));
      }
    }
    if (withReference && !relayNames.includes('voix')) relays.push(new BareRelay());
    assignment = await pinRelayThreads(relays);
    for (const relay of relays) {
      baselines.set(relay, { memory: relay.memoryFromStart ? await relay.memoryBytes() : Number.NaN, rss: relay.rssBytes() });
      if (relay.judged) outcomes.set(relay.name, { relay: relay.name, version: relay.version, lastGood: null, stoppedBecause: '' });
    }
    await runSteps(relays, generator, dir, rows, outcomes);
    if (confirmRuns > 1) await confirmSteps(relays, generator, dir, rows, outcomes);
  } finally {
    generator.stop();
    for (const relay of relays) await relay.stop();
    if (process.env.KEEP_PCAP === undefined) rmSync(dir, { recursive: true, force: true });
    else console.log('pcaps in', dir);
  }
  const ratios = peerRatios(rows, outcomes);
  printReport(rows, outcomes, ratios, assignment, relays);
  if (jsonFile !== undefined) {
    writeFileSync(jsonFile, `${JSON.stringify(jsonReport(rows, outcomes, ratios, assignment, relays), null, 2)}\n`);
    console.log(`raw data: ${jsonFile}`);
  }
}

/** The report's header lines, [label, text]: what was run and how each figure is measured (printed, and in the JSON). */
function describe(assignment: readonly string[], relays: readonly RelayUnderTest[]): Array<[string, string]> {
  const lines: Array<[string, string]> = [];
  const add = (label: string, text: string): void => void lines.push([label, text]);
  add('command', `npm run bench:relay -- ${process.argv.slice(2).join(' ')}`.trimEnd());
  add('machine', machineLine());
  add('cores', pinning ? `${assignment.join(', ')}; generator, dumpcap and the bench's other threads on core ${generatorCore}` : 'not pinned (no taskset, or --no-pin)');
  add(
    'workload',
    `per call 2 RTP streams (A→B, B→A), G.711 20 ms (172-byte RTP${srtp ? ` + 10-byte tag: SRTP ${SUITE} on both legs, voix unprotects and protects every packet; phones check 1 received packet in ${checkEvery}` : ', plain'}), streams spread evenly over the 20 ms; ${warmupPeriods / PACKETS_PER_SECOND} s of warm-up (not counted) then ${seconds} s measured per step; ${workers} relay thread(s); ${connectSockets ? 'connected' : 'unconnected'} relay sockets`,
  );
  add(
    'capture',
    useCapture
      ? "dumpcap on lo, kernel timestamps; packets matched egress↔ingress by relay leg, SSRC and sequence number, or by relay leg and RTP timestamp for a relay that rewrites SSRC and sequence numbers (see each relay's line)"
      : 'none (no dumpcap or not root; --no-capture): no delay, no jitter, loss end to end only',
  );
  add(
    'sample',
    `${sampleEvery === 1 ? 'every call' : `1 call in ${sampleEvery}`} captured (their phones are bound in ${SAMPLED_PHONE_PORT_MIN}-${SAMPLED_PHONE_PORT_MAX}: BPF on those ports) and with phones that read what they receive; the others' phones leave their sockets unread; every call carries traffic${useBlaster ? "; the others' streams are sent by bench/relay-blaster.c (C, libsrtp2, one sendmmsg per 1 ms slot from one socket, same schedule; its packets and CPU are in the generator's figures, its lateness is per slot)" : ''}`,
  );
  add('loss %', 'relay loss (entered the relay, never left), from the capture; end loss: sent by a phone, never received by its peer (sampled calls)');
  add('jitter out', 'RFC 3550 interarrival jitter (A.8) of each stream leaving the relay, from capture time and RTP timestamp, mean over packets then over streams; jitter in: the same entering the relay (generator pacing); added jitter: the same estimator over consecutive added delays');
  add('delay', "egress − ingress capture time per packet (the relay's added delay)");
  add(
    'relay CPU',
    "CPU time of the relay (user + system, the loopback delivery of its sends included; which threads: see each relay's line) over the measured seconds; relay waited: time the relay's media thread(s) were ready to run but their core was taken by other processes; others: CPU of every other process (reaped children included); CPU ms/s per call: relay CPU per second of one call (100 packets/s)",
  );
  add(
    'memory',
    "state/call: the relay's own per-call memory after the traffic (per-stream state included), RSS/call: its resident memory, per call (how, for each relay: see its line)",
  );
  add(
    'criterion',
    `good when loss ≤ ${100 * MAX_LOSS}% and mean jitter out ≤ ${MAX_MEAN_JITTER_MS} ms${srtp ? ' and every SRTP packet checked unprotects to what was sent' : ''} with the step's rate offered (the generator sent at ≥ ${100 * MIN_OFFERED}% of it); bad when not, and always when the relay's own measures (loss, added jitter${srtp ? ', SRTP checks' : ''}) fail with its thread saturated (≥ ${SATURATED_PERCENT}% of its core); invalid (run again, ${retries} more tries) when a bad step could be explained otherwise: rate not offered, other processes used > ${noiseMaxPercent}% of a core, the relay thread waited for its own core > ${relayWaitMaxPercent}% of the time, or the generator was at fault (mean lateness > ${lateMaxUs} µs, jitter in > ${MAX_MEAN_JITTER_MS / 4} ms, its phones missed > ${100 * MAX_LOSS}% of what the relay delivered) while the relay's own loss and added jitter are within the limits; any step with capture drops is invalid`,
  );
  if (srtp) add('bare relay', 'not run with --srtp (it does no SRTP)');
  add('UDP sockets', `${udpIo === 'native' ? 'native addon (docs/adr/0006)' : 'node:dgram'} for voix's engine and the bare relay`);
  if (srtp) add('SRTP crypto', `${srtpCrypto === 'native' ? 'native addon (docs/adr/0007)' : 'TypeScript (docs/adr/0004)'} for voix's engine`);
  for (const relay of relays) add(`relay ${relay.name}`, relay.description);
  add('versions', relays.map((r) => `${r.name}: ${r.version}`).join('; '));
  return lines;
}

/** A relay's last row at a step (its last try). */
function lastRow(rows: readonly Row[], relay: string, calls: number): Row | undefined {
  return rows.filter((r) => r.relay === relay && r.calls === calls).at(-1);
}

/**
 * voix over a peer, measured in the same run (every ratio is voix / peer:
 * above 1 for the highest good step, voix carries more calls; below 1 for
 * CPU and memory, voix uses less).
 */
interface PeerRatio {
  readonly peer: string;
  /** The voix it is compared with: voix's engine, or voix-server (the whole server, for Asterisk). */
  readonly voix: string;
  /** voix's highest good step over the peer's; null when either has none; a lower bound when stepping ran out or ended on an invalid step. */
  readonly highestGoodStep: {
    readonly voix: number | null;
    readonly peer: number | null;
    readonly ratio: number | null;
    readonly voixLowerBound: boolean;
    readonly peerLowerBound: boolean;
    readonly note: string;
  };
  /** At the highest step both were good at: CPU per packet and per-call state, each the median of the good runs there (--confirm). */
  readonly atCommonStep: {
    readonly calls: number;
    /** Good runs the medians are of. */
    readonly runs: { readonly voix: number; readonly peer: number };
    readonly cpuUsPerPacket: { readonly voix: number; readonly peer: number; readonly ratio: number };
    readonly stateKbPerCall: { readonly voix: number; readonly peer: number; readonly ratio: number };
  } | null;
}

/** A highest good step as a figure: "≥ N" when every step was good (stepping ran out), "N?" when it ended on an inconclusive step. */
function isLowerBound(outcome: Outcome): boolean {
  return outcome.stoppedBecause === '' || outcome.stoppedBecause.includes('inconclusive');
}

function stepNote(outcome: Outcome | undefined): string {
  if (outcome === undefined) return 'not run';
  if (outcome.stoppedBecause === '') return 'every step good: a lower bound';
  return outcome.stoppedBecause.includes('inconclusive') ? 'ended on an invalid step: a lower bound' : 'ended on a bad step';
}

/**
 * Each peer against the voix measured the same way: Asterisk (a full
 * server) against voix-server when it ran, rtpengine (a relay driven
 * directly) against voix's engine.
 */
function peerRatios(rows: readonly Row[], outcomes: ReadonlyMap<string, Outcome>): PeerRatio[] {
  const ratios: PeerRatio[] = [];
  for (const [voixName, peerName] of ratioPairs(outcomes)) {
    const voix = outcomes.get(voixName) as Outcome;
    const peer = outcomes.get(peerName) as Outcome;
    const highest = Math.min(voix.lastGood ?? 0, peer.lastGood ?? 0);
    const common = callSteps.filter((calls) => calls <= highest && goodRows(rows, voix.relay, calls).length > 0 && goodRows(rows, peer.relay, calls).length > 0).at(-1);
    const pair = (f: (r: Row) => number): { voix: number; peer: number; ratio: number } => {
      const v = medianOf(goodRows(rows, voix.relay, common ?? 0), f);
      const p = medianOf(goodRows(rows, peer.relay, common ?? 0), f);
      return { voix: v, peer: p, ratio: v / p };
    };
    ratios.push({
      peer: peer.relay,
      voix: voix.relay,
      highestGoodStep: {
        voix: voix.lastGood,
        peer: peer.lastGood,
        ratio: voix.lastGood !== null && peer.lastGood !== null ? voix.lastGood / peer.lastGood : null,
        voixLowerBound: isLowerBound(voix),
        peerLowerBound: isLowerBound(peer),
        note: `${voix.relay}: ${stepNote(voix)}; ${peer.relay}: ${stepNote(peer)}`,
      },
      atCommonStep:
        common === undefined
          ? null
          : {
              calls: common,
              runs: { voix: goodRows(rows, voix.relay, common).length, peer: goodRows(rows, peer.relay, common).length },
              cpuUsPerPacket: pair((r) => r.cpuUsPerPacket),
              stateKbPerCall: pair((r) => r.heapPerCallKb),
            },
    });
  }
  return ratios;
}

/** The median of f over the rows, NaN for none. */
function medianOf(rows: readonly Row[], f: (r: Row) => number): number {
  return median(rows.map(f));
}

function printReport(rows: readonly Row[], outcomes: ReadonlyMap<string, Outcome>, ratios: readonly PeerRatio[], assignment: readonly string[], relays: readonly RelayUnderTest[]): void {
  for (const [label, text] of describe(assignment, relays)) console.log(`${label}: ${text}`);
  console.log('');
  console.log(mainTable(rows));
  console.log('');
  console.log(detailTable(rows));
  console.log('');
  const floor = floorRatios(rows);
  if (floor !== '') console.log(`voix / bare relay, CPU per packet: ${floor}`);
  for (const outcome of outcomes.values()) {
    const good = goodRows(rows, outcome.relay, outcome.lastGood ?? 0);
    const median = (f: (r: Row) => number): number => medianOf(good, f);
    const cpu = median((r) => r.cpuUsPerPacket);
    console.log(
      `${outcome.relay}, last good step (${srtp ? 'SRTP' : 'plain RTP'}): ${good.length === 0 ? 'none' : `${outcome.lastGood} calls (median of ${good.length} good run${good.length === 1 ? '' : 's'}): ${cpu.toFixed(1)} µs CPU per packet, ${((cpu * 100) / 1000).toFixed(2)} ms CPU per second per call, relay at ${median((r) => r.workerCpuPercent).toFixed(0)}% of its core, state ${median((r) => r.heapPerCallKb).toFixed(1)} KB per call`}; stopped ${outcome.stoppedBecause === '' ? 'after the last step: every step was good' : `at ${outcome.stoppedBecause}`}`,
    );
  }
  for (const r of ratios) {
    const h = r.highestGoodStep;
    const c = r.atCommonStep;
    console.log(
      `${r.voix} / ${r.peer}: highest good step ${h.voix ?? 'none'} / ${h.peer ?? 'none'} = ${h.ratio === null ? 'n/a' : h.ratio.toFixed(2)} (${h.note}); ${
        c === null
          ? 'no step good for both'
          : `at ${c.calls} calls (highest step good for both; medians of ${c.runs.voix} and ${c.runs.peer} good runs): CPU per packet ${c.cpuUsPerPacket.voix.toFixed(2)} / ${c.cpuUsPerPacket.peer.toFixed(2)} µs = ${c.cpuUsPerPacket.ratio.toFixed(2)}, state per call ${c.stateKbPerCall.voix.toFixed(1)} / ${c.stateKbPerCall.peer.toFixed(1)} KB = ${c.stateKbPerCall.ratio.toFixed(2)} (${r.voix === 'voix' ? 'voix: V8 heap after GC' : `${r.voix}: anonymous RSS`}; ${r.peer}: anonymous RSS)`
      }`,
    );
  }
}

/** A number for JSON: NaN and infinities as null. */
const num = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** Everything an orchestrator needs to combine runs: the header lines, every row's raw figures and verdict, the outcomes and ratios. */
function jsonReport(rows: readonly Row[], outcomes: ReadonlyMap<string, Outcome>, ratios: readonly PeerRatio[], assignment: readonly string[], relays: readonly RelayUnderTest[]): unknown {
  const delays = (t: RelayTiming | null, p: number): number | null => (t === null ? null : num(percentile(t.delaysUs, p)));
  const jitter = (j: { streams: number; meanMs: number; maxMs: number } | undefined): unknown => (j === undefined ? null : { streams: j.streams, meanMs: num(j.meanMs), maxMs: num(j.maxMs) });
  return {
    bench: 'relay',
    mode: srtp ? 'srtp' : 'plain',
    date: new Date().toISOString(),
    command: `npm run bench:relay -- ${process.argv.slice(2).join(' ')}`.trimEnd(),
    machine: { line: machineLine(), cpu: os.cpus()[0]?.model ?? null, cores: machineCores, memoryBytes: os.totalmem(), kernel: os.release(), node: process.version },
    versions: Object.fromEntries(relays.map((r) => [r.name, r.version])),
    settings: {
      calls: callSteps,
      seconds,
      warmupSeconds: warmupPeriods / PACKETS_PER_SECOND,
      workers,
      relayCores,
      generatorCore,
      pinning,
      assignment,
      srtp,
      srtpCrypto: srtp ? srtpCrypto : null,
      udpIo,
      connectSockets,
      sampleEvery,
      blaster: useBlaster,
      capture: useCapture,
      retries,
      confirmRuns,
      noiseMaxPercent,
      relayWaitMaxPercent,
      lateMaxUs,
      criteria: { maxLoss: MAX_LOSS, maxMeanJitterMs: MAX_MEAN_JITTER_MS, minOffered: MIN_OFFERED, saturatedPercent: SATURATED_PERCENT },
    },
    notes: Object.fromEntries(describe(assignment, relays)),
    rows: rows.map((r) => ({
      relay: r.relay,
      role: r.relay.startsWith('voix') ? 'voix' : r.relay.startsWith('bare') ? 'floor' : 'peer',
      calls: r.calls,
      attempt: r.attempt,
      phase: r.phase,
      verdict: r.verdict === '-' ? null : r.verdict,
      reasons: r.reasons,
      packetsPerSecondIn: num(r.ppsIn),
      loss: num(r.loss),
      relayLost: r.timing?.unmatched ?? null,
      relayIngress: r.timing?.ingress ?? null,
      endLost: r.endLost,
      generatorDropped: r.generatorDropped,
      jitterOutMs: jitter(r.timing?.jitterOut),
      jitterInMs: jitter(r.timing?.jitterIn),
      jitterAddedMs: jitter(r.timing?.jitterAdded),
      delayUs: { p50: delays(r.timing, 0.5), p99: delays(r.timing, 0.99), p999: delays(r.timing, 0.999), max: delays(r.timing, 1) },
      relayCpuPercent: num(r.workerCpuPercent),
      cpuUsPerPacket: num(r.cpuUsPerPacket),
      cpuMsPerSecondPerCall: num((r.cpuUsPerPacket * 100) / 1000),
      stateKbPerCall: num(r.heapPerCallKb),
      rssKbPerCall: num(r.rssPerCallKb),
      relayWaitPercent: num(r.relayWaitPercent),
      loopDelayMaxMs: num(r.loopDelayMaxMs),
      gcPauseMaxMs: num(r.gcPauseMaxMs),
      captureDrops: num(r.captureDrops),
      captureCpuPercent: num(r.captureCpuPercent),
      othersPercent: num(r.othersPercent),
      busiestOther: r.busiestOther,
      generator: { ...r.generator, receivedBySsrc: undefined },
    })),
    outcomes: [...outcomes.values()],
    ratios,
  };
}

/** Per step: voix's CPU per packet over the bare relay's (the last try of each), e.g. "100 calls 1.15, 200 calls 1.12". */
function floorRatios(rows: readonly Row[]): string {
  const ratios: string[] = [];
  for (const bare of rows.filter((r) => r.relay.startsWith('bare'))) {
    const voix = lastRow(rows, 'voix', bare.calls);
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
