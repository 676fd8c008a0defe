/**
 * One caller's walk through the voice menus (IVR) of one call: greetings,
 * keys, retries, sub-menus and numbers dialled from the menu.
 *
 * Pure: driven by events (start, a key, the end of a playback, the clock's
 * timers) and acting only through {@link MenuActions}. It never resolves a
 * destination itself: anything that is not a menu leaves the session through
 * `transfer`, and the call core routes it like a number the caller dialled
 * (user, group, message, or an outside number checked against the menu's
 * permission class). A menu reached by a choice is entered here, so several
 * levels live in one session with a stack for `back`.
 *
 * Decisions, as a caller of a real PBX would expect them:
 * - The key timeout starts when the greeting has been heard to the end, not
 *   when it starts: a long greeting never times out under the caller.
 * - Any key during a prompt acts at once (barge-in): regulars need not hear
 *   the menu again to press the key they know.
 * - Mistakes (an unknown key, no key in time) share one counter per visit of
 *   a menu. `max_retries` is the number of mistakes forgiven: the greeting
 *   is replayed after each, and the one after them leads to `on_failure`
 *   straight away, without the invalid or timeout prompt, which asks the
 *   caller to try again. Entering a menu (deeper, back, or by its number)
 *   starts its counter afresh: the caller has just shown they can use the
 *   keypad. `repeat` leaves the counter as it is.
 * - A time-conditioned greeting is chosen each time it is played, so a
 *   caller waiting through an opening hour hears the right one on repeat.
 * - Only numbers in `directNumbers` (internal ones) can be dialled from a
 *   menu; an outside number is reachable through an option only, so a menu
 *   is never an open line to the trunks.
 */
import type { MenuChoice, MenuConfig } from '../config/types.js';
import type { DtmfDigit } from '../media/dtmf/dtmf-digit.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { MenuPromptRef } from './menu-prompts.js';

export type { MenuPromptRef } from './menu-prompts.js';

/** How the caller left a menu towards a destination. */
export type MenuExit = 'option' | 'direct-dial' | 'failure';

/** Where a transfer comes from: what the call core needs to route and account for it. */
export interface MenuTransferOrigin {
  /** Number of the menu the caller was in. */
  readonly menu: string;
  /** That menu's permission class: an outside destination must be allowed by it. */
  readonly permissionClass: string;
  readonly via: MenuExit;
}

/** What a session asks of the call core; calls are synchronous and return nothing. */
export interface MenuActions {
  /**
   * Plays the prompts back to back, replacing whatever plays. The core calls
   * {@link MenuSession.onPlaybackEnded} once the last one has played to its
   * end, and only then: never for a playback that stopPlaying() or a later
   * play() cut short (PlayEndReason 'completed' only).
   */
  play(prompts: readonly MenuPromptRef[]): void;
  stopPlaying(): void;
  /**
   * Leaves the menu towards a destination number that is not a menu: user,
   * group, message (play a prompt, then hang up) or outside number. The
   * session has ended when this is called.
   */
  transfer(destination: string, reason: string, origin: MenuTransferOrigin): void;
  /** The session has ended when this is called. */
  hangUp(reason: string): void;
  /** One structured line; the core adds the call id. */
  log(event: string, fields: Record<string, unknown>): void;
}

export interface MenuSessionOptions {
  /** Every menu of the configuration, by number. */
  readonly menus: ReadonlyMap<string, MenuConfig>;
  /** The menu the call reached. */
  readonly entryMenu: string;
  /** Whether the named time condition is open now; asked each time a greeting is played. */
  readonly isOpen: (conditionName: string) => boolean;
  /** Internal numbers a caller may dial from a menu with direct dialling: extensions, groups, messages, menus. */
  readonly directNumbers: ReadonlySet<string>;
  readonly clock: Clock;
  readonly actions: MenuActions;
  /** Menus entered in one call (the first included) before the session hangs up; default {@link DEFAULT_MAX_MENU_ENTRIES}. */
  readonly maxMenuEntries?: number;
}

