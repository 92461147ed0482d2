import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { zipSync, type Zippable } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_LIMITS, BundleError, openBundle, packWorkflow } from '../../../src/sharing/bundle.js';

const EXAMPLE = resolve('examples/runway-gen4-turbo.json');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reelgraph-bundle-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function zipOf(files: Zippable, name: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, zipSync(files));
  return path;
}

const workflowJson = new TextEncoder().encode('{"nodes":[],"links":[],"version":0.4}');

describe('packWorkflow + openBundle', () => {
  it('packs the workflow with its images and opens it in a fresh folder', async () => {
    const zip = join(dir, 'example.zip');
    const { images } = await packWorkflow(EXAMPLE, zip);
    expect(images).toEqual(['images/sunset.jpg']);
    const bundle = await openBundle(zip);
    try {
      const original = await readFile(resolve('examples/images/sunset.jpg'));
      expect((await readFile(join(bundle.folder, 'images/sunset.jpg'))).equals(original)).toBe(true);
      const json = JSON.parse(await readFile(bundle.workflowPath, 'utf8')) as { nodes: { type: string; widgets_values: unknown[] }[] };
      expect(json.nodes.find((n) => n.type === 'LoadImage')?.widgets_values[0]).toBe('images/sunset.jpg');
    } finally {
      await bundle.cleanup();
    }
    await expect(stat(bundle.folder)).rejects.toThrow();
  });

  it('moves images beside the workflow under images/ and packs API prompts too', async () => {
    const folder = join(dir, 'api');
    await mkdir(folder);
    await copyFile(resolve('examples/images/sunset.jpg'), join(folder, 'start.jpg'));
    const prompt = { '1': { class_type: 'LoadImage', inputs: { image: 'start.jpg' } }, '2': { class_type: 'LoadImage', inputs: { image: 'https://example.com/a.png' } } };
    await writeFile(join(folder, 'prompt.json'), JSON.stringify(prompt));
    const zip = join(dir, 'api.zip');
    await packWorkflow(join(folder, 'prompt.json'), zip);
    const bundle = await openBundle(zip);
    try {
      const json = JSON.parse(await readFile(bundle.workflowPath, 'utf8')) as typeof prompt;
      expect(json['1'].inputs.image).toBe('images/start.jpg');
      expect(json['2'].inputs.image).toBe('https://example.com/a.png');
      expect((await stat(join(bundle.folder, 'images/start.jpg'))).isFile()).toBe(true);
    } finally {
      await bundle.cleanup();
    }
  });

  it.each([
    ['/etc/passwd', /absolute path/],
    ['../secret.jpg', /climbs out/],
    ['missing.jpg', /does not exist/],
  ])('refuses to pack the image "%s"', async (image, message) => {
    const file = join(dir, `wf-${image.replace(/\W/g, '_')}.json`);
    await writeFile(file, JSON.stringify({ nodes: [{ id: 7, type: 'LoadImage', widgets_values: [image, 'image'] }], links: [] }));
    const attempt = packWorkflow(file, join(dir, 'never.zip'));
    await expect(attempt).rejects.toThrow(BundleError);
    await expect(attempt).rejects.toThrow(message);
    await expect(attempt).rejects.toThrow(/Node "7" \(LoadImage\)/);
  });
});

describe('openBundle refuses unsafe zips', () => {
  it.each([
    ['../x', /climbs out/],
    ['images/../../x', /climbs out/],
    ['/tmp/absolute', /absolute path/],
    ['C:/windows/x', /absolute path/],
    ['images\\..\\x', /backslashes/],
  ])('refuses the entry "%s" and writes nothing', async (entry, message) => {
    const zip = await zipOf({ 'workflow.json': workflowJson, [entry]: new Uint8Array([1, 2, 3]) }, 'evil.zip');
    await expect(openBundle(zip)).rejects.toThrow(message);
  });

  it('refuses symbolic links', async () => {
    const link: Zippable = { 'workflow.json': workflowJson, 'images/link.jpg': [new TextEncoder().encode('/etc/passwd'), { os: 3, attrs: 0o120777 << 16 }] };
    await expect(openBundle(await zipOf(link, 'symlink.zip'))).rejects.toThrow(/symbolic link/);
  });

  it('refuses too many entries', async () => {
    const files: Zippable = { 'workflow.json': workflowJson };
    for (let i = 0; i < BUNDLE_LIMITS.maxEntries; i++) files[`images/${i}.txt`] = new Uint8Array([i % 256]);
    await expect(openBundle(await zipOf(files, 'many.zip'))).rejects.toThrow(/more than the limit of 1000/);
  });

  it('refuses entries that expand beyond the size caps (zip bomb)', async () => {
    const saved = { ...BUNDLE_LIMITS };
    BUNDLE_LIMITS.maxEntryBytes = 1024 * 1024;
    try {
      const zip = await zipOf({ 'workflow.json': workflowJson, 'images/zeros.bin': new Uint8Array(4 * 1024 * 1024) }, 'bomb.zip');
      expect((await stat(zip)).size).toBeLessThan(64 * 1024);
      await expect(openBundle(zip)).rejects.toThrow(/larger than the 1 MiB limit/);
    } finally {
      Object.assign(BUNDLE_LIMITS, saved);
    }
  });

  it('refuses a bundle without workflow.json, and a file that is not a zip', async () => {
    await expect(openBundle(await zipOf({ 'other.json': workflowJson }, 'nowf.zip'))).rejects.toThrow(/has no workflow.json/);
    const notZip = join(dir, 'plain.zip');
    await writeFile(notZip, 'just text');
    await expect(openBundle(notZip)).rejects.toThrow(/is not a zip file/);
  });
});
