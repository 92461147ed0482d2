import { ComfyApi, CallWrapper, PromptBuilder, type NodeData, type WebSocketInterface } from '@saintno/comfyui-sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import { startTestServer, type TestServer } from '../../helpers/test-server.js';
import { RUNWAY_KEY, fiveNodePrompt, writeInputImage } from '../../helpers/server-prompts.js';

/** An existing ComfyUI client from npm, unchanged, drives our server end to end. */

let emulator: Emulator;
let server: TestServer;
let api: ComfyApi | undefined;

beforeAll(async () => {
  emulator = await startEmulator({ timing: { queuedMs: 50, runningMs: 200 } });
  server = await startTestServer({ RUNWAYML_BASE_URL: emulator.url, RUNWAYML_API_SECRET: RUNWAY_KEY });
});

afterAll(async () => {
  api?.destroy();
  await server?.close();
  await emulator?.close();
});

it('@saintno/comfyui-sdk queues a workflow, hears its progress and gets the video output', async () => {
  const image = await writeInputImage(server.inputDir);
  api = new ComfyApi(server.url, 'sdk-client', { customWebSocketImpl: WebSocket as unknown as WebSocketInterface, forceWs: true });
  await api.init(5, 200).waitForReady();

  const workflow = new PromptBuilder(withTitles(fiveNodePrompt(image)), ['prompt'], ['video'])
    .setInputNode('prompt', '3.inputs.promptText')
    .setOutputNode('video', '5')
    .input('prompt', 'queued from the ComfyUI SDK');
  const started: string[] = [];
  const progressed: string[] = [];
  const result = await new Promise<Record<string, unknown>>((resolve, reject) => {
    new CallWrapper(api!, workflow)
      .onStart((promptId) => started.push(String(promptId)))
      .onProgress((info) => progressed.push(String(info.node)))
      .onFinished((data) => resolve(data as Record<string, unknown>))
      .onFailed((error) => reject(error))
      .run()
      .catch(reject);
  });

  expect(started).toHaveLength(1);
  expect(progressed.length).toBeGreaterThan(0);
  const video = result.video as { images: { filename: string; subfolder: string; type: string }[] };
  const file = video.images[0]!;
  expect(file.filename).toMatch(/\.mp4$/);
  const response = await fetch(api.getPathImage(file));
  expect(response.status).toBe(200);
  expect(Buffer.from(await response.arrayBuffer()).subarray(4, 8).toString('latin1')).toBe('ftyp');
  const history = await api.getHistory(started[0]!);
  expect(history?.status?.completed).toBe(true);
  expect(emulator.log.some((entry) => entry.path.includes('/v1/tasks/'))).toBe(true);
});

/** The SDK's NodeData type wants ComfyUI's `_meta.title` on every node. */
function withTitles(prompt: Record<string, unknown>): NodeData {
  return Object.fromEntries(Object.entries(prompt).map(([id, node]) => [id, { ...(node as object), _meta: { title: id } }])) as NodeData;
}
