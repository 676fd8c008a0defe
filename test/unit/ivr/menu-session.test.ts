import { describe, expect, it } from 'vitest';
import type { MenuChoice, MenuConfig } from '../../../src/config/types.js';
import { menuPromptId, type MenuPromptRef } from '../../../src/ivr/menu-prompts.js';
import { DEFAULT_MAX_MENU_ENTRIES, MenuSession, type MenuActions, type MenuSessionOptions, type MenuTransferOrigin } from '../../../src/ivr/menu-session.js';
import type { DtmfDigit } from '../../../src/media/dtmf/dtmf-digit.js';
import { isOpen, parseTimeCondition } from '../../../src/rules/time-conditions.js';
import { FakeClock } from '../../../src/util/clock.js';

/** Records what the session asks, one readable line per action. */
class RecordingActions implements MenuActions {
  private lines: string[] = [];
  readonly transfers: { destination: string; reason: string; origin: MenuTransferOrigin }[] = [];
  readonly logs: { event: string; fields: Record<string, unknown> }[] = [];

  play(prompts: readonly MenuPromptRef[]): void {
    this.lines.push(`play ${prompts.map(menuPromptId).join(' + ')}`);
  }
  stopPlaying(): void {
    this.lines.push('stop');
  }
  transfer(destination: string, reason: string, origin: MenuTransferOrigin): void {
    this.transfers.push({ destination, reason, origin });
    this.lines.push(`transfer ${destination}`);
  }
  hangUp(reason: string): void {
    this.lines.push(`hangup: ${reason}`);
  }
  log(event: string, fields: Record<string, unknown>): void {
    this.logs.push({ event, fields });
  }

  /** The actions since the last call. */
  take(): string[] {
    const taken = this.lines;
    this.lines = [];
    return taken;
  }
}

type OptionSpec = 'repeat' | 'back' | 'hangup' | string;

function menu(number: string, fields: Partial<Omit<MenuConfig, 'options'>> & { options?: Record<string, OptionSpec> } = {}): MenuConfig {
  const options = new Map<string, MenuChoice>();
  for (const [key, value] of Object.entries(fields.options ?? {})) {
    options.set(key, value === 'repeat' || value === 'back' || value === 'hangup' ? { kind: value } : { kind: 'destination', number: value });
  }
  return {
    number,
    name: `menu ${number}`,
    greeting: { kind: 'text', text: `menu ${number}`, voice: 'fr' },
    closedGreeting: null,
    timeCondition: null,
    directDial: false,
    timeoutSeconds: 5,
    interDigitSeconds: 2,
    maxRetries: 2,
    invalidPrompt: { kind: 'text', text: 'invalid', voice: 'fr' },
    timeoutPrompt: { kind: 'text', text: 'timeout', voice: 'fr' },
    onFailure: null,
    permissionClass: 'internal',
    ...fields,
    options,
  };
}

interface Setup {
  readonly session: MenuSession;
  readonly clock: FakeClock;
  readonly actions: RecordingActions;
  /** Presses keys one after the other, with no time between them. */
  press(keys: string): void;
}

function setup(menus: readonly MenuConfig[], options: Partial<Omit<MenuSessionOptions, 'menus' | 'clock' | 'actions'>> & { clock?: FakeClock } = {}): Setup {
  const clock = options.clock ?? new FakeClock();
  const actions = new RecordingActions();
  const first = menus[0];
  if (first === undefined) throw new Error('no menu');
  const session = new MenuSession({
    menus: new Map(menus.map((m) => [m.number, m])),
    entryMenu: options.entryMenu ?? first.number,
    isOpen: options.isOpen ?? (() => true),
    directNumbers: options.directNumbers ?? new Set(),
    clock,
    actions,
    ...(options.maxMenuEntries !== undefined ? { maxMenuEntries: options.maxMenuEntries } : {}),
  });
  const press = (keys: string): void => {
    for (const key of keys) session.onDigit(key as DtmfDigit);
  };
  return { session, clock, actions, press };
}

