import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/server/index.js';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import { emulatorEnv } from '../../../src/cli/emulator-env.js';
import { raw, type RawResponse } from '../../helpers/test-server.js';
import { EventClient, writeInputImage } from '../../helpers/server-prompts.js';

/**
 * The built server checks big prompts in a worker thread: its answers are the ones a small prompt gets inline,
 * byte for byte, and a big valid prompt runs as a small one does. Bodies are made big with harmless padding.
 */

// The built server: only its compiled worker script can run in a worker thread (from source, prompts are checked inline).
const { startServer } = (await import('../../../dist/server/index.js' as string)) as typeof import('../../../src/server/index.js');
const { OFF_THREAD_BYTES } = (await import('../../../dist/server/prompt-off-thread.js' as string)) as typeof import('../../../src/server/prompt-off-thread.js');

let emulator: Emulator;
let server: RunningServer;
let root: string;
let inputDir: string;
let port: number;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'reelgraph-big-prompt-'));
  inputDir = join(root, 'input');
  await mkdir(inputDir, { recursive: true });
  emulator = await startEmulator({ timing: { queuedMs: 50, runningMs: 200 } });
  const env = { ...emulatorEnv(emulator.url), REELGRAPH_STATE_DIR: join(root, 'state'), REELGRAPH_CACHE_DIR: join(root, 'cache') };
  server = await startServer({ port: 0, host: '127.0.0.1', inputDir, outputDir: join(root, 'output'), env, cache: false, examplesDir: join(root, 'examples') });
  port = Number(new URL(server.url).port);
});
afterAll(async () => {
  await server?.close();
  await emulator?.close();
  await rm(root, { recursive: true, force: true });
});

const post = (body: string): Promise<RawResponse> => raw(port, 'POST', '/prompt', { headers: { 'content-type': 'application/json' }, body });
/** The same request with an extra_data key that takes it over the off-thread size. */
const padded = (body: Record<string, unknown>) => JSON.stringify({ ...body, extra_data: { ...(body.extra_data as object), padding: 'x'.repeat(OFF_THREAD_BYTES) } });

const missingImage = {
  '3': { class_type: 'RunwayI2V', inputs: { provider: 'runway', model: 'gen4_turbo', promptText: 'a slow pan', ratio: '1280:720', duration: 5, seed: 1 } },
  '4': { class_type: 'Poll', inputs: { task: ['3', 0] } },
  '5': { class_type: 'SaveVideo', inputs: { video: ['4', 0], filename_prefix: 'x' } },
};

describe('POST /prompt of a big prompt (worker thread)', () => {
  it('answers an invalid prompt with the very bytes a small one gets', async () => {
    const small = await post(JSON.stringify({ prompt: missingImage }));
    const big = await post(padded({ prompt: missingImage }));
    expect(small.status).toBe(400);
    expect(big.status).toBe(400);
    expect(big.body.toString()).toBe(small.body.toString());
    expect(Object.keys(big.json<{ node_errors: object }>().node_errors)).toContain('3');
  });

  it('answers a body that is not a workflow, or not JSON, as a small one', async () => {
    for (const [small, big] of [
      [JSON.stringify({ prompt: { '1': { inputs: {} } } }), padded({ prompt: { '1': { inputs: {} } } })],
      ['{"prompt":', `{"prompt":${' '.repeat(OFF_THREAD_BYTES)}`],
    ] as const) {
      const a = await post(small);
      const b = await post(big);
      expect(b.status).toBe(a.status);
      expect(b.status).toBe(400);
      expect(b.body.toString()).toBe(a.body.toString());
    }
  });

  it('runs a big valid prompt (ComfyUI Runway nodes, mapped) and keeps it as posted in the history', async () => {
    const image = await writeInputImage(inputDir, 'big.png');
    const prompt = {
      '4': { class_type: 'LoadImage', inputs: { image, upload: 'image' } },
      '8': { class_type: 'RunwayImageToVideoNodeGen3a', inputs: { prompt: 'Fog over a ridge', duration: 5, ratio: '1280:768', seed: 7, start_frame: ['4', 0] } },
      '6': { class_type: 'SaveVideo', inputs: { filename_prefix: 'video/big', format: 'auto', codec: 'auto', video: ['8', 0] } },
    };
    const events = await EventClient.connect(server.url, 'big');
    try {
      const response = await post(padded({ prompt, client_id: 'big', extra_data: { reelgraph_provider: 'cometapi' } }));
      expect(response.status).toBe(200);
      const { prompt_id: promptId } = response.json<{ prompt_id: string }>();
      await events.finished(promptId);
      const history = (await raw(port, 'GET', `/history/${promptId}`)).json<Record<string, { prompt: unknown[]; status: { status_str: string } }>>();
      expect(history[promptId]!.status.status_str).toBe('success');
      expect(history[promptId]!.prompt[2]).toEqual(prompt);
      expect(history[promptId]!.prompt[4]).toEqual(['6']);
    } finally {
      events.close();
    }
  });
});
