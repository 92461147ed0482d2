import { Readable } from 'node:stream';
import type { EmulatorState } from './http-util.js';
import { json, parseRange, rangeHeaders } from './http-util.js';
import { renderVideo } from './render.js';
import { accessDeniedXml } from './signing.js';
import type { Reply, Route, RouteContext } from './types.js';

/**
 * Downloads: the rendered video at its signed URL (with Range, for resumable downloads) and
 * the benchmark blob, an N-byte MP4 prefix streamed without buffering.
 */

export function expiredReply(reason: 'expired' | 'bad-signature' = 'expired'): Reply {
  return { status: 403, headers: { 'Content-Type': 'application/xml' }, text: accessDeniedXml(reason) };
}

/** Starts rendering a finished job's video in the background so the first download is quick. */
export function videoFor(state: EmulatorState, jobId: string): Promise<Buffer> | undefined {
  const job = state.jobs.get(jobId);
  const image = state.jobs.image(jobId);
  if (!job || !image || state.jobs.state(job).phase !== 'succeeded') return undefined;
  const { frameWidth, fps } = state.options();
  return state.jobs.video(jobId, () => renderVideo({ image, ratio: job.request.ratio, durationS: job.request.duration, frameWidth, fps }));
}

async function download(state: EmulatorState, ctx: RouteContext, jobId: string): Promise<Reply> {
  const verdict = state.signer.verify(jobId, ctx.url.searchParams.get('exp'), ctx.url.searchParams.get('sig'), state.options().now());
  if (verdict !== 'ok') return expiredReply(verdict);
  const video = videoFor(state, jobId);
  if (!video) return json(404, { error: 'No video for this job' });
  const bytes = await video;
  const range = rangeHeaders(parseRange(ctx.req.headers.range, bytes.length), bytes.length);
  const headers = { ...range.headers, 'Content-Type': 'video/mp4' };
  if (range.status === 416) return { status: 416, headers, jobId };
  return { status: range.status, headers, bytes: bytes.subarray(range.start, range.end + 1), jobId };
}

/** ftyp (isom) then a `free` box covering the rest: a structurally valid MP4 prefix of any length. */
function blobHeader(size: number): Buffer {
  const ftyp = Buffer.from([0, 0, 0, 24, ...Buffer.from('ftypisom'), 0, 0, 2, 0, ...Buffer.from('isomiso2')]);
  const free = Buffer.alloc(8);
  free.writeUInt32BE(Math.max(0, Math.min(size - 24, 0xffffffff)), 0);
  free.write('free', 4, 'latin1');
  return Buffer.concat([ftyp, free]).subarray(0, size);
}

/** Streams bytes [start, end] of the blob in 64 KiB chunks, honouring backpressure. */
function blobStream(size: number, start: number, end: number): Readable {
  const header = blobHeader(size);
  const chunk = 64 * 1024;
  const zeros = Buffer.alloc(chunk);
  let position = start;
  return new Readable({
    read() {
      if (position > end) return void this.push(null);
      const length = Math.min(chunk, end - position + 1);
      const piece = position < header.length ? Buffer.concat([header.subarray(position), zeros]).subarray(0, length) : zeros.subarray(0, length);
      position += length;
      this.push(piece);
    },
  });
}

const MAX_BLOB_BYTES = 4 * 1024 * 1024 * 1024;

function blob(ctx: RouteContext, size: number): Reply {
  if (!Number.isSafeInteger(size) || size < 1 || size > MAX_BLOB_BYTES) return json(400, { error: `blob size must be 1..${MAX_BLOB_BYTES} bytes` });
  const range = rangeHeaders(parseRange(ctx.req.headers.range, size), size);
  const headers = { ...range.headers, 'Content-Type': 'video/mp4' };
  if (range.status === 416) return { status: 416, headers };
  return { status: range.status, headers, stream: blobStream(size, range.start, range.end), length: range.end - range.start + 1 };
}

/** The route for a download path, or undefined. */
export function filesRoute(state: EmulatorState, method: string, path: string): Route | undefined {
  const file = /^\/_files\/([^/]+)\.mp4$/.exec(path);
  const blobMatch = /^\/_emulator\/blob\/(\d+)\.mp4$/.exec(path);
  const readable = method === 'GET' || method === 'HEAD';
  const notAllowed = async (): Promise<Reply> => json(405, { error: 'Method not allowed' });
  if (file?.[1]) {
    const jobId = file[1];
    const provider = state.jobs.get(jobId)?.provider ?? 'emulator';
    return { provider, kind: 'download', jobId, handle: readable ? (ctx) => download(state, ctx, jobId) : notAllowed };
  }
  if (blobMatch?.[1]) {
    const size = Number(blobMatch[1]);
    return { provider: 'emulator', kind: 'download', handle: readable ? async (ctx) => blob(ctx, size) : notAllowed };
  }
  return undefined;
}
