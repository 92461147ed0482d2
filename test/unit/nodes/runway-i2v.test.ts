import { mkdir, readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImage } from '../../../src/nodes/load-image.js';
import { runwayI2V } from '../../../src/nodes/runway-i2v.js';
import { TaskHandleSchema, type ImageRef } from '../../../src/nodes/values.js';
import type { ValidationContext } from '../../../src/engine/define-node.js';
import { fakeContext, fakeValidationContext, makeTempDir } from '../../helpers/fake-context.js';
import { FakeProvider, FakeProviderRegistry } from '../../helpers/fake-provider.js';
import { makeImages, type TestImages } from '../../helpers/make-images.js';

type Params = Parameters<typeof runwayI2V.run>[1];
const params = (over: Partial<Params> = {}): Params => runwayI2V.params.parse(over) as Params;
const allKeys = { RUNWAYML_API_SECRET: 'k1', COMETAPI_KEY: 'k2', RUNCOMFY_API_TOKEN: 'k3' };

function ctxWith(over: { env?: NodeJS.ProcessEnv; image?: string; publicUrl?: string; viaValidate?: boolean } = {}): ValidationContext {
  const load = { type: 'LoadImage', params: { image: over.image ?? 'https://example.com/a.png' } };
  const upstream = over.viaValidate ? { type: 'ValidateImage', params: {}, upstream: () => load } : load;
  return fakeValidationContext({
    nodeId: '8',
    env: over.env ?? allKeys,
    files: { inputDir: '/in', outputDir: '/out', ...(over.publicUrl ? { publicUrl: over.publicUrl } : {}) },
    upstream: { image: upstream },
  });
}

async function issuesFor(p: Partial<Params>, over?: Parameters<typeof ctxWith>[0]) {
  return runwayI2V.validate!(params(p), ctxWith(over));
}

describe('RunwayI2V params', () => {
  it('has fixed defaults and widget order', () => {
    expect(Object.keys(runwayI2V.params.shape)).toEqual(['provider', 'model', 'promptText', 'ratio', 'duration', 'seed', 'watermark']);
    expect(params()).toEqual({ provider: 'runway', model: 'gen4_turbo', promptText: '', ratio: '1280:720', duration: 5, seed: 0, watermark: false });
    // Runway takes any integer 2–10 (its API reference); the others narrow it in validate().
    expect(runwayI2V.params.safeParse({ duration: 7 }).success).toBe(true);
    expect(runwayI2V.params.safeParse({ duration: 11 }).success).toBe(false);
    expect(runwayI2V.params.safeParse({ duration: 1 }).success).toBe(false);
    expect(runwayI2V.params.safeParse({ seed: 4294967296 }).success).toBe(false);
  });
});

