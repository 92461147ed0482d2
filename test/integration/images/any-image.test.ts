import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import { readWorkflowMetadata } from '../../../src/sharing/provenance.js';
import { writeBigPng, writePhonePhoto } from '../../helpers/make-photos.js';
import { startS3Server, type S3Server } from '../../helpers/s3-server.js';
import { type Workflow } from '../../helpers/make-bad-corpus.js';
import { ROOT, fastPoll, listFiles, makeSandbox, mp4Duration, placeWorkflow, readExample, requireBuiltCli, runCli, type Sandbox } from '../../helpers/cli-sandbox.js';

/**
 * Any image a user has (issue 12), through the real CLI against the emulator: a 12-megapixel phone
 * photo runs on every provider (fitted, uploaded, or hosted in a real S3-compatible store on loopback),
 * a 20 MB PNG goes through Runway's uploads unchanged, and --image-fit off refuses as before.
 */

const MB = 1024 * 1024;
let emulator: Emulator;
let s3: S3Server;
let box: Sandbox;
let template: Workflow;
let photos: string;

beforeAll(async () => {
  requireBuiltCli();
  emulator = await startEmulator({ timing: { queuedMs: 50, runningMs: 100 } });
  s3 = await startS3Server();
  box = await makeSandbox(emulator.url, s3.env);
  template = fastPoll(await readExample('runway-gen4-turbo.json'));
  photos = join(box.root, 'photos');
  await mkdir(photos, { recursive: true });
  await Promise.all([writePhonePhoto(join(photos, 'phone.jpg')), writeBigPng(join(photos, 'big-20mb.png'))]);
}, 120_000);
afterAll(async () => {
  await emulator?.close();
  await s3?.close();
  await box?.cleanup();
});
beforeEach(() => emulator.reset());

/** The example with `image` loaded and RunwayI2V's provider widget (the first) set. */
async function workflowFor(name: string, image: string, provider = 'runway', fit?: 'off'): Promise<string> {
  const workflow = structuredClone(template);
  workflow.nodes.find((node) => node.type === 'LoadImage')!.widgets_values = [`images/${image}`, 'image', ...(fit ? [fit] : [])];
  workflow.nodes.find((node) => node.type === 'RunwayI2V')!.widgets_values![0] = provider;
  return placeWorkflow(box, name, workflow, { [`images/${image}`]: join(photos, image) });
}

async function runToMp4(workflow: string, output: string, extra: string[]) {
  const result = await runCli(['run', workflow, '--output-dir', join(box.output, output), '--json', ...extra], box);
  expect(result.code, result.stdout + result.stderr).toBe(0);
  const videos = (await listFiles(join(box.output, output))).filter((file) => file.endsWith('.mp4'));
  expect(videos).toHaveLength(1);
  expect(await mp4Duration(videos[0]!)).toBeGreaterThan(0);
  return { ...result, video: videos[0]! };
}

const uploadCalls = () => emulator.log.filter((entry) => entry.path === '/v1/uploads');
const FIT_LINE = /phone\.jpg 3024×4032 \d+\.\d MB → 1536×2048 \d\.\d MB for (runway|cometapi|runcomfy)/;

