import { randomBytes } from 'node:crypto';
import sharp from 'sharp';

/**
 * Real material for "any image a user has": a 12-megapixel phone photo (4032×3024, EXIF orientation
 * 6 as phones write it, noisy enough to weigh ~6 MB like a real one) and a 20 MB PNG, made at test time.
 */

export const PHONE = { width: 4032, height: 3024 };

/** A 4032×3024 JPEG (stored landscape, EXIF 6: shown as 3024×4032) of smooth noise, ~5–7 MB. */
export async function writePhonePhoto(path: string): Promise<void> {
  const width = PHONE.width / 2;
  const height = PHONE.height / 2;
  // Noise at half size, scaled up: detail like a photo's, which JPEG cannot squeeze to nothing.
  const noise = await sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
  await sharp(noise).resize(PHONE.width, PHONE.height, { kernel: 'cubic' }).jpeg({ quality: 80 }).withMetadata({ orientation: 6 }).toFile(path);
}

/** A 2600×2600 PNG of random pixels, stored uncompressed: ~20 MB, in bounds for pixels and aspect ratio. */
export async function writeBigPng(path: string): Promise<void> {
  const side = 2600;
  await sharp(randomBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } }).png({ compressionLevel: 0 }).toFile(path);
}
