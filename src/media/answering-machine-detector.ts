/**
 * Answering-machine detection from the first seconds of what the called
 * party sends, by energy and silence (the heuristic of Asterisk's AMD()
 * application): a person answers with a short "Allô ?" then waits; a
 * voicemail greeting talks on, in many words, or starts after a long
 * silence.
 *
 * Per 20 ms of G.711 (any payload size), the mean absolute amplitude of the
 * decoded samples decides voice or silence. Then, in order:
 * - silence before any voice longer than `initialSilenceMs` → machine;
 * - voice since the first word longer than `greetingMs` → machine;
 * - more than `maxWords` words (voice runs of `minWordMs` at least,
 *   separated by `betweenWordsMs` of silence) → machine;
 * - silence of `afterGreetingSilenceMs` after some voice → human;
 * - nothing decided within `totalMs` → unsure (treated as a person).
 * One verdict, then the detector does nothing more. Per packet: a table
 * lookup per sample and a few additions, no allocation.
 */
import { ALAW_TO_LINEAR16, MULAW_TO_LINEAR16 } from './dtmf/g711-decode.js';

export type AmdVerdict = 'human' | 'machine' | 'unsure';

export type AmdReason = 'initial-silence' | 'long-greeting' | 'many-words' | 'silence-after-greeting' | 'too-long';

export interface AmdSettings {
  readonly initialSilenceMs: number;
  readonly greetingMs: number;
  readonly afterGreetingSilenceMs: number;
  readonly totalMs: number;
  readonly minWordMs: number;
  readonly betweenWordsMs: number;
  readonly maxWords: number;
  /** Mean absolute amplitude (16-bit linear) above which 20 ms are voice. */
  readonly silenceThreshold: number;
}

/** Asterisk's defaults (amd.conf), which call centres tune from. */
export const DEFAULT_AMD_SETTINGS: AmdSettings = {
  initialSilenceMs: 2500,
  greetingMs: 1500,
  afterGreetingSilenceMs: 800,
  totalMs: 5000,
  minWordMs: 100,
  betweenWordsMs: 50,
  maxWords: 3,
  silenceThreshold: 256,
};

export type AmdReport = (verdict: AmdVerdict, reason: AmdReason, afterMs: number) => void;

const SAMPLES_PER_FRAME = 160;

export class AnsweringMachineDetector {
  private decided = false;
  /** Analysed audio so far (ms). */
  private elapsedMs = 0;
  private frameSum = 0;
  private frameSamples = 0;
  private voiceSeen = false;
  private inWord = false;
  private voiceRunMs = 0;
  private silenceRunMs = 0;
  private greetingMs = 0;
  private words = 0;

  constructor(
    private readonly settings: AmdSettings,
    private readonly report: AmdReport,
  ) {}

  get done(): boolean {
    return this.decided;
  }

  processMulaw(payload: Uint8Array, offset: number, length: number): void {
    this.process(MULAW_TO_LINEAR16, payload, offset, length);
  }

  processAlaw(payload: Uint8Array, offset: number, length: number): void {
    this.process(ALAW_TO_LINEAR16, payload, offset, length);
  }

  private process(table: Readonly<Int16Array>, payload: Uint8Array, offset: number, length: number): void {
    if (this.decided) return;
    const end = offset + length;
    for (let i = offset; i < end; i++) {
      const sample = table[payload[i] ?? 0xff] ?? 0;
      this.frameSum += sample < 0 ? -sample : sample;
      if (++this.frameSamples === SAMPLES_PER_FRAME) {
        this.frame(this.frameSum / SAMPLES_PER_FRAME > this.settings.silenceThreshold);
        this.frameSum = 0;
        this.frameSamples = 0;
        if (this.decided) return;
      }
    }
  }

  private frame(voice: boolean): void {
    const s = this.settings;
    this.elapsedMs += 20;
    if (voice) {
      this.silenceRunMs = 0;
      this.voiceRunMs += 20;
      if (this.voiceSeen) this.greetingMs += 20;
      if (!this.inWord && this.voiceRunMs >= s.minWordMs) {
        this.inWord = true;
        if (!this.voiceSeen) {
          this.voiceSeen = true;
          this.greetingMs = this.voiceRunMs;
        }
        this.words++;
        if (this.words > s.maxWords) return this.decide('machine', 'many-words');
      }
      if (this.voiceSeen && this.greetingMs >= s.greetingMs) return this.decide('machine', 'long-greeting');
    } else {
      this.silenceRunMs += 20;
      if (this.silenceRunMs >= s.betweenWordsMs) {
        this.inWord = false;
        this.voiceRunMs = 0;
      }
      if (this.voiceSeen) this.greetingMs += 20;
      if (!this.voiceSeen && this.silenceRunMs >= s.initialSilenceMs) return this.decide('machine', 'initial-silence');
      if (this.voiceSeen && this.silenceRunMs >= s.afterGreetingSilenceMs) return this.decide('human', 'silence-after-greeting');
    }
    if (this.elapsedMs >= s.totalMs) this.decide('unsure', 'too-long');
  }

  private decide(verdict: AmdVerdict, reason: AmdReason): void {
    this.decided = true;
    this.report(verdict, reason, this.elapsedMs);
  }
}
