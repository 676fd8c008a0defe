/**
 * One call's relay in a media worker: leg `a` (caller) and leg `b`
 * (callee), each forwarding what its phone sends to the other.
 */
import type { LegName, RelayStats } from './media-protocol.js';
import type { RelayLeg } from './relay-leg.js';

export class MediaRelay {
  constructor(
    readonly relayId: number,
    readonly callId: string,
    readonly a: RelayLeg,
    readonly b: RelayLeg,
  ) {
    a.pairWith(b);
    b.pairWith(a);
  }

  leg(name: LegName): RelayLeg {
    return name === 'a' ? this.a : this.b;
  }

  stats(): RelayStats {
    return { a: this.a.snapshot(), b: this.b.snapshot() };
  }

  /** Unpairs first, so nothing is forwarded to a leg whose sockets are closing. */
  close(): Promise<void> {
    this.a.pairWith(null);
    this.b.pairWith(null);
    return Promise.all([this.a.close(), this.b.close()]).then(() => undefined);
  }
}
