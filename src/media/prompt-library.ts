/**
 * The prompts of a configuration, from the YAML to the media workers:
 * every message and menu prompt is prepared (prompt-store.ts: espeak-ng or
 * ffmpeg, cached in data_dir) before voix uses the configuration — at
 * `voix check`, at start and at reload — and loaded into the workers in
 * both G.711 laws. A prompt that cannot be prepared is a configuration
 * error with its key path, so it never surprises a caller.
 */
import type { MenuConfig, PromptSpec, VoixConfig } from '../config/types.js';
import { campaignPromptDefinitions } from '../dialer/campaign-prompts.js';
import { menuPromptDefinitions } from '../ivr/menu-prompts.js';
import type { MediaPlayout } from './playout/playout-protocol.js';
import type { PreparedPrompt, PromptStore } from './prompts/prompt-store.js';

type PromptedConfig = Pick<VoixConfig, 'messages' | 'menus' | 'campaigns'>;

/**
 * Every prompt the configuration can play, by prompt id: a message's is its
 * number, a menu's `menu/<number>/<which>`, a campaign's
 * `campaign/<name>/<which>` (a message naming contact fields is made per
 * contact when it is called).
 */
export function promptDefinitions(config: PromptedConfig): Map<string, PromptSpec> {
  const definitions = new Map<string, PromptSpec>();
  for (const message of config.messages) definitions.set(message.number, message.prompt);
  for (const [id, spec] of menuPromptDefinitions(config.menus)) definitions.set(id, spec);
  for (const [id, spec] of campaignPromptDefinitions(config.campaigns)) definitions.set(id, spec);
  return definitions;
}

const MENU_PROMPT_KEYS: Readonly<Record<string, string>> = {
  greeting: 'greeting',
  'closed-greeting': 'closed_greeting',
  invalid: 'invalid_prompt',
  timeout: 'timeout_prompt',
};

/** The key path of a prompt id in the configuration file, for error messages. */
export function promptKeyPath(config: PromptedConfig, promptId: string): (string | number)[] {
  const campaign = /^campaign\/(.+)\/(message|opt-out)$/.exec(promptId);
  if (campaign !== null) return ['campaigns', config.campaigns.findIndex((c) => c.name === campaign[1]), campaign[2] === 'message' ? 'message' : 'opt_out_confirmation'];
  const menu = /^menu\/(\d+)\/(.+)$/.exec(promptId);
  if (menu !== null) {
    const index = config.menus.findIndex((m: MenuConfig) => m.number === menu[1]);
    return ['menus', index, MENU_PROMPT_KEYS[menu[2] ?? ''] ?? 'greeting'];
  }
  return ['messages', config.messages.findIndex((m) => m.number === promptId), 'prompt'];
}

export interface PromptProblem {
  readonly promptId: string;
  readonly path: (string | number)[];
  readonly message: string;
}

export type PreparedPrompts = { readonly ok: true; readonly prompts: ReadonlyMap<string, PreparedPrompt>; readonly warnings: readonly string[] } | { readonly ok: false; readonly problems: readonly PromptProblem[] };

/** Converts (or reads from the cache) every prompt of `config`. */
export async function preparePrompts(store: PromptStore, config: PromptedConfig): Promise<PreparedPrompts> {
  const definitions = promptDefinitions(config);
  if (definitions.size === 0) return { ok: true, prompts: new Map(), warnings: [] };
  const result = await store.prepare(definitions);
  if (result.ok) return { ok: true, prompts: result.prompts, warnings: result.warnings };
  return { ok: false, problems: result.errors.map((e) => ({ promptId: e.promptId, path: promptKeyPath(config, e.promptId), message: e.message })) };
}

/** Makes prepared prompts playable in every media worker, in both laws; drops the ones a reload removed. */
export class PromptLibrary {
  private loaded = new Set<string>();

  constructor(private readonly engine: MediaPlayout) {}

  async load(prompts: ReadonlyMap<string, PreparedPrompt>): Promise<void> {
    for (const [id, prompt] of prompts) {
      await this.engine.loadPrompt(id, 'PCMU', prompt.pcmu);
      await this.engine.loadPrompt(id, 'PCMA', prompt.pcma);
    }
    for (const id of this.loaded) {
      if (prompts.has(id)) continue;
      await this.engine.unloadPrompt(id, 'PCMU');
      await this.engine.unloadPrompt(id, 'PCMA');
    }
    this.loaded = new Set(prompts.keys());
  }
}
