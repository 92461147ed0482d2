import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { CometApiProvider } from '../../../src/providers/cometapi.js';
import { RunwayProvider } from '../../../src/providers/runway.js';
import { SubmitOutcomeUnknownError } from '../../../src/engine/errors.js';
import { createHttpClient } from '../../../src/http/client.js';
import { recordingClock } from '../../helpers/scripted-server.js';
import { manualNow, useEmulator } from '../../helpers/emulator.js';

/** Fault injection, the control API and the quirk switches, seen through the real client and adapters. */

const clock = manualNow();
const { emulator, imageUrl } = await useEmulator({ now: clock.now, timing: { queuedMs: 1000, runningMs: 1000 } });
const retryClock = recordingClock();
const http = createHttpClient({ clock: retryClock, retry: { random: () => 0 } });
afterAll(() => http.close());
const config = { baseUrl: emulator.url, apiKey: 'test-key', http };
const request = { model: 'gen4_turbo' as const, promptImage: imageUrl, ratio: '1280:720', duration: 5 };

beforeEach(() => {
  emulator.reset();
  emulator.configure({ cometShape: 'wrapped', cometNotExistPolls: 1 });
  retryClock.sleeps.length = 0;
});

describe('fault injection', () => {
  it('accepted-then-dropped create: the job exists and the client does not resubmit', async () => {
    emulator.setFaults({ rules: [{ provider: 'runway', kind: 'create', nth: 1, action: { type: 'drop-before-response' } }] });
    await expect(new RunwayProvider(config).submit(request)).rejects.toBeInstanceOf(SubmitOutcomeUnknownError);
    expect(emulator.creates('runway')).toBe(1);
    expect(emulator.jobs()).toHaveLength(1);
    expect(emulator.log[0]).toMatchObject({ kind: 'create', status: 0, fault: 'drop-before-response' });
  });

  // Runway documents 502/503 as "not processed" (retried, see below); a 500 after commit is undocumented.
  it('500 after commit on create is an unknown outcome, never a retry', async () => {
    emulator.setFaults({ rules: [{ kind: 'create', action: { type: 'status', status: 500, afterCommit: true } }] });
    await expect(new RunwayProvider(config).submit(request)).rejects.toThrow(/may or may not have created a job/);
    expect(emulator.creates()).toBe(1);
    expect(emulator.jobs()).toHaveLength(1);
  });

  it('Runway 502/503 on a create (load shedding, nothing processed) is retried: one job', async () => {
    emulator.setFaults({ rules: [{ kind: 'create', nth: [1, 2], action: { type: 'status', status: 503, retryAfterS: 1 } }] });
    const { taskId } = await new RunwayProvider(config).submit(request);
    expect(emulator.jobs().map((job) => job.id)).toEqual([taskId]);
    expect(emulator.log.filter((e) => e.kind === 'create').map((e) => e.status)).toEqual([503, 503, 200]);
  });

  it('429 with Retry-After on a poll is waited out and retried', async () => {
    const runway = new RunwayProvider(config);
    const { taskId } = await runway.submit(request);
    emulator.setFaults({ rules: [{ provider: 'runway', kind: 'poll', nth: [1, 2], action: { type: 'status', status: 429, retryAfterS: 2 } }] });
    expect(await runway.getTask(taskId)).toEqual({ state: 'queued' });
    expect(retryClock.sleeps).toEqual([2000, 2000]);
    expect(emulator.log.filter((e) => e.kind === 'poll').map((e) => e.status)).toEqual([429, 429, 200]);
  });

  it('truncates a download mid-body', async () => {
    const runway = new RunwayProvider(config);
    const { taskId } = await runway.submit(request);
    clock.advance(3000);
    const done = await runway.getTask(taskId);
    if (done.state !== 'succeeded') throw new Error('expected succeeded');
    emulator.setFaults({ rules: [{ kind: 'download', times: 1, action: { type: 'truncate', atFraction: 0.5 } }] });
    const res = await http.request({ method: 'GET', url: done.videoUrls[0]!, kind: 'download' });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
    const again = await http.request({ method: 'GET', url: done.videoUrls[0]!, kind: 'download' });
    expect((await again.text()).length).toBeGreaterThan(0);
  });

  it('expire-url makes a valid link answer 403', async () => {
    const runway = new RunwayProvider(config);
    const { taskId } = await runway.submit(request);
    clock.advance(3000);
    const done = await runway.getTask(taskId);
    if (done.state !== 'succeeded') throw new Error('expected succeeded');
    emulator.setFaults({ rules: [{ kind: 'download', nth: 1, action: { type: 'expire-url' } }] });
    expect((await fetch(done.videoUrls[0]!)).status).toBe(403);
    expect((await fetch(done.videoUrls[0]!)).status).toBe(200);
  });

  it('probability faults repeat exactly with the same seed', async () => {
    async function pattern(): Promise<number[]> {
      emulator.reset();
      emulator.setFaults({ seed: 42, rules: [{ provider: 'emulator', probability: 0.5, action: { type: 'status', status: 503 } }] });
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await fetch(`${emulator.url}/_emulator/blob/10.mp4`)).status);
      return statuses;
    }
    const first = await pattern();
    expect(first).toContain(503);
    expect(first).toContain(200);
    expect(await pattern()).toEqual(first);
  });
});