describe('a 3024×4032 phone photo', () => {
  it('is a photo as phones make them: 4032×3024 stored, shown upright (EXIF 6), ~6 MB, too big for a 5 MB data URI', async () => {
    const bytes = (await readFile(join(photos, 'phone.jpg'))).length;
    expect(bytes).toBeGreaterThan(4 * MB);
    expect(bytes).toBeLessThan(9 * MB);
  });

  it.each(['runway', 'cometapi'])('runs on %s with no options: fitted, said in one line, recorded in the MP4', async (provider) => {
    const workflow = await workflowFor(`phone-${provider}.json`, 'phone.jpg', provider);
    const { stderr, video } = await runToMp4(workflow, `phone-${provider}`, []);
    expect(stderr).toMatch(FIT_LINE);
    expect(stderr.match(FIT_LINE)![1]).toBe(provider);
    expect(emulator.creates(provider as 'runway' | 'cometapi')).toBe(1);
    // The EXIF orientation was applied: the provider got the upright 1536×2048 picture, as a data URI.
    const job = emulator.jobs()[0]!;
    expect(job.request.promptImage).toMatch(/^data:image\/jpeg;base64,/);
    const sent = await sharp(Buffer.from(job.request.promptImage.split(',')[1]!, 'base64')).metadata();
    expect({ width: sent.width, height: sent.height, orientation: sent.orientation ?? 1 }).toEqual({ width: 1536, height: 2048, orientation: 1 });
    const meta = await readWorkflowMetadata(video);
    expect(JSON.stringify(meta.workflow)).toMatch(/"reelgraph_image":\{"route":"data-uri","fit":"phone\.jpg 3024×4032 [\d.]+ MB → 1536×2048/);
  });

  it('runs on runcomfy with --image-host against a real S3-compatible store, stored once under its content hash', async () => {
    const workflow = await workflowFor('phone-runcomfy.json', 'phone.jpg', 'runcomfy');
    const host = `s3://${s3.bucket}/reelgraph/inputs`;
    const { stderr } = await runToMp4(workflow, 'phone-runcomfy', ['--image-host', host]);
    expect(stderr).toMatch(/phone\.jpg 3024×4032 [\d.]+ MB → 1536×2048 [\d.]+ MB for runcomfy/);
    const sent = emulator.jobs()[0]!.request.promptImage;
    expect(sent).toMatch(new RegExp(`^${s3.endpoint}/${s3.bucket}/reelgraph/inputs/[0-9a-f]{64}\\.jpg\\?X-Amz-Algorithm=AWS4-HMAC-SHA256&.*X-Amz-Expires=43200`));
    // The presigned URL serves the fitted copy to anyone holding it, for the run.
    const fetched = await fetch(sent);
    expect(fetched.status).toBe(200);
    expect(fetched.headers.get('content-type')).toBe('image/jpeg');
    expect((await sharp(Buffer.from(await fetched.arrayBuffer())).metadata()).height).toBe(2048);
    // A second run (a new job) finds the object in the bucket and does not upload it again.
    await runToMp4(workflow, 'phone-runcomfy-again', ['--image-host', host, '--no-cache']);
    expect(await s3.keys('reelgraph/inputs/')).toHaveLength(1);
  });

  it('is taken from REELGRAPH_IMAGE_HOST as from --image-host', async () => {
    const workflow = await workflowFor('phone-runcomfy-env.json', 'phone.jpg', 'runcomfy');
    const result = await runCli(['run', workflow, '--output-dir', join(box.output, 'env'), '--json', '--no-cache'], box, {
      ...box.env,
      REELGRAPH_IMAGE_HOST: `s3://${s3.bucket}/env`,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(emulator.jobs()[0]!.request.promptImage).toContain(`/${s3.bucket}/env/`);
  });

  it('with --image-fit off is refused on cometapi with the data-URI sentence, and nothing is created', async () => {
    const workflow = await workflowFor('phone-off.json', 'phone.jpg', 'cometapi');
    const result = await runCli(['run', workflow, '--output-dir', join(box.output, 'off'), '--image-fit', 'off'], box);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/"images\/phone\.jpg": data URI of [\d.]+ MB \(file [\d.]+ MB\) must be under 5\.00 MB for cometapi gen4_turbo; pass an https URL to LoadImage for up to 16\.00 MB/);
    expect(emulator.creates()).toBe(0);
  });

  it("with LoadImage's fit param off is refused the same way", async () => {
    const path = await workflowFor('phone-param-off.json', 'phone.jpg', 'cometapi', 'off');
    const result = await runCli(['run', path, '--output-dir', join(box.output, 'param-off')], box);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/data URI of [\d.]+ MB .* must be under 5\.00 MB for cometapi/);
    expect(emulator.creates()).toBe(0);
  });

  it('RunComfy without a host says which options fix it', async () => {
    const workflow = await workflowFor('phone-runcomfy-nohost.json', 'phone.jpg', 'runcomfy');
    const { REELGRAPH_IMAGE_HOST: _unset, ...env } = box.env;
    const runcomfy = await runCli(['run', workflow, '--output-dir', join(box.output, 'nohost')], box, env);
    expect(runcomfy.code).toBe(2);
    expect(runcomfy.stderr).toMatch(/run with --image-host s3:\/\/bucket\/prefix .* or run with --public-url https:/);
    expect(emulator.creates()).toBe(0);
  });
});

describe('a 20 MB PNG on runway', () => {
  it('goes through an ephemeral upload unchanged, and a re-run reuses the upload', async () => {
    const workflow = await workflowFor('big-png.json', 'big-20mb.png');
    const { stderr } = await runToMp4(workflow, 'big-png', []);
    expect(stderr).not.toMatch(/→/);
    expect(uploadCalls()).toHaveLength(1);
    expect(emulator.jobs()[0]!.request.promptImage).toMatch(/^runway:\/\/uploads\//);
    const uploads = (await readFile(join(box.state, 'uploads.jsonl'), 'utf8')).trim().split('\n');
    expect(uploads).toHaveLength(1);
    expect(uploads[0]).not.toContain('base64');

    // --no-cache makes a new job; the upload, still alive at Runway, is not sent again.
    await runToMp4(workflow, 'big-png-again', ['--no-cache']);
    expect(uploadCalls()).toHaveLength(1);
    expect(emulator.creates('runway')).toBe(2);
    expect(new Set(emulator.jobs().map((job) => job.request.promptImage)).size).toBe(1);
  });
});

describe('public URLs must be https', () => {
  it('refuses an http:// --public-url with a sentence, before anything runs', async () => {
    const workflow = await workflowFor('http-public.json', 'phone.jpg', 'runcomfy');
    const result = await runCli(['run', workflow, '--public-url', 'http://tunnel.example.com'], box);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--public-url http:\/\/tunnel\.example\.com must be https: RunComfy and Runway fetch images by https URL only/);
    expect(emulator.creates()).toBe(0);
  });

  it('refuses a plain-http S3 endpoint that is not loopback', async () => {
    const workflow = await workflowFor('http-s3.json', 'phone.jpg', 'runcomfy');
    const result = await runCli(['run', workflow, '--image-host', 's3://bucket/x'], box, { ...box.env, REELGRAPH_S3_ENDPOINT: 'http://minio.example.com:9000' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/the S3 endpoint http:\/\/minio\.example\.com:9000 must be https/);
  });
});

describe('truncated images', () => {
  it.each(['cut-off.jpg', 'cut-off.png', 'cut-off.webp'])('%s gives exit 2 naming the file, and nothing is created', async (name) => {
    const workflow = structuredClone(template);
    workflow.nodes.find((node) => node.type === 'LoadImage')!.widgets_values = [`images/${name}`, 'image'];
    await mkdir(join(box.work, 'images'), { recursive: true });
    await copyFile(join(ROOT, 'test/fixtures/bad/images', name), join(box.work, 'images', name));
    const path = await placeWorkflow(box, `${name}.json`, workflow);
    const result = await runCli(['run', path, '--output-dir', join(box.output, name)], box);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`"images/${name}" is not a readable image: truncated`);
    expect(emulator.creates()).toBe(0);
  });
});
