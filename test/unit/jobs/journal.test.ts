import { mkdtemp, readFile, rm, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobJournal, jobKeyFor, submitOnce, summarizeRequest, type SubmitOnceInput } from '../../../src/jobs/journal.js';
import { ProviderHttpError, ProviderRateLimitError, ProviderTaskFailedError, SubmitOutcomeUnknownError, CancelledError } from '../../../src/engine/errors.js';
import type { SubmitRequest } from '../../../src/providers/provider.js';
import { HttpConnectionError } from '../../../src/http/client.js';

const request: SubmitRequest = { model: 'gen4_turbo', promptImage: 'data:image/png;base64,AAAA', ratio: '1280:720', duration: 5, seed: 7 };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reelgraph-journal-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function input(submit: SubmitOnceInput['submit'], overrides: Partial<SubmitOnceInput> = {}): SubmitOnceInput {
  return { provider: 'runway', baseUrl: 'http://127.0.0.1:1', request, imageId: 'sha-1', nodeId: '3', submit, ...overrides };
}

describe('JobJournal', () => {
  it('folds intent, submitted, state and cancel lines into one record', async () => {
    const journal = new JobJournal(dir);
    await journal.recordIntent({ jobKey: 'k1', provider: 'runway', model: 'gen4_turbo', baseUrl: 'u', request: summarizeRequest(request) });
    expect(journal.find('k1')?.state).toBe('intent');
    await journal.recordSubmitted('k1', 'task-1');
    expect(journal.find('k1')).toMatchObject({ state: 'submitted', taskId: 'task-1' });
    await journal.recordState({ provider: 'runway', taskId: 'task-1' }, 'saved', { output: '/out/a.mp4' });
    expect(journal.find('k1')).toMatchObject({ state: 'saved', output: '/out/a.mp4' });
    await journal.recordCancel({ jobKey: 'k1' }, 'not_cancellable');
    expect(journal.find('k1')?.cancels).toEqual([{ outcome: 'not_cancellable', at: expect.any(Number) }]);
    expect(journal.list().map((job) => job.jobKey)).toEqual(['k1']);
  });

  it('sees lines appended by another instance (another process) and forgets keys', async () => {
    const a = new JobJournal(dir);
    const b = new JobJournal(dir);
    await a.recordIntent({ jobKey: 'k2', provider: 'cometapi', model: 'gen3a_turbo', baseUrl: 'u', request: summarizeRequest(request) });
    expect(b.find('k2')?.provider).toBe('cometapi');
    await b.forget('k2');
    expect(a.find('k2')).toBeUndefined();
    expect(a.list()).toEqual([]);
  });

  it('puts each line on disk before its promise resolves, also when hundreds are asked at once (group commit)', async () => {
    const journal = new JobJournal(dir);
    const keys = Array.from({ length: 300 }, (_, i) => `k${i}`);
    await Promise.all(
      keys.map(async (jobKey) => {
        await journal.recordIntent({ jobKey, provider: 'runway', model: 'gen4_turbo', baseUrl: 'u', request: summarizeRequest(request) });
        // Another process reading the file right now sees this intent.
        expect(new JobJournal(dir).find(jobKey)?.state).toBe('intent');
      }),
    );
    const lines = (await readFile(join(dir, 'jobs.jsonl'), 'utf8')).split('\n').filter(Boolean);
    expect(lines.map((line) => (JSON.parse(line) as { jobKey: string }).jobKey)).toEqual(keys);
  });

  it('rejects every line of a write that failed, and none resolves as written', async () => {
    await appendFile(join(dir, 'not-a-folder'), 'x');
    const journal = new JobJournal(join(dir, 'not-a-folder'));
    const results = await Promise.allSettled(['a', 'b', 'c'].map((jobKey) => journal.recordSubmitted(jobKey, `task-${jobKey}`)));
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected', 'rejected']);
  });

  it('ignores a torn last line left by a crash mid-write', async () => {
    const journal = new JobJournal(dir);
    await journal.recordIntent({ jobKey: 'k3', provider: 'runway', model: 'gen4_turbo', baseUrl: 'u', request: summarizeRequest(request) });
    await appendFile(journal.file, '{"type":"submitted","jobKey":"k3","ta');
    expect(new JobJournal(dir).find('k3')?.state).toBe('intent');
  });

  it('never writes image bytes or signed query strings', async () => {
    const bytes = 'A'.repeat(5000);
    expect(summarizeRequest({ ...request, promptImage: `data:image/png;base64,${bytes}` }).promptImage).not.toContain(bytes);
    expect(summarizeRequest({ ...request, promptImage: 'http://h/f.png?sig=secret' }).promptImage).toBe('http://h/f.png?…');
    const journal = new JobJournal(dir);
    await submitOnce(journal, input(async () => ({ taskId: 't' }), { request: { ...request, promptImage: `data:image/png;base64,${bytes}` } }));
    expect(await readFile(journal.file, 'utf8')).not.toContain(bytes);
  });
});

