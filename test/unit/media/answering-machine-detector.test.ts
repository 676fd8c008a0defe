/**
 * Answering-machine detection on synthetic G.711: a person's short answer
 * then silence, a long greeting, many short words, a long initial silence,
 * and audio that never settles. Times follow from the 20 ms frames.
 */
import { describe, expect, it } from 'vitest';
import { AnsweringMachineDetector, DEFAULT_AMD_SETTINGS, type AmdReason, type AmdVerdict } from '../../../src/media/answering-machine-detector.js';
import { linearToMulaw } from '../../../src/media/prompts/g711.js';

/** µ-law audio: [voice?, ms] segments; voice is a 400 Hz tone at about −12 dBFS, silence is digital zero with a little noise. */
function audio(segments: ReadonlyArray<readonly [boolean, number]>): Uint8Array {
  const samples: number[] = [];
  for (const [voice, ms] of segments) {
    for (let i = 0; i < ms * 8; i++) samples.push(voice ? Math.round(8000 * Math.sin((2 * Math.PI * 400 * samples.length) / 8000)) : ((i * 7919) % 61) - 30);
  }
  return Uint8Array.from(samples, linearToMulaw);
}

function detect(payload: Uint8Array, packetBytes = 160): { verdict: AmdVerdict; reason: AmdReason; afterMs: number } | null {
  let result: { verdict: AmdVerdict; reason: AmdReason; afterMs: number } | null = null;
  const detector = new AnsweringMachineDetector(DEFAULT_AMD_SETTINGS, (verdict, reason, afterMs) => {
    expect(result, 'one verdict only').toBeNull();
    result = { verdict, reason, afterMs };
  });
  for (let offset = 0; offset < payload.length; offset += packetBytes) detector.processMulaw(payload, offset, Math.min(packetBytes, payload.length - offset));
  return result;
}

describe('AnsweringMachineDetector', () => {
  it('a short "Allô ?" then silence is a person, once 800 ms of silence follow it', () => {
    expect(detect(audio([[false, 300], [true, 600], [false, 2000]]))).toEqual({ verdict: 'human', reason: 'silence-after-greeting', afterMs: 1700 });
  });

  it('a greeting that talks on for 1.5 s is a machine', () => {
    expect(detect(audio([[false, 200], [true, 4000]]))).toEqual({ verdict: 'machine', reason: 'long-greeting', afterMs: 1700 });
  });

  it('more than three words before any long pause is a machine', () => {
    const words = Array.from({ length: 6 }, (): Array<readonly [boolean, number]> => [[true, 150], [false, 150]]).flat();
    expect(detect(audio(words))).toEqual({ verdict: 'machine', reason: 'many-words', afterMs: 1000 });
  });

  it('2.5 s of silence before any voice is a machine (Asterisk’s INITIALSILENCE)', () => {
    expect(detect(audio([[false, 4000]]))).toEqual({ verdict: 'machine', reason: 'initial-silence', afterMs: 2500 });
  });

  it('clicks too short to be words for 5 s: unsure', () => {
    const clicks = Array.from({ length: 60 }, (): Array<readonly [boolean, number]> => [[true, 40], [false, 60]]).flat();
    expect(detect(audio(clicks))).toEqual({ verdict: 'unsure', reason: 'too-long', afterMs: 5000 });
  });

  it('does not depend on the packet size (30 ms packets, odd sizes)', () => {
    const call = audio([[false, 300], [true, 600], [false, 2000]]);
    expect(detect(call, 240)).toEqual(detect(call, 160));
    expect(detect(call, 97)).toEqual(detect(call, 160));
  });
});
