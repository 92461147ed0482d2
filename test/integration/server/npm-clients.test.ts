import { Client } from '@stable-canvas/comfyui-client';
import { ComfyUIClient } from 'comfy-ui-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import { startTestServer, type TestServer } from '../../helpers/test-server.js';
import { RUNWAY_KEY, fiveNodePrompt, writeInputImage } from '../../helpers/server-prompts.js';

/** Two ComfyUI clients from npm, unchanged, drive `serve` end to end: queue, hear completion, read history, fetch the MP4. */

let emulator: Emulator;
let server: TestServer;
beforeAll(async () => {
  emulator = await startEmulator({ timing: { queuedMs: 50, runningMs: 200 } });
  server = await startTestServer({ RUNWAYML_BASE_URL: emulator.url, RUNWAYML_API_SECRET: RUNWAY_KEY });
});
afterAll(async () => {
  await server?.close();
  await emulator?.close();
});

const isMp4 = (bytes: Uint8Array) => Buffer.from(bytes.subarray(4, 8)).toString('latin1') === 'ftyp';

describe('npm ComfyUI clients against reelgraph serve', () => {
  it('@stable-canvas/comfyui-client: enqueue waits for the result and its URL serves the MP4', async () => {
    const image = await writeInputImage(server.inputDir, 'stable.png');
    const client = new Client({ api_host: `127.0.0.1:${server.port}`, clientId: 'stable-canvas', WebSocket, fetch });
    await client.connect({ websocket: { enabled: true } });
    try {
      const before = emulator.creates();
      const result = await client.enqueue(fiveNodePrompt(image, { prefix: 'npm/stable' }), { disable_random_seed: true, timeout_ms: 60_000 });
      expect(emulator.creates() - before).toBe(1);
      expect(result.images).toHaveLength(1);
      const output = result.images[0]!;
      expect(output.type).toBe('url');
      const response = await fetch(output.data as string);
      expect(response.status).toBe(200);
      expect(isMp4(new Uint8Array(await response.arrayBuffer()))).toBe(true);
      // The client read this history entry to find the output; it is complete.
      const history = (await (await fetch(`${server.url}/history/${result.prompt_id}`)).json()) as Record<string, { status: { status_str: string } }>;
      expect(history[result.prompt_id]!.status.status_str).toBe('success');
    } finally {
      client.disconnect();
    }
  });

  it('comfy-ui-client: getImages queues, waits for executing with node null, reads history and fetches each output', async () => {
    const image = await writeInputImage(server.inputDir, 'plain.png');
    const client = new ComfyUIClient(`127.0.0.1:${server.port}`, 'comfy-ui-client');
    await client.connect();
    try {
      const before = emulator.creates();
      const outputs = await client.getImages(fiveNodePrompt(image, { prefix: 'npm/plain', prompt: 'a second clip' }) as never);
      expect(emulator.creates() - before).toBe(1);
      const files = Object.values(outputs).flat();
      expect(files).toHaveLength(1);
      expect(files[0]!.image.filename).toMatch(/\.mp4$/);
      expect(isMp4(new Uint8Array(await files[0]!.blob.arrayBuffer()))).toBe(true);
      const queue = await client.getQueue();
      expect(queue).toEqual({ queue_running: [], queue_pending: [] });
    } finally {
      await client.disconnect();
    }
  });
});
