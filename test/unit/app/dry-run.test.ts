import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutputCache } from '../../../src/engine/cache.js';
import { formatDryRun, planDryRun } from '../../../src/app/dry-run.js';
import { parseWorkflow } from '../../../src/comfy/index.js';
import { checkParams } from '../../../src/engine/param-issues.js';
import { computeCacheKeys } from '../../../src/engine/cache-key.js';
import { planGraph } from '../../../src/engine/plan.js';
import { DEFAULT_PRICES, loadPrices, PriceFileError } from '../../../src/providers/prices.js';
import { createNodeRegistry } from '../../../src/nodes/index.js';
import { JobJournal, submitOnce } from '../../../src/jobs/journal.js';
import { ProviderHttpError } from '../../../src/engine/errors.js';
import { sha256File } from '../../../src/nodes/content-hash.js';

const registry = createNodeRegistry();
const env = { RUNWAYML_API_SECRET: `key_${'0'.repeat(128)}`, COMETAPI_KEY: 'emulator-key', RUNCOMFY_API_TOKEN: 'emulator-key' };

async function example(name: string) {
  const path = resolve('examples', name);
  const parsed = parseWorkflow(JSON.parse(await readFile(path, 'utf8')), registry);
  return { parsed, files: { inputDir: dirname(path), outputDir: dir } };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reelgraph-estimate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('planDryRun', () => {
  it('lists the nodes that would run and prices the Runway job at 5 credits/s', async () => {
    const { parsed, files } = await example('runway-gen4-turbo.json');
    const plan = await planDryRun(parsed, registry, { files, env });
    expect(plan.ok).toBe(true);
    expect(plan.nodes.map((n) => `${n.id}:${n.action}`)).toEqual(['1:run', '2:run', '3:run', '4:run', '5:run']);
    expect(plan.jobs).toEqual([{ nodeId: '3', provider: 'runway', model: 'gen4_turbo', duration: 5, ratio: '1280:720', usd: 0.25, credits: 25 }]);
    expect(plan.totals).toEqual([expect.objectContaining({ provider: 'runway', jobs: 1, seconds: 5, usd: 0.25, credits: 25, assumed: false })]);
    expect(formatDryRun(plan)).toMatch(/Estimate for runway: \$0\.25, 25 credits for 5s of video/);
  });

  it('marks cached nodes and creates no job for a cached RunwayI2V', async () => {
    const { parsed, files } = await example('cometapi-gen3a-turbo.json');
    const cache = new OutputCache(join(dir, 'cache'));
    const order = planGraph(parsed.graph).order;
    const params = new Map(order.map((id) => [id, checkParams(parsed.graph.nodes.get(id)!, registry.get(parsed.graph.nodes.get(id)!.type)!).params!]));
    const { keys } = await computeCacheKeys(parsed.graph, registry, order, params, files);
    const task = { provider: 'cometapi', model: 'gen3a_turbo', taskId: 't-1', baseUrl: 'http://127.0.0.1:1', submittedAt: 0, duration: 5, ratio: '1280:768' };
    await cache.set(keys.get('3')!, { TASK: task });
    const plan = await planDryRun(parsed, registry, { files, env, cache });
    expect(Object.fromEntries(plan.nodes.map((n) => [n.id, n.action]))).toEqual({ '1': 'unused', '2': 'unused', '3': 'cached', '4': 'run', '5': 'run' });
    expect(plan.jobs).toEqual([]);
    expect(plan.totalUsd).toBe(0);
    expect(formatDryRun(plan)).toContain('No provider jobs would be created.');
  });

  it('returns the validation problems instead of a plan for an invalid workflow', async () => {
    const { parsed, files } = await example('runway-gen4-turbo.json');
    parsed.graph.nodes.get('3')!.params.ratio = '1280:768';
    const plan = await planDryRun(parsed, registry, { files, env });
    expect(plan.ok).toBe(false);
    expect(plan.validation.issues.some((issue) => issue.field === 'ratio' && /1280:768/.test(issue.details))).toBe(true);
    expect(plan.jobs).toEqual([]);
  });

  it('still plans and estimates without an API key, listing the key as what a real run needs', async () => {
    const { parsed, files } = await example('runway-gen4-turbo.json');
    const plan = await planDryRun(parsed, registry, { files, env: {} });
    expect(plan.ok).toBe(true);
    expect(plan.totalUsd).toBe(0.25);
    expect(plan.warnings.map((issue) => [issue.type, issue.field])).toEqual([['missing_api_key', 'provider']]);
    expect(formatDryRun(plan)).toMatch(/Before a real run:\n {2}Node "3" \(RunwayI2V\) provider: API key missing: RUNWAYML_API_SECRET/);
  });

  it('uses prices from a user file over the defaults', async () => {
    const file = join(dir, 'prices.json');
    await writeFile(file, JSON.stringify({ cometapi: { models: { gen3a_turbo: { usdPerSecond: 0.1 } } } }));
    const prices = await loadPrices(undefined, { REELGRAPH_PRICES: file });
    expect(prices.runway).toEqual(DEFAULT_PRICES.runway);
    const { parsed, files } = await example('cometapi-gen3a-turbo.json');
    const plan = await planDryRun(parsed, registry, { files, env, prices });
    expect(plan.jobs[0]).toMatchObject({ provider: 'cometapi', usd: 0.5 });
    expect(plan.totals[0]).toMatchObject({ assumed: false, source: expect.stringContaining(file) });
  });
});

describe('planDryRun with the job journal', () => {
  /** Sends node 3's create of runway-gen4-turbo.json through the journal, as RunwayI2V would, with the given answer. */
  async function createThroughJournal(journal: JobJournal, files: { inputDir: string }, answer: () => Promise<{ taskId: string }>) {
    const request = { model: 'gen4_turbo' as const, promptImage: 'data:image/jpeg;base64,…', ratio: '1280:720', duration: 5, seed: 42, promptText: 'The sun sinks behind the ridge while the harbour lights come on, slow dolly in' };
    const imageId = await sha256File(join(files.inputDir, 'images/sunset.jpg'));
    return submitOnce(journal, { provider: 'runway', baseUrl: 'https://api.dev.runwayml.com', request, imageId, nodeId: '3', submit: answer }).catch((error: unknown) => error);
  }

  it('names a job whose create got no clear answer as unknown, prices it, and keeps it out of the total', async () => {
    const { parsed, files } = await example('runway-gen4-turbo.json');
    const journal = new JobJournal(await mkdtemp(join(dir, 'journal-')));
    const error = await createThroughJournal(journal, files, () => Promise.reject(new ProviderHttpError('runway', 500, 'Internal Server Error')));
    expect(String(error)).toMatch(/may exist and be billed/);
    const plan = await planDryRun(parsed, registry, { files, env, cacheCheck: { services: { journal } } });
    expect(plan.jobs).toEqual([]);
    expect(plan.totalUsd).toBe(0);
    expect(plan.existing).toEqual([expect.objectContaining({ nodeId: '3', status: 'unknown', usd: 0.25, jobKey: expect.stringMatching(/^[0-9a-f]{24}$/), since: expect.any(Number) })]);
    expect(formatDryRun(plan)).toMatch(/outcome unknown — will not submit until you decide.*jobs forget [0-9a-f]{24}/);
    // The user's decision: forgetting the key makes the next run create (and pay for) one job again.
    await journal.forget(plan.existing[0]!.jobKey!);
    const after = await planDryRun(parsed, registry, { files, env, cacheCheck: { services: { journal } } });
    expect([after.jobs.length, after.existing.length, after.totalUsd]).toEqual([1, 0, 0.25]);
  });

  it('re-attaches at no cost to a job the provider accepted (Stop before the node finished)', async () => {
    const { parsed, files } = await example('runway-gen4-turbo.json');
    const journal = new JobJournal(await mkdtemp(join(dir, 'journal-')));
    await createThroughJournal(journal, files, () => Promise.resolve({ taskId: 'task-1' }));
    const plan = await planDryRun(parsed, registry, { files, env, cacheCheck: { services: { journal } } });
    expect([plan.jobs, plan.totalUsd]).toEqual([[], 0]);
    expect(plan.existing).toEqual([expect.objectContaining({ nodeId: '3', status: 'reattach', taskId: 'task-1' })]);
    expect(formatDryRun(plan)).toContain('re-attaches to task task-1 at the provider, $0.00');
  });
});

describe('loadPrices', () => {
  it('returns the defaults without a file, and refuses a malformed one in one sentence', async () => {
    expect(await loadPrices(undefined, {})).toBe(DEFAULT_PRICES);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ runway: { models: { gen4_turbo: { usdPerSecond: -1 } } } }));
    await expect(loadPrices(bad, {})).rejects.toThrow(PriceFileError);
    await expect(loadPrices(bad, {})).rejects.toThrow(/invalid at runway\.models\.gen4_turbo\.usdPerSecond/);
    await expect(loadPrices(join(dir, 'missing.json'), {})).rejects.toThrow(/cannot be read as JSON/);
  });
});