const GREETING = (m: string): string => `play menu/${m}/greeting`;
const INVALID = (m: string): string => `play menu/${m}/invalid + menu/${m}/greeting`;
const TIMEOUT = (m: string): string => `play menu/${m}/timeout + menu/${m}/greeting`;

describe('MenuSession: greeting and key timeout', () => {
  it('plays the greeting on start and starts the key timeout only once it has ended', () => {
    const { session, clock, actions } = setup([menu('3000')]);

    session.start();
    expect(actions.take()).toEqual([GREETING('3000')]);

    // A long greeting: nothing times out while it plays.
    clock.advance(60_000);
    expect(actions.take()).toEqual([]);

    session.onPlaybackEnded();
    clock.advance(4_999);
    expect(actions.take()).toEqual([]);
    clock.advance(1);
    expect(actions.take()).toEqual([TIMEOUT('3000')]);
  });

  it('ignores a playback end that arrives while it already waits for a key', () => {
    const { session, clock, actions } = setup([menu('3000')]);
    session.start();
    session.onPlaybackEnded();
    clock.advance(3_000);

    session.onPlaybackEnded();
    clock.advance(2_000);

    expect(actions.take()).toEqual([GREETING('3000'), TIMEOUT('3000')]);
  });

  it('plays the closed greeting while the time condition is closed, and chooses again on each play', () => {
    // Tuesday 10 March 2026, 08:59 in Paris (UTC+1): the office opens at 09:00.
    const clock = new FakeClock(Date.UTC(2026, 2, 10, 7, 59));
    const parsed = parseTimeCondition({ weekly: { 'mon-fri': ['09:00-18:00'] }, holidays: 'none' });
    if (!parsed.ok) throw new Error('bad condition');
    const conditions = new Map([['office', parsed.condition]]);
    const { session, actions, press } = setup(
      [menu('3000', { timeCondition: 'office', closedGreeting: { kind: 'text', text: 'closed', voice: 'fr' }, options: { '9': 'repeat' } })],
      { clock, isOpen: (name) => isOpen(conditions.get(name)!, new Date(clock.now())) },
    );

    session.start();
    expect(actions.take()).toEqual(['play menu/3000/closed-greeting']);

    clock.advance(60_000);
    press('9');
    expect(actions.take()).toEqual(['stop', GREETING('3000')]);
  });

  it('plays the open greeting when the menu has no time condition, whatever isOpen says', () => {
    const { session, actions } = setup([menu('3000')], { isOpen: () => false });
    session.start();
    expect(actions.take()).toEqual([GREETING('3000')]);
  });
});

describe('MenuSession: options', () => {
  const main = menu('3000', { options: { '1': '101', '2': '600', '3': '8000', '4': '0612345678', '0': 'hangup', '9': 'repeat' }, permissionClass: 'national' });

  it('acts on a key during the greeting at once (barge-in): stops the greeting, then transfers', () => {
    const { session, actions, press } = setup([main]);
    session.start();
    actions.take();

    press('2');

    expect(actions.take()).toEqual(['stop', 'transfer 600']);
    expect(session.ended).toBe(true);
  });

  it('transfers to a user without stopping anything once the greeting has ended', () => {
    const { session, actions, press } = setup([main]);
    session.start();
    session.onPlaybackEnded();
    actions.take();

    press('1');

    expect(actions.take()).toEqual(['transfer 101']);
    expect(actions.transfers[0]).toEqual({ destination: '101', reason: 'option 1 of menu 3000', origin: { menu: '3000', permissionClass: 'national', via: 'option' } });
  });

  it('hands a message number (play a prompt, then hang up) and an outside number to the call core with the menu permission class', () => {
    for (const [key, destination] of [['3', '8000'], ['4', '0612345678']] as const) {
      const { session, actions, press } = setup([main]);
      session.start();
      press(key);
      expect(actions.take()).toEqual([GREETING('3000'), 'stop', `transfer ${destination}`]);
      expect(actions.transfers[0]?.origin.permissionClass).toBe('national');
    }
  });

  it('hangs up on a hangup option', () => {
    const { session, actions, press } = setup([main]);
    session.start();
    session.onPlaybackEnded();
    actions.take();

    press('0');

    expect(actions.take()).toEqual(['hangup: option 0 of menu 3000']);
    expect(session.ended).toBe(true);
  });

  it('replays the greeting on repeat and waits for the greeting to end again', () => {
    const { session, clock, actions, press } = setup([main]);
    session.start();
    session.onPlaybackEnded();
    clock.advance(4_000);

    press('9');
    clock.advance(4_000);
    expect(actions.take()).toEqual([GREETING('3000'), GREETING('3000')]);

    session.onPlaybackEnded();
    clock.advance(5_000);
    expect(actions.take()).toEqual([TIMEOUT('3000')]);
  });

  it('treats * as an ordinary key: invalid when unbound, its option when bound', () => {
    const unbound = setup([menu('3000', { options: { '1': '101' } })]);
    unbound.session.start();
    unbound.press('*');
    expect(unbound.actions.take()).toEqual([GREETING('3000'), 'stop', INVALID('3000')]);

    const bound = setup([menu('3000', { options: { '*': '101' } })]);
    bound.session.start();
    bound.press('*');
    expect(bound.actions.take()).toEqual([GREETING('3000'), 'stop', 'transfer 101']);
  });
});

