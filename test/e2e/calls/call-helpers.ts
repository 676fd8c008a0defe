/**
 * What the call cases share: voix started with its own RTP port range, phones
 * whose microphone is a tone and which record what they hear, reading the
 * last CDR as an operator does (`voix calls --recent 1`), measuring a
 * recording, and the check that ends every case: no call left in voix and
 * no RTP relay socket left in its process.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { dominantFrequency, audibleSamples, readWav, writeToneWav, type SpectrumPeak } from '../harness/audio.js';
import {
  getFreePortRange,
  makeTempDir,
  recordingsIn,
  startBaresip,
  startVoix,
  traceStatus,
  type Baresip,
  type BaresipAccount,
  type BaresipOptions,
  type StartVoixOptions,
  type TracedSipMessage,
  type VoixServer,
} from '../harness/index.js';
import { udpSocketsInRange, waitForNoUdpSocketsInRange, type PortRange } from '../harness/media-sockets.js';

/** Tones of the two phones: different enough to tell apart, both well inside G.711's band. */
export const TONE_A_HZ = 1000;
export const TONE_B_HZ = 440;

/** Ports of voix's RTP relay in a case: 40 ports, 10 relays of 4 ports; a free block, so a capture filter on it sees only voix's media. */
const MEDIA_PORTS = 40;

export interface CallLab {
  readonly voix: VoixServer;
  readonly media: PortRange;
  /** A temp dir for the case's files (tones, recordings, scenarios). */
  readonly dir: string;
}

/** Starts voix with a free RTP port range of its own (media.port_min/max) and the given overrides. */
export async function startCallLab(options: StartVoixOptions = {}): Promise<CallLab> {
  const base = await getFreePortRange(MEDIA_PORTS);
  const media = { portMin: base, portMax: base + MEDIA_PORTS - 1 };
  const config = { ...(options.config ?? {}) };
  const mediaOverrides = (config['media'] ?? {}) as Record<string, unknown>;
  const voix = await startVoix({
    ...options,
    config: { ...config, media: { port_min: media.portMin, port_max: media.portMax, ...mediaOverrides } },
  });
  return { voix, media, dir: await makeTempDir('call') };
}

export interface TonePhone {
  readonly phone: Baresip;
  /** Where sndfile writes what the phone sent and heard (see recordingsIn()). */
  readonly recordDir: string;
  readonly toneHz: number;
}

/**
 * A baresip whose microphone is a WAV tone (aufile; 20 s, longer than any
 * call here) and which records what it sends and hears; waits for its
 * registration to succeed.
 */
export async function startTonePhone(
  lab: CallLab,
  account: BaresipAccount,
  toneHz: number,
  options: Omit<BaresipOptions, 'account' | 'audioSource' | 'recordDir'> = {},
): Promise<TonePhone> {
  const tone = await writeToneWav(join(lab.dir, `tone-${account.user}-${toneHz}.wav`), { frequencyHz: toneHz, seconds: 20 });
  const recordDir = join(lab.dir, `recordings-${account.user}`);
  await mkdir(recordDir, { recursive: true });
  const phone = await startBaresip({ ...options, account, audioSource: `aufile,${tone}`, recordDir });
  const registration = await phone.waitForRegistration(10_000);
  expect(registration, `registration of ${account.user}`).toMatchObject({ ok: true, status: '200 OK' });
  return { phone, recordDir, toneHz };
}

/** Dials `sip:<extension>@<voix>` from a baresip; resolves once baresip accepted the command. */
export async function dial(phone: Baresip, voix: VoixServer, extension: string, transport: 'udp' | 'tcp' | 'tls' = 'udp', host = '127.0.0.1'): Promise<void> {
  const uri = `sip:${extension}@${host}:${voix.ports[transport]}${transport === 'udp' ? '' : `;transport=${transport}`}`;
  const response = await phone.command('dial', uri);
  expect(response.ok, `dial ${uri}: ${response.data}`).toBe(true);
}

export interface DialOptions {
  /** Transport of the Request-URI (and of the caller's account); default udp. */
  readonly transport?: 'udp' | 'tcp' | 'tls';
  /** Host of the Request-URI; default 127.0.0.1. */
  readonly host?: string;
}

