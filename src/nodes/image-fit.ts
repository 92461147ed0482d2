import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { FitTarget } from './image-transport.js';
import type { ImageFormat } from './values.js';

/**
 * A copy of a local image that fits a transport: EXIF orientation applied, downscaled keeping the
 * aspect ratio, re-encoded (JPEG, or WebP when the image has transparency) with the quality and then
 * the size stepped down until the bytes fit. Copies are cached by the original's content hash and
 * the target, so a re-run reuses the same bytes (and a provider's job key stays the same).
 */

export interface FittedImage {
  path: string;
  format: ImageFormat;
  width: number;
  height: number;
  bytes: number;
}

const QUALITIES = [85, 75, 65];
/** Each further attempt shrinks the long side by this factor; bounded so a pathological image ends. */
const SHRINK = 0.8;
const MAX_SHRINKS = 8;

async function encode(source: string, longSide: number, quality: number, alpha: boolean): Promise<{ data: Buffer; width: number; height: number }> {
  const pipeline = sharp(source, { limitInputPixels: 268_402_689 })
    .rotate()
    .resize({ width: longSide, height: longSide, fit: 'inside', withoutEnlargement: true });
  const encoded = alpha ? pipeline.webp({ quality }) : pipeline.flatten({ background: '#ffffff' }).jpeg({ quality });
  const { data, info } = await encoded.toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/**
 * The fitted copy of `source` (content hash `sha256`) for `target`, from the cache in `cacheDir` or made now.
 * @throws Error when no copy within MAX_SHRINKS steps fits (never for real photos: 2048 px JPEGs are a few MB at most).
 */
export async function fitImage(source: string, sha256: string, target: FitTarget, cacheDir: string): Promise<FittedImage> {
  const meta = await sharp(source).metadata();
  const alpha = meta.hasAlpha === true;
  const format: ImageFormat = alpha ? 'webp' : 'jpeg';
  const path = join(cacheDir, `${sha256}-${target.longSide}-${target.maxBytes}.${alpha ? 'webp' : 'jpg'}`);
  const cached = await readCached(path, format);
  if (cached) return cached;
  let longSide = target.longSide;
  for (let shrinks = 0; shrinks <= MAX_SHRINKS; shrinks++, longSide = Math.floor(longSide * SHRINK)) {
    for (const quality of QUALITIES) {
      const copy = await encode(source, longSide, quality, alpha);
      if (copy.data.length > target.maxBytes) continue;
      await mkdir(cacheDir, { recursive: true });
      // Written aside and renamed: a concurrent run never reads half a copy.
      const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(temp, copy.data);
      await rename(temp, path).catch(async (error: unknown) => {
        await rm(temp, { force: true });
        throw error;
      });
      return { path, format, width: copy.width, height: copy.height, bytes: copy.data.length };
    }
  }
  throw new Error(`no copy of the image under ${target.maxBytes} bytes could be made`);
}

async function readCached(path: string, format: ImageFormat): Promise<FittedImage | undefined> {
  const size = await stat(path).then((s) => s.size, () => undefined);
  if (size === undefined) return undefined;
  const meta = await sharp(path).metadata().catch(() => undefined);
  if (!meta?.width || !meta.height) return undefined;
  return { path, format, width: meta.width, height: meta.height, bytes: size };
}

const MB = 1024 * 1024;

/** "phone.jpg 4032×3024 5.9 MB → 2048×1536 0.9 MB for runway" */
export function fitLine(name: string, original: { width: number; height: number; bytes: number }, fitted: FittedImage, provider: string): string {
  const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
  return `${name} ${original.width}×${original.height} ${mb(original.bytes)} → ${fitted.width}×${fitted.height} ${mb(fitted.bytes)} for ${provider}`;
}
