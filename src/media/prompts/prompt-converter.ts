/**
 * Turns a prompt source into G.711 µ-law and A-law at 8 kHz mono.
 *
 * Text: espeak-ng writes a WAV (`espeak-ng -b 1 -v <voice> [-s <rate>] -w
 * <tmp.wav> --stdin`, spawned with an argument array and the text on stdin,
 * so no shell sees it and a text starting with `-` is spoken, not parsed as
 * an option). Files: ffprobe (through fluent-ffmpeg) first checks that the
 * file is audio in a supported container. Then one ffmpeg run (fluent-ffmpeg)
 * resamples to 8 kHz mono 32-bit float, and voix normalises the level and
 * companding both laws itself (prompt-encoding.ts, g711.ts).
 *
 * Why float out of ffmpeg rather than `-f mulaw` / `-f alaw`: one decode
 * serves both laws (ffmpeg's direct route needs two outputs or two runs),
 * float keeps the overs of MP3/Vorbis decoders instead of clipping them
 * before the gain, and peak normalisation needs the samples anyway, which
 * ffmpeg could only do with a second analysis run. The sample count is exact,
 * so is the duration.
 *
 * Both tools run at a lower CPU priority (nice): a reload converts while
 * calls are up, and the media workers must not wait behind a conversion.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ffmpeg from 'fluent-ffmpeg';
import type { ToolInfo, ToolProbe } from './external-tools.js';
import { locateExecutable, probeTool } from './external-tools.js';
import type { EncodedPrompt } from './prompt-encoding.js';
import { encodeTelephonePrompt, PROMPT_SAMPLE_RATE } from './prompt-encoding.js';
import type { ExternalTool, PromptError } from './prompt-error.js';
import { lastLine, toolMissing } from './prompt-error.js';
import { fileAccessError, inspectPromptFile } from './prompt-file.js';
import type { PromptSource, TextPromptSource } from './prompt-source.js';
import { describePromptSource, promptVoice, validatePromptSource } from './prompt-source.js';

/**
 * Bumped whenever what voix does to the samples changes (level, encoding,
 * ffmpeg options): part of every cache key, so old renderings are not reused.
 */
export const PROMPT_PIPELINE_VERSION = '1';

/** ffprobe `format_name` values voix takes, and how the operator knows them. */
export const SUPPORTED_PROMPT_FORMATS: Readonly<Record<string, string>> = {
  wav: 'WAV',
  mp3: 'MP3',
  ogg: 'OGG',
};

export type EngineVersions = Readonly<Record<string, string>>;
export type EngineVersionsResult = { readonly ok: true; readonly versions: EngineVersions } | { readonly ok: false; readonly error: PromptError };
export type ConversionResult = { readonly ok: true; readonly audio: EncodedPrompt } | { readonly ok: false; readonly error: PromptError };

/** The boundary the cache and the store depend on; tests put a fake behind it. */
export interface PromptConverter {
  /** What renders prompts of `kind`, with versions: part of the cache key. Fails when a tool is missing. */
  engineVersions(kind: PromptSource['kind']): Promise<EngineVersionsResult>;
  /** File sources must carry an absolute path. */
  convert(source: PromptSource): Promise<ConversionResult>;
}

export interface FfmpegPromptConverterOptions {
  /** Command name or path; default `ffmpeg`, `ffprobe`, `espeak-ng` from PATH. */
  readonly ffmpegCommand?: string;
  readonly ffprobeCommand?: string;
  readonly espeakCommand?: string;
  /** Where the per-conversion scratch directory goes; default os.tmpdir(). */
  readonly tempDir?: string;
  /** Default 10. */
  readonly niceness?: number;
  /** One tool run longer than this is killed; default 120 s. */
  readonly timeoutMs?: number;
}

type Step<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: PromptError };