describe('RunwayI2V validate()', () => {
  it('accepts a valid gen4_turbo request', async () => {
    expect(await issuesFor({ promptText: 'a cat' })).toEqual([]);
  });

  it('refuses a model the provider retired, saying when and who still offers it', async () => {
    const issues = await issuesFor({ model: 'gen3a_turbo', promptText: 'x', ratio: '1280:768' });
    expect(issues).toEqual([expect.objectContaining({
      nodeId: '8', nodeType: 'RunwayI2V', field: 'model', message: 'Model retired',
      details: 'Runway retired Gen-3 Alpha Turbo (gen3a_turbo) and first/last-frame video on 2026-07-30; gen3a_turbo is still offered by runcomfy and cometapi (choose one with --provider runcomfy|cometapi)',
    })]);
  });

  it("refuses a ratio outside the model's list", async () => {
    const issues = await issuesFor({ provider: 'runcomfy', model: 'gen3a_turbo', promptText: 'x', ratio: '1280:720' });
    expect(issues).toEqual([expect.objectContaining({ field: 'ratio', details: '1280:720 is not offered by runcomfy gen3a_turbo (offered: 1280:768, 768:1280)' })]);
  });

  // CometAPI's document (seed cometapi-runway-image-to-video.en.txt; providers.md corrections): all
  // eight ratios, promptText optional. Runway's API reference: gen4_turbo duration any integer 2–10.
  it.each(['1280:720', '720:1280', '1104:832', '832:1104', '960:960', '1584:672', '1280:768', '768:1280'])(
    'CometAPI gen3a_turbo takes ratio %s with no prompt',
    async (ratio) => {
      expect(await issuesFor({ provider: 'cometapi', model: 'gen3a_turbo', ratio, promptText: '' })).toEqual([]);
    },
  );

  it.each([2, 3, 4, 5, 6, 7, 8, 9, 10] as const)('Runway gen4_turbo takes duration %i; RunComfy and CometAPI only 5 or 10', async (duration) => {
    expect(await issuesFor({ provider: 'runway', duration })).toEqual([]);
    const others = await issuesFor({ provider: 'runcomfy', duration });
    expect(others.filter((i) => i.field === 'duration')).toHaveLength(duration === 5 || duration === 10 ? 0 : 1);
  });

  it.each([
    ['runway', 1000, true],
    ['runway', 1001, false],
    ['cometapi', 512, true],
    ['cometapi', 513, false],
  ] as const)('prompt length on %s: %i UTF-16 units ok=%s', async (provider, length, ok) => {
    const issues = await issuesFor({ provider, promptText: 'a'.repeat(length) });
    if (ok) expect(issues).toEqual([]);
    else expect(issues).toEqual([expect.objectContaining({ field: 'promptText', type: 'value_bigger_than_max', details: `${length} characters, limit ${length - 1} for ${provider} gen4_turbo` })]);
  });

  it('counts UTF-16 units: 257 emoji are 514 units, over the 512 limit of cometapi', async () => {
    expect(await issuesFor({ provider: 'cometapi', promptText: '😀'.repeat(257) })).toHaveLength(1);
  });

  it('requires a non-blank prompt for RunComfy gen3a_turbo', async () => {
    const issues = await issuesFor({ provider: 'runcomfy', model: 'gen3a_turbo', ratio: '768:1280', promptText: '   ' });
    expect(issues).toEqual([expect.objectContaining({ field: 'promptText', type: 'required_input_missing' })]);
  });

  it("refuses a seed above the provider's maximum and watermark where unsupported", async () => {
    const seed = await issuesFor({ provider: 'cometapi', seed: 1_000_000_000 });
    expect(seed).toEqual([expect.objectContaining({ field: 'seed', details: '1000000000, limit 999999999 for cometapi gen4_turbo' })]);
    expect(await issuesFor({ provider: 'runway', watermark: true })).toEqual([expect.objectContaining({ field: 'watermark' })]);
    expect(await issuesFor({ provider: 'cometapi', watermark: true })).toEqual([]);
  });

  it('names the missing API key variable', async () => {
    const issues = await issuesFor({}, { env: {} });
    expect(issues).toEqual([expect.objectContaining({ type: 'missing_api_key', details: expect.stringContaining('RUNWAYML_API_SECRET is not set') })]);
    const comet = await issuesFor({ provider: 'cometapi' }, { env: { RUNWAYML_API_SECRET: 'k' } });
    expect(comet[0]?.details).toContain('COMETAPI_KEY is not set');
  });

  it('refuses a local file for runcomfy without --public-url, listing the options', async () => {
    for (const viaValidate of [false, true]) {
      const issues = await issuesFor({ provider: 'runcomfy' }, { image: 'photo.png', viaValidate });
      expect(issues).toHaveLength(1);
      expect(issues[0]!.field).toBe('image');
      expect(issues[0]!.details).toMatch(/pass an https URL to LoadImage, or run with --public-url https:\/\/… .*--listen host:port/);
    }
    expect(await issuesFor({ provider: 'runcomfy' }, { image: 'photo.png', publicUrl: 'https://t.example' })).toEqual([]);
    expect(await issuesFor({ provider: 'runcomfy' }, { image: 'https://example.com/a.png' })).toEqual([]);
    expect(await issuesFor({ provider: 'runway' }, { image: 'photo.png' })).toEqual([]);
  });
});

