/**
 * The bans in force, in the database: written by the server when it bans
 * or lifts a ban (rare events), read back at start so that a restart does
 * not free a source that was guessing passwords, and the operator's view
 * and lever: `voix bans` lists them, `voix unban` deletes a row and asks
 * the running server (SIGUSR2) to drop what is no longer in the table.
 */
import type { Db } from './database.js';

export interface StoredBan {
  readonly source: string;
  /** Milliseconds since the epoch. */
  readonly bannedAt: number;
  readonly expiresAt: number;
}

interface BanRow {
  source: string;
  banned_at: number;
  expires_at: number;
}

export class BanStore {
  constructor(private readonly db: Db) {}

  record(ban: StoredBan): void {
    this.db
      .prepare('INSERT OR REPLACE INTO bans (source, banned_at, expires_at) VALUES (?, ?, ?)')
      .run(ban.source, ban.bannedAt, ban.expiresAt);
  }

  /** Whether there was a row for `source`. */
  remove(source: string): boolean {
    return this.db.prepare('DELETE FROM bans WHERE source = ?').run(source).changes > 0;
  }

  /** Bans not yet expired at `now`, soonest expiry first. */
  active(now: number): StoredBan[] {
    const rows = this.db.prepare('SELECT source, banned_at, expires_at FROM bans WHERE expires_at > ? ORDER BY expires_at, source').all(now) as BanRow[];
    return rows.map((r) => ({ source: r.source, bannedAt: r.banned_at, expiresAt: r.expires_at }));
  }

  /** Forgets the bans expired at `now` (a server that stopped before their expiry left them). */
  purgeExpired(now: number): void {
    this.db.prepare('DELETE FROM bans WHERE expires_at <= ?').run(now);
  }
}
