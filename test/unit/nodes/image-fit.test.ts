import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitImage, fitLine } from '../../../src/nodes/image-fit.js';

/** Fitted copies: upright (EXIF applied), aspect kept, within the bytes, cached by content hash and target. */

let dir: string;
let photo: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reelgraph-fit-'));
  photo = join(dir, 'rotated.jpg');
  // Stored 1600×1200, EXIF 6: shown 1200×1600.
  await sharp({ create: { width: 1600, height: 1200, channels: 3, background: 'orange' } }).jpeg().withMetadata({ orientation: 6 }).toFile(photo);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('fitImage', () => {
  it('applies the EXIF orientation and keeps the aspect ratio', async () => {
    const fitted = await fitImage(photo, 'hash1', { longSide: 800, maxBytes: 1024 * 1024 }, join(dir, 'cache'));
    expect(fitted).toMatchObject({ format: 'jpeg', width: 600, height: 800 });
    const meta = await sharp(fitted.path).metadata();
    expect([meta.width, meta.height, meta.orientation ?? 1]).toEqual([600, 800, 1]);
    expect(fitted.bytes).toBe((await stat(fitted.path)).size);
  });

  it('steps quality and size down until the bytes fit', async () => {
    const noisy = join(dir, 'noisy.png');
    const side = 1000;
    const pixels = Buffer.alloc(side * side * 3);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2654435761) >>> 24;
    await sharp(pixels, { raw: { width: side, height: side, channels: 3 } }).png().toFile(noisy);
    const fitted = await fitImage(noisy, 'hash2', { longSide: 1000, maxBytes: 60_000 }, join(dir, 'cache'));
    expect(fitted.bytes).toBeLessThanOrEqual(60_000);
    expect(fitted.width).toBe(fitted.height);
  });

  it('reuses the cached copy for the same content and target', async () => {
    const target = { longSide: 700, maxBytes: 1024 * 1024 };
    const first = await fitImage(photo, 'hash3', target, join(dir, 'cache'));
    const { mtimeMs } = await stat(first.path);
    const again = await fitImage(photo, 'hash3', target, join(dir, 'cache'));
    expect(again).toEqual(first);
    expect((await stat(again.path)).mtimeMs).toBe(mtimeMs);
  });

  it('says what it did in one line', () => {
    const line = fitLine('phone.jpg', { width: 4032, height: 3024, bytes: 5.9 * 1024 * 1024 }, { path: '', format: 'jpeg', width: 2048, height: 1536, bytes: 0.9 * 1024 * 1024 }, 'runway');
    expect(line).toBe('phone.jpg 4032×3024 5.9 MB → 2048×1536 0.9 MB for runway');
  });
});
