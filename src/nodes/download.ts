import { open, stat, truncate } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../engine/define-node.js';
import { RuntimeError, messageOf } from '../engine/errors.js';
import type { HttpClient, HttpResponse } from '../http/types.js';

/**
 * Streams a remote file to disk: never buffered, resumed with Range after a cut
 * connection, and re-signed once when the URL has expired (Runway's output URLs
 * expire within 24–48 h; fetching the task again gives fresh ones).
 */

export interface DownloadOptions {
  http: HttpClient;
  url: string;
  /** The temporary file to write; the caller removes it on failure. */
  dest: string;
  signal: AbortSignal;
  /** A fresh URL for the same content, asked for at most once (on 403/404). */
  refreshUrl(): Promise<string>;
  log: Logger;
  onProgress?(bytes: number, total: number | undefined): void;
  /** Range resumes after a cut connection (default 3). */
  maxResumes?: number;
}

export class DownloadError extends RuntimeError {
  override name = 'DownloadError';
}

function header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The full length of the file this response is part of, when the server says. */
function totalLength(response: HttpResponse, offset: number): number | undefined {
  const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header(response, 'content-range') ?? '');
  if (response.status === 206) {
    if (!range || Number(range[1]) !== offset) throw new DownloadError(`the server answered a resume from byte ${offset} with the wrong range (${header(response, 'content-range') ?? 'none'})`);
    if (range[2] !== '*') return Number(range[2]);
  }
  const length = header(response, 'content-length');
  return length === undefined ? undefined : offset + Number(length);
}

/** Writes the body; false when the connection was cut (the bytes so far stay on disk). */
async function writeBody(response: HttpResponse, dest: string, append: boolean, signal: AbortSignal, log: Logger): Promise<boolean> {
  // Opened before piping: a stream that is still opening its file buffers the first chunks,
  // and a cut connection would discard them instead of leaving them on disk to resume from.
  const file = await open(dest, append ? 'a' : 'w').catch((error: unknown) => {
    response.body.once('error', () => undefined).destroy();
    throw error;
  });
  try {
    await pipeline(response.body, file.createWriteStream({ highWaterMark: 1024 * 1024 }), { signal });
    return true;
  } catch (error) {
    if (signal.aborted) throw error;
    log.warn(`video download interrupted: ${messageOf(error)}`);
    return false;
  }
}

/** Sends the request, re-signing the URL once on 403/404; returns the usable response. */
async function requestRange(options: DownloadOptions, state: { url: string; refreshed: boolean }, offset: number): Promise<HttpResponse> {
  for (;;) {
    const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-` } : {};
    const response = await options.http.request({ method: 'GET', url: state.url, headers, signal: options.signal, kind: 'download' });
    if (response.status === 200 || response.status === 206) return response;
    // undici emits 'error' (AbortError) on destroy; unheard, it would crash the process.
    response.body.once('error', () => undefined).destroy();
    if ((response.status === 403 || response.status === 404) && !state.refreshed) {
      options.log.info(`video URL answered HTTP ${response.status} (expired?); fetching the task again for a fresh URL`);
      state.refreshed = true;
      state.url = await options.refreshUrl();
      continue;
    }
    throw new DownloadError(`video download failed: HTTP ${response.status}${state.refreshed ? ' (even with a freshly fetched URL)' : ''}`);
  }
}

/**
 * Downloads to `dest` and returns its size once it matches the announced length.
 * @throws DownloadError when the download cannot be completed.
 */
export async function downloadToFile(options: DownloadOptions): Promise<{ bytes: number }> {
  const maxResumes = options.maxResumes ?? 3;
  const state = { url: options.url, refreshed: false };
  let written = 0;
  for (let resumes = 0; ; resumes++) {
    const response = await requestRange(options, state, written);
    // A 200 to a ranged request means the server sends everything again: start over.
    const offset = response.status === 206 ? written : 0;
    const total = totalLength(response, offset);
    const complete = await writeBody(response, options.dest, offset > 0, options.signal, options.log);
    written = (await stat(options.dest)).size;
    options.onProgress?.(written, total);
    if (total === undefined ? complete : written === total) return { bytes: written };
    if (total !== undefined && written > total) {
      // The two answers do not describe one file (the server's copy changed between requests): start over, never
      // keep a file stitched from two.
      if (resumes >= maxResumes) throw new DownloadError(`video download wrote ${written} bytes, more than the announced ${total}`);
      await truncate(options.dest, 0);
      written = 0;
      options.log.info('the video changed while it was being downloaded; downloading it again from the start');
      continue;
    }
    if (resumes >= maxResumes) {
      throw new DownloadError(`video download stopped at ${written} of ${total ?? 'unknown'} bytes after ${maxResumes} resumes`);
    }
    options.log.info(`resuming video download from byte ${written}`);
  }
}

/** Whether the file starts like an MP4/QuickTime file: an `ftyp` box at offset 4. */
export async function hasMp4Signature(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await file.read(head, 0, 8, 0);
    return bytesRead === 8 && head.toString('latin1', 4, 8) === 'ftyp';
  } finally {
    await file.close();
  }
}