/** A caller dials, the callee's phone rings and answers; resolves when both phones say the call is established. */
export async function establishCall(caller: Baresip, callee: Baresip, voix: VoixServer, extension: string, options: DialOptions = {}): Promise<void> {
  const callerSince = caller.mark();
  const calleeSince = callee.mark();
  await dial(caller, voix, extension, options.transport ?? 'udp', options.host ?? '127.0.0.1');
  await callee.waitForEvent((e) => e.type === 'CALL_INCOMING', 10_000, calleeSince);
  const accepted = await callee.command('accept');
  expect(accepted.ok, `accept: ${accepted.data}`).toBe(true);
  await callee.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10_000, calleeSince);
  await caller.waitForEvent((e) => e.type === 'CALL_ESTABLISHED', 10_000, callerSince);
}

/** Lets audio flow for a while: the assertion is about the audio heard in that time, not a synchronisation. */
export function letAudioFlow(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The dominant frequency of what a phone heard during its (only or last) call, silence before the answer left out. */
export async function heardTone(recordDir: string, which: 'last' | number = 'last'): Promise<SpectrumPeak & { seconds: number }> {
  const recordings = await recordingsIn(recordDir);
  const recording = which === 'last' ? recordings[recordings.length - 1] : recordings[which];
  if (recording === undefined) throw new Error(`no sndfile recording in ${recordDir}`);
  const audio = await readWav(recording.heard);
  const audible = audibleSamples(audio);
  return { ...dominantFrequency(audible, audio.sampleRate), seconds: audible.length / audio.sampleRate };
}

/** Asserts that a phone heard a tone at `frequencyHz` (±20 Hz), clean (most of the power at that frequency), for at least `minSeconds`. */
export async function expectHeardTone(recordDir: string, frequencyHz: number, minSeconds: number, label: string): Promise<void> {
  const heard = await heardTone(recordDir);
  expect(heard.seconds, `${label}: seconds of audible sound`).toBeGreaterThanOrEqual(minSeconds);
  expect(Math.abs(heard.frequencyHz - frequencyHz), `${label}: dominant frequency ${heard.frequencyHz} Hz, expected ${frequencyHz} Hz`).toBeLessThanOrEqual(20);
  expect(heard.purity, `${label}: share of the power at ${heard.frequencyHz} Hz`).toBeGreaterThan(0.6);
}

export interface LegMedia {
  readonly received: number;
  readonly lost: number;
  readonly jitterMs: number;
}

/** One row of `voix calls --recent N`, as an operator reads it. */
export interface RecentCall {
  readonly caller: string;
  readonly callee: string;
  readonly status: number | null;
  readonly cause: string;
  readonly by: string;
  readonly media: { readonly caller: LegMedia; readonly callee: LegMedia } | null;
  readonly line: string;
}

const MEDIA_COLUMN = /caller rx (\d+) lost (-?\d+) jitter ([\d.]+)ms \/ callee rx (\d+) lost (-?\d+) jitter ([\d.]+)ms/;

export function parseRecentCalls(stdout: string): RecentCall[] {
  const lines = stdout.split('\n');
  const calls: RecentCall[] = [];
  for (const line of lines.slice(1)) {
    const cells = line.trim().split(/\s{2,}/);
    if (cells.length < 8 || !/^\d{4}-\d{2}-\d{2}T/.test(cells[0] ?? '')) continue;
    const media = MEDIA_COLUMN.exec(line);
    calls.push({
      caller: cells[1] ?? '',
      callee: cells[2] ?? '',
      status: cells[3] === '-' ? null : Number(cells[3]),
      cause: cells[4] ?? '',
      by: cells[5] ?? '',
      media:
        media === null
          ? null
          : {
              caller: { received: Number(media[1]), lost: Number(media[2]), jitterMs: Number(media[3]) },
              callee: { received: Number(media[4]), lost: Number(media[5]), jitterMs: Number(media[6]) },
            },
      line,
    });
  }
  return calls;
}

/** The last call's CDR through the CLI (`voix calls --recent 1`). */
export async function lastCall(voix: VoixServer): Promise<RecentCall> {
  const result = await voix.cli(['calls', '--recent', '1']);
  expect(result.code, `voix calls --recent 1: ${result.stderr}`).toBe(0);
  const [call] = parseRecentCalls(result.stdout);
  if (call === undefined) throw new Error(`voix calls --recent 1 listed no call:\n${result.stdout}`);
  return call;
}

/** Waits for voix's `call ended` log line (from `since`) and returns it. */
export function waitForCallEnded(voix: VoixServer, since = 0, timeoutMs = 10_000): ReturnType<VoixServer['waitForLog']> {
  return voix.waitForLog((log) => log.msg === 'call ended', timeoutMs, since);
}

/**
 * The end of every case: `voix calls` lists no active call, and the voix
 * process holds no UDP socket in its RTP range any more (read from the
 * kernel: /proc/<pid>/fd and /proc/<pid>/net/udp).
 */
export async function expectNoCallLeft(lab: CallLab): Promise<void> {
  const active = await lab.voix.cli(['calls']);
  expect(active.code, `voix calls: ${active.stderr}`).toBe(0);
  expect(active.stdout).toContain('0 active call(s)');
  await waitForNoUdpSocketsInRange(lab.voix.process.pid, lab.media, 5000);
  expect(await udpSocketsInRange(lab.voix.process.pid, lab.media)).toEqual([]);
}

/** The UDP sockets voix holds in its RTP range right now (during a call: the relay's). */
export function relaySockets(lab: CallLab): ReturnType<typeof udpSocketsInRange> {
  return udpSocketsInRange(lab.voix.process.pid, lab.media);
}

/** voix's relay ports of a call, from the SDP it sent each phone: leg a faces the caller, leg b the callee. */
export interface RelayPorts {
  readonly a: number;
  readonly b: number;
}

function sdpAudioPort(text: string): number | null {
  const match = /^m=audio (\d+) /m.exec(text);
  return match?.[1] === undefined ? null : Number(match[1]);
}

/** Anything with a SIP trace: baresip, or Linphone (whose trace also says the direction). */
export interface TracedPhone {
  sipMessages(): readonly (TracedSipMessage & { readonly direction?: 'sent' | 'received' })[];
}

/**
 * Reads voix's relay ports from the phones' SIP traces: the port in the SDP
 * of voix's 2xx to the caller's INVITE (the last one with SDP), and in the
 * INVITE voix sent to the callee.
 */
export function relayPortsFromTraces(caller: TracedPhone, callee: TracedPhone): RelayPorts {
  const received = (phone: TracedPhone) => phone.sipMessages().filter((m) => m.direction !== 'sent');
  const answer = [...received(caller)].reverse().find((m) => /^SIP\/2\.0 200 /.test(m.firstLine) && /CSeq: \d+ INVITE/.test(m.text) && m.text.includes('m=audio'));
  const offer = received(callee).find((m) => m.firstLine.startsWith('INVITE ') && m.text.includes('m=audio'));
  const a = answer === undefined ? null : sdpAudioPort(answer.text);
  const b = offer === undefined ? null : sdpAudioPort(offer.text);
  if (a === null || b === null) throw new Error(`relay ports not found in the SIP traces (caller's 200: ${String(a)}, callee's INVITE: ${String(b)})`);
  return { a, b };
}

/** The four one-way RTP flows of a relayed call, told apart by voix's relay ports. */
export interface CallFlows<T> {
  /** Caller → voix (leg a). */
  readonly callerToVoix: T | undefined;
  /** voix → callee (leg b). */
  readonly voixToCallee: T | undefined;
  /** Callee → voix (leg b). */
  readonly calleeToVoix: T | undefined;
  /** voix → caller (leg a). */
  readonly voixToCaller: T | undefined;
}

/** Sorts flows by direction; with several flows for one direction, the one with most packets wins. */
export function classifyFlows<T extends { sourcePort: number; destinationPort: number; packets: readonly unknown[] }>(flows: readonly T[], ports: RelayPorts): CallFlows<T> {
  const pick = (match: (flow: T) => boolean): T | undefined =>
    flows.filter(match).sort((x, y) => y.packets.length - x.packets.length)[0];
  return {
    callerToVoix: pick((f) => f.destinationPort === ports.a),
    voixToCallee: pick((f) => f.sourcePort === ports.b),
    calleeToVoix: pick((f) => f.destinationPort === ports.b),
    voixToCaller: pick((f) => f.sourcePort === ports.a),
  };
}

/** The last final response (≥ 300, digest challenges aside) to an INVITE in a baresip's SIP trace. */
export function finalInviteResponse(phone: Baresip): TracedSipMessage | undefined {
  return [...phone.sipMessages()].reverse().find((message) => {
    const status = traceStatus(message) ?? 0;
    return status >= 300 && status !== 401 && status !== 407 && /^CSeq: \d+ INVITE$/m.test(message.text.replace(/\r/g, ''));
  });
}
