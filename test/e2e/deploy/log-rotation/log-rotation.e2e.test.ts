import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { runUnitCommands, useHarness } from '../../harness/index.js';
import { createServerLab, installedDebian12, jsonLines, startVoixService, useDebian12Base } from '../deploy-lab.js';

useHarness();
useDebian12Base();

it('DEPLOI-05: logrotate rotates voix.log with the installed rule (daily, 180 kept) while voix runs, and voix goes on writing to the live file (a reload through the unit\'s ExecReload)', async () => {
  const rootfs = await installedDebian12();
  const debug = await rootfs.run('logrotate', ['--debug', '/etc/logrotate.d/voix'], { timeoutMs: 15_000 });
  const lab = await createServerLab();
  const voix = await startVoixService(rootfs, lab);
  const before = await readFile(rootfs.file('/var/log/voix/voix.log'), 'utf8');
  const rotate = await rootfs.run('logrotate', ['--force', '/etc/logrotate.d/voix'], { timeoutMs: 15_000 });
  const since = voix.log.mark();
  // What `systemctl reload voix` runs (voix reload: the file checked, then SIGHUP), as the unit's user.
  const [reload] = await runUnitCommands(rootfs, voix.unit, 'ExecReload', { netns: lab.netns });
  await voix.log.waitForLine((l) => l.includes('"msg":"reload requested"'), 10_000, { since });
  const live = jsonLines((await readFile(rootfs.file('/var/log/voix/voix.log'), 'utf8')).split('\n'));
  const rotated = await readFile(rootfs.file('/var/log/voix/voix.log.1'), 'utf8');

  expect(debug.code).toBe(0);
  expect(debug.stdout + debug.stderr).toMatch(/rotating pattern: \/var\/log\/voix\/voix\.log\s+after 1 days \(180 rotations\)/);
  expect(rotate).toMatchObject({ code: 0, stderr: '' });
  expect(reload?.code).toBe(0);
  expect(rotated).toBe(before);
  expect(live[0]).toMatchObject({ msg: 'reload requested', signal: 'SIGHUP' });
}, 240_000);
