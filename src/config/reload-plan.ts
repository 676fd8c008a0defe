/**
 * What a configuration reload may change in a running voix, decided from the
 * running and the new configuration alone (pure, no I/O). Sockets, the data
 * directory, the media workers and the SIP identity (domain, realm) are set
 * up once at start: a change there is kept for the next start and reported
 * as "restart voix to apply"; everything else is applied at once. Keys in
 * messages are the file's (snake_case), so the operator finds them.
 */
import { isDeepStrictEqual } from 'node:util';
import type { UserConfig, VoixConfig } from './types.js';

export interface ReloadPlan {
  /**
   * The configuration to run with from now on: the new one, except the
   * settings that need a restart, which keep their running value.
   */
  readonly effective: VoixConfig;
  /** What changes now, one line per part: `users: added 1005`, `calls`, `trunks`. */
  readonly applied: readonly string[];
  /** `server.listen changed: restart voix to apply`, one per setting. */
  readonly restartRequired: readonly string[];
}

interface RestartOnlySetting {
  /** Key path in the file. */
  readonly key: string;
  readonly changed: (running: VoixConfig, next: VoixConfig) => boolean;
  /** Said after "restart voix to apply" when the change holds back more than itself. */
  readonly consequence?: string;
}

const same = (a: unknown, b: unknown): boolean => isDeepStrictEqual(a, b);

/** Settings read once at start: sockets, files, workers, identity. */
const RESTART_ONLY: readonly RestartOnlySetting[] = [
  { key: 'server.domain', changed: (a, b) => a.server.domain !== b.server.domain },
  {
    key: 'server.realm',
    changed: (a, b) => a.server.realm !== b.server.realm,
    // RFC 7616 §3.4.2: HA1 hashes the realm; new users' hashes would not match the realm still in use.
    consequence: 'the users were not reloaded either: their digest hashes depend on the realm',
  },
  { key: 'server.aliases', changed: (a, b) => !same(a.server.aliases, b.server.aliases) },
  { key: 'server.public_address', changed: (a, b) => a.server.publicAddress !== b.server.publicAddress },
  { key: 'server.data_dir', changed: (a, b) => a.server.dataDir !== b.server.dataDir },
  { key: 'server.log_level', changed: (a, b) => a.server.logLevel !== b.server.logLevel },
  { key: 'server.listen', changed: (a, b) => !same(a.server.listen, b.server.listen) },
  { key: 'media.address', changed: (a, b) => a.media.address !== b.media.address },
  { key: 'media.public_address', changed: (a, b) => a.media.publicAddress !== b.media.publicAddress },
  { key: 'media.port_min', changed: (a, b) => a.media.portMin !== b.media.portMin },
  { key: 'media.port_max', changed: (a, b) => a.media.portMax !== b.media.portMax },
  { key: 'media.workers', changed: (a, b) => a.media.workers !== b.media.workers },
  { key: 'auth.nonce_lifetime', changed: (a, b) => a.auth.nonceLifetimeSeconds !== b.auth.nonceLifetimeSeconds },
  { key: 'admin.listen', changed: (a, b) => !same(a.admin.listen, b.admin.listen) },
];

/** Top-level sections this file looks into itself; any other one is compared whole. */
const DETAILED_SECTIONS: ReadonlySet<string> = new Set(['server', 'media', 'auth', 'users', 'registrar', 'calls', 'security', 'admin']);

/** `permissionClasses` → `permission_classes`: the file's name of a section. */
function fileKey(section: string): string {
  return section.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function describeUserChanges(running: readonly UserConfig[], next: readonly UserConfig[]): string | null {
  const before = new Map(running.map((u) => [u.extension, u]));
  const after = new Map(next.map((u) => [u.extension, u]));
  const added = [...after.keys()].filter((e) => !before.has(e));
  const removed = [...before.keys()].filter((e) => !after.has(e));
  const changed = [...after.keys()].filter((e) => before.has(e) && !same(before.get(e), after.get(e)));
  const parts: string[] = [];
  if (added.length > 0) parts.push(`added ${added.join(', ')}`);
  if (removed.length > 0) parts.push(`removed ${removed.join(', ')}`);
  if (changed.length > 0) parts.push(`changed ${changed.join(', ')}`);
  return parts.length === 0 ? null : parts.join('; ');
}

export function planReload(running: VoixConfig, next: VoixConfig): ReloadPlan {
  const restartRequired: string[] = [];
  for (const setting of RESTART_ONLY) {
    if (!setting.changed(running, next)) continue;
    const suffix = setting.consequence === undefined ? '' : ` (${setting.consequence})`;
    restartRequired.push(`${setting.key} changed: restart voix to apply${suffix}`);
  }
  const realmChanged = running.server.realm !== next.server.realm;

  const applied: string[] = [];
  if (!realmChanged) {
    const users = describeUserChanges(running.users, next.users);
    if (users !== null) applied.push(`users: ${users}`);
  }
  if (!same(running.registrar, next.registrar)) applied.push('registrar');
  if (!same(running.auth.algorithms, next.auth.algorithms)) applied.push('auth.algorithms');
  if (!same(running.auth.md5OnlyUserAgents, next.auth.md5OnlyUserAgents)) applied.push('auth.md5_only_user_agents');
  if (!same(running.calls, next.calls)) applied.push('calls');
  if (!same(running.security.ban, next.security.ban)) applied.push('security.ban');
  if (running.security.sdesOverPlaintext !== next.security.sdesOverPlaintext) applied.push('security.sdes_over_plaintext');
  if (running.server.shutdownGraceSeconds !== next.server.shutdownGraceSeconds) applied.push('server.shutdown_grace');
  // Sections handled by their own parts (router, trunk registrations): they get the change event.
  const runningSections = running as unknown as Readonly<Record<string, unknown>>;
  const nextSections = next as unknown as Readonly<Record<string, unknown>>;
  for (const section of Object.keys(next)) {
    if (DETAILED_SECTIONS.has(section)) continue;
    if (!same(runningSections[section], nextSections[section])) applied.push(fileKey(section));
  }

  const effective: VoixConfig = {
    ...next,
    // The grace of the next SIGTERM is read when it comes: it applies at once.
    server: running.server.shutdownGraceSeconds === next.server.shutdownGraceSeconds ? running.server : { ...running.server, shutdownGraceSeconds: next.server.shutdownGraceSeconds },
    media: running.media,
    admin: running.admin,
    auth: { ...next.auth, nonceLifetimeSeconds: running.auth.nonceLifetimeSeconds },
    users: realmChanged ? running.users : next.users,
  };
  return { effective, applied, restartRequired };
}
