/**
 * Relayed concurrent calls through the real server: SIPp UAC → voix → SIPp
 * UAS, RTP at 20 ms, stepping the number of concurrent calls (the calls
 * issue's benchmark, plain RTP: Debian's SIPp 3.6 has no SRTP).
 *
 *   npm run build && npm run bench:relay -- --sipp [--calls 100,200,300,400,500,600,800]
 *        [--seconds 10] [--rate 47] [--workers 1] [--retries 1] [--noise-max 15] [--no-stop]
 *        [--no-pin]
 *
 * voix runs as in production (node dist/server.js --config <generated
 * yaml>: auth.algorithms [MD5], users 1001 and 1002 on UDP, RTP ports
 * 20000–29999 on 127.0.0.1, --workers media threads). A SIPp registers
 * 1002, then a SIPp UAS (bench/scenarios/relay-uas-answer.xml, -rtp_echo)
 * answers on that port and sends every RTP packet back where it came from.
 * Per step, a SIPp UAC (relay-uac-call-pcap.xml) places N calls at --rate
 * calls/s (47: not a divisor of 1000 ms, so that the calls' 20 ms phases
 * spread rather than all send at the same instant), each playing
 * (play_pcap_audio) a PCMU pcap long enough for all N calls to overlap for
 * --seconds plus margins, then BYE. Each call thus carries a stream each
 * way: UAC → voix → UAS, and the echo UAS → voix → UAC.
 *
 * Measured from a capture of voix's RTP ports (dumpcap on lo, kernel
 * timestamps; only the pcap's SSRC, so that other programs' RTP on
 * loopback does not count), only while all the calls' streams flow (the
 * last stream's first packet to the first stream's last, 1 s trimmed at
 * both ends):
 * - relay loss: packets that entered voix and never left it;
 * - the added delay per packet, egress − ingress. Every call plays the same
 *   pcap (same SSRC and sequence numbers), so packets are matched by relay
 *   leg too: the legs of a relay are paired from the traffic first
 *   (relay-capture.ts);
 * - jitter: SIPp is a bursty sender (TESTING.md: |inter-arrival − 20 ms|
 *   p99 ≈ 20 ms at 100 calls, before any relay), so the end-to-end RFC 3550
 *   jitter is mostly SIPp's. The criterion is the jitter voix adds: RFC
 *   3550's estimator (J += (|D| − J)/16) over the differences of
 *   consecutive added delays of a stream, mean over packets then streams.
 *   The RFC 3550 jitter entering voix (SIPp's, and the echo's) and leaving
 *   it are printed too.
 * - voix's CPU (the whole process: SIP, media thread(s), helpers) over
 *   --seconds once SIPp says all the calls are up (its statistics file,
 *   CurrentCall), per packet relayed and per call; its busiest thread (the
 *   media worker); resident memory with all calls up minus before the
 *   step, per call (indicative: it includes the calls' SIP state and
 *   garbage not yet collected).
 *
 * A step is good when relay loss ≤ 0.1% and the mean added jitter ≤ 5 ms,
 * bad otherwise (stepping stops), and always bad when voix fails with its
 * core saturated (≥ 90%). Otherwise it is invalid (run again, then stepping
 * stops: inconclusive beyond) when its load was not offered: not all calls
 * up together, or SIPp sent less than 99% of the packets its streams were
 * due; or when it is bad and something else could explain it: a SIPp
 * process used ≥ 90% of its core, other processes used more than
 * --noise-max % of a core, or dumpcap dropped packets.
 *
 * Cores: voix (all its threads) on core 0; both SIPp, dumpcap and this
 * process on core 1. SIPp plays each call's pcap from a thread of its own
 * and echoes from one thread: it runs out of core 1 before voix runs out of
 * core 0, and the table says so when it does.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rtpPcap } from '../test/e2e/harness/rtp.js';
import { analyseRelayCapture, captureAvailable, startCapture, type Capture, type RelayTiming } from './relay-capture.js';
import { MachineLoad, freePort, hasTaskset, killOnExit, machineLine, percentile, pin, pinnedTo, processCpuMs, processRssBytes, stopProcess, table, waitForQuiet } from './relay-machine.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SCENARIOS = path.join(ROOT, 'bench/scenarios');
const PORT_MIN = 20000;
const PORT_MAX = 29999;
/** SIPp's media ports (-mp), outside voix's range: the UAC plays from here, the UAS echoes here. */
const UAC_MEDIA_PORT = 40000;
const UAS_MEDIA_PORT = 40010;
const REGISTER_MEDIA_PORT = 40020;
const MAX_LOSS = 0.001;
const MAX_ADDED_JITTER_MS = 5;
/**
 * The share of the packets due that SIPp must send for a step to count:
 * counting a window's packets is exact to a packet per stream at its ends
 * (0.25% of an 8 s window), so 99%, not 99.9%.
 */
