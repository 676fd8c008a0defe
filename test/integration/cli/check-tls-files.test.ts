/**
 * `voix check` (the real entry point) on the TLS certificate and key a
 * configuration names: a missing file, a file that is not PEM, a key that
 * is not the certificate's are errors at their line and key (exit 2, a configuration error),
 * because the server would stop at its first TLS listen and systemd would
 * restart it into the same error; an expired certificate is a warning.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureServerCertificate } from '../../../src/tls/certificates.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const ENTRY = path.join(REPO, 'src/cli/voix.ts');

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'voix-check-tls-'));
  const good = ensureServerCertificate({ dir: path.join(dir, 'good'), hostnames: ['voix.test'], ipAddresses: ['127.0.0.1'] });
  const other = ensureServerCertificate({ dir: path.join(dir, 'other'), hostnames: ['voix.test'], ipAddresses: ['127.0.0.1'] });
  const old = ensureServerCertificate({ dir: path.join(dir, 'old'), hostnames: ['voix.test'], ipAddresses: ['127.0.0.1'], now: new Date('2001-01-01T00:00:00Z') });
  mkdirSync(path.join(dir, 'pem'));
  writeFileSync(path.join(dir, 'pem/server.crt'), good.certPem);
  writeFileSync(path.join(dir, 'pem/server.key'), good.keyPem);
  writeFileSync(path.join(dir, 'pem/other.key'), other.keyPem);
  writeFileSync(path.join(dir, 'pem/old.crt'), old.certPem);
  writeFileSync(path.join(dir, 'pem/old.key'), old.keyPem);
  writeFileSync(path.join(dir, 'pem/garbage.crt'), 'not a certificate\n');
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `voix check` on a configuration whose TLS listener names these files (relative to the configuration's folder). */
function check(certificate: string, key: string): Promise<{ code: number; stdout: string; stderr: string; config: string }> {
  const config = path.join(dir, `voix-${path.basename(certificate)}-${path.basename(key)}.yaml`);
  writeFileSync(
    config,
    [
      'server:',
      '  domain: voix.test',
      '  data_dir: ./data',
      '  listen:',
      '    udp: { address: 127.0.0.1, port: 5060 }',
      '    tls:',
      '      address: 127.0.0.1',
      '      port: 5061',
      `      certificate: ${certificate}`,
      `      key: ${key}`,
      'users:',
      '  - extension: "1001"',
      '    password: "correct-horse-battery"',
      '',
    ].join('\n'),
  );
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', ENTRY, 'check', '--config', config], { cwd: REPO, encoding: 'utf8', timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr, config });
    });
  });
}

describe('voix check, TLS certificate and key files', () => {
  it('accepts a readable certificate with its key', async () => {
    const run = await check('pem/server.crt', 'pem/server.key');
    expect(run.code, `${run.stdout}${run.stderr}`).toBe(0);
  });

  it('refuses a missing certificate file at its line and key', async () => {
    const run = await check('pem/missing.crt', 'pem/server.key');
    expect(run.code).toBe(2);
    const output = `${run.stdout}${run.stderr}`;
    expect(output).toContain(`${run.config}:9`);
    expect(output).toContain('server.listen.tls.certificate');
    expect(output).toContain(`cannot read ${path.join(dir, 'pem/missing.crt')}: no such file`);
  });

  it('refuses a certificate file that is not PEM', async () => {
    const run = await check('pem/garbage.crt', 'pem/server.key');
    expect(run.code).toBe(2);
    expect(`${run.stdout}${run.stderr}`).toMatch(/server\.listen\.tls\.certificate.*garbage\.crt is not a PEM certificate/);
  });

  it('refuses a key that is not the certificate’s, at the key’s line', async () => {
    const run = await check('pem/server.crt', 'pem/other.key');
    expect(run.code).toBe(2);
    const output = `${run.stdout}${run.stderr}`;
    expect(output).toContain(`${run.config}:10`);
    expect(output).toMatch(/server\.listen\.tls\.key.*other\.key is not the key of the certificate/);
  });

  it('warns about an expired certificate and still accepts the configuration', async () => {
    const run = await check('pem/old.crt', 'pem/old.key');
    expect(run.code, `${run.stdout}${run.stderr}`).toBe(0);
    expect(`${run.stdout}${run.stderr}`).toMatch(/old\.crt expired on 20\d\d-\d\d-\d\d: phones will refuse TLS/);
  });
});
