import { describe, expect, it } from 'vitest';
import { formatEstimate, type EstimateResponse } from '../../../src/editor/estimate.js';

/** The cost badge says what the dry run plans: paid creates, jobs re-attached at no cost, and unknown outcomes. */

const paid: EstimateResponse = {
  jobs: [{ nodeId: '3', provider: 'runway', usd: 0.25, credits: 25 }],
  totals: [{ provider: 'runway', jobs: 1, usd: 0.25, credits: 25, assumed: false }],
  totalUsd: 0.25,
};
const none: EstimateResponse = { jobs: [], totals: [], totalUsd: 0 };
const job = { nodeId: '3', provider: 'runway', model: 'gen4_turbo', duration: 5, usd: 0.25 };

describe('formatEstimate', () => {
  it('prices the jobs a run creates', () => {
    expect(formatEstimate(paid).text).toBe('≈ $0.25 · 25 credits · 1 job');
    expect(formatEstimate(none).text).toBe('≈ $0.00 · 0 jobs');
  });

  it('says a job at the provider re-attaches at $0.00, not "0 jobs"', () => {
    const view = formatEstimate({ ...none, existing: [{ ...job, status: 'reattach', taskId: 'task-1' }] });
    expect(view.text).toBe('1 job re-attaches at $0.00');
    expect(view.title).toContain('task-1 is still at the provider');
    expect(view.unknown).toEqual([]);
  });

  it('names an unknown outcome with no price for it, and hands the job to the node', () => {
    const unknown = { ...job, status: 'unknown' as const, jobKey: 'a'.repeat(24), since: 0 };
    const view = formatEstimate({ ...none, existing: [unknown] });
    expect(view.text).toBe('1 job: outcome unknown — will not submit until you decide');
    expect(view.text).not.toContain('$');
    expect(view.unknown).toEqual([unknown]);
    expect(formatEstimate({ ...paid, existing: [unknown, { ...job, nodeId: '7', status: 'reattach' }] }).text).toBe(
      '≈ $0.25 · 25 credits · 1 job · 1 job re-attaches at $0.00 · 1 job: outcome unknown — will not submit until you decide',
    );
  });
});
