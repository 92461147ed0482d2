import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RunwayProvider } from '../../../src/providers/runway.js';
import { ProviderAuthError, ProviderHttpError, ProviderRateLimitError } from '../../../src/engine/errors.js';
import { createHttpClient } from '../../../src/http/client.js';
import type { ScriptedServer, Step } from '../../helpers/scripted-server.js';
import { recordingClock, startScriptedServer } from '../../helpers/scripted-server.js';

const KEY = `key_${'ab'.repeat(64)}`;
const http = createHttpClient({ clock: recordingClock(), retry: { maxAttempts: 1, createMaxAttempts: 1 } });
let server: ScriptedServer | undefined;

afterEach(async () => server?.close());
afterAll(() => http.close());

async function provider(...steps: Step[]): Promise<RunwayProvider> {
  server = await startScriptedServer(steps);
  return new RunwayProvider({ baseUrl: server.url, apiKey: KEY, http });
}

const request = { model: 'gen4_turbo' as const, promptImage: 'https://i/a.png', ratio: '1280:720', duration: 5 };

describe('RunwayProvider', () => {
  it('submits with the version header and returns the estimated cost', async () => {
    const runway = await provider({ status: 200, json: { id: 'task-1', estimatedCost: { credits: 25 } } });
    expect(await runway.submit({ ...request, seed: 42 })).toEqual({ taskId: 'task-1', estimatedCredits: 25 });
    const sent = server!.received[0]!;
    expect(`${sent.method} ${sent.path}`).toBe('POST /v1/image_to_video');
    expect(sent.headers['x-runway-version']).toBe('2024-11-06');
    expect(JSON.parse(sent.body)).toEqual({ model: 'gen4_turbo', promptImage: 'https://i/a.png', ratio: '1280:720', duration: 5, seed: 42 });
  });

  it('maps every task status', async () => {
    const runway = await provider(
      { status: 200, json: { id: 't', status: 'PENDING' } },
      { status: 200, json: { id: 't', status: 'THROTTLED' } },
      { status: 200, json: { id: 't', status: 'RUNNING', progress: 0.02 } },
      { status: 200, json: { id: 't', status: 'SUCCEEDED', output: ['https://cdn/v.mp4?_jwt=x'] } },
      { status: 200, json: { id: 't', status: 'FAILED', failure: 'Input image flagged', failureCode: 'SAFETY.INPUT.IMAGE' } },
      { status: 200, json: { id: 't', status: 'CANCELLED' } },
    );
    expect(await runway.getTask('t')).toEqual({ state: 'queued' });
    expect(await runway.getTask('t')).toEqual({ state: 'queued', throttled: true });
    expect(await runway.getTask('t')).toEqual({ state: 'running', progress: 0.02 });
    expect(await runway.getTask('t')).toEqual({ state: 'succeeded', videoUrls: ['https://cdn/v.mp4?_jwt=x'] });
    expect(await runway.getTask('t')).toEqual({ state: 'failed', reason: 'Input image flagged', failureCode: 'SAFETY.INPUT.IMAGE' });
    expect(await runway.getTask('t')).toEqual({ state: 'cancelled' });
  });

  it('is lenient where it costs nothing: a create needs only an id, an unknown word is not terminal, numbers may be strings', async () => {
    const runway = await provider(
      { status: 200, json: { id: 'task-2', estimatedCost: null } },
      { status: 200, json: { id: 'task-3', estimatedCost: { credits: '25' }, somethingNew: [1] } },
      { status: 200, json: { id: 't', status: 'QUEUED_FOR_REVIEW' } },
      { status: 200, json: { id: 't', status: 'RUNNING', progress: '0.5' } },
    );
    expect(await runway.submit(request)).toEqual({ taskId: 'task-2' });
    expect(await runway.submit(request)).toEqual({ taskId: 'task-3', estimatedCredits: 25 });
    expect(await runway.getTask('t')).toEqual({ state: 'unknown', word: 'QUEUED_FOR_REVIEW' });
    expect(await runway.getTask('t')).toEqual({ state: 'running', progress: 0.5 });
  });

  it('marks errors retryable from the one table in src/http/retry.ts', async () => {
    const runway = await provider({ status: 503, json: { error: 'busy' } }, { status: 404, json: { error: 'Could not find Task' } });
    expect(await runway.getTask('t').catch((e: unknown) => (e as ProviderHttpError).retryable)).toBe(true);
    expect(await runway.getTask('t').catch((e: unknown) => (e as ProviderHttpError).retryable)).toBe(false);
  });

  it('lists validation issues in the message', async () => {
    const runway = await provider({
      status: 400,
      json: { error: 'Validation of body failed', issues: [{ code: 'invalid_value', message: "Invalid option: expected one of '1280:720'|'720:1280'", path: ['ratio'] }], docUrl: 'https://docs.dev.runwayml.com/api' },
    });
    await expect(runway.submit(request)).rejects.toThrow("Runway API returned HTTP 400: Validation of body failed (ratio: Invalid option: expected one of '1280:720'|'720:1280').");
  });

  it('maps 401, 429 and the not-enough-credits 400', async () => {
    const runway = await provider(
      { status: 401, json: { error: 'Invalid API key' } },
      { status: 429, json: { error: 'Daily task limit reached' } },
      { status: 400, json: { error: 'You do not have enough credits to run this task.' } },
    );
    await expect(runway.submit(request)).rejects.toBeInstanceOf(ProviderAuthError);
    await expect(runway.submit(request)).rejects.toBeInstanceOf(ProviderRateLimitError);
    await expect(runway.submit(request)).rejects.toThrow('Runway API returned HTTP 400: You do not have enough credits to run this task.');
  });

  it('cancels with DELETE (204), and a later 404 is an error', async () => {
    const runway = await provider({ status: 204 }, { status: 404, json: { error: 'Could not find Task' } });
    expect(await runway.cancel('t')).toBe('cancelled');
    expect(`${server!.received[0]!.method} ${server!.received[0]!.path}`).toBe('DELETE /v1/tasks/t');
    const error = await runway.getTask('t').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderHttpError);
    expect((error as ProviderHttpError).status).toBe(404);
    expect((error as Error).message).toBe('Runway API returned HTTP 404: Could not find Task.');
  });

  it('turns an HTML error page into a readable message', async () => {
    const runway = await provider({ status: 502, text: '<html><body>Bad Gateway</body></html>' });
    await expect(runway.getTask('t')).rejects.toThrow('Runway API returned HTTP 502: <html><body>Bad Gateway</body></html>.');
  });
});
