/**
 * What happens to a contact after an attempt, by outcome: done, or tried
 * again after a delay, up to a number of tries per outcome. The legal
 * limits (calling-policy.ts) apply on top: a retry the law forbids waits
 * until the law allows it.
 *
 * Defaults, as a call-centre would set them: busy lines free up quickly,
 * an unanswered phone is tried later in the day, a network failure soon,
 * an attempt lost in a crash ('unknown') like a failure; an answered,
 * declined or opted-out call is never retried.
 */
import type { AttemptOutcome } from './campaign-store.js';

export interface RetryRule {
  /** Seconds before the next try. */
  readonly afterSeconds: number;
  /** Tries after the first for this outcome; 0: never again. */
  readonly maxRetries: number;
}

export type RetryRules = Readonly<Record<AttemptOutcome, RetryRule>>;

export const DEFAULT_RETRY_RULES: RetryRules = {
  answered: { afterSeconds: 0, maxRetries: 0 },
  'opted-out': { afterSeconds: 0, maxRetries: 0 },
  machine: { afterSeconds: 0, maxRetries: 0 },
  rejected: { afterSeconds: 0, maxRetries: 0 },
  busy: { afterSeconds: 15 * 60, maxRetries: 3 },
  'no-answer': { afterSeconds: 2 * 3600, maxRetries: 2 },
  failed: { afterSeconds: 30 * 60, maxRetries: 2 },
  congestion: { afterSeconds: 5 * 60, maxRetries: 5 },
  unknown: { afterSeconds: 30 * 60, maxRetries: 2 },
};

export type RetryDecision = { readonly retry: true; readonly at: number } | { readonly retry: false; readonly final: AttemptOutcome };

/**
 * After an attempt ending in `outcome` at `endedAt`, given the outcomes of
 * every attempt of this contact in the campaign (that one included), in
 * order: retry at a time, or stop with `outcome` as the contact's final one.
 */
export function afterAttempt(rules: RetryRules, outcomes: readonly AttemptOutcome[], endedAt: number): RetryDecision {
  const outcome = outcomes.at(-1);
  if (outcome === undefined) throw new RangeError('afterAttempt needs the outcome of at least one attempt');
  const rule = rules[outcome];
  const retriesSoFar = outcomes.filter((o) => o === outcome).length - 1;
  if (retriesSoFar >= rule.maxRetries) return { retry: false, final: outcome };
  return { retry: true, at: endedAt + rule.afterSeconds * 1000 };
}
