import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson, raw, startTestServer, type TestServer } from '../../helpers/test-server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ RUNWAYML_API_SECRET: 'key_' + '0'.repeat(128) });
});

afterAll(async () => {
  await server.close();
});

/** RunwayI2V without its image: ComfyUI reports required_input_missing on that node. */
const missingImage = {
  '3': {
    class_type: 'RunwayI2V',
    inputs: { provider: 'runway', model: 'gen4_turbo', promptText: 'a slow pan', ratio: '1280:720', duration: 5, seed: 1, watermark: false },
  },
  '4': { class_type: 'Poll', inputs: { task: ['3', 0], interval_s: 1, timeout_s: 60 } },
  '5': { class_type: 'SaveVideo', inputs: { video: ['4', 0], filename_prefix: 'x', format: 'auto', codec: 'auto' } },
};

describe('POST /prompt', () => {
  it('answers 400 with node_errors on the offending node, and queues nothing', async () => {
    const response = await postJson(server.port, '/prompt', { prompt: missingImage, client_id: 'c1' });
    expect(response.status).toBe(400);
    const body = response.json<{ error: { type: string; message: string }; node_errors: Record<string, { class_type: string; errors: { type: string; extra_info?: { input_name?: string } }[] }> }>();
    expect(body.error.type).toBe('prompt_outputs_failed_validation');
    expect(Object.keys(body.node_errors)).toContain('3');
    expect(body.node_errors['3']!.class_type).toBe('RunwayI2V');
    expect(body.node_errors['3']!.errors.some((error) => error.type === 'required_input_missing' && error.extra_info?.input_name === 'image')).toBe(true);
    const queue = await raw(server.port, 'GET', '/queue');
    expect(queue.json()).toEqual({ queue_running: [], queue_pending: [] });
  });

  it('answers 400 no_prompt when the body has no prompt', async () => {
    const response = await postJson(server.port, '/api/prompt', { client_id: 'c1' });
    expect(response.status).toBe(400);
    expect(response.json<{ error: { type: string } }>().error.type).toBe('no_prompt');
  });

  it('answers 400 for a document that is no workflow', async () => {
    const response = await postJson(server.port, '/prompt', { prompt: { '1': { inputs: {} } } });
    expect(response.status).toBe(400);
    expect(response.json<{ error: { type: string; message: string } }>().error.type).toBe('invalid_prompt');
  });

  it('names an unknown node type in the error', async () => {
    const response = await postJson(server.port, '/prompt', { prompt: { '1': { class_type: 'KSampler', inputs: {} } } });
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.json())).toContain('KSampler');
  });

  it('answers 400 for malformed JSON', async () => {
    const response = await raw(server.port, 'POST', '/prompt', { headers: { 'content-type': 'application/json' }, body: '{"prompt":' });
    expect(response.status).toBe(400);
  });
});

describe('read-only routes', () => {
  it('GET /prompt reports the queue length', async () => {
    expect((await raw(server.port, 'GET', '/api/prompt')).json()).toEqual({ exec_info: { queue_remaining: 0 } });
  });

  it('GET /history is empty, and /history/{id} of an unknown id is {}', async () => {
    expect((await raw(server.port, 'GET', '/history?max_items=5')).json()).toEqual({});
    expect((await raw(server.port, 'GET', '/history/nope')).json()).toEqual({});
  });

  it("GET /object_info lists the five nodes in ComfyUI shape, and ComfyUI's Runway nodes as aliases", async () => {
    const info = (await raw(server.port, 'GET', '/object_info')).json<Record<string, { input: unknown; output: string[]; output_node: boolean }>>();
    expect(Object.keys(info)).toEqual(['LoadImage', 'ValidateImage', 'RunwayI2V', 'Poll', 'SaveVideo', 'RunwayImageToVideoNodeGen3a', 'RunwayImageToVideoNodeGen4']);
    expect(info.SaveVideo!.output_node).toBe(true);
    const one = (await raw(server.port, 'GET', '/api/object_info/RunwayI2V')).json<Record<string, unknown>>();
    expect(Object.keys(one)).toEqual(['RunwayI2V']);
  });

  it('GET /reelgraph/catalog lists providers with their ratios per model', async () => {
    const catalog = (await raw(server.port, 'GET', '/reelgraph/catalog')).json<Record<string, { models: Record<string, { ratios: string[] }> }>>();
    expect(catalog.runway!.models.gen4_turbo!.ratios).toContain('1280:720');
    expect(catalog.runway!.models.gen3a_turbo).toBeUndefined();
  });

  it('answers 405 for a wrong method and 404 for an unknown path', async () => {
    expect((await raw(server.port, 'DELETE', '/queue')).status).toBe(405);
    expect((await raw(server.port, 'GET', '/nothing-here')).status).toBe(404);
  });

  it('POST /queue and /history accept clear and delete', async () => {
    expect((await postJson(server.port, '/queue', { clear: true })).status).toBe(200);
    expect((await postJson(server.port, '/queue', { delete: ['x'] })).status).toBe(200);
    expect((await postJson(server.port, '/history', { clear: true })).status).toBe(200);
  });
});