describe('control API', () => {
  async function control(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${emulator.url}/_emulator/${path}`, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('sets faults, lists jobs and the log, and resets', async () => {
    expect((await control('POST', 'faults', { rules: [{ kind: 'create', nth: 1, action: { type: 'status', status: 500 } }] })).status).toBe(200);
    await expect(new RunwayProvider(config).submit(request)).rejects.toBeInstanceOf(SubmitOutcomeUnknownError);
    await new RunwayProvider(config).submit(request);
    expect(((await control('GET', 'jobs')).body.jobs as unknown[]).length).toBe(1);
    expect((await control('GET', 'log')).body.log).toEqual([
      expect.objectContaining({ provider: 'runway', kind: 'create', status: 500, fault: 'status' }),
      expect.objectContaining({ provider: 'runway', kind: 'create', status: 200 }),
    ]);
    expect((await control('POST', 'reset')).status).toBe(200);
    expect(emulator.jobs()).toHaveLength(0);
    expect(emulator.log).toHaveLength(0);
  });

  it('rejects a malformed fault plan and unknown config keys', async () => {
    const bad = await control('POST', 'faults', { rules: [{ action: { type: 'explode' } }] });
    expect(bad.status).toBe(400);
    expect((await control('POST', 'config', { nope: 1 })).status).toBe(400);
    expect((await control('GET', 'reset')).status).toBe(405);
  });

  it('switches CometAPI to the bare shape and a longer task_not_exist window', async () => {
    expect((await control('POST', 'config', { cometShape: 'bare', cometNotExistPolls: 2 })).status).toBe(200);
    const comet = new CometApiProvider(config);
    const { taskId } = await comet.submit({ ...request, model: 'gen3a_turbo', ratio: '768:1280', promptText: 'p' });
    expect(await comet.getTask(taskId)).toEqual({ state: 'queued', notYetVisible: true });
    expect(await comet.getTask(taskId)).toEqual({ state: 'queued', notYetVisible: true });
    clock.advance(1500);
    expect(await comet.getTask(taskId)).toEqual({ state: 'running', progress: 0.5 });
    expect(emulator.log.filter((e) => e.kind === 'poll').map((e) => e.status)).toEqual([400, 400, 200]);
    const raw = (await (await fetch(`${emulator.url}/runwayml/v1/tasks/${taskId}`, { headers: { Authorization: 'Bearer k' } })).json()) as Record<string, unknown>;
    expect(raw).toMatchObject({ id: taskId, status: 'RUNNING' });
  });

  it('a "[fail]" prompt ends FAILED with a failure code', async () => {
    const runway = new RunwayProvider(config);
    const { taskId } = await runway.submit({ ...request, promptText: 'please [fail]' });
    clock.advance(3000);
    expect(await runway.getTask(taskId)).toEqual({ state: 'failed', reason: 'An unexpected error occurred while generating the video.', failureCode: 'INTERNAL.BAD_OUTPUT' });
  });
});

describe('streamed faults', () => {
  it('truncates the streamed blob at the requested fraction and delays when asked', async () => {
    emulator.setFaults({ rules: [{ provider: 'emulator', kind: 'download', nth: 1, action: { type: 'truncate', atFraction: 0.25 } }, { provider: 'emulator', nth: 2, action: { type: 'delay', ms: 5 } }] });
    const size = 1024 * 1024;
    const cut = await http.request({ method: 'GET', url: `${emulator.url}/_emulator/blob/${size}.mp4`, kind: 'download' });
    let received = 0;
    await expect(
      (async () => {
        for await (const chunk of cut.body) received += (chunk as Buffer).length;
      })(),
    ).rejects.toThrow();
    expect(received).toBe(size / 4);
    const delayed = await http.request({ method: 'GET', url: `${emulator.url}/_emulator/blob/${size}.mp4`, kind: 'download' });
    expect((await delayed.body.toArray()).reduce((n: number, c: Buffer) => n + c.length, 0)).toBe(size);
    expect(emulator.log.map((e) => e.fault)).toEqual(['truncate', 'delay']);
  });
});
