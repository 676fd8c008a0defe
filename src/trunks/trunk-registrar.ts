/**
 * Every trunk with `register: true` kept registered to its provider: one
 * TrunkRegistration each, started with voix, replaced on a config reload
 * only when what the registration depends on changed, unregistered on stop.
 */
import type { TrunkConfig } from '../config/types.js';
import { TrunkRegistration, type TrunkRegistrationServices, type TrunkRegistrationStatus } from './trunk-registration.js';

export interface TrunkRegistrarOptions extends TrunkRegistrationServices {
  readonly trunks: readonly TrunkConfig[];
}

/** The settings a registration is built from; a change in any other field (caller id, max calls, SRTP…) needs no new REGISTER. */
const REGISTRATION_FIELDS = ['host', 'port', 'transport', 'domain', 'username', 'authUsername', 'password', 'register', 'registerExpires'] as const;

/** True when `a` and `b` register the same account the same way. */
export function sameRegistration(a: TrunkConfig, b: TrunkConfig): boolean {
  return REGISTRATION_FIELDS.every((field) => a[field] === b[field]);
}

function registering(trunks: readonly TrunkConfig[]): Map<string, TrunkConfig> {
  const byName = new Map<string, TrunkConfig>();
  for (const trunk of trunks) if (trunk.register) byName.set(trunk.name, trunk);
  return byName;
}

export interface TrunkReloadSummary {
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
  readonly unchanged: readonly string[];
}

export class TrunkRegistrar {
  private readonly services: TrunkRegistrationServices;
  private registrations = new Map<string, TrunkRegistration>();
  private started = false;
  private stopped = false;
  /** Reloads run one after the other: a changed trunk is unregistered before it registers again. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: TrunkRegistrarOptions) {
    const { trunks, ...services } = options;
    this.services = services;
    for (const trunk of registering(trunks).values()) this.registrations.set(trunk.name, this.create(trunk));
  }

  /** Sends the first REGISTER of every registering trunk. Call once the transports listen. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    for (const registration of this.registrations.values()) registration.start();
  }

  /**
   * Applies a new trunk list: trunks whose registration settings are the
   * same keep their binding untouched; removed ones (or `register: false`)
   * are unregistered; changed ones are unregistered with their old settings,
   * then registered with the new; new ones are registered.
   */
  reload(trunks: readonly TrunkConfig[]): Promise<TrunkReloadSummary> {
    const run = this.queue.then(() => this.applyReload(trunks));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Unregisters every trunk (bounded wait for the answers). Call before the transports stop. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.queue;
    await Promise.all([...this.registrations.values()].map((r) => r.stop()));
  }

  /** Status of every registering trunk, in the order of the config. */
  status(): TrunkRegistrationStatus[] {
    return [...this.registrations.values()].map((r) => r.status());
  }

  statusOf(name: string): TrunkRegistrationStatus | undefined {
    return this.registrations.get(name)?.status();
  }

  private async applyReload(trunks: readonly TrunkConfig[]): Promise<TrunkReloadSummary> {
    if (this.stopped) return { added: [], changed: [], removed: [], unchanged: [] };
    const wanted = registering(trunks);
    const added: string[] = [];
    const changed: string[] = [];
    const removed: string[] = [];
    const unchanged: string[] = [];
    const leaving: TrunkRegistration[] = [];
    const next = new Map<string, TrunkRegistration>();
    for (const [name, current] of this.registrations) {
      const trunk = wanted.get(name);
      if (trunk === undefined) {
        removed.push(name);
        leaving.push(current);
      } else if (!sameRegistration(current.trunk, trunk)) {
        changed.push(name);
        leaving.push(current);
      }
    }
    for (const [name, trunk] of wanted) {
      const current = this.registrations.get(name);
      if (current !== undefined && sameRegistration(current.trunk, trunk)) {
        unchanged.push(name);
        next.set(name, current);
      } else {
        if (current === undefined) added.push(name);
        next.set(name, this.create(trunk));
      }
    }
    this.registrations = next;
    this.services.logger.info('trunks reloaded', { added, changed, removed, unchanged });
    // The old binding goes first: with the same AOR and Contact, an unregistration arriving after the new REGISTER would remove it.
    await Promise.all(leaving.map((r) => r.stop()));
    if (this.started && !this.stopped) {
      for (const name of [...added, ...changed]) next.get(name)?.start();
    }
    return { added, changed, removed, unchanged };
  }

  private create(trunk: TrunkConfig): TrunkRegistration {
    return new TrunkRegistration(trunk, this.services);
  }
}
