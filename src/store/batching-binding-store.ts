/**
 * Registration bindings written once per event-loop turn. The saves and
 * removals of one turn (every REGISTER libuv read from the socket in one
 * go: up to 32 datagrams under load) go to the store in one transaction at
 * the end of the turn, instead of one transaction each: in SQLite's WAL a
 * commit costs about 13 µs of write() on this machine and a row about 3 µs
 * (bench/register-path.ts --per-turn). At low load a turn holds one
 * REGISTER and nothing changes.
 *
 * Nothing is acknowledged before its commit: `afterWrites` calls back once
 * every change made so far is stored, and the registrar's 200 waits for it
 * (write before acting), so a phone told it is registered stays registered
 * across a crash or a restart. The answer leaves in the same turn of the
 * event loop, a few microseconds later than with a write per REGISTER.
 */
import type { Binding, BindingStore } from '../registrar/binding.js';

type Change = { readonly binding: Binding; readonly aor?: undefined; readonly contact?: undefined } | { readonly binding?: undefined; readonly aor: string; readonly contact: string };

export interface BatchingBindingStoreOptions {
  /** Runs `work` as one transaction of the underlying store (a SQLite transaction). */
  readonly transaction: (work: () => void) => void;
  /** Runs `flush` once the current turn's I/O callbacks are done; setImmediate by default (tests pass their own). */
  readonly schedule?: (flush: () => void) => void;
  /** A callback of `afterWrites` threw: the error, for the log (it must not stop the others, nor the process). */
  readonly onCallbackError?: (error: unknown) => void;
}

export class BatchingBindingStore implements BindingStore {
  private changes: Change[] = [];
  private waiters: Array<(error: unknown) => void> = [];
  private scheduled = false;
  private readonly schedule: (flush: () => void) => void;

  constructor(
    private readonly store: BindingStore,
    private readonly options: BatchingBindingStoreOptions,
  ) {
    this.schedule = options.schedule ?? ((flush) => void setImmediate(flush));
  }

  loadAll(): Binding[] {
    this.flush();
    return this.store.loadAll();
  }

  save(binding: Binding): void {
    this.changes.push({ binding });
    this.scheduleFlush();
  }

  remove(aor: string, contact: string): void {
    this.changes.push({ aor, contact });
    this.scheduleFlush();
  }

  /** After the changes waiting, in order. */
  removeExpired(now: number): void {
    this.flush();
    this.store.removeExpired(now);
  }

  /**
   * Calls `done` once every change made so far is stored (null), or failed
   * to be (the error): at once when nothing is waiting.
   */
  afterWrites(done: (error: unknown) => void): void {
    if (this.changes.length === 0) {
      done(null);
      return;
    }
    this.waiters.push(done);
  }

  /** Writes what is waiting now, in one transaction, then calls its waiters (also at stop, before the database closes). */
  flush(): void {
    const changes = this.changes;
    const waiters = this.waiters;
    if (changes.length === 0) return;
    this.changes = [];
    this.waiters = [];
    let error: unknown = null;
    try {
      this.options.transaction(() => {
        for (const change of changes) {
          if (change.binding !== undefined) this.store.save(change.binding);
          else this.store.remove(change.aor, change.contact);
        }
      });
    } catch (err) {
      error = err;
    }
    for (const done of waiters) {
      try {
        done(error);
      } catch (err) {
        this.options.onCallbackError?.(err);
      }
    }
  }

  private scheduleFlush(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => {
      this.scheduled = false;
      this.flush();
    });
  }
}
