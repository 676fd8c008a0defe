import { readFile, writeFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { startBaresip, startVoix, useHarness } from '../../harness/index.js';

useHarness();

it('CONF-RELOAD-02: a broken configuration is refused at reload with its line and key, and voix keeps serving with the running one', async () => {
  const voix = await startVoix();
  const a = await startBaresip({ account: voix.account('1001', 'udp') });
  expect(await a.waitForRegistration(10_000)).toMatchObject({ ok: true, status: '200 OK' });
  const good = await readFile(voix.configPath, 'utf8');
  const broken = good.replace('min_expires:', 'min_expirs:');
  const line = broken.split('\n').findIndex((l) => l.includes('min_expirs:')) + 1;
  const column = (broken.split('\n')[line - 1] ?? '').indexOf('min_expirs') + 1;
  await writeFile(voix.configPath, broken);

  // `voix reload` checks the file first and sends nothing.
  const since = voix.mark();
  const refused = await voix.cli(['reload']);
  // A SIGHUP from elsewhere (systemctl reload, kill -HUP): the server reads the file itself and refuses it.
  process.kill(voix.process.pid, 'SIGHUP');
  const refusedLog = await voix.waitForLog((log) => log.msg === 'config reload refused', 5000, since);
  const status = await voix.cli(['status', '--json']);
  const requested = voix.logs().slice(since).filter((log) => log.msg === 'reload requested');
  const b = await startBaresip({ account: voix.account('1002', 'udp') });
  const registration = await b.waitForRegistration(10_000);
  await writeFile(voix.configPath, good);
  const fixed = await voix.cli(['reload']);

  const where = `${voix.configPath}:${line}:${column} registrar.min_expirs: unknown key`;
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain(where);
  expect(refused.stderr).toContain('nothing sent');
  // Only the direct SIGHUP reached voix.
  expect(requested).toHaveLength(1);
  expect(refusedLog).toMatchObject({ level: 'error', error: expect.stringContaining(where) });
  expect(voix.process.running).toBe(true);
  expect(JSON.parse(status.stdout)).toMatchObject({
    running: true,
    generation: 1,
    lastReload: { status: 'refused', generation: 1, errors: [expect.stringContaining(where)] },
  });
  expect(registration).toMatchObject({ ok: true, status: '200 OK' });
  expect(fixed.code, fixed.stderr).toBe(0);
  expect(fixed.stdout).toContain('generation 2');
});
