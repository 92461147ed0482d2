import { describe, expect, it } from 'vitest';
import { fastPoll, journalLines, listFiles, mp4Duration, placeWorkflow, readExample, runCli, startCli, useCliSandbox } from '../../helpers/cli-sandbox.js';

/**
 * A paid job survives the CLI dying mid-poll (SIGKILL: no chance to clean up), and Ctrl-C
 * cancels the job at the provider, records the cancel and exits 130 ("interrupted").
 */

/** Long enough that the CLI is surely still polling when the signal arrives. */
const SLOW = { timing: { queuedMs: 1_500, runningMs: 3_000 } };

const setup = useCliSandbox(SLOW);

function isPollingProgress(line: string): boolean {
  try {
    const event = JSON.parse(line) as { type?: string; data?: { phase?: string } };
    return event.type === 'progress' && (event.data?.phase === 'queued' || event.data?.phase === 'running');
  } catch {
    return false;
  }
}

describe('a killed or interrupted CLI', () => {
  it.each([
    ['with the output cache', []],
    ['without the output cache (the journal alone re-attaches)', ['--no-cache']],
  ])('SIGKILL while polling, then a re-run finishes the same job, %s', async (_name, extra) => {
    const path = await placeWorkflow(setup.box, 'workflow.json', fastPoll(await readExample('runway-gen4-turbo.json'), 0.1));
    const args = ['run', path, '--output-dir', setup.box.output, '--json', ...extra];

    const first = startCli(args, setup.box);
    await first.waitForLine(isPollingProgress);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    expect(setup.emulator.creates()).toBe(1);

    const second = await runCli(args, setup.box);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(setup.emulator.creates()).toBe(1);
    const files = await listFiles(setup.box.output);
    expect(files.filter((file) => file.endsWith('.partial'))).toEqual([]);
    const videos = files.filter((file) => file.endsWith('.mp4'));
    expect(videos).toHaveLength(1);
    expect(await mp4Duration(videos[0]!)).toBeGreaterThan(0);
  });

  it('SIGINT while polling cancels the Runway job, journals the cancel and exits 130', async () => {
    const path = await placeWorkflow(setup.box, 'workflow.json', fastPoll(await readExample('runway-gen4-turbo.json'), 0.1));
    const run = startCli(['run', path, '--output-dir', setup.box.output, '--json'], setup.box);
    await run.waitForLine(isPollingProgress);
    run.child.kill('SIGINT');
    const result = await run.done;

    expect(result.code, result.stdout + result.stderr).toBe(130);
    expect(result.stdout).toContain('"execution_interrupted"');
    expect(result.stdout).not.toContain('"execution_error"');
    expect(setup.emulator.creates()).toBe(1);
    expect(setup.emulator.log.some((entry) => entry.provider === 'runway' && entry.kind === 'cancel')).toBe(true);
    const [job] = setup.emulator.jobs();
    expect(job?.cancelledAt).toBeDefined();
    const cancels = (await journalLines(setup.box)).filter((line) => line.type === 'cancel');
    expect(cancels).toEqual([expect.objectContaining({ taskId: job?.id, outcome: 'cancelled' })]);
    expect(await listFiles(setup.box.output)).toEqual([]);

    // The journal knows the job is cancelled: `reelgraph jobs` shows it, and a re-run submits afresh.
    const listed = await runCli(['jobs', '--json'], setup.box);
    expect(JSON.parse(listed.stdout.trim())).toMatchObject({ taskId: job?.id, state: 'cancelled' });
  });

  it('reelgraph jobs cancel cancels at Runway and says CometAPI cannot cancel', async () => {
    // "[slow]" makes the emulator run this job ten times longer: it must still be running when the cancel comes,
    // however long the CLIs take to start on a loaded machine.
    const runwayWorkflow = fastPoll(await readExample('runway-gen4-turbo.json'), 0.1);
    for (const node of runwayWorkflow.nodes) {
      if (node.type === 'RunwayI2V' && Array.isArray(node.widgets_values)) node.widgets_values[2] = `${String(node.widgets_values[2])} [slow]`;
    }
    const runway = await placeWorkflow(setup.box, 'runway.json', runwayWorkflow);
    const comet = await placeWorkflow(setup.box, 'comet.json', fastPoll(await readExample('cometapi-gen3a-turbo.json'), 0.1));
    for (const path of [runway, comet]) {
      const run = startCli(['run', path, '--output-dir', setup.box.output, '--json'], setup.box);
      await run.waitForLine(isPollingProgress);
      run.child.kill('SIGKILL');
      await run.done;
    }
    const jobs = (await runCli(['jobs', '--json'], setup.box)).stdout.trim().split('\n').map((line) => JSON.parse(line) as { provider: string; taskId: string; jobKey: string });
    expect(jobs.map((job) => job.provider).sort()).toEqual(['cometapi', 'runway']);
    const runwayJob = jobs.find((job) => job.provider === 'runway')!;
    const cometJob = jobs.find((job) => job.provider === 'cometapi')!;

    const cancelled = await runCli(['jobs', 'cancel', runwayJob.taskId], setup.box);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(setup.emulator.jobs().find((job) => job.id === runwayJob.taskId)?.cancelledAt).toBeDefined();

    const refused = await runCli(['jobs', 'cancel', cometJob.jobKey], setup.box);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/CometAPI has no cancel endpoint/);

    // resume re-runs the CometAPI workflow (still unfinished) and attaches to its job.
    const resumed = await runCli(['jobs', 'resume'], setup.box);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(setup.emulator.creates()).toBe(2);
    const after = (await runCli(['jobs', '--json'], setup.box)).stdout.trim().split('\n').map((line) => JSON.parse(line) as { provider: string; state: string });
    expect(after.find((job) => job.provider === 'cometapi')?.state).toBe('saved');
    expect(after.find((job) => job.provider === 'runway')?.state).toBe('cancelled');
  });
});
