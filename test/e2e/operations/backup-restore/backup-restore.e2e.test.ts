import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runProcess, startBaresip, useHarness } from '../../harness/index.js';
import { TONE_A_HZ, TONE_B_HZ, establishCall, parseRecentCalls, startCallLab, startTonePhone, waitForCallEnded } from '../../calls/call-helpers.js';

useHarness();

/** A command of the backup page, run as the operator would (bounded). */
function run(command: string, args: readonly string[]) {
  return runProcess(command, args, { timeoutMs: 30_000, label: `${command} ${args.join(' ')}` });
}

it('OPS-SAUVEGARDE-01: a hot backup (sqlite3 .backup, tar of the CA) restores voix with its call history and the same CA', async () => {
  const lab = await startCallLab();
  const { voix } = lab;
  const caBefore = await voix.waitForLog((l) => l.msg === 'tls ca', 5000);
  const a = await startTonePhone(lab, voix.account('1001', 'udp'), TONE_A_HZ);
  const b = await startTonePhone(lab, voix.account('1002', 'udp'), TONE_B_HZ);
  await establishCall(a.phone, b.phone, voix, '1002');
  const ended = voix.mark();
  expect((await a.phone.command('hangup')).ok).toBe(true);
  await waitForCallEnded(voix, ended);
  const callsBefore = await voix.cli(['calls', '--recent', '5']);
  await a.phone.stop();
  await b.phone.stop();

  // The backup, voix running (docs/exploitation.md, « Sauvegarder et restaurer »).
  const backup = join(lab.dir, 'sauvegarde');
  await mkdir(backup, { mode: 0o700 });
  const database = await run('sqlite3', [join(voix.dataDir, 'voix.db'), `.backup '${join(backup, 'voix.db')}'`]);
  const archive = await run('tar', ['-C', voix.dataDir, '-czf', join(backup, 'fichiers.tar.gz'), 'tls']);
  const integrity = await run('sqlite3', [join(backup, 'voix.db'), 'pragma integrity_check']);
  // What a phone imported: the CA as it was.
  const phoneCa = join(lab.dir, 'ca-du-telephone.crt');
  await copyFile(voix.caPath ?? join(voix.dataDir, 'tls', 'ca.crt'), phoneCa);

  // The machine is lost: voix stops and its data goes, prepared prompts included.
  await voix.stop();
  await rm(voix.dataDir, { recursive: true, force: true });
  await mkdir(voix.dataDir, { mode: 0o750 });
  // The restore: the archive, the database copy; nothing else.
  const extracted = await run('tar', ['-C', voix.dataDir, '-xzf', join(backup, 'fichiers.tar.gz')]);
  await copyFile(join(backup, 'voix.db'), join(voix.dataDir, 'voix.db'));
  const check = await voix.cli(['check']);
  await voix.restart();
  const caAfter = await voix.waitForLog((l) => l.msg === 'tls ca', 5000);
  const callsAfter = await voix.cli(['calls', '--recent', '5']);
  const phone = await startBaresip({ account: voix.account('1003', 'tls'), caFile: phoneCa });
  const registration = await phone.waitForRegistration(10_000);

  expect(database.code, database.stderr).toBe(0);
  expect(archive.code, archive.stderr).toBe(0);
  expect([integrity.code, integrity.stdout.trim()]).toEqual([0, 'ok']);
  expect(extracted.code, extracted.stderr).toBe(0);
  expect(check.code, `voix check: ${check.stdout}${check.stderr}`).toBe(0);
  // The restored CA, not a new one: same fingerprint, not created.
  expect(caBefore['created']).toBe(true);
  expect(caAfter).toMatchObject({ created: false, fingerprint: caBefore['fingerprint'] });
  // The history came back whole.
  expect(callsBefore.code, callsBefore.stderr).toBe(0);
  expect(callsAfter.code, callsAfter.stderr).toBe(0);
  const before = parseRecentCalls(callsBefore.stdout);
  expect(before).toEqual([expect.objectContaining({ caller: '1001', callee: '1002', status: 200, cause: 'normal', by: 'caller' })]);
  expect(parseRecentCalls(callsAfter.stdout)).toEqual(before);
  // A phone that trusts the CA it imported before the loss registers over TLS.
  expect(registration).toMatchObject({ ok: true, status: '200 OK' });
});
