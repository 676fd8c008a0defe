/**
 * RelayPorts on voix's native UDP addon (src/rtp/native/udp-io.c,
 * docs/adr/0006): a readable socket is drained with recvmmsg() into one
 * receive arena per worker thread and the leg reads each datagram where it
 * landed; sends are synchronous send()/sendto() calls on the caller's
 * bytes. Nothing is allocated per datagram: no Buffer, no rinfo, no send
 * request, and the source address string is made only when a socket's
 * source changes.
 *
 * Same two-socket layout as dgram-relay-port.ts (an unconnected listener
 * and a connected sender sharing the port); connect() is synchronous here.
 */
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { PacketHandler, RelayPort, RelayPortOpener, SentSlotTracker } from './relay-port.js';
import type { UdpFamily } from './udp-sockets.js';

/** What udp-io.c exports. */
export interface UdpIoAddon {
  readonly SLOT_BYTES: number;
  readonly META_WORDS: number;
  init(rx: Uint8Array, meta: Uint32Array, onPackets: (fd: number, count: number) => void): number;
  open(ipv6: boolean, address: string, port: number, reuseAddr: boolean): number;
  connect(fd: number, address: string, port: number): void;
  disconnect(fd: number): void;
  /** 0, or the errno of a failed send. */
  send(fd: number, bytes: Uint8Array, length: number): number;
  sendTo(fd: number, bytes: Uint8Array, length: number, address: string, port: number): number;
  close(fd: number): void;
  formatAddress(slot: number): string;
  openCount(): number;
}

/** Where `npm run build` puts the addon: next to this module in dist/, or dist/ seen from src/ (tsx: tests, benches). */
const ADDON_LOCATIONS = ['./native/udp-io.node', '../../dist/rtp/native/udp-io.node'];

