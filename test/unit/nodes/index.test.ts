import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeRegistry, nodes } from '../../../src/nodes/index.js';
import { formatIssue } from '../../../src/engine/errors.js';
import { apiToGraph, type ApiPrompt } from '../../../src/comfy/index.js';
import { validateGraph } from '../../../src/engine/validate.js';
import { makeTempDir } from '../../helpers/fake-context.js';
import { makeImages, writePngHeader } from '../../helpers/make-images.js';

let tmp: { dir: string; cleanup(): Promise<void> };
let inputDir: string;
beforeAll(async () => {
  tmp = await makeTempDir();
  inputDir = join(tmp.dir, 'input');
  await mkdir(inputDir);
  await makeImages(inputDir);
  await writePngHeader(join(inputDir, 'wide.png'), 3000, 1000);
});
afterAll(() => tmp.cleanup());

function pipeline(image: string, provider: string): ApiPrompt {
  return {
    '1': { class_type: 'LoadImage', inputs: { image } },
    '2': { class_type: 'ValidateImage', inputs: { image: ['1', 0] } },
    '3': { class_type: 'RunwayI2V', inputs: { image: ['2', 0], provider, model: 'gen4_turbo', promptText: 'a cat', ratio: '1280:720', duration: 5, seed: 1, watermark: false } },
    '4': { class_type: 'Poll', inputs: { task: ['3', 0], interval_s: 5, timeout_s: 1800 } },
    '5': { class_type: 'SaveVideo', inputs: { video: ['4', 0], filename_prefix: 'reelgraph/video', format: 'auto', codec: 'auto' } },
  } as ApiPrompt;
}

const keys = { RUNWAYML_API_SECRET: 'k', COMETAPI_KEY: 'k', RUNCOMFY_API_TOKEN: 'k' };
const validate = (prompt: ApiPrompt) => validateGraph(apiToGraph(prompt), createNodeRegistry(), { files: { inputDir, outputDir: join(tmp.dir, 'out') }, env: keys });

describe('the node set in the runtime', () => {
  it('registers the five nodes in menu order', () => {
    expect(nodes.map((n) => n.type)).toEqual(['LoadImage', 'ValidateImage', 'RunwayI2V', 'Poll', 'SaveVideo']);
    expect(createNodeRegistry().list()).toHaveLength(5);
  });

  it('validates a good pipeline with no issues', async () => {
    const result = await validate(pipeline('photo.png', 'runway'));
    expect(result.issues.map(formatIssue)).toEqual([]);
  });

  it('stops a bad image at validation, naming node, field, value and limit', async () => {
    const result = await validate(pipeline('wide.png', 'runway'));
    expect(result.issues.map(formatIssue)).toEqual([
      'Node "2" (ValidateImage) image: Unsupported aspect ratio: "wide.png": aspect ratio 3.00 (3000×1000) is outside 1:2..2:1 (exclusive) for runway gen4_turbo',
    ]);
  });

  it('sees the local LoadImage through ValidateImage for runcomfy without --public-url', async () => {
    const result = await validate(pipeline('photo.png', 'runcomfy'));
    expect(result.issues.map((i) => [i.nodeId, i.field, i.message])).toEqual([['3', 'image', 'Local image needs a public URL']]);
  });
});
