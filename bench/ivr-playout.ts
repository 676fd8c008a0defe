/**
 * IVR playout jitter, voix and Asterisk 22 side by side in one run: N
 * concurrent callers (SIPp UAC, digest authentication, PCMU) each hear a
 * long prompt; the packets the server sends are captured on the receiving
 * side with kernel timestamps (dumpcap on lo; TESTING.md: never the
 * sender's clock).
 *
 *   npm run bench:ivr -- [--calls 1,100,500,1000] [--window 10] [--repeat 3] [--rate 50]
 *                        [--servers voix,asterisk] [--no-pin] [--json out.json]
 *
 * Workload, the same for both: the number 8000 answers, plays a prompt
 * longer than any call (a 60 s or longer 8 kHz signal: voix converts the
 * WAV to G.711 itself, Asterisk gets the same samples as a .ulaw file so
 * that neither transcodes per call) and would hang up at its end; SIPp
 * places the N calls at --rate calls/s, and each caller hangs up once the
 * measure is over. voix: `node dist/server.js`, one media thread, the
 * prompt as a message. Asterisk: Playback() in the dialplan, PJSIP,
 * res_timing_timerfd (bench/peers/asterisk.ts).
 *
 * Each server is started once and serves every step, after a warm-up
 * step that is not reported (20 calls, 5 s), so that neither is measured
 * while it starts up. The measure: --repeat (3) windows of --window seconds
 * (10) one after the other once every call is up, every packet towards
 * SIPp's media port captured (64 bytes each); each figure is the median of
 * the windows' (the JSON keeps every window). Per step:
 * - |inter-arrival − 20 ms| of consecutive packets of a stream (sequence
 *   numbers following), p50 / p99 / max over all packets;
 * - RFC 3550 interarrival jitter (§6.4.1, A.8) of each stream, averaged
 *   over its packets: median and p99 across streams;
 * - loss: sequence numbers missing inside the window, over those due;
 * - drift: each stream's arrival span against its RTP timestamp span
 *   (ppm), median and worst |drift|;
 * - streams seen against N, and the server's CPU (whole process, all
 *   threads) over the window, % of one core.
 * Figures only, no pass/fail; voix/Asterisk ratios in the last table.
 *
 * Cores: the server (all its threads) on core 0; SIPp, dumpcap and this
 * process on core 1 (taskset; --no-pin to leave them to the kernel).
 * Needs root, dumpcap, SIPp, taskset, mmdebstrap (the first time: builds
 * the Asterisk root file system, bench/peers/asterisk.ts), `npm run build`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeLinear } from '../src/media/playout/g711.js';
import { pcmWav } from '../test/e2e/harness/audio.js';
import { ASTERISK_SOUNDS_DIR, asteriskVersion, ensureAsteriskRootfs, startAsterisk } from './peers/asterisk.js';
import { captureAvailable, forEachRtpRecord, startCapture } from './relay-capture.js';
import { freePort, hasTaskset, killOnExit, machineLine, percentile, pinnedTo, processCpuMs, stopProcess, table, takeBenchLock } from './relay-machine.js';
import { builtVoix } from './voix-build.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

const callSteps = (option('calls') ?? '1,100,500,1000').split(',').map(Number).filter((n) => n > 0);
const windowSeconds = Number(option('window') ?? 10);
/** Windows measured one after the other per step, with the same calls up: the figures are their medians. */
const repeat = Math.max(1, Number(option('repeat') ?? 3));
const jsonFile = option('json');
const rate = Number(option('rate') ?? 50);
const servers = (option('servers') ?? 'voix,asterisk').split(',') as Array<'voix' | 'asterisk'>;
const pinning = hasTaskset && !flag('no-pin');
const SERVER_CORE = 0;
const onServerCore = pinnedTo(SERVER_CORE, pinning);
const onToolsCore = pinnedTo(1, pinning);
/** RTP ports of the server under test. */
const RTP_MIN = 30000;
const RTP_MAX = 34999;
const SAMPLE_RATE = 8000;
const PERIOD_US = 20_000;
/** The step each server runs first, not reported. */
const WARMUP_CALLS = 20;
const WARMUP_WINDOW_SECONDS = 5;
/** Capture kept running this long before and after the measured window. */
const CAPTURE_EDGE_S = 1;
const say = (line: string): void => void process.stderr.write(`${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---- the prompt ----

/** A speech-like test signal: a 300–900 Hz glide with syllable-rate amplitude, about −12 dBFS, 16-bit linear. */
function promptSamples(seconds: number): Float64Array {
  const samples = new Float64Array(Math.round(seconds * SAMPLE_RATE));
  let phase = 0;
  for (let i = 0; i < samples.length; i++) {
    const t = i / SAMPLE_RATE;
    const frequency = 600 + 300 * Math.sin(2 * Math.PI * 0.7 * t);
    phase += (2 * Math.PI * frequency) / SAMPLE_RATE;
    const envelope = 0.55 + 0.45 * Math.sin(2 * Math.PI * 4 * t);
    samples[i] = 8000 * envelope * Math.sin(phase);
  }
  return samples;
}

// ---- the servers ----

interface Server {
  readonly name: 'voix' | 'asterisk';
  readonly port: number;
  /** The status SIPp's INVITE is challenged with. */
  readonly challenge: 401 | 407;
  readonly password: string;
  readonly version: string;
  pid(): number | null;
  stop(): Promise<void>;
}

async function startVoixServer(dir: string, promptWav: string): Promise<Server> {
  const port = await freePort();
  const password = `bench-${randomBytes(8).toString('hex')}`;
  const yaml = [
    'server:',
    '  domain: voix.bench',
    '  aliases: [127.0.0.1]',
    `  data_dir: ${dir}/voix-data`,
    '  log_level: info',
    '  listen:',
    `    udp: { address: 127.0.0.1, port: ${port} }`,
    '    tcp: false',
    '    tls: false',
    'auth:',
    '  algorithms: [MD5]',
    'users:',
    `  - { extension: "1001", password: "${password}", transports: [udp], srtp: off }`,
    'messages:',
    `  - { number: "8000", name: Bench, prompt: { file: "${promptWav}" } }`,
    'media:',
    '  address: 127.0.0.1',
    `  port_min: ${RTP_MIN}`,
    `  port_max: ${RTP_MAX}`,
    '  workers: 1',
    '',
  ].join('\n');
  writeFileSync(path.join(dir, 'voix.yaml'), yaml);
  // VOIX_NODE_ARGS: extra options for voix's node, as in bench/voix-process.ts (e.g. --trace-gc).
  const nodeArgs = (process.env.VOIX_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  const [command, args] = onServerCore([process.execPath, ...nodeArgs, path.join(ROOT, 'dist/server.js'), '--config', path.join(dir, 'voix.yaml')]);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let output = '';
  const log = createWriteStream(path.join(dir, 'voix.log'));
  child.stdout?.pipe(log);
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      if (output.includes('"msg":"ready"')) return;
      output += chunk.toString();
      if (output.includes('"msg":"ready"')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`voix exited with ${code} before ready:\n${output.slice(-3000)}`)));
  });
  const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string;
  return {
    name: 'voix',
    port,
    challenge: 407,
    password,
    version: `voix ${version} (${builtVoix()})`,
    pid: () => child.pid ?? null,
    stop: () => stopProcess(child, 10_000),
  };
}

async function startAsteriskServer(rootfs: string, samples: Float64Array): Promise<Server> {
  const port = await freePort();
  const password = `bench-${randomBytes(8).toString('hex')}`;
  const asterisk = await startAsterisk({
    rootfs,
    sipPort: port,
    rtpStart: RTP_MIN,
    rtpEnd: RTP_MAX,
    users: { '1001': password },
    dialplan: ['exten => 8000,1,Answer()', ` same => n,Playback(${ASTERISK_SOUNDS_DIR}/bench-prompt)`, ' same => n,Hangup()'],
    sounds: { 'bench-prompt.ulaw': Buffer.from(encodeLinear('PCMU', samples)) },
    pin: pinning ? ['taskset', '-c', String(SERVER_CORE)] : [],
  });
  return {
    name: 'asterisk',
    port,
    challenge: 401,
    password,
    version: asteriskVersion(rootfs),
    pid: () => asterisk.asteriskPid(),
    stop: () => asterisk.stop(),
  };
}

// ---- one step ----

interface WindowResult {
  readonly streams: number;
  readonly packets: number;
  readonly deltaP50Us: number;
  readonly deltaP99Us: number;
  readonly deltaMaxUs: number;
  readonly jitterMedianMs: number;
  readonly jitterP99Ms: number;
  readonly lossPercent: number;
  readonly driftMedianPpm: number;
  readonly driftMaxPpm: number;
  readonly cpuPercent: number;
}

/** A step: the median of its windows' figures, and the windows. */
interface StepResult extends WindowResult {
  readonly server: string;
  readonly calls: number;
  readonly windows: readonly WindowResult[];
  readonly streams: number;
  readonly packets: number;
  readonly deltaP50Us: number;
  readonly deltaP99Us: number;
  readonly deltaMaxUs: number;
  readonly jitterMedianMs: number;
  readonly jitterP99Ms: number;
  readonly lossPercent: number;
  readonly driftMedianPpm: number;
  readonly driftMaxPpm: number;
  readonly cpuPercent: number;
  readonly sippFailed: number;
  readonly captureDrops: number;
}

async function runStep(server: Server, calls: number, dir: string, promptSeconds: number, windowSeconds: number, windows: number): Promise<StepResult> {
  const rampSeconds = calls / rate;
  const holdMs = Math.round((rampSeconds + 3 + CAPTURE_EDGE_S + windows * windowSeconds + CAPTURE_EDGE_S + 2) * 1000);
  if (holdMs / 1000 + 5 > promptSeconds) throw new Error(`the prompt (${promptSeconds} s) must outlast a call (${holdMs / 1000} s)`);
  const scenario = path.join(dir, `playout-uac-${server.name}.xml`);
  const template = readFileSync(path.join(ROOT, 'bench/scenarios/playout-uac.xml'), 'utf8');
  writeFileSync(scenario, template.replace('{{challenge}}', String(server.challenge)).replace('{{hold_ms}}', String(holdMs)));
  const mediaPort = await freePort();
  const sippPort = await freePort();
  const [command, args] = onToolsCore([
    'sipp',
    `127.0.0.1:${server.port}`,
    '-sf',
    scenario,
    '-t',
    'u1',
    '-i',
    '127.0.0.1',
    '-p',
    String(sippPort),
    '-mp',
    String(mediaPort),
    '-s',
    '8000',
    '-au',
    '1001',
    '-ap',
    server.password,
    '-m',
    String(calls),
    '-l',
    String(calls),
    '-r',
    String(rate),
    '-nostdin',
    '-timeout',
    `${Math.ceil(holdMs / 1000 + rampSeconds + 30)}s`,
    '-trace_stat',
    '-stf',
    path.join(dir, `sipp-${server.name}-${calls}.csv`),
  ]);
  const sipp = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  killOnExit(sipp);
  let sippOutput = '';
  sipp.stdout?.on('data', (chunk: Buffer) => (sippOutput += chunk.toString()));
  sipp.stderr?.on('data', (chunk: Buffer) => (sippOutput += chunk.toString()));
  const sippExited = new Promise<number | null>((resolve) => sipp.once('exit', (code) => resolve(code)));

  // Every call is up after the ramp; the measure starts a little later.
  await sleep((rampSeconds + 3) * 1000);
  const file = path.join(dir, `capture-${server.name}-${calls}.pcap`);
  const capture = await startCapture(file, `udp dst port ${mediaPort}`, onToolsCore);
  // The window is inside the capture: dumpcap was seen to lose the last few hundred ms when stopped.
  await sleep(CAPTURE_EDGE_S * 1000);
  const pid = server.pid();
  const spans: Array<{ fromUs: number; toUs: number; cpuPercent: number }> = [];
  for (let w = 0; w < windows; w++) {
    const cpuBefore = processCpuMs(pid ?? undefined);
    const wallBefore = performance.now();
    const fromUs = Date.now() * 1000;
    await sleep(windowSeconds * 1000);
    const toUs = Date.now() * 1000;
    const cpuMs = processCpuMs(pid ?? undefined) - cpuBefore;
    spans.push({ fromUs, toUs, cpuPercent: (100 * cpuMs) / (performance.now() - wallBefore) });
  }
  await sleep(CAPTURE_EDGE_S * 1000);
  const captureDrops = await capture.stop();
  const code = await sippExited;
  const failed = sippFailedCalls(path.join(dir, `sipp-${server.name}-${calls}.csv`), code, sippOutput);
  const measured = spans.map((span) => ({ ...analyse(file, span.fromUs, span.toUs), cpuPercent: span.cpuPercent }));
  if (process.env.KEEP_PCAP === undefined) rmSync(file, { force: true });
  else say(`capture kept: ${file}`);
  const median = (key: keyof WindowResult): number => percentile(Float64Array.from(measured, (m) => m[key]).sort(), 0.5);
  const keys = Object.keys(measured[0] as WindowResult) as Array<keyof WindowResult>;
  const medians = Object.fromEntries(keys.map((key) => [key, median(key)])) as unknown as WindowResult;
  return { server: server.name, calls, ...medians, windows: measured, sippFailed: failed, captureDrops };
}

/** FailedCall(C) of the last row of SIPp's statistics CSV (-trace_stat); the exit status when there is none. */
function sippFailedCalls(csv: string, code: number | null, output: string): number {
  const lines = existsSync(csv) ? readFileSync(csv, 'utf8').trim().split('\n') : [];
  const header = (lines[0] ?? '').split(';');
  const column = header.indexOf('FailedCall(C)');
  const value = Number((lines.at(-1) ?? '').split(';')[column]);
  if (column >= 0 && lines.length > 1 && Number.isFinite(value)) return value;
  if (code === 0) return 0;
  say(`SIPp ended with ${code} and no statistics: ${output.slice(-1000)}`);
  return Number.NaN;
}

type Analysis = Omit<WindowResult, 'cpuPercent'>;

/** Streams of a classic pcap (Ethernet, as dumpcap -P writes on lo), by source port and SSRC, packets captured in [fromUs, toUs) (µs since the epoch). */
function analyse(file: string, fromUs: number, toUs: number): Analysis {
  const streams = new Map<string, { times: number[]; sequences: number[]; timestamps: number[] }>();
  let packets = 0;
  forEachRtpRecord(file, (timeUs, sourcePort, _destinationPort, rtp, data) => {
    if (timeUs < fromUs || timeUs >= toUs) return;
    const key = `${sourcePort}/${data.readUInt32BE(rtp + 8)}`;
    let stream = streams.get(key);
    if (stream === undefined) {
      stream = { times: [], sequences: [], timestamps: [] };
      streams.set(key, stream);
    }
    stream.times.push(timeUs);
    stream.sequences.push(data.readUInt16BE(rtp + 2));
    stream.timestamps.push(data.readUInt32BE(rtp + 4));
    packets++;
  });
  const deltas: number[] = [];
  const jitters: number[] = [];
  const drifts: number[] = [];
  let due = 0;
  let received = 0;
  for (const { times, sequences, timestamps } of streams.values()) {
    if (times.length < 10) continue;
    let jitter = 0;
    let jitterSum = 0;
    let highest = sequences[0] ?? 0;
    let extended = highest;
    for (let i = 1; i < times.length; i++) {
      const step = ((sequences[i] ?? 0) - (sequences[i - 1] ?? 0) + 65536) % 65536;
      if (step === 1) deltas.push(Math.abs((times[i] ?? 0) - (times[i - 1] ?? 0) - PERIOD_US));
      if (step > 0 && step < 32768) {
        extended += step;
        highest = sequences[i] ?? highest;
      }
      // RFC 3550 A.8: D = (arrival difference) − (RTP timestamp difference), both in µs.
      const rtpStepUs = ((((timestamps[i] ?? 0) - (timestamps[i - 1] ?? 0)) | 0) * 1e6) / SAMPLE_RATE;
      const d = (times[i] ?? 0) - (times[i - 1] ?? 0) - rtpStepUs;
      jitter += (Math.abs(d) - jitter) / 16;
      jitterSum += jitter;
    }
    jitters.push(jitterSum / (times.length - 1) / 1000);
    due += extended - (sequences[0] ?? 0) + 1;
    received += times.length;
    const rtpSpanUs = ((((timestamps.at(-1) ?? 0) - (timestamps[0] ?? 0)) >>> 0) * 1e6) / SAMPLE_RATE;
    const arrivalSpanUs = (times.at(-1) ?? 0) - (times[0] ?? 0);
    if (rtpSpanUs > 0) drifts.push(Math.abs(((arrivalSpanUs - rtpSpanUs) / rtpSpanUs) * 1e6));
  }
  const sortedDeltas = Float64Array.from(deltas).sort();
  const sortedJitters = Float64Array.from(jitters).sort();
  const sortedDrifts = Float64Array.from(drifts).sort();
  return {
    streams: jitters.length,
    packets,
    deltaP50Us: percentile(sortedDeltas, 0.5),
    deltaP99Us: percentile(sortedDeltas, 0.99),
    deltaMaxUs: sortedDeltas.at(-1) ?? Number.NaN,
    jitterMedianMs: percentile(sortedJitters, 0.5),
    jitterP99Ms: percentile(sortedJitters, 0.99),
    lossPercent: due === 0 ? Number.NaN : (100 * Math.max(0, due - received)) / due,
    driftMedianPpm: percentile(sortedDrifts, 0.5),
    driftMaxPpm: sortedDrifts.at(-1) ?? Number.NaN,
  };
}

// ---- the run ----

async function main(): Promise<void> {
  if (!existsSync(path.join(ROOT, 'dist/server.js'))) throw new Error('build first: npm run build');
  if (spawnSync('sipp', ['-v']).error !== undefined) throw new Error('SIPp is needed (Debian: apt-get install sip-tester)');
  if (!captureAvailable()) throw new Error('dumpcap and root are needed (the figures come from a capture)');
  await takeBenchLock('bench/ivr-playout.ts', say);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'voix-bench-ivr-'));
  const maxCalls = Math.max(...callSteps);
  const promptSeconds = Math.max(60, Math.ceil(maxCalls / rate + 3 + repeat * windowSeconds + 2 * CAPTURE_EDGE_S + 2 + 10));
  const samples = promptSamples(promptSeconds);
  const promptWav = path.join(dir, 'bench-prompt.wav');
  writeFileSync(promptWav, pcmWav(samples, SAMPLE_RATE));
  const rootfs = servers.includes('asterisk') ? ensureAsteriskRootfs(say) : '';
  const results: StepResult[] = [];
  const versions: string[] = [];
  try {
    for (const name of servers) {
      // One server for every step, as it runs in production; a short step first, not reported, so that
      // neither server is measured while it still starts up (voix's media worker was seen collecting the
      // garbage of its start-up, pauses of 16 ms, in the first seconds).
      const server = name === 'voix' ? await startVoixServer(dir, promptWav) : await startAsteriskServer(rootfs, samples);
      if (!versions.includes(server.version)) versions.push(server.version);
      try {
        say(`${name}: warm-up, ${WARMUP_CALLS} calls…`);
        await runStep(server, WARMUP_CALLS, dir, promptSeconds, WARMUP_WINDOW_SECONDS, 1);
        for (const calls of callSteps) {
          await sleep(2000);
          say(`${name}: ${calls} calls…`);
          results.push(await runStep(server, calls, dir, promptSeconds, windowSeconds, repeat));
        }
      } finally {
        await server.stop();
      }
    }
  } finally {
    if (process.env.KEEP_PCAP === undefined) rmSync(dir, { recursive: true, force: true });
  }
  printReport(results, versions, promptSeconds);
}

function printReport(results: readonly StepResult[], versions: readonly string[], promptSeconds: number): void {
  const sippVersion = (spawnSync('sipp', ['-v'], { encoding: 'utf8' }).stdout ?? '').match(/SIPp v[^\s,]+/)?.[0] ?? 'SIPp';
  const f = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
  console.log(`command: npm run bench:ivr -- ${process.argv.slice(2).join(' ')}`.trimEnd());
  console.log(`machine: ${machineLine()}; ${sippVersion}; ${versions.join('; ')}`);
  console.log(`cores: ${pinning ? 'server (all threads) on core 0; SIPp, dumpcap and this process on core 1' : 'not pinned'}`);
  console.log(
    `workload: SIPp UAC calls 8000 at ${rate} calls/s (digest MD5, PCMU); the server answers and plays a ${promptSeconds} s prompt (voix: message from a WAV it converts once, 1 media thread; Asterisk: Playback() of a .ulaw file, PJSIP, res_timing_timerfd); measured over ${repeat} windows of ${windowSeconds} s once every call is up, figures are the windows' medians`,
  );
  console.log('capture: dumpcap on lo, every packet to SIPp’s media port (64 bytes), kernel timestamps; streams by server port and SSRC');
  console.log('|Δ−20 ms|: consecutive packets of a stream; jitter: RFC 3550 (A.8) per stream, mean over its packets, then median / p99 across streams; drift: arrival span vs RTP timestamp span; CPU: the server process, all threads, % of one core');
  console.log('');
  const header = ['server', 'calls', 'streams', 'packets', '|Δ−20ms| p50 µs', 'p99 µs', 'max µs', 'jitter median ms', 'p99 ms', 'loss %', 'drift median ppm', 'max ppm', 'CPU %', 'SIPp failed', 'capture drops'];
  console.log(
    table(
      header,
      results.map((r) => [
        r.server,
        String(r.calls),
        String(r.streams),
        String(r.packets),
        f(r.deltaP50Us, 0),
        f(r.deltaP99Us, 0),
        f(r.deltaMaxUs, 0),
        f(r.jitterMedianMs, 3),
        f(r.jitterP99Ms, 3),
        f(r.lossPercent, 3),
        f(r.driftMedianPpm, 0),
        f(r.driftMaxPpm, 0),
        f(r.cpuPercent, 1),
        String(r.sippFailed),
        String(r.captureDrops),
      ]),
    ),
  );
  const ratios = callSteps.flatMap((calls) => {
    const voix = results.find((r) => r.server === 'voix' && r.calls === calls);
    const asterisk = results.find((r) => r.server === 'asterisk' && r.calls === calls);
    if (voix === undefined || asterisk === undefined) return [];
    const ratio = (a: number, b: number): string => (b > 0 && Number.isFinite(a) ? (a / b).toFixed(2) : 'n/a');
    return [[String(calls), ratio(voix.deltaP99Us, asterisk.deltaP99Us), ratio(voix.jitterMedianMs, asterisk.jitterMedianMs), ratio(voix.jitterP99Ms, asterisk.jitterP99Ms), ratio(voix.cpuPercent, asterisk.cpuPercent)]];
  });
  if (ratios.length > 0) {
    console.log('');
    console.log('voix / Asterisk (below 1: voix lower)');
    console.log(table(['calls', '|Δ−20ms| p99', 'jitter median', 'jitter p99', 'CPU'], ratios));
  }
  if (jsonFile !== undefined) {
    const ratioOf = (calls: number): Record<string, number | null> | null => {
      const voix = results.find((r) => r.server === 'voix' && r.calls === calls);
      const asterisk = results.find((r) => r.server === 'asterisk' && r.calls === calls);
      if (voix === undefined || asterisk === undefined) return null;
      const ratio = (a: number, b: number): number | null => (b > 0 && Number.isFinite(a) ? a / b : null);
      return { deltaP99: ratio(voix.deltaP99Us, asterisk.deltaP99Us), jitterMedian: ratio(voix.jitterMedianMs, asterisk.jitterMedianMs), jitterP99: ratio(voix.jitterP99Ms, asterisk.jitterP99Ms), cpu: ratio(voix.cpuPercent, asterisk.cpuPercent) };
    };
    const json = {
      bench: 'ivr',
      command: `npm run bench:ivr -- ${process.argv.slice(2).join(' ')}`.trimEnd(),
      machine: machineLine(),
      sipp: sippVersion,
      versions,
      promptSeconds,
      windowSeconds,
      repeat,
      rate,
      results,
      ratios: Object.fromEntries(callSteps.map((calls) => [String(calls), ratioOf(calls)])),
    };
    writeFileSync(jsonFile, `${JSON.stringify(json, null, 2)}\n`);
    console.log(`raw data: ${jsonFile}`);
  }
}

await main();
