/**
 * Relayed concurrent calls through the real server: SIPp UAC → server →
 * SIPp UAS, RTP at 20 ms, stepping the number of concurrent calls (the
 * calls issue's benchmark, plain RTP: Debian's SIPp 3.6 has no SRTP); the
 * server is voix, and Asterisk 22 in the same run with --servers
 * voix,asterisk.
 *
 *   npm run build && npm run bench:relay -- --sipp [--calls 100,200,300,400,500,600,800]
 *        [--servers voix[,asterisk]] [--json out.json]
 *        [--seconds 10] [--rate 47] [--workers 1] [--retries 1] [--noise-max 15] [--no-stop]
 *        [--no-pin]
 *
 * --servers (default voix): measured one after the other, each alone on
 * the server core with its own ramp (a server stops at its first step that
 * is not good), under the same SIPp, capture and criteria. Asterisk 22
 * (bench/peers/asterisk.ts: Debian unstable root file system, built with
 * mmdebstrap on first use) is configured as voix: PJSIP on UDP, users 1001
 * and 1002 with MD5 digest, PCMU only, media anchored (direct_media = no),
 * symmetric RTP, the same RTP port range, Dial(PJSIP/1002,30). With both
 * legs in PCMU and nothing in the way, it bridges the two RTP streams
 * natively in its RTP engine (packet to packet, one thread per channel),
 * and forwards SSRC, sequence numbers and timestamps unchanged (checked
 * from a capture), so the same matching applies; a server that rewrote
 * them would show as "nothing left the server" and fail. The report ends
 * with voix/Asterisk ratios: the highest good steps, and at the highest
 * step both were good at, CPU per packet and resident memory per call
 * (both whole processes).
 *
 * --json FILE: the raw data for an orchestrator: command, machine,
 * versions, settings, the report's header lines, every row (every try)
 * with its figures and verdict, each server's outcome, and the ratios
 * (voix / peer).
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
 * - the server's CPU (the whole process: SIP, media thread(s), helpers) over
 *   --seconds once SIPp says all the calls are up (its statistics file,
 *   CurrentCall), per packet relayed and per call; its busiest thread (the
 *   media worker); resident memory with all calls up minus before the
 *   step, per call (indicative: it includes the calls' SIP state and
 *   garbage not yet collected).
 *
 * A step is good when relay loss ≤ 0.1% and the mean added jitter ≤ 5 ms,
 * bad otherwise (stepping stops), and always bad when the server fails
 * with its core saturated (≥ 90%). Otherwise it is invalid (run again, then
 * stepping stops: inconclusive beyond) when a SIPp watchdog warned (its
 * error logs: SIPp fell behind its own schedule; the issue's rule), when
 * its load was not offered: not all calls
 * up together, or SIPp sent less than 99% of the packets its streams were
 * due; or when it is bad and something else could explain it: a SIPp
 * process used ≥ 90% of its core, other processes used more than
 * --noise-max % of a core, or dumpcap dropped packets.
 *
 * Cores: the server (all its threads) on core 0; both SIPp, dumpcap and
 * this process on core 1. SIPp plays each call's pcap from a thread of its
 * own and echoes from one thread: it runs out of core 1 before voix runs
 * out of core 0, and the table says so when it does.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rtpPcap } from '../test/e2e/harness/rtp.js';
import { asteriskVersion, ensureAsteriskRootfs, startAsterisk } from './peers/asterisk.js';
import { analyseRelayCapture, captureAvailable, startCapture, type Capture, type RelayTiming } from './relay-capture.js';
import { MachineLoad, freePort, hasTaskset, killOnExit, machineCores, machineLine, percentile, pin, pinnedTo, processCpuMs, processRssBytes, stopProcess, table, takeBenchLock, waitForQuiet } from './relay-machine.js';
import { builtVoix } from './voix-build.js';

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
/** The servers measured, one after the other, each with its own ramp. */
const SERVER_NAMES = ['voix', 'asterisk'] as const;
type ServerName = (typeof SERVER_NAMES)[number];
const serverNames = (option('servers') ?? 'voix').split(',').filter((n) => n !== '') as ServerName[];
/** Raw figures for an orchestrator (bench/all.ts). */
const jsonFile = option('json');
/** The server alone on one core; SIPp, dumpcap and this process on the other. */
const SERVER_CORE = 0;
const SIPP_CORE = 1;
const onServerCore = pinnedTo(SERVER_CORE, pinning);
const onSippCore = pinnedTo(SIPP_CORE, pinning);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A server under test as running: its SIP port, the process to measure, how to stop it. */
interface RunningServer {
  readonly port: number;
  /** The process whose CPU and memory are measured (all its threads). */
  readonly pid: number;
  readonly passwords: Readonly<Record<'1001' | '1002', string>>;
  stop(): Promise<void>;
}

