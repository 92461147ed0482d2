import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { emulatorEnv } from '../../../src/cli/emulator-env.js';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import { createNodeRegistry } from '../../../src/nodes/index.js';
import { prepareWorkflowJson } from '../../../src/sharing/comfy-runway-import.js';
import { readWorkflowMetadata } from '../../../src/sharing/provenance.js';
import { videoPackets } from '../../helpers/mp4.js';

/**
 * The sharing features end to end: the built CLI (`node dist/cli/main.js`, built by
 * `npm test`'s pretest) against the in-process provider emulator on 127.0.0.1.
 */

const CLI = resolve('dist/cli/main.js');
const SUNSET = resolve('examples/images/sunset.jpg');
const FIXTURES = resolve('test/fixtures/comfyui');

let emulator: Emulator;
let dir: string;
let env: NodeJS.ProcessEnv;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], cwd = dir): Promise<CliResult> {
  return new Promise((resolveRun) => {
    execFile(process.execPath, [CLI, ...args], { cwd, env, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolveRun({ code, stdout, stderr });
    });
  });
}

/** A fresh folder holding the fixture and the image it loads. */
async function workspace(name: string, fixture: string): Promise<string> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  await copyFile(join(FIXTURES, fixture), join(folder, fixture));
  await copyFile(SUNSET, join(folder, 'sunset.jpg'));
  return join(folder, fixture);
}

async function mp4sIn(folder: string): Promise<string[]> {
  if (!existsSync(folder)) return [];
  const entries = await readdir(folder, { recursive: true });
  return entries.filter((name) => name.endsWith('.mp4')).map((name) => join(folder, name)).sort();
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error('dist/cli/main.js is missing: run "npm run build" first (npm test does it).');
  dir = await mkdtemp(join(tmpdir(), 'reelgraph-sharing-it-'));
  emulator = await startEmulator({ port: 0, timing: { queuedMs: 0, runningMs: 0 }, cometNotExistPolls: 0 });
  await mkdir(join(dir, 'tmp'));
  env = {
    ...process.env,
    ...emulatorEnv(emulator.url),
    REELGRAPH_CACHE_DIR: join(dir, 'cache'),
    REELGRAPH_STATE_DIR: join(dir, 'state'),
    // Bundles extract under the child's tmpdir; a private one shows they are cleaned up.
    TMPDIR: join(dir, 'tmp'),
  };
});

