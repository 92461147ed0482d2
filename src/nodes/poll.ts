import { z } from 'zod';
import type { TaskStatus, VideoProvider } from '../providers/provider.js';
import { defineNode, type PackContext } from './services.js';
import { CancelledError, ProviderHttpError, ProviderTaskFailedError, ProviderTimeoutError, messageOf } from '../engine/errors.js';
import { TaskHandleSchema, type TaskHandle, type VideoRef } from './values.js';

const TYPE = 'Poll';
/** A cancel on the way out must not hang the interrupt. */
const CANCEL_TIMEOUT_MS = 10_000;

const params = z.object({
  interval_s: z.number().min(0.05).max(600).default(5),
  timeout_s: z.number().min(1).max(86400).default(1800),
});

/** Time spent in each remote phase: each interval between two polls goes to the phase seen at its start. */
interface PhaseTimes {
  queuedMs: number;
  runningMs: number;
  phase: 'queued' | 'running';
  lastAt: number;
}

function account(times: PhaseTimes, now: number, status: TaskStatus): void {
  const elapsed = Math.max(0, now - times.lastAt);
  if (times.phase === 'queued') times.queuedMs += elapsed;
  else times.runningMs += elapsed;
  times.lastAt = now;
  if (status.state === 'queued' || status.state === 'running') times.phase = status.state;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}

function reportProgress(ctx: PackContext, status: TaskStatus, times: PhaseTimes): void {
  if (status.state === 'queued') {
    const position = status.queuePosition !== undefined ? `, position ${status.queuePosition}` : '';
    ctx.progress({ value: 0, max: 100, phase: 'queued', note: `queued for ${seconds(times.queuedMs)}${position}` });
  } else if (status.state === 'running') {
    const value = status.progress !== undefined ? Math.round(Math.min(1, Math.max(0, status.progress)) * 100) : 0;
    ctx.progress({ value, max: 100, phase: 'running', note: `running for ${seconds(times.runningMs)} (queued ${seconds(times.queuedMs)})` });
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
type TerminalStatus = Exclude<TaskStatus, { state: 'queued' } | { state: 'running' }>;

function finish(task: TaskHandle, status: TerminalStatus, times: PhaseTimes): { VIDEO: VideoRef } {
  if (status.state === 'failed') throw new ProviderTaskFailedError(task.provider, task.taskId, status.reason, status.failureCode);
  if (status.state === 'cancelled') throw new ProviderTaskFailedError(task.provider, task.taskId, 'cancelled at the provider');
  const url = status.videoUrls[0];
  if (!url) throw new ProviderTaskFailedError(task.provider, task.taskId, 'succeeded but returned no video URL');
  return { VIDEO: { url, task, queuedMs: times.queuedMs, runningMs: times.runningMs } };
}

/**
 * A 404 for a task we created means the provider no longer has it (deleted, expired, another
 * server): it will never deliver, so it is treated as failed and a re-run may submit again.
 */
async function getTaskOrGone(provider: VideoProvider, task: TaskHandle, ctx: PackContext): Promise<TaskStatus> {
  try {
    return await provider.getTask(task.taskId, { signal: ctx.signal });
  } catch (error) {
    if (error instanceof ProviderHttpError && error.status === 404) {
      return { state: 'failed', reason: `the provider no longer knows this task (HTTP 404); running the workflow again submits a new job` };
    }
    throw error;
  }
}

async function pollUntilDone(provider: VideoProvider, task: TaskHandle, p: z.infer<typeof params>, ctx: PackContext) {
  const startedAt = ctx.clock.now();
  const deadline = startedAt + p.timeout_s * 1000;
  const times: PhaseTimes = { queuedMs: 0, runningMs: 0, phase: 'queued', lastAt: startedAt };
  for (;;) {
    const status = await getTaskOrGone(provider, task, ctx);
    const now = ctx.clock.now();
    account(times, now, status);
    if (status.state !== 'queued' && status.state !== 'running') return finish(task, status, times);
    reportProgress(ctx, status, times);
    if (now >= deadline) {
      throw new ProviderTimeoutError(
        `${task.provider} task ${task.taskId} did not finish within timeout_s=${p.timeout_s}; the job is still ${status.state} at the provider (not cancelled), so re-running resumes polling it`,
      );
    }
    await ctx.clock.sleep(Math.min(p.interval_s * 1000, deadline - now), ctx.signal);
  }
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
        // A failed task is dead: the journal lets a re-run submit again.
        if (error instanceof ProviderTaskFailedError) await ctx.services.journal?.recordState(task, 'failed', { reason: error.reason });
        throw error;
      }
      const outcome = await cancelRemote(provider, task, ctx);
      await ctx.services.journal?.recordCancel(task, outcome);
      throw new CancelledError(`Interrupted while polling ${task.provider} task ${task.taskId}; cancel at the provider: ${outcome}`);
    }
  },
});
