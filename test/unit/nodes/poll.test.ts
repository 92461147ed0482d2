import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobJournal, isLive } from '../../../src/jobs/journal.js';
import { poll } from '../../../src/nodes/poll.js';
import { VideoRefSchema, type TaskHandle } from '../../../src/nodes/values.js';
import { CancelledError, ProviderHttpError, ProviderTaskFailedError, ProviderTimeoutError } from '../../../src/engine/errors.js';
import type { TaskStatus } from '../../../src/providers/provider.js';
import { fakeContext } from '../../helpers/fake-context.js';
import { FakeProvider, FakeProviderRegistry, type ScriptStep } from '../../helpers/fake-provider.js';

const task: TaskHandle = {
  provider: 'runway', model: 'gen4_turbo', taskId: 'task-9', baseUrl: 'http://127.0.0.1:1', submittedAt: 0, duration: 5, ratio: '1280:720',
};
const queued: TaskStatus = { state: 'queued', queuePosition: 3 };
const running = (progress: number): TaskStatus => ({ state: 'running', progress });
const done: TaskStatus = { state: 'succeeded', videoUrls: ['https://cdn.example/out.mp4', 'https://cdn.example/other.mp4'] };

function setup(script: ScriptStep[]) {
  const provider = new FakeProvider('runway', script);
  const registry = new FakeProviderRegistry(provider);
  const ctx = fakeContext({ providers: registry });
  return { provider, registry, ctx };
}