describe('submitOnce', () => {
  it('records intent before the create and submitted after it', async () => {
    const journal = new JobJournal(dir);
    let stateDuringCreate: string | undefined;
    const result = await submitOnce(journal, input(async () => {
      stateDuringCreate = new JobJournal(dir).list()[0]?.state;
      return { taskId: 'task-9' };
    }));
    expect(stateDuringCreate).toBe('intent');
    expect(result).toMatchObject({ taskId: 'task-9', reattached: false });
    expect(journal.find(result.jobKey)?.state).toBe('submitted');
  });

  it('re-attaches to a live task instead of creating again', async () => {
    let creates = 0;
    const submit = async () => ({ taskId: `task-${++creates}` });
    await submitOnce(new JobJournal(dir), input(submit));
    const second = await submitOnce(new JobJournal(dir), input(submit));
    expect(second).toMatchObject({ taskId: 'task-1', reattached: true });
    expect(creates).toBe(1);
  });

  it('uses a signed URL-independent key: the image id, not promptImage', () => {
    const a = jobKeyFor({ ...input(async () => ({ taskId: 'x' })), request: { ...request, promptImage: 'http://h/a?sig=1' } });
    const b = jobKeyFor({ ...input(async () => ({ taskId: 'x' })), request: { ...request, promptImage: 'http://h/a?sig=2' } });
    const c = jobKeyFor({ ...input(async () => ({ taskId: 'x' })), request: { ...request, seed: 8 } });
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });

  it.each([
    ['failed', 'failed'],
    ['cancelled', 'cancelled'],
  ] as const)('submits again after the earlier task %s', async (_name, state) => {
    let creates = 0;
    const submit = async () => ({ taskId: `task-${++creates}` });
    const journal = new JobJournal(dir);
    const first = await submitOnce(journal, input(submit));
    await journal.recordState({ jobKey: first.jobKey }, state);
    const second = await submitOnce(journal, input(submit));
    expect(second).toMatchObject({ taskId: 'task-2', reattached: false });
  });

  it('marks a 4xx rejection so a corrected re-run may submit', async () => {
    const journal = new JobJournal(dir);
    const rejected = new ProviderHttpError('runway', 400, 'Runway API returned HTTP 400: bad ratio.');
    await expect(submitOnce(journal, input(async () => Promise.reject(rejected)))).rejects.toBe(rejected);
    expect(journal.list()[0]).toMatchObject({ state: 'refused', status: 400 });
    await expect(submitOnce(journal, input(async () => ({ taskId: 'ok' })))).resolves.toMatchObject({ taskId: 'ok' });
  });

  it('a create that was never sent (HttpConnectionError) is no unknown outcome: recorded never-sent, a re-run submits', async () => {
    const journal = new JobJournal(dir);
    const neverSent = new HttpConnectionError('POST http://127.0.0.1:1/v1/image_to_video failed after 3 attempts: connect ECONNREFUSED');
    const error = await submitOnce(journal, input(async () => Promise.reject(neverSent))).catch((e: unknown) => e);
    expect(error).toBe(neverSent);
    expect(error).not.toBeInstanceOf(SubmitOutcomeUnknownError);
    expect(journal.list()[0]?.state).toBe('never-sent');
    await expect(submitOnce(journal, input(async () => ({ taskId: 'sent' })))).resolves.toMatchObject({ taskId: 'sent', reattached: false });
  });

  it('recognises a never-sent create by its class, not by an error that merely shares its name', async () => {
    const journal = new JobJournal(dir);
    const lookalike = Object.assign(new Error('socket hang up after sending'), { name: 'HttpConnectionError' });
    const error = await submitOnce(journal, input(async () => Promise.reject(lookalike))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SubmitOutcomeUnknownError);
    expect(journal.list()[0]?.state).toBe('unknown');
  });

  it.each([
    ['a 502 after sending', new SubmitOutcomeUnknownError('POST … : the server answered HTTP 502')],
    ['an unreadable 200', new ProviderHttpError('runway', 200, 'Runway API returned HTTP 200 with an unexpected create response.')],
    ['a reset connection', Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })],
  ])('treats %s as unknown and refuses to resubmit until forgotten', async (_name, failure) => {
    const journal = new JobJournal(dir);
    const error = await submitOnce(journal, input(async () => Promise.reject(failure))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SubmitOutcomeUnknownError);
    const key = journal.list()[0]!.jobKey;
    expect((error as Error).message).toContain(`reelgraph jobs forget ${key}`);
    let creates = 0;
    const again = await submitOnce(journal, input(async () => ({ taskId: `t${++creates}` }))).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(SubmitOutcomeUnknownError);
    expect((again as Error).message).toMatch(/may exist and be billed: check your runway dashboard/);
    expect(creates).toBe(0);
    await journal.forget(key);
    await expect(submitOnce(journal, input(async () => ({ taskId: 'fresh' })))).resolves.toMatchObject({ taskId: 'fresh' });
  });

  it('records unknown when interrupted while the create is in flight (the job may exist)', async () => {
    const journal = new JobJournal(dir);
    const inFlight = input(async (hooks) => {
      hooks.onAttempt();
      throw new CancelledError();
    });
    await expect(submitOnce(journal, inFlight)).rejects.toBeInstanceOf(CancelledError);
    expect(journal.list()[0]?.state).toBe('unknown');
    await expect(submitOnce(journal, input(async () => ({ taskId: 'x' })))).rejects.toBeInstanceOf(SubmitOutcomeUnknownError);
  });

  // The journal records precisely: never sent, refused (with status), accepted (id), unknown.
  it.each([
    ['interrupted before sending', 'never-sent', undefined, async () => Promise.reject(new CancelledError())],
    ['a refused connection', 'never-sent', undefined, async () => Promise.reject(new HttpConnectionError('connect ECONNREFUSED'))],
    ['a 429 after the retry budget', 'refused', 429, async () => Promise.reject(new ProviderRateLimitError('runway', 429, 'Runway API returned HTTP 429: daily limit.'))],
    ['Runway 503 load shedding', 'refused', 503, async () => Promise.reject(new ProviderHttpError('runway', 503, 'Runway API returned HTTP 503.'))],
    [
      'an interrupt while waiting to retry a 429',
      'refused',
      429,
      async (hooks: Parameters<SubmitOnceInput['submit']>[0]) => {
        hooks.onAttempt();
        hooks.onRetry({ kind: 'create', status: 429, delayMs: 1000, attempt: 1 });
        throw new CancelledError();
      },
    ],
  ] as const)('%s: records %s and never blocks a re-run', async (_name, state, status, submit) => {
    const journal = new JobJournal(dir);
    await expect(submitOnce(journal, input(submit))).rejects.toBeInstanceOf(Error);
    const record = journal.list()[0]!;
    expect(record.state).toBe(state);
    expect(record.status).toBe(status);
    await expect(submitOnce(journal, input(async () => ({ taskId: 'second' })))).resolves.toMatchObject({ taskId: 'second', reattached: false });
    expect(journal.list()[0]).toMatchObject({ state: 'submitted', taskId: 'second' });
  });

  it.each([
    ['Runway 504', 'runway', 504],
    ['CometAPI 503 (not documented as "not processed")', 'cometapi', 503],
  ])('%s on a create is unknown', async (_name, provider, status) => {
    const journal = new JobJournal(dir);
    const error = await submitOnce(journal, input(async () => Promise.reject(new ProviderHttpError(provider, status, `HTTP ${status}`)), { provider })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SubmitOutcomeUnknownError);
    expect(journal.list()[0]?.state).toBe('unknown');
  });

  it('reports a known final failure again instead of buying it twice, unless --retry-failed or a param changed', async () => {
    const journal = new JobJournal(dir);
    let creates = 0;
    const create = async () => ({ taskId: `t${++creates}` });
    await submitOnce(journal, input(create));
    await journal.recordState({ provider: 'runway', taskId: 't1' }, 'failed', { reason: 'Input image flagged', failureCode: 'SAFETY.INPUT.IMAGE' });
    const again = await submitOnce(journal, input(create)).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ProviderTaskFailedError);
    expect((again as Error).message).toMatch(/runway task t1 failed: Input image flagged .*--retry-failed.* \(SAFETY\.INPUT\.IMAGE\)/);
    expect(creates).toBe(1);
    // A changed param is another job.
    await expect(submitOnce(journal, input(create, { request: { ...request, seed: 8 } }))).resolves.toMatchObject({ taskId: 't2' });
    await expect(submitOnce(journal, input(create, { retryFailed: true }))).resolves.toMatchObject({ taskId: 't3' });
    expect(creates).toBe(3);
  });

  it('buys again a failure the provider documents as retryable (INTERNAL.BAD_OUTPUT)', async () => {
    const journal = new JobJournal(dir);
    let creates = 0;
    const create = async () => ({ taskId: `t${++creates}` });
    await submitOnce(journal, input(create));
    await journal.recordState({ provider: 'runway', taskId: 't1' }, 'failed', { reason: 'bad output', failureCode: 'INTERNAL.BAD_OUTPUT' });
    await expect(submitOnce(journal, input(create))).resolves.toMatchObject({ taskId: 't2' });
  });
});
