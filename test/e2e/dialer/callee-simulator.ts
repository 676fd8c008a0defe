/**
 * The telephone network behind a SIP trunk, for the dialer's end-to-end
 * tests: a SIPp UAS (callee-simulator.xml, UDP on 127.0.0.1) where the
 * called number chooses what the called party does. Numbers are valid French
 * mobile numbers +336BBxxxxxx: BB picks the behaviour, xxxxxx tells the
 * contacts of a test apart. Every INVITE leaves a <log> line that
 * dialled() reads back while SIPp runs.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from '../harness/cleanup.js';
import { startSipp, type SippResult, type SippRun } from '../harness/sipp.js';
import { writeSpeechPcap, type AudioSegment } from './rtp-pcap.js';

const SCENARIO = fileURLToPath(new URL('./callee-simulator.xml', import.meta.url));
/** What the machine (70) and the person (80) say once they answer. */
const MACHINE_GREETING: readonly AudioSegment[] = [[false, 300], [true, 4000], [false, 500]];
const PERSON_ANSWER: readonly AudioSegment[] = [[false, 300], [true, 500], [false, 3000]];

export type CalleeBehaviour = 'answer' | 'busy' | 'no-answer' | 'fail' | 'opt-out' | 'congestion' | 'machine' | 'person' | 'press-1';

/** BB of +336BBxxxxxx, as callee-simulator.xml reads it. */
const BEHAVIOUR_DIGITS: Readonly<Record<CalleeBehaviour, string>> = {
  answer: '10',
  busy: '20',
  'no-answer': '30',
  fail: '40',
  'opt-out': '50',
  congestion: '60',
  machine: '70',
  person: '80',
  'press-1': '90',
};

/** The number the simulator treats with this behaviour: ('answer', 1) → +33610000001. */
export function calleeNumber(behaviour: CalleeBehaviour, index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > 999_999) {
    throw new RangeError(`callee index ${index}: expected an integer from 0 to 999999 (six digits of the number)`);
  }
  return `+336${BEHAVIOUR_DIGITS[behaviour]}${String(index).padStart(6, '0')}`;
}

export interface CalleeSimulatorOptions {
  /** Bound of the whole SIPp run (-timeout: SIPp fails when it is reached). Default 300 000 ms. */
  readonly timeoutMs?: number;
}

export interface CalleeSimulator extends SippRun {
  /** The UDP port on 127.0.0.1 that takes the trunk's INVITEs. */
  readonly port: number;
  /** Number → INVITEs received for it so far (new calls; retransmissions are not counted). */
  dialled(): Promise<Map<string, number>>;
}

/** Counts the `INVITE <number> call-id=<Call-ID>` lines of the scenario's <log> action. */
function countDialled(log: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const match of log.matchAll(/^INVITE (\S+) call-id=/gm)) {
    const number = match[1] ?? '';
    counts.set(number, (counts.get(number) ?? 0) + 1);
  }
  return counts;
}

/** Starts the simulator and returns once it takes calls; the harness stops it after the test. */
export async function startCalleeSimulator(options: CalleeSimulatorOptions = {}): Promise<CalleeSimulator> {
  const dir = await makeTempDir('callee-simulator');
  const logFile = join(dir, 'invites.log');
  const machinePcap = join(dir, 'machine-greeting.pcap');
  const personPcap = join(dir, 'person-answer.pcap');
  await writeSpeechPcap(machinePcap, MACHINE_GREETING);
  await writeSpeechPcap(personPcap, PERSON_ANSWER);
  const scenario = join(dir, 'callee-simulator.xml');
  await writeFile(scenario, (await readFile(SCENARIO, 'utf8')).replaceAll('{{MACHINE_PCAP}}', machinePcap).replaceAll('{{PERSON_PCAP}}', personPcap));
  const run = await startSipp({
    scenario,
    transport: 'udp',
    localAddress: '127.0.0.1',
    timeoutMs: options.timeoutMs ?? 300_000,
    // SIPp keeps the last -log_file it is given: this one, which dialled() can read while SIPp runs.
    extraArgs: ['-log_file', logFile],
    label: 'sipp callee simulator',
  });
  const readLog = (): Promise<string> => readFile(logFile, 'utf8');
  const withLog = async (ended: Promise<SippResult>): Promise<SippResult> => ({ ...(await ended), logs: await readLog() });
  return {
    ...run,
    port: run.localPort,
    dialled: async () => countDialled(await readLog()),
    result: (waitMs) => withLog(run.result(waitMs)),
    stop: () => withLog(run.stop()),
  };
}