const MIN_SEND_RATIO = 0.99;
/** voix (all its threads on one core) using this much of it has no room left: when it fails, it is the limit. */
const SATURATED_PERCENT = 90;
const TRIM_US = 1_000_000;
/**
 * The SSRC of the pcap every call plays (the UAS echoes it unchanged). The
 * capture keeps only it: other programs on this machine (tests) may send
 * RTP on loopback in the same port range, and their streams would count
 * as voix's.
 */
const PCAP_SSRC = 0x5eed1234;

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

const callSteps = (option('calls') ?? '100,200,300,400,500,600,800').split(',').map(Number).filter((n) => n > 0);
const seconds = Number(option('seconds') ?? 10);
const rate = Number(option('rate') ?? 47);
const workers = Number(option('workers') ?? 1);
const retries = Number(option('retries') ?? 1);
const noiseMaxPercent = Number(option('noise-max') ?? 15);
const stopAtFirstBad = !flag('no-stop');
const pinning = hasTaskset && !flag('no-pin');
/** voix alone on one core; SIPp, dumpcap and this process on the other. */
const VOIX_CORE = 0;
const SIPP_CORE = 1;
const onVoixCore = pinnedTo(VOIX_CORE, pinning);
const onSippCore = pinnedTo(SIPP_CORE, pinning);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Voix {
  readonly child: ChildProcess;
  readonly port: number;
  readonly passwords: Readonly<Record<string, string>>;
}

async function startVoix(dir: string): Promise<Voix> {
  const port = await freePort();
  const passwords = { '1001': `bench-${randomBytes(6).toString('hex')}`, '1002': `bench-${randomBytes(6).toString('hex')}` };
  const yaml = [
    'server:',
    '  domain: voix.bench',
    '  aliases: [127.0.0.1]',
    `  data_dir: ${dir}/data`,
    '  log_level: info',
    '  listen:',
    `    udp: { address: 127.0.0.1, port: ${port} }`,
    '    tcp: false',
    '    tls: false',
    'auth:',
    '  algorithms: [MD5]',
    'users:',
    ...Object.entries(passwords).map(([extension, password]) => `  - { extension: "${extension}", password: "${password}", transports: [udp], srtp: off }`),
    'media:',
    '  address: 127.0.0.1',
    `  port_min: ${PORT_MIN}`,
    `  port_max: ${PORT_MAX}`,
    `  workers: ${workers}`,
    '',
  ].join('\n');
  writeFileSync(path.join(dir, 'voix.yaml'), yaml);
  const [command, args] = onVoixCore([process.execPath, path.join(ROOT, 'dist/server.js'), '--config', path.join(dir, 'voix.yaml')]);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  const log = createWriteStream(path.join(dir, 'voix.log'));
  child.stderr?.pipe(log);
  await new Promise<void>((resolve, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString();
      if (buffer.includes('"msg":"ready"')) {
        child.stdout?.off('data', onData);
        child.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null): void => reject(new Error(`voix exited with ${code} before ready:\n${buffer}`));
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
  child.stdout?.pipe(log);
  return { child, port, passwords };
}

function sippArgs(remote: string | null, scenario: string, extra: string[]): string[] {
  return ['sipp', ...(remote === null ? [] : [remote]), '-sf', scenario, '-t', 'u1', '-i', '127.0.0.1', '-nostdin', ...extra];
}

/** Whether a UDP socket is bound on 127.0.0.1:port. */
function udpBound(port: number): boolean {
  const out = spawnSync('ss', ['-Hnuln', `sport = :${port}`], { encoding: 'utf8' }).stdout ?? '';
  return out.trim().length > 0;
}

/** The last row of SIPp's statistics CSV, by column. */
function sippStats(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const header = (lines[0] ?? '').split(';');
  const last = (lines[lines.length - 1] ?? '').split(';');
  return Object.fromEntries(header.map((h, i) => [h, last[i] ?? '']));
}

/** CPU time per thread of a process (ms), by thread id, with the thread's name. */
function threadCpu(pid: number): Map<number, { name: string; ms: number }> {
  const threads = new Map<number, { name: string; ms: number }>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        const fields = stat.slice(close + 2).split(' ');
        threads.set(Number(tid), { name: stat.slice(stat.indexOf('(') + 1, close), ms: (Number(fields[11]) + Number(fields[12])) * 10 });
      } catch {
        // thread gone
      }
    }
  } catch {
    // process gone
  }
  return threads;
}

