import { connect } from 'node:net';
import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { followFile, netnsExec, probeRequest, sendRaw, startBaresip, startUnit, useHarness } from '../../harness/index.js';
import { createServerLab, installedDebian12, jsonLines, startVoixService, useDebian12Base, waitUntil } from '../deploy-lab.js';

useHarness();
useDebian12Base();

const FAILURES = ['auth_failed', 'unknown_user', 'nonce_replay', 'ban'];
const TIME_ZONE = 'Europe/Paris';

/** A TCP connection attempt from `localAddress`: 'connected', or the error code (ECONNREFUSED when the kernel refuses). */
function tcpConnect(host: string, port: number, localAddress: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, localAddress });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('timeout');
    }, 3000);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code ?? error.message);
    });
  });
}

/** A UTC instant as Python's time.ctime() shows it in the time zone (what fail2ban-regex -v prints). */
function ctimeIn(iso: string, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', year: 'numeric', hourCycle: 'h23' })
      .formatToParts(new Date(iso))
      .map((p) => [p.type, p.value]),
  );
  return `${parts['weekday']} ${parts['month']} ${String(parts['day']).padStart(2, ' ')} ${parts['hour']}:${parts['minute']}:${parts['second']} ${parts['year']}`;
}

it('DEPLOI-02: the fail2ban jail reads what voix writes: password guesses get the source banned in the kernel, and fail2ban-regex matches exactly the failure lines', async () => {
  const rootfs = await installedDebian12();
  await rootfs.check('ln', ['-sf', `/usr/share/zoneinfo/${TIME_ZONE}`, '/etc/localtime'], { timeoutMs: 10_000 });
  await rootfs.check('sh', ['-c', 'printf "%s\\n" "Tournesol-Bleu-1001" | voix user add 1001 --name "Alice Martin" --transports udp,tls --password-stdin'], { timeoutMs: 30_000 });
  const lab = await createServerLab();
  const voix = await startVoixService(rootfs, lab);
  const fail2ban = await startUnit(rootfs, '/lib/systemd/system/fail2ban.service', { netns: lab.netns, label: 'fail2ban.service' });
  const fail2banLog = followFile(rootfs.file('/var/log/fail2ban.log'));
  await fail2banLog.waitForLine((l) => l.includes("Jail 'voix' started"), 30_000);
  const attackerBefore = await tcpConnect(lab.serverAddress, 5061, lab.attackerAddress);

  const guesser = await startBaresip({
    localAddress: lab.attackerAddress,
    account: { user: '1001', password: 'not-the-password-1001', domain: `${lab.serverAddress}:5060`, transport: 'udp' },
  });
  const banned = await fail2banLog.waitForLine((l) => l.includes(`[voix] Ban ${lab.attackerAddress}`), 30_000);
  await guesser.stop({ force: true });
  // fail2ban logs the ban, then runs its action (nft add element): the kernel's set is the event to wait for.
  const inKernelSet = async () => (await netnsExec(lab.netns, 'nft', ['list', 'set', 'inet', 'f2b-table', 'addr-set-voix']).catch(() => ({ stdout: '' }))).stdout.includes(lab.attackerAddress);
  await waitUntil(inKernelSet, 10_000, `${lab.attackerAddress} in nftables set addr-set-voix`);
  const attackerAfter = await tcpConnect(lab.serverAddress, 5061, lab.attackerAddress);
  const other = await sendRaw(
    { transport: 'tls', host: lab.serverAddress, port: 5061, caFile: rootfs.file('/var/lib/voix/tls/ca.crt'), localAddress: lab.clientAddress },
    probeRequest({ transport: 'tls', localAddress: lab.clientAddress, localPort: 5061, host: lab.serverAddress, port: 5061, callId: 'after-ban@test' }),
    { timeoutMs: 5000 },
  );
  const kernelSet = await netnsExec(lab.netns, 'nft', ['list', 'set', 'inet', 'f2b-table', 'addr-set-voix']);
  const jailStatus = await rootfs.check('fail2ban-client', ['status', 'voix'], { netns: lab.netns, timeoutMs: 15_000 });
  const logLines = (await readFile(voix.outputFile ?? '', 'utf8')).split('\n').filter((l) => l !== '');
  const regex = await rootfs.check('fail2ban-regex', ['-v', '/var/log/voix/voix.log', '/etc/fail2ban/filter.d/voix.conf'], { timeoutMs: 60_000 });
  const failureLines = jsonLines(logLines).filter((e) => e['msg'] === 'security' && FAILURES.includes(String(e['event'])));
  const found = [...regex.stdout.matchAll(/^\|\s+(\S+)\s+(\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4})$/gm)].map((m) => `${m[1]} ${m[2]}`);

  expect(fail2ban.process.running).toBe(true);
  expect(attackerBefore).toBe('connected');
  expect(banned).toMatch(/NOTICE\s+\[voix\] Ban /);
  expect(failureLines.map((e) => e['event'])).toEqual(['auth_failed', 'auth_failed', 'auth_failed', 'auth_failed', 'auth_failed', 'ban']);
  expect(attackerAfter).toBe('ECONNREFUSED');
  expect(other.responses.map((r) => r.statusCode)).toEqual([200]);
  expect(kernelSet.stdout).toContain(lab.attackerAddress);
  expect(jailStatus.stdout).toMatch(new RegExp(`Banned IP list:\\s+${lab.attackerAddress.replace(/\./g, '\\.')}\\s*$`, 'm'));
  expect(regex.stdout).toMatch(new RegExp(`^Lines: ${logLines.length} lines, 0 ignored, ${failureLines.length} matched, ${logLines.length - failureLines.length} missed`, 'm'));
  expect(found).toEqual(failureLines.map((e) => `${lab.attackerAddress} ${ctimeIn(String(e['time']), TIME_ZONE)}`));
}, 240_000);