const ENGINES_OF: Readonly<Record<PromptSource['kind'], readonly ExternalTool[]>> = {
  text: ['espeak-ng', 'ffmpeg'],
  file: ['ffmpeg', 'ffprobe'],
};

const STDERR_LIMIT = 64 * 1024;

function failed<T>(error: PromptError): Step<T> {
  return { ok: false, error };
}

function conversionFailed(what: string, detail: string): PromptError {
  return { reason: 'conversion-failed', message: `ffmpeg could not convert ${what}${detail === '' ? '' : `: ${detail}`}` };
}

/** fluent-ffmpeg appends the tool's stderr to its error message; keep the cause, not the banner. */
function toolFailureDetail(error: unknown, stderr?: string): string {
  const text = stderr !== undefined && stderr.trim() !== '' ? stderr : error instanceof Error ? error.message : String(error);
  return lastLine(text);
}

export class FfmpegPromptConverter implements PromptConverter {
  private readonly commands: Readonly<Record<ExternalTool, string>>;
  private readonly tempDir: string;
  private readonly niceness: number;
  private readonly timeoutMs: number;
  /**
   * One version probe per executable file: a reload only stats the tools, and
   * spawns `-version` again only when a package upgrade replaced one. A
   * failed probe is forgotten, so a tool installed meanwhile is found.
   */
  private readonly probes = new Map<ExternalTool, { readonly identity: string; readonly probe: Promise<ToolProbe> }>();

  constructor(options: FfmpegPromptConverterOptions = {}) {
    this.commands = {
      ffmpeg: options.ffmpegCommand ?? 'ffmpeg',
      ffprobe: options.ffprobeCommand ?? 'ffprobe',
      'espeak-ng': options.espeakCommand ?? 'espeak-ng',
    };
    this.tempDir = options.tempDir ?? os.tmpdir();
    this.niceness = options.niceness ?? 10;
    this.timeoutMs = options.timeoutMs ?? 120_000;
  }

  async engineVersions(kind: PromptSource['kind']): Promise<EngineVersionsResult> {
    const versions: Record<string, string> = { pipeline: PROMPT_PIPELINE_VERSION };
    for (const tool of ENGINES_OF[kind]) {
      const probe = await this.tool(tool);
      if (!probe.ok) return probe;
      versions[tool] = probe.value.version;
    }
    return { ok: true, versions };
  }

