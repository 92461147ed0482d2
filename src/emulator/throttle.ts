/**
 * Runway's per-organisation concurrency limit (docs/providers.md §3 "Limits"): a task over the
 * limit is accepted as THROTTLED and waits, roughly FIFO, for a slot. The emulator derives
 * every job's phase from its clock, so instead of a queue that mutates over time we replay the
 * jobs in creation order and compute when each one gets a slot. Replaying is deterministic and
 * consistent with what earlier polls saw: a cancel at time t only frees a slot from t on.
 */

export interface SlotJob {
  id: string;
  createdAt: number;
  /** A cancelled job frees its slot at this time (or never takes one if cancelled while waiting). */
  cancelledAt?: number;
}

/**
 * When each job's own timeline starts: its creation time if a slot was free, else the time the
 * earliest slot frees. A job holds its slot for `holdMs` (queued + running) or until cancelled.
 * `jobs` must be in creation order; `maxConcurrent` 0 means unlimited.
 */
export function slotStartTimes(jobs: readonly SlotJob[], maxConcurrent: number, holdMs: number | ((job: SlotJob) => number)): Map<string, number> {
  const hold = typeof holdMs === 'number' ? () => holdMs : holdMs;
  const starts = new Map<string, number>();
  // Release times of the slots in use; at most maxConcurrent entries.
  const releases: number[] = [];
  for (const job of jobs) {
    if (maxConcurrent <= 0 || releases.length < maxConcurrent) {
      starts.set(job.id, job.createdAt);
      if (maxConcurrent > 0) releases.push(releaseAt(job, job.createdAt, hold(job)));
      continue;
    }
    const slot = indexOfMin(releases);
    const startAt = Math.max(job.createdAt, releases[slot] ?? job.createdAt);
    starts.set(job.id, startAt);
    // Cancelled while still waiting: it never took the slot, so the next job may.
    if (job.cancelledAt !== undefined && job.cancelledAt < startAt) continue;
    releases[slot] = releaseAt(job, startAt, hold(job));
  }
  return starts;
}

function releaseAt(job: SlotJob, startAt: number, holdMs: number): number {
  const finishedAt = startAt + holdMs;
  return job.cancelledAt === undefined ? finishedAt : Math.min(finishedAt, job.cancelledAt);
}

function indexOfMin(values: readonly number[]): number {
  let best = 0;
  values.forEach((value, index) => {
    if (value < (values[best] ?? Infinity)) best = index;
  });
  return best;
}