describe('Poll', () => {
  it('reports queued and running progress and tracks their times apart', async () => {
    const { provider, registry, ctx } = setup([queued, queued, running(0.25), running(0.5), running(0.75), done]);
    const out = await poll.run({ task }, { interval_s: 5, timeout_s: 1800 }, ctx);
    const video = VideoRefSchema.parse(out.VIDEO);
    expect(video).toEqual({ url: 'https://cdn.example/out.mp4', task, queuedMs: 10_000, runningMs: 15_000 });
    expect(provider.getTaskCalls).toHaveLength(6);
    expect(registry.requestedBaseUrls).toEqual(['http://127.0.0.1:1']);
    expect(ctx.clock.sleeps).toEqual([5000, 5000, 5000, 5000, 5000]);
    expect(ctx.progressEvents.map((p) => [p.phase, p.value])).toEqual([
      ['queued', 0], ['queued', 0], ['running', 25], ['running', 50], ['running', 75],
    ]);
    expect(ctx.progressEvents[1]!.note).toBe('queued for 5s, position 3');
    expect(ctx.progressEvents[4]!.note).toBe('running for 10s (queued 10s)');
  });

  it('fails with ProviderTaskFailedError carrying reason and code', async () => {
    const { ctx } = setup([running(0.1), { state: 'failed', reason: 'Content moderation', failureCode: 'SAFETY.INPUT.IMAGE' }]);
    const run = poll.run({ task }, { interval_s: 1, timeout_s: 60 }, ctx);
    await expect(run).rejects.toThrow(ProviderTaskFailedError);
    await expect(run).rejects.toThrow('runway task task-9 failed: Content moderation (SAFETY.INPUT.IMAGE)');
  });

  it('reports a cancel at the provider as a failure, not an interrupt', async () => {
    const { ctx } = setup([{ state: 'cancelled' }]);
    const error = await poll.run({ task }, { interval_s: 1, timeout_s: 60 }, ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderTaskFailedError);
    expect((error as Error).message).toContain('cancelled at the provider');
  });

  it('fails when a succeeded task has no video URL', async () => {
    const { ctx } = setup([{ state: 'succeeded', videoUrls: [] }]);
    await expect(poll.run({ task }, { interval_s: 1, timeout_s: 60 }, ctx)).rejects.toThrow(/no video URL/);
  });

  it('times out after timeout_s on the manual clock, says the job still runs, and does not cancel', async () => {
    const { provider, ctx } = setup([queued, running(0.1)]);
    const error = await poll.run({ task }, { interval_s: 5, timeout_s: 600 }, ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderTimeoutError);
    const message = (error as Error).message;
    expect(message).toContain('timeout_s=600');
    expect(message).toContain('task-9');
    expect(message).toMatch(/still running at the provider \(not cancelled\)/);
    expect(provider.cancels).toEqual([]);
    // 600 s of 5 s sleeps, plus one final poll at the deadline.
    expect(ctx.clock.sleeps.reduce((a, b) => a + b, 0)).toBe(600_000);
    expect(provider.getTaskCalls).toHaveLength(121);
  });

  it('a timed-out Poll leaves its task live in the journal, so the next run re-attaches instead of creating', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'reelgraph-poll-'));
    try {
      const journal = new JobJournal(dir);
      await journal.recordIntent({ jobKey: 'k1', provider: 'runway', model: 'gen4_turbo', baseUrl: task.baseUrl, request: { model: 'gen4_turbo', promptImage: 'x', ratio: '1280:720', duration: 5 } });
      await journal.recordSubmitted('k1', task.taskId);
      const provider = new FakeProvider('runway', [queued]);
      const ctx = fakeContext({ providers: new FakeProviderRegistry(provider), journal });
      await expect(poll.run({ task }, { interval_s: 5, timeout_s: 10 }, ctx)).rejects.toThrow(ProviderTimeoutError);
      expect(provider.cancels).toEqual([]);
      const record = journal.find('k1')!;
      expect(record).toMatchObject({ state: 'submitted', taskId: 'task-9', cancels: [] });
      expect(isLive(record)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('polls outside its executor slot: every status request happens inside releaseSlotWhile', async () => {
    const { provider, ctx } = setup([queued, running(0.5), done]);
    let inside = false;
    const seenInside: boolean[] = [];
    const getTask = provider.getTask.bind(provider);
    provider.getTask = (...args) => {
      seenInside.push(inside);
      return getTask(...args);
    };
    ctx.releaseSlotWhile = async (wait) => {
      inside = true;
      try {
        return await wait();
      } finally {
        inside = false;
      }
    };
    await poll.run({ task }, { interval_s: 5, timeout_s: 60 }, ctx);
    expect(seenInside).toEqual([true, true, true]);
  });

  it('cancels at the provider when the run is aborted, and throws CancelledError', async () => {
    let controller: AbortController | undefined;
    const { provider, ctx } = setup([
      queued,
      (call) => {
        if (call === 2) controller!.abort();
        return running(0.2);
      },
    ]);
    controller = ctx.controller;
    provider.cancelOutcome = 'cancelled';
    const error = await poll.run({ task }, { interval_s: 5, timeout_s: 1800 }, ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as Error).message).toContain('cancel at the provider: cancelled');
    expect(provider.cancels).toEqual(['task-9']);
    expect(ctx.logs).toContain('info: cancel of runway task task-9: cancelled');
  });

  it('still throws CancelledError when the cancel itself fails, and logs it', async () => {
    const { provider, ctx } = setup([queued]);
    provider.cancel = async () => {
      throw new Error('connection refused');
    };
    ctx.controller.abort();
    await expect(poll.run({ task }, { interval_s: 5, timeout_s: 60 }, ctx)).rejects.toThrow(CancelledError);
    expect(ctx.logs.some((l) => l.startsWith('warn: cancel of runway task task-9 failed: connection refused'))).toBe(true);
  });

  // Issue 11 point 3: a retryable poll error keeps the Poll polling with backoff until its own timeout_s.
  it('keeps polling through a burst of retryable errors longer than the HTTP budget, with backoff', async () => {
    const unavailable = () => {
      throw new ProviderHttpError('runway', 503, 'Runway API returned HTTP 503: busy.', undefined, true);
    };
    const { provider, ctx } = setup([queued, unavailable, unavailable, unavailable, unavailable, running(0.5), done]);
    const out = await poll.run({ task }, { interval_s: 5, timeout_s: 1800 }, ctx);
    expect(VideoRefSchema.parse(out.VIDEO).url).toBe('https://cdn.example/out.mp4');
    expect(provider.getTaskCalls).toHaveLength(7);
    expect(provider.cancels).toEqual([]);
    // Backoff from interval_s, doubling, with up to 50% jitter removed: never shorter than half of it.
    const waits = ctx.clock.sleeps.slice(1, 5);
    waits.forEach((ms, i) => expect(ms).toBeGreaterThanOrEqual(5000 * 2 ** i * 0.5));
    waits.forEach((ms, i) => expect(ms).toBeLessThanOrEqual(5000 * 2 ** i));
    expect(ctx.progressEvents.some((p) => /runway error, retrying in \d+ s/.test(p.note ?? ''))).toBe(true);
  });

  it('still fails at once on an error that is not retryable (HTTP 400)', async () => {
    const { provider, ctx } = setup([
      () => {
        throw new ProviderHttpError('runway', 400, 'Runway API returned HTTP 400: bad.', undefined, false);
      },
    ]);
    await expect(poll.run({ task }, { interval_s: 5, timeout_s: 1800 }, ctx)).rejects.toThrow(/HTTP 400/);
    expect(provider.getTaskCalls).toHaveLength(1);
  });

  it('gives up on retryable errors only at timeout_s, saying the job was not cancelled', async () => {
    const { provider, ctx } = setup([
      () => {
        throw new ProviderHttpError('runway', 502, 'Runway API returned HTTP 502.', undefined, true);
      },
    ]);
    const error = await poll.run({ task }, { interval_s: 5, timeout_s: 120 }, ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderTimeoutError);
    expect((error as Error).message).toMatch(/timeout_s=120.*not cancelled/);
    expect(ctx.clock.sleeps.reduce((a, b) => a + b, 0)).toBe(120_000);
    expect(provider.cancels).toEqual([]);
  });

  // Issue 11 point 4: an unknown status word is shown as "unknown: WORD" and polling goes on.
  it('shows an unknown status word and keeps polling', async () => {
    const { ctx } = setup([{ state: 'unknown', word: 'QUEUED_FOR_REVIEW' }, { state: 'unknown', word: 'QUEUED_FOR_REVIEW' }, running(0.5), done]);
    const out = await poll.run({ task }, { interval_s: 5, timeout_s: 1800 }, ctx);
    expect(VideoRefSchema.parse(out.VIDEO).url).toBe('https://cdn.example/out.mp4');
    expect(ctx.progressEvents.map((p) => p.note)).toContain('unknown: QUEUED_FOR_REVIEW');
  });

  // Issue 11 point 6: THROTTLED and queued time shown apart.
  it('counts THROTTLED time apart from queued time', async () => {
    const throttled: TaskStatus = { state: 'queued', throttled: true };
    const { ctx } = setup([throttled, throttled, { state: 'queued' }, running(0.5), done]);
    const video = VideoRefSchema.parse((await poll.run({ task }, { interval_s: 5, timeout_s: 1800 }, ctx)).VIDEO);
    expect([video.throttledMs, video.queuedMs, video.runningMs]).toEqual([10_000, 5_000, 5_000]);
    expect(ctx.progressEvents[1]!.note).toBe("throttled for 5s (over the account's concurrency limit; queued 0s)");
    expect(ctx.progressEvents[3]!.note).toBe('running for 0s (queued 5s, throttled 10s)');
  });

  // Issue 11 point 3: CometAPI task_not_exist is bounded by its documented "few seconds".
  it('bounds CometAPI task_not_exist and says so', async () => {
    const provider = new FakeProvider('cometapi', [{ state: 'queued', notYetVisible: true }]);
    const ctx = fakeContext({ providers: new FakeProviderRegistry(provider) });
    const comet = { ...task, provider: 'cometapi' as const, submittedAt: ctx.clock.now() };
    const error = await poll.run({ task: comet }, { interval_s: 5, timeout_s: 1800 }, ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderTimeoutError);
    expect((error as Error).message).toMatch(/cometapi still does not know task task-9 3\d s after it was created .*"a few seconds"/);
    // 30 s grace (catalog: "a few seconds", with margin), far below timeout_s.
    expect(ctx.clock.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(35_000);
  });

  it('is not cacheable and has fixed params', () => {
    expect(poll.cacheable).toBe(false);
    expect(poll.params.parse({})).toEqual({ interval_s: 5, timeout_s: 1800 });
    expect(poll.params.safeParse({ interval_s: 0.01 }).success).toBe(false);
  });
});
