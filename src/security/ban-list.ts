/**
 * Bans source addresses that fail authentication too often, the way fail2ban
 * does for Asterisk but inside the process, so a brute-force attempt stops
 * costing hash work and log lines at once. Time comes from an injected Clock.
 *
 * A "source" is whatever key the caller chooses (normally the IP address as
 * a string); exemptions only apply to sources that are IP addresses.
 */
import { BlockList, isIP } from 'node:net';
import type { Clock, TimerHandle } from '../util/clock.js';

export interface BanListSettings {
  /** Failures within the window that trigger a ban (default 5). */
  readonly maxFailures?: number;
  /** Length of the sliding window, in seconds (default 60). */
  readonly windowSeconds?: number;
  /** How long a ban lasts, in seconds (default 900). */
  readonly banSeconds?: number;
  /**
   * Whether a success forgets the source's failures (default true): phones
   * behind one NAT share an address, and one misconfigured phone should not
   * get the whole office banned while the others register fine.
   */
  readonly successClearsFailures?: boolean;
  /** Most sources tracked with failures, and most bans held, each (default 100 000). */
  readonly maxTrackedSources?: number;
  /** CIDR networks never banned, IPv4 or IPv6 (`10.0.0.0/8`, `2001:db8::/32`, or a bare address). */
  readonly exempt?: readonly string[];
}

export type UnbanReason = 'expired' | 'manual' | 'evicted';

export interface BanListOptions extends BanListSettings {
  readonly clock: Clock;
  /** Called when a ban ends: on expiry (on time, from a clock timer), a manual unban, or eviction at the cap. */
  readonly onUnban?: (source: string, reason: UnbanReason) => void;
  /** Called when a source is banned (not for a restored ban): the moment to store it. */
  readonly onBan?: (ban: Ban) => void;
}

export interface FailureOutcome {
  /** The source is banned now. */
  readonly banned: boolean;
  /** This failure is the one that banned it: the moment to log and tell the firewall. */
  readonly newlyBanned: boolean;
}

export interface Ban {
  readonly source: string;
  /** Milliseconds since the epoch, on the list's clock. */
  readonly expiresAt: number;
}

