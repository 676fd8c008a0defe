import { lstatSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { useHarness, type Rootfs } from '../../harness/index.js';
import { createServerLab, installedDebian12, runDeployScript, SERVICE_FILES, startVoixService, useDebian12Base } from '../deploy-lab.js';

useHarness();
useDebian12Base();

/** The operator's and the service's data, kept unless --purge. */
const DATA = ['/etc/voix/voix.yaml', '/etc/voix/nftables.nft', '/var/lib/voix/voix.db', '/var/lib/voix/tls/ca.crt', '/var/log/voix/voix.log'];

/** The paths that exist in the root file system (a symbolic link counts: its absolute target points into it, not here). */
function present(rootfs: Rootfs, paths: readonly string[]): string[] {
  return paths.filter((path) => {
    try {
      lstatSync(rootfs.file(path));
      return true;
    } catch {
      return false;
    }
  });
}

async function hasUser(rootfs: Rootfs): Promise<boolean> {
  return (await readFile(rootfs.file('/etc/passwd'), 'utf8')).split('\n').some((line) => line.startsWith('voix:'));
}

it('DEPLOI-04: uninstall.sh removes the service and keeps the data, idempotently; install.sh brings it back with the data; --purge removes everything voix owns', async () => {
  const rootfs = await installedDebian12();
  await rootfs.check('sh', ['-c', 'printf "%s\\n" "Tournesol-Bleu-1001" | voix user add 1001 --name "Alice Martin" --password-stdin'], { timeoutMs: 30_000 });
  const voix = await startVoixService(rootfs, await createServerLab());
  await voix.process.stop();

  const uninstall = await runDeployScript(rootfs, 'uninstall.sh');
  const afterUninstall = { installed: present(rootfs, SERVICE_FILES), data: present(rootfs, DATA), user: await hasUser(rootfs) };
  const enabled = await rootfs.run('systemctl', ['is-enabled', 'voix.service'], { timeoutMs: 15_000 });
  const again = await runDeployScript(rootfs, 'uninstall.sh');
  const reinstall = await runDeployScript(rootfs, 'install.sh');
  const users = await rootfs.check('voix', ['user', 'list'], { timeoutMs: 30_000 });
  const afterReinstall = present(rootfs, SERVICE_FILES);
  const purge = await runDeployScript(rootfs, 'uninstall.sh', ['--purge']);
  const afterPurge = { installed: present(rootfs, SERVICE_FILES), data: present(rootfs, [...DATA, '/etc/voix', '/var/lib/voix', '/var/log/voix']), user: await hasUser(rootfs) };
  const purgeAgain = await runDeployScript(rootfs, 'uninstall.sh', ['--purge']);
  const node = await rootfs.run('node', ['--version'], { timeoutMs: 15_000 });

  expect(uninstall.code).toBe(0);
  expect(afterUninstall).toEqual({ installed: [], data: DATA, user: true });
  expect(enabled.code).not.toBe(0);
  expect(again.code).toBe(0);
  expect(again.stdout).not.toMatch(/^==> (Removed|Disabled)/m);
  expect(reinstall.code).toBe(0);
  expect(users.stdout).toMatch(/^1001\s+Alice Martin/m);
  expect(afterReinstall).toEqual(SERVICE_FILES);
  expect(purge.code).toBe(0);
  expect(afterPurge).toEqual({ installed: [], data: [], user: false });
  expect(purgeAgain.code).toBe(0);
  expect(purgeAgain.stdout).not.toMatch(/^==> (Removed|Disabled)/m);
  expect(node.stdout).toMatch(/^v20\./);
}, 240_000);
