/**
 * The users voix serves, as the SIP core needs them: digest HA1s per hash
 * (computed once from the configured password, or given as stored hashes),
 * allowed transports and registration limits.
 */
import type { SrtpPolicy } from '../config/types.js';
import type { DigestHash } from '../sip/auth/digest.js';
import type { TransportProtocol } from '../sip/transport/types.js';

export interface DirectoryUser {
  readonly extension: string;
  readonly name: string;
  /** H(extension:realm:password) per hash, hex. */
  readonly ha1: Readonly<Partial<Record<DigestHash, string>>>;
  readonly transports: readonly TransportProtocol[];
  readonly maxContacts: number;
  readonly srtp: SrtpPolicy;
}

export interface UserDirectory {
  get(extension: string): DirectoryUser | undefined;
  all(): readonly DirectoryUser[];
}

export class MapUserDirectory implements UserDirectory {
  private readonly byExtension: ReadonlyMap<string, DirectoryUser>;

  constructor(users: readonly DirectoryUser[]) {
    this.byExtension = new Map(users.map((u) => [u.extension, u]));
  }

  get(extension: string): DirectoryUser | undefined {
    return this.byExtension.get(extension);
  }

  all(): readonly DirectoryUser[] {
    return [...this.byExtension.values()];
  }
}
