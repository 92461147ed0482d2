import { copyFile, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson, startTestServer, type TestServer } from '../../helpers/test-server.js';

/** The editor's dry run: POST /reelgraph/estimate on a real server on 127.0.0.1:0. Nothing is queued or submitted. */

let server: TestServer;
const keys = { RUNWAYML_API_SECRET: `key_${'0'.repeat(128)}`, COMETAPI_KEY: 'emulator-key', RUNCOMFY_API_TOKEN: 'emulator-key' };

beforeAll(async () => {
  // Base URLs point at a closed port: a request that slipped through would fail loudly.
  server = await startTestServer({ ...keys, RUNWAYML_BASE_URL: 'http://127.0.0.1:9', COMETAPI_BASE_URL: 'http://127.0.0.1:9' });
  await copyFile(resolve('examples/images/sunset.jpg'), join(server.inputDir, 'sunset.jpg'));
});
afterAll(async () => {
  await server?.close();
});

describe('POST /reelgraph/estimate', () => {
  it('prices a ComfyUI Gen4 workflow without queueing it', async () => {
    const prompt = JSON.parse(await readFile(resolve('test/fixtures/comfyui/runway-gen4-api.json'), 'utf8')) as unknown;
    const response = await postJson(server.port, '/api/reelgraph/estimate', { prompt });
    expect(response.status).toBe(200);
    const body = response.json<{ jobs: unknown[]; totals: { provider: string; usd: number; credits: number }[]; nodes: { action: string }[] }>();
    expect(body.jobs).toEqual([{ nodeId: '8', provider: 'runway', model: 'gen4_turbo', duration: 5, ratio: '1280:720', usd: 0.25, credits: 25 }]);
    expect(body.totals[0]).toMatchObject({ provider: 'runway', usd: 0.25, credits: 25 });
    expect(body.nodes.every((n) => n.action === 'run')).toBe(true);
    expect(await (await fetch(`${server.url}/queue`)).json()).toEqual({ queue_running: [], queue_pending: [] });
    const history = await (await fetch(`${server.url}/history`)).json();
    expect(history).toEqual({});
  });

  it('answers a prompt that would not validate with runnable: false and /prompt-style node errors', async () => {
    const response = await postJson(server.port, '/reelgraph/estimate', { prompt: { '1': { class_type: 'KSampler', inputs: {} } } });
    expect(response.status).toBe(200);
    const body = response.json<{ runnable: boolean; error: { extra_info: { missing_node_types: string[] } } }>();
    expect(body.runnable).toBe(false);
    expect(body.error.extra_info.missing_node_types).toEqual(['KSampler']);
  });
});