/** A server the bench can measure: voix, or a peer configured equivalently. */
interface Server {
  readonly name: ServerName;
  readonly version: string;
  /** Starts it with users 1001 and 1002, media on 127.0.0.1 ports PORT_MIN–PORT_MAX, all its threads on the server core. */
  start(dir: string): Promise<RunningServer>;
}


const newPasswords = (): Record<'1001' | '1002', string> => ({ '1001': `bench-${randomBytes(6).toString('hex')}`, '1002': `bench-${randomBytes(6).toString('hex')}` });

/** voix as in production: node dist/server.js --config <generated yaml>, --workers media threads. */
const VOIX: Server = {
  name: 'voix',
  version: `voix ${builtVoix()}, Node ${process.version}`,
  async start(dir: string): Promise<RunningServer> {
    const port = await freePort();
    const passwords = newPasswords();
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
    const [command, args] = onServerCore([process.execPath, path.join(ROOT, 'dist/server.js'), '--config', path.join(dir, 'voix.yaml')]);
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
    return { port, pid: child.pid ?? 0, passwords, stop: () => stopProcess(child) };
  },
};

/**
 * Asterisk 22 (bench/peers/asterisk.ts), configured as voix: PJSIP on UDP
 * 127.0.0.1, users 1001 and 1002 with digest, PCMU only, media anchored
 * (direct_media = no), symmetric RTP, RTP ports in the same range; the
 * dialplan dials 1002 (Dial(PJSIP/1002,30), no options: nothing that would
 * keep it from bridging the two RTP streams natively in its RTP engine).
 * All its threads start on the server core (taskset).
 */
function asteriskServer(say: (line: string) => void): Server {
  const rootfs = ensureAsteriskRootfs(say);
  return {
    name: 'asterisk',
    version: asteriskVersion(rootfs),
    async start(): Promise<RunningServer> {
      const port = await freePort();
      const passwords = newPasswords();
      const asterisk = await startAsterisk({
        rootfs,
        sipPort: port,
        rtpStart: PORT_MIN,
        rtpEnd: PORT_MAX,
        users: passwords,
        dialplan: ['exten => 1002,1,Dial(PJSIP/1002,30)', ' same => n,Hangup()'],
        pin: pinning ? ['taskset', '-c', String(SERVER_CORE)] : [],
      });
      killOnExit(asterisk.child);
      const pid = asterisk.asteriskPid();
      if (pid === null) throw new Error('asterisk booted but its process was not found');
      return { port, pid, passwords, stop: () => asterisk.stop() };
    },
  };
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
  server: ServerName;
  calls: number;
  attempt: number;
  successful: number;
  failed: number;
  retransmissions: number;
  timing: RelayTiming;
  /** Packets per second entering the server in the window, both directions. */
  ppsIn: number;
  /** Calls SIPp had up both when the server's measure started and when it ended. */
  callsUp: number;
  loss: number;
  /** What entered the server in the window per stream, as a share of the 50 packets/s due: below 1, SIPp did not keep up. */
  sippSendRatio: number;
  serverCpuPercent: number;
  busiestThread: string;
  cpuUsPerPacket: number;
  rssPerCallKb: number;
  uacCpuPercent: number;
  uasCpuPercent: number;
  captureCpuPercent: number;
  captureDrops: number;
  othersPercent: number;
  busiestOther: string;
  /** SIPp watchdog warnings during the step (UAC and UAS error logs): SIPp fell behind, the step is invalid. */
  watchdog: number;
  verdict: Verdict;
  reasons: string[];
}