type Verdict = 'good' | 'bad' | 'invalid';

interface Row {
  calls: number;
  attempt: number;
  successful: number;
  failed: number;
  retransmissions: number;
  timing: RelayTiming;
  /** Packets per second entering voix in the window, both directions. */
  ppsIn: number;
  /** Calls SIPp had up both when voix's measure started and when it ended. */
  callsUp: number;
  loss: number;
  /** What entered voix in the window per stream, as a share of the 50 packets/s due: below 1, SIPp did not keep up. */
  sippSendRatio: number;
  voixCpuPercent: number;
  busiestThread: string;
  cpuUsPerPacket: number;
  rssPerCallKb: number;
  uacCpuPercent: number;
  uasCpuPercent: number;
  captureCpuPercent: number;
  captureDrops: number;
  othersPercent: number;
  busiestOther: string;
  verdict: Verdict;
  reasons: string[];
}

interface Lab {
  readonly dir: string;
  readonly voix: Voix;
  readonly uas: ChildProcess;
}

/** The UAC scenario of a step, with a pcap long enough for every call to overlap the others for `seconds`, margins included. */
function writeScenario(dir: string, label: string, playSeconds: number): string {
  const pcap = path.join(dir, `pcmu-${playSeconds}s.pcap`);
  if (!existsSync(pcap)) {
    const payload = Buffer.alloc(160, 0xff); // PCMU silence
    writeFileSync(pcap, rtpPcap({ payloads: Array.from({ length: playSeconds * 50 }, () => payload), payloadType: 0, ssrc: PCAP_SSRC }));
  }
  const scenario = path.join(dir, `uac-${label}.xml`);
  const template = readFileSync(path.join(SCENARIOS, 'relay-uac-call-pcap.xml'), 'utf8');
  writeFileSync(scenario, template.replaceAll('{{pcap}}', pcap).replaceAll('{{pause_ms}}', String(playSeconds * 1000 + 500)));
  return scenario;
}

interface Uac {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  /** SIPp's statistics CSV, a line a second (-fd 1). */
  readonly stats: string;
}

