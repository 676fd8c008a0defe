/**
 * Preallocated buffers for packets that grow on the way out (SRTP appends
 * its tag, and the Buffer that dgram hands over has no room after the
 * packet). A packet is copied into the next slot of a ring, transformed
 * there and sent.
 *
 * dgram usually hands the bytes to the kernel during send(); only when the
 * socket's send queue is backed up does libuv keep a reference to send
 * later. So before a slot is reused, the socket it last went out on is
 * asked for its queue: if something is still queued there, the slot gets
 * a fresh buffer and the old one stays with the pending send. That only
 * happens under overload; the steady state allocates nothing.
 */
import type dgram from 'node:dgram';

export const OUTBOUND_SLOT_BYTES = 2048;

export class OutboundBufferRing {
  private readonly slots: Buffer[] = [];
  private readonly sentOn: Array<dgram.Socket | null> = [];
  private next = 0;
  private current = 0;
  /** Slots replaced because a queued send still held them (for diagnostics). */
  replacedSlots = 0;

  constructor(
    private readonly slotCount = 64,
    readonly slotBytes = OUTBOUND_SLOT_BYTES,
  ) {
    for (let i = 0; i < slotCount; i++) {
      this.slots.push(Buffer.allocUnsafe(slotBytes));
      this.sentOn.push(null);
    }
  }

  /** The next slot, safe to overwrite. */
  take(): Buffer {
    const i = this.next;
    this.next = i + 1 === this.slotCount ? 0 : i + 1;
    this.current = i;
    const socket = this.sentOn[i] ?? null;
    if (socket !== null && queuedSends(socket) > 0) {
      this.slots[i] = Buffer.allocUnsafe(this.slotBytes);
      this.replacedSlots++;
    }
    this.sentOn[i] = null;
    const slot = this.slots[i];
    if (slot === undefined) throw new Error('outbound buffer ring index out of range');
    return slot;
  }

  /** Records the socket the slot from the last take() went out on. */
  sent(socket: dgram.Socket): void {
    this.sentOn[this.current] = socket;
  }
}

function queuedSends(socket: dgram.Socket): number {
  try {
    return socket.getSendQueueCount();
  } catch {
    // Closed socket: libuv cancelled its queued sends, nothing will read the buffer any more.
    return 0;
  }
}

/** Copies `source[0, length)` to the start of `target`: TypedArray.set for a whole buffer, a loop rather than a subarray view otherwise. */
export function copyPacket(source: Buffer, length: number, target: Buffer): void {
  if (length === source.length) {
    target.set(source, 0);
    return;
  }
  for (let i = 0; i < length; i++) target[i] = source[i] ?? 0;
}
