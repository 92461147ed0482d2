import { z } from 'zod';
import type { TaskStatus, VideoProvider } from '../providers/provider.js';
import { defineNode, type PackContext } from './services.js';
import { CancelledError, ProviderHttpError, ProviderTaskFailedError, ProviderTimeoutError, RuntimeError, messageOf } from '../engine/errors.js';
import { backoffDelayMs, resolveRetryPolicy } from '../http/retry.js';
import type { RetryNotice } from '../http/types.js';
import { TaskHandleSchema, type TaskHandle, type VideoRef } from './values.js';

const TYPE = 'Poll';
/** A cancel on the way out must not hang the interrupt. */
const CANCEL_TIMEOUT_MS = 10_000;
/** Poll errors back off from interval_s up to this, never past timeout_s. */
const MAX_ERROR_BACKOFF_MS = 60_000;

const params = z.object({
  interval_s: z.number().min(0.05).max(600).default(5),
  timeout_s: z.number().min(1).max(86400).default(1800),
});

/**
 * Time spent in each remote phase: each interval between two polls goes to the phase seen at its
 * start. Throttled (over the account's concurrency, Runway THROTTLED) is kept apart from queued.
 */
interface PhaseTimes {
  queuedMs: number;
  throttledMs: number;
  runningMs: number;
  phase: 'queued' | 'throttled' | 'running';
  lastAt: number;
}

function account(times: PhaseTimes, now: number, status: TaskStatus | undefined): void {
  const elapsed = Math.max(0, now - times.lastAt);
  if (times.phase === 'queued') times.queuedMs += elapsed;
  else if (times.phase === 'throttled') times.throttledMs += elapsed;
  else times.runningMs += elapsed;
  times.lastAt = now;
  if (status?.state === 'queued') times.phase = status.throttled ? 'throttled' : 'queued';
  else if (status?.state === 'running') times.phase = 'running';
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}

/** "queued 3s" plus ", throttled 12s" when the account's concurrency held the job back. */
function waited(times: PhaseTimes): string {
  return `queued ${seconds(times.queuedMs)}${times.throttledMs > 0 ? `, throttled ${seconds(times.throttledMs)}` : ''}`;
}

function reportProgress(ctx: PackContext, status: TaskStatus, times: PhaseTimes): void {
  if (status.state === 'queued') {
    const position = status.queuePosition !== undefined ? `, position ${status.queuePosition}` : '';
    const what = status.throttled ? `throttled for ${seconds(times.throttledMs)} (over the account's concurrency limit; queued ${seconds(times.queuedMs)})` : `queued for ${seconds(times.queuedMs)}${times.throttledMs > 0 ? ` (throttled ${seconds(times.throttledMs)})` : ''}`;
    ctx.progress({ value: 0, max: 100, phase: 'queued', note: `${what}${position}${status.notYetVisible ? ', not visible at the provider yet' : ''}` });
  } else if (status.state === 'running') {
    const value = status.progress !== undefined ? Math.round(Math.min(1, Math.max(0, status.progress)) * 100) : 0;
    ctx.progress({ value, max: 100, phase: 'running', note: `running for ${seconds(times.runningMs)} (${waited(times)})` });
  } else if (status.state === 'unknown') {
    ctx.progress({ value: 0, max: 100, phase: times.phase === 'running' ? 'running' : 'queued', note: `unknown: ${status.word}` });
  }
}

/** Best-effort cancel with its own short-lived signal (the run's signal is already aborted). */
async function cancelRemote(provider: VideoProvider, task: TaskHandle, ctx: PackContext): Promise<string> {
  try {
    const outcome = await provider.cancel(task.taskId, { signal: AbortSignal.timeout(CANCEL_TIMEOUT_MS) });
    ctx.log.info(`cancel of ${task.provider} task ${task.taskId}: ${outcome}`);
    return outcome;
  } catch (error) {
    ctx.log.warn(`cancel of ${task.provider} task ${task.taskId} failed: ${messageOf(error)}`);
    return 'failed';
  }
}

/** The outputs for a terminal status; throws for failed/cancelled. */
type TerminalStatus = Exclude<TaskStatus, { state: 'queued' } | { state: 'running' } | { state: 'unknown' }>;

function finish(task: TaskHandle, status: TerminalStatus, times: PhaseTimes): { VIDEO: VideoRef } {
  if (status.state === 'failed') throw new ProviderTaskFailedError(task.provider, task.taskId, status.reason, status.failureCode);
  if (status.state === 'cancelled') throw new ProviderTaskFailedError(task.provider, task.taskId, 'cancelled at the provider');
  const url = status.videoUrls[0];
  if (!url) throw new ProviderTaskFailedError(task.provider, task.taskId, 'succeeded but returned no video URL');
  return { VIDEO: { url, task, queuedMs: times.queuedMs, runningMs: times.runningMs, ...(times.throttledMs > 0 ? { throttledMs: times.throttledMs } : {}) } };
}

/**
 * A 404 for a task we created means the provider no longer has it (deleted, expired, another
 * server): it will never deliver, so it is treated as failed and a re-run may submit again.
 */
async function getTaskOrGone(provider: VideoProvider, task: TaskHandle, ctx: PackContext, onRetry: (notice: RetryNotice) => void): Promise<TaskStatus> {
  try {
    return await provider.getTask(task.taskId, { signal: ctx.signal, onRetry });
  } catch (error) {
    if (error instanceof ProviderHttpError && error.status === 404) {
      return { state: 'failed', reason: `the provider no longer knows this task (HTTP 404); running the workflow again submits a new job` };
    }
    throw error;
  }
}

