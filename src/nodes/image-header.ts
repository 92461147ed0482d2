import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { imageSize } from 'image-size';
import type { ImageFormat } from './values.js';

/**
 * Image facts read from the first bytes of a file, never by decoding the pixels:
 * a 7999×7999 PNG costs the same 64 KB read as a thumbnail.
 */

export interface ImageHeader {
  format: ImageFormat;
  /** As displayed: EXIF orientations 5–8 (90° turns) swap width and height. */
  width: number;
  height: number;
  /** Size of the whole file. */
  bytes: number;
  /** EXIF orientation 1–8, when the file carries one. */
  orientation?: number;
  /** Bits per sample, for PNG. */
  bitDepth?: number;
  /** JPEG with four components (CMYK or YCCK): browsers and providers often mis-handle these. */
  cmyk?: boolean;
}

export class ImageHeaderError extends Error {
  override name = 'ImageHeaderError';
}

const HEAD_BYTES = 64 * 1024;
/** A JPEG's EXIF/XMP segments (embedded thumbnails, camera maker notes) can push the SOF marker far out. */
const JPEG_MAX_HEAD_BYTES = 4 * 1024 * 1024;

function startsWith(head: Uint8Array, bytes: number[], offset = 0): boolean {
  return bytes.every((byte, i) => head[offset + i] === byte);
}

function ascii(head: Uint8Array, start: number, end: number): string {
  return Buffer.from(head.subarray(start, end)).toString('latin1');
}

/** The format by magic bytes; 'unknown' for anything else. */
export function detectFormat(head: Uint8Array): ImageFormat {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') return 'webp';
  if (ascii(head, 0, 6) === 'GIF87a' || ascii(head, 0, 6) === 'GIF89a') return 'gif';
  if (ascii(head, 4, 8) === 'ftyp' && /avi[fs]/.test(ascii(head, 8, 32))) return 'avif';
  if (ascii(head, 0, 2) === 'BM') return 'bmp';
  if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  const text = ascii(head, 0, Math.min(head.length, 4096)).trimStart();
  if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]/i.test(text)) return 'svg';
  return 'unknown';
}

/** Number of components in the first JPEG start-of-frame segment, if it is within `head`. */
function jpegComponents(head: Uint8Array): number | undefined {
  let offset = 2;
  while (offset + 9 < head.length) {
    if (head[offset] !== 0xff) return undefined;
    const marker = head[offset + 1]!;
    const length = (head[offset + 2]! << 8) | head[offset + 3]!;
    // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return head[offset + 9];
    }
    offset += 2 + length;
  }
  return undefined;
}

/** A damaged PNG passes a size read but fails the provider's decoder after the job is paid for; its IHDR CRC tells. */
function pngHeaderIntact(head: Uint8Array): boolean {
  // Shorter heads are reported by the size read below.
  if (head.length < 33) return true;
  const stored = ((head[29]! << 24) | (head[30]! << 16) | (head[31]! << 8) | head[32]!) >>> 0;
  return crc32(head.subarray(12, 29)) === stored;
}

/**
 * Parses a header already in memory.
 * @param totalBytes size of the whole file (the head may be shorter).
 * @throws ImageHeaderError when the bytes are not a readable image.
 */