describe('MenuSession: several levels', () => {
  const main = menu('3000', { options: { '1': '101', '2': '3100', '8': 'back' } });
  const sales = menu('3100', { options: { '1': '201', '2': '3200', '9': 'back' } });
  const export_ = menu('3200', { options: { '1': '301', '9': 'back' } });

  it('enters a sub-menu itself and goes back to the menu it came from', () => {
    const { session, actions, press } = setup([main, sales, export_]);
    session.start();

    press('2');
    expect(session.currentMenu).toBe('3100');
    press('2');
    expect(session.currentMenu).toBe('3200');
    press('9');
    expect(session.currentMenu).toBe('3100');
    press('9');
    expect(session.currentMenu).toBe('3000');

    expect(actions.take()).toEqual([GREETING('3000'), 'stop', GREETING('3100'), 'stop', GREETING('3200'), 'stop', GREETING('3100'), 'stop', GREETING('3000')]);
    expect(actions.logs.filter((l) => l.event === 'menu entered').map((l) => [l.fields['menu'], l.fields['via'], l.fields['depth']])).toEqual([
      ['3000', 'start', 1],
      ['3100', 'option', 2],
      ['3200', 'option', 3],
      ['3100', 'back', 2],
      ['3000', 'back', 1],
    ]);
  });

  it('replays the greeting on back at the top level', () => {
    const { session, actions, press } = setup([main, sales]);
    session.start();
    press('8');
    expect(actions.take()).toEqual([GREETING('3000'), 'stop', GREETING('3000')]);
    expect(session.currentMenu).toBe('3000');
  });

  it('transfers from a sub-menu with that sub-menu as origin', () => {
    const { session, actions, press } = setup([main, sales]);
    session.start();
    press('21');
    expect(actions.take()).toEqual([GREETING('3000'), 'stop', GREETING('3100'), 'stop', 'transfer 201']);
    expect(actions.transfers[0]?.origin.menu).toBe('3100');
  });

  it('returns to a menu already on the stack when its number is dialled, so back leads where the caller came from', () => {
    const direct = menu('3100', { directDial: true, options: { '9': 'back' } });
    const { session, actions, press } = setup([main, direct], { directNumbers: new Set(['3000', '3100']) });
    session.start();
    press('2');
    press('3000');
    expect(session.currentMenu).toBe('3000');
    actions.take();

    // 3000 is the top again: back replays its greeting instead of returning to 3100.
    press('8');
    expect(actions.take()).toEqual(['stop', GREETING('3000')]);
    expect(session.currentMenu).toBe('3000');
  });

  it('hangs up when one call enters more menus than the loop guard allows', () => {
    const { session, actions, press } = setup([main, sales]);
    expect(DEFAULT_MAX_MENU_ENTRIES).toBe(20);
    session.start(); // entry 1
    for (let i = 0; i < 9; i++) press('29'); // entries 2 to 19: into the sub-menu and back
    actions.take();

    press('2'); // entry 20, the last one allowed
    expect(session.ended).toBe(false);
    press('9');

    expect(actions.take()).toEqual(['stop', GREETING('3100'), 'stop', `hangup: menu loop: more than ${DEFAULT_MAX_MENU_ENTRIES} menus entered in one call`]);
    expect(session.ended).toBe(true);
  });

  it('guards against on_failure destinations that lead to each other', () => {
    const a = menu('3000', { maxRetries: 0, onFailure: '3100' });
    const b = menu('3100', { maxRetries: 0, onFailure: '3000' });
    const { session, clock, actions } = setup([a, b], { maxMenuEntries: 5 });
    session.start();
    for (let i = 0; i < 10 && !session.ended; i++) {
      session.onPlaybackEnded();
      clock.advance(5_000);
    }
    expect(actions.take()).toEqual([GREETING('3000'), GREETING('3100'), GREETING('3000'), GREETING('3100'), GREETING('3000'), 'hangup: menu loop: more than 5 menus entered in one call']);
  });
});

