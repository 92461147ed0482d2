import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageHeaderError, readImageHeader } from '../../../src/nodes/image-header.js';

/** The end check: a file whose header reads fine but whose end is missing is refused, a whole one passes. */

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reelgraph-end-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const BAD = join(import.meta.dirname, '../../fixtures/bad/images');

describe('readImageHeader end check', () => {
  it.each([
    ['cut-off.jpg', /truncated jpeg: the file ends without the end-of-image marker/],
    ['cut-off.png', /truncated png: the file ends without its IEND chunk/],
    ['cut-off.webp', /truncated webp: its RIFF header declares \d+ bytes but the file has \d+/],
  ])('refuses %s', async (name, message) => {
    const error = await readImageHeader(join(BAD, name)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageHeaderError);
    expect((error as Error).message).toMatch(message);
  });

  it.each(['ok.webp', 'cmyk.jpg', 'png-16-bit.png', 'exif-rotated-ok.jpg', 'jpeg-named.png'])('accepts the whole file %s', async (name) => {
    await expect(readImageHeader(join(BAD, name))).resolves.toMatchObject({ width: expect.any(Number) });
  });

  it('accepts a JPEG with a short trailer after its end marker', async () => {
    const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: 'red' } }).jpeg().toBuffer();
    const path = join(dir, 'trailer.jpg');
    await writeFile(path, Buffer.concat([jpeg, Buffer.alloc(100, 0)]));
    await expect(readImageHeader(path)).resolves.toMatchObject({ format: 'jpeg', width: 64 });
  });

  it('refuses a WebP with bytes beyond its RIFF size as corrupt', async () => {
    const webp = await readFile(join(BAD, 'ok.webp'));
    const path = join(dir, 'long.webp');
    await writeFile(path, Buffer.concat([webp, Buffer.alloc(10)]));
    await expect(readImageHeader(path)).rejects.toThrow(/corrupt webp/);
  });
});
