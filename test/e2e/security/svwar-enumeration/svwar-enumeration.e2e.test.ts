import dgram from 'node:dgram';
import { expect, it } from 'vitest';
import { getFreePort, makeTempDir, registerCleanup, runProcess, startVoix, useHarness, type RunResult } from '../../harness/index.js';

useHarness();

/** svwar from a fresh local port (a previous scan's retransmitted answers must not reach this one). */
async function svwar(port: number, extra: readonly string[]): Promise<RunResult & { found: string[] }> {
  const home = await makeTempDir('svwar-home');
  const localPort = await getFreePort('127.0.0.1');
  const result = await runProcess('svwar', ['-e990-1010', '-p', String(port), '-P', String(localPort), '-b', '127.0.0.1', '--maximumtime', '5', ...extra, '127.0.0.1'], {
    timeoutMs: 60_000,
    env: { HOME: home },
    label: `svwar ${extra.join(' ')}`,
  });
  // Its result table: | 1001 | reqauth |
  const found = [...(result.stdout + result.stderr).matchAll(/^\|\s*(\d+)\s*\|\s*(\w+)\s*\|$/gm)].map((m) => `${m[1]} ${m[2]}`);
  return { ...result, found };
}

/** The control: a SIP server that answers 404 to unknown users and 401 to 1001 alone, the kind svwar enumerates. */
async function startLeakyServer(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (data, rinfo) => {
    const text = data.toString('latin1');
    // The extension tried is in the To header (a REGISTER's Request-URI names the domain only).
    const user = /^(?:To|t):[^\r\n]*sips?:([^@;>\s]+)@/im.exec(text)?.[1] ?? '';
    const copy = (name: string) => text.split('\r\n').filter((line) => line.toLowerCase().startsWith(`${name}:`));
    const status = user === '1001' ? '401 Unauthorized' : '404 Not Found';
    const lines = [
      `SIP/2.0 ${status}`,
      ...copy('via'),
      ...copy('from'),
      ...copy('to').map((to) => `${to};tag=leaky`),
      ...copy('call-id'),
      ...copy('cseq'),
      ...(user === '1001' ? ['WWW-Authenticate: Digest realm="leaky", nonce="abc", algorithm=MD5'] : []),
      'Content-Length: 0',
      '',
      '',
    ];
    socket.send(lines.join('\r\n'), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  registerCleanup('close leaky server', () => new Promise<void>((resolve) => socket.close(() => resolve())));
  return socket.address().port;
}

it('SEC-ENUM-02: svwar finds no extension on voix with REGISTER, INVITE or OPTIONS, though it finds one on a leaky server', async () => {
  const leaky = await startLeakyServer();
  const voix = await startVoix();

  const control = await svwar(leaky, []);
  const register = await svwar(voix.ports.udp, ['-m', 'REGISTER', '--force']);
  const invite = await svwar(voix.ports.udp, ['-m', 'INVITE', '--force']);
  const options = await svwar(voix.ports.udp, ['-m', 'OPTIONS']);
  const withoutForce = await svwar(voix.ports.udp, ['-m', 'REGISTER']);

  // svwar works here: it tells 1001 from the others when the answers differ.
  expect(control.found).toEqual(['1001 reqauth']);
  for (const [method, run] of [
    ['REGISTER', register],
    ['INVITE', invite],
    ['OPTIONS', options],
  ] as const) {
    expect(run.code, `svwar -m ${method}: ${run.stderr}`).toBe(0);
    expect(run.found, `svwar -m ${method} found`).toEqual([]);
    expect(run.stdout + run.stderr, `svwar -m ${method}`).toMatch(/found nothing/);
  }
  expect(withoutForce.stderr).toMatch(/SIP server replied with an authentication request for an unknown extension/);
  expect(voix.logs().some((l) => l.msg === 'security' && l['event'] === 'ban')).toBe(false);
});
