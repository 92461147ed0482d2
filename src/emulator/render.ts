import { createHash } from 'node:crypto';
import HME from 'h264-mp4-encoder';
import sharp from 'sharp';

/**
 * Renders the emulated result: a real H.264 MP4 that slowly zooms into the input image while
 * panning across it, at the requested ratio and duration. Small frames keep it fast.
 */

export interface RenderRequest {
  image: Buffer;
  /** "1280:720" style. */
  ratio: string;
  durationS: number;
  frameWidth: number;
  fps: number;
}

/** Both sides even (H.264 needs it): frameWidth × round(frameWidth·h/w). */
export function frameSize(ratio: string, frameWidth: number): { width: number; height: number } {
  const [w, h] = ratio.split(':').map(Number);
  const even = (value: number) => Math.max(2, Math.round(value / 2) * 2);
  const width = even(frameWidth);
  if (!w || !h) return { width, height: width };
  return { width, height: even((frameWidth * h) / w) };
}

interface RawImage {
  data: Buffer;
  width: number;
  height: number;
}

/** The image resized to cover 1.5× the frame, as RGBA, so each frame can crop and zoom inside it. */
async function baseImage(image: Buffer, width: number, height: number): Promise<RawImage> {
  const { data, info } = await sharp(image)
    .resize(Math.round(width * 1.5), Math.round(height * 1.5), { fit: 'cover' })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Frame at t (0..1): a window shrinking to 70% (zoom in) and moving left to right (pan). */
async function frameAt(base: RawImage, t: number, width: number, height: number): Promise<Buffer> {
  const cropWidth = Math.max(1, Math.round(base.width * (1 - 0.3 * t)));
  const cropHeight = Math.max(1, Math.round(base.height * (1 - 0.3 * t)));
  const left = Math.round((base.width - cropWidth) * t);
  const top = Math.round((base.height - cropHeight) / 2);
  return sharp(base.data, { raw: { width: base.width, height: base.height, channels: 4 } })
    .extract({ left, top, width: cropWidth, height: cropHeight })
    .resize(width, height, { fit: 'fill' })
    .ensureAlpha()
    .raw()
    .toBuffer();
}

// The encoder's WebAssembly file system is shared between instances, so renders run one at a time.
let queue: Promise<unknown> = Promise.resolve();
let counter = 0;

/**
 * The same image, ratio and duration always render the same video: reuse it. The encoder runs
 * on the emulator's only thread, so rendering a batch of identical jobs again and again would
 * stall every other response (a real provider renders elsewhere).
 */
const rendered = new Map<string, Promise<Buffer>>();
const MAX_RENDERED = 32;

export function renderVideo(request: RenderRequest): Promise<Buffer> {
  const key = [createHash('sha1').update(request.image).digest('hex'), request.ratio, request.durationS, request.frameWidth, request.fps].join('|');
  const hit = rendered.get(key);
  if (hit) return hit;
  const run = queue.then(() => encode(request));
  queue = run.catch(() => undefined);
  if (rendered.size >= MAX_RENDERED) rendered.delete(rendered.keys().next().value!);
  rendered.set(key, run);
  run.catch(() => rendered.delete(key));
  return run;
}

async function encode(request: RenderRequest): Promise<Buffer> {
  const { width, height } = frameSize(request.ratio, request.frameWidth);
  const frames = Math.max(1, Math.round(request.fps * request.durationS));
  const base = await baseImage(request.image, width, height);
  const encoder = await HME.createH264MP4Encoder();
  encoder.outputFilename = `emulator-${process.pid}-${++counter}.mp4`;
  try {
    encoder.width = width;
    encoder.height = height;
    encoder.frameRate = request.fps;
    encoder.speed = 10;
    encoder.groupOfPictures = request.fps;
    encoder.initialize();
    for (let i = 0; i < frames; i++) {
      encoder.addFrameRgba(await frameAt(base, frames > 1 ? i / (frames - 1) : 0, width, height));
    }
    encoder.finalize();
    const bytes = Buffer.from(encoder.FS.readFile(encoder.outputFilename));
    encoder.FS.unlink(encoder.outputFilename);
    return bytes;
  } finally {
    encoder.delete();
  }
}
