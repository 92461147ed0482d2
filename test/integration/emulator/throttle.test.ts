import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { slotStartTimes } from '../../../src/emulator/throttle.js';
import { RUNWAY_API_VERSION } from '../../../src/providers/catalog.js';
import { CometApiProvider } from '../../../src/providers/cometapi.js';
import { RunwayProvider } from '../../../src/providers/runway.js';
import { createHttpClient } from '../../../src/http/client.js';
import { manualNow, useEmulator } from '../../helpers/emulator.js';

/** Runway's THROTTLED state: over runwayMaxConcurrent, tasks wait for a slot in creation order. */

const clock = manualNow();
const { emulator, imageUrl } = await useEmulator({ now: clock.now, timing: { queuedMs: 1000, runningMs: 1000 } });
const http = createHttpClient({ retry: { maxAttempts: 1 } });
afterAll(() => http.close());
const request = { model: 'gen4_turbo' as const, promptImage: imageUrl, ratio: '1280:720', duration: 5 };
const headers = { Authorization: 'Bearer test-key', 'X-Runway-Version': RUNWAY_API_VERSION, 'Content-Type': 'application/json' };

interface TaskBody {
  status: string;
  progress?: number;
  estimatedCost?: { credits: number };
  output?: string[];
}

async function create(): Promise<string> {
  const res = await fetch(`${emulator.url}/v1/image_to_video`, { method: 'POST', headers, body: JSON.stringify(request) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

async function task(id: string): Promise<TaskBody> {
  const res = await fetch(`${emulator.url}/v1/tasks/${id}`, { headers });
  expect(res.status).toBe(200);
  return (await res.json()) as TaskBody;
}

const statuses = async (...ids: string[]): Promise<string[]> => Promise.all(ids.map(async (id) => (await task(id)).status));

beforeEach(() => {
  emulator.reset();
  emulator.configure({ runwayMaxConcurrent: 1 });
});

describe('Runway concurrency limit', () => {
  it('throttles the second task while the first runs, then runs it, and both succeed with output', async () => {
    const first = await create();
    const second = await create();
    const throttled = await task(second);
    expect(throttled).toMatchObject({ status: 'THROTTLED', estimatedCost: { credits: 25 } });
    expect(throttled.progress).toBeUndefined();
    expect(emulator.jobs().find((job) => job.id === second)).toMatchObject({ phase: 'queued', throttled: true });
    clock.advance(1500);
    expect(await statuses(first, second)).toEqual(['RUNNING', 'THROTTLED']);
    clock.advance(500);
    expect(await statuses(first, second)).toEqual(['SUCCEEDED', 'PENDING']);
    clock.advance(1500);
    expect(await statuses(first, second)).toEqual(['SUCCEEDED', 'RUNNING']);
    clock.advance(500);
    const done = await Promise.all([task(first), task(second)]);
    for (const body of done) {
      expect(body.status).toBe('SUCCEEDED');
      expect(body.output).toHaveLength(1);
    }
  });

  it('cancelling (DELETE) the first task lets the second start at once', async () => {
    const first = await create();
    const second = await create();
    clock.advance(500);
    expect(await statuses(first, second)).toEqual(['PENDING', 'THROTTLED']);
    const deleted = await fetch(`${emulator.url}/v1/tasks/${first}`, { method: 'DELETE', headers });
    expect(deleted.status).toBe(204);
    expect(await statuses(second)).toEqual(['PENDING']);
    clock.advance(1000);
    expect(await statuses(second)).toEqual(['RUNNING']);
    clock.advance(1000);
    expect(await statuses(second)).toEqual(['SUCCEEDED']);
  });

  it('a task cancelled while throttled never takes the slot', async () => {
    const [first, second, third] = [await create(), await create(), await create()];
    await fetch(`${emulator.url}/v1/tasks/${second}`, { method: 'DELETE', headers });
    expect(await statuses(first, third)).toEqual(['PENDING', 'THROTTLED']);
    clock.advance(2000);
    expect(await statuses(first, third)).toEqual(['SUCCEEDED', 'PENDING']);
  });

  it('RunwayProvider maps THROTTLED to queued, then follows the task to success', async () => {
    const runway = new RunwayProvider({ baseUrl: emulator.url, apiKey: 'test-key', http });
    await runway.submit(request);
    const { taskId } = await runway.submit(request);
    clock.advance(1500);
    expect(await runway.getTask(taskId)).toEqual({ state: 'queued', throttled: true });
    expect(emulator.jobs().find((job) => job.id === taskId)?.throttled).toBe(true);
    clock.advance(2000);
    expect((await runway.getTask(taskId)).state).toBe('running');
    clock.advance(500);
    expect((await runway.getTask(taskId)).state).toBe('succeeded');
  });

  it('leaves other providers and the unlimited default alone', async () => {
    const comet = new CometApiProvider({ baseUrl: emulator.url, apiKey: 'test-key', http });
    await create();
    const { taskId } = await comet.submit({ ...request, model: 'gen3a_turbo', ratio: '1280:768', promptText: 'p' });
    clock.advance(1500);
    expect((await comet.getTask(taskId)).state).toBe('queued'); // CometAPI's task_not_exist window
    expect((await comet.getTask(taskId)).state).toBe('running');
    emulator.configure({ runwayMaxConcurrent: 0 });
    const second = await create();
    expect(await statuses(second)).toEqual(['PENDING']);
  });

  it('is settable through POST /_emulator/config and rejects a negative limit', async () => {
    const post = (body: unknown) => fetch(`${emulator.url}/_emulator/config`, { method: 'POST', body: JSON.stringify(body) });
    expect((await post({ runwayMaxConcurrent: -1 })).status).toBe(400);
    expect((await post({ runwayMaxConcurrent: 2 })).status).toBe(200);
    const ids = [await create(), await create(), await create()];
    expect(await statuses(...ids)).toEqual(['PENDING', 'PENDING', 'THROTTLED']);
  });

  it('sends x-should-retry on an injected status fault only when the rule asks', async () => {
    emulator.setFaults({ rules: [{ provider: 'runway', kind: 'poll', nth: 1, action: { type: 'status', status: 429, shouldRetry: false } }] });
    const id = await create();
    const faulted = await fetch(`${emulator.url}/v1/tasks/${id}`, { headers });
    expect(faulted.status).toBe(429);
    expect(faulted.headers.get('x-should-retry')).toBe('false');
    emulator.setFaults({ rules: [{ provider: 'runway', kind: 'poll', action: { type: 'status', status: 503 } }] });
    const plain = await fetch(`${emulator.url}/v1/tasks/${id}`, { headers });
    expect(plain.status).toBe(503);
    expect(plain.headers.get('x-should-retry')).toBeNull();
  });
});

describe('slotStartTimes', () => {
  const job = (id: string, createdAt: number, cancelledAt?: number) => ({ id, createdAt, ...(cancelledAt === undefined ? {} : { cancelledAt }) });

  it('serves waiting jobs in creation order from the earliest free slot', () => {
    const starts = slotStartTimes([job('a', 0), job('b', 0), job('c', 10), job('d', 20)], 2, 100);
    expect(Object.fromEntries(starts)).toEqual({ a: 0, b: 0, c: 100, d: 100 });
  });

  it('frees a slot at the cancel time, and a job cancelled while waiting takes none', () => {
    const starts = slotStartTimes([job('a', 0, 30), job('b', 0, 10), job('c', 5)], 1, 100);
    expect(Object.fromEntries(starts)).toEqual({ a: 0, b: 30, c: 30 });
  });

  it('starts every job at creation when unlimited', () => {
    const starts = slotStartTimes([job('a', 0), job('b', 7)], 0, 100);
    expect(Object.fromEntries(starts)).toEqual({ a: 0, b: 7 });
  });
});