async function startUac(lab: Lab, scenario: string, label: string, calls: number, playSeconds: number): Promise<Uac> {
  const stats = path.join(lab.dir, `uac-${label}.csv`);
  const [command, args] = onSippCore(
    sippArgs(`127.0.0.1:${lab.voix.port}`, scenario, [
      '-s', '1002',
      '-au', '1001',
      '-ap', lab.voix.passwords['1001'] ?? '',
      '-p', String(await freePort()),
      '-mp', String(UAC_MEDIA_PORT),
      '-r', String(rate),
      '-rp', '1000',
      '-m', String(calls),
      '-l', String(calls),
      '-trace_stat', '-stf', stats, '-fd', '1',
      '-trace_err', '-error_file', path.join(lab.dir, `uac-${label}-errors.log`),
      '-timeout', `${Math.ceil(calls / rate + playSeconds + 60)}s`, '-timeout_error',
    ]),
  );
  const child = spawn(command, args, { cwd: lab.dir, stdio: 'ignore' });
  killOnExit(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited, stats };
}

/** Calls SIPp's UAC has up, from its statistics file (−1 before the first line). */
function currentCalls(stats: string): number {
  const value = sippStats(stats)['CurrentCall'];
  return value === undefined || value === '' ? -1 : Number(value);
}

/**
 * Waits until SIPp's UAC has all its calls up, or the ramp took twice as
 * long as it should, plus 2 s for the last calls' media to start; resolves
 * with the calls up then.
 */
async function waitForCalls(uac: Uac, calls: number): Promise<number> {
  const deadline = performance.now() + (2 * calls / rate + 10) * 1000;
  while (currentCalls(uac.stats) < calls && performance.now() < deadline && uac.child.exitCode === null) await sleep(250);
  await sleep(2000);
  return currentCalls(uac.stats);
}

interface WindowUsage {
  readonly wallMs: number;
  readonly voixMs: number;
  readonly busiestThread: string;
  readonly rssLoaded: number;
  readonly uacMs: number;
  readonly uasMs: number;
  readonly captureMs: number;
  readonly othersPercent: number;
  readonly busiestOther: string;
  /** The calls SIPp had up at the end of the window. */
  readonly callsUpAtEnd: number;
}

/** The busiest thread of a process over a window, for the report: the media worker when the relay is what costs. */
function busiestThread(pid: number, before: Map<number, { name: string; ms: number }>, wallMs: number): string {
  let name = '';
  let most = -1;
  for (const [tid, now] of threadCpu(pid)) {
    const ms = now.ms - (before.get(tid)?.ms ?? 0);
    if (ms <= most) continue;
    most = ms;
    name = `${tid === pid ? 'main' : 'non-main'} ${((100 * ms) / wallMs).toFixed(0)}%`;
  }
  return name;
}

/** CPU and memory of voix, SIPp and dumpcap over `seconds`, and what the rest of the machine did meanwhile. */
async function measureWindow(lab: Lab, uac: Uac, capture: Capture): Promise<WindowUsage> {
  const voixPid = lab.voix.child.pid ?? 0;
  const load = new MachineLoad();
  const wall0 = performance.now();
  const voix0 = processCpuMs(voixPid);
  const threads0 = threadCpu(voixPid);
  const uac0 = processCpuMs(uac.child.pid);
  const uas0 = processCpuMs(lab.uas.pid);
  const capture0 = processCpuMs(capture.pid);
  await sleep(seconds * 1000);
  const wallMs = performance.now() - wall0;
  const voixMs = processCpuMs(voixPid) - voix0;
  const uacMs = processCpuMs(uac.child.pid) - uac0;
  const uasMs = processCpuMs(lab.uas.pid) - uas0;
  const captureMs = processCpuMs(capture.pid) - capture0;
  const others = load.others(new Set([voixPid, uac.child.pid ?? 0, lab.uas.pid ?? 0, capture.pid ?? 0, process.pid]));
  return {
    wallMs,
    voixMs,
    busiestThread: busiestThread(voixPid, threads0, wallMs),
    rssLoaded: processRssBytes(voixPid),
    uacMs,
    uasMs,
    captureMs,
    othersPercent: others.percent,
    busiestOther: others.busiest,
    callsUpAtEnd: currentCalls(uac.stats),
  };
}

/**
 * One step: SIPp's UAC places `calls` calls; once they are all up, voix's
 * CPU and memory are measured for `seconds`; when the calls have ended,
 * the capture of voix's RTP ports is analysed over the time they all flowed.
 */