describe('MenuSession: mistakes and retries', () => {
  it('replays after each timeout and transfers to on_failure after max_retries are used up', () => {
    const { session, clock, actions } = setup([menu('3000', { maxRetries: 2, onFailure: '100' })]);
    session.start();

    session.onPlaybackEnded();
    clock.advance(5_000);
    session.onPlaybackEnded();
    clock.advance(5_000);
    session.onPlaybackEnded();
    clock.advance(5_000);

    // No timeout prompt before leaving: it would ask the caller to try again.
    expect(actions.take()).toEqual([GREETING('3000'), TIMEOUT('3000'), TIMEOUT('3000'), 'transfer 100']);
    expect(actions.transfers[0]).toEqual({ destination: '100', reason: 'no valid choice in menu 3000 after 3 mistakes', origin: { menu: '3000', permissionClass: 'internal', via: 'failure' } });
    expect(clock.pendingCount).toBe(0);
  });

  it('replays after each unknown key and hangs up when there is no on_failure', () => {
    const { session, actions, press } = setup([menu('3000', { maxRetries: 1, options: { '1': '101' } })]);
    session.start();

    press('7');
    press('5');

    expect(actions.take()).toEqual([GREETING('3000'), 'stop', INVALID('3000'), 'stop', 'hangup: no valid choice in menu 3000 after 2 mistakes']);
    expect(session.ended).toBe(true);
  });

  it('counts timeouts and unknown keys together, and replays the bare greeting when no prompt is configured', () => {
    const { session, clock, actions, press } = setup([menu('3000', { maxRetries: 1, invalidPrompt: null, timeoutPrompt: null })]);
    session.start();
    session.onPlaybackEnded();
    clock.advance(5_000);
    press('7');
    expect(actions.take()).toEqual([GREETING('3000'), GREETING('3000'), 'stop', 'hangup: no valid choice in menu 3000 after 2 mistakes']);
  });

  it('leaves at the first mistake with max_retries 0', () => {
    const { session, actions, press } = setup([menu('3000', { maxRetries: 0, onFailure: '100' })]);
    session.start();
    press('7');
    expect(actions.take()).toEqual([GREETING('3000'), 'stop', 'transfer 100']);
  });

  it('keeps the mistake count across repeat', () => {
    const { session, actions, press } = setup([menu('3000', { maxRetries: 1, options: { '9': 'repeat' } })]);
    session.start();
    press('7');
    press('9');
    press('7');
    expect(actions.take().at(-1)).toBe('hangup: no valid choice in menu 3000 after 2 mistakes');
  });

  it('counts mistakes afresh in each menu entered', () => {
    const main = menu('3000', { maxRetries: 1, options: { '2': '3100' } });
    const sub = menu('3100', { maxRetries: 1, options: { '9': 'back' } });
    const { session, actions, press } = setup([main, sub]);
    session.start();
    press('7'); // mistake 1 in 3000
    press('2');
    press('7'); // mistake 1 in 3100
    press('9');
    press('7'); // mistake 1 in 3000 again
    expect(session.ended).toBe(false);
    expect(actions.take().at(-1)).toBe(INVALID('3000'));
  });

  it('enters a menu given as on_failure', () => {
    const main = menu('3000', { maxRetries: 0, onFailure: '3900' });
    const operator = menu('3900', { options: { '9': 'back' } });
    const { session, actions, press } = setup([main, operator]);
    session.start();
    press('7');
    press('9');
    expect(actions.take()).toEqual([GREETING('3000'), 'stop', GREETING('3900'), 'stop', GREETING('3000')]);
  });
});

