/**
 * The main thread's side of the request/response protocol with one media
 * worker: numbers requests, matches responses by id, and turns silence
 * (timeout) and a dead worker into error values, so a caller always gets
 * exactly one MediaWorkerResult.
 */
import type {
  MediaWorkerError,
  MediaWorkerMethod,
  MediaWorkerMethods,
  MediaWorkerRequest,
  MediaWorkerRequestMessage,
  MediaWorkerResult,
} from './media-worker-protocol.js';

interface Pending {
  readonly method: MediaWorkerMethod;
  readonly resolve: (result: MediaWorkerResult<unknown>) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export class MediaWorkerChannel {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly post: (message: MediaWorkerRequestMessage) => void,
    private readonly timeoutMs: number,
  ) {}

  get pendingRequests(): number {
    return this.pending.size;
  }

  call<M extends MediaWorkerMethod>(
    method: M,
    params: MediaWorkerMethods[M]['params'],
    timeoutMs = this.timeoutMs,
  ): Promise<MediaWorkerResult<MediaWorkerMethods[M]['result']>> {
    const id = this.nextId++;
    // The mapped union cannot be narrowed from a generic M; the pair (method, params) is correct by construction.
    const request = { method, params } as MediaWorkerRequest;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ ok: false, error: { name: 'TimeoutError', message: `media worker did not answer ${method} within ${timeoutMs} ms` } });
      }, timeoutMs);
      this.pending.set(id, { method, resolve: resolve as (result: MediaWorkerResult<unknown>) => void, timer });
      try {
        this.post({ kind: 'request', id, request });
      } catch (err) {
        this.settle(id, { ok: false, error: { name: 'WorkerExitedError', message: `cannot reach media worker: ${err instanceof Error ? err.message : String(err)}` } });
      }
    });
  }

  /** A response arrived; one for a request that already timed out is ignored (returns false). */
  settle(id: number, result: MediaWorkerResult<unknown>): boolean {
    const pending = this.pending.get(id);
    if (pending === undefined) return false;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    pending.resolve(result);
    return true;
  }

  /** Every request still waiting gets `error` (the worker exited). */
  failAll(error: MediaWorkerError): void {
    for (const [id] of this.pending) this.settle(id, { ok: false, error });
  }
}
