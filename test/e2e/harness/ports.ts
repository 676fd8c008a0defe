/**
 * Free ports for peers that listen on UDP and TCP with the same number (SIP
 * does: RFC 3261 §18 has a UDP and a TCP listener on 5060).
 *
 * A port is "free" only if binding it succeeded for both protocols at once;
 * the sockets are closed before the port is handed out, so a small race with
 * other programs remains. Ports handed out by this process are never handed
 * out again by it, which rules out collisions between the helpers of one
 * test file.
 */
import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { createServer, isIPv6 } from 'node:net';

const handedOut = new Set<string>();

/** Above the well-known ports, below Linux's ephemeral range (32768–60999), so an outgoing connection cannot take it meanwhile. */
const RANGE_LOW = 20_000;
const RANGE_HIGH = 32_000;

function key(address: string, port: number): string {
  return `${address}|${port}`;
}

async function bindUdp(address: string, port: number): Promise<(() => Promise<void>) | null> {
  const socket = createSocket(isIPv6(address) ? 'udp6' : 'udp4');
  return new Promise((resolve) => {
    socket.once('error', () => {
      socket.close();
      resolve(null);
    });
    socket.bind({ address, port, exclusive: true }, () => {
      resolve(() => new Promise<void>((done) => socket.close(() => done())));
    });
  });
}

async function bindTcp(address: string, port: number): Promise<{ port: number; close: () => Promise<void> } | null> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(null));
    server.listen({ host: address, port, exclusive: true }, () => {
      const bound = server.address();
      const boundPort = typeof bound === 'object' && bound !== null ? bound.port : port;
      resolve({ port: boundPort, close: () => new Promise<void>((done) => server.close(() => done())) });
    });
  });
}

/** Tries one port number; returns it if both binds worked and this process has not handed it out yet. */
async function tryPort(address: string, port: number): Promise<number | null> {
  const tcp = await bindTcp(address, port);
  if (tcp === null) return null;
  const udp = await bindUdp(address, tcp.port);
  await tcp.close();
  if (udp === null) return null;
  await udp();
  if (handedOut.has(key(address, tcp.port))) return null;
  handedOut.add(key(address, tcp.port));
  return tcp.port;
}

function randomPort(): number {
  return RANGE_LOW + Math.floor(Math.random() * (RANGE_HIGH - RANGE_LOW));
}

/** A port free for UDP and TCP at once on `address` (default 127.0.0.1). */
export async function getFreePort(address = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = await tryPort(address, randomPort());
    if (port !== null) return port;
  }
  throw new Error(`no port free for both UDP and TCP on ${address} after 200 attempts`);
}

/** `count` distinct ports, each free for UDP and TCP on `address`. */
export async function getFreePorts(count: number, address = '127.0.0.1'): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i += 1) ports.push(await getFreePort(address));
  return ports;
}

/**
 * `count` consecutive ports, all free for UDP and TCP on `address`: for peers
 * that derive ports from a base (an RTP range, a TLS port next to the SIP one).
 * Returns the first port.
 */
export async function getFreePortRange(count: number, address = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const base = RANGE_LOW + Math.floor(Math.random() * (RANGE_HIGH - RANGE_LOW - count));
    const taken: number[] = [];
    let ok = true;
    for (let offset = 0; offset < count; offset += 1) {
      const port = await tryPort(address, base + offset);
      if (port === null) {
        ok = false;
        break;
      }
      taken.push(port);
    }
    if (ok) return base;
    // Free the numbers of a failed block so another attempt may use them.
    for (const port of taken) handedOut.delete(key(address, port));
  }
  throw new Error(`no block of ${count} consecutive ports free for UDP and TCP on ${address}`);
}

export type ListenProtocol = 'udp' | 'tcp';

function hexAddress(address: string): string {
  // /proc/net/{udp,tcp} write an IPv4 address as the 32-bit number in host (little-endian) order.
  const bytes = address.split('.').map((part) => Number(part));
  return bytes
    .reverse()
    .map((byte) => byte.toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase();
}

/** Whether something on this machine listens on address:port (IPv4, Linux /proc). Reads, never binds or connects. */
export async function isListening(protocol: ListenProtocol, address: string, port: number): Promise<boolean> {
  const table = await readFile(`/proc/net/${protocol}`, 'utf8');
  const wantedPort = port.toString(16).toUpperCase().padStart(4, '0');
  const wanted = [`${hexAddress(address)}:${wantedPort}`, `00000000:${wantedPort}`];
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    const state = fields[3];
    if (local === undefined || !wanted.includes(local)) continue;
    // TCP: 0A is LISTEN. UDP: 07 is the state of any bound socket.
    if (protocol === 'tcp' ? state === '0A' : state === '07') return true;
  }
  return false;
}

/**
 * Waits until a peer that gives no readiness signal of its own (SIPp in
 * server mode) has bound address:port, checking the kernel's socket table
 * every 20 ms, for at most timeoutMs.
 */
export async function waitForListening(
  protocol: ListenProtocol,
  address: string,
  port: number,
  timeoutMs: number,
  stillRunning: () => boolean = () => true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await isListening(protocol, address, port)) return;
    if (!stillRunning()) throw new Error(`the process exited before listening on ${protocol} ${address}:${port}`);
    if (Date.now() >= deadline) throw new Error(`nothing listens on ${protocol} ${address}:${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