/** The addon, or why it cannot be used (not built, not loadable here). */
export function loadUdpIoAddon(): { addon: UdpIoAddon } | { reason: string } {
  const require = createRequire(import.meta.url);
  const reasons: string[] = [];
  for (const location of ADDON_LOCATIONS) {
    const file = fileURLToPath(new URL(location, import.meta.url));
    try {
      return { addon: require(file) as UdpIoAddon };
    } catch (err) {
      reasons.push(`${file}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
  return { reason: reasons.join('; ') };
}

/** Datagrams read in one recvmmsg() call at most. */
const ARENA_SLOTS = 64;
const ERRNO_NAMES = new Map<number, string>(Object.entries(osConstants.errno).map(([name, value]) => [value, name]));
const EAGAIN = osConstants.errno.EAGAIN;
const ENOBUFS = osConstants.errno.ENOBUFS;

function errnoError(errno: number, what: string): Error {
  const code = ERRNO_NAMES.get(errno) ?? `E${errno}`;
  return Object.assign(new Error(`${what} ${code}`), { code, errno: -errno });
}

/** Who reads one descriptor, and the source it last saw (its text is made again only when it changes). */
class SocketReceiver {
  family = 0;
  word0 = 0;
  word1 = 0;
  word2 = 0;
  word3 = 0;
  address = '';
  constructor(
    readonly onPacket: PacketHandler,
    readonly onError: (err: Error) => void,
  ) {}
}

/** The addon as one worker thread uses it: its arena, and the receiver of each open descriptor. */
export class NativeUdp {
  private readonly rx: Buffer;
  /** Per slot: length, port, family, 4 address words, truncated flag (udp-io.c). Int32 so every read is a small integer. */
  private readonly meta: Int32Array;
  private readonly views: Buffer[] = [];
  private readonly receivers: Array<SocketReceiver | undefined> = [];
  private readonly metaWords: number;

  constructor(readonly addon: UdpIoAddon) {
    this.rx = Buffer.alloc(ARENA_SLOTS * addon.SLOT_BYTES);
    const meta = new Uint32Array(ARENA_SLOTS * addon.META_WORDS);
    this.meta = new Int32Array(meta.buffer);
    this.metaWords = addon.META_WORDS;
    for (let i = 0; i < ARENA_SLOTS; i++) this.views.push(this.rx.subarray(i * addon.SLOT_BYTES, (i + 1) * addon.SLOT_BYTES));
    addon.init(this.rx, meta, (fd, count) => this.onPackets(fd, count));
  }

  get openSockets(): number {
    return this.addon.openCount();
  }

  receive(fd: number, onPacket: PacketHandler, onError: (err: Error) => void): void {
    this.receivers[fd] = new SocketReceiver(onPacket, onError);
  }

  close(fd: number): void {
    this.receivers[fd] = undefined;
    this.addon.close(fd);
  }

  /** Per batch of datagrams; runs per packet inside. */
  private onPackets(fd: number, count: number): void {
    const receiver = this.receivers[fd];
    if (receiver === undefined) return;
    if (count < 0) {
      receiver.onError(errnoError(-count, 'recvmmsg'));
      return;
    }
    const meta = this.meta;
    const words = this.metaWords;
    for (let i = 0; i < count; i++) {
      const base = i * words;
      if (
        meta[base + 2] !== receiver.family ||
        meta[base + 3] !== receiver.word0 ||
        meta[base + 4] !== receiver.word1 ||
        meta[base + 5] !== receiver.word2 ||
        meta[base + 6] !== receiver.word3
      ) {
        this.rememberSource(receiver, i);
      }
      const view = this.views[i];
      // A truncated datagram (longer than a slot) is passed as empty: the leg drops it as malformed.
      if (view !== undefined) receiver.onPacket(view, meta[base + 7] === 0 ? (meta[base] ?? 0) : 0, receiver.address, meta[base + 1] ?? 0);
      // The handler may have closed this descriptor.
      if (this.receivers[fd] !== receiver) return;
    }
  }

  private rememberSource(receiver: SocketReceiver, slot: number): void {
    const base = slot * this.metaWords;
    receiver.family = this.meta[base + 2] ?? 0;
    receiver.word0 = this.meta[base + 3] ?? 0;
    receiver.word1 = this.meta[base + 4] ?? 0;
    receiver.word2 = this.meta[base + 5] ?? 0;
    receiver.word3 = this.meta[base + 6] ?? 0;
    receiver.address = this.addon.formatAddress(slot);
  }
}

export class NativeRelayPort implements RelayPort {
  readonly sendsFromAnyBuffer = true;
  private destinationAddress = '';
  /** 0: nowhere to send yet. */
  private destinationPort = 0;
  /** The sender's descriptor while it is connected to the destination, else -1. */
  private connectedFd = -1;
  private closed = false;
  private onError: (err: Error) => void = () => undefined;

  constructor(
    readonly port: number,
    private readonly io: NativeUdp,
    private readonly listenerFd: number,
    private readonly senderFd: number,
  ) {}

  get destination(): { readonly address: string; readonly port: number } | null {
    return this.destinationPort === 0 ? null : { address: this.destinationAddress, port: this.destinationPort };
  }

  listen(onPacket: PacketHandler, onError: (err: Error) => void): void {
    this.onError = onError;
    this.io.receive(this.listenerFd, onPacket, onError);
    if (this.senderFd >= 0) this.io.receive(this.senderFd, onPacket, onError);
  }

  setDestination(address: string, port: number): void {
    if (address === this.destinationAddress && port === this.destinationPort) return;
    this.destinationAddress = address;
    this.destinationPort = port;
    if (this.senderFd < 0 || this.closed) return;
    if (this.connectedFd >= 0) {
      this.connectedFd = -1;
      this.io.addon.disconnect(this.senderFd);
    }
    if (port === 0) return;
    try {
      this.io.addon.connect(this.senderFd, address, port);
      this.connectedFd = this.senderFd;
    } catch (err) {
      // Stays unconnected: the listener sends with an explicit address.
      this.onError(err instanceof Error ? err : new Error(String(err)));
    }
  }

  send(packet: Buffer, length: number): boolean {
    let status: number;
    if (this.connectedFd >= 0) status = this.io.addon.send(this.connectedFd, packet, length);
    else if (this.destinationPort === 0 || this.closed) return false;
    else status = this.io.addon.sendTo(this.listenerFd, packet, length, this.destinationAddress, this.destinationPort);
    // A full socket buffer drops the datagram, as a router would; the other errors (ICMP unreachable…) are reported.
    if (status !== 0 && status !== EAGAIN && status !== ENOBUFS) this.onError(errnoError(status, 'send'));
    return true;
  }

  sentFromRing(_ring: SentSlotTracker): void {
    // send() is done with the bytes when it returns.
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.connectedFd = -1;
      this.io.close(this.listenerFd);
      if (this.senderFd >= 0) this.io.close(this.senderFd);
    }
    return Promise.resolve();
  }
}

/** Opens NativeRelayPorts in this thread. */
export class NativeRelayPortOpener implements RelayPortOpener {
  readonly kind = 'native';

  constructor(
    private readonly family: UdpFamily,
    private readonly io: NativeUdp,
  ) {}

  get openSockets(): number {
    return this.io.openSockets;
  }

  /**
   * With `connectedSender`, the listener and the sender share the port
   * through SO_REUSEADDR, which would also let another process that sets it
   * bind the same port unnoticed: an exclusive bind first proves the port
   * is free (as openPortSockets does for dgram).
   */
  open(address: string, port: number, connectedSender: boolean): Promise<RelayPort> {
    const addon = this.io.addon;
    const ipv6 = this.family === 'udp6';
    try {
      if (!connectedSender) return Promise.resolve(new NativeRelayPort(port, this.io, addon.open(ipv6, address, port, false), -1));
      this.io.close(addon.open(ipv6, address, port, false));
      const listener = addon.open(ipv6, address, port, true);
      let sender: number;
      try {
        sender = addon.open(ipv6, address, port, true);
      } catch (err) {
        this.io.close(listener);
        throw err;
      }
      return Promise.resolve(new NativeRelayPort(port, this.io, listener, sender));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