afterAll(async () => {
  await emulator?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => emulator.reset());

describe('ComfyUI workflows with Runway API nodes', () => {
  it('runs a v0.4 Gen4 file (control value, note, bypassed node) and embeds the workflow the user opened beside the one it ran', async () => {
    const file = await workspace('gen4', 'runway-gen4-i2v.json');
    const out = join(dir, 'gen4', 'out');
    const run = await cli(['run', file, '--json', '--output-dir', out, '--provider', 'runway']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(emulator.creates('runway')).toBe(1);
    expect(emulator.jobs()[0]!.request).toMatchObject({ model: 'gen4_turbo', ratio: '1280:720', duration: 5, seed: 549931386, promptText: 'The sun sinks behind the ridge, slow dolly in' });
    const [video] = await mp4sIn(out);
    expect(video).toMatch(/video[/\\]ComfyUI_00001_\.mp4$/);

    // The workflow the user opened is `workflow` (ComfyUI reopens their graph); the mapped one that ran sits beside it.
    const opened = JSON.parse(await readFile(file, 'utf8')) as unknown;
    const extracted = await cli(['extract', video!]);
    expect(extracted.code).toBe(0);
    expect(JSON.parse(extracted.stdout)).toEqual(opened);
    const mapped = prepareWorkflowJson(opened, { provider: 'runway', registry: createNodeRegistry() });
    expect((await readWorkflowMetadata(video!)).reelgraph_workflow).toEqual(mapped);
    const prompt = await cli(['extract', video!, '--prompt']);
    expect(Object.values(JSON.parse(prompt.stdout) as Record<string, { class_type: string }>).map((n) => n.class_type).sort()).toEqual(['LoadImage', 'Poll', 'RunwayI2V', 'SaveVideo', 'ValidateImage']);
  });

  it('re-runs the workflow embedded in an output video', async () => {
    const file = await workspace('rerun', 'runway-gen4-i2v.json');
    const out = join(dir, 'rerun', 'out');
    expect((await cli(['run', file, '--json', '--output-dir', out, '--no-cache'])).code).toBe(0);
    const [first] = await mp4sIn(out);
    // The video sits in out/video/, so its images resolve from --input-dir.
    const again = await cli(['run', first!, '--json', '--output-dir', out, '--no-cache', '--input-dir', join(dir, 'rerun')]);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(emulator.creates('runway')).toBe(2);
    const videos = await mp4sIn(out);
    expect(videos).toHaveLength(2);
    expect((await readWorkflowMetadata(videos[1]!)).workflow).toEqual((await readWorkflowMetadata(first!)).workflow);
  });

  it('runs a v1 Gen3a file on CometAPI and an API-format prompt on Runway', async () => {
    const v1 = await workspace('gen3a', 'runway-gen3a-i2v-v1.json');
    const first = await cli(['run', v1, '--json', '--output-dir', join(dir, 'gen3a', 'out'), '--provider', 'cometapi', '--no-cache']);
    expect(first.code).toBe(0);
    expect(emulator.creates('cometapi')).toBe(1);
    expect(emulator.jobs()[0]!.request).toMatchObject({ model: 'gen3a_turbo', ratio: '1280:768', duration: 10, seed: 12345 });
    const api = await workspace('api', 'runway-gen4-api.json');
    const second = await cli(['run', api, '--json', '--output-dir', join(dir, 'api', 'out'), '--no-cache']);
    expect(second.code).toBe(0);
    expect(emulator.creates('runway')).toBe(1);
    const [video] = await mp4sIn(join(dir, 'api', 'out'));
    // An API prompt run embeds only the prompt; extract lays it out as a UI workflow.
    const extracted = await cli(['extract', video!]);
    expect(extracted.code).toBe(0);
    expect(extracted.stderr).toMatch(/holds only an API prompt/);
    const ui = JSON.parse(extracted.stdout) as { nodes: { id: number; type: string }[] };
    expect(ui.nodes.map((n) => `${n.id}:${n.type}`).sort()).toEqual(['10:Poll', '4:LoadImage', '6:SaveVideo', '8:RunwayI2V', '9:ValidateImage']);
    const prompt = JSON.parse((await cli(['extract', video!, '--prompt'])).stdout) as Record<string, { class_type: string }>;
    expect(prompt['8']!.class_type).toBe('RunwayI2V');
  });

  it('names every unsupported node type in one error and spends nothing', async () => {
    const file = await workspace('unknown', 'mixed-unknown-nodes.json');
    const run = await cli(['run', file, '--json', '--output-dir', join(dir, 'unknown', 'out')]);
    expect(run.code).toBe(2);
    const body = JSON.parse(run.stdout) as { error: { type: string; message: string; details: string; extra_info: { missing_node_types: string[] } } };
    expect(body.error).toMatchObject({ type: 'invalid_prompt', message: 'Unknown node types' });
    expect(body.error.details).toMatch(/^"CheckpointLoaderSimple", "KSampler", "VAEDecode"/);
    expect(body.error.extra_info.missing_node_types).toEqual(['CheckpointLoaderSimple', 'KSampler', 'VAEDecode']);
    // The muted loader never runs, so it is not a problem.
    expect(run.stdout).not.toContain('UpscaleModelLoader');
    expect(emulator.log).toHaveLength(0);
  });
});

describe('provenance switches and extract', () => {
  it('--no-metadata leaves the video bare (extract exits 2); with metadata every frame is byte-identical', async () => {
    const example = resolve('examples/runway-gen4-turbo.json');
    const bareRun = await cli(['run', example, '--json', '--output-dir', join(dir, 'bare'), '--no-cache', '--no-metadata']);
    expect(bareRun.code).toBe(0);
    const [bare] = await mp4sIn(join(dir, 'bare'));
    const extracted = await cli(['extract', bare!]);
    expect(extracted.code).toBe(2);
    expect(extracted.stderr).toMatch(/has no embedded workflow/);

    // The emulator renders the same clip for the same request, so the two files differ only in metadata.
    expect((await cli(['run', example, '--json', '--output-dir', join(dir, 'tagged'), '--no-cache'])).code).toBe(0);
    const [tagged] = await mp4sIn(join(dir, 'tagged'));
    const [before, after] = [await videoPackets(bare!), await videoPackets(tagged!)];
    expect(after.length).toBe(before.length);
    expect(after.length).toBeGreaterThan(0);
    after.forEach((packet, i) => expect(packet.data.equals(before[i]!.data)).toBe(true));
    expect((await readWorkflowMetadata(tagged!)).workflow).toMatchObject({ nodes: expect.any(Array), extra: { reelgraph: { example: true } } });
  });
});

describe('run --dry-run', () => {
  it('prints the plan and the estimate and creates nothing', async () => {
    const text = await cli(['run', resolve('examples/runway-gen4-turbo.json'), '--dry-run', '--no-cache']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/would run +#3 RunwayI2V/);
    expect(text.stdout).toMatch(/Estimate for runway: \$0\.25, 25 credits for 5s of video/);
    const json = await cli(['run', resolve('examples/cometapi-gen3a-turbo.json'), '--dry-run', '--json', '--no-cache']);
    expect(json.code).toBe(0);
    const plan = JSON.parse(json.stdout) as { type: string; data: { jobs: unknown[]; totalUsd: number } };
    expect(plan.type).toBe('dry_run');
    expect(plan.data.jobs).toEqual([{ nodeId: '3', provider: 'cometapi', model: 'gen3a_turbo', duration: 5, ratio: '1280:768', usd: 0.2 }]);
    expect(emulator.creates()).toBe(0);
    expect(emulator.log).toHaveLength(0);
  });

  it('uses a --prices file', async () => {
    const prices = join(dir, 'prices.json');
    await writeFile(prices, JSON.stringify({ runway: { models: { gen4_turbo: { usdPerSecond: 0.12, creditsPerSecond: 12 } } } }));
    const run = await cli(['run', resolve('examples/runway-gen4-turbo.json'), '--dry-run', '--no-cache', '--prices', prices]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Estimate for runway: \$0\.60, 60 credits/);
  });
});

describe('bundles', () => {
  it('packs a workflow, then runs the bundle from a clean folder and cleans up after itself', async () => {
    const zip = join(dir, 'bundle.zip');
    const pack = await cli(['pack', resolve('examples/runway-gen4-turbo.json'), '-o', zip]);
    expect(pack.code).toBe(0);
    const clean = join(dir, 'clean');
    await mkdir(clean);
    await copyFile(zip, join(clean, 'shared.zip'));
    const run = await cli(['run', 'shared.zip', '--json', '--output-dir', 'out', '--no-cache'], clean);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(await mp4sIn(join(clean, 'out'))).toHaveLength(1);
    expect(emulator.creates('runway')).toBe(1);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('refuses a bundle with a path escape before running anything', async () => {
    const { zipSync } = await import('fflate');
    const evil = join(dir, 'evil.zip');
    await writeFile(evil, zipSync({ 'workflow.json': await readFile(resolve('examples/runway-gen4-turbo.json')), '../escape.txt': new Uint8Array([1]) }));
    const run = await cli(['run', evil, '--json']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/entry "\.\.\/escape\.txt" climbs out of the bundle/);
    expect(existsSync(join(dir, 'escape.txt'))).toBe(false);
    expect(emulator.log).toHaveLength(0);
  });
});
