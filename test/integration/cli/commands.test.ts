import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import type { RunEvent } from '../../../src/engine/events.js';
import { fastPoll, listFiles, makeSandbox, placeWorkflow, readExample, requireBuiltCli, runCli, type Sandbox } from '../../helpers/cli-sandbox.js';

/** Issue 2: the built CLI on real files — exit codes, stdout events, outputs, the cache across processes. */

const FIXTURES = join(import.meta.dirname, '../../fixtures/workflows');

let emulator: Emulator;
let box: Sandbox;
beforeAll(async () => {
  requireBuiltCli();
  emulator = await startEmulator({ port: 0, timing: { queuedMs: 50, runningMs: 150 } });
  box = await makeSandbox(emulator.url);
});
afterAll(async () => {
  await box.cleanup();
  await emulator.close();
});

const events = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as RunEvent);
const cachedNodes = (list: RunEvent[]) => list.flatMap((event) => (event.type === 'execution_cached' ? event.data.nodes : []));
const executedNodes = (list: RunEvent[]) => list.flatMap((event) => (event.type === 'executing' && event.data.node ? [event.data.node] : []));
const mp4s = async () => (await listFiles(box.output)).filter((path) => path.endsWith('.mp4')).sort();

describe('reelgraph validate', () => {
  it('prints one line per problem naming node, type and field, and exits 2', async () => {
    const result = await runCli(['validate', join(FIXTURES, 'invalid-many-problems.v04.json')], box);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('5 problems found; nothing was run');
    expect(result.stderr).toContain(`Node "3" (RunwayI2V) ratio: Value not in list: '16:9'`);
    expect(result.stderr).toContain('Node "3" (RunwayI2V) seed: Value smaller than min: -1, limit 0');
    expect(result.stderr).toMatch(/Unknown node type: "KSampler"/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('--json prints ComfyUI\'s {error, node_errors} structure', async () => {
    const result = await runCli(['validate', join(FIXTURES, 'invalid-many-problems.v04.json'), '--json'], box);
    expect(result.code).toBe(2);
    const body = JSON.parse(result.stdout) as { error: { type: string }; node_errors: Record<string, { class_type: string; errors: { type: string }[] }> };
    expect(body.error.type).toBe('invalid_prompt');
    expect(body.node_errors['3']!.class_type).toBe('RunwayI2V');
    expect(body.node_errors['3']!.errors.map((error) => error.type)).toEqual(['value_not_in_list', 'value_not_in_list', 'value_smaller_than_min']);
  });

  it('exits 0 on a valid workflow', async () => {
    const file = await placeWorkflow(box, 'valid.json', await readExample('runway-gen4-turbo.json'));
    const result = await runCli(['validate', file], box);
    expect(result.code).toBe(0);
  });
});

describe('reelgraph run and the persistent cache', () => {
  it('runs, then a second process reuses every output and submits nothing', async () => {
    const file = await placeWorkflow(box, 'cached.json', fastPoll(await readExample('runway-gen4-turbo.json')));
    const before = emulator.creates();

    const first = await runCli(['run', file, '--json', '--output-dir', box.output], box);
    expect(first.code).toBe(0);
    expect(executedNodes(events(first.stdout))).toEqual(['1', '2', '3', '4', '5']);
    expect(emulator.creates() - before).toBe(1);
    expect(await mp4s()).toHaveLength(1);

    const second = await runCli(['run', file, '--json', '--output-dir', box.output], box);
    expect(second.code).toBe(0);
    const secondEvents = events(second.stdout);
    expect(cachedNodes(secondEvents)).toContain('5');
    expect(executedNodes(secondEvents)).toEqual([]);
    expect(secondEvents.find((event) => event.type === 'executed')).toBeDefined();
    expect(emulator.creates() - before).toBe(1);
    expect(await mp4s()).toHaveLength(1);
  });

  it('changing one param re-runs only that node and what depends on it', async () => {
    const workflow = fastPoll(await readExample('runway-gen4-turbo.json'));
    const file = await placeWorkflow(box, 'cached.json', workflow);
    await runCli(['run', file, '--json', '--output-dir', box.output], box);
    const before = emulator.creates();
    workflow.nodes.find((node) => node.type === 'SaveVideo')!.widgets_values = ['renamed/clip', 'auto', 'auto'];
    await writeFile(file, JSON.stringify(workflow));

    const result = await runCli(['run', file, '--json', '--output-dir', box.output], box);
    expect(result.code).toBe(0);
    // Poll is never cached (URLs expire; re-polling is free), so it runs again; RunwayI2V does not.
    expect(executedNodes(events(result.stdout))).toEqual(['4', '5']);
    expect(emulator.creates() - before).toBe(0);
    expect((await mp4s()).some((path) => path.includes('renamed/clip_00001_.mp4'))).toBe(true);
  });

  it('--no-cache runs every node again', async () => {
    const file = await placeWorkflow(box, 'cached.json', fastPoll(await readExample('runway-gen4-turbo.json')));
    const before = emulator.creates();
    const result = await runCli(['run', file, '--json', '--no-cache', '--output-dir', box.output], box);
    expect(result.code).toBe(0);
    expect(executedNodes(events(result.stdout))).toEqual(['1', '2', '3', '4', '5']);
    expect(emulator.creates() - before).toBe(1);
  });
});

describe('reelgraph run --dry-run', () => {
  it('shows the plan and the estimate without a key, saying what a real run needs, and submits nothing', async () => {
    const file = await placeWorkflow(box, 'stranger.json', fastPoll(await readExample('runway-gen4-turbo.json')));
    const env: NodeJS.ProcessEnv = { ...box.env, REELGRAPH_CACHE_DIR: `${box.cache}-empty` };
    delete env.RUNWAYML_API_SECRET;
    const before = emulator.log.length;
    const result = await runCli(['run', file, '--dry-run', '--output-dir', box.output], box, env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Estimated total: $0.25');
    expect(result.stdout).toMatch(/Before a real run:\n {2}Node "3" \(RunwayI2V\) provider: API key missing: RUNWAYML_API_SECRET is not set/);
    expect(emulator.log.length).toBe(before);
  });
});

describe('reelgraph convert and nodes', () => {
  it('converts a UI workflow to the API format, which runs from the same cache', async () => {
    const file = await placeWorkflow(box, 'to-convert.json', fastPoll(await readExample('runway-gen4-turbo.json')));
    await runCli(['run', file, '--json', '--output-dir', box.output], box);
    const apiFile = join(box.work, 'to-convert.api.json');
    const converted = await runCli(['convert', file, '--to', 'api', '-o', apiFile], box);
    expect(converted.code).toBe(0);
    const prompt = JSON.parse(await readFile(apiFile, 'utf8')) as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
    expect(prompt['3']).toMatchObject({ class_type: 'RunwayI2V', inputs: { provider: 'runway', ratio: '1280:720', image: ['2', 0] } });

    const before = emulator.creates();
    const result = await runCli(['run', apiFile, '--json', '--output-dir', box.output], box);
    expect(result.code).toBe(0);
    expect(cachedNodes(events(result.stdout))).toContain('5');
    expect(emulator.creates() - before).toBe(0);
  });

  it('nodes --json prints every definition in /object_info shape with JSON Schema params', async () => {
    const result = await runCli(['nodes', '--json'], box);
    expect(result.code).toBe(0);
    const info = JSON.parse(result.stdout) as Record<string, { input_order: { required: string[] }; output: string[]; params_schema: { properties: object } }>;
    expect(Object.keys(info)).toEqual(['LoadImage', 'ValidateImage', 'RunwayI2V', 'Poll', 'SaveVideo']);
    expect(info.RunwayI2V!.input_order.required).toEqual(['image', 'provider', 'model', 'promptText', 'ratio', 'duration', 'seed', 'watermark']);
    expect(info.Poll!.output).toEqual(['VIDEO']);
    expect(Object.keys(info.RunwayI2V!.params_schema.properties)).toContain('promptText');
  });
});

describe('exit codes for bad invocations', () => {
  it.each([
    [['run', 'missing.json'], /cannot be read/],
    [['bogus'], /Unknown command "bogus"/],
    [['run'], /Missing the workflow file/],
    [['run', 'x.json', '--concurrency', '0'], /--concurrency must be a whole number/],
    [['convert', 'x.json', '--to', 'yaml'], /--to must be "api" or "ui"/],
  ])('%j exits 2 with one sentence', async (args, message) => {
    const result = await runCli(args, box);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
