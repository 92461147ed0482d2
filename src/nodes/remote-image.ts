import type { Readable } from 'node:stream';
import { ImageHeaderError, parseImageHeader, type ImageHeader } from './image-header.js';
import type { HttpClient } from '../http/types.js';

/** Enough for every header format we read except JPEGs with huge EXIF, which we accept as unreadable here. */
const HEAD_BYTES = 64 * 1024;

async function readHead(body: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of body) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      chunks.push(buffer);
      length += buffer.length;
      if (length >= max) break;
    }
  } finally {
    // Stop the transfer: a ranged GET that the server answered with the whole file must not be read to the end.
    // undici emits an AbortError on destroy; unheard, it would crash the process.
    body.once('error', () => undefined).destroy();
  }
  return Buffer.concat(chunks).subarray(0, max);
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Total size from `Content-Range: bytes 0-65535/123456`, else from Content-Length of a full answer. */
function totalBytes(status: number, headers: Record<string, string | string[] | undefined>): number | undefined {
  const range = headerValue(headers, 'content-range');
  const match = range ? /\/(\d+)\s*$/.exec(range) : null;
  if (match) return Number(match[1]);
  const length = headerValue(headers, 'content-length');
  return status === 200 && length !== undefined ? Number(length) : undefined;
}

/**
 * Format, dimensions and size of a remote image from one ranged GET of its first 64 KB.
 * @throws ImageHeaderError when the URL does not answer with a readable image.
 */
export async function probeRemoteImage(http: HttpClient, url: string, signal: AbortSignal, publicOnly = false): Promise<ImageHeader> {
  const response = await http.request({
    method: 'GET',
    url,
    headers: { Range: `bytes=0-${HEAD_BYTES - 1}` },
    signal,
    kind: 'download',
    publicOnly,
  });
  if (response.status !== 200 && response.status !== 206) {
    response.body.once('error', () => undefined).destroy();
    throw new ImageHeaderError(`the URL answered HTTP ${response.status}`);
  }
  const total = totalBytes(response.status, response.headers);
  const head = await readHead(response.body, HEAD_BYTES);
  return parseImageHeader(head, total ?? head.length);
}
