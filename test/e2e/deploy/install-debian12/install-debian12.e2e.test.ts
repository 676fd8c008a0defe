import { createHash } from 'node:crypto';
import { appendFile, lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { mountOverlay, nofileLimit, probeRequest, sendRaw, useHarness, type Rootfs } from '../../harness/index.js';
import { createServerLab, httpGetIn, installOnFreshDebian12, runDeployScript, SERVICE_FILES, startVoixService, useDebian12Base } from '../deploy-lab.js';

useHarness();

const debian12 = useDebian12Base();

/** What install.sh leaves, path by path: content hash (or link target), mode and owner. */
const INSTALLED = [
  '/etc/voix',
  '/etc/voix/tls',
  '/etc/voix/voix.yaml',
  '/etc/voix/nftables.nft',
  '/var/lib/voix',
  '/var/log/voix',
  '/var/log/voix/voix.log',
  '/opt/voix/.install-stamp',
  ...SERVICE_FILES,
] as const;

async function snapshot(rootfs: Rootfs): Promise<Record<string, string>> {
  const state: Record<string, string> = {};
  for (const path of INSTALLED) {
    const file = rootfs.file(path);
    const info = await lstat(file);
    const content = info.isSymbolicLink()
      ? `-> ${await readlink(file)}`
      : info.isFile()
        ? createHash('sha256').update(await readFile(file)).digest('hex')
        : 'directory';
    state[path] = `${(info.mode & 0o7777).toString(8)} ${info.uid}:${info.gid} ${content}`;
  }
  const passwd = (await readFile(rootfs.file('/etc/passwd'), 'utf8')).split('\n').filter((l) => l.startsWith('voix:'));
  state['passwd'] = passwd.join('\n');
  return state;
}

function statusField(status: string, name: string): string {
  return new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
}

it('DEPLOI-01: install.sh installs voix on a fresh Debian 12, idempotently; its unit passes systemd-analyze and, run as the unit runs it, answers OPTIONS over TLS and serves /health and /metrics', async () => {
  const install = await installOnFreshDebian12(debian12());
  const rootfs = (await mountOverlay([install.layer, debian12()])).rootfs;
  const afterFirst = await snapshot(rootfs);
  // The operator's edits: an announcement (a prompt voix prepares with espeak-ng and ffmpeg at start), a comment.
  await appendFile(rootfs.file('/etc/voix/voix.yaml'), 'messages:\n  - number: "8000"\n    name: Fermeture\n    prompt:\n      text: "Nos bureaux sont fermés."\n');
  await appendFile(rootfs.file('/etc/voix/nftables.nft'), '# edited by the operator\n');
  const edited = await snapshot(rootfs);
  const second = await runDeployScript(rootfs, 'install.sh');
  const afterSecond = await snapshot(rootfs);
  const verify = await rootfs.run('systemd-analyze', ['verify', '/etc/systemd/system/voix.service', '/etc/systemd/system/voix-firewall.service'], { timeoutMs: 30_000 });
  const exposure = await rootfs.run('systemd-analyze', ['security', '--offline=true', '--threshold=20', '--no-pager', '/etc/systemd/system/voix.service'], { timeoutMs: 30_000 });
  const enabled = await rootfs.run('systemctl', ['is-enabled', 'voix.service', 'voix-firewall.service', 'fail2ban.service'], { timeoutMs: 30_000 });
  const config = parseYaml(await readFile(rootfs.file('/etc/voix/voix.yaml'), 'utf8')) as {
    server: { listen: { tls: { port: number } } };
    admin: { listen: { address: string; port: number } };
  };
  const lab = await createServerLab();
  const voix = await startVoixService(rootfs, lab);
  const tlsPort = config.server.listen.tls.port;
  const options = await sendRaw(
    { transport: 'tls', host: lab.serverAddress, port: tlsPort, caFile: rootfs.file('/var/lib/voix/tls/ca.crt') },
    probeRequest({ transport: 'tls', localAddress: lab.clientAddress, localPort: tlsPort, host: lab.serverAddress, port: tlsPort, callId: 'deploy-options@test' }),
    { timeoutMs: 5000 },
  );
  const admin = `http://${config.admin.listen.address}:${config.admin.listen.port}`;
  const health = await httpGetIn(lab.netns, `${admin}/health`);
  const metrics = await httpGetIn(lab.netns, `${admin}/metrics`);
  const data = (await readdir(rootfs.file('/var/lib/voix'), { recursive: true })).sort();
  const processStatus = await readFile(`/proc/${voix.process.pid}/status`, 'utf8');
  const processLimits = await readFile(`/proc/${voix.process.pid}/limits`, 'utf8');
  const wantedFiles = await nofileLimit(voix.unit);
  const voixUid = afterFirst['passwd']?.split(':')[2];

  expect(install.result.stdout).toContain('voix is installed');
  expect(afterFirst['passwd']).toMatch(/^voix:x:\d+:\d+:[^:]*:\/var\/lib\/voix:\/usr\/sbin\/nologin$/);
  expect(second.code).toBe(0);
  expect(second.stdout).toMatch(/^==> \/opt\/voix up to date$/m);
  expect(second.stdout).toMatch(/^==> \/etc\/voix\/nftables\.nft kept as it is/m);
  expect(second.stdout).not.toMatch(/^==> (Wrote|Installing|Creating|Building|Starting)/m);
  expect(afterSecond).toEqual(edited);
  expect(verify).toMatchObject({ code: 0, stdout: '', stderr: '' });
  expect(exposure.stdout).toMatch(/Overall exposure level for voix\.service: [0-1]\.\d OK/);
  expect(exposure.code).toBe(0);
  expect(enabled.stdout.trim().split('\n')).toEqual(['enabled', 'enabled', 'enabled']);
  expect(options.responses.map((r) => r.statusCode)).toEqual([200]);
  expect(health).toEqual({ status: 200, body: '{"status":"ok"}' });
  expect(data).toEqual(expect.arrayContaining(['voix.db', 'tls/ca.crt', 'tls/server.key']));
  expect(data.filter((f) => f.startsWith('prompts/')).map((f) => f.split('.').pop()).sort()).toEqual(['json', 'pcma', 'pcmu']);
  expect(statusField(processStatus, 'Uid').split(/\s+/)).toEqual([voixUid, voixUid, voixUid, voixUid]);
  expect(statusField(processStatus, 'CapBnd')).toBe('0000000000000000');
  expect(statusField(processStatus, 'NoNewPrivs')).toBe('1');
  expect(wantedFiles).not.toBeNull();
  expect(processLimits).toMatch(new RegExp(`^Max open files\\s+${String(wantedFiles)}\\s+${String(wantedFiles)}\\s`, 'm'));
  expect(metrics.status).toBe(200);
  expect(metrics.body).toMatch(/^voix_[a-zA-Z0-9_:]*(\{[^}]*\})? \S+/m);
}, 300_000);