/**
 * A caller going round in circles (sub-menu, back, sub-menu…) or menus whose
 * `on_failure` lead to each other would hold a channel forever; no real
 * caller needs this many menus to find someone.
 */
export const DEFAULT_MAX_MENU_ENTRIES = 20;

/**
 * - idle: not started;
 * - prompting: a playlist ending with the greeting is playing;
 * - waiting: the greeting has ended, the key timeout runs (or a key is being handled);
 * - collecting: digits of a number dialled directly, the inter-digit timeout runs;
 * - ended: transferred, hung up or stopped; every event is ignored.
 */
type Phase = 'idle' | 'prompting' | 'waiting' | 'collecting' | 'ended';

const DIALLED_DIGIT = /^[0-9]$/;

/** Ends the digits of a number dialled directly without waiting for the inter-digit timeout. */
const DIAL_TERMINATOR = '#';

export class MenuSession {
  private phase: Phase = 'idle';
  /** Entered menus, the current one last; `back` returns to the one below it. */
  private readonly stack: MenuConfig[] = [];
  private mistakes = 0;
  private entries = 0;
  /** Digits of a number being dialled directly (collecting). */
  private digits = '';
  /** The one running timer: the key timeout (waiting) or the inter-digit timeout (collecting). */
  private timer: TimerHandle | undefined;
  /** Every proper prefix of a direct number: a buffer in it may still grow into a longer number. */
  private readonly prefixes = new Set<string>();
  /** Digits beyond this cannot change a buffer that already matches nothing; they are not kept. */
  private readonly longestNumber: number;
  private readonly maxMenuEntries: number;

  constructor(private readonly options: MenuSessionOptions) {
    if (!options.menus.has(options.entryMenu)) throw new RangeError(`no menu ${options.entryMenu} among the menus given to the session`);
    let longest = 0;
    for (const number of options.directNumbers) {
      longest = Math.max(longest, number.length);
      for (let i = 1; i < number.length; i++) this.prefixes.add(number.slice(0, i));
    }
    this.longestNumber = longest;
    this.maxMenuEntries = options.maxMenuEntries ?? DEFAULT_MAX_MENU_ENTRIES;
  }

  /** Number of the menu the caller is in; null before start(). */
  get currentMenu(): string | null {
    return this.stack.at(-1)?.number ?? null;
  }

  get ended(): boolean {
    return this.phase === 'ended';
  }

  /** Enters the entry menu and plays its greeting. */
  start(): void {
    if (this.phase !== 'idle') return;
    const entry = this.options.menus.get(this.options.entryMenu);
    if (entry !== undefined) this.enter(entry, 'start');
  }

  /** The caller hung up (or the call core takes the call away): clears the timers and acts no more. */
  stop(): void {
    if (this.phase === 'ended' || this.phase === 'idle') {
      this.phase = 'ended';
      return;
    }
    this.options.actions.log('menu stopped', { menu: this.currentMenu, phase: this.phase });
    this.phase = 'ended';
    this.clearTimer();
  }

  /** A key from the caller (RFC 4733, SIP INFO or in-band), already de-duplicated. */
  onDigit(key: DtmfDigit): void {
    switch (this.phase) {
      case 'idle':
      case 'ended':
        return;
      case 'prompting':
        // Barge-in: the key acts at once, over the prompt.
        this.phase = 'waiting';
        this.options.actions.stopPlaying();
        this.handleKey(key);
        return;
      case 'waiting':
        this.clearTimer();
        this.handleKey(key);
        return;
      case 'collecting':
        this.handleDialledKey(key);
        return;
    }
  }

  /** The playlist of the latest play() has played to its end. */
  onPlaybackEnded(): void {
    if (this.phase !== 'prompting') return;
    this.phase = 'waiting';
    this.startTimer(this.current.timeoutSeconds, () => this.mistake('timeout', null));
  }

  // ---------------------------------------------------------------------------
  // Keys.

