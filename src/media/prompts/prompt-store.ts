/**
 * Every prompt of a configuration, converted (or read from the cache) before
 * it is used: at start, at reload and by `voix check`. A prompt that cannot
 * be prepared is an error then, with its id, never a surprise in a call.
 *
 * The result is plain Buffers, each owning its ArrayBuffer, so the call core
 * can transfer them to the media workers (or copy them into shared memory).
 */
import os from 'node:os';
import path from 'node:path';
import { PromptCache } from './prompt-cache.js';
import type { PromptConverter } from './prompt-converter.js';
import { FfmpegPromptConverter } from './prompt-converter.js';
import type { PromptError } from './prompt-error.js';
import type { PromptSource } from './prompt-source.js';

export interface PreparedPrompt {
  /** µ-law (PCMU, payload type 0), 8 kHz, one byte per sample. */
  readonly pcmu: Buffer<ArrayBuffer>;
  /** A-law (PCMA, payload type 8), same length. */
  readonly pcma: Buffer<ArrayBuffer>;
  readonly durationMs: number;
}

/** A prompt that could not be prepared; the config layer maps `promptId` to file, line and key. */
export interface PromptStoreError extends PromptError {
  readonly promptId: string;
}

export type PreparePromptsResult =
  | {
      readonly ok: true;
      readonly prompts: ReadonlyMap<string, PreparedPrompt>;
      /** Cache trouble that cost time but not correctness; log them. */
      readonly warnings: readonly string[];
      /** How many were converted now, and how many came from the cache. */
      readonly converted: number;
      readonly fromCache: number;
    }
  | { readonly ok: false; readonly errors: readonly PromptStoreError[]; readonly warnings: readonly string[] };

export type PromptDefinitions = ReadonlyMap<string, PromptSource> | Readonly<Record<string, PromptSource>>;

export interface PromptStoreOptions {
  readonly cache: PromptCache;
  /** Relative file paths are resolved against it (the config file's directory); default the working directory. */
  readonly baseDir?: string;
  /**
   * Conversions run at once. Default: one core less than the machine has
   * (at least one), so a reload leaves a core to the calls in progress.
   */
  readonly concurrency?: number;
}

export interface PromptStoreForDataDirOptions {
  readonly baseDir?: string;
  readonly concurrency?: number;
  /** Default: ffmpeg and espeak-ng from PATH. */
  readonly converter?: PromptConverter;
}

function defaultConcurrency(): number {
  return Math.max(1, os.availableParallelism() - 1);
}

export class PromptStore {
  private readonly cache: PromptCache;
  private readonly baseDir: string;
  private readonly concurrency: number;

  constructor(options: PromptStoreOptions) {
    this.cache = options.cache;
    this.baseDir = options.baseDir ?? process.cwd();
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? defaultConcurrency()));
  }

  /** The store voix runs with: cache in `<dataDir>/prompts`. */
  static forDataDir(dataDir: string, options: PromptStoreForDataDirOptions = {}): PromptStore {
    const cache = new PromptCache({ dir: path.join(dataDir, 'prompts'), converter: options.converter ?? new FfmpegPromptConverter() });
    return new PromptStore({
      cache,
      ...(options.baseDir === undefined ? {} : { baseDir: options.baseDir }),
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    });
  }

  /**
   * Converts or loads every prompt. All of them are tried, so one run lists
   * every problem; the result is all the prompts or all the errors.
   */
  async prepare(definitions: PromptDefinitions): Promise<PreparePromptsResult> {
    const entries: [string, PromptSource][] = definitions instanceof Map ? [...definitions] : Object.entries(definitions);
    await this.cache.removeStaleTemporaries();

    const prompts = new Map<string, PreparedPrompt>();
    const errors: PromptStoreError[] = [];
    const warnings: string[] = [];
    // Two ids with the same source share one cache entry: hand each its own
    // buffers, or transferring one to a worker would detach the other.
    const handedOut = new Set<ArrayBuffer>();
    const own = (buffer: Buffer<ArrayBuffer>): Buffer<ArrayBuffer> => {
      if (!handedOut.has(buffer.buffer)) {
        handedOut.add(buffer.buffer);
        return buffer;
      }
      const copy = Buffer.alloc(buffer.length);
      buffer.copy(copy);
      return copy;
    };
    let converted = 0;
    let fromCache = 0;

    let next = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const entry = entries[next++];
        if (entry === undefined) return;
        const [promptId, source] = entry;
        const result = await this.cache.load(this.resolve(source)).catch((error: unknown) => ({
          ok: false as const,
          // A bug, not the operator's fault: still one prompt's error, not a failed reload.
          error: { reason: 'conversion-failed' as const, message: `unexpected error while preparing the prompt: ${error instanceof Error ? error.message : String(error)}` },
        }));
        if (!result.ok) {
          errors.push({ promptId, ...result.error });
          continue;
        }
        warnings.push(...result.warnings.map((warning) => `prompt ${promptId}: ${warning}`));
        if (result.prompt.fromCache) fromCache++;
        else converted++;
        prompts.set(promptId, { pcmu: own(result.prompt.pcmu), pcma: own(result.prompt.pcma), durationMs: result.prompt.durationMs });
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, entries.length) }, worker));

    if (errors.length > 0) {
      const order = new Map(entries.map(([id], index) => [id, index]));
      errors.sort((a, b) => (order.get(a.promptId) ?? 0) - (order.get(b.promptId) ?? 0));
      return { ok: false, errors, warnings };
    }
    // Keep the configuration's order, whatever order the conversions finished in.
    const ordered = new Map<string, PreparedPrompt>();
    for (const [id] of entries) {
      const prompt = prompts.get(id);
      if (prompt !== undefined) ordered.set(id, prompt);
    }
    return { ok: true, prompts: ordered, warnings, converted, fromCache };
  }

  private resolve(source: PromptSource): PromptSource {
    return source.kind === 'file' ? { kind: 'file', path: path.resolve(this.baseDir, source.path) } : source;
  }
}
