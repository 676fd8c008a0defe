/**
 * Preallocated buffers for packets that grow on the way out (SRTP appends
 * its tag, and the Buffer that dgram hands over has no room after the
 * packet) and for packets the players make. A packet is copied into the
 * next slot of a ring, transformed there and sent.
 *
 * dgram sends a whole Buffer as it is, but given an offset and a length it
 * makes a new Buffer view per send. So slots are exactly as long as the
 * packet that leaves from them: one ring per packet length, made the first
 * time a length is asked for (a worker sees a handful: 172 bytes for 20 ms
 * of G.711, 182 or 176 with an SRTP tag, 16 + tag for RFC 4733 events).
 * Past MAX_LENGTHS rings (someone sending packets of every size), a packet
 * of a new length gets a view of a shared ring's slot: it is sent, with
 * that one allocation.
 *
 * dgram usually hands the bytes to the kernel during send(); only when the
 * socket's send queue is backed up does libuv keep a reference to send
 * later. So before a slot is reused, the socket it last went out on is
 * asked for its queue: if something is still queued there, the slot gets
 * a fresh buffer and the old one stays with the pending send. That only
 * happens under overload; the steady state allocates nothing.
 */
import type { SentSlotTracker } from './relay-port.js';

/** A dgram socket as far as the ring cares: how many of its sends are still queued. */
type PendingSends = { getSendQueueCount(): number };

/** The longest packet the ring takes. */
export const OUTBOUND_SLOT_BYTES = 2048;
/** Rings of exact-length slots a ring set keeps at most. */
export const MAX_LENGTHS = 16;
const SLOTS_PER_RING = 64;

/** `slotCount` buffers of `bytes` bytes, used in turn. */
class Ring {
  private readonly slots: Buffer[] = [];
  private readonly sentOn: Array<PendingSends | null> = [];
  private next = 0;
  current = 0;

  constructor(
    private readonly slotCount: number,
    private readonly bytes: number,
  ) {
    for (let i = 0; i < slotCount; i++) {
      this.slots.push(Buffer.allocUnsafe(bytes));
      this.sentOn.push(null);
    }
  }

  /** The next slot, safe to overwrite (a fresh one, counted in the owner's replacedSlots, when a queued send still holds it). */
  take(owner: OutboundBufferRing): Buffer {
    const i = this.next;
    this.next = i + 1 === this.slotCount ? 0 : i + 1;
    this.current = i;
    const socket = this.sentOn[i] ?? null;
    if (socket !== null && queuedSends(socket) > 0) {
      this.slots[i] = Buffer.allocUnsafe(this.bytes);
      owner.replacedSlots++;
    }
    this.sentOn[i] = null;
    const slot = this.slots[i];
    if (slot === undefined) throw new Error('outbound buffer ring index out of range');
    return slot;
  }

  sent(socket: PendingSends): void {
    this.sentOn[this.current] = socket;
  }
}

export class OutboundBufferRing implements SentSlotTracker {
  private readonly byLength = new Map<number, Ring>();
  /** For lengths beyond MAX_LENGTHS: full-size slots, a view per packet. */
  private readonly shared: Ring;
  private last: Ring;
  /** Slots replaced because a queued send still held them (for diagnostics). */
  replacedSlots = 0;

  constructor(
    private readonly slotCount = SLOTS_PER_RING,
    readonly slotBytes = OUTBOUND_SLOT_BYTES,
  ) {
    this.shared = new Ring(slotCount, slotBytes);
    this.last = this.shared;
  }

  /**
   * A Buffer of exactly `length` bytes (at most slotBytes), safe to
   * overwrite: the packet that will leave from it must be that long, so
   * that dgram sends it whole.
   */
  take(length: number): Buffer {
    let ring = this.byLength.get(length);
    if (ring === undefined && this.byLength.size < MAX_LENGTHS) {
      ring = new Ring(this.slotCount, length);
      this.byLength.set(length, ring);
    }
    if (ring !== undefined) {
      this.last = ring;
      return ring.take(this);
    }
    this.last = this.shared;
    return this.shared.take(this).subarray(0, length);
  }

  /** Records the socket the slot from the last take() went out on. */
  sent(socket: PendingSends): void {
    this.last.sent(socket);
  }
}

function queuedSends(socket: PendingSends): number {
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