  /** A key with no digits pending: the start of a number, an option, or a mistake. */
  private handleKey(key: DtmfDigit): void {
    const menu = this.current;
    const dialable = menu.directDial && DIALLED_DIGIT.test(key);
    // A key that starts a longer internal number waits for more digits, even
    // when it is also an option (say 1 → sales and extension 101): with no
    // other digit within the inter-digit timeout it acts as the option.
    if (dialable && this.prefixes.has(key)) {
      this.digits = key;
      this.phase = 'collecting';
      this.startTimer(menu.interDigitSeconds, () => this.resolveDialled());
      return;
    }
    // An option wins over a one-digit internal number: the greeting announces it.
    const choice = menu.options.get(key);
    if (choice !== undefined) {
      this.choose(key, choice);
      return;
    }
    if (dialable && this.options.directNumbers.has(key)) {
      this.dial(key);
      return;
    }
    this.mistake('invalid', key);
  }

  /** A key while digits are pending. */
  private handleDialledKey(key: DtmfDigit): void {
    if (key === DIAL_TERMINATOR) {
      // `#` ends the number now, as on most PBXs; it wins over a `#` option
      // here, which still works when no digit is pending.
      this.clearTimer();
      this.resolveDialled();
      return;
    }
    if (!DIALLED_DIGIT.test(key)) {
      // `*` or A–D cannot be part of a number: the caller changed their mind.
      // The latest key wins, handled as if nothing had been typed before it.
      this.clearTimer();
      this.options.actions.log('menu dialling abandoned', { menu: this.current.number, digits: this.digits, key });
      this.digits = '';
      this.phase = 'waiting';
      this.handleKey(key);
      return;
    }
    if (this.digits.length <= this.longestNumber) this.digits += key;
    if (this.options.directNumbers.has(this.digits) && !this.prefixes.has(this.digits)) {
      this.clearTimer();
      this.dial(this.digits);
      return;
    }
    // A buffer that already matches nothing is not refused at once: the
    // caller is still typing, and their next digits would barge into the
    // invalid prompt and count as further mistakes. One mistake, at the end.
    this.startTimer(this.current.interDigitSeconds, () => this.resolveDialled());
  }

  /** The inter-digit timeout or `#`: the pending digits as they stand. */
  private resolveDialled(): void {
    const digits = this.digits;
    this.digits = '';
    this.phase = 'waiting';
    const choice = digits.length === 1 ? this.current.options.get(digits) : undefined;
    if (choice !== undefined) this.choose(digits, choice);
    else if (this.options.directNumbers.has(digits)) this.dial(digits);
    else this.mistake('invalid', digits);
  }

  // ---------------------------------------------------------------------------
  // Outcomes.

  private choose(key: string, choice: MenuChoice): void {
    const menu = this.current;
    this.options.actions.log('menu option', { menu: menu.number, key, choice: choice.kind === 'destination' ? choice.number : choice.kind });
    switch (choice.kind) {
      case 'destination':
        this.goTo(choice.number, `option ${key} of menu ${menu.number}`, 'option');
        return;
      case 'repeat':
        this.playGreeting([]);
        return;
      case 'back': {
        const parent = this.stack.at(-2);
        // At the top there is nowhere to go back to: the caller hears the menu again.
        if (parent === undefined) this.playGreeting([]);
        else this.enter(parent, 'back');
        return;
      }
      case 'hangup':
        this.end();
        this.options.actions.hangUp(`option ${key} of menu ${menu.number}`);
        return;
    }
  }

  private dial(number: string): void {
    const menu = this.current;
    this.options.actions.log('menu direct dial', { menu: menu.number, number });
    this.goTo(number, `dialled from menu ${menu.number}`, 'direct-dial');
  }

  /** A menu is entered here; anything else leaves the session. */
  private goTo(number: string, reason: string, via: MenuExit): void {
    const menu = this.current;
    const target = this.options.menus.get(number);
    if (target !== undefined) {
      this.enter(target, via);
      return;
    }
    this.end();
    this.options.actions.log('menu transfer', { menu: menu.number, destination: number, via });
    this.options.actions.transfer(number, reason, { menu: menu.number, permissionClass: menu.permissionClass, via });
  }

