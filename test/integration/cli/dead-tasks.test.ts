import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import { fastPoll, listFiles, makeSandbox, placeWorkflow, readExample, requireBuiltCli, runCli, startCli, type Sandbox } from '../../helpers/cli-sandbox.js';

/**
 * A cached TASK handle is reused only while its task can still deliver: after the provider
 * reports it failed, or no longer knows it, running the workflow again submits a new job
 * (once), instead of polling a dead task forever.
 */

let emulator: Emulator;
let box: Sandbox;
beforeAll(async () => {
  requireBuiltCli();
  emulator = await startEmulator({ port: 0, timing: { queuedMs: 100, runningMs: 400 } });
});
afterAll(() => emulator.close());

describe('dead tasks are not reused from the cache', () => {
  it('a failed generation is submitted again on the next run, once per run', async () => {
    box = await makeSandbox(emulator.url);
    try {
      const workflow = fastPoll(await readExample('runway-gen4-turbo.json'));
      workflow.nodes.find((node) => node.type === 'RunwayI2V')!.widgets_values = ['runway', 'gen4_turbo', 'dolly in [fail]', '1280:720', 5, 3, 'fixed', false];
      const file = await placeWorkflow(box, 'failing.json', workflow);
      const before = emulator.creates();

      const first = await runCli(['run', file, '--output-dir', box.output], box);
      expect(first.code).toBe(1);
      expect(first.stderr).toMatch(/Node "4" \(Poll\): runway task .* failed/);
      expect(emulator.creates() - before).toBe(1);

      const second = await runCli(['run', file, '--output-dir', box.output], box);
      expect(second.code).toBe(1);
      expect(emulator.creates() - before).toBe(2);
    } finally {
      await box.cleanup();
    }
  });

  it('a task the provider no longer knows (404) fails once, then the next run submits a new job', async () => {
    box = await makeSandbox(emulator.url);
    try {
      const file = await placeWorkflow(box, 'lost.json', fastPoll(await readExample('runway-gen4-turbo.json')));
      const killed = startCli(['run', file, '--json', '--output-dir', box.output], box);
      await killed.waitForLine((line) => line.includes('"phase"'));
      killed.child.kill('SIGKILL');
      await killed.done;
      emulator.reset(); // the provider forgets every task

      const lost = await runCli(['run', file, '--output-dir', box.output], box);
      expect(lost.code).toBe(1);
      expect(lost.stderr).toMatch(/no longer knows this task \(HTTP 404\)/);

      const fresh = await runCli(['run', file, '--output-dir', box.output], box);
      expect(fresh.code, fresh.stderr).toBe(0);
      expect(emulator.creates()).toBe(1); // reset cleared the log: this is the new job
      expect((await listFiles(box.output)).filter((path) => path.endsWith('.mp4'))).toHaveLength(1);
    } finally {
      await box.cleanup();
    }
  });
});
