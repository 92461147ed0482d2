import { CancelledError } from '../engine/errors.js';

/**
 * Per-provider limits on jobs in flight (`--max-jobs runway=4`): a job holds a slot from just
 * before its create until Poll sees it terminal (or gives up on it for this run). A user on a
 * low Runway tier can keep under the account's concurrency instead of being THROTTLED, and the
 * wait happens here, visibly, before anything is spent. No limit for a provider = unlimited.
 */

export type JobLimits = Partial<Record<string, number>>;

interface ProviderState {
  limit: number;
  /** Slots taken: task ids, or a pending token while the create is in flight. */
  held: Set<string>;
  waiters: (() => void)[];
}

export class JobSlots {
  private readonly providers = new Map<string, ProviderState>();
  private nextToken = 0;

  constructor(limits: JobLimits = {}) {
    for (const [provider, limit] of Object.entries(limits)) {
      if (limit !== undefined && limit > 0) this.providers.set(provider, { limit, held: new Set(), waiters: [] });
    }
  }

  /** The limit for a provider, undefined when unlimited. */
  limitOf(provider: string): number | undefined {
    return this.providers.get(provider)?.limit;
  }

  inFlight(provider: string): number {
    return this.providers.get(provider)?.held.size ?? 0;
  }

  /**
   * Waits for a slot (FIFO) and returns a token to `bind` to the created task or `release`.
   * `onWait` is called once if the caller has to wait.
   */
  async acquire(provider: string, signal?: AbortSignal, onWait?: (inFlight: number, limit: number) => void): Promise<string> {
    const token = `pending:${this.nextToken++}`;
    const state = this.providers.get(provider);
    if (!state) return token;
    if (state.held.size >= state.limit) onWait?.(state.held.size, state.limit);
    while (state.held.size >= state.limit) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          state.waiters.splice(state.waiters.indexOf(wake), 1);
          reject(signal?.reason instanceof Error ? signal.reason : new CancelledError());
        };
        state.waiters.push(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    state.held.add(token);
    return token;
  }

  /** The create answered: the slot now belongs to that task until Poll releases it. */
  bind(provider: string, token: string, taskId: string): void {
    const state = this.providers.get(provider);
    if (!state?.held.delete(token)) return;
    // A task already held (re-attached twice in one run) does not take a second slot.
    if (state.held.has(taskId)) this.wakeOne(state);
    else state.held.add(taskId);
  }

  /** Frees the slot of a task (Poll saw it terminal, or stopped waiting) or of a token (the create failed). */
  release(provider: string, tokenOrTaskId: string): void {
    const state = this.providers.get(provider);
    if (state?.held.delete(tokenOrTaskId)) this.wakeOne(state);
  }

  private wakeOne(state: ProviderState): void {
    state.waiters.shift()?.();
  }
}

/** Parses `runway=4,cometapi=2` (repeatable); throws a one-sentence message on anything else. */
export function parseJobLimits(values: readonly string[], providers: readonly string[]): JobLimits {
  const limits: JobLimits = {};
  for (const part of values.flatMap((value) => value.split(','))) {
    const match = /^\s*([a-z]+)\s*=\s*(\d+)\s*$/.exec(part);
    const provider = match?.[1];
    const limit = Number(match?.[2]);
    if (!provider || !providers.includes(provider) || !Number.isInteger(limit) || limit < 1) {
      throw new Error(`--max-jobs takes PROVIDER=N with PROVIDER one of ${providers.join(', ')} and N a whole number of at least 1, got "${part}"`);
    }
    limits[provider] = limit;
  }
  return limits;
}
