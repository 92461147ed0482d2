import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import { listFiles, makeSandbox, placeWorkflow, requireBuiltCli, runCli } from '../../helpers/cli-sandbox.js';

/**
 * One failing branch stops only itself: the built CLI against the emulator, three branches from one image, the middle
 * one's task ends FAILED. The other two deliver their MP4s, nothing is cancelled, and the run exits 1 naming the failure.
 */

let emulator: Emulator;
beforeAll(async () => {
  requireBuiltCli();
  emulator = await startEmulator({ port: 0, timing: { queuedMs: 100, runningMs: 400 } });
});
afterAll(() => emulator.close());

/** LoadImage feeding three RunwayI2V → Poll → SaveVideo branches; the emulator fails a task whose prompt says [fail]. */
function threeBranches(failing: number): Record<string, unknown> {
  const prompt: Record<string, unknown> = { '1': { class_type: 'LoadImage', inputs: { image: 'images/sunset.jpg' } } };
  for (let branch = 0; branch < 3; branch++) {
    const id = (k: number) => String(10 * (branch + 1) + k);
    const text = branch === failing ? 'harbour at dusk [fail]' : `harbour at dusk, take ${branch}`;
    prompt[id(1)] = { class_type: 'RunwayI2V', inputs: { image: ['1', 0], provider: 'runway', model: 'gen4_turbo', promptText: text, ratio: '1280:720', duration: 5, seed: branch } };
    prompt[id(2)] = { class_type: 'Poll', inputs: { task: [id(1), 0], interval_s: 0.05, timeout_s: 120 } };
    prompt[id(3)] = { class_type: 'SaveVideo', inputs: { video: [id(2), 0], filename_prefix: `branch-${branch}` } };
  }
  return prompt;
}

describe('failure isolation in a run', () => {
  it.each([
    ['by default', []],
    ['with --fail-fast (what runs still finishes, nothing is cancelled)', ['--fail-fast']],
  ] as [string, string[]][])('a failed branch stops only its own SaveVideo %s', async (_name, extra) => {
    const box = await makeSandbox(emulator.url);
    try {
      emulator.reset();
      const file = await placeWorkflow(box, 'three.json', JSON.stringify(threeBranches(1)));
      const result = await runCli(['run', file, '--json', '--no-cache', '--output-dir', box.output, ...extra], box);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(/Failed: Node "22" \(Poll\): runway task .* failed/);
      expect(result.stderr).toMatch(extra.length === 0 ? /Not run because of the failure: 23\n/ : /Not run because of the failure: .*\b23\b/);
      const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; data: Record<string, unknown> });
      expect(events.filter((e) => e.type === 'execution_error').map((e) => e.data.node_id)).toEqual(['22']);
      expect(events.at(-1)).toMatchObject({ type: 'executing', data: { node: null } });
      if (extra.length === 0) {
        expect((await listFiles(box.output)).filter((path) => path.endsWith('.mp4'))).toHaveLength(2);
        expect(emulator.creates()).toBe(3);
      }
      expect(emulator.log.filter((entry) => entry.kind === 'cancel')).toEqual([]);
    } finally {
      await box.cleanup();
    }
  });
});
