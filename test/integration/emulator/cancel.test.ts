import { afterAll, describe, expect, it } from 'vitest';
import { CometApiProvider } from '../../../src/providers/cometapi.js';
import { RunComfyProvider } from '../../../src/providers/runcomfy.js';
import { RunwayProvider } from '../../../src/providers/runway.js';
import { ProviderHttpError } from '../../../src/engine/errors.js';
import { createHttpClient } from '../../../src/http/client.js';
import { manualNow, useEmulator } from '../../helpers/emulator.js';

/** Cancel on each provider, through the real adapters against the emulator. */

const clock = manualNow();
const { emulator, imageUrl } = await useEmulator({ now: clock.now, timing: { queuedMs: 1000, runningMs: 1000 } });
const http = createHttpClient({ retry: { maxAttempts: 1 } });
afterAll(() => http.close());
const config = { baseUrl: emulator.url, apiKey: 'test-key', http };
const request = { model: 'gen4_turbo' as const, promptImage: imageUrl, ratio: '1280:720', duration: 5 };

describe('cancel', () => {
  it('RunComfy cancels a queued request', async () => {
    const rc = new RunComfyProvider(config);
    const { taskId } = await rc.submit(request);
    expect(await rc.cancel(taskId)).toBe('cancelled');
    clock.advance(5000);
    expect(await rc.getTask(taskId)).toEqual({ state: 'cancelled' });
  });

  it('RunComfy reports an in-progress request as not cancellable, and it still finishes', async () => {
    const rc = new RunComfyProvider(config);
    const { taskId } = await rc.submit(request);
    clock.advance(1500);
    expect(await rc.cancel(taskId)).toBe('not_cancellable');
    clock.advance(1000);
    expect((await rc.getTask(taskId)).state).toBe('succeeded');
  });

  it('Runway DELETE cancels a running task, which then answers 404', async () => {
    const runway = new RunwayProvider(config);
    const { taskId } = await runway.submit(request);
    clock.advance(1500);
    expect((await runway.getTask(taskId)).state).toBe('running');
    expect(await runway.cancel(taskId)).toBe('cancelled');
    expect(emulator.jobs().find((job) => job.id === taskId)).toMatchObject({ phase: 'cancelled', deleted: true });
    const error = await runway.getTask(taskId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderHttpError);
    expect((error as ProviderHttpError).status).toBe(404);
    expect(emulator.log.filter((e) => e.jobId === taskId).map((e) => `${e.kind} ${e.status}`)).toEqual(['create 200', 'poll 200', 'cancel 204', 'poll 404']);
  });

  it('CometAPI has no cancel endpoint and sends nothing', async () => {
    const comet = new CometApiProvider(config);
    const { taskId } = await comet.submit({ ...request, model: 'gen3a_turbo', ratio: '1280:768', promptText: 'p' });
    const before = emulator.log.length;
    expect(await comet.cancel(taskId)).toBe('unsupported');
    expect(emulator.log.length).toBe(before);
  });
});
