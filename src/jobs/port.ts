import type { IntentInput, JobOrigin, JobRecord, JobRef, JobState } from './journal.js';

/**
 * What nodes and submitOnce need from a job journal, whatever keeps it: the user's JSONL file
 * (journal.ts) or Redis, shared by every worker of a queue (redis-journal.ts). Reads may be
 * asynchronous because a shared journal lives in another process.
 */
export interface JournalPort {
  /** Recorded in intents written through this journal (the run's workflow, options and batch row). */
  readonly origin?: JobOrigin;
  find(jobKey: string): JobRecord | undefined | Promise<JobRecord | undefined>;
  findByTask(provider: string, taskId: string): JobRecord | undefined | Promise<JobRecord | undefined>;
  /**
   * Records that a create is about to be sent. A shared journal makes this the claim: it throws
   * when another process already holds a live intent for the key, so only one of them creates.
   */
  recordIntent(input: IntentInput): Promise<void>;
  recordSubmitted(jobKey: string, taskId: string): Promise<void>;
  recordState(ref: JobRef, state: JobState, extra?: { reason?: string; output?: string }): Promise<void>;
  recordCancel(ref: JobRef, outcome: string): Promise<void>;
}

/** The same journal, with a different origin recorded in its intents (one batch row of a shared journal). */
export function withOrigin(journal: JournalPort, origin: JobOrigin): JournalPort {
  return {
    origin: { ...journal.origin, ...origin },
    find: (jobKey) => journal.find(jobKey),
    findByTask: (provider, taskId) => journal.findByTask(provider, taskId),
    recordIntent: (input) => journal.recordIntent({ ...input, origin: input.origin ?? { ...journal.origin, ...origin } }),
    recordSubmitted: (jobKey, taskId) => journal.recordSubmitted(jobKey, taskId),
    recordState: (ref, state, extra) => journal.recordState(ref, state, extra),
    recordCancel: (ref, outcome) => journal.recordCancel(ref, outcome),
  };
}
