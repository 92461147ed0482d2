import { readFile } from 'node:fs/promises';
import { ALL_FORMATS, BufferSource, Input } from 'mediabunny';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import type { RunEvent } from '../../../src/engine/events.js';
import { fastPoll, listFiles, makeSandbox, placeWorkflow, readExample, requireBuiltCli, runCli, type Sandbox } from '../../helpers/cli-sandbox.js';
import { freePort } from '../../../src/http/free-port.js';

/**
 * Issue 3's main path: each provider × model workflow through the built CLI against the
 * emulator, and the MP4 checked with a real parser (duration, frame size for the ratio).
 */

let emulator: Emulator;
beforeAll(async () => {
  requireBuiltCli();
  emulator = await startEmulator({ port: 0, timing: { queuedMs: 100, runningMs: 300 } });
});
afterAll(() => emulator.close());

const CASES = [
  { provider: 'runway', model: 'gen4_turbo', ratio: '1280:720', duration: 5 },
  { provider: 'runway', model: 'gen4_turbo', ratio: '720:1280', duration: 10 },
  { provider: 'cometapi', model: 'gen3a_turbo', ratio: '1280:768', duration: 5 },
  { provider: 'cometapi', model: 'gen4_turbo', ratio: '960:960', duration: 5 },
  { provider: 'runcomfy', model: 'gen4_turbo', ratio: '1584:672', duration: 5 },
  { provider: 'runcomfy', model: 'gen3a_turbo', ratio: '768:1280', duration: 10 },
] as const;

describe('reelgraph run, each provider and model, against the emulator', () => {
  it.each(CASES)('$provider $model $ratio $duration s', async ({ provider, model, ratio, duration }) => {
    const box = await makeSandbox(emulator.url);
    try {
      const workflow = fastPoll(await readExample('runway-gen4-turbo.json'));
      const i2v = workflow.nodes.find((node) => node.type === 'RunwayI2V')!;
      i2v.widgets_values = [provider, model, 'The camera glides over the bay at sunset', ratio, duration, 7, 'fixed', false];
      const file = await placeWorkflow(box, 'wf.json', workflow);
      const before = emulator.creates();
      const args = ['run', file, '--json', '--output-dir', box.output];
      if (provider === 'runcomfy') args.push('--public-url', `http://127.0.0.1:${await freePort()}`);
      const result = await runCli(args, box);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);

      const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as RunEvent);
      expect(events[0]!.type).toBe('execution_start');
      expect(events.some((event) => event.type === 'progress' && event.data.node === '4')).toBe(true);
      expect(events.at(-2)!.type).toBe('execution_success');
      expect(emulator.creates() - before).toBe(1);

      const videos = (await listFiles(box.output)).filter((path) => path.endsWith('.mp4'));
      expect(videos).toHaveLength(1);
      expect(videos[0]).toMatch(/_00001_\.mp4$/);
      const { seconds, width, height } = await probe(videos[0]!);
      expect(seconds).toBeCloseTo(duration, 0);
      const [w, h] = ratio.split(':').map(Number) as [number, number];
      expect(width / height).toBeCloseTo(w / h, 1);
    } finally {
      await box.cleanup();
    }
  });
});

async function probe(path: string) {
  const input = new Input({ source: new BufferSource(await readFile(path)), formats: ALL_FORMATS });
  const track = (await input.getPrimaryVideoTrack())!;
  expect(await track.getCodecParameterString()).toMatch(/^avc1/);
  return { seconds: await input.computeDuration(), width: track.displayWidth, height: track.displayHeight };
}

export type { Sandbox };
