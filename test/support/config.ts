/**
 * A VoixConfig from YAML for unit tests, through the real loader: what a
 * test configures is what an operator could write.
 */
import { formatConfigIssue, parseConfig } from '../../src/config/load.js';
import type { VoixConfig } from '../../src/config/types.js';

/** Passwords long enough for the schema (never used to authenticate in unit tests). */
export const TEST_PASSWORD = 'correct-horse-battery';

export function configFromYaml(yaml: string): VoixConfig {
  const result = parseConfig(yaml, 'test.yaml');
  if (!result.ok) throw new Error(`test config is invalid:\n${result.errors.map(formatConfigIssue).join('\n')}`);
  return result.config;
}

/** `users` lines for extensions with the test password, plain transports. */
export function userLines(users: ReadonlyArray<{ extension: string; name?: string; extra?: string[] }>): string {
  return users
    .map((u) =>
      [
        `  - extension: "${u.extension}"`,
        `    name: ${u.name ?? `User ${u.extension}`}`,
        `    password: ${TEST_PASSWORD}`,
        '    transports: [udp, tcp, tls]',
        '    srtp: optional',
        ...(u.extra ?? []).map((l) => `    ${l}`),
      ].join('\n'),
    )
    .join('\n');
}