async function step(lab: Lab, calls: number, attempt: number): Promise<Row> {
  await waitForQuiet(noiseMaxPercent / 2, 180_000, (line) => process.stderr.write(`${line}\n`));
  const rampSeconds = calls / rate;
  // Long enough for every call to overlap the others for `seconds`, with margins for set-up, a slow ramp and the trims.
  const playSeconds = Math.ceil(1.5 * rampSeconds + seconds + 8);
  const label = `${calls}-${attempt}`;
  const scenario = writeScenario(lab.dir, label, playSeconds);

  const file = path.join(lab.dir, `relay-${label}.pcap`);
  // udp[16:4]: the RTP header's SSRC (UDP header 8 bytes, then the SSRC at byte 8 of RTP).
  const capture = await startCapture(file, `udp portrange ${PORT_MIN}-${PORT_MAX} and udp[16:4] = ${PCAP_SSRC}`, onSippCore);
  const rssBefore = processRssBytes(lab.voix.child.pid ?? 0);
  const uac = await startUac(lab, scenario, label, calls, playSeconds);
  const callsUp = await waitForCalls(uac, calls);
  const usage = await measureWindow(lab, uac, capture);
  await uac.exited;
  const captureDrops = await capture.stop();
  const timing = analyseRelayCapture(file, { isRelayPort: (port) => port >= PORT_MIN && port <= PORT_MAX, window: 'steady', trimUs: TRIM_US });
  if (process.env.KEEP_PCAP === undefined) rmSync(file, { force: true });
  const uacStats = sippStats(uac.stats);

  const ppsIn = timing.ingress / Math.max(1e-9, timing.seconds);
  // Every stream (the UAC's, and the UAS's echo of it) is due 50 packets/s.
  const ingressPerStreamPerSecond = ppsIn / Math.max(1, timing.ingressStreams);
  const row: Row = {
    calls,
    attempt,
    successful: Number(uacStats['SuccessfulCall(C)'] ?? Number.NaN),
    failed: Number(uacStats['FailedCall(C)'] ?? Number.NaN),
    retransmissions: Number(uacStats['Retransmissions(C)'] ?? Number.NaN),
    callsUp: Math.min(callsUp, usage.callsUpAtEnd),
    timing,
    ppsIn,
    loss: timing.unmatched / Math.max(1, timing.ingress),
    sippSendRatio: ingressPerStreamPerSecond / 50,
    voixCpuPercent: (100 * usage.voixMs) / usage.wallMs,
    busiestThread: usage.busiestThread,
    cpuUsPerPacket: (1000 * usage.voixMs) / Math.max(1, ppsIn * (usage.wallMs / 1000)),
    rssPerCallKb: (usage.rssLoaded - rssBefore) / calls / 1024,
    uacCpuPercent: (100 * usage.uacMs) / usage.wallMs,
    uasCpuPercent: (100 * usage.uasMs) / usage.wallMs,
    captureCpuPercent: (100 * usage.captureMs) / usage.wallMs,
    captureDrops,
    othersPercent: usage.othersPercent,
    busiestOther: usage.busiestOther,
    verdict: 'good',
    reasons: [],
  };
  judge(row);
  return row;
}

/**
 * Good or bad by the issue's criteria, when the step's load was really
 * offered: all calls up together for the whole measure and SIPp sending
 * what they were due. Otherwise the step is invalid, whatever voix did: a
 * relay that copes with 400 calls sending at two thirds of the rate has
 * not carried 400 calls; unless voix failed with its core saturated (≥ 90%):
 * then it is bad, it is the limit. A bad step is invalid too when
 * something else could explain it (SIPp on a saturated core, other
 * processes, capture drops).
 */
