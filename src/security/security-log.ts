/**
 * One log line per security event, in a format that stays stable so that a
 * fail2ban filter can match it:
 *
 *   {"time":"…","level":"warn","msg":"security","event":"auth_failed","src":"192.0.2.7","port":5060,"transport":"udp",…}
 *
 * `msg`, `event` and `src` always come first, in that order. Never a password,
 * HA1 or digest response.
 */
import type { Logger } from '../log/logger.js';
import type { TransportProtocol } from '../sip/transport/types.js';

export type SecurityEvent =
  /** Digest credentials for a known user did not match. */
  | 'auth_failed'
  /** Digest credentials named a user that does not exist (answered exactly like auth_failed). */
  | 'unknown_user'
  /** An Authorization header was presented again with a used nonce count. */
  | 'nonce_replay'
  /** An authenticated user used a transport their account does not allow. */
  | 'transport_refused'
  /**
   * A call refused by the dial rules: a number the caller's class may not
   * call, a malformed or overlong dialled string, no route for it, or a
   * trunk's call limit reached. Toll fraud shows here first.
   */
  | 'call_refused'
  | 'ban'
  | 'unban';

export interface SecurityEventFields {
  readonly src: string;
  readonly port?: number;
  readonly transport?: TransportProtocol;
  /** The user name as the peer claimed it (never a secret). */
  readonly user?: string;
  readonly method?: string;
  readonly callId?: string;
  /** For bans: when it ends (ISO time) and how many failures caused it. */
  readonly until?: string;
  readonly failures?: number;
  /** Why: for an unban, `expired`, `manual` or `evicted`; for a refused call, the rule that refused it. */
  readonly reason?: string;
  /** The number as dialled (JSON-escaped by the logger like every field). */
  readonly dialled?: string;
  /** The dialled number's category in the numbering plan. */
  readonly category?: string;
}

export class SecurityLog {
  /** `onEvent` sees each event too (the metrics count them); the line written stays the same. */
  constructor(
    private readonly logger: Logger,
    private readonly onEvent?: (event: SecurityEvent) => void,
  ) {}

  record(event: SecurityEvent, fields: SecurityEventFields): void {
    this.onEvent?.(event);
    const { src, ...rest } = fields;
    const line = { event, src, ...rest };
    if (event === 'unban') this.logger.info('security', line);
    else this.logger.warn('security', line);
  }
}
