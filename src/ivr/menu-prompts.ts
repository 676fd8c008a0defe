/**
 * The prompts a voice menu plays, named so the call core can find them
 * among the prompts prepared before any call (prompt-store.ts).
 *
 * A menu session asks for prompts as {@link MenuPromptRef} values; the call
 * core turns each into a playlist prompt id with {@link menuPromptId}, and
 * prepares every id of a configuration with {@link menuPromptDefinitions}.
 * Ids are `menu/<number>/<which>`: a message's prompt id is its bare number,
 * so the `menu/` prefix keeps the two apart.
 */
import type { MenuConfig, PromptSpec } from '../config/types.js';

export type MenuPromptRef =
  /** `menu/<number>/greeting`, or `menu/<number>/closed-greeting` when `closed`. */
  | { readonly kind: 'menu-greeting'; readonly menu: string; readonly closed: boolean }
  /** `menu/<number>/invalid`: played after an unknown key or a number that leads nowhere. */
  | { readonly kind: 'menu-invalid'; readonly menu: string }
  /** `menu/<number>/timeout`: played when no key came in time. */
  | { readonly kind: 'menu-timeout'; readonly menu: string };

export function menuPromptId(ref: MenuPromptRef): string {
  switch (ref.kind) {
    case 'menu-greeting':
      return `menu/${ref.menu}/${ref.closed ? 'closed-greeting' : 'greeting'}`;
    case 'menu-invalid':
      return `menu/${ref.menu}/invalid`;
    case 'menu-timeout':
      return `menu/${ref.menu}/timeout`;
  }
}

/**
 * Every prompt the menus may play, by id, in the order of the file; the
 * optional ones (closed greeting, invalid, timeout) only when configured,
 * which is also when a session asks for them. A PromptSpec is a valid
 * PromptSource, so the result can go to PromptStore.prepare as it is.
 */
export function menuPromptDefinitions(menus: readonly MenuConfig[]): Map<string, PromptSpec> {
  const definitions = new Map<string, PromptSpec>();
  for (const menu of menus) {
    definitions.set(menuPromptId({ kind: 'menu-greeting', menu: menu.number, closed: false }), menu.greeting);
    if (menu.closedGreeting !== null) definitions.set(menuPromptId({ kind: 'menu-greeting', menu: menu.number, closed: true }), menu.closedGreeting);
    if (menu.invalidPrompt !== null) definitions.set(menuPromptId({ kind: 'menu-invalid', menu: menu.number }), menu.invalidPrompt);
    if (menu.timeoutPrompt !== null) definitions.set(menuPromptId({ kind: 'menu-timeout', menu: menu.number }), menu.timeoutPrompt);
  }
  return definitions;
}
