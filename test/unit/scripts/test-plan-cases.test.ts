import { describe, expect, it } from 'vitest';
import { loadCases } from '../../../scripts/generate-test-plan.js';

describe('the end-to-end cases of the repository', () => {
  it('all have a valid case.yaml, a test file and unique ids', async () => {
    const cases = await loadCases();
    const ids = cases.map((c) => c.testCase.id);

    expect(cases.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
