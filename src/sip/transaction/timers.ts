/**
 * Transaction timers: the base values T1, T2, T4 and the timers derived from
 * them (RFC 3261 §17.1.1.1, Table 4; Timers L and M from RFC 6026 §7),
 * plus a one-shot timer bound to the injected clock.
 */
import type { Clock, TimerHandle } from '../../util/clock.js';

export interface TimerSettings {
  /** RTT estimate. */
  readonly t1: number;
  /** Maximum retransmission interval for non-INVITE requests and INVITE responses. */
  readonly t2: number;
  /** Maximum time a message remains in the network. */
  readonly t4: number;
}

export const DEFAULT_TIMER_SETTINGS: TimerSettings = { t1: 500, t2: 4000, t4: 5000 };

/**
 * Every value is in milliseconds. The retransmission timers A, E and G are
 * null on reliable transports, where nothing is retransmitted; the "wait"
 * timers D, I, J and K are zero there, which means the transaction leaves
 * the state at once.
 */
export interface TransactionTimers {
  readonly t1: number;
  readonly t2: number;
  readonly t4: number;
  /** INVITE request retransmission, initial interval (doubles without cap). */
  readonly timerA: number | null;
  /** INVITE transaction timeout. */
  readonly timerB: number;
  /** Wait time for response retransmissions in the client's Completed state. */
  readonly timerD: number;
  /** Non-INVITE request retransmission, initial interval. */
  readonly timerE: number | null;
  /** Non-INVITE transaction timeout. */
  readonly timerF: number;
  /** INVITE final response retransmission, initial interval. */
  readonly timerG: number | null;
  /** Wait time for the ACK of a non-2xx final response. */
  readonly timerH: number;
  /** Wait time for ACK retransmissions in the Confirmed state. */
  readonly timerI: number;
  /** Wait time for non-INVITE request retransmissions. */
  readonly timerJ: number;
  /** Wait time for non-INVITE response retransmissions. */
  readonly timerK: number;
  /** RFC 6026: wait time for INVITE retransmissions in the server's Accepted state. */
  readonly timerL: number;
  /** RFC 6026: wait time for 2xx retransmissions (and forked 2xx) in the client's Accepted state. */
  readonly timerM: number;
}

/** The two tables of each settings object, made once: every transaction asks for one. */
const tables = new WeakMap<TimerSettings, { reliable?: TransactionTimers; unreliable?: TransactionTimers }>();

export function transactionTimers(settings: TimerSettings, reliable: boolean): TransactionTimers {
  let cached = tables.get(settings);
  if (cached === undefined) tables.set(settings, (cached = {}));
  const table = reliable ? cached.reliable : cached.unreliable;
  if (table !== undefined) return table;
  const made = Object.freeze(computeTimers(settings, reliable));
  if (reliable) cached.reliable = made;
  else cached.unreliable = made;
  return made;
}

function computeTimers(settings: TimerSettings, reliable: boolean): TransactionTimers {
  const { t1, t2, t4 } = settings;
  const sixtyFourT1 = 64 * t1;
  return {
    t1,
    t2,
    t4,
    timerA: reliable ? null : t1,
    timerB: sixtyFourT1,
    // Table 4 says "> 32 s for UDP": Timer D must outlast the server's Timer H
    // (64*T1) so that every retransmitted final response still finds the
    // transaction and gets its ACK, also when T1 is configured above 500 ms.
    timerD: reliable ? 0 : Math.max(32_000, sixtyFourT1),
    timerE: reliable ? null : t1,
    timerF: sixtyFourT1,
    timerG: reliable ? null : t1,
    timerH: sixtyFourT1,
    timerI: reliable ? 0 : t4,
    timerJ: reliable ? 0 : sixtyFourT1,
    timerK: reliable ? 0 : t4,
    timerL: sixtyFourT1,
    timerM: sixtyFourT1,
  };
}

/** The next interval of a retransmission timer that doubles up to T2 (Timers E and G, §17.1.2.2, §17.2.1). */
export function doubledUpToT2(interval: number, t2: number): number {
  return Math.min(2 * interval, t2);
}

/**
 * One named one-shot timer of a transaction; starting it again replaces the
 * pending expiry. A zero delay expires at once, synchronously: Table 4 sets
 * D, I, J and K to zero on reliable transports to mean "leave the state now".
 */
export class TransactionTimer {
  private handle: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    readonly name: string,
  ) {}

  get running(): boolean {
    return this.handle !== undefined;
  }

  start(delayMs: number, onExpiry: () => void): void {
    this.stop();
    if (delayMs <= 0) {
      onExpiry();
      return;
    }
    this.handle = this.clock.setTimer(delayMs, () => {
      this.handle = undefined;
      onExpiry();
    });
  }

  stop(): void {
    if (this.handle === undefined) return;
    this.clock.clearTimer(this.handle);
    this.handle = undefined;
  }
}

/**
 * One clock timer for many expiries of the same delay: the wait timers of a
 * transaction kind (Timer J: 64*T1 for every non-INVITE server transaction
 * over UDP) all last as long, so the order they were added in is the order
 * they expire in, and a FIFO needs no sorting. Expires each item at its own
 * deadline, in the order added, as one timer per item would; costs two array
 * slots per item instead of a Node timer and its closure.
 */
export class ExpiryQueue<T> {
  private deadlines: number[] = [];
  private items: Array<T | undefined> = [];
  private head = 0;
  private handle: TimerHandle | undefined;
  private sweeping = false;

  constructor(
    private readonly clock: Clock,
    readonly delayMs: number,
    private readonly onExpiry: (item: T) => void,
  ) {}

  /** Items not yet expired. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** Expires `item` after the queue's delay; at once, synchronously, when the delay is zero. */
  add(item: T): void {
    if (this.delayMs <= 0) {
      this.onExpiry(item);
      return;
    }
    this.deadlines.push(this.clock.now() + this.delayMs);
    this.items.push(item);
    if (this.handle === undefined && !this.sweeping) this.arm();
  }

  private arm(): void {
    const deadline = this.deadlines[this.head] as number;
    this.handle = this.clock.setTimer(Math.max(0, deadline - this.clock.now()), () => this.sweep(deadline));
  }

  private sweep(armedFor: number): void {
    this.handle = undefined;
    this.sweeping = true;
    try {
      // A real timer may fire a little before the clock reads its deadline: the head it was armed for is due.
      const now = Math.max(this.clock.now(), armedFor);
      while (this.head < this.items.length && (this.deadlines[this.head] as number) <= now) {
        const item = this.items[this.head] as T;
        this.items[this.head] = undefined;
        this.head++;
        this.onExpiry(item);
      }
      if (this.head === this.items.length) {
        this.deadlines = [];
        this.items = [];
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
        this.deadlines = this.deadlines.slice(this.head);
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
    } finally {
      this.sweeping = false;
      if (this.handle === undefined && this.head < this.items.length) this.arm();
    }
  }
}