export function parseImageHeader(head: Uint8Array, totalBytes: number): ImageHeader {
  const format = detectFormat(head);
  if (format === 'unknown') throw new ImageHeaderError('not a recognised image format');
  if (format === 'png' && !pngHeaderIntact(head)) throw new ImageHeaderError('corrupt png header (IHDR checksum mismatch)');
  let size: { width?: number; height?: number; orientation?: number };
  try {
    size = imageSize(head);
  } catch (error) {
    throw new ImageHeaderError(`unreadable ${format} header (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!size.width || !size.height) throw new ImageHeaderError(`unreadable ${format} header (no dimensions)`);
  const turned = size.orientation !== undefined && size.orientation >= 5 && size.orientation <= 8;
  const header: ImageHeader = {
    format,
    width: turned ? size.height : size.width,
    height: turned ? size.width : size.height,
    bytes: totalBytes,
  };
  if (size.orientation !== undefined) header.orientation = size.orientation;
  if (format === 'png' && head.length > 24) header.bitDepth = head[24];
  if (format === 'jpeg') header.cmyk = jpegComponents(head) === 4;
  return header;
}

/** The last bytes of a file, where the end check looks: enough for a short trailer after the end marker. */
const TAIL_BYTES = 4 * 1024;
const JPEG_EOI = Buffer.from([0xff, 0xd9]);
/** A PNG's last chunk: length 0, "IEND" and its fixed CRC. */
const PNG_IEND = Buffer.from([0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

/**
 * Why the end of the file shows it was cut off (a failed copy, a partial download), or undefined.
 * Cheap like the header read: one read of the last 4 KB. A JPEG's entropy-coded data never holds
 * FF D9 (every FF in it is followed by 00 or a restart marker), so finding the EOI marker near the end
 * means the scan finished; a short trailer after it (padding, a maker's tag) is allowed.
 * A phone's motion photo appends a video after the JPEG; its XMP says so, and then the end is the video's.
 */
export function truncationOf(format: ImageFormat, head: Uint8Array, tail: Uint8Array, totalBytes: number): string | undefined {
  if (format === 'jpeg') {
    if (Buffer.from(tail).includes(JPEG_EOI)) return undefined;
    if (/MotionPhoto|MicroVideo/.test(ascii(head, 0, head.length))) return undefined;
    return 'truncated jpeg: the file ends without the end-of-image marker (FF D9), as a partial copy or download does';
  }
  if (format === 'png') {
    if (Buffer.from(tail).includes(PNG_IEND)) return undefined;
    return 'truncated png: the file ends without its IEND chunk, as a partial copy or download does';
  }
  if (format === 'webp' && head.length >= 8) {
    const declared = (head[4]! | (head[5]! << 8) | (head[6]! << 16) | (head[7]! << 24)) >>> 0;
    if (declared + 8 === totalBytes) return undefined;
    const what = declared + 8 > totalBytes ? 'truncated webp' : 'corrupt webp';
    return `${what}: its RIFF header declares ${declared + 8} bytes but the file has ${totalBytes}`;
  }
  return undefined;
}

async function readTail(file: Awaited<ReturnType<typeof open>>, size: number): Promise<Buffer> {
  const length = Math.min(size, TAIL_BYTES);
  const tail = Buffer.alloc(length);
  const { bytesRead } = await file.read(tail, 0, length, size - length);
  return tail.subarray(0, bytesRead);
}

/**
 * Reads a file's image header from its first 64 KB (up to 4 MB for JPEGs with huge EXIF), and checks
 * from its last 4 KB that the file is whole.
 * @throws ImageHeaderError when the file is not a readable image or was cut off; fs errors pass through.
 */
export async function readImageHeader(path: string): Promise<ImageHeader> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    let length = Math.min(size, HEAD_BYTES);
    for (;;) {
      const head = Buffer.alloc(length);
      const { bytesRead } = await file.read(head, 0, length, 0);
      let header: ImageHeader;
      try {
        header = parseImageHeader(head.subarray(0, bytesRead), size);
      } catch (error) {
        const canGrow = detectFormat(head) === 'jpeg' && length < Math.min(size, JPEG_MAX_HEAD_BYTES);
        if (!canGrow) throw error;
        length = Math.min(size, JPEG_MAX_HEAD_BYTES, length * 4);
        continue;
      }
      const truncation = truncationOf(header.format, head.subarray(0, bytesRead), await readTail(file, size), size);
      if (truncation) throw new ImageHeaderError(truncation);
      return header;
    }
  } finally {
    await file.close();
  }
}
