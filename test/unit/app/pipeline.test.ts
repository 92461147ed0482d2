import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeRegistry } from '../../../src/nodes/index.js';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import { parseWorkflow } from '../../../src/comfy/index.js';
import { runWorkflow } from '../../../src/app/run.js';
import { makeTempDir } from '../../helpers/fake-context.js';
import { makeImages } from '../../helpers/make-images.js';
import { freePort } from '../../../src/http/free-port.js';

/**
 * The five nodes end to end through the real runtime, against the provider emulator on
 * 127.0.0.1: a data URI for Runway, a FileHost URL the emulator fetches for RunComfy.
 */

let emulator: Emulator;
let tmp: { dir: string; cleanup(): Promise<void> };
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  emulator = await startEmulator({ timing: { queuedMs: 40, runningMs: 80 } });
  tmp = await makeTempDir();
  await mkdir(join(tmp.dir, 'input'));
  await makeImages(join(tmp.dir, 'input'));
  env = {
    RUNWAYML_API_SECRET: `key_${'0'.repeat(128)}`,
    RUNWAYML_BASE_URL: emulator.url,
    RUNCOMFY_API_TOKEN: 'token',
    RUNCOMFY_BASE_URL: emulator.url,
    COMETAPI_KEY: 'key',
    COMETAPI_BASE_URL: emulator.url,
  };
});
afterAll(async () => {
  await emulator.close();
  await tmp.cleanup();
});

function prompt(provider: string, prefix: string) {
  return {
    '1': { class_type: 'LoadImage', inputs: { image: 'photo.png' } },
    '2': { class_type: 'ValidateImage', inputs: { image: ['1', 0] } },
    '3': { class_type: 'RunwayI2V', inputs: { image: ['2', 0], provider, model: 'gen4_turbo', promptText: 'a slow pan', ratio: '1280:720', duration: 5, seed: 7, watermark: false } },
    '4': { class_type: 'Poll', inputs: { task: ['3', 0], interval_s: 0.05, timeout_s: 60 } },
    '5': { class_type: 'SaveVideo', inputs: { video: ['4', 0], filename_prefix: prefix, format: 'auto', codec: 'auto' } },
  };
}

async function run(provider: string, prefix: string, extra: { publicUrl?: string; listen?: string } = {}) {
  const parsed = parseWorkflow(prompt(provider, prefix), createNodeRegistry());
  const outputDir = join(tmp.dir, 'output');
  return runWorkflow(parsed, { inputDir: join(tmp.dir, 'input'), outputDir, env, cache: false, journal: false, metadata: false, ...extra });
}

describe('LoadImage → ValidateImage → RunwayI2V → Poll → SaveVideo', () => {
  it.each(['runway', 'cometapi'] as const)('saves an MP4 from %s, sending the local image as a data URI', async (provider) => {
    const before = emulator.creates(provider);
    const result = await run(provider, `${provider}/clip`);
    expect(result.status === 'success' ? '' : JSON.stringify(result, null, 1)).toBe('');
    expect(emulator.creates(provider) - before).toBe(1);
    expect(emulator.jobs().find((j) => j.provider === provider)?.request.promptImage).toMatch(/^data:image\/png;base64,/);
    const files = await readdir(join(tmp.dir, 'output', provider));
    expect(files).toEqual(['clip_00001_.mp4']);
    const video = await readFile(join(tmp.dir, 'output', provider, files[0]!));
    expect(video.toString('latin1', 4, 8)).toBe('ftyp');
  });

  it('survives an expired video URL and a cut download (fresh URL once, then Range resume)', async () => {
    emulator.setFaults({
      rules: [
        { kind: 'download', nth: 1, action: { type: 'expire-url' } },
        { kind: 'download', nth: 2, action: { type: 'truncate', atFraction: 0.5 } },
      ],
    });
    try {
      const result = await run('runway', 'faults/clip');
      expect(result.status === 'success' ? '' : JSON.stringify(result, null, 1)).toBe('');
    } finally {
      emulator.setFaults({ rules: [] });
    }
    // The third request is a Range resume (206) when part of the cut body reached the disk, else a fresh 200:
    // a tiny video can arrive together with the connection close, and those bytes are discarded.
    const downloads = emulator.log.filter((e) => e.kind === 'download').slice(-3);
    expect(downloads.map((e) => e.fault)).toEqual(['expire-url', 'truncate', undefined]);
    expect(downloads[0]!.status).toBe(403);
    expect([200, 206]).toContain(downloads[2]!.status);
    const video = await readFile(join(tmp.dir, 'output', 'faults', 'clip_00001_.mp4'));
    expect(video.toString('latin1', 4, 8)).toBe('ftyp');
    expect(await readdir(join(tmp.dir, 'output', 'faults'))).toEqual(['clip_00001_.mp4']);
  });

  it('serves the local image through FileHost for runcomfy under --public-url', async () => {
    const port = await freePort();
    const result = await run('runcomfy', 'runcomfy/clip', { publicUrl: `http://127.0.0.1:${port}`, listen: `127.0.0.1:${port}` });
    expect(result.status === 'success' ? '' : JSON.stringify(result, null, 1)).toBe('');
    const job = emulator.jobs().find((j) => j.provider === 'runcomfy');
    expect(job?.request.promptImage).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/f/[0-9a-f]{32}/photo\\.png\\?exp=\\d+&sig=`));
    expect(await readdir(join(tmp.dir, 'output', 'runcomfy'))).toEqual(['clip_00001_.mp4']);
  });

  it('stops runcomfy with a local image at validation when there is no --public-url', async () => {
    const before = emulator.creates();
    const result = await run('runcomfy', 'never/clip');
    expect(result.status).toBe('invalid');
    expect(emulator.creates()).toBe(before);
  });
});