describe('RunwayI2V run()', () => {
  let root: { dir: string; cleanup(): Promise<void> };
  let images: TestImages;
  let image: ImageRef;
  beforeAll(async () => {
    root = await makeTempDir();
    await mkdir(join(root.dir, 'in'));
    images = await makeImages(join(root.dir, 'in'));
    const out = await loadImage.run({}, { image: 'photo.png', fit: 'auto' }, fakeContext({ files: { inputDir: join(root.dir, 'in'), outputDir: root.dir } }));
    image = out.IMAGE as ImageRef;
  });
  afterAll(() => root.cleanup());

  it.each(['runway', 'cometapi'] as const)('sends a local file to %s as a data URI, submitting once', async (id) => {
    const provider = new FakeProvider(id);
    const ctx = fakeContext({ providers: new FakeProviderRegistry(provider), env: {} });
    const out = await runwayI2V.run({ image }, params({ provider: id, promptText: 'a cat', seed: 42 }), ctx);
    expect(provider.submits).toHaveLength(1);
    const sent = provider.submits[0]!;
    expect(sent.promptImage).toBe(`data:image/png;base64,${(await readFile(images.png)).toString('base64')}`);
    expect(sent).toMatchObject({ model: 'gen4_turbo', promptText: 'a cat', ratio: '1280:720', duration: 5, seed: 42 });
    expect(ctx.hostedFiles).toEqual([]);
    const task = TaskHandleSchema.parse(out.TASK);
    expect(task).toEqual({
      provider: id, model: 'gen4_turbo', taskId: 'task-1', baseUrl: provider.info.defaultBaseUrl,
      submittedAt: ctx.clock.now(), duration: 5, ratio: '1280:720', image: { route: 'data-uri' },
    });
  });

  it('hosts a local file for runcomfy and passes the hosted URL', async () => {
    const provider = new FakeProvider('runcomfy');
    const ctx = fakeContext({ providers: new FakeProviderRegistry(provider), env: { RUNCOMFY_BASE_URL: 'http://127.0.0.1:9' } });
    const out = await runwayI2V.run({ image }, params({ provider: 'runcomfy' }), ctx);
    expect(ctx.hostedFiles).toEqual([await realpath(images.png)]);
    expect(provider.submits[0]!.promptImage).toBe('https://tunnel.example/f/1/photo.png');
    expect(provider.submits[0]!.promptText).toBeUndefined();
    expect(TaskHandleSchema.parse(out.TASK).baseUrl).toBe('http://127.0.0.1:9');
  });

  it("records the adapter's own base URL in the handle, so Poll asks the same server", async () => {
    const provider = new FakeProvider('runway');
    provider.baseUrl = 'http://127.0.0.1:4010';
    const ctx = fakeContext({ providers: new FakeProviderRegistry(provider), env: { RUNWAYML_BASE_URL: 'http://elsewhere' } });
    const out = await runwayI2V.run({ image }, params(), ctx);
    expect(TaskHandleSchema.parse(out.TASK).baseUrl).toBe('http://127.0.0.1:4010');
  });

  it('passes URLs through untouched', async () => {
    const provider = new FakeProvider('runway');
    const ctx = fakeContext({ providers: new FakeProviderRegistry(provider) });
    const url: ImageRef = { source: 'url', url: 'https://example.com/a.png', name: 'https://example.com/a.png', format: 'png', width: 64, height: 48, bytes: 100 };
    await runwayI2V.run({ image: url }, params(), ctx);
    expect(provider.submits[0]!.promptImage).toBe('https://example.com/a.png');
  });

  // Issue 11 point 2: a refused create waits and retries, and says so ("rate limited, retrying in N s").
  it('shows a rate-limited create as a progress note', async () => {
    const provider = new FakeProvider('runway');
    const submit = provider.submit.bind(provider);
    provider.submit = async (request, options) => {
      options?.onRetry?.({ kind: 'create', status: 429, delayMs: 2500, attempt: 1 });
      options?.onRetry?.({ kind: 'create', status: 503, delayMs: 1000, attempt: 2 });
      return submit(request, options);
    };
    const ctx = fakeContext({ providers: new FakeProviderRegistry(provider) });
    const url: ImageRef = { source: 'url', url: 'https://example.com/a.png', name: 'https://example.com/a.png', format: 'png', width: 64, height: 48, bytes: 100 };
    await runwayI2V.run({ image: url }, params(), ctx);
    expect(ctx.progressEvents.map((p) => p.note)).toEqual(['rate limited, retrying in 3 s', 'provider busy (HTTP 503, not processed), retrying in 1 s']);
  });
});
