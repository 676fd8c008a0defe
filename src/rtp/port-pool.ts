/**
 * RTP port pairs of one media worker. RFC 3550 §11: RTP on an even port,
 * RTCP on the next odd one; a pair is named by its even port. Free pairs
 * are handed out oldest-released first, so a port just given back is the
 * last to be reused and late packets of the old call do not land in a new
 * one.
 */
import { MediaUnavailableError } from './media-protocol.js';

export interface PortRange {
  readonly portMin: number;
  readonly portMax: number;
}

/** Even ports p of [portMin, portMax] with p + 1 also in the range. */
export function evenPortsIn(range: PortRange): number[] {
  const ports: number[] = [];
  const first = range.portMin % 2 === 0 ? range.portMin : range.portMin + 1;
  for (let port = first; port + 1 <= range.portMax; port += 2) ports.push(port);
  return ports;
}

/**
 * Splits a range into at most `parts` contiguous shares of whole pairs, as
 * even as possible, each with at least `minimumPairs` pairs (a relay needs
 * two); fewer shares when the range is too small for `parts`.
 */
export function splitPortRange(range: PortRange, parts: number, minimumPairs = 2): PortRange[] {
  const ports = evenPortsIn(range);
  const shareCount = Math.min(Math.max(1, Math.floor(parts)), Math.floor(ports.length / minimumPairs));
  const shares: PortRange[] = [];
  let start = 0;
  for (let i = 0; i < shareCount; i++) {
    const size = Math.floor(ports.length / shareCount) + (i < ports.length % shareCount ? 1 : 0);
    const first = ports[start];
    const last = ports[start + size - 1];
    if (first === undefined || last === undefined) break;
    shares.push({ portMin: first, portMax: last + 1 });
    start += size;
  }
  return shares;
}

export class PortPool {
  private readonly free: number[];
  /** Index of the next pair to hand out in `free` (a queue without shifting the array). */
  private head = 0;
  private readonly inUse = new Set<number>();
  readonly capacity: number;

  constructor(readonly range: PortRange) {
    this.free = evenPortsIn(range);
    this.capacity = this.free.length;
  }

  get available(): number {
    return this.free.length - this.head;
  }

  get used(): number {
    return this.inUse.size;
  }

  /** The even port of a free pair; MediaUnavailableError when every pair is in use. */
  acquire(): number {
    const port = this.free[this.head];
    if (port === undefined) {
      throw new MediaUnavailableError(
        `no free RTP port pair in ${this.range.portMin}-${this.range.portMax}: all ${this.capacity} pairs in use; widen the RTP port range`,
      );
    }
    this.head++;
    // Compact now and then so the queue does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.free.length) {
      this.free.splice(0, this.head);
      this.head = 0;
    }
    this.inUse.add(port);
    return port;
  }

  /** Gives a pair back (to the end of the queue). Releasing a port that is not in use is a bug. */
  release(port: number): void {
    if (!this.inUse.delete(port)) throw new Error(`RTP port ${port} released but not in use`);
    this.free.push(port);
  }
}
