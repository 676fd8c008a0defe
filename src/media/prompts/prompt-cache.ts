/**
 * Converted prompts on disk, under `<data_dir>/prompts/`, so a restart or a
 * reload only converts what changed. An entry is three files named by its
 * key: `<key>.pcmu`, `<key>.pcma` (raw G.711, one byte per sample) and
 * `<key>.json` (samples, duration, level, source, engine versions).
 *
 * Keys are SHA-256 over what decides the audio: for text, the text, voice,
 * rate and engine versions; for a file, its content hash and the engine
 * versions (the content hash is remembered per path, size, mtime and ctime,
 * so an unchanged file is not read again at each reload).
 *
 * Each file is written to a temporary name, flushed and renamed; the sidecar
 * goes last and an entry counts only when its audio sizes match the sidecar,
 * so a crash mid-write leaves a miss, never a truncated prompt. Concurrent
 * loads of one key share one conversion. A cache that cannot be written
 * (read-only data_dir, disk full) costs speed, not correctness: the prompt
 * is still returned, with a warning.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { EngineVersions, PromptConverter } from './prompt-converter.js';
import type { EncodedPrompt } from './prompt-encoding.js';
import { PROMPT_SAMPLE_RATE } from './prompt-encoding.js';
import type { PromptError } from './prompt-error.js';
import { hashPromptFile, inspectPromptFile } from './prompt-file.js';
import type { PromptSource } from './prompt-source.js';
import { promptVoice, validatePromptSource } from './prompt-source.js';

const SIDECAR_FORMAT = 1;
const TEMPORARY_SUFFIX = '.tmp';

export interface CachedPrompt {
  readonly key: string;
  /** µ-law, one byte per sample, owning its ArrayBuffer (transferable to a worker on its own). */
  readonly pcmu: Buffer<ArrayBuffer>;
  /** A-law, same length and ownership as `pcmu`. */
  readonly pcma: Buffer<ArrayBuffer>;
  readonly samples: number;
  readonly durationMs: number;
  /** True when read from disk, false when converted by this call. */
  readonly fromCache: boolean;
}

export type PromptLoadResult =
  | { readonly ok: true; readonly prompt: CachedPrompt; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly error: PromptError };

export type PromptKeyResult =
  | { readonly ok: true; readonly key: string; readonly describe: SidecarSource; readonly engines: EngineVersions }
  | { readonly ok: false; readonly error: PromptError };

/** The source as the sidecar records it, for an operator browsing the cache. */
export type SidecarSource =
  | { readonly kind: 'text'; readonly text: string; readonly voice: string; readonly rate: number | null }
  | { readonly kind: 'file'; readonly path: string; readonly sha256: string };

export interface PromptSidecar {
  readonly format: number;
  readonly key: string;
  readonly samples: number;
  readonly sampleRate: number;
  readonly durationMs: number;
  readonly gainDb: number | null;
  readonly sourcePeakDbfs: number | null;
  readonly source: SidecarSource;
  readonly engines: EngineVersions;
  readonly createdAt: string;
}

