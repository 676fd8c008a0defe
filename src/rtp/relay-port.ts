/**
 * One local UDP port of a relay leg (its RTP port or its RTCP port) as the
 * leg sees it, whatever does the socket work underneath: the native
 * batched I/O of `native-relay-port.ts` (docs/adr/0006), or Node's dgram
 * (`dgram-relay-port.ts`) where the addon is not built.
 */

/**
 * A datagram from `address:port`, its bytes `packet[0, length)`. `packet`
 * is lent for this call only (the next datagram may land in it), and may
 * be longer than `length`: the bytes after it are free for the relay to
 * grow the packet in place (an SRTP tag) when `RelayPort.sendsFromAnyBuffer`.
 */
export type PacketHandler = (packet: Buffer, length: number, address: string, port: number) => void;

export interface RelayPort {
  readonly port: number;
  /**
   * True when send() takes `packet[0, length)` of any Buffer and is done
   * with it on return (a synchronous send): the relay may then protect a
   * received packet in place and send it, and reuse a buffer at once.
   */
  readonly sendsFromAnyBuffer: boolean;
  /** Where packets for the phone go, null while nowhere. */
  readonly destination: { readonly address: string; readonly port: number } | null;
  /** Starts delivering datagrams; socket errors (ICMP unreachable…) go to onError. Called once. */
  listen(onPacket: PacketHandler, onError: (err: Error) => void): void;
  /** Cold path: when the latch or the SDP changes; port 0 for nowhere. */
  setDestination(address: string, port: number): void;
  /** Sends `packet[0, length)` to the destination; false when there is none. */
  send(packet: Buffer, length: number): boolean;
  /**
   * Called right after a send() of a slot of `ring`: a port whose sends may
   * complete later records that the slot is still in use.
   */
  sentFromRing(ring: SentSlotTracker): void;
  close(): Promise<void>;
}

/** What an outbound ring offers its senders (outbound-buffers.ts). */
export interface SentSlotTracker {
  /** The slot of the last take() leaves with a send that may still be queued in `pending`. */
  sent(pending: { getSendQueueCount(): number }): void;
}

/** The ports of one leg. */
export interface LegPorts {
  readonly rtp: RelayPort;
  readonly rtcp: RelayPort;
}

/** Opens the UDP ports of a worker's legs and counts the sockets open (tests check nothing leaks). */
export interface RelayPortOpener {
  readonly kind: 'native' | 'dgram';
  readonly openSockets: number;
  /**
   * The port at `address:port`, with a connected sender next to its
   * listener when `connectedSender` (see dgram-relay-port.ts). Rejects with
   * the bind error (code EADDRINUSE, EACCES, EMFILE…).
   */
  open(address: string, port: number, connectedSender: boolean): Promise<RelayPort>;
}