function judge(row: Row): void {
  const bad: string[] = [];
  if (row.loss > MAX_LOSS) bad.push(`relay loss ${(100 * row.loss).toFixed(2)}% > ${100 * MAX_LOSS}%`);
  if (row.timing.jitterAdded.meanMs > MAX_ADDED_JITTER_MS) bad.push(`added jitter ${row.timing.jitterAdded.meanMs.toFixed(2)} ms > ${MAX_ADDED_JITTER_MS} ms`);
  if (row.timing.ingress === 0) bad.push('no RTP in the window');
  const notOffered: string[] = [];
  if (row.callsUp < row.calls) notOffered.push(`SIPp had ${row.callsUp} of ${row.calls} calls up during the measure`);
  if (row.timing.ingressStreams < 2 * row.calls) notOffered.push(`only ${row.timing.ingressStreams} of ${2 * row.calls} streams flowing together (SIPp: ${row.successful} calls ok, ${row.failed} failed, ${row.retransmissions} retransmissions)`);
  if (row.sippSendRatio < MIN_SEND_RATIO) notOffered.push(`SIPp sent ${(100 * row.sippSendRatio).toFixed(1)}% of the packets due: it did not keep up`);
  const excuses: string[] = [];
  if (row.uacCpuPercent >= 90 || row.uasCpuPercent >= 90) excuses.push(`SIPp saturated (UAC ${row.uacCpuPercent.toFixed(0)}%, UAS ${row.uasCpuPercent.toFixed(0)}% of a core)`);
  if (row.othersPercent > noiseMaxPercent) excuses.push(`other processes used ${row.othersPercent.toFixed(0)}% of a core${row.busiestOther === '' ? '' : ` (${row.busiestOther})`}`);
  if (row.captureDrops > 0) {
    row.verdict = 'invalid';
    row.reasons = [`dumpcap dropped ${row.captureDrops} packets`, ...bad];
  } else if (bad.length > 0 && row.voixCpuPercent >= SATURATED_PERCENT) {
    // voix has its core to itself and uses all of it: it is the limit, whatever SIPp or the rest did.
    row.verdict = 'bad';
    row.reasons = [...bad, `voix saturated (${row.voixCpuPercent.toFixed(0)}% of its core)`];
  } else if (notOffered.length > 0) {
    row.verdict = 'invalid';
    row.reasons = [...bad, ...notOffered];
  } else if (bad.length === 0) {
    row.verdict = 'good';
    row.reasons = excuses.length > 0 ? [`(${excuses.join('; ')})`] : [];
  } else if (excuses.length > 0) {
    row.verdict = 'invalid';
    row.reasons = [...bad, ...excuses];
  } else {
    row.verdict = 'bad';
    row.reasons = bad;
  }
}

const ms = (x: number): string => (Number.isNaN(x) ? 'n/a' : x.toFixed(2));
const us = (x: number): string => (Number.isNaN(x) ? 'n/a' : x.toFixed(0));

function tables(rows: Row[]): string {
  const main = table(
    ['calls', 'try', 'calls up/ok', 'pkt/s in', 'loss %', 'added jitter ms', 'delay p50 µs', 'p99 µs', 'voix CPU %', 'CPU µs/pkt', 'CPU ms/s per call', 'RSS/call KB', 'verdict'],
    rows.map((r) => [
      String(r.calls),
      String(r.attempt),
      `${r.callsUp}/${r.successful}`,
      r.ppsIn.toFixed(0),
      (100 * r.loss).toFixed(3),
      ms(r.timing.jitterAdded.meanMs),
      us(percentile(r.timing.delaysUs, 0.5)),
      us(percentile(r.timing.delaysUs, 0.99)),
      r.voixCpuPercent.toFixed(1),
      r.cpuUsPerPacket.toFixed(2),
      ((r.voixCpuPercent * 10) / r.calls).toFixed(2),
      r.rssPerCallKb.toFixed(0),
      `${r.verdict}${r.reasons.length > 0 ? `: ${r.reasons.join('; ')}` : ''}`,
    ]),
  );
  const detail = table(
    ['calls', 'try', 'relay loss', 'streams', 'window s', 'jitter in ms', 'jitter out ms', 'delay p99.9 µs', 'max µs', 'busiest voix thread', 'SIPp sent %', 'UAC CPU %', 'UAS CPU %', 'dumpcap CPU %', 'others %', 'capture drops', 'retrans'],
    rows.map((r) => [
      String(r.calls),
      String(r.attempt),
      `${r.timing.unmatched}/${r.timing.ingress}`,
      String(r.timing.ingressStreams),
      r.timing.seconds.toFixed(1),
      ms(r.timing.jitterIn.meanMs),
      ms(r.timing.jitterOut.meanMs),
      us(percentile(r.timing.delaysUs, 0.999)),
      us(percentile(r.timing.delaysUs, 1)),
      r.busiestThread,
      (100 * r.sippSendRatio).toFixed(1),
      r.uacCpuPercent.toFixed(0),
      r.uasCpuPercent.toFixed(0),
      r.captureCpuPercent.toFixed(0),
      `${r.othersPercent.toFixed(0)}${r.busiestOther === '' ? '' : ` (${r.busiestOther})`}`,
      String(r.captureDrops),
      String(r.retransmissions),
    ]),
  );
  return `${main}\n\n${detail}`;
}

