/**
 * The campaign scheduler: which contact is called next, when, and what is
 * recorded about it. It runs in the server; the operator drives it through
 * the database (voix campaign start|pause|resume|stop sets a campaign's
 * state, which the dialer reads at every turn, at least once a second).
 *
 * For each running campaign, in turn (campaigns sharing a trunk take turns
 * call by call, so none starves the others), the dialer takes the contact
 * waiting longest whose next attempt is due, asks the calling policy
 * (do-not-call list, consent, quiet period after a refusal, attempts per 30
 * days, calling hours in the contact's time zone) and either records why
 * not and until when, or — when the campaign's and the trunk's pacers both
 * allow a call now — commits the attempt and places the call. Its outcome
 * decides the contact's next attempt (retry-policy.ts) or its final result.
 *
 * Crash safety comes from the store: an attempt is committed before its
 * INVITE leaves, and at start every attempt left in flight is closed as
 * 'unknown' and goes through the retry rules like any outcome.
 *
 * Two clocks: `now()` is the calendar (records, calling hours; tests shift
 * it), `clock` paces calls and wakes the dialer (tests use a fake one).
 */
import type { CampaignConfig, TrunkConfig } from '../config/types.js';
import type { OriginatedCallResult } from '../calls/originated-call.js';
import type { Logger } from '../log/logger.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { CallPacer } from './call-pacer.js';
import { CallingPolicy, type CallDecision } from './calling-policy.js';
import type { Campaign, CampaignStore, DueContact } from './campaign-store.js';
import { afterAttempt, type RetryRules } from './retry-policy.js';

/** A call the dialer wants placed; the placer builds the INVITE and the message. */
export interface PlannedCall {
  readonly campaign: CampaignConfig;
  readonly contact: DueContact;
  readonly callId: string;
  /** The opt-out key was pressed: the number goes on the do-not-call list before anything else happens. */
  readonly onOptOut: () => void;
}

export interface DialerOptions {
  readonly store: CampaignStore;
  readonly clock: Clock;
  /** The calendar: ms since the epoch (attempt times, calling hours). */
  readonly now: () => number;
  readonly campaigns: () => readonly CampaignConfig[];
  readonly trunks: () => readonly TrunkConfig[];
  /** Calls in progress through a trunk, from every source (users' calls use the same channels). */
  readonly trunkCalls: (trunk: string) => number;
  readonly place: (call: PlannedCall) => Promise<OriginatedCallResult>;
  /**
   * For a progressive campaign: its agents (its connect number) registered
   * and in no call, less its calls in flight that have not reached one yet.
   * A new call may start while this is above zero.
   */
  readonly freeAgents: (campaign: CampaignConfig) => number;
  readonly newCallId: () => string;
  readonly logger: Logger;
  /** The longest the dialer sleeps between turns (it rereads campaign states then); default 1000 ms. */
  readonly pollMs?: number;
}

/** Policy refusals looked at in one turn at most, so a large campaign outside its hours does not hold the event loop. */
const DECISIONS_PER_TURN = 500;

function retryRules(config: CampaignConfig): RetryRules {
  const never = { afterSeconds: 0, maxRetries: 0 };
  return { answered: never, machine: never, 'opted-out': never, rejected: never, ...config.retry };
}

export class Dialer {
  private timer: TimerHandle | undefined;
  private running = false;
  private readonly campaignPacers = new Map<string, CallPacer>();
  private readonly trunkPacers = new Map<string, CallPacer>();
  private readonly policies = new WeakMap<CampaignConfig, CallingPolicy>();
  private readonly inFlight = new Set<Promise<void>>();
  /** Calls in flight per campaign id. */
  private readonly callsOf = new Map<number, number>();
  /** Where the next turn starts in the list of running campaigns (fair share of trunks). */
  private turn = 0;
  /** Campaigns whose start was logged (with their departures from the law), and the running ones without configuration. */
  private readonly announced = new Set<string>();
  private readonly pollMs: number;

