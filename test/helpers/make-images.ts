import { appendFile, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { makeTempDir } from './fake-context.js';

/**
 * Test images generated with sharp at test time (no binaries in git), plus
 * hand-built PNG headers for sizes nobody should have to encode.
 */

function solid(width: number, height: number) {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 80, b: 40 } } });
}

/** A PNG with only signature, IHDR and IEND: enough for header readers, which never decode. */
export function pngHeaderBytes(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IEND', Buffer.alloc(0))]);
}

export async function writePngHeader(path: string, width: number, height: number): Promise<string> {
  await writeFile(path, pngHeaderBytes(width, height));
  return path;
}

/**
 * Copies a valid PNG and pads it to `totalBytes` with a private ancillary chunk before IEND (cheap big files
 * that are still whole PNGs: decoders skip the chunk, and the file still ends with IEND).
 */
export async function writePaddedPng(source: string, path: string, totalBytes: number, currentBytes: number): Promise<string> {
  const png = await readFile(source);
  const iend = png.length - 12;
  const data = Buffer.alloc(totalBytes - currentBytes - 12);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from('paDd', 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  await writeFile(path, Buffer.concat([png.subarray(0, iend), length, body, crc, png.subarray(iend)]));
  return path;
}

/**
 * A JPEG whose first frame header sits beyond the first 64 KB: `segments` APP1 segments
 * of ~64 KB each (like big XMP packets or maker notes) are inserted right after SOI.
 */
export async function writeJpegWithHugeMetadata(source: string, path: string, segments: number): Promise<string> {
  const jpeg = await readFile(source);
  const payload = Buffer.alloc(65533, 0x20);
  payload.write('http://ns.adobe.com/xap/1.0/\0', 'latin1');
  const segment = Buffer.concat([Buffer.from([0xff, 0xe1, 0xff, 0xff]), payload]);
  await writeFile(path, Buffer.concat([jpeg.subarray(0, 2), ...Array.from({ length: segments }, () => segment), jpeg.subarray(2)]));
  return path;
}

export interface TestImages {
  jpeg: string;
  png: string;
  webp: string;
  gif: string;
  /** 64×48 pixels stored, EXIF orientation 6 (rotate 90°): displays as 48×64. */
  rotatedJpeg: string;
  /** CMYK JPEG. */
  cmykJpeg: string;
}

/** Writes the standard 64×48 test images into `dir`. */
export async function makeImages(dir: string): Promise<TestImages> {
  const images: TestImages = {
    jpeg: join(dir, 'photo.jpg'),
    png: join(dir, 'photo.png'),
    webp: join(dir, 'photo.webp'),
    gif: join(dir, 'anim.gif'),
    rotatedJpeg: join(dir, 'rotated.jpg'),
    cmykJpeg: join(dir, 'cmyk.jpg'),
  };
  await solid(64, 48).jpeg().toFile(images.jpeg);
  await solid(64, 48).png().toFile(images.png);
  await solid(64, 48).webp().toFile(images.webp);
  await solid(64, 48).gif().toFile(images.gif);
  await solid(64, 48).jpeg().withMetadata({ orientation: 6 }).toFile(images.rotatedJpeg);
  await solid(64, 48).toColourspace('cmyk').jpeg().toFile(images.cmykJpeg);
  return images;
}

/** A temp folder whose `input` folder holds the standard test images; `files()` points the nodes at it. */
export interface ImageFolder {
  dir: string;
  inputDir: string;
  images: TestImages;
  files(): { inputDir: string; outputDir: string };
  cleanup(): Promise<void>;
}

/** The setup the image node tests share; call cleanup() in afterAll. */
export async function makeImageFolder(): Promise<ImageFolder> {
  const root = await makeTempDir();
  const inputDir = join(root.dir, 'input');
  await mkdir(inputDir);
  const images = await makeImages(inputDir);
  return { dir: root.dir, inputDir, images, files: () => ({ inputDir, outputDir: join(root.dir, 'out') }), cleanup: root.cleanup };
}
