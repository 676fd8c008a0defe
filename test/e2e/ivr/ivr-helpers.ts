/**
 * What the voice-menu cases share: reading voix's menu log lines (what it
 * played, when, and how each play ended) and measuring a phone's recording
 * in the windows those lines give.
 */
import { expect } from 'vitest';
import { decodeG711, signalPower, type PcmAudio } from '../harness/audio.js';
import type { Baresip, VoixLog, VoixServer } from '../harness/index.js';
import type { RtpFlow } from '../harness/rtp.js';

/** A log line's time in ms since the epoch (voix writes ISO times; the test machine's clock is the same). */
export function logTime(log: VoixLog): number {
  const time = Date.parse(String(log.time));
  if (Number.isNaN(time)) throw new Error(`log line without a time: ${JSON.stringify(log)}`);
  return time;
}

const samePrompts = (log: VoixLog, prompts: readonly string[]): boolean => JSON.stringify(log['prompts']) === JSON.stringify(prompts);

/** The first 'menu play' of exactly these prompts since `since`. */
export function waitForPlay(voix: VoixServer, prompts: readonly string[], since: number, timeoutMs = 10_000): Promise<VoixLog> {
  return voix.waitForLog((log) => log.msg === 'menu play' && samePrompts(log, prompts), timeoutMs, since);
}

/** The end of the first play of exactly these prompts since `since`, whatever ended it (its `reason`). */
export function waitForPlayEnded(voix: VoixServer, prompts: readonly string[], since: number, timeoutMs = 30_000): Promise<VoixLog> {
  return voix.waitForLog((log) => log.msg === 'menu play ended' && samePrompts(log, prompts), timeoutMs, since);
}

/** The menu lines since `since`, as [msg, fields] pairs that tests compare whole (times and call ids left out). */
export function menuEvents(logs: readonly VoixLog[], since: number): Array<[string, Record<string, unknown>]> {
  return logs
    .slice(since)
    .filter((log) => typeof log.msg === 'string' && (log.msg.startsWith('menu ') || log.msg === 'dtmf' || log.msg === 'announcement played'))
    .map((log) => [String(log.msg), Object.fromEntries(Object.entries(log).filter(([key]) => !CONTEXT_FIELDS.has(key)))]);
}

/** Fields every line of a call carries: left out so that a test compares what the menu did. */
const CONTEXT_FIELDS = new Set(['time', 'level', 'msg', 'callId', 'caller', 'callee', 'component', 'pid', 'hostname']);

/** Share of the 20 ms frames of `audio` in [fromSeconds, toSeconds) whose mean square exceeds `threshold` (-40 dBFS). */
export function loudShare(audio: PcmAudio, fromSeconds: number, toSeconds: number, threshold = 1e-4): number {
  const frame = Math.round(audio.sampleRate * 0.02);
  const start = Math.max(0, Math.floor(fromSeconds * audio.sampleRate));
  const end = Math.min(audio.samples.length, Math.floor(toSeconds * audio.sampleRate));
  let frames = 0;
  let loud = 0;
  for (let offset = start; offset + frame <= end; offset += frame) {
    frames++;
    if (signalPower(audio.samples.subarray(offset, offset + frame)) > threshold) loud++;
  }
  expect(frames, `frames in [${fromSeconds.toFixed(2)} s, ${toSeconds.toFixed(2)} s) of a ${(audio.samples.length / audio.sampleRate).toFixed(2)} s recording`).toBeGreaterThan(10);
  return loud / frames;
}

/** voix's RTP port for a baresip caller: the m=audio port of the 200 OK to its INVITE, from baresip's SIP trace. */
export function relayPortFor(phone: Baresip): number {
  const ok = [...phone.sipMessages()].reverse().find((m) => /^SIP\/2\.0 200 /.test(m.firstLine) && /^CSeq: \d+ INVITE\r?$/m.test(m.text) && m.text.includes('m=audio'));
  const port = Number(/^m=audio (\d+) /m.exec(ok?.text ?? '')?.[1]);
  expect(port, 'voix’s RTP port in its 200 OK').toBeGreaterThan(0);
  return port;
}

export interface SentAudio {
  /** G.711 packets voix sent in the window. */
  readonly packets: number;
  /** Share of them whose 20 ms of audio is louder than -40 dBFS (mean square above 1e-4). */
  readonly loudShare: number;
}

/** What voix sent from `port` between two times (ms since the epoch), from a capture: packet count and loudness. */
export function sentAudio(flows: readonly RtpFlow[], port: number, fromMs: number, toMs: number): SentAudio {
  const packets = flows
    .filter((flow) => flow.sourcePort === port)
    .flatMap((flow) => flow.packets)
    .filter((p) => (p.payloadType === 0 || p.payloadType === 8) && p.time * 1000 >= fromMs && p.time * 1000 < toMs);
  const loud = packets.filter((p) => signalPower(decodeG711([p.payload], p.payloadType === 8 ? 8 : 0)) > 1e-4).length;
  return { packets: packets.length, loudShare: packets.length === 0 ? 0 : loud / packets.length };
}