/** An error that says "ask again later" (a 503 burst, RunComfy 500001, a dropped connection). */
function isRetryable(error: unknown): boolean {
  return error instanceof RuntimeError && error.retryable;
}

async function pollUntilDone(provider: VideoProvider, task: TaskHandle, p: z.infer<typeof params>, ctx: PackContext) {
  const startedAt = ctx.clock.now();
  const deadline = startedAt + p.timeout_s * 1000;
  const times: PhaseTimes = { queuedMs: 0, throttledMs: 0, runningMs: 0, phase: 'queued', lastAt: startedAt };
  const backoff = resolveRetryPolicy({ baseDelayMs: p.interval_s * 1000, maxDelayMs: Math.max(p.interval_s * 1000, MAX_ERROR_BACKOFF_MS) });
  const onRetry = (notice: RetryNotice) => ctx.progress({ value: 0, max: 100, phase: times.phase === 'running' ? 'running' : 'queued', note: retryNote(notice) });
  const visibleGraceMs = provider.info.notYetVisibleGraceMs;
  let errorsInARow = 0;
  let lastState = 'queued';
  for (;;) {
    let status: TaskStatus | undefined;
    let delay = p.interval_s * 1000;
    try {
      status = await getTaskOrGone(provider, task, ctx, onRetry);
      errorsInARow = 0;
    } catch (error) {
      // The task is alive at the provider; only our view of it is interrupted. Keep asking until timeout_s.
      if (!isRetryable(error) || ctx.signal.aborted) throw error;
      errorsInARow++;
      delay = backoffDelayMs(errorsInARow, backoff);
      ctx.progress({ value: 0, max: 100, phase: times.phase === 'running' ? 'running' : 'queued', note: `${task.provider} error, retrying in ${Math.ceil(delay / 1000)} s: ${messageOf(error)}` });
    }
    const now = ctx.clock.now();
    account(times, now, status);
    if (status && status.state !== 'queued' && status.state !== 'running' && status.state !== 'unknown') return finish(task, status, times);
    if (status) {
      lastState = status.state === 'unknown' ? `unknown: ${status.word}` : status.state;
      reportProgress(ctx, status, times);
      if (status.state === 'queued' && status.notYetVisible && visibleGraceMs !== undefined && now - task.submittedAt > visibleGraceMs) {
        throw new ProviderTimeoutError(
          `${task.provider} still does not know task ${task.taskId} ${Math.round((now - task.submittedAt) / 1000)} s after it was created (its documents say a new task is invisible for "a few seconds"); the create may not have taken effect, so check the ${task.provider} dashboard before running again`,
        );
      }
    }
    if (now >= deadline) {
      throw new ProviderTimeoutError(
        `${task.provider} task ${task.taskId} did not finish within timeout_s=${p.timeout_s}; the job is still ${lastState} at the provider (not cancelled), so re-running resumes polling it`,
      );
    }
    await ctx.clock.sleep(Math.min(delay, deadline - now), ctx.signal);
  }
}

function retryNote(notice: RetryNotice): string {
  const when = `retrying in ${Math.ceil(notice.delayMs / 1000)} s`;
  if (notice.status === 429) return `rate limited, ${when}`;
  return notice.status !== undefined ? `HTTP ${notice.status}, ${when}` : `connection failed, ${when}`;
}

export const poll = defineNode({
  type: TYPE,
  version: 1,
  displayName: 'Poll Task',
  category: 'api node/video/Runway',
  description: 'Waits for a provider task to finish, reporting queued and running time apart; cancels the task on interrupt.',
  inputs: { task: { type: 'TASK' } },
  params,
  outputs: [{ name: 'VIDEO', type: 'VIDEO' }],
  // Output URLs expire, and re-polling a finished task costs nothing.
  cacheable: false,
  async run(inputs, p, ctx) {
    const task = TaskHandleSchema.parse(inputs.task);
    const provider = ctx.services.providers.get(task.provider, task.baseUrl);
    try {
      // Waiting on the provider needs no executor slot: give it back so other nodes can work meanwhile.
      const outputs = await ctx.releaseSlotWhile(() => pollUntilDone(provider, task, p, ctx));
      await ctx.services.journal?.recordState(task, 'succeeded');
      return outputs;
    } catch (error) {
      // The run's signal aborts only when the user stops the run (a sibling's failure never aborts it), so only then is
      // the task cancelled. A timeout or a failed poll leaves it live and journaled: the next run re-attaches.
      if (!ctx.signal.aborted) {
        // A failed task is dead: the journal lets a re-run submit again. A timeout leaves the job live.
        if (error instanceof ProviderTaskFailedError) await ctx.services.journal?.recordState(task, 'failed', { reason: error.reason, ...(error.failureCode ? { failureCode: error.failureCode } : {}) });
        throw error;
      }
      const outcome = await cancelRemote(provider, task, ctx);
      await ctx.services.journal?.recordCancel(task, outcome);
      throw new CancelledError(`Interrupted while polling ${task.provider} task ${task.taskId}; cancel at the provider: ${outcome}`);
    } finally {
      // This run no longer waits on the task: its --max-jobs slot goes to the next create.
      ctx.services.jobSlots?.release(task.provider, task.taskId);
    }
  },
});
