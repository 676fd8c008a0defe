/**
 * The low-level pieces of the harness: free ports and child processes.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useHarness } from '../harness/cleanup.js';
import { getFreePort, getFreePortRange, getFreePorts, isListening } from '../harness/ports.js';
import { runProcess, startProcess } from '../harness/process.js';

useHarness();

async function canBindBoth(port: number): Promise<boolean> {
  const tcp = createServer();
  const udp = createSocket('udp4');
  const tcpOk = await new Promise<boolean>((resolve) => {
    tcp.once('error', () => resolve(false));
    tcp.listen(port, '127.0.0.1', () => resolve(true));
  });
  const udpOk = await new Promise<boolean>((resolve) => {
    udp.once('error', () => resolve(false));
    udp.bind(port, '127.0.0.1', () => resolve(true));
  });
  if (tcpOk) await new Promise<void>((resolve) => tcp.close(() => resolve()));
  await new Promise<void>((resolve) => udp.close(() => resolve()));
  return tcpOk && udpOk;
}

const node = process.execPath;

/** The error a promise rejects with, as text (so a rejection is handled as soon as it happens). */
function failure(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => String(error),
  );
}

describe('ports', () => {
  it('hands out distinct ports free for UDP and TCP, and consecutive blocks', async () => {
    const ports = await getFreePorts(5);
    const base = await getFreePortRange(3);

    expect(new Set(ports).size).toBe(5);
    for (const port of [...ports, base, base + 1, base + 2]) expect(await canBindBoth(port)).toBe(true);
    expect(ports).not.toContain(base);
  });

  it('sees a listener in the kernel tables', async () => {
    const port = await getFreePort();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));

    const listening = await isListening('tcp', '127.0.0.1', port);
    const udpListening = await isListening('udp', '127.0.0.1', port);
    await new Promise<void>((resolve) => server.close(() => resolve()));

    expect(listening).toBe(true);
    expect(udpListening).toBe(false);
  });
});

describe('processes', () => {
  it('waits for a line, and fails with the output on timeout or exit', async () => {
    const child = startProcess({
      command: node,
      args: ['-e', 'console.log("one"); console.error("two"); setTimeout(() => console.log("three"), 50); setTimeout(() => {}, 60000)'],
      label: 'talker',
    });
    const short = startProcess({ command: node, args: ['-e', 'console.log("bye"); process.exit(4)'], label: 'quitter' });

    const three = await child.waitForLine((text) => text === 'three', 5000);
    const missing = await failure(child.waitForLine((text) => text === 'never', 200));
    const gone = await failure(short.waitForLine((text) => text === 'never', 5000));

    expect(three).toMatchObject({ stream: 'stdout', text: 'three' });
    expect(missing).toMatch(/talker: no matching line within 200 ms[\s\S]*one[\s\S]*\[stderr\] two/);
    expect(gone).toMatch(/quitter exited with code 4 before a matching line[\s\S]*bye/);
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const stubborn = startProcess({
      command: node,
      args: ['-e', 'process.on("SIGTERM", () => console.log("ignored")); console.log("started"); setInterval(() => {}, 1000)'],
    });
    await stubborn.waitForLine((text) => text === 'started', 5000);

    const exit = await stubborn.stop({ graceMs: 300 });

    expect(exit.signal).toBe('SIGKILL');
    expect(stubborn.output()).toContain('ignored');
    expect(stubborn.running).toBe(false);
  });

  it('runs a command to completion, and bounds it', async () => {
    const done = await runProcess(node, ['-e', 'process.stdout.write("out"); process.stderr.write("err"); process.exit(2)'], { timeoutMs: 5000 });
    const hung = await failure(runProcess(node, ['-e', 'setInterval(() => {}, 1000)'], { timeoutMs: 300, label: 'hung' }));

    expect(done).toEqual({ code: 2, signal: null, stdout: 'out', stderr: 'err' });
    expect(hung).toMatch(/hung still running after 300 ms/);
  });
});
