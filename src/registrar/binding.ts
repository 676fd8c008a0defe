/**
 * A registration binding (RFC 3261 §10): an address-of-record reachable at a
 * contact URI until an expiry time, with how the phone really reached voix.
 */
import type { TransportProtocol } from '../sip/transport/types.js';

export interface Binding {
  /** The user's extension (voix serves one domain: the AOR is sip:<extension>@<domain>). */
  readonly aor: string;
  /** Contact URI as registered (its URI headers are kept but never used as routes). */
  readonly contact: string;
  /** RFC 5626 +sip.instance, when the phone sent one. */
  readonly instanceId: string | null;
  /** RFC 5626 reg-id, when the phone sent one. */
  readonly regId: number | null;
  readonly callId: string;
  readonly cseq: number;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
  readonly q: number | null;
  /** How the REGISTER arrived: requests to the phone go back the same way (NAT, TCP/TLS). */
  readonly transport: TransportProtocol;
  readonly sourceAddress: string;
  readonly sourcePort: number;
  /** The TCP/TLS connection that carried the REGISTER; null for UDP or after a restart. */
  readonly connectionId: number | null;
  /** RFC 3327 Path header values, in order. */
  readonly path: readonly string[];
  readonly userAgent: string | null;
  readonly updatedAt: number;
}

/** Where bindings survive a restart. The registrar keeps its own copy in memory. */
export interface BindingStore {
  loadAll(): Binding[];
  save(binding: Binding): void;
  remove(aor: string, contact: string): void;
  removeExpired(now: number): void;
}

/** A store that keeps nothing, for tests that do not need persistence. */
export class NullBindingStore implements BindingStore {
  loadAll(): Binding[] {
    return [];
  }
  save(): void {}
  remove(): void {}
  removeExpired(): void {}
}
