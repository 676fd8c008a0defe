/**
 * A configuration is only valid once its prompts are: this loads the file
 * (load.ts), then prepares every message and menu prompt (espeak-ng,
 * ffmpeg, cache in data_dir), and reports a prompt that cannot be prepared
 * as a configuration error at its key; the TLS certificate and key it
 * names are checked too (tls-files.ts). Used by `voix check`, at start and
 * at reload, so that a missing or unplayable file never reaches a caller.
 */
import { dirname, resolve } from 'node:path';
import { preparePrompts } from '../media/prompt-library.js';
import type { PreparedPrompt } from '../media/prompts/prompt-store.js';
import { PromptStore } from '../media/prompts/prompt-store.js';
import { loadConfigFile, locateInConfigFile } from './load.js';
import { checkTlsFiles } from './tls-files.js';
import type { ConfigIssue, ConfigResult, VoixConfig } from './types.js';

export type LoadedWithPrompts =
  | { readonly ok: true; readonly config: VoixConfig; readonly prompts: ReadonlyMap<string, PreparedPrompt>; readonly warnings: readonly ConfigIssue[] }
  | { readonly ok: false; readonly errors: readonly ConfigIssue[]; readonly warnings: readonly ConfigIssue[] };

export async function loadConfigWithPrompts(path: string): Promise<LoadedWithPrompts> {
  const loaded: ConfigResult = await loadConfigFile(path);
  if (!loaded.ok) return loaded;
  const tls = checkTlsFiles(loaded.config);
  const tlsWarnings = await locateInConfigFile(path, tls.warnings);
  if (tls.errors.length > 0) return { ok: false, errors: await locateInConfigFile(path, tls.errors), warnings: [...loaded.warnings, ...tlsWarnings] };
  const store = PromptStore.forDataDir(loaded.config.server.dataDir, { baseDir: dirname(resolve(path)) });
  const prepared = await preparePrompts(store, loaded.config);
  if (!prepared.ok) return { ok: false, errors: await locateInConfigFile(path, prepared.problems), warnings: [...loaded.warnings, ...tlsWarnings] };
  const cacheWarnings = prepared.warnings.map((message): ConfigIssue => ({ file: path, line: 0, column: 0, path: '', message: `prompt cache: ${message}` }));
  return { ok: true, config: loaded.config, prompts: prepared.prompts, warnings: [...loaded.warnings, ...tlsWarnings, ...cacheWarnings] };
}
