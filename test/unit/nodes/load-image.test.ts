import { readFile, realpath, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImage } from '../../../src/nodes/load-image.js';
import { ImageRefSchema } from '../../../src/nodes/values.js';
import { InputError } from '../../../src/engine/errors.js';
import { detectFormat, ImageHeaderError, parseImageHeader, readImageHeader } from '../../../src/nodes/image-header.js';
import { fakeContext, fakeValidationContext, nodeHttpClient } from '../../helpers/fake-context.js';
import { makeImageFolder, writeJpegWithHugeMetadata, writePngHeader, type ImageFolder } from '../../helpers/make-images.js';

let folder: ImageFolder;

beforeAll(async () => {
  folder = await makeImageFolder();
  await writeFile(join(folder.dir, 'secret.png'), await readFile(folder.images.png));
});
afterAll(() => folder.cleanup());

describe('image headers', () => {
  it.each([
    ['jpeg', 'jpeg'],
    ['png', 'png'],
    ['webp', 'webp'],
    ['gif', 'gif'],
  ] as const)('reads %s format and dimensions from the header', async (key, format) => {
    const header = await readImageHeader(folder.images[key]);
    expect(header).toMatchObject({ format, width: 64, height: 48, bytes: (await stat(folder.images[key])).size });
  });

  it('swaps width and height for an EXIF 90° orientation', async () => {
    const header = await readImageHeader(folder.images.rotatedJpeg);
    expect(header).toMatchObject({ format: 'jpeg', width: 48, height: 64, orientation: 6 });
  });

  it('reports PNG bit depth and CMYK JPEGs', async () => {
    expect((await readImageHeader(folder.images.png)).bitDepth).toBe(8);
    expect((await readImageHeader(folder.images.cmykJpeg)).cmyk).toBe(true);
    expect((await readImageHeader(folder.images.jpeg)).cmyk).toBe(false);
  });

  it('reads further into a JPEG whose metadata pushes the frame header past 64 KB', async () => {
    const path = await writeJpegWithHugeMetadata(folder.images.jpeg, join(folder.dir, 'xmp.jpg'), 3);
    expect((await stat(path)).size).toBeGreaterThan(3 * 65536);
    const first64k = (await readFile(path)).subarray(0, 65536);
    expect(() => parseImageHeader(first64k, 0)).toThrow(ImageHeaderError);
    expect(await readImageHeader(path)).toMatchObject({ format: 'jpeg', width: 64, height: 48 });
  });

  it('reads huge dimensions from a header alone, without decoding', async () => {
    const path = await writePngHeader(join(folder.dir, 'huge.png'), 9000, 9000);
    expect(await readImageHeader(path)).toMatchObject({ format: 'png', width: 9000, height: 9000 });
  });

  it('detects formats by magic bytes', () => {
    expect(detectFormat(Buffer.from('BM\0\0'))).toBe('bmp');
    expect(detectFormat(Buffer.from([0x49, 0x49, 0x2a, 0x00]))).toBe('tiff');
    expect(detectFormat(Buffer.from('<?xml version="1.0"?>\n<svg xmlns="x">'))).toBe('svg');
    expect(detectFormat(Buffer.from('\0\0\0\x1cftypavif\0\0\0\0avifmif1', 'latin1'))).toBe('avif');
    expect(detectFormat(Buffer.from('hello'))).toBe('unknown');
  });
});