  async convert(source: PromptSource): Promise<ConversionResult> {
    const invalid = validatePromptSource(source);
    if (invalid !== null) return { ok: false, error: invalid };
    const ffmpegTool = await this.tool('ffmpeg');
    if (!ffmpegTool.ok) return ffmpegTool;
    let scratch: string;
    try {
      scratch = await mkdtemp(path.join(this.tempDir, 'voix-prompt-'));
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return { ok: false, error: { reason: 'conversion-failed', message: `no scratch directory for the conversion in ${this.tempDir}: ${detail}` } };
    }
    try {
      let input: string;
      if (source.kind === 'text') {
        const wav = await this.synthesize(source, path.join(scratch, 'speech.wav'));
        if (!wav.ok) return wav;
        input = wav.value;
      } else {
        const file = path.resolve(source.path);
        const checked = await this.checkAudioFile(file);
        if (checked !== null) return { ok: false, error: checked };
        input = file;
      }
      const samples = await this.decode(ffmpegTool.value, input, path.join(scratch, 'decoded.f32'), describePromptSource(source));
      if (!samples.ok) return samples;
      if (samples.value.length === 0) {
        return { ok: false, error: { reason: 'empty-audio', message: `${describePromptSource(source)} gives no audio at all` } };
      }
      return { ok: true, audio: encodeTelephonePrompt(samples.value) };
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  private async tool(tool: ExternalTool): Promise<Step<ToolInfo>> {
    const located = await locateExecutable(this.commands[tool]);
    if (located === null) return failed(toolMissing(tool, this.commands[tool]));
    let known = this.probes.get(tool);
    if (known === undefined || known.identity !== located.identity) {
      known = { identity: located.identity, probe: probeTool(tool, located.path) };
      this.probes.set(tool, known);
    }
    const result = await known.probe;
    if (!result.ok) {
      if (this.probes.get(tool) === known) this.probes.delete(tool);
      return result;
    }
    return { ok: true, value: result.info };
  }

  private async synthesize(source: TextPromptSource, wavPath: string): Promise<Step<string>> {
    const espeak = await this.tool('espeak-ng');
    if (!espeak.ok) return espeak;
    const voice = promptVoice(source);
    // -b 1: the text is UTF-8. No -m: `<` and `&` are read as text, not SSML.
    const args = ['-b', '1', '-v', voice];
    if (source.rate !== undefined) args.push('-s', String(source.rate));
    args.push('-w', wavPath, '--stdin');
    const run = await this.runEspeak(espeak.value.path, args, source.text);
    if (run.kind === 'spawn-error') return failed(toolMissing('espeak-ng', this.commands['espeak-ng'], run.detail));
    if (run.kind === 'timeout') return failed({ reason: 'synthesis-failed', message: `espeak-ng took more than ${this.timeoutMs / 1000} s on ${describePromptSource(source)}` });
    if (run.code !== 0) {
      if (/voice does not exist|not found/i.test(run.stderr)) {
        return failed({ reason: 'unknown-voice', message: `espeak-ng has no voice ${JSON.stringify(voice)}: \`espeak-ng --voices=fr\` lists the installed French voices` });
      }
      return failed({ reason: 'synthesis-failed', message: `espeak-ng failed on ${describePromptSource(source)} (exit ${run.code}): ${lastLine(run.stderr)}` });
    }
    try {
      const written = await stat(wavPath);
      if (written.size === 0) throw new Error('empty output');
    } catch {
      return failed({ reason: 'synthesis-failed', message: `espeak-ng wrote no audio for ${describePromptSource(source)}: ${lastLine(run.stderr) || 'no message'}` });
    }
    return { ok: true, value: wavPath };
  }

  private runEspeak(
    executable: string,
    args: readonly string[],
    text: string,
  ): Promise<{ kind: 'exit'; code: number; stderr: string } | { kind: 'spawn-error'; detail: string } | { kind: 'timeout' }> {
    return new Promise((resolve) => {
      const child = spawn(executable, args, { stdio: ['pipe', 'ignore', 'pipe'] });
      let settled = false;
      let stderr = '';
      const finish = (result: Parameters<typeof resolve>[0]): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        finish({ kind: 'timeout' });
      }, this.timeoutMs);
      if (child.pid !== undefined) {
        try {
          os.setPriority(child.pid, this.niceness);
        } catch {
          // The process may already be gone; priority is a courtesy, not a requirement.
        }
      }
      child.on('error', (error) => finish({ kind: 'spawn-error', detail: error.message }));
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        if (stderr.length < STDERR_LIMIT) stderr += chunk;
      });
      // espeak-ng may exit (unknown voice) before reading all of stdin.
      child.stdin.on('error', () => undefined);
      child.stdin.end(text, 'utf8');
      child.on('close', (code, signal) => finish({ kind: 'exit', code: code ?? (signal === null ? 0 : 128), stderr }));
    });
  }

  /** null when `file` is readable audio in a supported container. */
  private async checkAudioFile(file: string): Promise<PromptError | null> {
    const inspected = await inspectPromptFile(file);
    if (!inspected.ok) return inspected.error;
    const ffprobeTool = await this.tool('ffprobe');
    if (!ffprobeTool.ok) return ffprobeTool.error;
    const probed = await this.ffprobe(ffprobeTool.value, file);
    if (!probed.ok) return probed.error;
    const data = probed.value;
    const formats = (data.format.format_name ?? '').split(',').filter((name) => name !== '');
    const supported = Object.values(SUPPORTED_PROMPT_FORMATS).join(', ');
    if (!formats.some((name) => name in SUPPORTED_PROMPT_FORMATS)) {
      const detected = data.format.format_long_name ?? formats.join(',');
      return { reason: 'unsupported-format', message: `prompt file ${file} is ${detected}, not a supported format (${supported}): convert it, for example with ffmpeg -i ${path.basename(file)} ${path.parse(file).name}.wav` };
    }
    if (!data.streams.some((stream) => stream.codec_type === 'audio')) {
      return { reason: 'not-audio', message: `prompt file ${file} holds no audio stream` };
    }
    return null;
  }

  private ffprobe(tool: ToolInfo, file: string): Promise<Step<ffmpeg.FfprobeData>> {
    return new Promise((resolve) => {
      let settled = false;
      // fluent-ffmpeg keeps the binary paths in a module-wide cache: set them per call.
      ffmpeg.setFfprobePath(tool.path);
      // `file:` keeps ffmpeg from reading a path with a colon as a protocol (http:, concat:).
      ffmpeg.ffprobe(`file:${file}`, ['-v', 'error'], (error: unknown, data: ffmpeg.FfprobeData) => {
        if (settled) return;
        settled = true;
        if (error) {
          const detail = toolFailureDetail(error).replace(`file:${file}: `, '');
          if (/^(Cannot find ffprobe|spawn .*ENOENT)/.test(detail)) {
            resolve(failed(toolMissing('ffprobe', this.commands.ffprobe, detail)));
            return;
          }
          // Whatever ffprobe cannot open is not audio it can read (text renamed .wav, truncated header...).
          const supported = Object.values(SUPPORTED_PROMPT_FORMATS).join(', ');
          resolve(failed({ reason: 'not-audio', message: `prompt file ${file} is not an audio file ffmpeg can read (${supported} expected): ${detail}` }));
          return;
        }
        resolve({ ok: true, value: data });
      });
    });
  }

  /** ffmpeg: any input it reads → 8 kHz mono float, written to `output`, read back as samples. */
  private async decode(tool: ToolInfo, input: string, output: string, what: string): Promise<Step<Float32Array>> {
    const finished = await new Promise<Step<null>>((resolve) => {
      let settled = false;
      const settle = (result: Step<null>): void => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      ffmpeg.setFfmpegPath(tool.path);
      ffmpeg({ niceness: this.niceness, timeout: Math.ceil(this.timeoutMs / 1000), stdoutLines: 20 })
        .input(`file:${input}`)
        .inputOptions(['-nostdin', '-hide_banner', '-v', 'error'])
        .noVideo()
        .outputOptions(['-map', '0:a:0', '-sn', '-dn', '-threads', '1'])
        .audioChannels(1)
        .audioFrequency(PROMPT_SAMPLE_RATE)
        .audioCodec('pcm_f32le')
        .format('f32le')
        .output(`file:${output}`)
        .on('error', (error: unknown, _stdout: string | null, stderr: string | null) => {
          const detail = toolFailureDetail(error, stderr ?? undefined);
          if (/^(Cannot find ffmpeg|spawn .*ENOENT)/.test(detail)) settle(failed(toolMissing('ffmpeg', this.commands.ffmpeg, detail)));
          else settle(failed(conversionFailed(what, detail.replace(/file:/g, ''))));
        })
        .on('end', () => settle({ ok: true, value: null }))
        .run();
    });
    if (!finished.ok) return finished;
    let raw: Buffer;
    try {
      raw = await readFile(output);
    } catch (error) {
      return failed(conversionFailed(what, fileAccessError(output, error).message));
    }
    const samples = new Float32Array(Math.floor(raw.length / 4));
    for (let i = 0; i < samples.length; i++) samples[i] = raw.readFloatLE(i * 4);
    return { ok: true, value: samples };
  }
}
