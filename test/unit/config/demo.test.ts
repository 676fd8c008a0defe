import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatConfigIssue, loadConfigFile } from '../../../src/config/load.js';
import type { VoixConfig } from '../../../src/config/types.js';

const DEMO = fileURLToPath(new URL('../../../examples/demo.yaml', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

async function loadDemo(): Promise<VoixConfig> {
  const result = await loadConfigFile(DEMO);
  if (!result.ok) throw new Error(result.errors.map(formatConfigIssue).join('\n'));
  expect(result.warnings.map(formatConfigIssue)).toEqual([]);
  return result.config;
}

describe('examples/demo.yaml', () => {
  it('loads without errors or warnings', async () => {
    const config = await loadDemo();

    expect(config.server.domain).toBe('voix.local');
    expect(config.server.aliases).toContain('127.0.0.1');
  });

  it('keeps its data in the repository’s git-ignored var/demo', async () => {
    const config = await loadDemo();

    expect(config.server.dataDir).toBe(`${REPO}var/demo`);
    expect(readFileSync(`${REPO}.gitignore`, 'utf8').split('\n')).toContain('/var/');
  });

  it('listens on every interface with the default ports and a generated certificate', async () => {
    const config = await loadDemo();

    expect(config.server.listen).toEqual({
      udp: { address: '0.0.0.0', port: 5060 },
      tcp: { address: '0.0.0.0', port: 5060 },
      tls: { address: '0.0.0.0', port: 5061, certificate: null },
    });
  });

  it('has users 1001 and 1002 on TLS only, 1003 and 1004 on any transport', async () => {
    const config = await loadDemo();

    expect(config.users.map((u) => [u.extension, u.transports])).toEqual([
      ['1001', ['tls']],
      ['1002', ['tls']],
      ['1003', ['udp', 'tcp', 'tls']],
      ['1004', ['udp', 'tcp', 'tls']],
    ]);
    for (const user of config.users) expect(user.displayName).toMatch(/^\p{L}+ \p{L}+$/u);
  });

  it('gives every demo user a clear password of at least 12 characters', () => {
    const raw = parse(readFileSync(DEMO, 'utf8')) as { users: { password?: unknown }[] };

    for (const user of raw.users) expect(String(user.password).length).toBeGreaterThanOrEqual(12);
  });

  it('points editors at the generated JSON Schema on its first line', () => {
    const firstLine = readFileSync(DEMO, 'utf8').split('\n')[0];

    expect(firstLine).toBe('# yaml-language-server: $schema=../schema/voix-config.schema.json');
  });

  it('has a ring group, a forward and office hours to try, and keeps every user internal-only', async () => {
    const config = await loadDemo();

    expect(config.groups).toEqual([{ number: '2000', name: 'Accueil', strategy: 'simultaneous', members: ['1001', '1002'], ringSeconds: 20, fallback: '1003' }]);
    expect(config.users.find((u) => u.extension === '1003')?.forward).toMatchObject({ noAnswer: '1004', noAnswerSeconds: 20 });
    expect([...config.timeConditions.keys()]).toEqual(['bureau']);
    expect(config.users.map((u) => u.permissionClass)).toEqual(['internal', 'internal', 'internal', 'internal']);
    expect(config.trunks).toEqual([]);
  });

  it('has a French voice menu (3000) and a closing message (8000) reachable from the demo users', async () => {
    const config = await loadDemo();

    expect(config.menus.map((m) => [m.number, m.name, m.timeCondition])).toEqual([['3000', 'Standard', 'bureau']]);
    expect([...(config.menus[0]?.options.entries() ?? [])]).toEqual([
      ['1', { kind: 'destination', number: '2000' }],
      ['2', { kind: 'destination', number: '1003' }],
      ['*', { kind: 'repeat' }],
    ]);
    expect(config.messages.map((m) => m.number)).toEqual(['8000']);
    expect(config.menus[0]?.greeting).toMatchObject({ kind: 'text', voice: 'fr' });
  });
});