export interface PromptCacheOptions {
  /** The cache directory, normally `<data_dir>/prompts`; created on first write. */
  readonly dir: string;
  readonly converter: PromptConverter;
  /** Milliseconds since the epoch, for the sidecar's createdAt and the temporary-file sweep. */
  readonly now?: () => number;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Engine versions in a fixed order, so the key does not depend on object key order. */
function canonicalEngines(versions: EngineVersions): [string, string][] {
  return Object.entries(versions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A Buffer that owns its whole ArrayBuffer, copying only when it does not. */
function standalone(buffer: Buffer): Buffer<ArrayBuffer> {
  const backing = buffer.buffer;
  if (backing instanceof ArrayBuffer && buffer.byteOffset === 0 && backing.byteLength === buffer.length) return buffer as Buffer<ArrayBuffer>;
  const copy = Buffer.alloc(buffer.length);
  buffer.copy(copy);
  return copy;
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

function isSidecar(value: unknown, key: string): value is PromptSidecar {
  if (typeof value !== 'object' || value === null) return false;
  const sidecar = value as Partial<PromptSidecar>;
  return sidecar.format === SIDECAR_FORMAT && sidecar.key === key && Number.isSafeInteger(sidecar.samples) && (sidecar.samples ?? -1) >= 0;
}

async function writeFileAtomically(file: string, data: Buffer | string): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}${TEMPORARY_SUFFIX}`);
  const handle = await open(temporary, 'wx', 0o644);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

export class PromptCache {
  readonly dir: string;
  private readonly converter: PromptConverter;
  private readonly now: () => number;
  private readonly inFlight = new Map<string, Promise<PromptLoadResult>>();
  /** path → the identity its hash was taken at, and that hash. */
  private readonly fileHashes = new Map<string, { identity: string; sha256: string }>();

  constructor(options: PromptCacheOptions) {
    this.dir = options.dir;
    this.converter = options.converter;
    this.now = options.now ?? Date.now;
  }

  /** The cache key of `source`; reads a file source's content when its identity changed. */
  async keyOf(source: PromptSource): Promise<PromptKeyResult> {
    const invalid = validatePromptSource(source);
    if (invalid !== null) return { ok: false, error: invalid };
    const engines = await this.converter.engineVersions(source.kind);
    if (!engines.ok) return engines;
    const versions = canonicalEngines(engines.versions);
    if (source.kind === 'text') {
      const describe: SidecarSource = { kind: 'text', text: source.text, voice: promptVoice(source), rate: source.rate ?? null };
      return { ok: true, key: sha256Hex(JSON.stringify(['text', describe.text, describe.voice, describe.rate, versions])), describe, engines: engines.versions };
    }
    const file = path.resolve(source.path);
    const content = await this.contentHash(file);
    if (!content.ok) return content;
    const describe: SidecarSource = { kind: 'file', path: file, sha256: content.sha256 };
    return { ok: true, key: sha256Hex(JSON.stringify(['file', content.sha256, versions])), describe, engines: engines.versions };
  }

  /** The prompt's audio, from the cache or converted (and then cached). Never throws for a bad source. */
  async load(source: PromptSource): Promise<PromptLoadResult> {
    const keyed = await this.keyOf(source);
    if (!keyed.ok) return keyed;
    const running = this.inFlight.get(keyed.key);
    if (running !== undefined) return running;
    const loading = this.loadEntry(keyed, source).finally(() => this.inFlight.delete(keyed.key));
    this.inFlight.set(keyed.key, loading);
    return loading;
  }

  /** The entry read back from disk, or null when absent or incomplete. */
  async read(key: string): Promise<CachedPrompt | null> {
    try {
      const sidecar: unknown = JSON.parse(await readFile(this.pathOf(key, 'json'), 'utf8'));
      if (!isSidecar(sidecar, key)) return null;
      const [pcmu, pcma] = await Promise.all([readFile(this.pathOf(key, 'pcmu')), readFile(this.pathOf(key, 'pcma'))]);
      if (pcmu.length !== sidecar.samples || pcma.length !== sidecar.samples) return null;
      return { key, pcmu: standalone(pcmu), pcma: standalone(pcma), samples: sidecar.samples, durationMs: (sidecar.samples * 1000) / PROMPT_SAMPLE_RATE, fromCache: true };
    } catch {
      return null;
    }
  }

  /** Deletes temporary files that a crash left behind, older than `olderThanMs`. Returns how many. */
  async removeStaleTemporaries(olderThanMs = 60 * 60 * 1000): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      if (!name.startsWith('.') || !name.endsWith(TEMPORARY_SUFFIX)) continue;
      const file = path.join(this.dir, name);
      try {
        if (this.now() - (await stat(file)).mtimeMs < olderThanMs) continue;
        await unlink(file);
        removed++;
      } catch {
        // Renamed or removed by a concurrent writer meanwhile: nothing to clean.
      }
    }
    return removed;
  }

  pathOf(key: string, extension: 'pcmu' | 'pcma' | 'json'): string {
    return path.join(this.dir, `${key}.${extension}`);
  }

  private async contentHash(file: string): Promise<{ ok: true; sha256: string } | { ok: false; error: PromptError }> {
    const inspected = await inspectPromptFile(file);
    if (!inspected.ok) return inspected;
    const known = this.fileHashes.get(file);
    if (known !== undefined && known.identity === inspected.identity) return { ok: true, sha256: known.sha256 };
    const hashed = await hashPromptFile(file);
    if (!hashed.ok) return hashed;
    this.fileHashes.set(file, { identity: inspected.identity, sha256: hashed.sha256 });
    return hashed;
  }

  private async loadEntry(keyed: Extract<PromptKeyResult, { ok: true }>, source: PromptSource): Promise<PromptLoadResult> {
    const { key, describe } = keyed;
    const cached = await this.read(key);
    if (cached !== null) return { ok: true, prompt: cached, warnings: [] };
    const converted = await this.converter.convert(source.kind === 'file' ? { kind: 'file', path: path.resolve(source.path) } : source);
    if (!converted.ok) return converted;
    const audio = converted.audio;
    const prompt: CachedPrompt = {
      key,
      pcmu: standalone(audio.pcmu),
      pcma: standalone(audio.pcma),
      samples: audio.samples,
      durationMs: audio.durationMs,
      fromCache: false,
    };
    const warnings: string[] = [];
    if (describe.kind === 'file' && !(await this.unchangedSince(describe))) {
      // The file changed while it was converted: the audio may not match the key's content.
      warnings.push(`prompt file ${describe.path} changed during its conversion: not cached, it will be converted again at the next reload`);
      return { ok: true, prompt, warnings };
    }
    try {
      await this.write(key, audio, describe, keyed.engines);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      warnings.push(`prompt cache ${this.dir} cannot be written, the prompt is converted but not kept (${detail})`);
    }
    return { ok: true, prompt, warnings };
  }

  private async unchangedSince(describe: Extract<SidecarSource, { kind: 'file' }>): Promise<boolean> {
    const inspected = await inspectPromptFile(describe.path);
    return inspected.ok && this.fileHashes.get(describe.path)?.identity === inspected.identity;
  }

  private async write(key: string, audio: EncodedPrompt, source: SidecarSource, engines: EngineVersions): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const sidecar: PromptSidecar = {
      format: SIDECAR_FORMAT,
      key,
      samples: audio.samples,
      sampleRate: PROMPT_SAMPLE_RATE,
      durationMs: audio.durationMs,
      gainDb: finiteOrNull(audio.gainDb),
      sourcePeakDbfs: finiteOrNull(audio.sourcePeakDbfs),
      source,
      engines,
      createdAt: new Date(this.now()).toISOString(),
    };
    await writeFileAtomically(this.pathOf(key, 'pcmu'), audio.pcmu);
    await writeFileAtomically(this.pathOf(key, 'pcma'), audio.pcma);
    // Last: the sidecar is what makes the entry visible to read().
    await writeFileAtomically(this.pathOf(key, 'json'), `${JSON.stringify(sidecar, null, 2)}\n`);
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
