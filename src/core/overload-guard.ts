/**
 * Admission of new out-of-dialog requests: beyond a configured load, or
 * once voix is stopping, a new request gets a stateless 503 with
 * Retry-After (RFC 3261 §21.5.4, §20.33) instead of joining a queue that
 * slows everyone down. What stays admitted: requests inside a dialog (a BYE
 * must end its call, a re-INVITE must keep it), CANCEL (it ends work) and
 * ACK (never answered).
 *
 * The load is judged on three signals, each off when its limit is 0:
 * - the smoothed event-loop lag (util/event-loop-lag.ts): the delay every
 *   message already waits; past T1 (500 ms) the phones retransmit and the
 *   load doubles, so the limit sits well below it;
 * - server transactions still waiting for their final response: the work
 *   voix has accepted and not finished;
 * - a ceiling on new requests per second (token bucket, one second of
 *   burst), for operators who know what their machine sustains.
 *
 * The guard is called from the transaction layer's screen, once per new
 * request; refusing costs a response and no state. It logs when refusals
 * start and, once a second has passed without one, when they stop.
 */
import type { Logger } from '../log/logger.js';
import { createResponse, newTag } from '../sip/builders.js';
import { Headers, tagOf } from '../sip/headers.js';
import type { SipRequest, SipResponse } from '../sip/message.js';
import type { Clock } from '../util/clock.js';

export interface OverloadSettings {
  /** Smoothed event-loop lag above which new requests are refused, ms; 0: not judged. */
  readonly maxEventLoopLagMs: number;
  /** Server transactions without their final response from which new requests are refused; 0: not judged. */
  readonly maxTransactionsInProgress: number;
  /** New out-of-dialog requests admitted per second; 0: no ceiling. */
  readonly maxRequestsPerSecond: number;
  /** Retry-After of the 503, seconds. */
  readonly retryAfterSeconds: number;
}

export type RefusalReason = 'stopping' | 'event-loop-lag' | 'transactions' | 'request-rate';

export interface OverloadGuardOptions {
  /** Read at each request: a reload applies at once. */
  readonly settings: () => OverloadSettings;
  readonly clock: Clock;
  readonly eventLoopLagMs: () => number;
  readonly transactionsInProgress: () => number;
  readonly serverHeader: string;
  readonly logger: Logger;
  /** Each refusal, for the metrics. */
  readonly onRefused?: (reason: RefusalReason) => void;
}

export interface OverloadState {
  /** True while new requests are refused. */
  readonly refusing: boolean;
  readonly reason: RefusalReason | null;
  readonly stopping: boolean;
  /** Refusals since the process started. */
  readonly refused: number;
}

/** A second without refusal ends an overload episode (and its log line comes then). */
const QUIET_MS = 1000;

export class OverloadGuard {
  private stopping = false;
  private tokens = 0;
  private tokensAt = 0;
  private bucketRate = 0;
  private refusedTotal = 0;
  private episode: { reason: RefusalReason; since: number; refused: number } | null = null;
  private lastRefusalAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: OverloadGuardOptions) {}

  /** From now on every new out-of-dialog request is refused: voix is stopping. */
  startDraining(): void {
    this.stopping = true;
  }

  /** The 503 to send for `request`, or null to let it through. */
  screen(request: SipRequest): SipResponse | null {
    // In-dialog requests, CANCEL and ACK are the work that ends or keeps what already runs.
    if (request.method === 'ACK' || request.method === 'CANCEL' || tagOf(request.to) !== null) return null;
    const now = this.options.clock.now();
    const settings = this.options.settings();
    const reason = this.refusalReason(settings, now);
    if (reason === null) {
      this.endEpisodeIfQuiet(now);
      return null;
    }
    this.refused(reason, now);
    const headers = new Headers();
    headers.append('Retry-After', String(settings.retryAfterSeconds));
    headers.append('Server', this.options.serverHeader);
    return createResponse(request, 503, { toTag: newTag(), headers });
  }

  /** Whether a new request would be refused now, and why (the rate ceiling: whether one was refused within the last second). */
  state(): OverloadState {
    const now = this.options.clock.now();
    const settings = this.options.settings();
    let reason: RefusalReason | null = null;
    if (this.stopping) reason = 'stopping';
    else if (settings.maxEventLoopLagMs > 0 && this.options.eventLoopLagMs() > settings.maxEventLoopLagMs) reason = 'event-loop-lag';
    else if (settings.maxTransactionsInProgress > 0 && this.options.transactionsInProgress() >= settings.maxTransactionsInProgress) reason = 'transactions';
    else if (now - this.lastRefusalAt < QUIET_MS) reason = this.episode?.reason ?? 'request-rate';
    return { refusing: reason !== null, reason, stopping: this.stopping, refused: this.refusedTotal };
  }

  private refusalReason(settings: OverloadSettings, now: number): RefusalReason | null {
    if (this.stopping) return 'stopping';
    if (settings.maxEventLoopLagMs > 0 && this.options.eventLoopLagMs() > settings.maxEventLoopLagMs) return 'event-loop-lag';
    if (settings.maxTransactionsInProgress > 0 && this.options.transactionsInProgress() >= settings.maxTransactionsInProgress) return 'transactions';
    if (settings.maxRequestsPerSecond > 0 && !this.takeToken(settings.maxRequestsPerSecond, now)) return 'request-rate';
    return null;
  }

  /** Token bucket: `rate` tokens a second, at most `rate` saved (one second of burst). */
  private takeToken(rate: number, now: number): boolean {
    if (rate !== this.bucketRate) {
      this.bucketRate = rate;
      this.tokens = rate;
      this.tokensAt = now;
    }
    this.tokens = Math.min(rate, this.tokens + ((now - this.tokensAt) * rate) / 1000);
    this.tokensAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private refused(reason: RefusalReason, now: number): void {
    this.refusedTotal += 1;
    this.lastRefusalAt = now;
    this.options.onRefused?.(reason);
    if (this.episode === null) {
      this.episode = { reason, since: now, refused: 1 };
      const settings = this.options.settings();
      this.options.logger.warn('overload: refusing new requests with 503', {
        reason,
        eventLoopLagMs: Math.round(this.options.eventLoopLagMs() * 10) / 10,
        transactionsInProgress: this.options.transactionsInProgress(),
        retryAfterSeconds: settings.retryAfterSeconds,
      });
      return;
    }
    this.episode.refused += 1;
    this.episode.reason = reason;
  }

  private endEpisodeIfQuiet(now: number): void {
    const episode = this.episode;
    if (episode === null || now - this.lastRefusalAt < QUIET_MS) return;
    this.episode = null;
    this.options.logger.info('overload over: admitting new requests again', { refused: episode.refused, durationMs: this.lastRefusalAt - episode.since });
  }
}
