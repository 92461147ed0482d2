import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RunComfyProvider } from '../../../src/providers/runcomfy.js';
import { ProviderAuthError, ProviderHttpError, ProviderRateLimitError } from '../../../src/engine/errors.js';
import { createHttpClient } from '../../../src/http/client.js';
import type { ScriptedServer, Step } from '../../helpers/scripted-server.js';
import { recordingClock, startScriptedServer } from '../../helpers/scripted-server.js';

const KEY = 'rc-secret-token-123';
const http = createHttpClient({ clock: recordingClock(), retry: { maxAttempts: 1 } });
let server: ScriptedServer | undefined;

afterEach(async () => server?.close());
afterAll(() => http.close());

async function provider(...steps: Step[]): Promise<RunComfyProvider> {
  server = await startScriptedServer(steps);
  return new RunComfyProvider({ baseUrl: `${server.url}/`, apiKey: KEY, http });
}

describe('RunComfyProvider', () => {
  it('submits to the model path with the input schema as the body', async () => {
    const rc = await provider({ status: 200, json: { request_id: 'r1', status_url: 'x', result_url: 'y', cancel_url: 'z' } });
    const result = await rc.submit({ model: 'gen3a_turbo', promptImage: 'https://img/a.png', promptText: 'hi', ratio: '1280:768', duration: 5, seed: 7 });
    expect(result).toEqual({ taskId: 'r1' });
    const sent = server!.received[0]!;
    expect(sent.path).toBe('/v1/models/runwayml/runway-gen-3-alpha/turbo/image-to-video');
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(JSON.parse(sent.body)).toEqual({ promptImage: 'https://img/a.png', promptText: 'hi', ratio: '1280:768', duration: 5, seed: 7 });
  });

  it('maps in_queue with its position and in_progress', async () => {
    const rc = await provider({ status: 200, json: { request_id: 'r1', status: 'in_queue', queue_position: 3 } }, { status: 200, json: { request_id: 'r1', status: 'in_progress' } });
    expect(await rc.getTask('r1')).toEqual({ state: 'queued', queuePosition: 3 });
    expect(await rc.getTask('r1')).toEqual({ state: 'running' });
    expect(server!.received[0]!.path).toBe('/v1/requests/r1/status');
  });

  it.each(['completed', 'succeeded'])('fetches the result on %s and finds the video URL', async (status) => {
    const rc = await provider({ status: 200, json: { status } }, { status: 200, json: { status: 'completed', output: { video: 'https://cdn/v.mp4' }, error: null } });
    expect(await rc.getTask('r1')).toEqual({ state: 'succeeded', videoUrls: ['https://cdn/v.mp4'] });
    expect(server!.received[1]!.path).toBe('/v1/requests/r1/result');
  });

  it('walks nested url/videos keys', async () => {
    const rc = await provider({ status: 200, json: { status: 'completed' } }, { status: 200, json: { output: { videos: [{ url: 'https://cdn/1.mp4' }], seed: 4 } } });
    expect(await rc.getTask('r1')).toEqual({ state: 'succeeded', videoUrls: ['https://cdn/1.mp4'] });
  });

  it('reports failed with the error message, and cancelled/canceled', async () => {
    const rc = await provider(
      { status: 200, json: { status: 'failed' } },
      { status: 200, json: { status: 'failed', output: null, error: { error_message: 'GPU fell over' } } },
      { status: 200, json: { status: 'canceled' } },
    );
    expect(await rc.getTask('r1')).toEqual({ state: 'failed', reason: 'GPU fell over' });
    expect(await rc.getTask('r1')).toEqual({ state: 'cancelled' });
  });

  it('detects an error_code sent with HTTP 200', async () => {
    const rc = await provider({ status: 200, json: { error_code: 400004, error_message: 'Invalid token' } });
    const error = await rc.getTask('r1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect((error as ProviderAuthError).message).toBe('RunComfy Model API returned HTTP 400: Invalid token (error_code 400004) (check RUNCOMFY_API_TOKEN).');
  });

  it('maps a 422 validation error and a 429', async () => {
    const rc = await provider(
      { status: 422, json: { error_code: 422001, error_message: 'ratio: Invalid option', detail: [] } },
      { status: 429, text: 'Too Many Requests' },
    );
    const input = { model: 'gen4_turbo' as const, promptImage: 'https://i/x.png', ratio: '1:1', duration: 5 };
    await expect(rc.submit(input)).rejects.toThrow('RunComfy Model API returned HTTP 422: ratio: Invalid option (error_code 422001).');
    await expect(rc.submit(input)).rejects.toBeInstanceOf(ProviderRateLimitError);
  });

  it('never puts the key in an error, even when the provider echoes it', async () => {
    const rc = await provider({ status: 401, json: { error_code: 401001, error_message: `token ${KEY} is invalid` } });
    const error = await rc.getTask('r1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(String((error as Error).message)).not.toContain(KEY);
    expect(JSON.stringify(error)).not.toContain(KEY);
  });

  it('shows an unknown status word without failing, takes queue_position as a string, and rejects a body with no status', async () => {
    const rc = await provider(
      { status: 200, json: { status: 'preparing' } },
      { status: 200, json: { status: 'in_queue', queue_position: '3' } },
      { status: 200, json: { nope: true } },
    );
    expect(await rc.getTask('r1')).toEqual({ state: 'unknown', word: 'preparing' });
    expect(await rc.getTask('r1')).toEqual({ state: 'queued', queuePosition: 3 });
    await expect(rc.getTask('r1')).rejects.toBeInstanceOf(ProviderHttpError);
  });

  it('marks HTTP 200 with error_code 500001 as retryable ("retry with backoff"), 404001 as not', async () => {
    const rc = await provider(
      { status: 200, json: { error_code: 500001, error_message: 'Internal error, retry with backoff' } },
      { status: 200, json: { error_code: '404001', error_message: 'Request not found' } },
    );
    const first = (await rc.getTask('r1').catch((e: unknown) => e)) as ProviderHttpError;
    expect([first.status, first.retryable]).toEqual([500, true]);
    const second = (await rc.getTask('r1').catch((e: unknown) => e)) as ProviderHttpError;
    expect([second.status, second.retryable]).toEqual([404, false]);
  });

  it('cancel reports cancelled or not_cancellable from the outcome', async () => {
    const rc = await provider(
      { status: 200, json: { request_id: 'r1', status: 'cancelled', outcome: 'cancelled' } },
      { status: 200, json: { request_id: 'r1', status: 'in_progress', outcome: 'not_cancellable' } },
    );
    expect(await rc.cancel('r1')).toBe('cancelled');
    expect(await rc.cancel('r1')).toBe('not_cancellable');
    expect(server!.received.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1/requests/r1/cancel', 'POST /v1/requests/r1/cancel']);
  });
});