  constructor(private readonly options: DialerOptions) {
    this.pollMs = options.pollMs ?? 1000;
  }

  /** Reconciles what a crash left in flight, then starts taking turns. */
  start(): void {
    const { store, logger } = this.options;
    const now = this.options.now();
    const lost = store.reconcileInFlight(now);
    for (const attempt of lost) {
      const campaignId = store.campaignOfContact(attempt.contactId);
      const config = this.configOfCampaignId(campaignId);
      const rules = config === null ? null : retryRules(config);
      logger.warn('attempt lost in a crash reconciled', { attempt: attempt.id, phone: attempt.phone, callId: attempt.callId });
      if (rules === null) continue;
      this.afterOutcome(attempt.contactId, rules, now, 'in flight when voix stopped');
    }
    this.running = true;
    this.wake(0);
  }

  /** No new call from now on (shutdown); the calls in flight end and are recorded. */
  stopDialing(): void {
    this.running = false;
    this.options.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  /** Resolves when every call in flight has been recorded. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private configOfCampaignId(id: number | null): CampaignConfig | null {
    if (id === null) return null;
    const campaign = this.options.store.campaigns().find((c) => c.id === id);
    return campaign === undefined ? null : (this.options.campaigns().find((c) => c.name === campaign.name) ?? null);
  }

  private wake(delayMs: number): void {
    if (!this.running) return;
    this.options.clock.clearTimer(this.timer);
    this.timer = this.options.clock.setTimer(Math.max(0, delayMs), () => {
      this.timer = undefined;
      try {
        this.takeTurns();
      } catch (err) {
        this.options.logger.error('dialer turn failed', { error: err });
        this.wake(this.pollMs);
      }
    });
  }

  private policy(config: CampaignConfig, campaign: Campaign): CallingPolicy {
    let policy = this.policies.get(config);
    if (policy === undefined) {
      policy = new CallingPolicy(campaign.purpose, {
        ...(config.hours !== null ? { hours: config.hours } : {}),
        maxAttempts: config.maxAttempts,
        attemptPeriodDays: config.attemptPeriodDays,
        quietDaysAfterRefusal: config.quietDaysAfterRefusal,
        ...(config.consentRequired !== null ? { consentRequired: config.consentRequired } : {}),
      });
      this.policies.set(config, policy);
    }
    return policy;
  }

  private pacer(pacers: Map<string, CallPacer>, name: string, callsPerSecond: number, maxCalls: number): CallPacer {
    let pacer = pacers.get(name);
    if (pacer === undefined) {
      pacer = new CallPacer(callsPerSecond, maxCalls);
      pacers.set(name, pacer);
    } else if (pacer.callsPerSecond !== callsPerSecond || pacer.maxConcurrent !== maxCalls) {
      pacer.reconfigure(callsPerSecond, maxCalls);
    }
    return pacer;
  }

  /** The running campaigns that have a configuration, in a stable order. */
  private runningCampaigns(): Array<{ campaign: Campaign; config: CampaignConfig; trunk: TrunkConfig }> {
    const { store, logger } = this.options;
    const configs = new Map(this.options.campaigns().map((c) => [c.name, c]));
    const trunks = new Map(this.options.trunks().map((t) => [t.name, t]));
    const running: Array<{ campaign: Campaign; config: CampaignConfig; trunk: TrunkConfig }> = [];
    for (const campaign of store.campaigns()) {
      if (campaign.state !== 'running') {
        this.announced.delete(campaign.name);
        continue;
      }
      const config = configs.get(campaign.name);
      const trunk = config === undefined ? undefined : trunks.get(config.trunk);
      if (config === undefined || trunk === undefined) {
        if (!this.announced.has(campaign.name)) logger.warn('running campaign not in the configuration: nothing is dialled', { campaign: campaign.name });
        this.announced.add(campaign.name);
        continue;
      }
      if (config.purpose !== campaign.purpose) store.setCampaignPurpose(campaign.id, config.purpose);
      if (!this.announced.has(campaign.name)) {
        this.announced.add(campaign.name);
        const departures = this.policy(config, { ...campaign, purpose: config.purpose }).departuresFromLaw(config.purpose);
        if (departures.length > 0) logger.warn('campaign departs from the legal defaults', { campaign: campaign.name, departures });
        logger.info('campaign running', { campaign: campaign.name, purpose: config.purpose, trunk: config.trunk, callsPerSecond: config.callsPerSecond, maxCalls: config.maxCalls });
      }
      running.push({ campaign: { ...campaign, purpose: config.purpose }, config, trunk });
    }
    return running;
  }

  private takeTurns(): void {
    if (!this.running) return;
    const { store, clock } = this.options;
    const running = this.runningCampaigns();
    let decisions = DECISIONS_PER_TURN;
    let placed = true;
    // Campaigns held back by what no pacer knows (a trunk full of other calls, no free agent): they are looked at again at the next poll.
    const heldBack = new Set<number>();
    while (placed && running.length > 0 && decisions > 0) {
      placed = false;
      for (let k = 0; k < running.length && !placed; k++) {
        const index = (this.turn + k) % running.length;
        const entry = running[index];
        if (entry === undefined) continue;
        const { campaign, config, trunk } = entry;
        const campaignPacer = this.pacer(this.campaignPacers, campaign.name, config.callsPerSecond, config.maxCalls);
        const trunkPacer = this.pacer(this.trunkPacers, trunk.name, trunk.callsPerSecond, trunk.maxCalls);
        const mono = clock.now();
        if (!campaignPacer.canStart(mono) || !trunkPacer.canStart(mono)) continue;
        // Progressive: a call only for an agent nobody else is about to take.
        if (this.options.trunkCalls(trunk.name) >= trunk.maxCalls || (config.progressive && this.options.freeAgents(config) <= 0)) {
          heldBack.add(campaign.id);
          continue;
        }
        while (decisions > 0) {
          const now = this.options.now();
          const contact = store.dueContacts(campaign.id, now, 1)[0];
          if (contact === undefined) break;
          decisions--;
          const decision = this.decide(campaign, config, contact, now);
          if (!decision.ok) {
            this.recordRefusal(campaign, contact, decision, now);
            continue;
          }
          this.placeCall(campaign, config, contact, now, [campaignPacer, trunkPacer]);
          this.turn = index + 1;
          placed = true;
          break;
        }
      }
    }
    this.markCompleted(running.map((r) => r.campaign));
    this.wake(this.nextTurnIn(running.filter((r) => !heldBack.has(r.campaign.id))));
  }

  private decide(campaign: Campaign, config: CampaignConfig, contact: DueContact, now: number): CallDecision {
    const { store } = this.options;
    const policy = this.policy(config, campaign);
    return policy.decide(
      {
        phone: contact.phone,
        consentGiven: contact.consentGiven,
        doNotCall: store.isDoNotCall(contact.phone),
        recentAttempts: store.attemptStartsToNumberSince(contact.phone, now - policy.attemptPeriodMs),
        lastRefusalAt: store.lastRefusalAt(contact.phone),
      },
      now,
    );
  }

  private recordRefusal(campaign: Campaign, contact: DueContact, decision: Extract<CallDecision, { ok: false }>, now: number): void {
    const { store, logger } = this.options;
    if (decision.reason === 'do-not-call' || decision.reason === 'no-consent' || decision.retryAt === null) {
      const result = decision.reason === 'do-not-call' || decision.reason === 'no-consent' ? decision.reason : 'outside-hours';
      store.close(contact.id, result, decision.detail, now);
      logger.info('contact skipped', { campaign: campaign.name, phone: contact.phone, reason: result, detail: decision.detail });
      return;
    }
    store.schedule(contact.id, decision.retryAt, decision.reason);
    logger.debug('contact postponed', { campaign: campaign.name, phone: contact.phone, reason: decision.reason, until: new Date(decision.retryAt).toISOString() });
  }

  private placeCall(campaign: Campaign, config: CampaignConfig, contact: DueContact, now: number, pacers: readonly CallPacer[]): void {
    const { store, clock, logger } = this.options;
    const callId = this.options.newCallId();
    // Committed before the INVITE leaves: a crash from here on leaves an attempt to reconcile, never a silent redial.
    const attempt = store.beginAttempt(contact.id, now, callId);
    const mono = clock.now();
    for (const pacer of pacers) pacer.started(mono);
    this.callsOf.set(campaign.id, (this.callsOf.get(campaign.id) ?? 0) + 1);
    logger.info('dialling contact', { campaign: campaign.name, phone: contact.phone, attempt: attempt.id, callId });
    const onOptOut = () => {
      store.addDoNotCall(contact.phone, `opt-out during campaign ${campaign.name}`, this.options.now());
      logger.info('number added to the do-not-call list', { campaign: campaign.name, phone: contact.phone, source: 'opt-out key' });
    };
    const done = this.options
      .place({ campaign: config, contact, callId, onOptOut })
      .catch((err: unknown): OriginatedCallResult => {
        logger.error('campaign call failed', { campaign: campaign.name, callId, error: err });
        return { outcome: 'failed', status: 500, detail: `voix could not place the call: ${err instanceof Error ? err.message : String(err)}`, answeredAt: null, endedAt: this.options.now() };
      })
      .then((result) => {
        const at = this.options.now();
        store.finishAttempt(attempt.id, { outcome: result.outcome, at, sipStatus: result.status, detail: result.detail });
        logger.info('attempt ended', { campaign: campaign.name, phone: contact.phone, attempt: attempt.id, outcome: result.outcome, status: result.status });
        const current = this.options.campaigns().find((c) => c.name === campaign.name) ?? config;
        this.afterOutcome(contact.id, retryRules(current), at, result.detail);
      })
      .catch((err: unknown) => logger.error('attempt not recorded', { campaign: campaign.name, callId, error: err }))
      .finally(() => {
        for (const pacer of pacers) pacer.ended();
        this.callsOf.set(campaign.id, (this.callsOf.get(campaign.id) ?? 1) - 1);
        this.inFlight.delete(done);
        this.wake(0);
      });
    this.inFlight.add(done);
  }

  /** After an attempt ended: the contact's next attempt, or its final result. */
  private afterOutcome(contactId: number, rules: RetryRules, at: number, detail: string): void {
    const { store } = this.options;
    const outcomes = store.outcomes(contactId);
    const next = afterAttempt(rules, outcomes, at);
    if (next.retry) store.schedule(contactId, next.at, 'retry');
    else store.close(contactId, next.final, detail, at);
  }

  private markCompleted(running: readonly Campaign[]): void {
    const { store, logger } = this.options;
    for (const campaign of running) {
      if ((this.callsOf.get(campaign.id) ?? 0) > 0 || store.nextDueAt(campaign.id) !== null) continue;
      if (!store.completeIfRunning(campaign.id, this.options.now())) continue;
      this.announced.delete(campaign.name);
      logger.info('campaign completed', { campaign: campaign.name, ...store.progress(campaign.id).results });
    }
  }

  /** How long to sleep: until a pacer allows the next call or a contact falls due, at most pollMs. */
  private nextTurnIn(running: ReadonlyArray<{ campaign: Campaign; config: CampaignConfig; trunk: TrunkConfig }>): number {
    const mono = this.options.clock.now();
    const now = this.options.now();
    let wait = this.pollMs;
    for (const { campaign, config, trunk } of running) {
      const due = this.options.store.nextDueAt(campaign.id);
      if (due === null) continue;
      const pacerReady = Math.max(
        this.pacer(this.campaignPacers, campaign.name, config.callsPerSecond, config.maxCalls).nextStartMs(mono),
        this.pacer(this.trunkPacers, trunk.name, trunk.callsPerSecond, trunk.maxCalls).nextStartMs(mono),
      );
      const ready = Math.max(pacerReady - mono, due - now);
      wait = Math.min(wait, ready);
    }
    return Math.max(0, wait);
  }
}