  private mistake(kind: 'invalid' | 'timeout', input: string | null): void {
    const menu = this.current;
    this.mistakes++;
    this.options.actions.log('menu mistake', { menu: menu.number, kind, input, mistakes: this.mistakes, maxRetries: menu.maxRetries });
    if (this.mistakes > menu.maxRetries) {
      this.fail(menu);
      return;
    }
    const notice: MenuPromptRef[] = [];
    if (kind === 'invalid' && menu.invalidPrompt !== null) notice.push({ kind: 'menu-invalid', menu: menu.number });
    if (kind === 'timeout' && menu.timeoutPrompt !== null) notice.push({ kind: 'menu-timeout', menu: menu.number });
    this.playGreeting(notice);
  }

  private fail(menu: MenuConfig): void {
    const reason = `no valid choice in menu ${menu.number} after ${this.mistakes} mistakes`;
    this.options.actions.log('menu failure', { menu: menu.number, mistakes: this.mistakes, onFailure: menu.onFailure });
    if (menu.onFailure === null) {
      this.end();
      this.options.actions.hangUp(reason);
      return;
    }
    this.goTo(menu.onFailure, reason, 'failure');
  }

  /**
   * Makes `menu` the current one. A menu already on the stack (the parent on
   * `back`, the top menu dialled from a sub-menu, the current one dialled by
   * its own number) is returned to, dropping what was above it, so `back`
   * always means the menu the caller came from and the stack stays as deep
   * as the menus are. Any other menu goes on top.
   */
  private enter(menu: MenuConfig, via: MenuExit | 'start' | 'back'): void {
    this.entries++;
    if (this.entries > this.maxMenuEntries) {
      this.options.actions.log('menu loop', { menu: menu.number, entries: this.entries - 1, max: this.maxMenuEntries });
      this.end();
      this.options.actions.hangUp(`menu loop: more than ${this.maxMenuEntries} menus entered in one call`);
      return;
    }
    const at = this.stack.findIndex((m) => m.number === menu.number);
    if (at >= 0) this.stack.length = at + 1;
    else this.stack.push(menu);
    this.mistakes = 0;
    this.options.actions.log('menu entered', { menu: menu.number, name: menu.name, via, depth: this.stack.length });
    this.playGreeting([]);
  }

  private playGreeting(before: readonly MenuPromptRef[]): void {
    const menu = this.current;
    const closed = menu.timeCondition !== null && menu.closedGreeting !== null && !this.options.isOpen(menu.timeCondition);
    this.clearTimer();
    this.digits = '';
    // The phase is set before play(): a core that reports the end at once (an
    // empty or failed playback) re-enters onPlaybackEnded correctly.
    this.phase = 'prompting';
    this.options.actions.play([...before, { kind: 'menu-greeting', menu: menu.number, closed }]);
  }

  /** The session is over; the caller then transfers or hangs up. */
  private end(): void {
    const wasPlaying = this.phase === 'prompting';
    this.phase = 'ended';
    this.clearTimer();
    this.digits = '';
    if (wasPlaying) this.options.actions.stopPlaying();
  }

  // ---------------------------------------------------------------------------

  private get current(): MenuConfig {
    const menu = this.stack.at(-1);
    if (menu === undefined) throw new Error('menu session used before start()');
    return menu;
  }

  private startTimer(seconds: number, fire: () => void): void {
    this.clearTimer();
    const handle = this.options.clock.setTimer(seconds * 1000, () => {
      if (this.timer?.id !== handle.id || this.phase === 'ended') return;
      this.timer = undefined;
      fire();
    });
    this.timer = handle;
  }

  private clearTimer(): void {
    this.options.clock.clearTimer(this.timer);
    this.timer = undefined;
  }
}
