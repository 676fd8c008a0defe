import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { planReload } from '../../../src/config/reload-plan.js';
import type { VoixConfig } from '../../../src/config/types.js';

function config(overrides = '', users = USERS): VoixConfig {
  const loaded = parseConfig(`server:\n  domain: voix.test\n  data_dir: /var/lib/voix\n${overrides}${users}`, 'voix.yaml');
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
  return loaded.config;
}

const USERS = `users:
  - { extension: "1001", password: "alice-secret-1001", transports: [udp] }
  - { extension: "1002", password: "bruno-secret-1002", transports: [udp] }
`;

describe('planReload', () => {
  it('applies user changes and lists them by extension', () => {
    const running = config();
    const next = config('', `${USERS.replace('bruno-secret-1002', 'bruno-changed-1002')}  - { extension: "1003", password: "chloe-secret-1003" }\n`);

    const plan = planReload(running, next);

    expect(plan.applied).toEqual(['users: added 1003; changed 1002']);
    expect(plan.restartRequired).toEqual([]);
    expect(plan.effective.users).toBe(next.users);
  });

  it('applies calls, registrar, ban thresholds and digest algorithms at once', () => {
    const running = config();
    const next = config('calls: { ring_timeout: 20 }\nregistrar: { min_expires: 120 }\nsecurity: { ban: { max_failures: 3 } }\nauth: { algorithms: [MD5] }\n');

    const plan = planReload(running, next);

    expect(plan.applied).toEqual(['registrar', 'auth.algorithms', 'calls', 'security.ban']);
    expect(plan.effective.calls.ringTimeoutSeconds).toBe(20);
    expect(plan.effective.security.ban.maxFailures).toBe(3);
  });

  it('keeps what needs a restart at its running value and says so, key by key', () => {
    const running = config();
    const next = config('  log_level: debug\n  listen: { udp: { port: 5070 } }\nmedia: { port_min: 20000, port_max: 20999 }\nauth: { nonce_lifetime: 600 }\n');

    const plan = planReload(running, next);

    expect(plan.restartRequired).toEqual([
      'server.log_level changed: restart voix to apply',
      'server.listen changed: restart voix to apply',
      'media.port_min changed: restart voix to apply',
      'media.port_max changed: restart voix to apply',
      'auth.nonce_lifetime changed: restart voix to apply',
    ]);
    expect(plan.applied).toEqual([]);
    expect(plan.effective.server).toBe(running.server);
    expect(plan.effective.media).toBe(running.media);
    expect(plan.effective.auth.nonceLifetimeSeconds).toBe(running.auth.nonceLifetimeSeconds);
  });

  it('applies a new shutdown grace, overload limits and SIP limits at once', () => {
    const running = config();
    const next = config('  shutdown_grace: 60\noverload: { max_requests_per_second: 500 }\nlimits: { max_headers: 60 }\n');

    const plan = planReload(running, next);

    expect(plan.restartRequired).toEqual([]);
    expect(plan.applied).toEqual(['server.shutdown_grace', 'overload', 'limits']);
    expect(plan.effective.server.shutdownGraceSeconds).toBe(60);
    expect(plan.effective.server.listen).toBe(running.server.listen);
    expect(plan.effective.overload.maxRequestsPerSecond).toBe(500);
    expect(plan.effective.limits.maxHeaders).toBe(60);
  });

  it('holds the users back when the realm changes: their hashes would not match the realm in use', () => {
    const running = config();
    const next = config('  realm: agence\n', `${USERS}  - { extension: "1003", password: "chloe-secret-1003" }\n`);

    const plan = planReload(running, next);

    expect(plan.restartRequired).toEqual([expect.stringMatching(/^server\.realm changed: restart voix to apply \(the users were not reloaded/)]);
    expect(plan.applied).toEqual([]);
    expect(plan.effective.users).toBe(running.users);
  });

  it('names any other changed section by its file key, for the parts that follow it (router, trunks)', () => {
    const running = { ...config(), trunks: [], permissionClasses: new Map([['interne', ['internal']]]) } as unknown as VoixConfig;
    const next = { ...running, trunks: [{ name: 'ovh' }], permissionClasses: new Map([['interne', ['internal', 'national']]]) } as unknown as VoixConfig;

    const plan = planReload(running, next);

    expect([...plan.applied].sort()).toEqual(['permission_classes', 'trunks']);
    expect(plan.effective).toMatchObject({ trunks: [{ name: 'ovh' }] });
  });

  it('an unchanged file changes nothing', () => {
    const plan = planReload(config(), config());

    expect(plan).toMatchObject({ applied: [], restartRequired: [] });
  });
});
