import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT, getFreePort, makeTempDir, runProcess, useHarness } from '../../harness/index.js';

useHarness();

const BROKEN = (port: number, dataDir: string) => `server:
  domain: voix.test
  data_dir: ${dataDir}
  listen:
    udp: { address: 127.0.0.1, port: ${port} }
    tcp: false
    tls: false
users:
  - extension: "1001"
    name: Alice
    pasword: "long-enough-password-1"
  - extension: "1002"
    password: "short"
  - extension: "1001"
    password: "another-long-password"
`;

it('CFG-01: a broken config is refused with file, line and key for each error, and the server does not start', async () => {
  const dir = await makeTempDir('config');
  const port = await getFreePort();
  const file = join(dir, 'voix.yaml');
  await writeFile(file, BROKEN(port, join(dir, 'data')));

  const check = await runProcess(process.execPath, [join(REPO_ROOT, 'dist/cli/voix.js'), 'check', '--config', file], { timeoutMs: 20_000 });
  const server = await runProcess(process.execPath, [join(REPO_ROOT, 'dist/server.js'), '--config', file], { timeoutMs: 20_000 });
  await writeFile(file, BROKEN(port, join(dir, 'data')).replace('pasword', 'password').replace('"short"', '"now-long-enough-1002"').replace('extension: "1001"\n    password: "another', 'extension: "1003"\n    password: "another'));
  const fixed = await runProcess(process.execPath, [join(REPO_ROOT, 'dist/cli/voix.js'), 'check', '--config', file], { timeoutMs: 20_000 });

  for (const run of [check, server]) {
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`${file}:11:5 users\\[0\\]\\.pasword: `));
    expect(run.stderr).toMatch(new RegExp(`${file}:13:15 users\\[1\\]\\.password: .*12`));
    expect(run.stderr).toMatch(new RegExp(`${file}:14:16 users\\[2\\]\\.extension: .*line 9`));
    expect(run.stderr).not.toContain('short');
    expect(run.stderr).not.toContain('long-enough-password');
  }
  expect(server.stdout).not.toContain('"msg":"listening"');
  expect(fixed.code, fixed.stderr).toBe(0);
  expect(fixed.stdout).toContain('OK');
});
