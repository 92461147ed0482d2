import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import { emulatorEnv } from '../../../src/cli/emulator-env.js';
import { postJson, raw, startTestServer, type TestServer } from '../../helpers/test-server.js';
import { EventClient, writeInputImage } from '../../helpers/server-prompts.js';

/**
 * ComfyUI's exported Gen3a prompt, posted unchanged: refused on Runway with the retirement sentence, run on the
 * provider chosen in extra_data.reelgraph_provider; history keeps the prompt as posted and /api/jobs lists the job.
 */

let emulator: Emulator;
let server: TestServer;
beforeAll(async () => {
  emulator = await startEmulator({ timing: { queuedMs: 50, runningMs: 200 } });
  server = await startTestServer(emulatorEnv(emulator.url));
});
afterAll(async () => {
  await server?.close();
  await emulator?.close();
});

const gen3aPrompt = (image: string) => ({
  '4': { class_type: 'LoadImage', inputs: { image, upload: 'image' }, _meta: { title: 'Load Image' } },
  '8': {
    class_type: 'RunwayImageToVideoNodeGen3a',
    inputs: { prompt: 'Fog rolls over a pine ridge at dawn', duration: 5, ratio: '1280:768', seed: 99, start_frame: ['4', 0] },
    _meta: { title: 'Runway Image to Video (Gen3a Turbo)' },
  },
  '6': { class_type: 'SaveVideo', inputs: { filename_prefix: 'video/gen3a', format: 'auto', codec: 'auto', video: ['8', 0] }, _meta: { title: 'Save Video' } },
});

describe('provider choice through the API', () => {
  it('the Gen3a prompt on the default provider (runway) is refused with what Runway retired and who still offers it', async () => {
    const image = await writeInputImage(server.inputDir, 'g3.png');
    const response = await postJson(server.port, '/prompt', { prompt: gen3aPrompt(image) });
    expect(response.status).toBe(400);
    const body = response.json<{ node_errors: Record<string, { errors: { details: string }[] }> }>();
    expect(body.node_errors['8']!.errors[0]!.details).toContain('Runway retired Gen-3 Alpha Turbo (gen3a_turbo) and first/last-frame video on 2026-07-30');
  });

  it('an unknown provider in extra_data is a 400 naming the key', async () => {
    const response = await postJson(server.port, '/prompt', { prompt: gen3aPrompt('g3.png'), extra_data: { reelgraph_provider: 'nope' } });
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.json())).toContain('extra_data.reelgraph_provider must be one of');
  });

  it('extra_data.reelgraph_provider = cometapi runs it there; history and /api/jobs keep the prompt as posted', async () => {
    const image = await writeInputImage(server.inputDir, 'g3.png');
    const events = await EventClient.connect(server.url, 'chooser');
    try {
      const posted = gen3aPrompt(image);
      const before = emulator.creates('cometapi');
      const response = await postJson(server.port, '/prompt', { prompt: posted, client_id: 'chooser', extra_data: { reelgraph_provider: 'cometapi' } });
      expect(response.status).toBe(200);
      const { prompt_id: promptId } = response.json<{ prompt_id: string }>();
      await events.finished(promptId);
      expect(emulator.creates('cometapi') - before).toBe(1);
      expect(emulator.jobs().at(-1)!.request).toMatchObject({ model: 'gen3a_turbo', promptText: 'Fog rolls over a pine ridge at dawn', ratio: '1280:768', duration: 5, seed: 99 });

      const history = (await raw(server.port, 'GET', `/history/${promptId}`)).json<Record<string, { prompt: unknown[]; status: { status_str: string } }>>();
      expect(history[promptId]!.status.status_str).toBe('success');
      expect(history[promptId]!.prompt[2]).toEqual(posted);

      const list = (await raw(server.port, 'GET', '/api/jobs?status=completed')).json<{ jobs: { id: string; status: string; outputs_count: number }[] }>();
      expect(list.jobs.find((job) => job.id === promptId)).toMatchObject({ status: 'completed', outputs_count: 1 });
      const job = (await raw(server.port, 'GET', `/api/jobs/${promptId}`)).json<{ workflow: { prompt: unknown }; execution_status: { status_str: string }; preview_output: { filename: string } }>();
      expect(job.workflow.prompt).toEqual(posted);
      expect(job.execution_status.status_str).toBe('success');

      // /view_metadata answers from the saved MP4's own metadata.
      const meta = await raw(server.port, 'GET', `/view_metadata/output?filename=${encodeURIComponent(`video/${job.preview_output.filename}`)}`);
      expect(meta.status).toBe(200);
      expect(JSON.parse(meta.json<{ prompt: string }>().prompt)).toHaveProperty('8');
    } finally {
      events.close();
    }
  });
});
