import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { getFreePort, makeTempDir, probeRequest, runProcess, sendRaw, startVoix, useHarness, type VoixServer } from '../../harness/index.js';

useHarness();

/** svcrack 0.3.3 sends from 127.0.0.1 whatever -b says: the honest client is another address. */
const ATTACKER = '127.0.0.1';
const HONEST = '127.0.0.2';

async function svcrack(voix: VoixServer, dictionary: string) {
  const home = await makeTempDir('svcrack-home');
  const localPort = await getFreePort(ATTACKER);
  const result = await runProcess(
    'svcrack',
    ['-u1001', '-d', dictionary, '-p', String(voix.ports.udp), '-P', String(localPort), '--maximumtime', '4', '127.0.0.1'],
    { timeoutMs: 60_000, env: { HOME: home }, label: 'svcrack' },
  );
  // Its result table: | 1001 | <password> |
  const cracked = [...(result.stdout + result.stderr).matchAll(/^\|\s*1001\s*\|\s*(\S+)\s*\|$/gm)].map((m) => m[1]);
  return { ...result, cracked };
}

async function optionsFrom(localAddress: string, port: number): Promise<Array<number | null>> {
  const probe = probeRequest({ transport: 'udp', localAddress, localPort: 5060, host: '127.0.0.1', port, callId: `svcrack-probe-${localAddress}` });
  const exchange = await sendRaw({ transport: 'udp', host: '127.0.0.1', port, localAddress }, probe, { timeoutMs: 1500, viaToLocal: true });
  return exchange.responses.map((m) => m.statusCode);
}

it('SEC-BAN-02: svcrack gets banned after five wrong guesses and never reaches the right password, which it finds when bans are off', async () => {
  const dir = await makeTempDir('svcrack');
  const unbanned = await startVoix({ config: { auth: { algorithms: ['MD5'] }, security: { ban: { max_failures: 100 } } } });
  const password = unbanned.users.find((u) => u.extension === '1001')?.password ?? '';
  const dictionary = join(dir, 'passwords.txt');
  const guesses = ['123456', 'password', '1001', 'secret', 'voix', 'azerty', 'admin', password, 'qwerty', '000000', '111111', 'letmein'];
  await writeFile(dictionary, `${guesses.join('\n')}\n`);

  const control = await svcrack(unbanned, dictionary);
  await unbanned.stop();
  const voix = await startVoix({ config: { auth: { algorithms: ['MD5'] } } });
  const attack = await svcrack(voix, dictionary);
  const fromAttacker = await optionsFrom(ATTACKER, voix.ports.udp);
  const fromOther = await optionsFrom(HONEST, voix.ports.udp);
  const security = voix.logs().filter((l) => l.msg === 'security' && l['src'] === ATTACKER);

  // svcrack works here: nothing stopping it, it finds the 8th password of the list.
  expect(control.cracked).toEqual([password]);
  expect(attack.cracked).toEqual([]);
  expect(security.map((l) => l['event'])).toEqual(['auth_failed', 'auth_failed', 'auth_failed', 'auth_failed', 'auth_failed', 'ban']);
  expect(security.every((l) => l['user'] === undefined || l['user'] === '1001')).toBe(true);
  expect(fromAttacker).toEqual([]);
  expect(fromOther).toEqual([200]);
});