describe('MenuSession: direct dialling', () => {
  const numbers = new Set(['101', '102', '20', '200', '600', '3100']);
  const main = menu('3000', { directDial: true, options: { '1': '600', '9': 'repeat' } });
  const sub = menu('3100', { options: { '9': 'back' } });

  it('transfers as soon as the digits form a number that no longer number starts with', () => {
    const { session, actions, press } = setup([main, sub], { directNumbers: numbers });
    session.start();

    press('60');
    expect(actions.take()).toEqual([GREETING('3000'), 'stop']);
    press('0');

    expect(actions.take()).toEqual(['transfer 600']);
    expect(actions.transfers[0]).toEqual({ destination: '600', reason: 'dialled from menu 3000', origin: { menu: '3000', permissionClass: 'internal', via: 'direct-dial' } });
  });

  it('waits the inter-digit timeout when the digits form a number that a longer one starts with', () => {
    const { session, clock, actions, press } = setup([main], { directNumbers: numbers });
    session.start();
    session.onPlaybackEnded();
    actions.take();

    press('20');
    clock.advance(1_999);
    expect(actions.take()).toEqual([]);
    clock.advance(1);
    expect(actions.take()).toEqual(['transfer 20']);

    const longer = setup([main], { directNumbers: numbers });
    longer.session.start();
    longer.press('200');
    expect(longer.actions.take()).toEqual([GREETING('3000'), 'stop', 'transfer 200']);
  });

  it('restarts the inter-digit timeout at each digit and suspends the key timeout meanwhile', () => {
    const { session, clock, actions, press } = setup([main], { directNumbers: numbers });
    session.start();
    session.onPlaybackEnded();
    actions.take();

    press('2');
    clock.advance(1_500);
    press('0');
    clock.advance(1_500);
    expect(actions.take()).toEqual([]);
    clock.advance(500);
    expect(actions.take()).toEqual(['transfer 20']);
  });

  it('waits for more digits on a key that is both an option and the start of an extension, then acts as the option', () => {
    const { session, clock, actions, press } = setup([main], { directNumbers: numbers });
    session.start();

    press('1');
    expect(actions.take()).toEqual([GREETING('3000'), 'stop']);
    clock.advance(2_000);

    expect(actions.take()).toEqual(['transfer 600']);
    expect(actions.transfers[0]?.origin.via).toBe('option');
  });

  it('dials the extension when more digits follow an ambiguous key', () => {
    const { session, actions, press } = setup([main], { directNumbers: numbers });
    session.start();
    press('102');
    expect(actions.take()).toEqual([GREETING('3000'), 'stop', 'transfer 102']);
  });

  it('counts one mistake when the digits match nothing by the inter-digit timeout', () => {
    const { session, clock, actions, press } = setup([main], { directNumbers: numbers });
    session.start();

    // 10 starts 101 and 102; 109 is nobody. The caller may still be typing: no refusal at once.
    press('1099');
    expect(actions.take()).toEqual([GREETING('3000'), 'stop']);
    clock.advance(2_000);

    expect(actions.take()).toEqual([INVALID('3000')]);
    expect(actions.logs.find((l) => l.event === 'menu mistake')?.fields).toMatchObject({ kind: 'invalid', input: '1099', mistakes: 1 });
  });

  it('refuses at once a first digit that is no option and starts no number', () => {
    const { session, actions, press } = setup([main], { directNumbers: numbers });
    session.start();
    press('5');
    expect(actions.take()).toEqual([GREETING('3000'), 'stop', INVALID('3000')]);
  });

  it('ends the digits early on #', () => {
    const cases: [string, string][] = [
      ['20#', 'transfer 20'],
      ['1#', 'transfer 600'],
      ['10#', INVALID('3000')],
    ];
    for (const [keys, outcome] of cases) {
      const { session, actions, press } = setup([main], { directNumbers: numbers });
      session.start();
      press(keys);
      expect(actions.take(), keys).toEqual([GREETING('3000'), 'stop', outcome]);
    }
  });

  it('keeps a # option working when no digit is pending', () => {
    const { session, actions, press } = setup([menu('3000', { directDial: true, options: { '#': '101' } })], { directNumbers: numbers });
    session.start();
    press('#');
    expect(actions.take()).toEqual([GREETING('3000'), 'stop', 'transfer 101']);
  });

  it('drops pending digits on * and handles * as a fresh key', () => {
    const { session, actions, press } = setup([menu('3000', { directDial: true, options: { '*': 'hangup' } })], { directNumbers: numbers });
    session.start();
    press('10*');
    expect(actions.take()).toEqual([GREETING('3000'), 'stop', 'hangup: option * of menu 3000']);
  });

  it('enters a menu whose number is dialled', () => {
    const { session, actions, press } = setup([main, sub], { directNumbers: numbers });
    session.start();
    press('3100');
    expect(actions.take()).toEqual([GREETING('3000'), 'stop', GREETING('3100')]);
    expect(session.currentMenu).toBe('3100');
  });

  it('treats digits as plain keys in a menu without direct dialling', () => {
    const { session, actions, press } = setup([menu('3000', { directDial: false, options: { '1': '600' } })], { directNumbers: numbers });
    session.start();
    press('2');
    expect(actions.take()).toEqual([GREETING('3000'), 'stop', INVALID('3000')]);

    press('1');
    expect(actions.take()).toEqual(['stop', 'transfer 600']);
  });

  it('never dials a number outside the direct numbers', () => {
    const { session, clock, actions, press } = setup([main], { directNumbers: numbers });
    session.start();
    press('0');
    clock.advance(10_000);
    expect(actions.transfers).toEqual([]);
    expect(actions.take()).toEqual([GREETING('3000'), 'stop', INVALID('3000')]);
  });
});

