/**
 * The configuration voix is running with, as one holder that every part
 * reads through: a reload replaces it in one step and tells the parts that
 * keep state of their own (user directory, ban list, router, trunk
 * registrations) through change listeners. Parts that only read settings use
 * a live view (`view`), so a reload reaches them without a listener.
 */
import type { VoixConfig } from './types.js';

export interface ConfigChange {
  readonly previous: VoixConfig;
  readonly current: VoixConfig;
  /** 1 for the configuration voix started with, +1 per reload applied. */
  readonly generation: number;
}

export type ConfigChangeListener = (change: ConfigChange) => void;

/** A listener that threw while applying a change: the others still ran. */
export interface ConfigListenerFailure {
  readonly listener: string;
  readonly message: string;
}

export class RuntimeConfig {
  private config: VoixConfig;
  private generationNumber = 1;
  private readonly listeners: Array<{ readonly name: string; readonly listener: ConfigChangeListener }> = [];

  constructor(initial: VoixConfig) {
    this.config = initial;
  }

  current(): VoixConfig {
    return this.config;
  }

  generation(): number {
    return this.generationNumber;
  }

  /**
   * Calls `listener` after each replace(); `name` says who it is in a reload
   * outcome when it fails (`users`, `router`, `trunks`); several listeners
   * may share a name. Returns the unsubscribe function.
   */
  onChange(name: string, listener: ConfigChangeListener): () => void {
    const entry = { name, listener };
    this.listeners.push(entry);
    return () => {
      const index = this.listeners.indexOf(entry);
      if (index !== -1) this.listeners.splice(index, 1);
    };
  }

  /**
   * Makes `next` the running configuration, then calls every listener in
   * subscription order. A listener that throws does not stop the others nor
   * undo the change: its failure is returned, for the reload outcome.
   */
  replace(next: VoixConfig): ConfigListenerFailure[] {
    const previous = this.config;
    this.config = next;
    this.generationNumber++;
    const change: ConfigChange = { previous, current: next, generation: this.generationNumber };
    const failures: ConfigListenerFailure[] = [];
    for (const { name, listener } of [...this.listeners]) {
      try {
        listener(change);
      } catch (error) {
        failures.push({ listener: name, message: error instanceof Error ? error.message : String(error) });
      }
    }
    return failures;
  }

  /**
   * A read-only object whose properties are always those of
   * `select(current())`: handed to a part that keeps a settings object
   * (CallCore's `settings`, the registrar's), it sees each reload at its next
   * read, with no listener. For plain data sections only.
   */
  view<T extends object>(select: (config: VoixConfig) => T): T {
    const section = () => select(this.config);
    return new Proxy({} as T, {
      get: (_target, key) => Reflect.get(section(), key),
      has: (_target, key) => Reflect.has(section(), key),
      ownKeys: () => Reflect.ownKeys(section()),
      getOwnPropertyDescriptor: (_target, key) => {
        const descriptor = Reflect.getOwnPropertyDescriptor(section(), key);
        // The proxy's target is an empty extensible object: every property it reports must be configurable.
        return descriptor === undefined ? undefined : { ...descriptor, configurable: true };
      },
      set: () => false,
      defineProperty: () => false,
      deleteProperty: () => false,
    });
  }
}