describe('LoadImage', () => {
  it('outputs an ImageRef with header facts and the content hash', async () => {
    const out = await loadImage.run({}, { image: 'photo.png', fit: 'auto' }, fakeContext({ files: folder.files() }));
    const ref = ImageRefSchema.parse(out.IMAGE);
    expect(ref).toMatchObject({ source: 'file', name: 'photo.png', format: 'png', width: 64, height: 48 });
    expect(ref.path).toBe(join(await realpath(folder.inputDir), 'photo.png'));
    expect(ref.sha256).toBe(await loadImage.fingerprint!({ image: 'photo.png', fit: 'auto' }, { files: folder.files() }));
  });

  it('fingerprints by content: touching the mtime does not change it', async () => {
    const before = await loadImage.fingerprint!({ image: 'photo.jpg', fit: 'auto' }, { files: folder.files() });
    await utimes(folder.images.jpeg, new Date(2001, 1, 1), new Date(2001, 1, 1));
    expect(await loadImage.fingerprint!({ image: 'photo.jpg', fit: 'auto' }, { files: folder.files() })).toBe(before);
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    expect(await loadImage.fingerprint!({ image: 'photo.png', fit: 'auto' }, { files: folder.files() })).not.toBe(before);
  });

  it.each([
    ['an absolute path', () => folder.images.png, /absolute paths are refused/],
    ['a .. escape', () => '../secret.png', /"\.\." segments/],
    ['a missing file', () => 'nope.png', /does not exist/],
  ])('validate() refuses %s, naming node, field and value', async (_label, value, rule) => {
    const issues = await loadImage.validate!({ image: value(), fit: 'auto' }, fakeValidationContext({ nodeId: '7', files: folder.files() }));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ nodeId: '7', nodeType: 'LoadImage', field: 'image' });
    expect(issues[0]!.details).toContain(JSON.stringify(value()));
    expect(issues[0]!.details).toMatch(rule);
  });

  it('refuses a symlink that leads outside the input folder, in validate() and run()', async () => {
    await symlink(join(folder.dir, 'secret.png'), join(folder.inputDir, 'link.png'));
    const issues = await loadImage.validate!({ image: 'link.png', fit: 'auto' }, fakeValidationContext({ files: folder.files() }));
    expect(issues[0]?.details).toMatch(/outside the input folder/);
    await expect(loadImage.run({}, { image: 'link.png', fit: 'auto' }, fakeContext({ files: folder.files() }))).rejects.toThrow(InputError);
  });

  it('accepts a name like a..png (only ".." segments are refused)', async () => {
    await writeFile(join(folder.inputDir, 'a..png'), await readFile(folder.images.png));
    expect(await loadImage.validate!({ image: 'a..png', fit: 'auto' }, fakeValidationContext({ files: folder.files() }))).toEqual([]);
  });

  it('refuses a file that is not an image', async () => {
    await writeFile(join(folder.inputDir, 'notes.png'), 'just text');
    const issues = await loadImage.validate!({ image: 'notes.png', fit: 'auto' }, fakeValidationContext({ files: folder.files() }));
    expect(issues[0]?.details).toMatch(/is not a readable image/);
  });

  it('refuses plain-http URLs to other hosts', async () => {
    const issues = await loadImage.validate!({ image: 'http://example.com/a.png', fit: 'auto' }, fakeValidationContext({ files: folder.files() }));
    expect(issues[0]?.details).toMatch(/must be an https URL/);
    expect(await loadImage.fingerprint!({ image: 'https://example.com/a.png', fit: 'auto' }, { files: folder.files() })).toBe('https://example.com/a.png');
  });

  describe('with a URL', () => {
    let server: Server;
    let base: string;
    const ranges: (string | undefined)[] = [];
    beforeAll(async () => {
      const png = await readFile(folder.images.png);
      server = createServer((req, res) => {
        ranges.push(req.headers.range);
        res.writeHead(206, { 'Content-Type': 'image/png', 'Content-Range': `bytes 0-${png.length - 1}/${png.length}` });
        res.end(png);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('reads format and size from a ranged GET at run time (a loopback URL needs REELGRAPH_ALLOW_PRIVATE_URLS)', async () => {
      const refused = loadImage.run({}, { image: `${base}/img.png`, fit: 'auto' }, fakeContext({ files: folder.files(), http: nodeHttpClient() }));
      await expect(refused).rejects.toThrow(/must be an https URL/);
      expect(ranges).toEqual([]);
      const env = { REELGRAPH_ALLOW_PRIVATE_URLS: '1' };
      const out = await loadImage.run({}, { image: `${base}/img.png`, fit: 'auto' }, fakeContext({ files: folder.files(), http: nodeHttpClient(), env }));
      expect(ImageRefSchema.parse(out.IMAGE)).toMatchObject({ source: 'url', url: `${base}/img.png`, format: 'png', width: 64, height: 48 });
      expect(ranges).toEqual(['bytes=0-65535']);
    });
  });
});
