import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import type { EmulatedJob } from '../../../src/emulator/types.js';
import { readWorkflowMetadata } from '../../../src/sharing/provenance.js';
import { listFiles, makeSandbox, placeWorkflow, requireBuiltCli, runCli, ROOT } from '../../helpers/cli-sandbox.js';

/**
 * Issue 14's fixtures, written by hand from docs/comfyui.md, through the built CLI against the emulator: each runs
 * with exactly one create, and the create the emulator received (GET /_emulator/jobs) carries the intended params.
 */

let emulator: Emulator;
beforeAll(async () => {
  requireBuiltCli();
  emulator = await startEmulator({ port: 0, timing: { queuedMs: 50, runningMs: 150 } });
});
afterAll(() => emulator.close());

type Json = Record<string, unknown>;

async function fixture(name: string): Promise<Json> {
  return JSON.parse(await readFile(join(ROOT, 'test/fixtures/comfyui', name), 'utf8')) as Json;
}

/** Our Poll nodes poll quickly; the ones the importer adds keep their default. */
function fastPoll(doc: Json): Json {
  for (const node of doc.nodes as Json[]) {
    if (node.type !== 'Poll') continue;
    node.widgets_values = Array.isArray(node.widgets_values) ? [0.05, 120] : { interval_s: 0.05, timeout_s: 120 };
  }
  return doc;
}

async function emulatorJobs(): Promise<EmulatedJob[]> {
  const response = await fetch(`${emulator.url}/_emulator/jobs`);
  return ((await response.json()) as { jobs: EmulatedJob[] }).jobs;
}

const CASES = [
  { name: 'runway-nested-subgraph.v1.json', want: { model: 'gen4_turbo', promptText: 'A paper boat drifts down a rain-soaked gutter, macro, slow push in', ratio: '960:960', duration: 5, seed: 31337 } },
  { name: 'primitive-prompt.v04.json', want: { model: 'gen4_turbo', promptText: 'A lantern floats over a dark lake, slow pan to the left', ratio: '720:1280', duration: 10, seed: 2024 } },
  { name: 'object-widgets.v04.json', want: { model: 'gen4_turbo', promptText: 'Snow settles on a quiet tram stop at dawn', ratio: '960:960', duration: 5, seed: 4242 } },
  { name: 'template-resaved-reroutes.v1.json', want: { model: 'gen4_turbo', promptText: 'A man turns to the camera', ratio: '1280:720', duration: 10, seed: 549931386 } },
];

describe('ComfyUI subgraphs, primitives, object widgets and re-saved templates run with one create', () => {
  it.each(CASES)('$name', async ({ name, want }) => {
    const box = await makeSandbox(emulator.url);
    try {
      const file = await placeWorkflow(box, name, JSON.stringify(fastPoll(await fixture(name))));
      const before = emulator.creates();
      const jobsBefore = (await emulatorJobs()).length;
      const result = await runCli(['run', file, '--json', '--output-dir', box.output], box);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(emulator.creates() - before).toBe(1);
      const jobs = await emulatorJobs();
      expect(jobs).toHaveLength(jobsBefore + 1);
      expect(jobs.at(-1)!.provider).toBe('runway');
      expect(jobs.at(-1)!.request).toMatchObject(want);
      const videos = (await listFiles(box.output)).filter((path) => path.endsWith('.mp4'));
      expect(videos).toHaveLength(1);
    } finally {
      await box.cleanup();
    }
  });

  it('the MP4 carries the workflow the user opened beside the mapped one, and `run video.mp4` runs either', async () => {
    const box = await makeSandbox(emulator.url);
    try {
      const opened = await fixture('runway-nested-subgraph.v1.json');
      const file = await placeWorkflow(box, "nested.json", JSON.stringify(opened));
      expect((await runCli(['run', file, '--json', '--output-dir', box.output], box)).code).toBe(0);
      const [video] = (await listFiles(box.output)).filter((path) => path.endsWith('.mp4'));
      const meta = await readWorkflowMetadata(video!);
      expect(meta.workflow).toEqual(opened);
      expect((meta.reelgraph_workflow as { nodes: { type: string }[] }).nodes.map((node) => node.type)).toContain('RunwayI2V');
      for (const embedded of ['opened', 'mapped']) {
        const before = emulator.creates();
        // The same inputs and seed come from the cache: the run succeeds without paying again.
        const again = await runCli(['run', video!, '--json', '--input-dir', box.work, '--output-dir', join(box.root, embedded), '--embedded', embedded], box);
        expect(again.stderr).toBe('');
        expect(again.code).toBe(0);
        expect(emulator.creates() - before).toBe(0);
      }
    } finally {
      await box.cleanup();
    }
  });

  it('the Gen3a node on --provider runway exits 2 with one sentence naming the retirement', async () => {
    const box = await makeSandbox(emulator.url);
    try {
      const file = await placeWorkflow(box, "gen3a.json", JSON.stringify(await fixture("runway-gen3a-i2v-v1.json")));
      const result = await runCli(['validate', file, '--provider', 'runway'], box);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('Runway retired Gen-3 Alpha Turbo (gen3a_turbo) and first/last-frame video on 2026-07-30; gen3a_turbo is still offered by runcomfy and cometapi');
      expect((await runCli(['validate', file, '--provider', 'cometapi'], box)).stderr).not.toContain('retired');
    } finally {
      await box.cleanup();
    }
  });
});
