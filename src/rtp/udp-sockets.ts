/**
 * Opening and closing the UDP sockets of the relay, with a count of the
 * ones open (tests check nothing leaks; operators see it in diagnostics).
 */
import dgram from 'node:dgram';

export type UdpFamily = 'udp4' | 'udp6';

export class SocketRegistry {
  private openCount = 0;

  get open(): number {
    return this.openCount;
  }

  create(type: UdpFamily, reuseAddr: boolean): dgram.Socket {
    const socket = dgram.createSocket({ type, reuseAddr });
    this.openCount++;
    socket.once('close', () => {
      this.openCount--;
    });
    return socket;
  }
}

/** Binds to `address:port`; rejects with the bind error (EADDRINUSE, EACCES…) instead of emitting it. */
export function bindSocket(socket: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      socket.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      socket.off('error', onError);
      resolve();
    };
    socket.once('error', onError);
    socket.once('listening', onListening);
    socket.bind(port, address);
  });
}

/** Closes a socket and waits for its 'close' event; a socket already closed resolves at once. */
export function closeSocket(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve();
    }
  });
}

export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** Another process (or socket) holds the port, or we may not bind it: try another pair. */
export function isPortTaken(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'EADDRINUSE' || code === 'EACCES';
}

/** The sockets of one local port. `sender` shares the port and is connected to the peer (see RelayPort). */
export interface PortSockets {
  readonly listener: dgram.Socket;
  readonly sender: dgram.Socket | null;
}

/**
 * Opens the socket(s) of one port. With `connectedSender`, the listener and
 * the sender share the port through SO_REUSEADDR, which would also let
 * another process that sets it bind the same port unnoticed; an exclusive
 * bind first proves the port is free.
 */
export async function openPortSockets(
  registry: SocketRegistry,
  family: UdpFamily,
  address: string,
  port: number,
  connectedSender: boolean,
): Promise<PortSockets> {
  const opened: dgram.Socket[] = [];
  const open = async (reuseAddr: boolean): Promise<dgram.Socket> => {
    const socket = registry.create(family, reuseAddr);
    opened.push(socket);
    await bindSocket(socket, port, address);
    return socket;
  };
  try {
    if (!connectedSender) return { listener: await open(false), sender: null };
    const probe = await open(false);
    await closeSocket(probe);
    opened.length = 0;
    const listener = await open(true);
    const sender = await open(true);
    return { listener, sender };
  } catch (err) {
    await Promise.all(opened.map(closeSocket));
    throw err;
  }
}

export async function closePortSockets(sockets: PortSockets): Promise<void> {
  await Promise.all([closeSocket(sockets.listener), sockets.sender === null ? undefined : closeSocket(sockets.sender)]);
}
