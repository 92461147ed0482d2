import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import { fastPoll, listFiles, makeSandbox, placeWorkflow, readExample, requireBuiltCli, runCli } from '../../helpers/cli-sandbox.js';
import { writePaddedPng } from '../../helpers/make-images.js';

/**
 * Every published limit stops the run before anything is submitted: exit 2, a message that
 * names the node, the field and the limit, and zero creates in the emulator's log.
 */

let emulator: Emulator;
beforeAll(async () => {
  requireBuiltCli();
  emulator = await startEmulator({ port: 0 });
});
afterAll(() => emulator.close());

const solid = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: { r: 90, g: 60, b: 30 } } });
const MB = 1024 * 1024;

interface Case {
  name: string;
  /** Writes images/input.* into the folder and returns its name. */
  image?: (dir: string) => Promise<string>;
  i2v?: unknown[];
  dropEnv?: string;
  /** RunComfy takes URLs only: the local file is served at --public-url, so the 16 MB URL limit applies. */
  byUrl?: boolean;
  /** Sizes and pixels are fitted by default (issue 12); --image-fit off keeps today's refusals. */
  fitOff?: boolean;
  expected: RegExp;
}

/** A whole PNG padded to `extra` more bytes with a private chunk before IEND (zeros after IEND would read as a cut-off file). */
async function paddedPng(dir: string, extra: number): Promise<string> {
  const source = join(dir, 'small.png');
  await writeFile(source, await solid(640, 480).png().toBuffer());
  const size = (await readFile(source)).length;
  await writePaddedPng(source, join(dir, 'input.png'), size + extra, size);
  return 'input.png';
}

const CASES: Case[] = [
  { name: 'format: GIF', image: write('input.gif', () => solid(64, 64).gif().toBuffer()), expected: /Node "2" \(ValidateImage\).*image.*gif/i },
  {
    name: 'size: 17 MB by URL (16 MB)',
    image: (dir) => paddedPng(dir, 17 * MB),
    byUrl: true,
    fitOff: true,
    expected: /Node "2" \(ValidateImage\).*16(\.00)? MB/,
  },
  {
    name: 'size: 6 MB as a data URI (5 MB) for cometapi',
    image: (dir) => paddedPng(dir, 6 * MB),
    i2v: ['cometapi', 'gen4_turbo', 'waves', '1280:720', 5, 1, 'fixed', false],
    fitOff: true,
    expected: /Node "2" \(ValidateImage\).*data URI.*5(\.00)? MB/,
  },
  { name: 'width: 8000 px', image: write('input.png', () => solid(8000, 5000).png().toBuffer()), fitOff: true, expected: /Node "2" \(ValidateImage\).*8000/ },
  { name: 'height: 8000 px', image: write('input.png', () => solid(5000, 8000).png().toBuffer()), fitOff: true, expected: /Node "2" \(ValidateImage\).*8000/ },
  { name: 'aspect: exactly 1:2', image: write('input.png', () => solid(500, 1000).png().toBuffer()), expected: /Node "2" \(ValidateImage\).*aspect/i },
  { name: 'aspect: exactly 2:1', image: write('input.png', () => solid(1000, 500).png().toBuffer()), expected: /Node "2" \(ValidateImage\).*aspect/i },
  {
    name: 'prompt: 1001 characters for gen4_turbo (1000)',
    i2v: ['runway', 'gen4_turbo', 'x'.repeat(1001), '1280:720', 5, 1, 'fixed', false],
    expected: /Node "3" \(RunwayI2V\) promptText.*1000/,
  },
  {
    name: 'prompt: 513 characters for gen3a_turbo (512)',
    i2v: ['cometapi', 'gen3a_turbo', 'x'.repeat(513), '1280:768', 5, 1, 'fixed', false],
    expected: /Node "3" \(RunwayI2V\) promptText.*512/,
  },
  {
    name: 'prompt: required for RunComfy gen3a_turbo (CometAPI documents it optional)',
    i2v: ['runcomfy', 'gen3a_turbo', '   ', '1280:768', 5, 1, 'fixed', false],
    expected: /Node "3" \(RunwayI2V\) promptText/,
  },
  {
    name: 'ratio: 1280:768 is not offered by gen4_turbo',
    i2v: ['runway', 'gen4_turbo', 'waves', '1280:768', 5, 1, 'fixed', false],
    expected: /Node "3" \(RunwayI2V\) ratio.*1280:768/,
  },
  {
    name: 'model: gen3a_turbo is not offered by runway',
    i2v: ['runway', 'gen3a_turbo', 'waves', '1280:768', 5, 1, 'fixed', false],
    expected: /Node "3" \(RunwayI2V\) model.*gen3a_turbo/,
  },
  { name: 'key: RUNWAYML_API_SECRET missing', dropEnv: 'RUNWAYML_API_SECRET', expected: /Node "3" \(RunwayI2V\).*RUNWAYML_API_SECRET/ },
];

describe('limits are enforced before anything is submitted', () => {
  it.each(CASES)('$name', async ({ image, i2v, dropEnv, byUrl, fitOff, expected }) => {
    const box = await makeSandbox(emulator.url);
    try {
      const workflow = fastPoll(await readExample('runway-gen4-turbo.json'));
      if (image) {
        const name = await image(join(box.work));
        workflow.nodes.find((node) => node.type === 'LoadImage')!.widgets_values = [name, 'image'];
      }
      if (i2v) workflow.nodes.find((node) => node.type === 'RunwayI2V')!.widgets_values = i2v;
      if (byUrl) workflow.nodes.find((node) => node.type === 'RunwayI2V')!.widgets_values = ['runcomfy', 'gen4_turbo', 'waves', '1280:720', 5, 1, 'fixed', false];
      const file = await placeWorkflow(box, 'wf.json', workflow);
      const env = { ...box.env };
      if (dropEnv) delete env[dropEnv];
      const before = emulator.creates();

      const args = ['run', file, '--output-dir', box.output];
      if (byUrl) args.push('--public-url', 'http://127.0.0.1:9');
      if (fitOff) args.push('--image-fit', 'off');
      const result = await runCli(args, box, env);

      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(expected);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(emulator.creates() - before).toBe(0);
      expect(await listFiles(box.output)).toEqual([]);
    } finally {
      await box.cleanup();
    }
  });
});

function write(name: string, bytes: () => Promise<Buffer>) {
  return async (dir: string) => {
    await writeFile(join(dir, name), await bytes());
    return name;
  };
}
