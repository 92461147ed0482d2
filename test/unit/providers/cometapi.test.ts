import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CometApiProvider } from '../../../src/providers/cometapi.js';
import { ProviderAuthError, ProviderHttpError } from '../../../src/engine/errors.js';
import { createHttpClient } from '../../../src/http/client.js';
import type { ScriptedServer, Step } from '../../helpers/scripted-server.js';
import { recordingClock, startScriptedServer } from '../../helpers/scripted-server.js';

const KEY = 'sk-comet-secret-456';
const http = createHttpClient({ clock: recordingClock(), retry: { maxAttempts: 1 } });
let server: ScriptedServer | undefined;

afterEach(async () => server?.close());
afterAll(() => http.close());

async function provider(...steps: Step[]): Promise<CometApiProvider> {
  server = await startScriptedServer(steps);
  return new CometApiProvider({ baseUrl: server.url, apiKey: KEY, http });
}

function wrapped(data: Record<string, unknown>): Step {
  return { status: 200, json: { code: 'success', message: '', data: { task_id: 't1', action: 'IMAGE_TO_VIDEO', fail_reason: '', progress: '0%', ...data } } };
}

describe('CometApiProvider', () => {
  it('submits the Runway-format body with X-Runway-Version', async () => {
    const comet = await provider({ status: 200, json: { id: 't1' } });
    expect(await comet.submit({ model: 'gen3a_turbo', promptImage: 'https://i/a.png', promptText: 'p', ratio: '768:1280', duration: 10, watermark: false })).toEqual({ taskId: 't1' });
    const sent = server!.received[0]!;
    expect(sent.path).toBe('/runwayml/v1/image_to_video');
    expect(sent.headers['x-runway-version']).toBe('2024-11-06');
    expect(JSON.parse(sent.body)).toEqual({ promptImage: 'https://i/a.png', model: 'gen3a_turbo', promptText: 'p', ratio: '768:1280', duration: 10, watermark: false });
  });

  it('treats HTTP 400 task_not_exist on early polls as queued, not as an error', async () => {
    const comet = await provider({ status: 400, json: { code: 'task_not_exist', message: 'task_not_exist', data: null } });
    expect(await comet.getTask('t1')).toEqual({ state: 'queued', notYetVisible: true });
    expect(server!.received[0]!.path).toBe('/runwayml/v1/tasks/t1');
  });

  it('maps the wrapped envelope through every status', async () => {
    const comet = await provider(
      wrapped({ status: 'NOT_START' }),
      wrapped({ status: 'QUEUED', data: { id: 't1', status: 'PENDING' } }),
      wrapped({ status: 'IN_PROGRESS', progress: '37%' }),
      wrapped({ status: 'SUCCESS', progress: '100%', result_url: 'https://cdn/a.mp4', data: { id: 't1', status: 'SUCCEEDED', output: ['https://cdn/a.mp4', 'https://cdn/b.mp4'] } }),
      wrapped({ status: 'FAILURE', fail_reason: 'content moderation', data: { id: 't1', status: 'FAILED', failureCode: 'SAFETY.INPUT.IMAGE' } }),
    );
    expect(await comet.getTask('t1')).toEqual({ state: 'queued' });
    expect(await comet.getTask('t1')).toEqual({ state: 'queued' });
    expect(await comet.getTask('t1')).toEqual({ state: 'running', progress: 0.37 });
    expect(await comet.getTask('t1')).toEqual({ state: 'succeeded', videoUrls: ['https://cdn/a.mp4', 'https://cdn/b.mp4'] });
    expect(await comet.getTask('t1')).toEqual({ state: 'failed', reason: 'content moderation', failureCode: 'SAFETY.INPUT.IMAGE' });
  });

  it('finds the video in data.data.output or data.video_url when result_url is absent', async () => {
    const comet = await provider(
      wrapped({ status: 'SUCCESS', data: { status: 'SUCCEEDED', output: ['https://cdn/inner.mp4'] } }),
      wrapped({ status: 'SUCCESS', video_url: 'https://cdn/feed.mp4' }),
    );
    expect(await comet.getTask('t1')).toEqual({ state: 'succeeded', videoUrls: ['https://cdn/inner.mp4'] });
    expect(await comet.getTask('t1')).toEqual({ state: 'succeeded', videoUrls: ['https://cdn/feed.mp4'] });
  });

  it('maps the bare Runway object', async () => {
    const comet = await provider(
      { status: 200, json: { id: 't1', status: 'PENDING', createdAt: '2026-01-01T00:00:00Z' } },
      { status: 200, json: { id: 't1', status: 'RUNNING', progress: 0.5 } },
      { status: 200, json: { id: 't1', status: 'SUCCEEDED', output: ['https://cdn/x.mp4'] } },
      { status: 200, json: { id: 't1', status: 'FAILED', failure: 'bad output', failureCode: 'INTERNAL.BAD_OUTPUT' } },
    );
    expect(await comet.getTask('t1')).toEqual({ state: 'queued' });
    expect(await comet.getTask('t1')).toEqual({ state: 'running', progress: 0.5 });
    expect(await comet.getTask('t1')).toEqual({ state: 'succeeded', videoUrls: ['https://cdn/x.mp4'] });
    expect(await comet.getTask('t1')).toEqual({ state: 'failed', reason: 'bad output', failureCode: 'INTERNAL.BAD_OUTPUT' });
  });

  it('maps the error envelope with its message and code', async () => {
    const comet = await provider(
      { status: 401, json: { error: { message: 'Invalid token', type: 'comet_api_error', param: '', code: 'invalid_api_key' } } },
      { status: 400, json: { error: { message: 'ratio is invalid', type: 'comet_api_error', param: 'ratio', code: 'invalid_request' } } },
    );
    const auth = await comet.getTask('t1').catch((e: unknown) => e);
    expect(auth).toBeInstanceOf(ProviderAuthError);
    expect((auth as Error).message).toBe('CometAPI (Runway format) returned HTTP 401: Invalid token (invalid_api_key) (check COMETAPI_KEY).');
    await expect(comet.submit({ model: 'gen3a_turbo', promptImage: 'https://i/a.png', promptText: 'p', ratio: '1:1', duration: 5 })).rejects.toThrow(
      'CometAPI (Runway format) returned HTTP 400: ratio is invalid (invalid_request).',
    );
  });

  it('rejects a SUCCESS without any video URL', async () => {
    const comet = await provider(wrapped({ status: 'SUCCESS' }));
    await expect(comet.getTask('t1')).rejects.toBeInstanceOf(ProviderHttpError);
  });

  it('has no cancel endpoint', async () => {
    const comet = await provider({ status: 500, text: 'should not be called' });
    expect(await comet.cancel('t1')).toBe('unsupported');
    expect(server!.received).toHaveLength(0);
  });
});
