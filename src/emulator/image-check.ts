import { createHash } from 'node:crypto';
import sharp, { type Metadata } from 'sharp';
import { request } from 'undici';

/**
 * What the real services do with promptImage: fetch it (URL or data URI) and check format,
 * size, dimensions and aspect ratio. Limits follow docs/providers.md §3 and the catalog.
 */

const MB = 1024 * 1024;
export const MAX_IMAGE_BYTES = 16 * MB;
export const MAX_DATA_URI_BYTES = 5 * MB;
const MAX_DIMENSION = 8000;
const FETCH_TIMEOUT_MS = 10_000;

export type ImageResult = { ok: true; bytes: Buffer } | { ok: false; message: string };

/** Fetches a promptImage given as an http(s) URL or a data URI. */
export async function loadPromptImage(promptImage: string): Promise<ImageResult> {
  if (promptImage.startsWith('data:')) return decodeDataUri(promptImage);
  if (!/^https?:\/\//i.test(promptImage)) return { ok: false, message: 'promptImage must be an http(s) URL or a data URI' };
  return fetchImage(promptImage);
}

function decodeDataUri(uri: string): ImageResult {
  if (uri.length > MAX_DATA_URI_BYTES) return { ok: false, message: `promptImage data URI is ${uri.length} bytes, over the ${MAX_DATA_URI_BYTES}-byte limit` };
  // The prefix by regex, the payload by a linear scan: a regex over megabytes of base64 is slow.
  const comma = uri.indexOf(',');
  const payload = uri.slice(comma + 1);
  if (comma < 0 || !/^data:image\/(png|jpeg|jpg|webp);base64$/.test(uri.slice(0, comma)) || !isBase64(payload)) {
    return { ok: false, message: 'Invalid data URI for promptImage' };
  }
  return { ok: true, bytes: Buffer.from(payload, 'base64') };
}

async function fetchImage(url: string): Promise<ImageResult> {
  try {
    const res = await request(url, { method: 'GET', headersTimeout: FETCH_TIMEOUT_MS, bodyTimeout: FETCH_TIMEOUT_MS, headers: { 'user-agent': 'RunwayML API/emulator' } });
    if (res.statusCode < 200 || res.statusCode >= 300) {
      res.body.resume();
      return { ok: false, message: `Failed to fetch asset for promptImage. Received HTTP response code ${res.statusCode}` };
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of res.body) {
      const buffer = chunk as Buffer;
      total += buffer.length;
      if (total >= MAX_IMAGE_BYTES) {
        res.body.destroy();
        return { ok: false, message: `promptImage is larger than the ${MAX_IMAGE_BYTES}-byte limit` };
      }
      chunks.push(buffer);
    }
    return { ok: true, bytes: Buffer.concat(chunks) };
  } catch (error) {
    return { ok: false, message: `Timeout or network error while fetching asset for promptImage (${error instanceof Error ? error.message : String(error)})` };
  }
}

const BASE64 = /^[A-Za-z0-9+/=\r\n ]+$/;

function isBase64(text: string): boolean {
  return BASE64.test(text);
}

/**
 * Verdicts by content hash. A real provider checks assets on many machines at once; the emulator
 * has one thread, and re-reading the same image's header for every job would make it look slower.
 */
const verdicts = new Map<string, string | undefined>();
const MAX_VERDICTS = 256;

/** Checks decoded image bytes against the limits; returns a message naming promptImage, or undefined. */
export async function checkImage(bytes: Buffer, maxBytes = MAX_IMAGE_BYTES): Promise<string | undefined> {
  const key = `${maxBytes}:${createHash('sha1').update(bytes).digest('hex')}`;
  if (verdicts.has(key)) return verdicts.get(key);
  const verdict = await inspectImage(bytes, maxBytes);
  if (verdicts.size >= MAX_VERDICTS) verdicts.delete(verdicts.keys().next().value!);
  verdicts.set(key, verdict);
  return verdict;
}

async function inspectImage(bytes: Buffer, maxBytes: number): Promise<string | undefined> {
  if (bytes.length >= maxBytes) return `promptImage is ${bytes.length} bytes, over the ${maxBytes}-byte limit`;
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch {
    return 'promptImage is not a readable image';
  }
  if (!['jpeg', 'png', 'webp'].includes(meta.format ?? '')) return `promptImage format ${meta.format ?? 'unknown'} is not supported; use JPEG, PNG or WebP`;
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width >= MAX_DIMENSION || height >= MAX_DIMENSION) return `promptImage is ${width}x${height}; each side must be under ${MAX_DIMENSION} px`;
  const aspect = width / height;
  if (!(aspect > 0.5 && aspect < 2)) return `promptImage aspect ratio ${aspect.toFixed(3)} (${width}x${height}) must be strictly between 1:2 and 2:1`;
  return undefined;
}

/** Fetch then check: the whole asset step of a create. */
export async function acceptPromptImage(promptImage: string): Promise<ImageResult> {
  const loaded = await loadPromptImage(promptImage);
  if (!loaded.ok) return loaded;
  const problem = await checkImage(loaded.bytes);
  return problem ? { ok: false, message: problem } : loaded;
}