/**
 * voix started, 1002 registered by a SIPp with the port the UAS then
 * answers on, and the UAS (echoing RTP) running. `started` gets each
 * process as soon as it runs, so that the caller can stop it even if a
 * later part fails.
 */
async function startLab(dir: string, started: (child: ChildProcess) => void): Promise<Lab> {
  const voix = await startVoix(dir);
  started(voix.child);
  const remote = `127.0.0.1:${voix.port}`;
  const calleePort = await freePort();
  const [registerCommand, registerArgs] = onSippCore(
    sippArgs(remote, path.join(SCENARIOS, 'relay-uac-register.xml'), [
      '-s', '1002', '-au', '1002', '-ap', voix.passwords['1002'] ?? '', '-p', String(calleePort), '-mp', String(REGISTER_MEDIA_PORT), '-m', '1', '-timeout', '10s', '-timeout_error',
    ]),
  );
  const registration = spawnSync(registerCommand, registerArgs, { cwd: dir, stdio: 'ignore' });
  if (registration.status !== 0) throw new Error(`SIPp could not register 1002 (exit ${registration.status})`);
  const [uasCommand, uasArgs] = onSippCore(
    sippArgs(null, path.join(SCENARIOS, 'relay-uas-answer.xml'), ['-p', String(calleePort), '-mp', String(UAS_MEDIA_PORT), '-rtp_echo', '-trace_err', '-error_file', path.join(dir, 'uas-errors.log')]),
  );
  const uas = spawn(uasCommand, uasArgs, { cwd: dir, stdio: 'ignore' });
  killOnExit(uas);
  started(uas);
  for (let i = 0; i < 50 && !udpBound(calleePort); i++) await sleep(100);
  if (!udpBound(calleePort)) throw new Error('the SIPp UAS did not bind its port');
  return { dir, voix, uas };
}

interface Outcome {
  readonly rows: Row[];
  lastGood: number | null;
  /** Empty while every step has been good. */
  stoppedBecause: string;
}

