import { mkdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import { postJson, raw, startTestServer, type TestServer } from '../../helpers/test-server.js';
import { EventClient, RUNWAY_KEY, fiveNodePrompt, writeInputImage } from '../../helpers/server-prompts.js';

let emulator: Emulator;
let server: TestServer;
let image: string;

beforeAll(async () => {
  emulator = await startEmulator({ timing: { queuedMs: 50, runningMs: 150 } });
  server = await startTestServer({ RUNWAYML_BASE_URL: emulator.url, RUNWAYML_API_SECRET: RUNWAY_KEY });
  await mkdir(server.inputDir, { recursive: true });
  image = await writeInputImage(server.inputDir);
});

afterAll(async () => {
  await server?.close();
  await emulator?.close();
});

type HistoryEntry = {
  prompt: [number, string, unknown, Record<string, unknown>, string[]];
  outputs: Record<string, { images?: { filename: string; subfolder: string; type: string }[] }>;
  status: { status_str: string; completed: boolean; messages: [string, unknown][] };
};

describe('a queued prompt', () => {
  it('streams ComfyUI events to its client, lands in history and serves the video', async () => {
    const owner = await EventClient.connect(server.url, 'owner');
    const other = await EventClient.connect(server.url, 'other');
    const body = {
      prompt: fiveNodePrompt(image),
      client_id: 'owner',
      extra_data: { api_key_comfy_org: 'sk-should-vanish', extra_pnginfo: { workflow: { nodes: [], links: [] } } },
    };
    const queued = await postJson(server.port, '/prompt', body);
    expect(queued.status).toBe(200);
    const { prompt_id: promptId, number, node_errors } = queued.json<{ prompt_id: string; number: number; node_errors: object }>();
    expect(typeof number).toBe('number');
    expect(node_errors).toEqual({});
    await owner.finished(promptId);

    const types = owner.of(promptId).map((m) => m.type);
    expect(types[0]).toBe('execution_start');
    expect(types).toContain('executed');
    expect(types.indexOf('execution_success')).toBeLessThan(types.lastIndexOf('executing'));
    const executing = owner.of(promptId).filter((m) => m.type === 'executing' && m.data.node !== null).map((m) => m.data.node);
    expect(executing).toEqual(expect.arrayContaining(['1', '2', '3', '4', '5']));
    // Lifecycle events reach only the client that queued the prompt.
    expect(other.of(promptId).some((m) => m.type === 'execution_start' || m.type === 'executed')).toBe(false);
    expect(other.messages.some((m) => m.type === 'status')).toBe(true);

    const history = (await raw(server.port, 'GET', `/history/${promptId}`)).json<Record<string, HistoryEntry>>();
    const entry = history[promptId]!;
    expect(entry.status.status_str).toBe('success');
    expect(entry.status.completed).toBe(true);
    expect(entry.status.messages.map(([type]) => type)).toEqual(expect.arrayContaining(['execution_start', 'execution_success']));
    expect(JSON.stringify(entry)).not.toContain('sk-should-vanish');
    expect(entry.prompt[3]).toHaveProperty('extra_pnginfo');
    expect(entry.prompt[4]).toEqual(['5']);
    const file = entry.outputs['5']!.images![0]!;
    expect(file.type).toBe('output');
    const video = await raw(server.port, 'GET', `/view?filename=${encodeURIComponent(file.filename)}&subfolder=${encodeURIComponent(file.subfolder)}&type=output`);
    expect(video.status).toBe(200);
    expect(video.headers['content-type']).toBe('video/mp4');
    expect(video.body.subarray(4, 8).toString('latin1')).toBe('ftyp');
    expect(emulator.creates('runway')).toBe(1);
    owner.close();
    other.close();
  });

  it('is interrupted by POST /interrupt, and a waiting prompt can be deleted', async () => {
    emulator.configure({ timing: { queuedMs: 60_000, runningMs: 60_000 } });
    const client = await EventClient.connect(server.url, 'slow');
    const first = (await postJson(server.port, '/prompt', { prompt: fiveNodePrompt(image, { prompt: 'first' }), client_id: 'slow' })).json<{ prompt_id: string }>();
    const second = (await postJson(server.port, '/prompt', { prompt: fiveNodePrompt(image, { prompt: 'second' }), client_id: 'slow' })).json<{ prompt_id: string }>();
    await client.next((m) => m.type === 'executing' && m.data.node === '4' && m.data.prompt_id === first.prompt_id);

    const queue = (await raw(server.port, 'GET', '/queue')).json<{ queue_running: unknown[][]; queue_pending: unknown[][] }>();
    expect(queue.queue_running.map((item) => item[1])).toEqual([first.prompt_id]);
    expect(queue.queue_pending.map((item) => item[1])).toEqual([second.prompt_id]);
    expect((await raw(server.port, 'GET', '/prompt')).json()).toEqual({ exec_info: { queue_remaining: 2 } });

    await postJson(server.port, '/queue', { delete: [second.prompt_id] });
    await postJson(server.port, '/interrupt', { prompt_id: first.prompt_id });
    await client.finished(first.prompt_id);
    expect(client.of(first.prompt_id).some((m) => m.type === 'execution_interrupted')).toBe(true);
    const entry = (await raw(server.port, 'GET', `/history/${first.prompt_id}`)).json<Record<string, HistoryEntry>>()[first.prompt_id]!;
    expect(entry.status.status_str).toBe('error');
    expect(entry.status.completed).toBe(false);
    expect((await raw(server.port, 'GET', `/history/${second.prompt_id}`)).json()).toEqual({});
    expect((await raw(server.port, 'GET', '/queue')).json()).toEqual({ queue_running: [], queue_pending: [] });
    client.close();
    emulator.configure({ timing: { queuedMs: 50, runningMs: 150 } });
  });

  it('keeps max_items newest history entries and deletes by id', async () => {
    const all = (await raw(server.port, 'GET', '/history')).json<Record<string, HistoryEntry>>();
    const ids = Object.keys(all);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    expect(Object.keys((await raw(server.port, 'GET', '/history?max_items=1')).json<object>())).toEqual([ids.at(-1)]);
    await postJson(server.port, '/history', { delete: [ids[0]] });
    expect(Object.keys((await raw(server.port, 'GET', '/history')).json<object>())).not.toContain(ids[0]);
  });
});
