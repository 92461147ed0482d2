// Image fitting for `npm run bench`: the time to fit a 12-megapixel phone photo for Runway, against a
// full decode of the same photo measured in the same run. The photo is made here (noise, EXIF 6).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { fitImage } from '../dist/nodes/image-fit.js';
import { readImageHeader } from '../dist/nodes/image-header.js';
import { planLocalImage } from '../dist/nodes/image-transport.js';
import { PROVIDERS } from '../dist/providers/catalog.js';

async function writePhonePhoto(path) {
  const [width, height] = [2016, 1512];
  const noise = await sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
  await sharp(noise).resize(4032, 3024, { kernel: 'cubic' }).jpeg({ quality: 80 }).withMetadata({ orientation: 6 }).toFile(path);
}

export async function benchImageFit({ rounds = 3 } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'reelgraph-fit-'));
  try {
    const photo = join(dir, 'phone.jpg');
    await writePhonePhoto(photo);
    const header = await readImageHeader(photo);
    const plan = planLocalImage(header, 'runway', PROVIDERS.runway.limits, { imageHost: false, publicUrl: false, fit: true });
    sharp.cache(false);
    let fitted;
    const fitMs = await timeEach(rounds, async () => {
      // A fresh cache folder each round: the cold cost a first run pays.
      const cache = await mkdtemp(join(dir, 'cache-'));
      fitted = await fitImage(photo, 'bench', plan.fit, cache);
    });
    const cachedMs = await timeEach(rounds, () => fitImage(photo, 'bench', plan.fit, join(dir, 'cache-warm')));
    const decodeMs = await timeEach(rounds, () => sharp(photo).raw().toBuffer());
    return {
      from: `${header.width}×${header.height} ${((await stat(photo)).size / 1048576).toFixed(1)} MB`,
      to: `${fitted.width}×${fitted.height} ${(fitted.bytes / 1048576).toFixed(1)} MB`,
      fitMs,
      cachedMs,
      decodeMs,
      ratio: fitMs / decodeMs,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function timeEach(rounds, fn) {
  await fn();
  const start = performance.now();
  for (let i = 0; i < rounds; i++) await fn();
  return (performance.now() - start) / rounds;
}
