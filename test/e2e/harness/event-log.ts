/**
 * An append-only log (SIP messages traced by a peer, peer events, voix log
 * lines, process output lines) with bounded waits: take mark() before an
 * action, then waitFor(…, { since }) looks at what came since the mark,
 * then at what comes, and fails after its timeout with what was seen.
 */
export interface WaitOptions<T> {
  /** Only items from this index on (see mark()); default 0, every item kept. */
  readonly since?: number;
  /** The error message after the timeout, from the items seen since `since`. */
  readonly describe: (seen: readonly T[]) => string;
  /** Fails the wait early with the error it resolves to (e.g. the process exited). */
  readonly end?: Promise<Error>;
}

export class EventLog<T> {
  private readonly list: T[] = [];
  /** Items dropped from the front (see limit): indexes go on counting from the first item ever pushed. */
  private dropped = 0;
  private readonly listeners = new Set<(item: T, index: number) => void>();

  /** limit: items kept; the oldest go first. */
  constructor(private readonly limit = Infinity) {}

  push(item: T): void {
    this.list.push(item);
    if (this.list.length > this.limit) {
      this.list.shift();
      this.dropped += 1;
    }
    const index = this.mark() - 1;
    for (const listener of this.listeners) listener(item, index);
  }

  /** Every item kept, in order. */
  items(): readonly T[] {
    return this.list;
  }

  /** Index of the next item to come: pass it as `since` to wait only for later items. */
  mark(): number {
    return this.dropped + this.list.length;
  }

  /** Called for every item pushed from now on; returns a function that unsubscribes. */
  onItem(listener: (item: T, index: number) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** The first item from `since` on for which predicate holds; rejects after timeoutMs, or when `end` comes first. */
  waitFor(predicate: (item: T) => boolean, timeoutMs: number, options: WaitOptions<T>): Promise<T> {
    const since = options.since ?? 0;
    const seen = (): T[] => this.list.slice(Math.max(0, since - this.dropped));
    for (const item of seen()) {
      if (predicate(item)) return Promise.resolve(item);
    }
    return new Promise<T>((resolve, reject) => {
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        unsubscribe();
        settle();
      };
      const unsubscribe = this.onItem((item, index) => {
        if (index >= since && predicate(item)) finish(() => resolve(item));
      });
      const timer = setTimeout(() => finish(() => reject(new Error(options.describe(seen())))), timeoutMs);
      void options.end?.then((error) => finish(() => reject(error)));
    });
  }
}
