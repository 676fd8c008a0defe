/**
 * The main thread's side of the players' news (PlayoutEvent from the media
 * workers): who is waiting for which play to end. A play can end before
 * anyone asks (a short prompt, a released relay), so the ends of recent
 * plays are kept for a while.
 */
import type { PlayEndReason, PlayoutEvent } from './playout/playout-protocol.js';

/** Ends kept for plays nobody waited for yet: plenty for the time between play() resolving and ended() being called. */
const REMEMBERED_ENDS = 4096;

export class PlayoutTracker {
  private readonly waiting = new Map<number, (reason: PlayEndReason) => void>();
  private readonly ended = new Map<number, PlayEndReason>();
  private readonly itemListeners = new Map<number, (item: number) => void>();

  /** Feed every PlayoutEvent of the engine here. */
  onEvent(event: PlayoutEvent): void {
    if (event.type === 'itemEnded') {
      this.itemListeners.get(event.playId)?.(event.item);
      return;
    }
    this.itemListeners.delete(event.playId);
    const resolve = this.waiting.get(event.playId);
    if (resolve !== undefined) {
      this.waiting.delete(event.playId);
      resolve(event.reason);
      return;
    }
    this.ended.set(event.playId, event.reason);
    if (this.ended.size > REMEMBERED_ENDS) {
      const oldest = this.ended.keys().next().value;
      if (oldest !== undefined) this.ended.delete(oldest);
    }
  }

  /** Resolves with why play `playId` ended. */
  whenEnded(playId: number): Promise<PlayEndReason> {
    const known = this.ended.get(playId);
    if (known !== undefined) {
      this.ended.delete(playId);
      return Promise.resolve(known);
    }
    return new Promise((resolve) => this.waiting.set(playId, resolve));
  }

  /** Calls `listener` with the index of each playlist item of `playId` sent to the end. */
  onItemEnded(playId: number, listener: (item: number) => void): void {
    this.itemListeners.set(playId, listener);
  }
}
