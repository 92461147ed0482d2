import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataUriLength } from '../../../src/nodes/image-limits.js';
import { downstreamFromApiPrompt, validateImage } from '../../../src/nodes/validate-image.js';
import { ImageRefSchema, type ImageRef } from '../../../src/nodes/values.js';
import { InputError } from '../../../src/engine/errors.js';
import { fakeContext, fakeValidationContext } from '../../helpers/fake-context.js';
import { makeImageFolder, writePaddedPng, writePngHeader, type ImageFolder } from '../../helpers/make-images.js';

const MB = 1024 * 1024;
let folder: ImageFolder;

beforeAll(async () => {
  folder = await makeImageFolder();
  const pngBytes = (await stat(folder.images.png)).size;
  await writePaddedPng(folder.images.png, join(folder.inputDir, 'big16.png'), 16 * MB, pngBytes);
  await writePaddedPng(folder.images.png, join(folder.inputDir, 'big6.png'), 6 * MB, pngBytes);
  await writePngHeader(join(folder.inputDir, 'wide8000.png'), 8000, 5000);
  await writePngHeader(join(folder.inputDir, 'tall8000.png'), 5000, 8000);
  await writePngHeader(join(folder.inputDir, 'ok7999.png'), 7999, 7999);
  await writePngHeader(join(folder.inputDir, 'wide3.png'), 3000, 1000);
  await writePngHeader(join(folder.inputDir, 'exact2to1.png'), 2000, 1000);
  await writePngHeader(join(folder.inputDir, 'exact1to2.png'), 1000, 2000);
  await writePngHeader(join(folder.inputDir, 'almost2to1.png'), 1999, 1000);
});
afterAll(() => folder.cleanup());

const i2v = (provider: string, model = 'gen4_turbo') => ({ type: 'RunwayI2V', params: { provider, model } });

async function validateFile(name: string, downstream = [i2v('runway')], fit: 'auto' | 'off' = 'off') {
  const ctx = fakeValidationContext({
    nodeId: '5',
    files: { ...folder.files(), imageFit: fit },
    upstream: { image: { type: 'LoadImage', params: { image: name } } },
    downstream,
  });
  return validateImage.validate!({}, ctx);
}

describe('ValidateImage validate() before execution', () => {
  it('passes a small JPEG, PNG and WebP', async () => {
    for (const name of ['photo.jpg', 'photo.png', 'photo.webp', 'ok7999.png', 'almost2to1.png']) {
      expect(await validateFile(name)).toEqual([]);
    }
  });

  it('refuses GIF, naming node, field, value and the accepted formats', async () => {
    const issues = await validateFile('anim.gif');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ nodeId: '5', nodeType: 'ValidateImage', field: 'image' });
    expect(issues[0]!.details).toBe('"anim.gif": format gif is not accepted by runway gen4_turbo (accepted: JPEG, PNG, WebP)');
  });

  it('refuses 16 MB and more when the image travels by URL (runcomfy hosts local files)', async () => {
    const issues = await validateFile('big16.png', [i2v('runcomfy')]);
    expect(issues.map((i) => i.details)).toEqual(['"big16.png": 16.00 MB must be under 16.00 MB for runcomfy gen4_turbo']);
    expect(await validateFile('big6.png', [i2v('runcomfy')])).toEqual([]);
  });

  it('applies the 5 MB data-URI limit to local files for cometapi with --image-fit off, on the encoded length', async () => {
    const issues = await validateFile('big6.png', [i2v('cometapi')]);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.details).toMatch(/data URI of 8\.00 MB \(file 6\.00 MB\) must be under 5\.00 MB for cometapi gen4_turbo/);
    expect(dataUriLength('png', 3)).toBe('data:image/png;base64,'.length + 4);
  });

  it.each([
    ['wide8000.png', 'width 8000 px must be under 8000 px'],
    ['tall8000.png', 'height 8000 px must be under 8000 px'],
  ])('refuses %s by dimension', async (name, detail) => {
    const issues = await validateFile(name);
    expect(issues.map((i) => i.details)).toContain(`"${name}": ${detail} for runway gen4_turbo`);
  });

  it.each([
    ['exact2to1.png', 'aspect ratio 2.00 (2000×1000) is outside 1:2..2:1 (exclusive) for runway gen4_turbo'],
    ['exact1to2.png', 'aspect ratio 0.50 (1000×2000) is outside 1:2..2:1 (exclusive) for runway gen4_turbo'],
    ['wide3.png', 'aspect ratio 3.00 (3000×1000) is outside 1:2..2:1 (exclusive) for runway gen4_turbo'],
  ])('refuses %s by aspect ratio (strict bounds)', async (name, detail) => {
    const issues = await validateFile(name);
    expect(issues.map((i) => i.details)).toEqual([`"${name}": ${detail}`]);
  });

  it('checks every downstream RunwayI2V, and the strictest limits when there is none', async () => {
    const both = await validateFile('big6.png', [i2v('runcomfy'), i2v('cometapi', 'gen3a_turbo')]);
    expect(both.map((i) => i.details)).toEqual([expect.stringContaining('for cometapi gen3a_turbo')]);
    const none = await validateFile('big6.png', []);
    expect(none.map((i) => i.details)).toEqual([expect.stringContaining('must be under 5.00 MB for every provider')]);
  });

  it('sends a 6 MB local file to runway through uploads, fitting or not', async () => {
    expect(await validateFile('big6.png', [i2v('runway')], 'off')).toEqual([]);
    expect(await validateFile('big6.png', [i2v('runway')], 'auto')).toEqual([]);
  });

  it('leaves bytes and pixels to fitting when fitting is on; format and aspect ratio still hold', async () => {
    expect(await validateFile('big6.png', [i2v('cometapi')], 'auto')).toEqual([]);
    expect(await validateFile('wide8000.png', [i2v('runway')], 'auto')).toEqual([]);
    expect(await validateFile('big6.png', [], 'auto')).toEqual([]);
    expect((await validateFile('wide3.png', [i2v('cometapi')], 'auto')).map((i) => i.details)).toEqual([expect.stringContaining('aspect ratio 3.00')]);
    expect((await validateFile('anim.gif', [i2v('cometapi')], 'auto')).map((i) => i.details)).toEqual([expect.stringContaining('format gif is not accepted')]);
  });

  it("LoadImage's fit param off refuses like --image-fit off", async () => {
    const ctx = fakeValidationContext({
      nodeId: '5',
      files: folder.files(),
      upstream: { image: { type: 'LoadImage', params: { image: 'big6.png', fit: 'off' } } },
      downstream: [i2v('cometapi')],
    });
    expect((await validateImage.validate!({}, ctx)).map((i) => i.details)).toEqual([expect.stringMatching(/data URI of 8\.00 MB/)]);
  });

  it('leaves URLs and unreadable files to run time and to LoadImage', async () => {
    expect(await validateFile('https://example.com/x.gif')).toEqual([]);
    expect(await validateFile('missing.png')).toEqual([]);
  });
});