interface Lab {
  readonly name: ServerName;
  readonly dir: string;
  readonly server: RunningServer;
  readonly uas: ChildProcess;
  /** The UAS's error log (-trace_err), where SIPp writes its watchdog warnings. */
  readonly uasErrors: string;
}

/** SIPp's watchdog warnings in an error log so far. */
function watchdogWarnings(file: string): number {
  if (!existsSync(file)) return 0;
  return (readFileSync(file, 'utf8').match(/watchdog/gi) ?? []).length;
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
    sippArgs(`127.0.0.1:${lab.server.port}`, scenario, [
      '-s', '1002',
      '-au', '1001',
      '-ap', lab.server.passwords['1001'],
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
  readonly serverMs: number;
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
    name = `${tid === pid ? 'main' : now.name} ${((100 * ms) / wallMs).toFixed(0)}%`;
  }
  return name;
}

/** CPU and memory of the server, SIPp and dumpcap over `seconds`, and what the rest of the machine did meanwhile. */
async function measureWindow(lab: Lab, uac: Uac, capture: Capture): Promise<WindowUsage> {
  const serverPid = lab.server.pid;
  const load = new MachineLoad();
  const wall0 = performance.now();
  const server0 = processCpuMs(serverPid);
  const threads0 = threadCpu(serverPid);
  const uac0 = processCpuMs(uac.child.pid);
  const uas0 = processCpuMs(lab.uas.pid);
  const capture0 = processCpuMs(capture.pid);
  await sleep(seconds * 1000);
  const wallMs = performance.now() - wall0;
  const serverMs = processCpuMs(serverPid) - server0;
  const uacMs = processCpuMs(uac.child.pid) - uac0;
  const uasMs = processCpuMs(lab.uas.pid) - uas0;
  const captureMs = processCpuMs(capture.pid) - capture0;
  const others = load.others(new Set([serverPid, uac.child.pid ?? 0, lab.uas.pid ?? 0, capture.pid ?? 0, process.pid]));
  return {
    wallMs,
    serverMs,
    busiestThread: busiestThread(serverPid, threads0, wallMs),
    rssLoaded: processRssBytes(serverPid),
    uacMs,
    uasMs,
    captureMs,
    othersPercent: others.percent,
    busiestOther: others.busiest,
    callsUpAtEnd: currentCalls(uac.stats),
  };
}

/**
 * One step: SIPp's UAC places `calls` calls; once they are all up, the
 * server's CPU and memory are measured for `seconds`; when the calls have
 * ended, the capture of its RTP ports is analysed over the time they all
 * flowed.
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
  const rssBefore = processRssBytes(lab.server.pid);
  const watchdogBefore = watchdogWarnings(lab.uasErrors);
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
    server: lab.name,
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
    serverCpuPercent: (100 * usage.serverMs) / usage.wallMs,
    busiestThread: usage.busiestThread,
    cpuUsPerPacket: (1000 * usage.serverMs) / Math.max(1, ppsIn * (usage.wallMs / 1000)),
    rssPerCallKb: (usage.rssLoaded - rssBefore) / calls / 1024,
    uacCpuPercent: (100 * usage.uacMs) / usage.wallMs,
    uasCpuPercent: (100 * usage.uasMs) / usage.wallMs,
    captureCpuPercent: (100 * usage.captureMs) / usage.wallMs,
    captureDrops,
    othersPercent: usage.othersPercent,
    busiestOther: usage.busiestOther,
    watchdog: watchdogWarnings(path.join(lab.dir, `uac-${label}-errors.log`)) + watchdogWarnings(lab.uasErrors) - watchdogBefore,
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
  // The capture keeps the pcap's SSRC only and matches by SSRC and sequence number: a server that rewrote them would show here.
  else if (row.timing.egress === 0) bad.push(`nothing left ${row.server} with the SSRC and sequence numbers it received (does it rewrite them?)`);
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
  } else if (row.watchdog > 0) {
    // The issue's rule: SIPp fell behind its own schedule, whatever the server did.
    row.verdict = 'invalid';
    row.reasons = [`SIPp's watchdog warned ${row.watchdog} time(s)`, ...bad];
  } else if (bad.length > 0 && row.serverCpuPercent >= SATURATED_PERCENT) {
    // The server has its core to itself and uses all of it: it is the limit, whatever SIPp or the rest did.
    row.verdict = 'bad';
    row.reasons = [...bad, `${row.server} saturated (${row.serverCpuPercent.toFixed(0)}% of its core)`];
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

function tables(rows: readonly Row[]): string {
  const main = table(
    ['server', 'calls', 'try', 'calls up/ok', 'pkt/s in', 'loss %', 'added jitter ms', 'delay p50 µs', 'p99 µs', 'server CPU %', 'CPU µs/pkt', 'CPU ms/s per call', 'RSS/call KB', 'verdict'],
    rows.map((r) => [
      r.server,
      String(r.calls),
      String(r.attempt),
      `${r.callsUp}/${r.successful}`,
      r.ppsIn.toFixed(0),
      (100 * r.loss).toFixed(3),
      ms(r.timing.jitterAdded.meanMs),
      us(percentile(r.timing.delaysUs, 0.5)),
      us(percentile(r.timing.delaysUs, 0.99)),
      r.serverCpuPercent.toFixed(1),
      r.cpuUsPerPacket.toFixed(2),
      ((r.serverCpuPercent * 10) / r.calls).toFixed(2),
      r.rssPerCallKb.toFixed(0),
      `${r.verdict}${r.reasons.length > 0 ? `: ${r.reasons.join('; ')}` : ''}`,
    ]),
  );
  const detail = table(
    ['server', 'calls', 'try', 'relay loss', 'streams', 'window s', 'jitter in ms', 'jitter out ms', 'delay p99.9 µs', 'max µs', 'busiest server thread', 'SIPp sent %', 'UAC CPU %', 'UAS CPU %', 'watchdog', 'dumpcap CPU %', 'others %', 'capture drops', 'retrans'],
    rows.map((r) => [
      r.server,
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
      String(r.watchdog),
      r.captureCpuPercent.toFixed(0),
      `${r.othersPercent.toFixed(0)}${r.busiestOther === '' ? '' : ` (${r.busiestOther})`}`,
      String(r.captureDrops),
      String(r.retransmissions),
    ]),
  );
  return `${main}\n\n${detail}`;
}

/**
 * The server started, 1002 registered by a SIPp with the port the UAS then
 * answers on, and the UAS (echoing RTP) running. `started` gets each stop
 * function as soon as there is something to stop, so that the caller can
 * stop it even if a later part fails.
 */
async function startLab(server: Server, dir: string, started: (stop: () => Promise<void>) => void): Promise<Lab> {
  const running = await server.start(dir);
  started(() => running.stop());
  const remote = `127.0.0.1:${running.port}`;
  const calleePort = await freePort();
  const [registerCommand, registerArgs] = onSippCore(
    sippArgs(remote, path.join(SCENARIOS, 'relay-uac-register.xml'), [
      '-s', '1002', '-au', '1002', '-ap', running.passwords['1002'], '-p', String(calleePort), '-mp', String(REGISTER_MEDIA_PORT), '-m', '1', '-timeout', '10s', '-timeout_error',
    ]),
  );
  const registration = spawnSync(registerCommand, registerArgs, { cwd: dir, stdio: 'ignore' });
  if (registration.status !== 0) throw new Error(`SIPp could not register 1002 with ${server.name} (exit ${registration.status})`);
  const uasErrors = path.join(dir, 'uas-errors.log');
  const [uasCommand, uasArgs] = onSippCore(
    sippArgs(null, path.join(SCENARIOS, 'relay-uas-answer.xml'), ['-p', String(calleePort), '-mp', String(UAS_MEDIA_PORT), '-rtp_echo', '-trace_err', '-error_file', uasErrors]),
  );
  const uas = spawn(uasCommand, uasArgs, { cwd: dir, stdio: 'ignore' });
  killOnExit(uas);
  started(() => stopProcess(uas));
  for (let i = 0; i < 50 && !udpBound(calleePort); i++) await sleep(100);
  if (!udpBound(calleePort)) throw new Error('the SIPp UAS did not bind its port');
  return { name: server.name, dir, server: running, uas, uasErrors };
}

interface Outcome {
  readonly server: ServerName;
  readonly version: string;
  lastGood: number | null;
  /** Empty while every step has been good. */
  stoppedBecause: string;
}

/** The steps in turn, each run again while invalid (up to --retries more times); stops at the first step that is not good (unless --no-stop). */
async function runSteps(lab: Lab, rows: Row[], outcome: Outcome): Promise<void> {
  for (const calls of callSteps) {
    let row: Row | null = null;
    for (let attempt = 1; attempt <= 1 + retries; attempt++) {
      row = await step(lab, calls, attempt);
      rows.push(row);
      process.stderr.write(`${lab.name}: ${calls} calls, try ${attempt}: ${row.verdict}${row.reasons.length > 0 ? ` (${row.reasons.join('; ')})` : ''}\n`);
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
  const unknown = serverNames.filter((n) => !SERVER_NAMES.includes(n));
  if (unknown.length > 0 || serverNames.length === 0) throw new Error(`--servers: ${unknown.join(',') || '(none)'}: expected some of ${SERVER_NAMES.join(',')}`);
  if (serverNames.includes('voix') && !existsSync(path.join(ROOT, 'dist/server.js'))) throw new Error('build first: npm run build');
  if (spawnSync('sipp', ['-v']).error !== undefined) throw new Error('SIPp is needed (Debian: apt-get install sip-tester)');
  if (!captureAvailable()) throw new Error('dumpcap and root are needed (the figures come from a capture)');
  const say = (line: string): void => void process.stderr.write(`${line}\n`);
  await takeBenchLock('bench/relay-sipp.ts', say);
  const servers = serverNames.map((name) => (name === 'voix' ? VOIX : asteriskServer(say)));
  const root = mkdtempSync(path.join(os.tmpdir(), 'voix-bench-relay-sipp-'));
  if (pinning) pin(process.pid, String(SIPP_CORE), true);
  const rows: Row[] = [];
  const outcomes: Outcome[] = [];
  try {
    // One server at a time, alone on its core: each runs its whole ramp, then stops before the next starts.
    for (const server of servers) {
      const dir = mkdtempSync(path.join(root, `${server.name}-`));
      const stops: Array<() => Promise<void>> = [];
      const outcome: Outcome = { server: server.name, version: server.version, lastGood: null, stoppedBecause: '' };
      outcomes.push(outcome);
      try {
        const lab = await startLab(server, dir, (stop) => stops.push(stop));
        await runSteps(lab, rows, outcome);
      } finally {
        // The UAS first, then the server.
        for (const stop of stops.reverse()) await stop();
      }
    }
  } finally {
    if (process.env.KEEP_PCAP === undefined) rmSync(root, { recursive: true, force: true });
    else console.log('files in', root);
  }
  const ratios = peerRatios(rows, outcomes);
  printReport(rows, outcomes, ratios);
  if (jsonFile !== undefined) {
    writeFileSync(jsonFile, `${JSON.stringify(jsonReport(rows, outcomes, ratios), null, 2)}\n`);
    console.log(`raw data: ${jsonFile}`);
  }
}

/** The report's header lines, [label, text] (printed, and in the JSON). */
function describe(outcomes: readonly Outcome[]): Array<[string, string]> {
  const sippVersion = (spawnSync('sipp', ['-v'], { encoding: 'utf8' }).stdout ?? '').match(/SIPp v[^\s,]+/)?.[0] ?? 'SIPp';
  const names = outcomes.map((o) => o.server).join(', ');
  const lines: Array<[string, string]> = [];
  const add = (label: string, text: string): void => void lines.push([label, text]);
  add('command', `npm run bench:relay -- ${process.argv.slice(2).join(' ')}`.trimEnd());
  add('machine', `${machineLine()}; ${sippVersion}`);
  add('cores', pinning ? `the server under test (${names}, one after the other; all its threads) on core ${SERVER_CORE}; SIPp UAC, SIPp UAS, dumpcap and this process on core ${SIPP_CORE}` : 'not pinned');
  add(
    'workload',
    `SIPp UAC → server → SIPp UAS (-rtp_echo), UDP, digest MD5; per call one PCMU stream each way (UAC's play_pcap_audio, 172-byte RTP every 20 ms, and the UAS's echo of it); calls placed at ${rate}/s; ${workers} voix media thread(s); plain RTP (SIPp 3.6 has no SRTP)`,
  );
  add('window', `while every stream flows (last stream's first packet to first stream's last, ${TRIM_US / 1e6} s trimmed each end); server CPU and memory over ${seconds} s once SIPp has all its calls up`);
  add(
    'capture',
    `dumpcap on lo (the server's RTP ports ${PORT_MIN}-${PORT_MAX}, the pcap's SSRC ${PCAP_SSRC.toString(16)} only), kernel timestamps; egress matched to ingress by relay leg (paired from the traffic), SSRC and sequence number (both servers forward them unchanged: Asterisk bridges the two RTP streams natively, packet to packet, checked from a capture)`,
  );
  add('loss %', "entered the server, never left it; delay: egress − ingress; added jitter: RFC 3550 estimator over consecutive added delays (the criterion); jitter in/out: RFC 3550 of the streams entering/leaving the server (SIPp's burstiness included)");
  add(
    'server CPU',
    'the whole process (SIP, media, helpers; Asterisk: every thread); CPU µs/pkt: per packet entering the server; CPU ms/s per call: per second of one call (two streams); RSS/call: resident memory with the calls up minus before the step; calls up: the fewest SIPp had up at the start and end of the measure; SIPp sent: packets entering the server per stream per second, over the 50 due; others: CPU of every other process (reaped children included)',
  );
  add(
    'criterion',
    `good when loss ≤ ${100 * MAX_LOSS}% and mean added jitter ≤ ${MAX_ADDED_JITTER_MS} ms with the load offered, else bad; always bad when the server fails at ≥ ${SATURATED_PERCENT}% of its core; invalid (run again, ${retries} more tries) when SIPp's watchdog warned (UAC or UAS error log), when the load was not offered (not all calls up together, SIPp sent < ${100 * MIN_SEND_RATIO}% of the packets due), or when a bad step could be explained otherwise (SIPp at ≥ 90% of a core, other processes > ${noiseMaxPercent}% of a core); any step with capture drops is invalid`,
  );
  add(
    'peers',
    outcomes.some((o) => o.server === 'asterisk')
      ? 'Asterisk 22 (Debian unstable root file system, bench/peers/asterisk.ts): PJSIP UDP, same users and digest, PCMU only, direct_media = no (media anchored), rtp_symmetric, Dial(PJSIP/1002,30), same RTP port range, all its threads on the server core; measured in the same run, after voix'
      : 'none in this run (--servers voix,asterisk adds Asterisk 22)',
  );
  add('versions', outcomes.map((o) => `${o.server}: ${o.version}`).join('; '));
  return lines;
}

/** A server's last row at a step (its last try). */
function lastRow(rows: readonly Row[], server: ServerName, calls: number): Row | undefined {
  return rows.filter((r) => r.server === server && r.calls === calls).at(-1);
}

const isLowerBound = (o: Outcome): boolean => o.stoppedBecause === '' || o.stoppedBecause.includes('inconclusive');

/** voix / peer (above 1 for the highest good step: voix carries more; below 1 for CPU and memory: voix uses less). */
interface PeerRatio {
  readonly peer: ServerName;
  /** What it is compared with (the same shape as bench/relay.ts's JSON). */
  readonly voix: 'voix';
  readonly highestGoodStep: { readonly voix: number | null; readonly peer: number | null; readonly ratio: number | null; readonly voixLowerBound: boolean; readonly peerLowerBound: boolean };
  /** At the highest step both were good at (the last try of each). */
  readonly atCommonStep: {
    readonly calls: number;
    readonly cpuUsPerPacket: { readonly voix: number; readonly peer: number; readonly ratio: number };
    readonly rssKbPerCall: { readonly voix: number; readonly peer: number; readonly ratio: number };
  } | null;
}

function peerRatios(rows: readonly Row[], outcomes: readonly Outcome[]): PeerRatio[] {
  const voix = outcomes.find((o) => o.server === 'voix');
  if (voix === undefined) return [];
  return outcomes
    .filter((o) => o.server !== 'voix')
    .map((peer) => {
      const common = callSteps.filter((calls) => lastRow(rows, 'voix', calls)?.verdict === 'good' && lastRow(rows, peer.server, calls)?.verdict === 'good').at(-1);
      const pair = (f: (r: Row) => number): { voix: number; peer: number; ratio: number } => {
        const v = f(lastRow(rows, 'voix', common ?? 0) as Row);
        const p = f(lastRow(rows, peer.server, common ?? 0) as Row);
        return { voix: v, peer: p, ratio: v / p };
      };
      return {
        peer: peer.server,
        voix: 'voix' as const,
        highestGoodStep: {
          voix: voix.lastGood,
          peer: peer.lastGood,
          ratio: voix.lastGood !== null && peer.lastGood !== null ? voix.lastGood / peer.lastGood : null,
          voixLowerBound: isLowerBound(voix),
          peerLowerBound: isLowerBound(peer),
        },
        atCommonStep: common === undefined ? null : { calls: common, cpuUsPerPacket: pair((r) => r.cpuUsPerPacket), rssKbPerCall: pair((r) => r.rssPerCallKb) },
      };
    });
}

function printReport(rows: readonly Row[], outcomes: readonly Outcome[], ratios: readonly PeerRatio[]): void {
  for (const [label, text] of describe(outcomes)) console.log(`${label}: ${text}`);
  console.log('');
  console.log(tables(rows));
  console.log('');
  for (const o of outcomes) {
    console.log(`${o.server}, last good step (SIPp, plain RTP): ${o.lastGood === null ? 'none' : `${o.lastGood} calls`}; stopped ${o.stoppedBecause === '' ? 'after the last step: every step was good' : `at ${o.stoppedBecause}`}`);
  }
  for (const r of ratios) {
    const h = r.highestGoodStep;
    const c = r.atCommonStep;
    const bound = (value: number | null, lower: boolean): string => (value === null ? 'none' : `${lower ? '≥ ' : ''}${value}`);
    console.log(
      `voix / ${r.peer}: highest good step ${bound(h.voix, h.voixLowerBound)} / ${bound(h.peer, h.peerLowerBound)} = ${h.ratio === null ? 'n/a' : h.ratio.toFixed(2)}; ${
        c === null
          ? 'no step good for both'
          : `at ${c.calls} calls (highest step good for both): CPU per packet ${c.cpuUsPerPacket.voix.toFixed(2)} / ${c.cpuUsPerPacket.peer.toFixed(2)} µs = ${c.cpuUsPerPacket.ratio.toFixed(2)}, RSS per call ${c.rssKbPerCall.voix.toFixed(0)} / ${c.rssKbPerCall.peer.toFixed(0)} KB = ${c.rssKbPerCall.ratio.toFixed(2)}`
      }`,
    );
  }
}

const num = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** The raw data for an orchestrator: header lines, every row's figures and verdict, outcomes and ratios. */
function jsonReport(rows: readonly Row[], outcomes: readonly Outcome[], ratios: readonly PeerRatio[]): unknown {
  const jitter = (j: { streams: number; meanMs: number; maxMs: number }): unknown => ({ streams: j.streams, meanMs: num(j.meanMs), maxMs: num(j.maxMs) });
  return {
    bench: 'relay-sipp',
    mode: 'plain',
    date: new Date().toISOString(),
    command: `npm run bench:relay -- ${process.argv.slice(2).join(' ')}`.trimEnd(),
    machine: { line: machineLine(), cpu: os.cpus()[0]?.model ?? null, cores: machineCores, memoryBytes: os.totalmem(), kernel: os.release(), node: process.version },
    versions: Object.fromEntries(outcomes.map((o) => [o.server, o.version])),
    settings: {
      calls: callSteps,
      seconds,
      rate,
      workers,
      retries,
      noiseMaxPercent,
      pinning,
      serverCore: SERVER_CORE,
      sippCore: SIPP_CORE,
      criteria: { maxLoss: MAX_LOSS, maxAddedJitterMs: MAX_ADDED_JITTER_MS, minSendRatio: MIN_SEND_RATIO, saturatedPercent: SATURATED_PERCENT },
    },
    notes: Object.fromEntries(describe(outcomes)),
    rows: rows.map((r) => ({
      server: r.server,
      role: r.server === 'voix' ? 'voix' : 'peer',
      calls: r.calls,
      attempt: r.attempt,
      verdict: r.verdict,
      reasons: r.reasons,
      callsUp: r.callsUp,
      successful: num(r.successful),
      failed: num(r.failed),
      retransmissions: num(r.retransmissions),
      watchdog: r.watchdog,
      packetsPerSecondIn: num(r.ppsIn),
      loss: num(r.loss),
      relayLost: r.timing.unmatched,
      relayIngress: r.timing.ingress,
      streams: r.timing.ingressStreams,
      windowSeconds: r.timing.seconds,
      jitterAddedMs: jitter(r.timing.jitterAdded),
      jitterInMs: jitter(r.timing.jitterIn),
      jitterOutMs: jitter(r.timing.jitterOut),
      delayUs: {
        p50: num(percentile(r.timing.delaysUs, 0.5)),
        p99: num(percentile(r.timing.delaysUs, 0.99)),
        p999: num(percentile(r.timing.delaysUs, 0.999)),
        max: num(percentile(r.timing.delaysUs, 1)),
      },
      sippSendRatio: num(r.sippSendRatio),
      serverCpuPercent: num(r.serverCpuPercent),
      busiestThread: r.busiestThread,
      cpuUsPerPacket: num(r.cpuUsPerPacket),
      cpuMsPerSecondPerCall: num((r.serverCpuPercent * 10) / r.calls),
      rssKbPerCall: num(r.rssPerCallKb),
      uacCpuPercent: num(r.uacCpuPercent),
      uasCpuPercent: num(r.uasCpuPercent),
      captureCpuPercent: num(r.captureCpuPercent),
      captureDrops: num(r.captureDrops),
      othersPercent: num(r.othersPercent),
      busiestOther: r.busiestOther,
    })),
    outcomes,
    ratios,
  };
}
