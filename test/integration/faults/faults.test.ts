import { describe, expect, it } from 'vitest';
import type { EmulatorOptions, FaultRule } from '../../../src/emulator/index.js';
import { fastPoll, listFiles, mp4Duration, placeWorkflow, readExample, runCli, useCliSandbox } from '../../helpers/cli-sandbox.js';

/**
 * Fault injection through the real CLI: whatever the provider or the network does, a job is
 * created at most once, a finished file is a complete MP4, and no partial file is left behind.
 */

interface Scenario {
  name: string;
  example: string;
  rules: FaultRule[];
  options?: Partial<EmulatorOptions>;
  /** Poll's widgets: [interval_s, timeout_s]. */
  poll?: [number, number];
  exit: number;
  message?: RegExp;
  /** Run the same workflow again without faults: it must finish on the job that already exists. */
  rerun?: { exit: number; message?: RegExp };
}

const FAST = { timing: { queuedMs: 150, runningMs: 300 } };

const scenarios: Scenario[] = [
  {
    name: '429 with Retry-After on polls',
    example: 'runway-gen4-turbo.json',
    rules: [{ provider: 'runway', kind: 'poll', nth: [1, 2, 3], action: { type: 'status', status: 429, retryAfterS: 0.1 } }],
    exit: 0,
  },
  {
    name: 'a burst of 5xx on polls',
    example: 'runway-gen4-turbo.json',
    rules: [{ provider: 'runway', kind: 'poll', nth: [1, 2, 3], action: { type: 'status', status: 503 } }],
    exit: 0,
  },
  {
    name: 'the connection dropped after the create was accepted',
    example: 'runway-gen4-turbo.json',
    rules: [{ provider: 'runway', kind: 'create', nth: 1, action: { type: 'drop-before-response' } }],
    exit: 1,
    message: /may exist and be billed.*reelgraph jobs forget [0-9a-f]+/,
    // The journal refuses to submit blindly a second time.
    rerun: { exit: 1, message: /An earlier run sent this create and got no answer/ },
  },
  {
    name: 'task_not_exist for the first polls (CometAPI)',
    example: 'cometapi-gen3a-turbo.json',
    rules: [],
    options: { cometNotExistPolls: 3 },
    exit: 0,
  },
  {
    name: 'slow responses past the poll timeout',
    example: 'runway-gen4-turbo.json',
    rules: [{ provider: 'runway', kind: 'poll', nth: 1, action: { type: 'delay', ms: 1_200 } }],
    options: { timing: { queuedMs: 2_500, runningMs: 500 } },
    poll: [0.05, 1],
    exit: 1,
    message: /did not finish within timeout_s=1/,
    // The job is still live at the provider: a re-run polls it instead of creating another.
    rerun: { exit: 0 },
  },
  {
    name: 'an expired output URL',
    example: 'runway-gen4-turbo.json',
    rules: [{ kind: 'download', nth: 1, action: { type: 'expire-url' } }],
    exit: 0,
  },
  {
    name: 'the download cut at 50%',
    example: 'runway-gen4-turbo.json',
    rules: [{ kind: 'download', nth: 1, action: { type: 'truncate', atFraction: 0.5 } }],
    exit: 0,
  },
  {
    name: 'the provider reports failure',
    example: 'runway-gen4-turbo.json',
    rules: [],
    options: { failJobs: () => true },
    exit: 1,
    message: /task [0-9a-f-]+ failed/,
  },
];

const setup = useCliSandbox(FAST, { ...FAST, cometNotExistPolls: 1, failJobs: undefined });

async function assertOutputs(success: boolean): Promise<void> {
  const files = await listFiles(setup.box.output);
  expect(files.filter((file) => file.endsWith('.partial'))).toEqual([]);
  const videos = files.filter((file) => file.endsWith('.mp4'));
  if (!success) return;
  expect(videos.length).toBeGreaterThan(0);
  for (const video of videos) expect(await mp4Duration(video)).toBeGreaterThan(0);
}

describe('fault injection through the CLI', () => {
  it.each(scenarios)('$name', async (scenario) => {
    setup.emulator.configure({ ...FAST, ...scenario.options });
    setup.emulator.setFaults({ rules: scenario.rules, seed: 7 });
    const workflow = fastPoll(await readExample(scenario.example), ...(scenario.poll ?? [0.05, 120]));
    const path = await placeWorkflow(setup.box, 'workflow.json', workflow);
    const args = ['run', path, '--output-dir', setup.box.output, '--json'];

    const first = await runCli(args, setup.box);
    const output = first.stdout + first.stderr;
    expect(first.code, output).toBe(scenario.exit);
    if (scenario.message) expect(output).toMatch(scenario.message);
    expect(first.stderr).not.toMatch(/\n\s+at /);
    expect(setup.emulator.creates()).toBe(1);
    await assertOutputs(scenario.exit === 0);

    if (!scenario.rerun) return;
    setup.emulator.setFaults({ rules: [] });
    setup.emulator.configure(FAST);
    const second = await runCli(args, setup.box);
    expect(second.code, second.stdout + second.stderr).toBe(scenario.rerun.exit);
    if (scenario.rerun.message) expect(second.stdout + second.stderr).toMatch(scenario.rerun.message);
    expect(setup.emulator.creates()).toBe(1);
    await assertOutputs(scenario.rerun.exit === 0);
  });
});