describe('MenuSession: end of session', () => {
  const main = menu('3000', { directDial: true, options: { '1': '600' } });
  const numbers = new Set(['101']);

  it('fires no timer after stop(), whether it waits for a key or for digits', () => {
    for (const keys of ['', '1']) {
      const { session, clock, actions, press } = setup([main], { directNumbers: numbers });
      session.start();
      session.onPlaybackEnded();
      press(keys);
      actions.take();

      session.stop();

      expect(clock.pendingCount).toBe(0);
      clock.advance(60_000);
      press('1');
      session.onPlaybackEnded();
      clock.advance(60_000);
      expect(actions.take()).toEqual([]);
      expect(session.ended).toBe(true);
    }
  });

  it('acts no more once it has transferred', () => {
    const { session, clock, actions, press } = setup([main], { directNumbers: numbers });
    session.start();
    press('101');
    expect(clock.pendingCount).toBe(0);
    actions.take();

    press('1');
    session.onPlaybackEnded();
    clock.advance(60_000);
    session.start();
    expect(actions.take()).toEqual([]);
  });

  it('ignores keys before start, and a stop before start', () => {
    const { session, actions, press } = setup([main]);
    press('1');
    expect(actions.take()).toEqual([]);
    session.stop();
    session.start();
    expect(actions.take()).toEqual([]);
  });

  it('refuses an entry menu it was not given', () => {
    expect(() => setup([main], { entryMenu: '9999' })).toThrow(/no menu 9999/);
  });
});
