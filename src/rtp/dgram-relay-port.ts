/**
 * A RelayPort on Node's dgram sockets: used where the native UDP addon is
 * not built (docs/adr/0006), and kept as the reference the native port is
 * tested against.
 *
 * Sends on a connected UDP socket skip dgram's per-send address lookup and
 * the kernel's per-packet route lookup (ARCHITECTURE.md: about 15 % more
 * packets/s here). But a connected socket only receives from its peer, so
 * a phone that moves (NAT rebinding) or a stranger would be filtered by the
 * kernel before the relay could re-latch or count it. Hence two sockets on
 * the same port (SO_REUSEADDR): an unconnected listener that receives from
 * anyone, and a sender connected to the current destination. Linux gives a
 * datagram to the socket that matches it best, so the peer's packets reach
 * the sender and everyone else's the listener; both feed the same handler.
 * While the sender (re)connects, packets go out from the listener with an
 * explicit address. RTCP ports have the listener only: a packet every few
 * seconds does not pay for a second socket.
 */
import type dgram from 'node:dgram';
import type { PacketHandler, RelayPort, RelayPortOpener, SentSlotTracker } from './relay-port.js';
import { closeSocket, openPortSockets, SocketRegistry, type PortSockets, type UdpFamily } from './udp-sockets.js';

const IDLE = 0;
const CONNECTING = 1;
const CONNECTED = 2;

export class DgramRelayPort implements RelayPort {
  /** dgram may keep a Buffer until its send completes (a backed-up socket), and only sends whole Buffers without a view. */
  readonly sendsFromAnyBuffer = false;
  private readonly listener: dgram.Socket;
  private readonly sender: dgram.Socket | null;
  /** Non-null only while `sender` is connected to the current destination. */
  private connected: dgram.Socket | null = null;
  private connectState = IDLE;
  private destinationAddress = '';
  /** 0: nowhere to send yet. */
  private destinationPort = 0;
  private closed = false;
  private lastSentOn: dgram.Socket | null = null;
  private onError: (err: Error) => void = () => undefined;

  constructor(
    readonly port: number,
    sockets: PortSockets,
  ) {
    this.listener = sockets.listener;
    this.sender = sockets.sender;
    // Without a listener an 'error' (ICMP port unreachable reported on a connected socket) would end the worker.
    this.listener.on('error', (err: Error) => this.onError(err));
    this.sender?.on('error', (err: Error) => this.onError(err));
  }

  listen(onPacket: PacketHandler, onError: (err: Error) => void): void {
    this.onError = onError;
    const onMessage = (packet: Buffer, remote: dgram.RemoteInfo): void => onPacket(packet, packet.length, remote.address, remote.port);
    this.listener.on('message', onMessage);
    this.sender?.on('message', onMessage);
  }

  get destination(): { readonly address: string; readonly port: number } | null {
    return this.destinationPort === 0 ? null : { address: this.destinationAddress, port: this.destinationPort };
  }

  /** Where packets for the phone go; port 0 for nowhere. Cold path: called when the latch or the SDP changes. */
  setDestination(address: string, port: number): void {
    if (address === this.destinationAddress && port === this.destinationPort) return;
    this.destinationAddress = address;
    this.destinationPort = port;
    const sender = this.sender;
    if (sender === null || this.closed) return;
    // A connect in flight finishes first; its callback sees the destination moved and starts over.
    if (this.connectState === CONNECTING) return;
    if (this.connectState === CONNECTED) {
      this.connected = null;
      this.connectState = IDLE;
      disconnectQuietly(sender);
    }
    this.connectSender(sender);
  }

  send(packet: Buffer, length: number): boolean {
    const connected = this.connected;
    if (connected !== null) {
      // Without offset and length dgram does not slice the Buffer.
      if (length === packet.length) connected.send(packet);
      else connected.send(packet, 0, length);
      this.lastSentOn = connected;
      return true;
    }
    if (this.destinationPort === 0) return false;
    this.listener.send(packet, 0, length, this.destinationPort, this.destinationAddress);
    this.lastSentOn = this.listener;
    return true;
  }

  sentFromRing(ring: SentSlotTracker): void {
    if (this.lastSentOn !== null) ring.sent(this.lastSentOn);
  }

  close(): Promise<void> {
    this.closed = true;
    this.connected = null;
    return Promise.all([closeSocket(this.listener), this.sender === null ? undefined : closeSocket(this.sender)]).then(() => undefined);
  }

  private connectSender(sender: dgram.Socket): void {
    if (this.destinationPort === 0) return;
    const address = this.destinationAddress;
    const port = this.destinationPort;
    this.connectState = CONNECTING;
    sender.connect(port, address, (err?: Error) => {
      if (this.closed) return;
      if (err !== undefined) {
        // Stays unconnected: the listener keeps sending with an explicit address.
        this.connectState = IDLE;
        this.onError(err);
        return;
      }
      if (address === this.destinationAddress && port === this.destinationPort) {
        this.connectState = CONNECTED;
        this.connected = sender;
        return;
      }
      this.connectState = IDLE;
      disconnectQuietly(sender);
      this.connectSender(sender);
    });
  }
}

function disconnectQuietly(socket: dgram.Socket): void {
  try {
    socket.disconnect();
  } catch {
    // Not connected after all (a failed connect resets the state): nothing to undo.
  }
}

/** Opens DgramRelayPorts, counting the sockets. */
export class DgramRelayPortOpener implements RelayPortOpener {
  readonly kind = 'dgram';
  private readonly registry = new SocketRegistry();

  constructor(private readonly family: UdpFamily) {}

  get openSockets(): number {
    return this.registry.open;
  }

  async open(address: string, port: number, connectedSender: boolean): Promise<RelayPort> {
    return new DgramRelayPort(port, await openPortSockets(this.registry, this.family, address, port, connectedSender));
  }
}
