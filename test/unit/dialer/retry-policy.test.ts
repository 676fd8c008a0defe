import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_RULES, afterAttempt, type RetryRules } from '../../../src/dialer/retry-policy.js';

const END = Date.UTC(2026, 11, 1, 10, 0, 0);
const MIN = 60_000;

describe('afterAttempt', () => {
  it('never retries an answered or rejected call', () => {
    expect(afterAttempt(DEFAULT_RETRY_RULES, ['answered'], END)).toEqual({ retry: false, final: 'answered' });
    expect(afterAttempt(DEFAULT_RETRY_RULES, ['busy', 'rejected'], END)).toEqual({ retry: false, final: 'rejected' });
  });

  it('retries a busy line after 15 minutes, three times, then stops with busy', () => {
    expect(afterAttempt(DEFAULT_RETRY_RULES, ['busy'], END)).toEqual({ retry: true, at: END + 15 * MIN });
    expect(afterAttempt(DEFAULT_RETRY_RULES, ['busy', 'busy', 'busy'], END)).toEqual({ retry: true, at: END + 15 * MIN });
    expect(afterAttempt(DEFAULT_RETRY_RULES, ['busy', 'busy', 'busy', 'busy'], END)).toEqual({ retry: false, final: 'busy' });
  });

  it('counts tries per outcome: other outcomes in between do not use up the busy retries', () => {
    expect(afterAttempt(DEFAULT_RETRY_RULES, ['busy', 'no-answer', 'busy'], END)).toEqual({ retry: true, at: END + 15 * MIN });
    expect(afterAttempt(DEFAULT_RETRY_RULES, ['no-answer', 'busy', 'no-answer', 'no-answer'], END)).toEqual({ retry: false, final: 'no-answer' });
  });

  it('treats an attempt lost in a crash (unknown) by its own rule', () => {
    expect(afterAttempt(DEFAULT_RETRY_RULES, ['unknown'], END)).toEqual({ retry: true, at: END + 30 * MIN });
  });

  it('follows a campaign’s own rules', () => {
    const rules: RetryRules = { ...DEFAULT_RETRY_RULES, 'no-answer': { afterSeconds: 600, maxRetries: 0 } };
    expect(afterAttempt(rules, ['no-answer'], END)).toEqual({ retry: false, final: 'no-answer' });
    expect(() => afterAttempt(rules, [], END)).toThrow(RangeError);
  });
});