/** The steps in turn, each run again while invalid (up to --retries more times); stops at the first step that is not good (unless --no-stop). */
async function runSteps(lab: Lab, outcome: Outcome): Promise<void> {
  for (const calls of callSteps) {
    let row: Row | null = null;
    for (let attempt = 1; attempt <= 1 + retries; attempt++) {
      row = await step(lab, calls, attempt);
      outcome.rows.push(row);
      process.stderr.write(`SIPp: ${calls} calls, try ${attempt}: ${row.verdict}${row.reasons.length > 0 ? ` (${row.reasons.join('; ')})` : ''}\n`);
      if (row.verdict !== 'invalid') break;
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

export async function main(): Promise<void> {
  if (!existsSync(path.join(ROOT, 'dist/server.js'))) throw new Error('build first: npm run build');
  if (spawnSync('sipp', ['-v']).error !== undefined) throw new Error('SIPp is needed (Debian: apt-get install sip-tester)');
  if (!captureAvailable()) throw new Error('dumpcap and root are needed (the figures come from a capture)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'voix-bench-relay-sipp-'));
  if (pinning) pin(process.pid, String(SIPP_CORE), true);
  const children: ChildProcess[] = [];
  const outcome: Outcome = { rows: [], lastGood: null, stoppedBecause: '' };
  try {
    const lab = await startLab(dir, (child) => children.push(child));
    await runSteps(lab, outcome);
  } finally {
    // The UAS first, then voix.
    for (const child of children.reverse()) await stopProcess(child);
    if (process.env.KEEP_PCAP === undefined) rmSync(dir, { recursive: true, force: true });
    else console.log('files in', dir);
  }
  printReport(outcome);
}

function printReport(outcome: Outcome): void {
  const sippVersion = (spawnSync('sipp', ['-v'], { encoding: 'utf8' }).stdout ?? '').match(/SIPp v[^\s,]+/)?.[0] ?? 'SIPp';
  console.log(`command: npm run bench:relay -- ${process.argv.slice(2).join(' ')}`.trimEnd());
  console.log(`machine: ${machineLine()}; ${sippVersion}`);
  console.log(`cores: ${pinning ? 'voix (node dist/server.js, all threads) on core 0; SIPp UAC, SIPp UAS, dumpcap and this process on core 1' : 'not pinned'}`);
  console.log(
    `workload: SIPp UAC → voix → SIPp UAS (-rtp_echo), UDP, digest MD5; per call one PCMU stream each way (UAC's play_pcap_audio, 172-byte RTP every 20 ms, and the UAS's echo of it); calls placed at ${rate}/s; ${workers} voix media thread(s); plain RTP (SIPp 3.6 has no SRTP)`,
  );
  console.log(`window: while every stream flows (last stream's first packet to first stream's last, ${TRIM_US / 1e6} s trimmed each end); voix CPU and memory over ${seconds} s once SIPp has all its calls up`);
  console.log(`capture: dumpcap on lo (voix RTP ports, the pcap's SSRC ${PCAP_SSRC.toString(16)} only), kernel timestamps; egress matched to ingress by relay leg (paired from the traffic), SSRC and sequence number`);
  console.log("loss %: entered voix, never left it; delay: egress − ingress; added jitter: RFC 3550 estimator over consecutive added delays (the criterion); jitter in/out: RFC 3550 of the streams entering/leaving voix (SIPp's burstiness included)");
  console.log('voix CPU: the whole process (SIP, media, helpers); CPU µs/pkt: per packet entering voix; CPU ms/s per call: per second of one call (two streams); RSS/call: resident memory with the calls up minus before the step; calls up: the fewest SIPp had up at the start and end of the measure; SIPp sent: packets entering voix per stream per second, over the 50 due; others: CPU of every other process (reaped children included)');
  console.log(
    `criterion: good when loss ≤ ${100 * MAX_LOSS}% and mean added jitter ≤ ${MAX_ADDED_JITTER_MS} ms with the load offered, else bad; always bad when voix fails at ≥ ${SATURATED_PERCENT}% of its core; invalid (run again, ${retries} more tries) when the load was not offered (not all calls up together, SIPp sent < ${100 * MIN_SEND_RATIO}% of the packets due), or when a bad step could be explained otherwise (SIPp at ≥ 90% of a core, other processes > ${noiseMaxPercent}% of a core); any step with capture drops is invalid`,
  );
  console.log('peer: none measured yet (Asterisk, rtpengine come with the benchmark harness)');
  console.log('');
  console.log(tables(outcome.rows));
  console.log('');
  console.log(`last good step (SIPp, plain RTP): ${outcome.lastGood === null ? 'none' : `${outcome.lastGood} calls`}; stopped ${outcome.stoppedBecause === '' ? 'after the last step: every step was good' : `at ${outcome.stoppedBecause}`}`);
}
