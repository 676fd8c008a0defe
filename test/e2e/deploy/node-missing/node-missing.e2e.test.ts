import { lstatSync } from 'node:fs';
import { expect, it } from 'vitest';
import { mountOverlay, useHarness } from '../../harness/index.js';
import { copyCheckout, runDeployScript, useDebian12Base } from '../deploy-lab.js';

useHarness();

const debian12 = useDebian12Base();

it('DEPLOI-06: on a Debian 12 without Node.js 20, install.sh stops with a clear error saying how to install it, and installs nothing', async () => {
  const rootfs = (await mountOverlay([debian12()])).rootfs;
  await rootfs.check('env', ['DEBIAN_FRONTEND=noninteractive', 'dpkg', '--purge', 'nodejs'], { timeoutMs: 60_000 });
  await copyCheckout(rootfs);

  const install = await runDeployScript(rootfs, 'install.sh');
  const leftovers = ['/opt/voix', '/etc/voix', '/var/lib/voix', '/etc/systemd/system/voix.service'].filter((path) => {
    try {
      lstatSync(rootfs.file(path));
      return true;
    } catch {
      return false;
    }
  });
  const packages = await rootfs.run('dpkg-query', ['-W', '-f=${Status}\\n', 'nodejs', 'gcc', 'fail2ban'], { timeoutMs: 15_000 });
  const passwd = await rootfs.run('getent', ['passwd', 'voix'], { timeoutMs: 15_000 });

  expect(install.code).toBe(2);
  expect(install.stderr).toMatch(/voix needs Node\.js 20\.19 or later .*; found: none\./);
  expect(install.stderr).toMatch(/offers nodejs 18\.[^ ]+ \(Debian 12 ships 18\)/);
  expect(install.stderr).toMatch(/NodeSource/);
  expect(leftovers).toEqual([]);
  expect(packages.stdout).not.toMatch(/install ok installed/);
  expect(passwd.code).not.toBe(0);
}, 120_000);
