import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { expect, it } from 'vitest';
import { probeRequest, startVoix, useHarness } from '../../harness/index.js';

useHarness();

/** Sends bytes on an open stream and collects what comes back until `done` holds (bounded). */
function exchange(socket: net.Socket, data: string, done: (received: string) => boolean, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const timer = setTimeout(() => {
      socket.off('data', onData);
      reject(new Error(`no expected answer within ${timeoutMs} ms; got ${JSON.stringify(received)}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (done(received)) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(received);
      }
    };
    socket.on('data', onData);
    socket.write(data);
  });
}

function connect(kind: 'tcp' | 'tls', port: number, caFile: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket =
      kind === 'tcp'
        ? net.connect({ host: '127.0.0.1', port }, () => resolve(socket))
        : tls.connect({ host: '127.0.0.1', port, ca: readFileSync(caFile), servername: 'voix.test' }, () => resolve(socket));
    socket.once('error', reject);
  });
}

it.each(['tcp', 'tls'] as const)('TRA-KA-01: a CRLF CRLF ping over %s gets a CRLF pong and the connection keeps serving', async (kind) => {
  const voix = await startVoix();
  const port = kind === 'tcp' ? voix.ports.tcp : voix.ports.tls;
  const socket = await connect(kind, port, voix.caPath ?? '');
  try {
    const pong = await exchange(socket, '\r\n\r\n', (r) => r.length >= 2);
    const options = probeRequest({ transport: kind, localAddress: '127.0.0.1', localPort: socket.localPort ?? 0, host: '127.0.0.1', port, callId: `ka-${kind}` });
    const answer = await exchange(socket, options, (r) => /\r\n\r\n/.test(r));

    expect(pong).toBe('\r\n');
    expect(answer).toMatch(/^SIP\/2\.0 200 OK\r\n/);
    expect(answer).toContain(`Call-ID: ka-${kind}`);
  } finally {
    socket.destroy();
  }
});
