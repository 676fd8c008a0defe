/**
 * The real `voix` entry point (src/cli/voix.ts run by node with tsx) for the
 * campaign and do-not-call commands: dispatch, exit codes, and bytes on
 * standard output (the CSV export's byte order mark).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/store/database.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const ENTRY = path.join(REPO, 'src/cli/voix.ts');

let dir: string;
let configPath: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'voix-campaign-cli-'));
  configPath = path.join(dir, 'voix.yaml');
  writeFileSync(
    configPath,
    `server:
  domain: voix.test
  data_dir: ./data
users:
  - extension: "1001"
    password: "correct-horse-battery"
trunks:
  - name: operator
    host: sip.operator.example
    transport: udp
    username: "0123456789"
    password: "provider-secret"
    register: false
campaigns:
  - name: relance
    purpose: customer
    trunk: operator
    message: { text: "Bonjour {prenom}" }
`,
  );
  writeFileSync(path.join(dir, 'contacts.csv'), 'Prénom;Nom;Téléphone\nHélène;Dupont;06 12 34 56 78\nAnne;Leroy;12345\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function voix(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', ENTRY, '--config', configPath, ...args], { cwd: REPO, encoding: 'utf8', timeout: 15_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('voix campaign and voix dnc (real entry point)', () => {
  it('imports with exit 0 even with a rejected row, then exports a CSV with a byte order mark to standard output', async () => {
    const imported = await voix('campaign', 'import', 'relance', path.join(dir, 'contacts.csv'));
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stderr).toContain('contacts.csv:3: invalid phone number "12345" (region FR)');
    expect(imported.stdout).toContain('  added       1');

    const exported = await voix('campaign', 'export', 'relance');
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout.startsWith('\uFEFFphone;source_line;')).toBe(true);
    expect(exported.stdout).toContain('\r\n+33612345678;2;Hélène;Dupont;');
  });

  it('user errors exit 2 with a one-line message: an unreadable file, an invalid number, a missing subcommand', async () => {
    const missing = await voix('campaign', 'import', 'relance', path.join(dir, 'missing.csv'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^voix: cannot read .*missing\.csv: ENOENT/m);

    const invalid = await voix('dnc', 'add', '12345');
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('voix: invalid phone number "12345" (region FR)');

    const bare = await voix('campaign');
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('usage: voix campaign create NAME');
    expect(bare.stderr).toContain('voix campaign import NAME FILE.csv');
  });

  it('a database failure during an import exits 1 as an internal error, not 2 as a problem of the file', async () => {
    const db = openDatabase(path.join(dir, 'data'));
    db.exec(`CREATE TRIGGER disk_on_fire BEFORE INSERT ON campaign_contacts BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`);
    db.close();
    writeFileSync(path.join(dir, 'more.csv'), 'téléphone\n07 12 34 56 78\n');
    try {
      const failed = await voix('campaign', 'import', 'relance', path.join(dir, 'more.csv'));

      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/^voix: internal error \(a bug\): .*disk on fire/m);
    } finally {
      const cleanup = openDatabase(path.join(dir, 'data'));
      cleanup.exec('DROP TRIGGER disk_on_fire');
      cleanup.close();
    }
  });
});
