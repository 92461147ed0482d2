import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitOnce } from '../../../src/jobs/journal.js';
import { JobClaimedError, RedisJournal } from '../../../src/jobs/redis-journal.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';

/** The Redis journal against a real redis-server: the intent is the claim, so racing workers create once. */

let redis: TestRedis;
const clients: Redis[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const client of clients) client.disconnect();
  await redis.stop();
});

function journal(): RedisJournal {
  const client = new Redis(redis.url, { maxRetriesPerRequest: null });
  clients.push(client);
  return new RedisJournal(client, { workflowPath: '/w.json', row: 'r1' });
}

const request = { model: 'gen4_turbo' as const, promptImage: 'https://x/i.png', ratio: '1280:720', duration: 5, seed: 1 };

describe('RedisJournal', () => {
  it('ten workers racing on one job key: exactly one create; the others re-attach or are told another worker holds it', async () => {
    let creates = 0;
    const submit = async () => {
      creates++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { taskId: 'task-1' };
    };
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => submitOnce(journal(), { provider: 'runway', baseUrl: 'http://e', request, imageId: 'img', nodeId: '3', submit })),
    );
    expect(creates).toBe(1);
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') expect(outcome.value.taskId).toBe('task-1');
      else expect(outcome.reason instanceof JobClaimedError || /got no answer/.test(String(outcome.reason))).toBe(true);
    }
    // Once the answer is journaled, a later worker re-attaches without creating.
    const later = await submitOnce(journal(), { provider: 'runway', baseUrl: 'http://e', request, imageId: 'img', nodeId: '3', submit });
    expect(later).toMatchObject({ taskId: 'task-1', reattached: true });
    expect(creates).toBe(1);
  });

  it('folds submitted, state and cancel lines like the file journal; a dead job may be claimed again', async () => {
    const j = journal();
    await j.recordIntent({ jobKey: 'k2', provider: 'runway', model: 'gen4_turbo', baseUrl: 'http://e', request });
    await j.recordSubmitted('k2', 't2');
    expect(await j.findByTask('runway', 't2')).toMatchObject({ jobKey: 'k2', state: 'submitted', taskId: 't2', origin: { row: 'r1' } });
    await j.recordState({ provider: 'runway', taskId: 't2' }, 'failed', { reason: 'SAFETY' });
    await j.recordCancel({ jobKey: 'k2' }, 'not-cancellable');
    expect(await j.find('k2')).toMatchObject({ state: 'failed', reason: 'SAFETY', cancels: [{ outcome: 'not-cancellable' }] });
    await expect(j.recordIntent({ jobKey: 'k2', provider: 'runway', model: 'gen4_turbo', baseUrl: 'http://e', request })).resolves.toBeUndefined();
    await expect(j.recordIntent({ jobKey: 'k2', provider: 'runway', model: 'gen4_turbo', baseUrl: 'http://e', request })).rejects.toBeInstanceOf(JobClaimedError);
  });
});
