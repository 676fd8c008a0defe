/**
 * A PromptConverter that spawns nothing: it makes a tone whose length comes
 * from the source, counts calls, can be held open (to test sharing and
 * concurrency) and can be told to fail.
 */
import type { ConversionResult, EngineVersions, EngineVersionsResult, PromptConverter } from '../../../../src/media/prompts/prompt-converter.js';
import { encodeTelephonePrompt } from '../../../../src/media/prompts/prompt-encoding.js';
import type { PromptError } from '../../../../src/media/prompts/prompt-error.js';
import type { PromptSource } from '../../../../src/media/prompts/prompt-source.js';

export class FakePromptConverter implements PromptConverter {
  readonly conversions: PromptSource[] = [];
  versions: Record<PromptSource['kind'], EngineVersions> = {
    text: { pipeline: '1', 'espeak-ng': '1.51', ffmpeg: '5.1' },
    file: { pipeline: '1', ffmpeg: '5.1', ffprobe: '5.1' },
  };
  /** When set, engineVersions fails with it (a tool is missing). */
  missingTool: PromptError | null = null;
  /** Failures by text or path. */
  readonly failures = new Map<string, PromptError>();
  /** Runs inside convert, before the audio is made (to change a file mid-conversion, say). */
  duringConversion: ((source: PromptSource) => Promise<void>) | null = null;
  inFlight = 0;
  maxInFlight = 0;
  private gate: Promise<void> | null = null;
  private openGate: (() => void) | null = null;

  /** Conversions wait until release() is called. */
  hold(): void {
    this.gate = new Promise((resolve) => {
      this.openGate = resolve;
    });
  }

  release(): void {
    this.openGate?.();
    this.gate = null;
    this.openGate = null;
  }

  async engineVersions(kind: PromptSource['kind']): Promise<EngineVersionsResult> {
    if (this.missingTool !== null) return { ok: false, error: this.missingTool };
    return { ok: true, versions: this.versions[kind] };
  }

  async convert(source: PromptSource): Promise<ConversionResult> {
    this.conversions.push(source);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.gate !== null) await this.gate;
      // Let other loads start while this one is "converting".
      await new Promise((resolve) => setImmediate(resolve));
      if (this.duringConversion !== null) await this.duringConversion(source);
      const failure = this.failures.get(source.kind === 'text' ? source.text : source.path);
      if (failure !== undefined) return { ok: false, error: failure };
      return { ok: true, audio: encodeTelephonePrompt(FakePromptConverter.toneFor(source)) };
    } finally {
      this.inFlight--;
    }
  }

  /** 100 ms of 400 Hz per character of the text or path, at half scale. */
  static toneFor(source: PromptSource): Float32Array {
    const length = (source.kind === 'text' ? source.text : source.path).length * 800;
    const samples = new Float32Array(length);
    for (let i = 0; i < length; i++) samples[i] = 0.5 * Math.sin((2 * Math.PI * 400 * i) / 8000);
    return samples;
  }
}
