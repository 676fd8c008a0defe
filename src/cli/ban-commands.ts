/**
 * `voix bans` and `voix unban ADDRESS`: the sources voix banned for
 * repeated authentication failures (security.ban), as kept in its
 * database, and lifting one by hand (a phone with an old password took the
 * office's public address down with it, say).
 *
 * `voix unban` deletes the ban's row, then has the running voix re-read
 * the table (SIGUSR2) and waits until it has. A ban that fail2ban put in
 * the firewall is fail2ban's own: the command says how to lift that one.
 */
import { isIP } from 'node:net';
import type { VoixConfig } from '../config/types.js';
import { BanStore } from '../store/ban-store.js';
import { readRuntimeState } from '../store/runtime-state-store.js';
import { loadConfigReporting } from './args.js';
import { jsonOnly } from './options.js';
import { EXIT_INTERNAL, EXIT_NOTHING, EXIT_OK, UserError, err, formatTable, openDatabaseForWriting, openExistingDatabase, out, printJson } from './output.js';
import { formatDuration, serverLiveness } from './server-process.js';

const SYNC_TIMEOUT_MS = 5000;

async function loadOrFail(configPath: string): Promise<VoixConfig> {
  const loaded = await loadConfigReporting(configPath);
  if ('errors' in loaded) throw new UserError(`${loaded.errors} error(s) in ${configPath}`);
  return loaded.config;
}

export async function bans(configPath: string, words: readonly string[]): Promise<number> {
  const json = jsonOnly(words, 'usage: voix bans [--json]');
  const config = await loadOrFail(configPath);
  const db = openExistingDatabase(config);
  if (db === null) return EXIT_NOTHING;
  try {
    const now = Date.now();
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'bans'").get();
    const active = table === undefined ? [] : new BanStore(db).active(now);
    if (json) {
      printJson(active.map((b) => ({ source: b.source, bannedAt: new Date(b.bannedAt).toISOString(), expiresAt: new Date(b.expiresAt).toISOString(), expiresInSeconds: Math.round((b.expiresAt - now) / 1000) })));
      return EXIT_OK;
    }
    const rows = [['SOURCE', 'BANNED AT', 'EXPIRES IN']];
    for (const b of active) rows.push([b.source, new Date(b.bannedAt).toISOString(), formatDuration(b.expiresAt - now)]);
    for (const line of formatTable(rows)) out(line);
    out(`${active.length} ban(s)`);
    return EXIT_OK;
  } finally {
    db.close();
  }
}

export async function unban(configPath: string, words: readonly string[]): Promise<number> {
  const usage = 'usage: voix unban ADDRESS [--json]';
  const [address, ...rest] = words;
  if (address === undefined || address.startsWith('--')) throw new UserError(usage);
  const json = jsonOnly(rest, usage);
  if (isIP(address) === 0) throw new UserError(`not an IP address: ${address}\n${usage}`);
  const config = await loadOrFail(configPath);
  const db = openDatabaseForWriting(config);
  try {
    const removed = new BanStore(db).remove(address);
    const liveness = serverLiveness(readRuntimeState(db));
    let told: 'lifted' | 'not running' | 'no answer' = 'not running';
    if (liveness.running) {
      const before = liveness.state.banSyncs;
      try {
        process.kill(liveness.state.pid, 'SIGUSR2');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EPERM') {
          throw new UserError(`not allowed to signal voix (pid ${liveness.state.pid}): run this as the user voix runs as, or as root`);
        }
        throw error;
      }
      told = (await waitForBanSync(() => readRuntimeState(db)?.banSyncs ?? before, before)) ? 'lifted' : 'no answer';
    }
    if (json) {
      printJson({ address, banned: removed, server: told });
    } else {
      if (!removed) out(`voix had no ban on ${address}`);
      else if (told === 'lifted') out(`ban on ${address} lifted: voix (pid ${liveness.running ? liveness.state.pid : '?'}) answers it again`);
      else if (told === 'not running') out(`ban on ${address} removed: voix is not running, it will not restore it at start`);
      else err(`ban on ${address} removed from the database, but voix did not confirm within ${SYNC_TIMEOUT_MS / 1000} s: see its log`);
      out(`if fail2ban banned it too (its jail "voix"): fail2ban-client set voix unbanip ${address}`);
    }
    if (told === 'no answer') return EXIT_INTERNAL;
    return removed ? EXIT_OK : EXIT_NOTHING;
  } finally {
    db.close();
  }
}

async function waitForBanSync(read: () => number, before: number): Promise<boolean> {
  const deadline = Date.now() + SYNC_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (read() > before) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return read() > before;
}
