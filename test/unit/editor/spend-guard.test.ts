import { describe, expect, it } from 'vitest';
import type { EstimateResponse } from '../../../src/editor/estimate.js';
import { parseThreshold, spendQuestion } from '../../../src/editor/spend-guard.js';

/** When Run asks before spending, and what it says. */

const twoClips: EstimateResponse = {
  jobs: [
    { nodeId: '3', provider: 'runway', usd: 0.5, credits: 50 },
    { nodeId: '8', provider: 'cometapi', usd: 0.4 },
  ],
  totals: [
    { provider: 'runway', jobs: 1, usd: 0.5, credits: 50, assumed: false },
    { provider: 'cometapi', jobs: 1, usd: 0.4, assumed: true },
  ],
  totalUsd: 0.9,
};

describe('parseThreshold', () => {
  it.each([
    ['', undefined],
    ['  ', undefined],
    ['0', 0],
    ['1.5', 1.5],
    ['abc', 0],
    ['-3', 0],
  ])('"%s" → %s (unreadable values always ask)', (text, expected) => {
    expect(parseThreshold(text)).toBe(expected);
  });
});

describe('spendQuestion', () => {
  it('does not ask at or below the threshold, nor when the setting is empty', () => {
    expect(spendQuestion({ kind: 'estimate', estimate: twoClips }, 1)).toBeUndefined();
    expect(spendQuestion({ kind: 'estimate', estimate: twoClips }, 0.9)).toBeUndefined();
    expect(spendQuestion({ kind: 'unknown', reason: 'offline' }, undefined)).toBeUndefined();
  });

  it('asks above it, with the total, the number of jobs and each provider', () => {
    const question = spendQuestion({ kind: 'estimate', estimate: twoClips }, 0.5);
    expect(question?.title).toBe('This run costs money');
    expect(question?.lines).toEqual([
      'Estimated total: $0.90 for 2 paid jobs.',
      'runway: 1 job, $0.50 (50 credits)',
      'cometapi: 1 job, $0.40, assumed price',
      'Your limit for running without asking is $0.50.',
    ]);
  });

  it('asks always at 0, even for a free (cached) run', () => {
    const free: EstimateResponse = { jobs: [], totals: [], totalUsd: 0 };
    expect(spendQuestion({ kind: 'estimate', estimate: free }, 0)?.lines[0]).toBe('Estimated total: $0.00 for 0 paid jobs.');
  });

  it('asks when the cost is unknown, and says so', () => {
    const question = spendQuestion({ kind: 'unknown', reason: 'the server answered 500' }, 1);
    expect(question?.title).toBe('The cost of this run is unknown');
    expect(question?.lines[0]).toBe('The cost could not be estimated: the server answered 500.');
  });

  it('asks when a job has no price, even under the threshold', () => {
    const unpriced: EstimateResponse = { jobs: [{ nodeId: '3', provider: 'runcomfy' }], totals: [{ provider: 'runcomfy', jobs: 1, usd: 0, assumed: true }], totalUsd: 0 };
    expect(spendQuestion({ kind: 'estimate', estimate: unpriced }, 5)?.lines).toContain('1 job has no known price: the total may be higher.');
  });

  it('leaves a graph the server will refuse to its validation errors', () => {
    expect(spendQuestion({ kind: 'not-runnable' }, 0)).toBeUndefined();
  });
});