describe('ValidateImage run()', () => {
  const ref = (over: Partial<ImageRef>): ImageRef => ({
    source: 'url', url: 'https://example.com/a.png', name: 'https://example.com/a.png', format: 'png', width: 1280, height: 720, bytes: 1000, ...over,
  });

  it('returns the image marked validatedFor the downstream provider and model', async () => {
    const ctx = fakeContext({ downstream: () => [i2v('cometapi', 'gen3a_turbo')] });
    const out = await validateImage.run({ image: ref({}) }, {}, ctx);
    expect(ImageRefSchema.parse(out.IMAGE).validatedFor).toEqual({ provider: 'cometapi', model: 'gen3a_turbo' });
  });

  it('re-checks at run time and throws InputError naming value and limit', async () => {
    const ctx = fakeContext({ downstream: () => [i2v('runway')] });
    const run = validateImage.run({ image: ref({ width: 3000, height: 1000 }) }, {}, ctx);
    await expect(run).rejects.toThrow(InputError);
    await expect(run).rejects.toThrow('image "https://example.com/a.png": aspect ratio 3.00 (3000×1000) is outside 1:2..2:1 (exclusive) for runway gen4_turbo');
  });

  it('allows up to 16 MB by URL for cometapi (the data-URI limit applies to local files only)', async () => {
    const ctx = fakeContext({ downstream: () => [i2v('cometapi')] });
    await expect(validateImage.run({ image: ref({ bytes: 10 * MB }) }, {}, ctx)).resolves.toBeDefined();
    await expect(validateImage.run({ image: ref({ bytes: 10 * MB, source: 'file', path: '/x.png', fit: 'off' }) }, {}, ctx)).rejects.toThrow(/data URI/);
    await expect(validateImage.run({ image: ref({ bytes: 10 * MB, source: 'file', path: '/x.png' }) }, {}, ctx)).resolves.toBeDefined();
  });

  it('finds the downstream RunwayI2V in the API prompt when the runtime offers no downstream()', async () => {
    const api = {
      '1': { class_type: 'LoadImage', inputs: { image: 'a.png' } },
      '2': { class_type: 'ValidateImage', inputs: { image: ['1', 0] } },
      '3': { class_type: 'RunwayI2V', inputs: { image: ['2', 0], provider: 'runcomfy', model: 'gen3a_turbo' } },
    };
    expect(downstreamFromApiPrompt('2', api)).toEqual([{ type: 'RunwayI2V', params: api['3'].inputs }]);
    const ctx = fakeContext({ nodeId: '2', workflow: { api } });
    const out = await validateImage.run({ image: ref({}) }, {}, ctx);
    expect(ImageRefSchema.parse(out.IMAGE).validatedFor).toEqual({ provider: 'runcomfy', model: 'gen3a_turbo' });
  });
});