export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/** Parses `address/prefix` or a bare address (a host route); null when invalid. For config validation too. */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  const address = (slash === -1 ? text : text.slice(0, slash)).trim();
  const version = isIP(address);
  if (version === 0) return null;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const max = version === 4 ? 32 : 128;
  if (slash === -1) return { address, prefix: max, family };
  const prefixText = text.slice(slash + 1).trim();
  if (!/^[0-9]{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  return prefix <= max ? { address, prefix, family } : null;
}

/** Thrown by the constructor for an exemption that is not a CIDR network; says which entry. */
export class BanListConfigError extends Error {
  override readonly name = 'BanListConfigError';
  constructor(
    readonly index: number,
    readonly entry: string,
  ) {
    super(`exempt[${index}]: "${entry}" is not an IPv4 or IPv6 network (expected e.g. 192.168.1.0/24 or 2001:db8::/32)`);
  }
}

interface ActiveBan {
  readonly expiresAt: number;
  readonly timer: TimerHandle;
}

export class BanList {
  private readonly clock: Clock;
  private maxFailures: number;
  private windowMs: number;
  private banMs: number;
  private readonly successClearsFailures: boolean;
  private readonly maxTracked: number;
  private readonly exempt = new BlockList();
  private readonly hasExemptions: boolean;
  private readonly onUnban: ((source: string, reason: UnbanReason) => void) | undefined;
  private readonly onBan: ((ban: Ban) => void) | undefined;
  /**
   * Failure times per source, oldest first, never more than maxFailures long.
   * The map is kept in order of last failure, so stale sources sit at the front.
   */
  private readonly failures = new Map<string, number[]>();
  /** In order of ban time, hence of expiry (all bans last the same). */
  private readonly active = new Map<string, ActiveBan>();

  constructor(options: BanListOptions) {
    this.clock = options.clock;
    this.maxFailures = Math.max(1, options.maxFailures ?? 5);
    this.windowMs = (options.windowSeconds ?? 60) * 1000;
    this.banMs = (options.banSeconds ?? 900) * 1000;
    this.successClearsFailures = options.successClearsFailures ?? true;
    this.maxTracked = Math.max(1, options.maxTrackedSources ?? 100_000);
    this.onUnban = options.onUnban;
    this.onBan = options.onBan;
    const exempt = options.exempt ?? [];
    exempt.forEach((entry, index) => {
      const cidr = parseCidr(entry);
      if (cidr === null) throw new BanListConfigError(index, entry);
      this.exempt.addSubnet(cidr.address, cidr.prefix, cidr.family);
    });
    this.hasExemptions = exempt.length > 0;
  }

  /**
   * New thresholds from a configuration reload. Failures already counted and
   * bans in force stay; a changed duration applies to the next bans (so the
   * oldest ban is no longer always the nearest to expiry: eviction at the
   * cap may lift one a little early).
   */
  reconfigure(settings: Pick<BanListSettings, 'maxFailures' | 'windowSeconds' | 'banSeconds'>): void {
    if (settings.maxFailures !== undefined) this.maxFailures = Math.max(1, settings.maxFailures);
    if (settings.windowSeconds !== undefined) this.windowMs = settings.windowSeconds * 1000;
    if (settings.banSeconds !== undefined) this.banMs = settings.banSeconds * 1000;
  }

  /** Counts an authentication failure from `source`; bans it at maxFailures within the window. */
  recordFailure(source: string): FailureOutcome {
    if (this.active.has(source)) return { banned: true, newlyBanned: false };
    if (this.isExempt(source)) return { banned: false, newlyBanned: false };
    const now = this.clock.now();
    this.pruneFailures(now);

    const times = this.failures.get(source) ?? [];
    // Drop failures that slid out of the window.
    let first = 0;
    while (first < times.length && now - (times[first] ?? now) >= this.windowMs) first++;
    if (first > 0) times.splice(0, first);
    times.push(now);

    if (times.length >= this.maxFailures) {
      this.failures.delete(source);
      this.ban(source, now);
      return { banned: true, newlyBanned: true };
    }
    // Re-insert so the map stays ordered by last failure.
    this.failures.delete(source);
    if (this.failures.size >= this.maxTracked) this.dropOldestFailures();
    this.failures.set(source, times);
    return { banned: false, newlyBanned: false };
  }

  /** A successful authentication from `source`. */
  recordSuccess(source: string): void {
    if (this.successClearsFailures) this.failures.delete(source);
  }

  isBanned(source: string): boolean {
    return this.active.has(source);
  }

  /** Lifts a ban by hand (CLI, admin API). Returns whether there was one. */
  unban(source: string): boolean {
    return this.lift(source, 'manual');
  }

  /**
   * A ban from before a restart, until `expiresAt` (the list's clock); not
   * reported to onBan. False, and nothing done, when it has expired, the
   * source is exempt now or already banned.
   */
  restore(source: string, expiresAt: number): boolean {
    const remaining = expiresAt - this.clock.now();
    if (remaining <= 0 || this.isExempt(source) || this.active.has(source)) return false;
    if (this.active.size >= this.maxTracked) return false;
    const timer = this.clock.setTimer(remaining, () => this.lift(source, 'expired'));
    this.active.set(source, { expiresAt, timer });
    return true;
  }

  /** Current bans, soonest expiry first. */
  bans(): Ban[] {
    const out: Ban[] = [];
    for (const [source, ban] of this.active) out.push({ source, expiresAt: ban.expiresAt });
    return out;
  }

  /** Failures counted for `source` within the current window (for the admin API and tests). */
  failureCount(source: string): number {
    const times = this.failures.get(source);
    if (times === undefined) return 0;
    const now = this.clock.now();
    return times.filter((t) => now - t < this.windowMs).length;
  }

  isExempt(source: string): boolean {
    if (!this.hasExemptions) return false;
    // Transports may hand over an IPv6 literal in brackets, as in a Via.
    const address = source.startsWith('[') && source.endsWith(']') ? source.slice(1, -1) : source;
    const version = isIP(address);
    if (version === 0) return false;
    return this.exempt.check(address, version === 4 ? 'ipv4' : 'ipv6');
  }

  /** Cancels every ban timer without reporting unbans, for shutdown. */
  dispose(): void {
    for (const ban of this.active.values()) this.clock.clearTimer(ban.timer);
    this.active.clear();
    this.failures.clear();
  }

  private ban(source: string, now: number): void {
    if (this.active.size >= this.maxTracked) {
      // The oldest ban is the nearest to expiry anyway; the caller hears it ended.
      const oldest = this.active.keys().next();
      if (oldest.done !== true) this.lift(oldest.value, 'evicted');
    }
    // One timer per ban: bans are rare, and the unban must be reported on time.
    const timer = this.clock.setTimer(this.banMs, () => this.lift(source, 'expired'));
    this.active.set(source, { expiresAt: now + this.banMs, timer });
    this.onBan?.({ source, expiresAt: now + this.banMs });
  }

  private lift(source: string, reason: UnbanReason): boolean {
    const ban = this.active.get(source);
    if (ban === undefined) return false;
    this.clock.clearTimer(ban.timer);
    this.active.delete(source);
    this.onUnban?.(source, reason);
    return true;
  }

  /** Forgets sources whose last failure slid out of the window; they sit at the front. */
  private pruneFailures(now: number): void {
    for (const [source, times] of this.failures) {
      const last = times[times.length - 1];
      if (last !== undefined && now - last < this.windowMs) break;
      this.failures.delete(source);
    }
  }

  private dropOldestFailures(): void {
    const oldest = this.failures.keys().next();
    if (oldest.done !== true) this.failures.delete(oldest.value);
  }
}
